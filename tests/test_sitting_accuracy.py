"""Sitting analysis against ground truth: simulated days (truth known exactly), real recordings,
DST days and the whole pipeline through a real store."""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pandas as pd
import pytest
import scipy.io

from analysis.day import SittingSettings, analyze_imu_day, posture_codes
from analysis.pipeline import analyze
from analysis.posture import MOVING, STANDING
from analysis.sitting import AlertRules, BoutRules
from sensors.importers import ImportOptions, import_file
from sensors.simulate import SensorErrors, simulate_day
from sensors.store import DeviceInfo, RecordingInfo
from sensors.timeutil import day_bounds_ns
from tests.conftest import shared_file

DAY = dt.date(2026, 3, 10)  # a Tuesday: a desk day
ZONE = "Europe/Berlin"
NOISY = SensorErrors(
    noise_g=0.008, bias_g=(0.03, -0.02, 0.025), scale=(1.02, 0.985, 1.01), jitter_s=0.001
)
# The truth's bouts end at any standing: compare with rules that do the same.
TRUTH_RULES = SittingSettings(BoutRules(min_break_s=1.0, flicker_s=5.0, min_break_steps=None))

CASES = [  # placement, seed, rate (Hz), sensor errors, packet loss
    ("thigh", 1, 50.0, SensorErrors(), 0.0),
    ("thigh", 2, 100.0, NOISY, 0.02),
    ("thigh", 3, 50.0, NOISY, 0.05),
    ("lower_back", 1, 50.0, SensorErrors(), 0.0),
    ("lower_back", 4, 100.0, NOISY, 0.02),
]


def _day(placement, seed, rate, errors, loss, day=DAY, tz=ZONE):
    rec = simulate_day(
        day, placement=placement, rate_hz=rate, seed=seed, errors=errors, packet_loss=loss, tz=tz
    )
    start, end = day_bounds_ns(day, tz)
    return rec, start, end


@functools.cache
def _analysed(index: int):
    placement, seed, rate, errors, loss = CASES[index]
    rec, start, end = _day(placement, seed, rate, errors, loss)
    return rec, analyze_imu_day(rec.samples, placement, start, end, TRUTH_RULES)


def _ids(indices):
    return [f"{CASES[i][0]}-seed{CASES[i][1]}-{CASES[i][2]:g}Hz" for i in indices]


ALL = range(len(CASES))
THIGH = [i for i in ALL if CASES[i][0] == "thigh"]


@pytest.fixture(params=ALL, ids=_ids(ALL))
def case(request):
    return _analysed(request.param)


@pytest.fixture(params=THIGH, ids=_ids(THIGH))
def thigh_case(request):
    return _analysed(request.param)


def test_sitting_time_per_day_matches_the_truth(case):
    rec, result = case
    truth_s = rec.truth.sitting_bouts["duration_s"].sum()
    error = abs(result.summary["sitting_s"] - truth_s) / truth_s
    limit = 0.02 if rec.placement == "thigh" else 0.05
    assert error <= limit, f"sitting {result.summary['sitting_s']:.0f} s vs truth {truth_s:.0f} s"
    print(f"{rec.placement} seed {rec.seed}: sitting error {100 * error:.2f} %")


def test_thigh_bouts_of_five_minutes_match_one_to_one_within_ten_seconds(thigh_case):
    rec, result = thigh_case
    truth = rec.truth.sitting_bouts
    truth = truth[truth["duration_s"] >= 300]
    found = result.bouts[result.bouts["duration_s"] >= 300]
    assert len(found) == len(truth)
    start_error = np.abs(found["start"].to_numpy() - truth["start"].to_numpy()) / 1e9
    end_error = np.abs(found["end"].to_numpy() - truth["end"].to_numpy()) / 1e9
    assert start_error.max() <= 10 and end_error.max() <= 10, (start_error, end_error)


