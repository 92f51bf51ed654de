"""The simulator's ground truth checked against its own signal.

Later accuracy figures (sitting detection, ZUPT and inverted-pendulum stride length, trends) are
measured against this truth, so here the truth is recovered from the raw samples with simple,
independent methods: low-passed gravity for posture, an FFT for step frequency, a strapdown
integration between stance phases for foot stride length, gyro integration for orientation.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy.ndimage import uniform_filter1d
from scipy.spatial.transform import Rotation

from sensors.errors import UsageError
from sensors.schema import validate_imu
from sensors.simulate import (
    ACTIVITIES,
    SensorErrors,
    SimulatedRecording,
    natural_stride_time_s,
    simulate_day,
    simulate_weeks,
    workday_plan,
)
from sensors.timeutil import day_bounds_ns

TZ = "Europe/Berlin"
TUESDAY = dt.date(2026, 3, 3)
SATURDAY = dt.date(2026, 3, 7)
G = 9.80665
NS = 1_000_000_000


# ------------------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def thigh() -> SimulatedRecording:
    return simulate_day(TUESDAY, placement="thigh", rate_hz=50.0, seed=1, evening_run=True)


@pytest.fixture(scope="module")
def back() -> SimulatedRecording:
    return simulate_day(TUESDAY, placement="lower_back", rate_hz=50.0, seed=2, evening_run=True)


@pytest.fixture(scope="module")
def foot() -> SimulatedRecording:
    return simulate_day(TUESDAY, placement="foot", rate_hz=100.0, seed=3, evening_run=True)


def _acc(rec: SimulatedRecording) -> np.ndarray:
    return rec.samples[["ax", "ay", "az"]].to_numpy(np.float64)


def _gyro(rec: SimulatedRecording) -> np.ndarray:
    return rec.samples[["gx", "gy", "gz"]].to_numpy(np.float64)


def _mask(rec: SimulatedRecording, intervals: pd.DataFrame) -> np.ndarray:
    """Samples inside any of the [start, end) intervals."""
    t = rec.samples["t"].to_numpy()
    mark = np.zeros(len(t) + 1, dtype=np.int64)
    i0 = np.searchsorted(t, intervals["start"].to_numpy())
    i1 = np.searchsorted(t, intervals["end"].to_numpy())
    np.add.at(mark, i0, 1)
    np.add.at(mark, i1, -1)
    return np.cumsum(mark[:-1]) > 0


def _activity(rec: SimulatedRecording, *names: str) -> pd.DataFrame:
    a = rec.truth.activities
    return a[a["activity"].isin(names)]


def _inclination_deg(rec: SimulatedRecording) -> np.ndarray:
    """Angle between the ~1 s low-passed acceleration and the sensor's +x (standing) axis."""
    lp = uniform_filter1d(_acc(rec), size=round(rec.rate_hz), axis=0, mode="nearest")
    cos = lp[:, 0] / np.linalg.norm(lp, axis=1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _sitting_hours(plan: pd.DataFrame) -> float:
    sit = plan["activity"] == "sitting"
    return float((plan["end"] - plan["start"])[sit].sum() / NS / 3600)


def _bouts_min(plan: pd.DataFrame) -> np.ndarray:
    sit = (plan["activity"] == "sitting").to_numpy().astype(np.int8)
    edges = np.diff(np.concatenate([[0], sit, [0]]))
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return (plan["end"].to_numpy()[last] - plan["start"].to_numpy()[first]) / NS / 60


def _local_hour(t_ns: int) -> float:
    moment = pd.Timestamp(t_ns, tz="UTC").tz_convert(TZ)
    return moment.hour + moment.minute / 60 + moment.second / 3600


# ------------------------------------------------------------------------- contract and time


def test_samples_follow_the_imu_contract(thigh: SimulatedRecording) -> None:
    s = thigh.samples
    assert list(s.columns) == ["t", "seq", "ax", "ay", "az", "gx", "gy", "gz"]
    checked = validate_imu(s)
    pd.testing.assert_frame_equal(checked, s, check_exact=True)
    assert s["t"].dtype == np.int64 and s["seq"].dtype == np.int64
    assert all(s[c].dtype == np.float32 for c in ("ax", "ay", "az", "gx", "gy", "gz"))
    t = s["t"].to_numpy()
    assert np.all(np.diff(t) > 0)
    start, end = day_bounds_ns(TUESDAY, TZ)
    assert start <= t[0] and t[-1] < end
    assert len(s) == 24 * 3600 * 50
    np.testing.assert_array_equal(s["seq"].to_numpy(), np.arange(len(s)))
    assert thigh.truth.lost_packets.empty
    assert thigh.placement == "thigh" and thigh.rate_hz == 50.0 and thigh.tz == TZ


def test_jitter_keeps_timestamps_strictly_increasing() -> None:
    errors = SensorErrors(jitter_s=0.006)  # 6 ms at 100 Hz: clipped at 0.45 periods (4.5 ms)
    rec = simulate_day(TUESDAY, rate_hz=100.0, seed=7, errors=errors, sitting_scale=0.7)
    t = rec.samples["t"].to_numpy()
    assert np.all(np.diff(t) > 0)
    start, _ = day_bounds_ns(TUESDAY, TZ)
    dev = (t - start) - np.arange(len(t)) * 10_000_000
    assert 0.003 * NS < dev.std() < 0.004 * NS
    assert np.abs(dev).max() <= 0.0045 * NS
    default = simulate_day(TUESDAY, rate_hz=25.0, seed=7)
    dev = (default.samples["t"].to_numpy() - start) - np.arange(len(default.samples)) * 40_000_000
    assert 0.0004 * NS < dev.std() < 0.0006 * NS  # SensorErrors().jitter_s = 0.5 ms
    ideal = simulate_day(TUESDAY, rate_hz=25.0, seed=7, errors=SensorErrors.ideal())
    np.testing.assert_array_equal(
        ideal.samples["t"].to_numpy() - start, np.arange(len(ideal.samples)) * 40_000_000
    )


@pytest.mark.parametrize(("day", "hours"), [("2026-03-29", 23), ("2026-10-25", 25)])
def test_dst_days_are_simulated_in_local_time(day: str, hours: int) -> None:
    rec = simulate_day(day, rate_hz=5.0, seed=4)
    assert len(rec.samples) == hours * 3600 * 5
    start, end = day_bounds_ns(dt.date.fromisoformat(day), TZ)
    assert (end - start) == hours * 3600 * NS
    a = rec.truth.activities
    assert a["start"].iloc[0] == start and a["end"].iloc[-1] == end
    assert np.array_equal(a["start"].to_numpy()[1:], a["end"].to_numpy()[:-1])
    # both are Sundays: sleeping in until 7:15-9:00 local time (wall clock, not hours since
    # midnight: a 23 h day does not make the person wake up an hour late)
    assert 7.2 <= _local_hour(int(a["end"].iloc[0])) <= 9.1


def test_same_seed_gives_identical_samples_and_other_seed_differs() -> None:
    kw = {"placement": "lower_back", "rate_hz": 25.0, "packet_loss": 0.01}
    a = simulate_day(TUESDAY, seed=11, **kw)
    b = simulate_day(TUESDAY, seed=11, **kw)
    pd.testing.assert_frame_equal(a.samples, b.samples, check_exact=True)
    pd.testing.assert_frame_equal(a.truth.activities, b.truth.activities, check_exact=True)
    pd.testing.assert_frame_equal(a.truth.strides, b.truth.strides, check_exact=True)
    pd.testing.assert_frame_equal(a.truth.lost_packets, b.truth.lost_packets, check_exact=True)
    c = simulate_day(TUESDAY, seed=12, **kw)
    assert not a.truth.activities.equals(c.truth.activities)
    n = min(len(a.samples), len(c.samples))
    assert not np.array_equal(a.samples["ax"].to_numpy()[:n], c.samples["ax"].to_numpy()[:n])


def test_truth_does_not_depend_on_placement_or_rate() -> None:
    a = simulate_day(TUESDAY, placement="wrist", rate_hz=25.0, seed=5, truth_only=True)
    b = simulate_day(TUESDAY, placement="foot", rate_hz=100.0, seed=5, truth_only=True)
    pd.testing.assert_frame_equal(a.truth.activities, b.truth.activities, check_exact=True)
    pd.testing.assert_frame_equal(a.truth.strides, b.truth.strides, check_exact=True)
    assert a.samples.empty and list(a.samples.columns)[:2] == ["t", "seq"]


def test_packet_loss_matches_the_truth_exactly() -> None:
    kw = {"placement": "wrist", "rate_hz": 25.0, "seed": 8, "packet_size": 20}
    full = simulate_day(TUESDAY, seq_start=1000, **kw)
    lossy = simulate_day(TUESDAY, seq_start=1000, packet_loss=0.05, **kw)
    seq = lossy.samples["seq"].to_numpy()
    every = full.samples["seq"].to_numpy()
    assert every[0] == 1000 and np.array_equal(every, np.arange(1000, 1000 + len(every)))
    missing = np.setdiff1d(every, seq)
    lost = lossy.truth.lost_packets
    assert list(lost.columns) == ["first_missing_seq", "missing_count"]
    assert lost.dtypes.eq(np.int64).all()
    expected = np.concatenate([np.arange(f, f + n) for f, n in lost.to_numpy()])
    np.testing.assert_array_equal(missing, expected)
    assert ((lost["first_missing_seq"] - 1000) % 20 == 0).all()
    assert 0.03 < len(lost) * 20 / len(every) < 0.07
    # the rows that arrived are exactly the rows of the loss-free recording
    kept = full.samples[full.samples["seq"].isin(seq)].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, lossy.samples, check_exact=True)
    validate_imu(lossy.samples)


