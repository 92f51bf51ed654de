"""Weekly stride trends at comparable pace: simulated weeks with a known stride change or a
pace-only change, minimum-data rules, and device strides from real FIT files."""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pandas as pd
import pytest

from analysis.pipeline import analyze
from analysis.stride import device_strides
from analysis.trends import NOT_ENOUGH, change_point, compare_weeks, trend, weekly_table
from sensors.importers import ImportOptions, import_file
from sensors.simulate import simulate_day
from tests.conftest import shared_file

MONDAY = dt.date(2026, 1, 5)


@functools.cache
def _weeks(
    stride_ramp: float,
    pace_ramp: float,
    seed: int = 2,
    weeks: int = 6,
    step_week: int | None = None,
) -> pd.DataFrame:
    """Truth strides of ``weeks`` simulated weeks, measured with 2 % noise per stride.

    Week w has ``stride_scale = 1 + stride_ramp * w / (weeks - 1)`` (or a step of
    ``stride_ramp`` from ``step_week`` on) and ``pace_scale = 1 + pace_ramp * w / (weeks - 1)``.
    """
    rng = np.random.default_rng(seed)
    frames = []
    for d in range(7 * weeks):
        w, day = d // 7, MONDAY + dt.timedelta(days=d)
        if step_week is None:
            scale = 1 + stride_ramp * w / (weeks - 1)
        else:
            scale = 1 + (stride_ramp if w >= step_week else 0.0)
        rec = simulate_day(
            day,
            seed=seed,
            truth_only=True,
            stride_scale=scale,
            pace_scale=1 + pace_ramp * w / (weeks - 1),
        )
        strides = rec.truth.strides.copy()
        strides["stride_length_m"] *= 1 + rng.normal(0, 0.02, len(strides))
        strides["speed_mps"] = strides["stride_length_m"] / strides["stride_time_s"]
        strides["day"] = day.isoformat()
        frames.append(strides)
    out = pd.concat(frames, ignore_index=True)
    return out.assign(device_id="foot", source="foot_imu")


def _walking(weekly: pd.DataFrame) -> pd.DataFrame:
    return weekly[weekly["mode"] == "walking"].sort_values("week")


def test_a_four_percent_longer_stride_over_six_weeks_is_detected():
    weekly = _walking(weekly_table(_weeks(0.04, 0.0)))
    assert len(weekly) == 6 and weekly["adjusted_stride_length_m"].notna().all()
    result = trend(weekly)
    assert result.mann_kendall_p < 0.05 and result.slope_ci_low > 0
    assert "stride is getting longer" in result.statement and "n = 6 weeks" in result.statement
    # at comparable speed a +4 % stride at unchanged cadence reads ~ +1.5 % (see analysis/trends)
    first, last = weekly["adjusted_stride_length_m"].iloc[[0, -1]]
    assert 0.01 < last / first - 1 < 0.025


@pytest.mark.parametrize("seed", [2, 5])
def test_a_pace_only_change_reports_no_change(seed):
    strides = _weeks(0.0, 0.12, seed=seed)
    weekly = _walking(weekly_table(strides))
    assert weekly["median_stride_length_m"].iloc[-1] > weekly["median_stride_length_m"].iloc[0]
    result = trend(weekly)
    assert result.slope_ci_low <= 0 <= result.slope_ci_high, result.statement
    assert "no clear trend" in result.statement
    walking = strides[strides["cadence_spm"] < 140]
    comparison = compare_weeks(walking, "2026-W02", "2026-W07")
    assert comparison is not None
    assert comparison["ci_low_m"] <= 0 <= comparison["ci_high_m"], comparison["statement"]
    assert "no clear change" in str(comparison["statement"])


def test_a_step_change_is_located():
    weekly = _walking(weekly_table(_weeks(0.05, 0.0, weeks=8, step_week=4)))
    at, p = change_point(weekly["adjusted_stride_length_m"].to_numpy())
    assert weekly["week"].iloc[at] == "2026-W06" and p < 0.05