def _merged_truth(bouts: pd.DataFrame, activities: pd.DataFrame, min_break_s: float):
    """The truth's bouts joined across upright interruptions shorter than ``min_break_s``."""
    merged: list[list[int]] = []
    for start, end in bouts[["start", "end"]].to_numpy():
        if merged and (start - merged[-1][1]) / 1e9 < min_break_s:
            between = activities[
                (activities["start"] < start) & (activities["end"] > merged[-1][1])
            ]
            if not (between["activity"] == "lying").any():
                merged[-1][1] = end
                continue
        merged.append([int(start), int(end)])
    return np.array(merged, dtype=np.int64)


def test_alerts_fire_within_two_seconds_of_the_truth_with_default_rules(case):
    rec, _ = case
    start, end = day_bounds_ns(DAY, ZONE)
    rules = SittingSettings(BoutRules(min_break_steps=None), AlertRules(threshold_s=30 * 60))
    result = analyze_imu_day(rec.samples, rec.placement, start, end, rules)
    truth = _merged_truth(rec.truth.sitting_bouts, rec.truth.activities, 60.0)
    due = truth[(truth[:, 1] - truth[:, 0]) / 1e9 >= 30 * 60, 0] + 30 * 60 * 10**9
    fired = result.alerts["t"].to_numpy()
    assert len(fired) == len(due) > 0
    assert np.abs(fired - due).max() / 1e9 <= 2.0


def test_lower_back_walking_of_the_real_recording_is_upright():
    """Mobilise-D HA001 (real lower-back IMU): the reference walking bouts are upright/moving."""
    data = scipy.io.loadmat(shared_file("mobgap_lowerback/HA001/data.mat"), simplify_cells=True)[
        "data"
    ]["TimeMeasure1"]
    upright_s = total_s = 0
    for test, trial in (("Test5", "Trial1"), ("Test5", "Trial2"), ("Test11", "Trial1")):
        recording = data[test][trial]
        acc = np.asarray(recording["SU"]["LowerBack"]["Acc"], dtype=np.float32)
        rate = float(recording["SU"]["LowerBack"]["Fs"]["Acc"])
        t = (np.arange(len(acc)) * (1e9 / rate)).astype(np.int64)
        epochs, codes, _, _ = posture_codes(t, acc, "lower_back")
        second = epochs["t"].to_numpy() / 1e9
        bouts = recording["Standards"]["INDIP"]["MicroWB"]
        for bout in bouts if isinstance(bouts, list) else [bouts]:
            inside = (second >= np.floor(bout["Start"])) & (second < np.ceil(bout["End"]) - 1)
            upright_s += int(np.isin(codes[inside], [STANDING, MOVING]).sum())
            total_s += int(inside.sum())
    assert total_s >= 45  # the six reference bouts of HA001 hold about 50 s of walking
    print(f"HA001: {upright_s} of {total_s} reference walking seconds upright or moving")
    assert upright_s / total_s >= 0.95, f"{upright_s} of {total_s} walking seconds upright"


@pytest.mark.parametrize("name", ["ax3_sample.cwa", "ax6_sample.cwa"])
def test_real_cwa_files_run_end_to_end_with_non_wear_and_calibration(store, name):
    import_file(store, shared_file(f"skdh_io/{name}"), ImportOptions(placement="thigh", tz="UTC"))
    analyze(store)
    summary = store.read_table("daily_summary")
    assert len(summary) >= 1
    for row in summary.itertuples():
        print(
            f"{name} {row.day}: wear {row.wear_s:.0f} s, non-wear {row.non_wear_s:.0f} s, "
            f"calibration {row.calibration} (error {row.calibration_error_before_g:.4f} -> "
            f"{row.calibration_error_after_g:.4f} g), sitting {row.sitting_s:.0f} s"
        )
        assert row.wear_s + row.non_wear_s > 0
        assert row.calibration
        if row.calibration.startswith("applied"):
            assert row.calibration_error_after_g < row.calibration_error_before_g