def test_bad_arguments_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="placement"):
        simulate_day(TUESDAY, placement="ankle")
    with pytest.raises(UsageError, match="rate_hz"):
        simulate_day(TUESDAY, rate_hz=0.0)
    with pytest.raises(UsageError, match="packet_loss"):
        simulate_day(TUESDAY, packet_loss=1.5)
    with pytest.raises(UsageError, match="not a day"):
        simulate_day("03/03/2026")


# ------------------------------------------------------------------------------ posture truth


def test_thigh_inclination_matches_truth_postures(thigh: SimulatedRecording) -> None:
    incl = _inclination_deg(thigh)
    sitting = _mask(thigh, thigh.truth.sitting_bouts)
    assert sitting.sum() > 5 * 3600 * 50
    assert np.mean(incl[sitting] > 60) >= 0.95
    for act in ("standing", "walking", "running"):
        upright = _mask(thigh, _activity(thigh, act))
        assert np.mean(incl[upright] < 35) >= 0.90, act
    # lying is horizontal too, but gravity is on another axis than when sitting (z up)
    lying = _mask(thigh, _activity(thigh, "lying"))
    assert np.mean(incl[lying] > 60) >= 0.95
    lp = uniform_filter1d(_acc(thigh), 50, axis=0)
    assert np.median(lp[sitting, 2]) > 0.9
    assert np.mean(lp[lying, 2] > 0.7) < 0.05


