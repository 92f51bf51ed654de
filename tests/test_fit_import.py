"""FIT import of real Garmin files, checked against what garmin-fit-sdk itself decodes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from garmin_fit_sdk import Decoder, Stream
from garmin_fit_sdk.crc_calculator import CrcCalculator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sensors.errors import ImportFormatError, PsoasError
from sensors.importers import ImportOptions, import_file
from sensors.importers.fit import FitImporter
from sensors.schema import ACTIVITY_TYPES, METRIC_UNITS
from sensors.store import Store
from tests.conftest import catalog_dump, shared_file, tree_snapshot

DERIVED = "stride_length_derived_m"


def sdk_messages(path: Path) -> dict:
    messages, errors = Decoder(Stream.from_file(str(path))).read()
    assert errors == []
    return messages


def ns(when) -> int:
    return pd.Timestamp(when).value


def wide(store: Store, device_id: str) -> pd.DataFrame:
    metrics = store.read_metrics(device_id)
    return metrics.pivot_table(index="t", columns="metric", values="value", aggfunc="first")


def imported(store: Store, name: str) -> tuple[pd.DataFrame, dict]:
    report = import_file(store, shared_file(name), ImportOptions(tz="Europe/Berlin"))
    device_id = next(iter(report.result.devices))
    return wide(store, device_id), report.decisions


def test_derived_stride_metric_is_part_of_the_contract():
    assert "two steps" in METRIC_UNITS[DERIVED]


def test_sniffs_by_content_not_by_name(tmp_path):
    real = shared_file("fit/garmin-fenix-5-run.fit")
    head = real.read_bytes()[:64]
    assert FitImporter().sniff(tmp_path / "export.bin", head)
    assert not FitImporter().sniff(tmp_path / "a.fit", b"t,ax,ay,az\n0,1,0,0\n")


@pytest.mark.parametrize("name", ["garmin-fenix-5-run.fit", "garmin-fenix-5-walk.fit"])
def test_fenix5_records_match_the_sdk(store, name):
    frame, decisions = imported(store, f"fit/{name}")
    records = sdk_messages(shared_file(f"fit/{name}"))["record_mesgs"]
    assert "measured" in decisions["stride_length"]
    assert decisions["device"] == "garmin fenix5"
    assert len(frame) == len(records)  # every record imported
    for rec in records:
        row = frame.loc[ns(rec["timestamp"])]
        speed = rec.get("enhanced_speed", rec.get("speed"))
        assert row["speed_mps"] == pytest.approx(speed)
        assert row["distance_m"] == pytest.approx(rec["distance"])
        assert row["heart_rate_bpm"] == rec["heart_rate"]
        cadence = 2 * (rec["cadence"] + rec.get("fractional_cadence", 0.0))
        assert row["cadence_spm"] == pytest.approx(cadence)
        if rec.get("step_length") is not None:
            assert row["step_length_m"] == pytest.approx(rec["step_length"] / 1000)
            assert row["stride_length_m"] == pytest.approx(2 * rec["step_length"] / 1000)
        else:
            assert np.isnan(row["step_length_m"])
        if rec.get("stance_time") is not None:
            assert row["stance_time_ms"] == pytest.approx(rec["stance_time"])
        if rec.get("vertical_oscillation") is not None:
            assert row["vertical_oscillation_mm"] == pytest.approx(rec["vertical_oscillation"])
    # The watch's stride length agrees with speed x 120 / cadence (steps per minute).
    both = frame.dropna(subset=["stride_length_m", "speed_mps", "cadence_spm"])
    both = both[(both["speed_mps"] > 0.5) & (both["cadence_spm"] > 30)]
    from_speed = both["speed_mps"] * 120 / both["cadence_spm"]
    ratio = np.median(both["stride_length_m"]) / np.median(from_speed)
    assert len(both) >= 10
    assert abs(ratio - 1) < 0.10, ratio


def test_fenix2_stride_length_is_derived_and_marked(store):
    frame, decisions = imported(store, "fit/activity-small-fenix2-run.fit")
    assert decisions["sport"] == "running"
    assert decisions["stride_length"].startswith("derived from speed x 120 / cadence")
    assert "stride_length_m" not in frame.columns  # nothing passes for a measurement
    running = frame.dropna(subset=[DERIVED])
    assert len(running) > 2000
    median = float(np.median(running[DERIVED]))
    assert 1.6 <= median <= 3.0, median
    expected = running["speed_mps"] * 120 / running["cadence_spm"]
    np.testing.assert_allclose(running[DERIVED], expected, rtol=1e-12)


def test_monitoring_activity_types_steps_and_times(store):
    path = shared_file("fit/MonitoringFile.fit")
    report = import_file(store, path, ImportOptions(tz="America/Chicago"))
    assert report.decisions["file_type"] == "monitoring_b"
    metrics = store.read_metrics(next(iter(report.result.devices)))

    # The SDK's own decode, in file order, with full-resolution times (FIT seconds).
    ordered: list[tuple[int, dict]] = []
    Decoder(Stream.from_file(str(path))).read(
        convert_datetimes_to_dates=False, mesg_listener=lambda n, m: ordered.append((n, m))
    )
    expected_t, expected_types, last = [], [], None
    for _, mesg in ordered:
        if "timestamp" in mesg:
            last = mesg["timestamp"]
        elif "timestamp_16" in mesg:
            delta = (mesg["timestamp_16"] - (last & 0xFFFF)) & 0xFFFF
            last += delta
            expected_t.append((last + 631_065_600) * 10**9)
            expected_types.append(mesg["activity_type"])
    kinds = metrics[metrics["metric"] == "activity_type"]
    t = kinds["t"].to_numpy()
    assert len(t) == len(expected_t) == 335
    np.testing.assert_array_equal(t, np.asarray(expected_t, dtype=np.int64))
    assert (np.diff(t) > 0).all()  # monotonically increasing
    # The day the watch logged: from its monitoring_info start to its daily summary.
    info = sdk_messages(path)["monitoring_info_mesgs"][0]
    assert ns(info["timestamp"]) <= t[0] and t[-1] <= ns(info["timestamp"]) + 86_400 * 10**9
    names = [ACTIVITY_TYPES[int(v)] for v in kinds["value"]]
    assert names == expected_types
    assert set(names) >= {"sedentary", "walking"}

    # Steps per row add up to the watch's own daily totals (the summaries' steps field).
    summaries = {
        m["activity_type"]: m["steps"]
        for m in sdk_messages(path)["monitoring_mesgs"]
        if "duration_min" in m
    }
    steps = metrics[metrics["metric"] == "steps"].merge(
        kinds[["t", "value"]].rename(columns={"value": "code"}), on="t"
    )
    assert (steps["value"] >= 0).all()
    per_type = steps.groupby("code")["value"].sum()
    for name, total in summaries.items():
        code = next(c for c, n in ACTIVITY_TYPES.items() if n == name)
        assert per_type.get(code, 0.0) == total, name
    assert per_type.sum() == 3142 + 31


INVALID = [
    ("activity-filecrc.fit", "CRC", "byte 769"),
    ("activity-settings-corruptheader.fit", "data size is corrupt", "byte 771"),
    ("activity-unexpected-eof.fit", "truncated", "byte 768"),
]


@pytest.mark.parametrize(("name", "problem", "where"), INVALID)
def test_invalid_files_are_rejected_whole(store, home, name, problem, where):
    import_file(store, shared_file("fit/garmin-fenix-5-walk.fit"), ImportOptions())
    before = (tree_snapshot(home), catalog_dump(home))
    with pytest.raises(ImportFormatError) as err:
        import_file(store, shared_file(f"fit/invalid/{name}"), ImportOptions())
    message = str(err.value)
    assert name in message and problem in message and where in message
    assert "re-export it from the watch" in message
    assert (tree_snapshot(home), catalog_dump(home)) == before


def test_reimport_is_a_no_op(store):
    path = shared_file("fit/garmin-fenix-5-run.fit")
    first = import_file(store, path, ImportOptions())
    again = import_file(store, path, ImportOptions())
    assert first.result.new_metric_rows > 0 and again.already_imported


@st.composite
def mutations(draw):
    kind = draw(st.sampled_from(["truncate", "flip", "flip_keep_crc", "data_size"]))
    size = len(_SOURCE)
    if kind == "truncate":
        return kind, draw(st.integers(0, size - 1)), 0
    if kind in ("flip", "flip_keep_crc"):
        return kind, draw(st.integers(0, size - 1)), draw(st.integers(1, 255))
    return kind, 0, draw(st.integers(size, 2**32 - 1))


_SOURCE = b""


def _mutate(data: bytes, kind: str, where: int, value: int) -> bytes:
    if kind == "truncate":
        return data[:where]
    if kind == "flip":
        out = bytearray(data)
        out[where] ^= value
        return bytes(out)
    if kind == "flip_keep_crc":  # damage the content but not the CRC: the decoder must cope
        body = bytearray(data[:-2])
        if where < len(body):
            body[where] ^= value
        end = len(body)
        if body[0] == 14:
            body[12:14] = CrcCalculator.calculate_crc(body, 0, 12).to_bytes(2, "little")
        return bytes(body) + CrcCalculator.calculate_crc(body, 0, end).to_bytes(2, "little")
    return data[:4] + value.to_bytes(4, "little") + data[8:]


@pytest.fixture(scope="module")
def source() -> bytes:
    global _SOURCE
    _SOURCE = shared_file("fit/garmin-fenix-5-walk.fit").read_bytes()
    return _SOURCE


@settings(
    max_examples=int(os.environ.get("FIT_FUZZ_EXAMPLES", "50")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_mutated_files_import_or_fail_cleanly(tmp_path_factory, source, data):
    kind, where, value = data.draw(mutations())
    root = tmp_path_factory.mktemp("fuzz")
    path = root / "mutated.fit"
    path.write_bytes(_mutate(source, kind, where, value))
    home = root / "store"
    with Store.open(home) as store:
        before = (tree_snapshot(home), catalog_dump(home))
        try:
            import_file(store, path, ImportOptions())
        except PsoasError:
            assert (tree_snapshot(home), catalog_dump(home)) == before
