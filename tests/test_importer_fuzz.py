"""Fuzzing the text importers (CSV with its presets, Apple Health xml and zip) like the binary
ones: mutated files either import correctly or fail with a typed PsoasError that says where,
and the store stays exactly as it was. (FIT, CWA and GENEActiv are fuzzed in their own tests.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensors.errors import PsoasError
from sensors.importers import ImportOptions, import_file
from sensors.schema import STANDARD_GRAVITY_MPS2
from sensors.store import Store
from tests.apple_health_export import write_export
from tests.conftest import catalog_dump, imu_frame, mutate_bytes, tree_snapshot


def _generic_csv(path: Path) -> Path:
    frame = imu_frame(600)
    frame.assign(t=frame["t"] / 1e9).to_csv(path, index=False)
    return path


def _sensor_logger_csv(path: Path) -> Path:
    frame = imu_frame(600, gyro=False)
    pd.DataFrame(
        {
            "time": frame["t"],
            "seconds_elapsed": (frame["t"] - frame["t"].iloc[0]) / 1e9,
            **{a: frame["a" + a] * STANDARD_GRAVITY_MPS2 for a in "zyx"},
        }
    ).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("fuzz-originals")
    files = {
        "generic.csv": _generic_csv(folder / "generic.csv"),
        "TotalAcceleration.csv": _sensor_logger_csv(folder / "TotalAcceleration.csv"),
    }
    for name in ("export.xml", "export.zip"):
        write_export(folder / name, days=1, seed=3)
        files[name] = folder / name
    return {name: path.read_bytes() for name, path in files.items()}


def _mutate(data: bytes, kind: str, where: float, value: int) -> bytes:
    if kind in ("truncate", "flip"):
        return mutate_bytes(data, kind, where, value)
    buf = bytearray(data)
    if kind == "inflate":  # a huge number where a digit was
        digits = [i for i, c in enumerate(buf) if 48 <= c <= 57]
        at = digits[int(where * (len(digits) - 1))]
        return bytes(buf[:at] + str(10 ** (value % 40)).encode() + buf[at + 1 :])
    # "garbage": a run of random bytes spliced in
    pos = int(where * (len(buf) - 1))
    noise = np.random.default_rng(value).integers(0, 256, 1 + value % 64, dtype=np.uint8)
    return bytes(buf[:pos] + noise.tobytes() + buf[pos:])


@pytest.mark.parametrize(
    "name", ["generic.csv", "TotalAcceleration.csv", "export.xml", "export.zip"]
)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["truncate", "flip", "inflate", "garbage"]),
    where=st.floats(0.0, 1.0),
    value=st.integers(0, 1 << 16),
)
def test_mutated_text_files_import_or_fail_cleanly(originals, tmp_path, name, kind, where, value):
    work = tmp_path / f"{kind}-{where}-{value}"
    work.mkdir()
    path = work / name
    path.write_bytes(_mutate(originals[name], kind, where, value))
    home = work / "store"
    with Store.open(home) as store:
        before = (tree_snapshot(home), catalog_dump(home))
        try:
            report = import_file(store, path, ImportOptions(tz="UTC"))
        except PsoasError as exc:
            assert str(path) in str(exc) or path.name in str(exc)  # says which file
            assert (tree_snapshot(home), catalog_dump(home)) == before
            return
        stored = report.result.new_samples + report.result.new_metric_rows
        assert stored > 0
        for device in report.result.devices:
            samples = store.read_samples(device)
            assert np.isfinite(samples[["ax", "ay", "az"]].to_numpy()).all()
            metrics = store.read_metrics(device)
            assert np.isfinite(metrics["value"].to_numpy()).all()