def test_lower_back_trunk_angle(back: SimulatedRecording) -> None:
    incl = _inclination_deg(back)
    lp = uniform_filter1d(_acc(back), 50, axis=0)
    sitting = _mask(back, back.truth.sitting_bouts)
    assert 10 <= np.median(incl[sitting]) <= 30
    assert np.mean((incl[sitting] > 5) & (incl[sitting] < 35)) > 0.95
    assert np.median(lp[sitting, 2]) > 0  # reclined: the front of the trunk faces up
    for act in ("standing", "walking"):
        upright = _mask(back, _activity(back, act))
        assert np.mean(incl[upright] < 15) > 0.95, act
    lying = _mask(back, _activity(back, "lying"))
    assert np.mean(incl[lying] > 60) > 0.95
    assert back.sensor_height_m is not None and 0.85 < back.sensor_height_m < 1.05


def test_at_rest_magnitude_is_one_g_despite_bias_and_scale(thigh: SimulatedRecording) -> None:
    mag = np.linalg.norm(_acc(thigh), axis=1)
    lying = _mask(thigh, _activity(thigh, "lying"))
    assert np.mean(np.abs(mag[lying] - 1) < 0.03) > 0.99
    assert abs(np.median(mag[lying]) - 1) < 0.02
    gyro = _gyro(thigh)[lying]
    assert np.all(np.abs(np.median(gyro, axis=0)) < 1.0)  # only the bias, deg/s