def test_weeks_without_enough_data_say_so_and_are_left_out_of_trends():
    strides = _weeks(0.0, 0.0)
    thin = strides[~((strides["day"] >= "2026-01-19") & (strides["day"] < "2026-01-25"))]
    weekly = _walking(weekly_table(thin))
    short = weekly[weekly["week"] == "2026-W04"].iloc[0]
    assert np.isnan(short["adjusted_stride_length_m"]) and short["note"].startswith(NOT_ENOUGH)
    assert trend(weekly).weeks == 5
    assert NOT_ENOUGH in trend(weekly.head(3)).statement


def test_device_strides_keep_measured_and_derived_apart():
    t = np.array([1, 1, 1, 1, 2, 2, 2], dtype=np.int64) * 10**9
    metrics = pd.DataFrame(
        {
            "t": t,
            "metric": [
                *("stride_length_m", "cadence_spm", "speed_mps", "step_length_m"),
                *("stride_length_derived_m", "cadence_spm", "speed_mps"),
            ],
            "value": [2.0, 170.0, 3.0, 1.0, 2.1, 170.0, 3.0],
        }
    )
    rows = device_strides(metrics, "watch")
    assert rows["source"].tolist() == ["watch", "watch_derived"]
    assert rows["stride_time_s"].tolist() == pytest.approx([120 / 170] * 2)
    implied = 3.0 * 120 / 170
    assert rows["uncertainty_m"].iloc[0] == pytest.approx(abs(2.0 - implied))
    assert np.isnan(rows["uncertainty_m"].iloc[1])  # derived: it is the implied value


def test_fit_files_feed_the_strides_and_weekly_tables(store):
    for name in ("garmin-fenix-5-run.fit", "activity-small-fenix2-run.fit"):
        import_file(store, shared_file(f"fit/{name}"), ImportOptions(tz="UTC"))
    analyze(store)
    strides = store.read_table("strides")
    sources = strides.groupby("source").size().to_dict()
    assert sources["watch"] >= 15 and sources["watch_derived"] >= 2000
    running = strides[strides["source"] == "watch_derived"]
    assert 1.6 <= running["stride_length_m"].median() <= 3.0
    weekly = store.read_table("weekly_stride")
    assert set(weekly["source"]) == {"watch", "watch_derived"}
    assert weekly["note"].str.startswith(NOT_ENOUGH).all()  # one run each: no week to judge


def test_a_thigh_gives_cadence_only_unless_another_device_measured_speed(store):
    from sensors.store import DeviceInfo, RecordingInfo

    day = dt.date(2026, 3, 10)
    rec = simulate_day(day, placement="thigh", rate_hz=50.0, seed=3, tz="UTC", evening_run=False)
    thigh = RecordingInfo(DeviceInfo("thigh", tz="UTC", placement="thigh"), "sim")
    with store.ingest() as tx:
        tx.add_samples(thigh, rec.samples)
    analyze(store)
    alone = store.read_table("strides", {"device_id": "thigh"})
    truth = rec.truth.strides
    assert set(alone["source"]) == {"thigh_cadence"} and alone["stride_length_m"].isna().all()
    cadence_error = alone["cadence_spm"].median() / truth["cadence_spm"].median() - 1
    assert abs(cadence_error) < 0.03, cadence_error

    # a watch measured speed during the afternoon walks: those strides get a length
    afternoon = truth[truth["t"] >= pd.Timestamp("2026-03-10T12:00Z").value]
    watch = RecordingInfo(DeviceInfo("watch", tz="UTC", placement="wrist", kind="watch"), "gps")
    speed = pd.DataFrame(
        {"t": afternoon["t"], "metric": "speed_mps", "value": afternoon["speed_mps"]}
    )
    with store.ingest() as tx:
        tx.add_metrics(watch, speed.drop_duplicates("t"))
    analyze(store, since=day)
    both = store.read_table("strides", {"device_id": "thigh"})
    measured = both[both["source"] == "thigh_cadence+speed:watch"]
    assert len(measured) > 100 and (measured["t"] >= afternoon["t"].min() - 2e9).all()
    length_error = measured["stride_length_m"].median() / afternoon["stride_length_m"].median()
    assert abs(length_error - 1) < 0.05, length_error
    assert both.loc[both["source"] == "thigh_cadence", "stride_length_m"].isna().all()


