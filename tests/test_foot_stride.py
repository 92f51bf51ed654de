"""Foot-IMU stride length (analysis/foot_stride.py) against motion capture and the simulator.

Real data: the gaitmap example recording (two shoe IMUs at 204.8 Hz with optical motion capture
at 100 Hz). The reference stride length is computed here from the heel marker, never taken from
the module under test. Simulated data: whole days rendered by :mod:`sensors.simulate` with the
default sensor errors, matched against ``truth.strides``.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from analysis.foot_stride import (
    STRIDE_COLUMNS,
    StrideTrajectories,
    foot_strides,
    integrate_strides,
    segment_strides,
    strapdown_stride,
    zero_velocity_mask,
)
from sensors.simulate import SensorErrors, simulate_day
from tests.conftest import shared_file

G = 9.80665
NS = 1_000_000_000
IMU_HZ = 204.8
MOCAP_HZ = 100.0
DAY = "2026-03-04"
TURN_DEG = 90.0
"""A reference stride whose foot turns more than this is reported apart (see the gaitmap test)."""


# --------------------------------------------------------------------------------------------
# gaitmap example data against motion capture
# --------------------------------------------------------------------------------------------


def _gaitmap() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    imu = pd.read_csv(shared_file("gaitmap_foot/imu_sample.csv"), header=[0, 1], index_col=0)
    mocap = pd.read_csv(shared_file("gaitmap_foot/mocap_sample.csv"), header=[0, 1], index_col=0)
    events = pd.read_csv(shared_file("gaitmap_foot/stride_events_sample.csv"))
    return imu, mocap, events


def _marker_xy_m(mocap: pd.DataFrame, marker: str, t_s: np.ndarray) -> np.ndarray:
    """Horizontal marker position (m) at times ``t_s``, interpolated from the 100 Hz mocap."""
    tm = np.arange(len(mocap)) / MOCAP_HZ
    xy = mocap[marker][["x", "y"]].to_numpy() / 1000.0
    return np.column_stack([np.interp(t_s, tm, xy[:, i]) for i in range(2)])


def _chained_length_m(traj, rows: np.ndarray, lever_m: np.ndarray | None) -> float:
    """Length of the vector sum of contiguous strides, each turned into the first's frame, of
    the heel (``lever_m`` from the sensor, sensor frame) or, when None, of the sensor."""
    disp = traj.displacement_m if lever_m is None else traj.point_displacement_m(lever_m)
    total, heading = np.zeros(2), 0.0
    for i in rows:
        c, s = np.cos(heading), np.sin(heading)
        dx, dy = disp[i, :2]
        total += (c * dx - s * dy, s * dx + c * dy)
        heading += traj.heading_change_rad[i]
    return float(np.hypot(*total))


@pytest.mark.parametrize("side", ["left", "right"])
def test_gaitmap_stride_length_against_heel_marker(side: str) -> None:
    """Every reference stride is found; stride length against the heel marker's displacement.

    Reference strides run from ``start`` to ``end`` of stride_events_sample.csv; their length is
    the heel marker's horizontal displacement between those times (mocap interpolated at the IMU
    times). A reference stride is found when one of our strides overlaps it by half of both, or
    when our contiguous strides cover it (the foot rested inside it: the left foot's 180 deg
    turn); those are chained with their heading changes. psoas reports the heel's displacement,
    with the sensor-to-heel lever arm estimated from the recording's own heel rockers (never from
    the motion capture); it must be estimable here. Criteria on ALL strides, turns included:
    MAE <= 3 %, |bias| <= 2 cm. In a turn the heel, the toes and the 5th metatarsal move by
    distances up to 0.2 m apart (printed); there the estimate must also lie within the markers'
    spread (+-0.1 m).
    """
    imu, mocap, events = _gaitmap()
    sensor = imu[f"{side}_sensor"]
    acc_g = sensor[["acc_x", "acc_y", "acc_z"]].to_numpy() / G
    gyro = sensor[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()
    t_ns = np.round(np.arange(len(sensor)) / IMU_HZ * NS).astype(np.int64)

    t0 = time.perf_counter()
    out = foot_strides(t_ns, acc_g, gyro, IMU_HZ, foot=side)
    elapsed = time.perf_counter() - t0
    assert list(out.columns) == list(STRIDE_COLUMNS)
    assert (out["foot"] == side).all() and (out["source"] == "foot_imu").all()
    lever = out.attrs["heel_lever"]
    assert out.attrs["reference"] == "heel", lever.note
    sensor_ref = foot_strides(t_ns, acc_g, gyro, IMU_HZ, foot=side, reference="sensor")
    assert sensor_ref.attrs["reference"] == "sensor"
    assert (sensor_ref["t"].to_numpy() == out["t"].to_numpy()).all()

    # reference: heel displacement between the stride events, from the mocap, in this test
    ref = events[events["foot"] == side]
    rs, re = ref["start"].to_numpy() / IMU_HZ, ref["end"].to_numpy() / IMU_HZ
    heel = "L_FCC" if side == "left" else "R_FCC"
    toe = "L_TOE" if side == "left" else "R_TOE"
    fm5 = "L_FM5" if side == "left" else "R_FM5"
    ref_len = np.linalg.norm(_marker_xy_m(mocap, heel, re) - _marker_xy_m(mocap, heel, rs), axis=1)

    def yaw(t_s: np.ndarray) -> np.ndarray:
        d = _marker_xy_m(mocap, toe, t_s) - _marker_xy_m(mocap, heel, t_s)
        return np.degrees(np.arctan2(d[:, 1], d[:, 0]))

    turn = np.abs((yaw(re) - yaw(rs) + 180.0) % 360.0 - 180.0)
    spread = np.stack(
        [
            np.linalg.norm(_marker_xy_m(mocap, m, re) - _marker_xy_m(mocap, m, rs), axis=1)
            for m in (heel, toe, fm5)
        ]
    )

    # match our strides to the reference strides by time
    ms, me = out["t"].to_numpy() / NS, out["end_t"].to_numpy() / NS
    sample = {int(t): i for i, t in enumerate(t_ns)}
    idx = np.array(
        [[sample[int(a)], sample[int(b)]] for a, b in zip(out["t"], out["end_t"], strict=True)]
    )
    traj = integrate_strides(t_ns, acc_g, gyro, idx, IMU_HZ)
    est = np.full(len(ref), np.nan)
    est_sensor = np.full(len(ref), np.nan)
    how = [""] * len(ref)
    one_to_one = []
    for k, (a, b) in enumerate(zip(rs, re, strict=True)):
        overlap = np.minimum(me, b) - np.maximum(ms, a)
        j = int(np.argmax(overlap))
        if overlap[j] >= 0.5 * (b - a) and overlap[j] >= 0.5 * (me[j] - ms[j]):
            est[k], how[k] = out["stride_length_m"].iloc[j], "1:1"
            est_sensor[k] = sensor_ref["stride_length_m"].iloc[j]
            one_to_one.append(j)
            continue
        # the foot rested inside the reference stride: our contiguous strides covering it
        tol = 0.25 * (b - a)
        rows = np.flatnonzero((ms >= a - tol) & (ms < b) & (me > a) & (me <= b + tol))
        if len(rows) >= 2 and np.all(
            out["t"].to_numpy()[rows[1:]] == out["end_t"].to_numpy()[rows[:-1]]
        ):
            est[k], how[k] = _chained_length_m(traj, rows, lever.offset_m), f"{len(rows)} chained"
            est_sensor[k] = _chained_length_m(traj, rows, None)
    found = np.isfinite(est)
    err = est - ref_len
    pct = 100.0 * err / ref_len
    straight = turn < TURN_DEG

    err_sensor = est_sensor - ref_len
    pct_sensor = 100.0 * err_sensor / ref_len

    def row(label: str, subset: np.ndarray, e: np.ndarray, p: np.ndarray) -> str:
        m = subset & found
        return (
            f"{side:>5} {label:<16} n {int(m.sum()):2d}/{int(subset.sum()):2d}  "
            f"MAE {np.mean(np.abs(p[m])):4.2f} %  bias {100 * np.mean(e[m]):+5.2f} cm  "
            f"max |err| {np.max(np.abs(p[m])):4.1f} % ({100 * np.max(np.abs(e[m])):4.1f} cm)"
        )

    every = np.ones(len(ref), bool)
    print(
        f"\ngaitmap {side}: {len(out)} strides found in {1000 * elapsed:.1f} ms, "
        f"{int(found.sum())}/{len(ref)} reference strides matched "
        f"({sum(h == '1:1' for h in how)} one-to-one)\n"
        f"{side:>5} heel lever arm (heel - sensor, sensor frame x y z): "
        f"{np.array2string(100 * lever.offset_m, precision=1)} cm; {lever.note}\n"
        + row("all, heel", every, err, pct)
        + "\n"
        + row("all, sensor", every, err_sensor, pct_sensor)
        + "\n"
        + row("<90° turn, heel", straight, err, pct)
    )
    for k in np.flatnonzero(~straight):
        print(
            f"{side:>5} turn {turn[k]:.0f} deg ({how[k]}): ours {est[k]:.3f} m "
            f"(sensor {est_sensor[k]:.3f}), heel {ref_len[k]:.3f}, toe {spread[1, k]:.3f}, "
            f"5th metatarsal {spread[2, k]:.3f} m"
        )
    assert found.all(), f"reference strides not found: {np.flatnonzero(~found)}"
    assert np.mean(np.abs(pct)) <= 3.0
    assert abs(np.mean(err)) <= 0.02
    m = straight
    lo, hi = spread.min(axis=0), spread.max(axis=0)
    assert np.all((est[~m] >= lo[~m] - 0.1) & (est[~m] <= hi[~m] + 0.1))
    # plausible side results: sensor clearance of the strides of walking, cadence, uncertainty
    assert out["clearance_m"].iloc[one_to_one].between(0.08, 0.35).all()
    assert (out["clearance_m"] >= 0).all()
    assert out["cadence_spm"].between(40, 200).all()
    assert (out["uncertainty_m"] >= 0).all() and (out["uncertainty_m"] < 0.3).all()


# --------------------------------------------------------------------------------------------
# Simulated days
# --------------------------------------------------------------------------------------------


def _arrays(samples: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        samples["t"].to_numpy(),
        samples[["ax", "ay", "az"]].to_numpy(),
        samples[["gx", "gy", "gz"]].to_numpy(),
    )


@pytest.fixture(scope="module")
def day50():
    return simulate_day(DAY, placement="foot", rate_hz=50, seed=4, evening_run=True)


@pytest.fixture(scope="module")
def day100():
    return simulate_day(DAY, placement="foot", rate_hz=100, seed=2, evening_run=True)


def _gait_segments(rec) -> pd.DataFrame:
    act = rec.truth.activities
    return act[act["activity"].isin(["walking", "running"])]


def _match_truth(out: pd.DataFrame, rec, side: str = "left") -> tuple[np.ndarray, np.ndarray]:
    """Index of the truth stride each of our strides measures (-1: none) and the truth frame.

    A truth stride runs heel strike to heel strike; ours runs mid-stance to mid-stance of the
    same stances, so ours starts after the truth's start and ends after its end, by less than a
    stance.
    """
    truth = rec.truth.strides
    truth = truth[truth["foot"] == side].sort_values("t").reset_index(drop=True)
    ts = truth["t"].to_numpy()
    te = ts + np.round(truth["stride_time_s"].to_numpy() * NS).astype(np.int64)
    ms, me = out["t"].to_numpy(), out["end_t"].to_numpy()
    j = np.clip(np.searchsorted(ts, ms, side="right") - 1, 0, max(len(ts) - 1, 0))
    if len(ts) == 0:
        return np.full(len(out), -1), truth
    span = te[j] - ts[j]
    ok = (ms >= ts[j]) & (ms - ts[j] < 0.7 * span) & (me > te[j]) & (me - te[j] < 0.7 * span)
    return np.where(ok, j, -1), truth


def _report(rec, out: pd.DataFrame, label: str, elapsed_s: float) -> dict[str, tuple]:
    j, truth = _match_truth(out, rec)
    act = rec.truth.activities
    seg = np.searchsorted(act["start"].to_numpy(), truth["t"].to_numpy(), side="right") - 1
    kind = act["activity"].to_numpy()[seg]
    m = j >= 0
    est = out["stride_length_m"].to_numpy()[m]
    ref = truth["stride_length_m"].to_numpy()[j[m]]
    pct = 100.0 * (est - ref) / ref
    matched_kind = kind[j[m]]
    results = {}
    lines = [f"\n{label}: {len(out)} strides in {elapsed_s:.2f} s"]
    for activity in ("walking", "running"):
        a = matched_kind == activity
        n_truth = int((kind == activity).sum())
        if n_truth == 0:
            continue
        mdape = float(np.median(np.abs(pct[a])))
        bias = float(np.mean(pct[a]))
        clearance = float(np.median(out["clearance_m"].to_numpy()[m][a]))
        results[activity] = (int(a.sum()), n_truth, mdape, bias, clearance)
        lines.append(
            f"   {activity:<8} found {int(a.sum())}/{n_truth}  median APE {mdape:.2f} %  "
            f"bias {bias:+.2f} %  p95 APE {np.percentile(np.abs(pct[a]), 95):.2f} %  "
            f"clearance {clearance:.3f} m"
        )
    # strides not in the truth must be gait initiation / termination steps
    extra = out[~m]
    gait = _gait_segments(rec)
    borders = np.concatenate([gait["start"].to_numpy(), gait["end"].to_numpy()])
    near = np.min(
        np.abs(
            np.concatenate([extra["t"].to_numpy(), extra["end_t"].to_numpy()])[:, None]
            - borders[None, :]
        ),
        axis=1,
        initial=np.iinfo(np.int64).max,
    )
    lines.append(f"   {len(extra)} strides outside the truth (gait initiation/termination)")
    print("\n".join(lines))
    n_extra = len(extra)
    near_border = near.reshape(2, n_extra).min(axis=0) <= 2 * NS if n_extra else np.ones(0, bool)
    assert near_border.all(), "a stride was found away from any gait segment"
    return results


def _check_accuracy(results: dict[str, tuple], *, running: bool = True) -> None:
    assert "walking" in results and (not running or "running" in results)
    for activity, (found, n_truth, mdape, bias, clearance) in results.items():
        assert found >= 0.99 * n_truth, activity
        assert mdape < 3.0, activity
        assert abs(bias) < 3.0, activity
        nominal = 0.25 if activity == "running" else 0.12  # the simulator's swing height
        assert abs(clearance - nominal) < 0.03, activity


def test_simulated_day_50hz_whole_day(day50) -> None:
    t_ns, acc, gyro = _arrays(day50.samples)
    t0 = time.perf_counter()
    out = foot_strides(t_ns, acc, gyro, 50.0, foot="left")
    elapsed = time.perf_counter() - t0
    _check_accuracy(_report(day50, out, "simulated 50 Hz whole day, seed 4", elapsed))


def test_simulated_day_100hz_whole_day_timing(day100) -> None:
    t_ns, acc, gyro = _arrays(day100.samples)
    t0 = time.perf_counter()
    out = foot_strides(t_ns, acc, gyro, 100.0, foot="left")
    elapsed = time.perf_counter() - t0
    gait_h = float((_gait_segments(day100).eval("end - start")).sum()) / NS / 3600
    label = f"simulated 100 Hz whole day ({len(t_ns)} samples, {gait_h:.1f} h gait), seed 2"
    _check_accuracy(_report(day100, out, label, elapsed))
    assert elapsed < 10.0, f"a 100 Hz day took {elapsed:.1f} s"
    # the simulated foot pitches about the sensor (no heel): no lever arm, strides at the sensor
    print(f"   {out.attrs['heel_lever_note']}")
    assert out.attrs["reference"] == "sensor" and out.attrs["heel_lever"].offset_m is None


def test_simulated_200hz_gait_parts() -> None:
    rec = simulate_day(DAY, placement="foot", rate_hz=200, seed=3, evening_run=True)
    t_all = rec.samples["t"].to_numpy()
    keep = np.zeros(len(t_all), bool)
    for start, end in _gait_segments(rec)[["start", "end"]].itertuples(index=False):
        keep[np.searchsorted(t_all, start - 10 * NS) : np.searchsorted(t_all, end + 10 * NS)] = 1
    t_ns, acc, gyro = _arrays(rec.samples[keep])  # the cut-out parts join with gaps
    del rec.samples
    t0 = time.perf_counter()
    out = foot_strides(t_ns, acc, gyro, 200.0, foot="left")
    elapsed = time.perf_counter() - t0
    label = f"simulated 200 Hz gait parts ({len(t_ns)} samples), seed 3"
    _check_accuracy(_report(rec, out, label, elapsed))


def test_ideal_sensor_is_exact() -> None:
    """Without sensor errors only the integration itself errs (the default errors' 1 % x-axis
    scale error is what remains above)."""
    rec = simulate_day(
        DAY, placement="foot", rate_hz=100, seed=5, evening_run=True, errors=SensorErrors.ideal()
    )
    act = rec.truth.activities
    t_all = rec.samples["t"].to_numpy()
    keep = np.zeros(len(t_all), bool)
    for activity in ("walking", "running"):  # the first two minutes of the longest bout of each
        bouts = act[act["activity"] == activity]
        start = int(bouts["start"].iloc[int(np.argmax(bouts["end"] - bouts["start"]))])
        keep[np.searchsorted(t_all, start - 5 * NS) : np.searchsorted(t_all, start + 120 * NS)] = 1
    out = foot_strides(*_arrays(rec.samples[keep]), 100.0)
    j, truth = _match_truth(out, rec)
    m = j >= 0
    pct = 100 * (
        out["stride_length_m"].to_numpy()[m] / truth["stride_length_m"].to_numpy()[j[m]] - 1
    )
    print(f"\nideal sensor, 100 Hz: {m.sum()} strides, max |error| {np.max(np.abs(pct)):.3f} %")
    assert m.sum() > 100
    assert np.max(np.abs(pct)) < 0.5


# --------------------------------------------------------------------------------------------
# No gait, gaps, bad samples, frame
# --------------------------------------------------------------------------------------------


def test_no_strides_when_standing_sitting_or_lying(day50) -> None:
    t_ns, acc, gyro = _arrays(day50.samples)
    gait = _gait_segments(day50)
    away = np.ones(len(t_ns), bool)
    for start, end in gait[["start", "end"]].itertuples(index=False):
        away[np.searchsorted(t_ns, start - 2 * NS) : np.searchsorted(t_ns, end + 2 * NS)] = False
    hours = away.sum() / 50 / 3600
    out = foot_strides(t_ns[away], acc[away], gyro[away], 50.0, foot="left")
    print(f"\n{hours:.1f} h of sitting, standing, lying and transitions: {len(out)} strides")
    assert hours > 20 and len(out) == 0
    assert list(out.columns) == list(STRIDE_COLUMNS)
    # a still foot with noise
    rng = np.random.default_rng(1)
    n = 100 * 600
    t = np.arange(n, dtype=np.int64) * (NS // 100)
    still = foot_strides(t, rng.normal([0, 0, 1], 0.01, (n, 3)), rng.normal(0, 1.0, (n, 3)), 100.0)
    assert still.empty and list(still.columns) == list(STRIDE_COLUMNS)


def test_empty_and_short_input() -> None:
    empty = foot_strides(np.empty(0, np.int64), np.empty((0, 3)), np.empty((0, 3)), 100.0)
    assert empty.empty and list(empty.columns) == list(STRIDE_COLUMNS)
    assert empty["t"].dtype == np.int64 and empty["stride_length_m"].dtype == np.float64
    one = foot_strides(np.array([0]), np.array([[0.0, 0, 1]]), np.zeros((1, 3)), 100.0)
    assert one.empty
    with pytest.raises(ValueError):
        foot_strides(np.arange(3), np.zeros((3, 2)), np.zeros((3, 3)), 100.0)


@pytest.fixture(scope="module")
def walk(day100):
    """The first two minutes of the 100 Hz day's longest walk: (t_ns, acc_g, gyro_dps)."""
    act = day100.truth.activities
    walks = act[act["activity"] == "walking"]
    start = int(walks["start"].iloc[int(np.argmax(walks["end"] - walks["start"]))])
    t_ns, acc, gyro = _arrays(day100.samples)
    i0, i1 = np.searchsorted(t_ns, [start - 5 * NS, start + 115 * NS])
    return t_ns[i0:i1].copy(), acc[i0:i1].astype(np.float64), gyro[i0:i1].astype(np.float64)