def test_wrist_moves_more_than_thigh_while_seated(thigh: SimulatedRecording) -> None:
    wrist = simulate_day(TUESDAY, placement="wrist", rate_hz=25.0, seed=1, evening_run=True)
    spread = []
    for rec in (thigh, wrist):
        lp = uniform_filter1d(_acc(rec), round(rec.rate_hz), axis=0)
        sitting = _mask(rec, rec.truth.sitting_bouts)
        spread.append(np.degrees(np.std(np.arcsin(np.clip(lp[sitting, 1], -1, 1)))))
    assert spread[1] > 2 * spread[0]


def test_gyro_is_consistent_with_the_change_of_tilt() -> None:
    """Integrating the gyro across a posture transition predicts the gravity direction after it."""
    # The wrist sits 0.6 m from the shoulder and never quite stops gesturing, so its
    # end-point readings carry a little tangential acceleration: a looser bound there (a sign
    # or axis error would show as tens of degrees).
    for placement, tol_deg in (("thigh", 1.0), ("lower_back", 1.0), ("foot", 1.0), ("wrist", 5.0)):
        rec = simulate_day(
            TUESDAY, placement=placement, rate_hz=50.0, seed=9, errors=SensorErrors.ideal()
        )
        t = rec.samples["t"].to_numpy()
        acc, w = _acc(rec), np.radians(_gyro(rec))
        a = rec.truth.activities
        acts = a["activity"].to_numpy()
        checked = 0
        for i in np.flatnonzero(acts == "transition"):
            if {acts[i - 1], acts[i + 1]} - {"sitting", "standing", "lying"}:
                continue
            i0, i1 = np.searchsorted(t, [a["start"].iloc[i] - NS, a["end"].iloc[i] + NS])
            if max(abs(np.linalg.norm(acc[j]) - 1) for j in (i0, i1)) > 0.01:
                continue  # an end point is not at rest (fidgeting), the acc is not pure gravity
            v = acc[i0] / np.linalg.norm(acc[i0])
            dts = np.diff(t[i0 : i1 + 1]) / NS
            mid = (w[i0:i1] + w[i0 + 1 : i1 + 1]) / 2
            for rot in Rotation.from_rotvec(-mid * dts[:, None]):
                v = rot.apply(v)
            u = acc[i1] / np.linalg.norm(acc[i1])
            assert math.degrees(math.acos(min(1.0, float(v @ u)))) < tol_deg, placement
            checked += 1
        assert checked >= 5, placement


def test_transitions_are_short_and_smooth(thigh: SimulatedRecording) -> None:
    a = thigh.truth.activities
    assert set(a["activity"]) <= set(ACTIVITIES)
    dur = (a["end"] - a["start"]) / NS
    acts = a["activity"].to_numpy()
    for i in np.flatnonzero(acts == "transition"):
        pair = {acts[i - 1], acts[i + 1]}
        lo, hi = (2.0, 4.0) if "lying" in pair else (1.0, 2.0)
        assert lo - 1e-6 <= dur.iloc[i] <= hi + 1e-6
        assert "transition" not in pair and len(pair) == 2
    # sitting never touches standing/walking without a transition
    for i in range(len(acts) - 1):
        if "sitting" in (acts[i], acts[i + 1]):
            assert "transition" in (acts[i], acts[i + 1])
    gy = np.abs(_gyro(thigh)[:, 1])
    sit_to_stand = _mask(thigh, a[a["activity"] == "transition"])
    assert 40 < np.percentile(gy[sit_to_stand], 95) < 250  # deg/s: a brisk but human rotation


# -------------------------------------------------------------------------------- gait truth


def test_stride_truth_is_self_consistent(thigh: SimulatedRecording) -> None:
    s = thigh.truth.strides
    assert list(s.columns) == [
        "t",
        "foot",
        "stride_length_m",
        "stride_time_s",
        "speed_mps",
        "cadence_spm",
    ]
    assert len(s) > 1000
    np.testing.assert_allclose(s["stride_length_m"], s["speed_mps"] * s["stride_time_s"], 1e-12)
    np.testing.assert_allclose(s["cadence_spm"], 120.0 / s["stride_time_s"], rtol=1e-12)
    assert set(s["foot"]) == {"left", "right"}
    # every stride starts inside a walking/running interval and has the pace of that interval
    a = thigh.truth.activities
    idx = np.searchsorted(a["start"].to_numpy(), s["t"].to_numpy(), side="right") - 1
    acts = a["activity"].to_numpy()[idx]
    assert set(acts) == {"walking", "running"}
    walk, run = s[acts == "walking"], s[acts == "running"]
    assert walk["stride_time_s"].between(0.9, 1.35).all()
    assert walk["speed_mps"].between(0.8, 1.9).all()
    assert run["stride_time_s"].between(0.55, 0.85).all()
    assert run["speed_mps"].between(2.3, 4.2).all()
    seg_speed = a["speed_mps"].to_numpy()[idx]
    assert np.all(np.abs(s["speed_mps"] / seg_speed - 1) < 0.2)
    for act, sub in (("walking", walk), ("running", run)):
        med_v = float(np.median(sub["speed_mps"]))
        expected_t = natural_stride_time_s(med_v, act)
        assert abs(np.median(sub["stride_time_s"]) / expected_t - 1) < 0.05


