"""The atheris harness (fuzz/) is runnable and honest, checked without atheris' instrumentation:
every target decodes its seeds and a few mutations of them raising only its typed errors, a
target that raises anything else is reported, and (when atheris is installed) one short real
libFuzzer run of one target ends cleanly with its figures."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz import harness
from fuzz.targets import SEED_CAP, TARGETS, Target, check, findings, is_typed, mutations
from sensors.ble.profiles import ProfileDecodeError, rsc
from sensors.errors import ImportFormatError, PsoasError
from tests.conftest import REPO, SHARED_DATA

# the file targets whose seeds are the real recordings of ../shared/data
REAL_SEEDS = {"fit": "fit", "fit_records": "fit", "cwa": "skdh_io", "geneactiv": "skdh_io"}


@pytest.fixture(scope="module")
def seeds() -> dict[str, list[bytes]]:
    return {name: target.seeds() for name, target in TARGETS.items()}


def test_every_target_has_seeds(seeds: dict[str, list[bytes]]) -> None:
    for name, folder in REAL_SEEDS.items():
        if not (SHARED_DATA / folder).exists():
            pytest.skip(f"{SHARED_DATA / folder} is not available on this machine")
        assert seeds[name], name
    for name, found in seeds.items():
        assert found and all(0 < len(s) <= SEED_CAP for s in found), name


@pytest.mark.parametrize("name", list(TARGETS))
def test_seeds_and_mutations_raise_only_typed_errors(
    name: str, seeds: dict[str, list[bytes]]
) -> None:
    target = TARGETS[name]
    inputs = [b"", *seeds[name]]
    for i, seed in enumerate(seeds[name][:3]):
        inputs += mutations(seed, 8, seed=i)
    assert findings(target, inputs) == []


def test_the_seeds_decode(seeds: dict[str, list[bytes]]) -> None:
    """A seed the decoder refuses would waste the fuzzer's time: the valid ones decode."""
    valid = ("fit_records", "geneactiv", "csv", "csv_sensor_logger", "apple_health_xml")
    valid += ("imu_batch", "imu_config", "rsc_measurement", "rsc_feature")
    for name in valid:
        for seed in seeds[name]:
            TARGETS[name].run(seed)


def _broken(data: bytes) -> frozenset[str]:
    if data[:1] == b"\x07":
        return frozenset({1 // (len(data) - len(data))})  # a ZeroDivisionError
    return rsc.decode_rsc_feature(data)


def test_an_untyped_error_is_a_finding_and_a_typed_one_is_not() -> None:
    broken = Target("broken", _broken, (ProfileDecodeError,), lambda: [b"\x00\x00"])
    assert findings(broken, [b"\x00\x00", b"\x00", b""]) == []  # decodes, or typed errors
    found = findings(broken, [b"\x00\x00", b"\x07\x00"])
    assert len(found) == 1
    assert found[0].data == b"\x07\x00" and found[0].target == "broken"
    assert found[0].error.startswith("ZeroDivisionError")
    assert "_broken" in found[0].where
    with pytest.raises(ZeroDivisionError):
        check(broken, b"\x07")
    check(broken, b"\x01")  # ProfileDecodeError: expected, not raised
    # a typed error of another target is still a finding
    assert not is_typed(broken, ImportFormatError("x"))
    assert is_typed(TARGETS["fit"], ImportFormatError("x"))
    assert not is_typed(TARGETS["fit"], ValueError("x"))
    assert is_typed(TARGETS["rsc_feature"], ProfileDecodeError("x"))
    assert not is_typed(TARGETS["rsc_feature"], PsoasError("x"))


def test_stats_are_read_from_a_libfuzzer_log() -> None:
    log = (
        "#2\tINITED cov: 3 ft: 3 corp: 1/2b exec/s: 0 rss: 166Mb\n"
        "#1500\tNEW    cov: 9 ft: 11 corp: 2/3b lim: 4 exec/s: 0 rss: 166Mb\n"
        "#2000\tDONE   cov: 9 ft: 12 corp: 3/5b lim: 21 exec/s: 0 rss: 166Mb\n"
        "Done 2000 runs in 0 second(s)\n"
        "stat::number_of_executed_units: 2000\nstat::average_exec_per_sec:     0\n"
        "stat::new_units_added:          2\n"
    )
    stats = harness.parse("x", 0, log, 1.5)
    assert (stats.executions, stats.coverage, stats.features, stats.corpus) == (2000, 9, 12, 3)
    assert stats.findings == 0 and ">2,000 exec/s" in stats.line()
    crashed = harness.parse("x", 77, log, 1.5)
    crashed.artifacts = ("crash-0123",)
    assert crashed.findings == 1 and "crash-0123" in crashed.line()
    assert harness.parse("x", 1, "", 0.1).findings == 1  # died without a log: a finding


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris not installed")
def test_a_short_atheris_run_ends_cleanly_with_its_figures(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fuzz.harness", "rsc_measurement", "-runs=2000"],
        cwd=REPO,
        env={**os.environ, "PSOAS_FUZZ_OUT": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("rsc_measurement"))
    assert "2,000 execs" in line and "findings 0" in line
    assert "cov " in line and "cov       ?" not in line
    assert (tmp_path / "rsc_measurement" / "fuzz.log").exists()
    assert len(list((tmp_path / "rsc_measurement" / "seeds").iterdir())) == 2