def _middle_stride(out: pd.DataFrame) -> pd.Series:
    return out.iloc[len(out) // 2]


def test_gap_inside_a_stride_drops_only_that_stride(walk) -> None:
    t_ns, acc, gyro = walk
    base = foot_strides(t_ns, acc, gyro, 100.0)
    assert len(base) > 30
    victim = _middle_stride(base)
    mid = (victim["t"] + victim["end_t"]) // 2
    gap = (t_ns >= mid) & (t_ns < mid + int(0.15 * NS))  # 0.15 s lost in the stride
    cut = foot_strides(t_ns[~gap], acc[~gap], gyro[~gap], 100.0)
    expected = base[base["t"] != victim["t"]].reset_index(drop=True)
    assert len(cut) == len(base) - 1
    assert (cut["t"].to_numpy() == expected["t"].to_numpy()).all()
    np.testing.assert_allclose(cut["stride_length_m"], expected["stride_length_m"], rtol=1e-9)
    # a short gap (< 0.1 s) is integrated with its real duration: the stride stays
    short = (t_ns >= mid) & (t_ns < mid + int(0.03 * NS))
    kept = foot_strides(t_ns[~short], acc[~short], gyro[~short], 100.0)
    assert len(kept) == len(base)
    again = kept[kept["t"] == victim["t"]]["stride_length_m"].iloc[0]
    assert abs(again / victim["stride_length_m"] - 1) < 0.03


def test_non_finite_and_saturated_samples(walk) -> None:
    t_ns, acc, gyro = walk
    base = foot_strides(t_ns, acc, gyro, 100.0)
    victim = _middle_stride(base)
    i = int(np.searchsorted(t_ns, (victim["t"] + victim["end_t"]) // 2))
    acc_bad, gyro_bad = acc.copy(), gyro.copy()
    acc_bad[i, 1] = np.nan  # inside one stride: that stride goes
    gyro_bad[5] = np.inf  # during the standing before the walk: nothing changes
    out = foot_strides(t_ns, acc_bad, gyro_bad, 100.0)
    assert len(out) == len(base) - 1 and victim["t"] not in set(out["t"])
    assert np.isfinite(out.drop(columns=["foot", "source"]).to_numpy(float)).all()
    # clipping at +-2 g and +-250 deg/s (a badly configured sensor): no crash, finite output
    clipped = foot_strides(t_ns, np.clip(acc, -2, 2), np.clip(gyro, -250, 250), 100.0)
    assert np.isfinite(clipped["stride_length_m"]).all()
    assert len(clipped) >= 0.9 * len(base)


def test_frame_agnostic_mounting(walk) -> None:
    t_ns, acc, gyro = walk
    base = foot_strides(t_ns, acc, gyro, 100.0)
    # the sensor mounted turned by 35 deg about z, pitched 20 deg and rolled -15 deg
    a, b, c = np.radians([35.0, 20.0, -15.0])
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rx = np.array([[1, 0, 0], [0, np.cos(c), -np.sin(c)], [0, np.sin(c), np.cos(c)]])
    r = rz @ ry @ rx  # sensor axes expressed in the foot frame: v_sensor = r.T v_foot
    out = foot_strides(t_ns, acc @ r, gyro @ r, 100.0)
    assert len(out) == len(base)
    np.testing.assert_allclose(out["stride_length_m"], base["stride_length_m"], rtol=0.005)


def test_pieces_are_consistent(walk) -> None:
    t_ns, acc, gyro = walk
    rest = zero_velocity_mask(acc, gyro, 100.0)
    strides = segment_strides(t_ns, acc, gyro, 100.0)
    assert rest[strides].all()  # both borders of every stride are at rest
    traj = integrate_strides(t_ns, acc, gyro, strides, 100.0, rest=rest)
    out = foot_strides(t_ns, acc, gyro, 100.0)
    assert len(out) <= len(strides)
    sel = np.isin(t_ns[strides[:, 0]], out["t"].to_numpy())
    np.testing.assert_allclose(traj.length_m[sel], out["stride_length_m"], rtol=1e-12)
    # the single-stride function on a stride's own samples gives about the same length
    a, b = strides[len(strides) // 2]
    pos, vel = strapdown_stride(t_ns[a : b + 1] / NS, acc[a : b + 1], gyro[a : b + 1])
    assert np.allclose(vel[[0, -1]], 0.0, atol=1e-9)
    assert abs(np.hypot(*pos[-1, :2]) / traj.length_m[len(strides) // 2] - 1) < 0.01


def test_strapdown_of_a_known_translation() -> None:
    """A level foot sliding 1.0 m forward (minimum jerk, 0.5 s) and lifted 0.1 m, at 200 Hz."""
    rate = 200.0
    t = np.arange(0, 1.0 + 1e-9, 1 / rate)
    s = np.clip((t - 0.25) / 0.5, 0, 1)
    inside = (s > 0) & (s < 1)
    # second time derivatives (m/s^2) of x = 10s^3 - 15s^4 + 6s^5 and z = 0.1 * 64 s^3 (1 - s)^3
    ax_mps2 = inside * (60 * s - 180 * s**2 + 120 * s**3) / 0.5**2
    az_mps2 = inside * 0.1 * 64 * (6 * s - 36 * s**2 + 60 * s**3 - 30 * s**4) / 0.5**2
    acc_g = np.column_stack([ax_mps2 / G, np.zeros_like(t), 1.0 + az_mps2 / G])
    pos, _ = strapdown_stride(t, acc_g, np.zeros((len(t), 3)))
    assert abs(pos[-1, 0] - 1.0) < 2e-3 and abs(pos[-1, 1]) < 1e-9
    assert abs(pos[:, 2].max() - 0.1) < 2e-3


# --------------------------------------------------------------------------------------------
# Heel lever arm
# --------------------------------------------------------------------------------------------


def _still_trajectories(heading_rad: np.ndarray, disp_xy: np.ndarray) -> StrideTrajectories:
    k = len(heading_rad)
    up = np.tile([0.0, 0.0, 1.0], (k, 1))
    disp = np.column_stack([disp_xy, np.zeros(k)])
    z = np.zeros((k, 3))
    return StrideTrajectories(disp, np.zeros(k), z, z, np.ones(k), heading_rad, up, up, z)


def test_heel_term_straight_and_turn_on_the_spot() -> None:
    r = np.array([-0.07, 0.045, -0.05])  # heel - sensor, sensor frame (foot flat: level frame)
    straight = _still_trajectories(np.zeros(3), np.array([[1.3, 0.0], [0.9, 0.1], [0.0, 0.0]]))
    np.testing.assert_array_equal(straight.point_displacement_m(r), straight.displacement_m)
    psi = np.radians([-170.0, -90.0, -10.0, 5.0, 45.0, 120.0, 166.0, 180.0])
    turn = _still_trajectories(psi, np.zeros((len(psi), 2)))
    heel = turn.point_displacement_m(r)
    np.testing.assert_allclose(
        np.hypot(heel[:, 0], heel[:, 1]), 2 * np.hypot(r[0], r[1]) * np.sin(np.abs(psi) / 2)
    )
    np.testing.assert_allclose(heel[:, 2], 0.0, atol=1e-15)
    # the same through the strapdown: a level foot turning 166 deg about its sensor at 200 Hz
    rate, angle = 200.0, np.radians(166.0)
    t = np.arange(0, 1.5 + 1e-9, 1 / rate)
    s = np.clip((t - 0.5) / 0.5, 0, 1)
    rate_dps = np.degrees(angle) * (30 * s**2 - 60 * s**3 + 30 * s**4) / 0.5
    gyro = np.column_stack([np.zeros_like(t), np.zeros_like(t), rate_dps])
    acc = np.tile([0.0, 0.0, 1.0], (len(t), 1))
    t_ns = np.round(t * NS).astype(np.int64)
    traj = integrate_strides(t_ns, acc, gyro, np.array([[0, len(t) - 1]]), rate)
    assert abs(traj.heading_change_rad[0] - angle) < 1e-3
    assert np.hypot(*traj.displacement_m[0, :2]) < 1e-9
    heel = traj.point_displacement_m(r)[0]
    assert abs(np.hypot(heel[0], heel[1]) - 2 * np.hypot(r[0], r[1]) * np.sin(angle / 2)) < 1e-4


def _rotation(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices (n, 3, 3) about the unit ``axis`` by ``angle`` (n,) (Rodrigues)."""
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    a = np.asarray(angle)[:, None, None]
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * (k @ k)


def test_heel_rocker_recovers_the_pivot() -> None:
    """A rigid foot rolling onto its heel about a fixed pivot on the floor at 200 Hz: toes down
    by 22 deg about (mostly) the lateral axis in 0.1 s, then a 12 deg roll in 0.1 s to flat (two
    axes: one fixed axis leaves the offset along it unobservable). The estimated sensor position
    relative to the pivot must be the simulated one."""
    rate = 200.0
    rho = np.array([0.07, 0.04, 0.06])  # sensor - pivot (sensor frame)
    u1 = np.array([0.1, 1.0, 0.05]) / np.linalg.norm([0.1, 1.0, 0.05])
    u2 = np.array([1.0, 0.0, 0.1]) / np.linalg.norm([1.0, 0.0, 0.1])
    a1, a2, d = np.radians(22.0), np.radians(12.0), 0.1
    t = np.arange(0, 1.2 + 1e-9, 1 / rate)
    n = len(t)
    acc_world, gyro = np.zeros((n, 3)), np.zeros((n, 3))

    def min_jerk(t0: float, amp: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Angle from -amp to 0 over [t0, t0 + d], its rate and its acceleration."""
        s = np.clip((t - t0) / d, 0, 1)
        inside = (s > 0) & (s < 1)
        return (
            amp * (10 * s**3 - 15 * s**4 + 6 * s**5) - amp,
            inside * amp * (30 * s**2 - 60 * s**3 + 30 * s**4) / d,
            inside * amp * (60 * s - 180 * s**2 + 120 * s**3) / d**2,
        )

    first, first_rate, first_acc = min_jerk(0.5, a1)
    second, second_rate, second_acc = min_jerk(0.5 + d, a2)
    axis1 = _rotation(u2, np.array([-a2]))[0] @ u1  # world axis of the first rotation
    rot = _rotation(u2, second) @ _rotation(u1, first)  # sensor -> world
    p = rot @ rho  # sensor position, pivot at the origin
    for axis, w, dw in ((axis1, first_rate, first_acc), (u2, second_rate, second_acc)):
        u_x_p = np.cross(axis, p)
        acc_world += dw[:, None] * u_x_p + w[:, None] ** 2 * np.cross(axis, u_x_p)
        gyro += np.degrees(np.einsum("nji,j->ni", rot, axis) * w[:, None])
    specific = acc_world + np.array([0.0, 0.0, G])
    acc_g = np.einsum("nji,nj->ni", rot, specific) / G  # R^T f
    # the impact at initial contact, as on a real shoe (+3 g then -3 g: no net velocity change)
    contact = int(np.searchsorted(t, 0.5))
    acc_g[contact, 2] += 3.0
    acc_g[contact + 1, 2] -= 3.0
    t_ns = np.round(t * NS).astype(np.int64)
    strides = np.array([[round(0.25 * rate), round(0.95 * rate)]])
    traj = integrate_strides(t_ns, acc_g, gyro, strides, rate)
    print(f"\nheel rocker: pivot offset {traj.pivot_offset_m[0]} m, simulated {rho}")
    np.testing.assert_allclose(traj.pivot_offset_m[0], rho, atol=0.003)