def test_a_foot_imu_day_fills_the_strides_table_through_the_store(store):
    from sensors.store import DeviceInfo, RecordingInfo

    day = dt.date(2026, 3, 10)
    rec = simulate_day(day, placement="foot", rate_hz=50.0, seed=4, tz="UTC")
    foot = RecordingInfo(DeviceInfo("shoe", tz="UTC", placement="foot"), "sim")
    with store.ingest() as tx:
        tx.add_samples(foot, rec.samples)
    analyze(store)
    strides = store.read_table("strides", {"device_id": "shoe"})
    assert set(strides["source"]) == {"foot_imu"}
    truth = rec.truth.strides
    truth = truth[truth["foot"] == "left"]  # simulate_day's default side: the sensor's foot
    assert abs(len(strides) / len(truth) - 1) < 0.02
    error = strides["stride_length_m"].median() / truth["stride_length_m"].median() - 1
    assert abs(error) < 0.03, error
    summary = store.read_table("daily_summary", {"device_id": "shoe"}).iloc[0]
    assert summary["posture_method"].startswith("foot: gait only")
    assert store.read_table("sitting_bouts", {"device_id": "shoe"}).empty


@pytest.mark.parametrize("with_height", [True, False])
def test_a_lower_back_day_gives_pendulum_strides_only_with_a_sensor_height(store, with_height):
    from sensors.store import DeviceInfo, RecordingInfo

    day = dt.date(2026, 3, 10)
    rec = simulate_day(day, placement="lower_back", rate_hz=50.0, seed=6, tz="UTC")
    height = rec.sensor_height_m if with_height else None
    back = RecordingInfo(
        DeviceInfo("back", tz="UTC", placement="lower_back"), "sim", sensor_height_m=height
    )
    with store.ingest() as tx:
        tx.add_samples(back, rec.samples)
    analyze(store)
    strides = store.read_table("strides", {"device_id": "back"})
    truth = rec.truth.strides
    walking = strides[strides["cadence_spm"] < 140]
    assert len(walking) > 1000 and set(strides["source"]) == {"lower_back_pendulum"}
    true_walking = truth[truth["cadence_spm"] < 140]
    cadence_error = walking["cadence_spm"].median() / true_walking["cadence_spm"].median() - 1
    assert abs(cadence_error) < 0.02, cadence_error
    if with_height:
        true_walk = true_walking["stride_length_m"].median()
        error = walking["stride_length_m"].median() / true_walk - 1
        assert abs(error) < 0.08, error
    else:
        assert strides["stride_length_m"].isna().all()


def test_a_lower_back_device_without_a_gyroscope_still_gives_strides(store):
    from sensors.store import DeviceInfo, RecordingInfo

    day = dt.date(2026, 3, 10)
    rec = simulate_day(day, placement="lower_back", rate_hz=25.0, seed=7, tz="UTC")
    samples = rec.samples.drop(columns=["gx", "gy", "gz"])
    back = RecordingInfo(
        DeviceInfo("acc-only", tz="UTC", placement="lower_back"),
        "sim",
        sensor_height_m=rec.sensor_height_m,
    )
    with store.ingest() as tx:
        tx.add_samples(back, samples)
    analyze(store)
    strides = store.read_table("strides", {"device_id": "acc-only"})
    assert len(strides) > 500 and strides["stride_length_m"].notna().mean() > 0.5
