"""Axivity CWA and GENEActiv BIN import against scikit-digital-health's decoded truth.

The truth files are quantised (times to 0.1 ms, GENEActiv acceleration to 1e-4 g, gyroscope to
float32-like precision), so "within 5e-5" is checked with a tolerance of 5e-5 plus the float64 /
float32 spacing of the compared values.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensors.errors import ImportFormatError, PsoasError
from sensors.importers.axivity import BLOCK_BYTES, HEADER_BYTES
from sensors.importers.base import ImportOptions
from sensors.importers.run import import_file
from sensors.store import Store
from tests.conftest import catalog_dump, shared_file, tree_snapshot

FILES = {"ax3": "ax3_sample.cwa", "ax6": "ax6_sample.cwa", "gnactv": "gnactv_sample.bin"}
GENEACTIV_UTC_OFFSET_S = -4 * 3600  # the sample's header says "Time Zone:GMT -04:00"


def _truth(name: str) -> dict[str, np.ndarray]:
    with np.load(shared_file(f"skdh_io/{name}_data.npz")) as data:
        return {k: data[k] for k in data.files}


def _close(name: str, got: np.ndarray, want: np.ndarray, what: str) -> float:
    err = np.abs(got - want)
    spacing = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    print(f"{name} {what}: max abs error {err.max():.3g}")
    assert (err <= 5e-5 + spacing).all(), f"{name} {what}: max error {err.max()}"
    return float(err.max())


def _device(store: Store) -> str:
    devices = store.devices()["device_id"].tolist()
    assert len(devices) == 1
    return str(devices[0])


def _raw(store: Store) -> pd.DataFrame:
    return store.read_samples(_device(store))


@pytest.mark.parametrize("name", list(FILES))
def test_decodes_to_truth(name: str, tmp_path: Path) -> None:
    path = shared_file(f"skdh_io/{FILES[name]}")
    truth = _truth(name)
    with Store.open(tmp_path / "store") as store:
        report = import_file(store, path, ImportOptions(tz="UTC"))
        raw = _raw(store)
        metrics = store.read_metrics(_device(store))
        rate_hz = store.recordings()["rate_hz"].tolist()
        gaps = store.read_table("gaps")
    print(name, report.importer, report.decisions)
    assert report.result.new_samples == len(truth["time"]) == len(raw)
    t = raw["t"].to_numpy() / 1e9
    if name == "gnactv":
        t = t + GENEACTIV_UTC_OFFSET_S  # skdh reads the local page time as if it were UTC
    _close(name, t, truth["time"], "time (s)")
    _close(name, raw[["ax", "ay", "az"]].to_numpy(np.float64), truth["accel"], "accel (g)")
    if "gyro" in truth:
        _close(name, raw[["gx", "gy", "gz"]].to_numpy(np.float64), truth["gyro"], "gyro (deg/s)")
    else:
        assert "gx" not in raw.columns or raw["gx"].isna().all()
    temp = metrics[metrics["metric"] == "temperature_c"]
    row = np.searchsorted(temp["t"].to_numpy(), raw["t"].to_numpy(), side="right") - 1
    assert (row >= 0).all()
    _close(name, temp["value"].to_numpy()[row], truth["temperature"], "temperature (C)")
    assert rate_hz == [pytest.approx(float(np.ravel(truth.get("fs", [50.0]))[0]))]
    assert gaps.empty


def test_corrupted_cwa_block_is_skipped_and_becomes_a_gap(tmp_path: Path) -> None:
    source = shared_file("skdh_io/ax3_sample.cwa")
    data = bytearray(source.read_bytes())
    block = 17
    data[HEADER_BYTES + block * BLOCK_BYTES + 100] ^= 0x5A
    path = tmp_path / "damaged.cwa"
    path.write_bytes(bytes(data))
    with Store.open(tmp_path / "store") as store:
        report = import_file(store, path, ImportOptions(tz="UTC"))
        gaps = store.read_table("gaps")
        raw = _raw(store)
    print(report.decisions)
    assert report.result.new_samples == 58800 - 120
    assert len(raw) == 58800 - 120
    assert (
        f"#{block} at byte {HEADER_BYTES + block * BLOCK_BYTES} (bad checksum)"
        in (report.decisions["bad_blocks"])
    )
    assert len(gaps) == 1
    assert int(gaps["first_missing_seq"].iloc[0]) == block * 120
    assert int(gaps["missing_count"].iloc[0]) == 120


def test_not_cwa_and_truncated_header_name_the_byte(tmp_path: Path) -> None:
    source = shared_file("skdh_io/ax3_sample.cwa")
    short = tmp_path / "short.cwa"
    short.write_bytes(source.read_bytes()[:700])
    with Store.open(tmp_path / "store") as store:
        with pytest.raises(ImportFormatError, match="byte 700"):
            import_file(store, short, ImportOptions())
        junk = tmp_path / "junk.cwa"
        junk.write_bytes(b"XX" + bytes(4000))
        with pytest.raises(ImportFormatError, match="not a format psoas can import"):
            import_file(store, junk, ImportOptions())


def _mutate(data: bytes, kind: str, where: float, value: int) -> bytes:
    buf = bytearray(data)
    pos = int(where * (len(buf) - 1))
    if kind == "truncate":
        return bytes(buf[:pos])
    if kind == "flip":
        buf[pos] ^= (value % 255) + 1
        return bytes(buf)
    # inflate a length / count field: CWA header length, block length or sample count,
    # or a GENEActiv digit
    if data.startswith(b"MD"):
        blocks = max(1, (len(buf) - HEADER_BYTES) // BLOCK_BYTES)
        block = HEADER_BYTES + int(where * (blocks - 1)) * BLOCK_BYTES
        at = (2, block + 2, block + 28)[value % 3]
        buf[at : at + 2] = (0xFFFF - value % 7).to_bytes(2, "little")
        return bytes(buf)
    digits = [i for i, c in enumerate(buf[:4096]) if chr(c).isdigit()]
    buf[digits[int(where * (len(digits) - 1))]] = ord("9")
    return bytes(buf)


@pytest.mark.parametrize("name", list(FILES))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kind=st.sampled_from(["truncate", "flip", "inflate"]),
    where=st.floats(0.0, 1.0),
    value=st.integers(0, 1 << 16),
)
def test_fuzzed_files_import_or_fail_cleanly(
    name: str, tmp_path: Path, kind: str, where: float, value: int
) -> None:
    source = shared_file(f"skdh_io/{FILES[name]}")
    work = tmp_path / f"fuzz-{kind}-{where}-{value}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    path = work / source.name
    path.write_bytes(_mutate(source.read_bytes(), kind, where, value))
    home = work / "store"
    with Store.open(home) as store:
        before = (tree_snapshot(home), catalog_dump(home))
        try:
            report = import_file(store, path, ImportOptions(tz="UTC"))
        except PsoasError as exc:
            assert str(exc)
            assert (tree_snapshot(home), catalog_dump(home)) == before
            return
        raw = _raw(store)
    assert report.result.new_samples == len(raw) > 0
    assert np.isfinite(raw[["ax", "ay", "az"]].to_numpy()).all()
    assert raw["t"].is_monotonic_increasing or raw.sort_values("seq")["t"].is_monotonic_increasing
    with contextlib.suppress(KeyError):
        assert isinstance(report.decisions["device"], str)
    assert isinstance(pd.Timestamp(int(raw["t"].iloc[0])), pd.Timestamp)