def test_step_frequency_is_visible_in_the_signal(
    thigh: SimulatedRecording, back: SimulatedRecording
) -> None:
    for rec in (thigh, back):
        t = rec.samples["t"].to_numpy()
        mag = np.linalg.norm(_acc(rec), axis=1)
        walks = _activity(rec, "walking")
        walks = walks[(walks["end"] - walks["start"]) > 60 * NS]
        assert len(walks) >= 3
        for start, end in walks[["start", "end"]].to_numpy():
            i0, i1 = np.searchsorted(t, [start + 5 * NS, end - 5 * NS])
            x = mag[i0:i1] - mag[i0:i1].mean()
            spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=8 * len(x)))
            freq = np.fft.rfftfreq(8 * len(x), d=1 / rec.rate_hz)
            band = (freq > 0.5) & (freq < 6.0)
            f_peak = freq[band][np.argmax(spec[band])]
            st = rec.truth.strides
            inside = st[(st["t"] >= start) & (st["t"] < end)]
            f_step = 2.0 / np.median(inside["stride_time_s"])
            assert abs(f_peak / f_step - 1) < 0.10, (rec.placement, f_peak, f_step)


def _zupt_stride(t: np.ndarray, acc_g: np.ndarray, gyro_dps: np.ndarray, i0: int, i1: int) -> float:
    """Horizontal displacement (m) between two stance samples by strapdown integration.

    Pitch from the gyro (the foot pitches about its y axis), gravity removed with the at-rest
    reading at the start, velocity de-drifted linearly so it is zero at both stances.
    """
    ts = (t[i0 : i1 + 1] - t[i0]) / NS
    dts = np.diff(ts)
    wy = np.radians(gyro_dps[i0 : i1 + 1, 1])
    pitch = np.concatenate([[0.0], np.cumsum((wy[1:] + wy[:-1]) / 2 * dts)])
    f = acc_g[i0 : i1 + 1] * G
    fwd = np.cos(pitch) * f[:, 0] + np.sin(pitch) * f[:, 2]
    fwd = fwd - fwd[:3].mean()
    v = np.concatenate([[0.0], np.cumsum((fwd[1:] + fwd[:-1]) / 2 * dts)])
    v = v - ts / ts[-1] * v[-1]
    return float(np.sum((v[1:] + v[:-1]) / 2 * dts))