@pytest.mark.parametrize(
    ("day", "tz", "hours"),
    [(dt.date(2026, 3, 29), "Europe/Berlin", 23), (dt.date(2026, 11, 1), "America/New_York", 25)],
)
def test_a_dst_day_has_its_hours_and_correct_totals_through_the_store(store, day, tz, hours):
    rec = simulate_day(day, placement="thigh", rate_hz=25.0, seed=5, tz=tz)
    recording = RecordingInfo(DeviceInfo("thigh", tz=tz, placement="thigh"), source="sim")
    with store.ingest() as tx:
        tx.add_samples(recording, rec.samples)
    analyze(store)
    row = store.read_table("daily_summary", {"day": day.isoformat()}).iloc[0]
    assert row["recorded_s"] == pytest.approx(hours * 3600, abs=2)
    truth_s = rec.truth.sitting_bouts["duration_s"].sum()
    assert abs(row["sitting_s"] - truth_s) / truth_s <= 0.02
    bouts = store.read_table("sitting_bouts", {"day": day.isoformat()})
    assert bouts["sitting_s"].sum() == pytest.approx(row["sitting_s"])


def test_analyze_twice_gives_the_same_tables(store):
    rec = simulate_day(DAY, placement="thigh", rate_hz=25.0, seed=6, tz=ZONE)
    recording = RecordingInfo(DeviceInfo("thigh", tz=ZONE, placement="thigh"), source="sim")
    with store.ingest() as tx:
        tx.add_samples(recording, rec.samples)
    analyze(store)
    tables = ("sitting_bouts", "posture_runs", "alerts", "daily_summary")
    first = {name: store.read_table(name) for name in tables}
    analyze(store, since=DAY)
    for name in tables:
        pd.testing.assert_frame_equal(store.read_table(name), first[name])
    assert len(first["alerts"]) > 0 and len(first["posture_runs"]) > 10


def _thigh_samples(start_ns: int, hours: float, sitting: list[tuple[int, int]], seed: int):
    """10 Hz thigh samples: upright (x up) except in the ``sitting`` spans (front of thigh up),
    with 0.02 g noise so that nothing looks like a device left on a table."""
    n = int(hours * 3600 * 10)
    t = start_ns + np.arange(n, dtype=np.int64) * 100_000_000
    acc = np.zeros((n, 3), np.float32)
    acc[:, 0] = 1.0
    for a, b in sitting:
        inside = (t >= a) & (t < b)
        acc[inside] = (0.0, 0.0, 1.0)
    acc += np.random.default_rng(seed).normal(0, 0.02, acc.shape).astype(np.float32)
    return pd.DataFrame(
        {"t": t, "seq": np.arange(n), "ax": acc[:, 0], "ay": acc[:, 1], "az": acc[:, 2]}
    )


def test_a_bout_across_midnight_is_split_for_days_reported_whole_and_alerts_on_time(store):
    midnight = pd.Timestamp("2026-01-02T00:00Z").value
    minute = 60 * 10**9
    cases = {  # device: (sitting span, expected alert time)
        "early": ((midnight - 50 * minute, midnight + 60 * minute), midnight - 20 * minute),
        "late": ((midnight - 10 * minute, midnight + 60 * minute), midnight + 20 * minute),
    }
    with store.ingest() as tx:
        for seed, (device, (span, _)) in enumerate(cases.items()):
            recording = RecordingInfo(DeviceInfo(device, tz="UTC", placement="thigh"), "synthetic")
            tx.add_samples(recording, _thigh_samples(midnight - 2 * 60 * minute, 4, [span], seed))
    analyze(store)
    for device, (span, alert_t) in cases.items():
        bouts = store.read_table("sitting_bouts", {"device_id": device})
        assert bouts["day"].tolist() == ["2026-01-01", "2026-01-02"]
        assert bouts["end"].iloc[0] == bouts["start"].iloc[1] == midnight  # split for the days
        for whole in ("bout_start", "bout_end"):
            assert bouts[whole].nunique() == 1
        assert abs(bouts["bout_start"].iloc[0] - span[0]) <= 2 * 10**9  # reported whole
        assert abs(bouts["bout_end"].iloc[0] - span[1]) <= 2 * 10**9
        alerts = store.read_table("alerts", {"device_id": device})
        assert len(alerts) == 1
        assert abs(alerts["t"].iloc[0] - alert_t) <= 2 * 10**9, device
