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
from analysis.steps import steps_per_epoch
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


def _merged_truth(truth, rules: BoutRules) -> np.ndarray:
    """The truth's bouts joined across interruptions that are not breaks under ``rules``:
    shorter than ``min_break_s`` with fewer than ``min_break_steps`` steps, and not lying."""
    activities, step_t = truth.activities, truth.strides["t"].to_numpy()
    merged: list[list[int]] = []
    for start, end in truth.sitting_bouts[["start", "end"]].to_numpy():
        if merged:
            gap_s = (start - merged[-1][1]) / 1e9
            steps = int(((step_t >= merged[-1][1]) & (step_t < start)).sum())
            between = activities[
                (activities["start"] < start) & (activities["end"] > merged[-1][1])
            ]
            lying = (between["activity"] == "lying").any()
            if gap_s < rules.min_break_s and steps < (rules.min_break_steps or 1e9) and not lying:
                merged[-1][1] = end
                continue
        merged.append([int(start), int(end)])
    return np.array(merged, dtype=np.int64)


def test_alerts_fire_within_two_seconds_of_the_truth_with_default_rules(case):
    rec, _ = case
    start, end = day_bounds_ns(DAY, ZONE)
    rules = SittingSettings(BoutRules(), AlertRules(threshold_s=30 * 60))
    result = analyze_imu_day(rec.samples, rec.placement, start, end, rules)
    truth = _merged_truth(rec.truth, rules.bouts)
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


@pytest.mark.parametrize(("cold_when_still", "expect_non_wear"), [(True, True), (False, False)])
def test_device_temperature_confirms_non_wear(store, cold_when_still, expect_non_wear):
    """90 still minutes: off the body if the device cooled down, a still wearer if it stayed
    warm (the device's temperature log is what tells them apart)."""
    start = pd.Timestamp("2026-01-05T08:00Z").value
    minute = 60 * 10**9
    samples = _thigh_samples(start, 4, [(start + 60 * minute, start + 150 * minute)], seed=3)
    still = (samples["t"] >= start + 60 * minute) & (samples["t"] < start + 150 * minute)
    samples.loc[still, ["ax", "ay", "az"]] = np.float32([0.0, 0.0, 1.0]) + np.random.default_rng(
        4
    ).normal(0, 0.002, (int(still.sum()), 3)).astype(np.float32)
    temp_t = start + np.arange(0, 240) * minute
    inside = (temp_t >= start + 60 * minute) & (temp_t < start + 150 * minute)
    temp = np.where(inside & cold_when_still, 24.0, 32.0)
    device = DeviceInfo("still", tz="UTC", placement="thigh")
    with store.ingest() as tx:
        tx.add_samples(RecordingInfo(device, "synthetic"), samples)
        tx.add_metrics(
            RecordingInfo(device, "synthetic"),
            pd.DataFrame({"t": temp_t, "metric": "temperature_c", "value": temp}),
        )
    analyze(store)
    non_wear_s = store.read_table("daily_summary").iloc[0]["non_wear_s"]
    if expect_non_wear:
        assert 80 * 60 <= non_wear_s <= 95 * 60
    else:
        assert non_wear_s == 0


def test_steps_for_the_break_rule_match_the_truth_on_simulated_days(thigh_case):
    rec, _ = thigh_case
    t = rec.samples["t"].to_numpy()
    acc = rec.samples[["ax", "ay", "az"]].to_numpy(np.float32)
    epochs, codes, _, _ = posture_codes(t, acc, "thigh")
    epoch_t = epochs["t"].to_numpy()
    steps = steps_per_epoch(t, acc, rec.rate_hz, epoch_t, codes == MOVING)
    true_steps = len(rec.truth.strides)  # every stride of either foot starts with one step
    lost = rec.truth.lost_packets["missing_count"].sum() / (len(t) + 1)  # their steps are lost
    tolerance = 0.02 + lost
    assert abs(steps.sum() - true_steps) <= tolerance * true_steps, (steps.sum(), true_steps)


def test_steps_on_the_real_lower_back_recording_find_most_reference_contacts():
    data = scipy.io.loadmat(shared_file("mobgap_lowerback/HA001/data.mat"), simplify_cells=True)[
        "data"
    ]["TimeMeasure1"]
    found = reference = 0
    for test, trial in (("Test5", "Trial1"), ("Test5", "Trial2"), ("Test11", "Trial1")):
        recording = data[test][trial]
        acc = np.asarray(recording["SU"]["LowerBack"]["Acc"], dtype=np.float32)
        t = (np.arange(len(acc)) * 1e7).astype(np.int64)  # 100 Hz
        epochs, _, _, _ = posture_codes(t, acc, "lower_back")
        epoch_t = epochs["t"].to_numpy()
        steps = steps_per_epoch(t, acc, 100.0, epoch_t, np.ones(len(epoch_t), bool))
        bouts = recording["Standards"]["INDIP"]["MicroWB"]
        for bout in bouts if isinstance(bouts, list) else [bouts]:
            inside = (epoch_t >= bout["Start"] * 1e9 - 1e9) & (epoch_t < bout["End"] * 1e9)
            found += int(steps[inside].sum())
            reference += len(np.atleast_1d(bout["InitialContact_Event"]))
    print(f"HA001: {found} steps counted, {reference} reference initial contacts")
    assert 0.6 * reference <= found <= 1.1 * reference


@pytest.mark.parametrize(("seed", "rate"), [(1, 50.0), (4, 100.0)])
def test_lower_back_sit_to_stand_transitions_match_the_truth(store, seed, rate):
    rec = simulate_day(DAY, placement="lower_back", rate_hz=rate, seed=seed, tz=ZONE)
    acts = rec.truth.activities
    before, after = acts["activity"].shift(1), acts["activity"].shift(-1)
    upright = ["standing", "walking"]
    sit_to_stand = (before == "sitting") & after.isin(upright)
    stand_to_sit = before.isin(upright) & (after == "sitting")
    truth = acts[(acts["activity"] == "transition") & (sit_to_stand | stand_to_sit)]
    kinds = np.where(sit_to_stand[truth.index], "sit_to_stand", "stand_to_sit")
    middle = ((truth["start"] + truth["end"]) // 2).to_numpy()

    device = DeviceInfo("back", tz=ZONE, placement="lower_back")
    with store.ingest() as tx:
        tx.add_samples(RecordingInfo(device, "sim"), rec.samples)
    analyze(store)
    found = store.read_table("transitions", {"device_id": "back"})
    assert len(found) == len(truth) > 10  # none missed, none invented
    error_s = np.abs(found["t"].to_numpy() - middle) / 1e9
    assert error_s.max() <= 1.0, error_s.max()
    assert found["kind"].tolist() == kinds.tolist()
    summary = store.read_table("daily_summary", {"device_id": "back"}).iloc[0]
    assert summary["sit_to_stand"] == (kinds == "sit_to_stand").sum()
    print(f"seed {seed}: {len(found)} transitions, timing error median {np.median(error_s):.2f} s")