def test_foot_zupt_integration_recovers_truth_stride_length(foot: SimulatedRecording) -> None:
    t = foot.samples["t"].to_numpy()
    acc, gyro = _acc(foot), _gyro(foot)
    st = foot.truth.strides
    own = st[st["foot"] == "left"]  # the sensor is on the left foot
    hs = own["t"].to_numpy()
    period = own["stride_time_s"].to_numpy()
    length = own["stride_length_m"].to_numpy()
    consecutive = hs[1:] == hs[:-1] + np.round(period[:-1] * NS).astype(np.int64)
    # from mid-stance of a stride to mid-stance of the next one
    i0 = np.searchsorted(t, hs[:-1] + (0.2 * period[:-1] * NS).astype(np.int64))
    i1 = np.searchsorted(t, hs[1:] + (0.2 * period[1:] * NS).astype(np.int64))
    rel = np.array(
        [
            _zupt_stride(t, acc, gyro, a, b) / length[k] - 1
            for k, (a, b) in enumerate(zip(i0, i1, strict=True))
            if consecutive[k]
        ]
    )
    assert len(rel) > 1000
    assert np.mean(np.abs(rel) < 0.05) > 0.95
    assert np.median(np.abs(rel)) < 0.025
    # stance is flat and still: ~1 g, no rotation beyond noise and bias
    j0 = np.searchsorted(t, hs + NS // 10)
    j1 = np.searchsorted(t, hs + (0.3 * period * NS).astype(np.int64))
    stance = np.zeros(len(t) + 1, dtype=np.int64)
    np.add.at(stance, j0, 1)
    np.add.at(stance, j1, -1)
    stance = np.cumsum(stance[:-1]) > 0
    assert stance.sum() > 1000 * 10
    assert np.all(np.abs(np.linalg.norm(acc[stance], axis=1) - 1) < 0.04)
    assert np.all(np.linalg.norm(gyro[stance], axis=1) < 3.0)


def test_foot_swing_pitch_and_speed_are_human() -> None:
    rec = simulate_day(TUESDAY, placement="foot", rate_hz=100.0, seed=3, evening_run=True)
    walking = _mask(rec, _activity(rec, "walking"))
    gy = np.abs(_gyro(rec)[walking, 1])
    assert 250 < np.percentile(gy, 99.5) < 700  # deg/s, foot angular velocity in swing
    mag = np.linalg.norm(_acc(rec)[walking], axis=1)
    assert np.percentile(mag, 99.9) < 12


def test_stride_scale_multiplies_length_at_the_same_stride_time() -> None:
    base = simulate_day(TUESDAY, seed=6, truth_only=True).truth
    longer = simulate_day(TUESDAY, seed=6, truth_only=True, stride_scale=1.1).truth
    np.testing.assert_array_equal(base.strides["t"], longer.strides["t"])
    np.testing.assert_array_equal(base.strides["stride_time_s"], longer.strides["stride_time_s"])
    np.testing.assert_allclose(
        longer.strides["stride_length_m"], 1.1 * base.strides["stride_length_m"], rtol=1e-9
    )
    np.testing.assert_allclose(longer.strides["speed_mps"], 1.1 * base.strides["speed_mps"])
    pd.testing.assert_series_equal(base.activities["activity"], longer.activities["activity"])


# --------------------------------------------------------------------------------- day plans


@pytest.mark.parametrize("seed", range(10))
def test_workday_plan_looks_like_a_workday(seed: int) -> None:
    plan = workday_plan(TUESDAY, seed=seed, tz=TZ)
    start, end = day_bounds_ns(TUESDAY, TZ)
    assert plan["start"].iloc[0] == start and plan["end"].iloc[-1] == end
    assert np.array_equal(plan["start"].to_numpy()[1:], plan["end"].to_numpy()[:-1])
    assert (plan["end"] > plan["start"]).all()
    assert 5.0 <= _sitting_hours(plan) <= 10.0
    bouts = _bouts_min(plan)
    assert (bouts >= 45).sum() >= 2 and bouts.max() <= 180
    # asleep until 6:30-7:30, in bed again from 22:30-23:30 (local time)
    assert plan["activity"].iloc[0] == "lying" and plan["activity"].iloc[-1] == "lying"
    assert 6.5 <= _local_hour(int(plan["end"].iloc[0])) <= 7.6
    assert 22.4 <= _local_hour(int(plan["start"].iloc[-1])) <= 23.6
    walks = plan[plan["activity"] == "walking"]
    minutes = (walks["end"] - walks["start"]) / NS / 60
    hours = walks["start"].map(_local_hour)
    assert ((minutes >= 10) & (minutes <= 20) & (hours < 10)).any()  # morning commute
    assert ((minutes >= 14.9) & (minutes <= 30) & (hours > 11.5) & (hours < 14)).any()  # lunch
    assert ((walks["speed_mps"] > 0.8) & (walks["speed_mps"] < 1.9)).all()
    assert (plan.loc[~plan["activity"].isin(["walking", "running"]), "speed_mps"] == 0).all()


def test_evening_run_is_forced_or_drawn_by_seed() -> None:
    def runs(plan: pd.DataFrame) -> pd.DataFrame:
        return plan[plan["activity"] == "running"]

    with_run = workday_plan(TUESDAY, seed=3, evening_run=True)
    r = runs(with_run)
    assert len(r) == 1
    assert 25 <= (r["end"].iloc[0] - r["start"].iloc[0]) / NS / 60 <= 45
    assert _local_hour(int(r["start"].iloc[0])) > 17
    assert 2.5 <= r["speed_mps"].iloc[0] <= 4.0
    assert runs(workday_plan(TUESDAY, seed=3, evening_run=False)).empty
    drawn = [not runs(workday_plan(TUESDAY, seed=s)).empty for s in range(60)]
    assert 0.2 < np.mean(drawn) < 0.6


def test_weekend_has_less_sitting_and_no_desk_marathons() -> None:
    work = [_sitting_hours(workday_plan(TUESDAY, seed=s)) for s in range(12)]
    weekend = [_sitting_hours(workday_plan(SATURDAY, seed=s)) for s in range(12)]
    assert np.mean(work) - np.mean(weekend) > 2.0
    assert max(weekend) < min(work)
    sunday = workday_plan(dt.date(2026, 3, 8), seed=1)
    assert _local_hour(int(sunday["end"].iloc[0])) > 7.2  # sleeping in
    forced = workday_plan(TUESDAY, seed=1, weekend=True)
    assert _sitting_hours(forced) < 7


def test_sitting_scale_and_exact_sitting_offset() -> None:
    base = workday_plan(TUESDAY, seed=2)
    shorter = workday_plan(TUESDAY, seed=2, sitting_scale=0.5)
    assert _bouts_min(shorter).max() < _bouts_min(base).max()
    for offset in (-20.0, -7.5, 12.0):
        moved = workday_plan(TUESDAY, seed=2, sitting_offset_min=offset)
        diff_min = (_sitting_hours(moved) - _sitting_hours(base)) * 60
        assert abs(diff_min - offset) < 1e-6
        assert len(moved) == len(base)
        changed = (moved["start"] != base["start"]).sum()
        assert changed == 2  # only the boundary between the late sitting and standing moved


def test_truth_sitting_bouts_are_maximal_sitting_runs(thigh: SimulatedRecording) -> None:
    bouts = thigh.truth.sitting_bouts
    assert list(bouts.columns) == ["start", "end", "duration_s", "posture"]
    np.testing.assert_allclose(bouts["duration_s"], (bouts["end"] - bouts["start"]) / NS)
    assert (bouts["posture"] == "sitting").all()
    np.testing.assert_allclose(bouts["duration_s"] / 60, _bouts_min(thigh.truth.activities))
    a = thigh.truth.activities
    sit = a[a["activity"] == "sitting"]
    assert bouts["duration_s"].sum() == pytest.approx(((sit["end"] - sit["start"]) / NS).sum())


# ------------------------------------------------------------------------------------ weeks


def test_simulate_weeks_log_and_known_adherence_effect() -> None:
    effect_m, effect_min = 0.03, -20.0
    days, log = simulate_weeks(
        "2026-03-02",
        3,
        seed=21,
        truth_only=True,
        adherence_effect_stride_m=effect_m,
        adherence_effect_sitting_min=effect_min,
    )
    assert iter(days) is days  # lazy: nothing simulated yet
    assert list(log.columns)[:4] == ["day", "routine_done", "strength_session", "routine_minutes"]
    assert len(log) == 21 and log["day"].iloc[0] == "2026-03-02"
    assert log["routine_done"].dtype == bool and log["strength_session"].dtype == bool
    done = log["routine_done"].to_numpy()
    assert np.all((log["routine_minutes"] > 0) == done)
    assert log.loc[done, "routine_minutes"].between(6, 16).all()
    adherence = log.groupby("week")["routine_done"].mean().to_numpy()
    np.testing.assert_allclose(log.groupby("week")["adherence_week"].first(), adherence)

    # A twin run without the effect has the same days, strides and stride times; the difference
    # is therefore exactly the modelled effect, with no sampling noise: tolerance 1e-9 m / 1e-6
    # min is float rounding only.
    twin, _ = simulate_weeks(
        "2026-03-02",
        3,
        seed=21,
        truth_only=True,
        adherence_effect_stride_m=0.0,
        adherence_effect_sitting_min=0.0,
    )
    week_diff: dict[int, list[float]] = {}
    for i, (rec, ref) in enumerate(zip(days, twin, strict=True)):
        week = i // 7
        assert rec.day == dt.date(2026, 3, 2) + dt.timedelta(days=i)
        prev = adherence[week - 1] if week else 0.0
        diff = rec.truth.strides["stride_length_m"] - ref.truth.strides["stride_length_m"]
        np.testing.assert_allclose(diff, effect_m * prev, atol=1e-9)
        week_diff.setdefault(week, []).extend(diff)
        sit = _sitting_hours(rec.truth.activities) - _sitting_hours(ref.truth.activities)
        assert sit * 60 == pytest.approx(effect_min * prev, abs=1e-6)
    for week in (1, 2):
        assert np.mean(week_diff[week]) == pytest.approx(effect_m * adherence[week - 1], abs=1e-9)


def test_stride_effect_is_recovered_at_comparable_pace_without_a_twin() -> None:
    """What an analyst can do with the truth alone: compare weeks at comparable pace.

    Raw weekly means of walking strides move by 2-8 mm without any effect (the mix of slow,
    normal and brisk walks differs week to week), comparable to the effect itself (<= 30 mm).
    At comparable pace the mix drops out: per walking segment the mean stride length is a fixed
    function of the mean stride time plus the week's offset, so a quadratic fit per week
    evaluated at T = 1.1 s differs from week 0 by the modelled effect. The residual is the
    stride-to-stride noise (2 %) averaged over a week's segments: < 1 mm over 8 seeds, hence
    the 2 mm tolerance.
    """
    days, log = simulate_weeks("2026-01-05", 4, seed=5, truth_only=True)
    adherence = log.groupby("week")["routine_done"].mean().to_numpy()
    segments: dict[int, list[np.ndarray]] = {}
    for i, rec in enumerate(days):
        st, a = rec.truth.strides, rec.truth.activities
        seg = np.searchsorted(a["start"].to_numpy(), st["t"].to_numpy(), side="right") - 1
        walking = a["activity"].to_numpy()[seg] == "walking"
        by_seg = st[walking].groupby(seg[walking])
        means = np.column_stack(
            [by_seg["stride_time_s"].mean(), by_seg["stride_length_m"].mean(), by_seg.size()]
        )
        segments.setdefault(i // 7, []).append(means)
    at_1_1_s = {}
    for week, parts in segments.items():
        m = np.concatenate(parts)
        at_1_1_s[week] = np.polyval(np.polyfit(m[:, 0], m[:, 1], 2, w=np.sqrt(m[:, 2])), 1.1)
    for week in (1, 2, 3):
        shift = at_1_1_s[week] - at_1_1_s[0]
        assert shift == pytest.approx(0.03 * adherence[week - 1], abs=0.002)


def test_adherence_varies_between_weeks_and_seeds() -> None:
    fractions = []
    for seed in range(4):
        _, log = simulate_weeks("2026-03-02", 6, seed=seed, truth_only=True)
        fractions.append(log.groupby("week")["routine_done"].mean().to_numpy())
        weekly_strength = log.groupby("week")["strength_session"].sum()
        assert weekly_strength.between(0, 3).all()
    assert all(np.ptp(f) > 0 for f in fractions)
    assert len({tuple(f) for f in fractions}) == 4


def test_simulate_weeks_renders_days_lazily_at_25_hz() -> None:
    days, _ = simulate_weeks("2026-03-02", 1, placement="lower_back", seed=3)
    first = next(days)
    assert first.rate_hz == 25.0 and first.placement == "lower_back"
    assert len(first.samples) == 24 * 3600 * 25
    validate_imu(first.samples)
    second = next(days)
    assert second.day == dt.date(2026, 3, 3)
    assert second.truth.strides["t"].iloc[0] > first.truth.strides["t"].iloc[-1]
    # one device: its sample counter runs on across midnight
    assert second.samples["seq"].iloc[0] == first.samples["seq"].iloc[-1] + 1
    assert second.samples["t"].iloc[0] > first.samples["t"].iloc[-1]
    assert second.device_id == first.device_id


@pytest.mark.parametrize("placement", ["wrist", "chest"])
def test_other_placements_render_plausibly(placement: str) -> None:
    rec = simulate_day(SATURDAY, placement=placement, rate_hz=25.0, seed=13)
    validate_imu(rec.samples)
    lying = _mask(rec, _activity(rec, "lying"))
    mag = np.linalg.norm(_acc(rec)[lying], axis=1)
    assert np.mean(np.abs(mag - 1) < 0.03) > 0.99
    assert np.abs(_acc(rec)).max() <= 16 and np.abs(_gyro(rec)).max() <= 2000
