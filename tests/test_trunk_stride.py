"""Lower-back gait and stride length (analysis.trunk_stride) against real and simulated truth.

Real: the Mobilise-D HA001 recording with its INDIP reference walking bouts. Simulated: full days
of ``sensors.simulate`` at 50, 100 and 200 Hz, whose truth strides are known exactly. Figures are
printed (run with ``-s`` to see them) and the accuracy targets asserted.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import time

import numpy as np
import pandas as pd
import pytest
import scipy.io

from analysis.trunk_stride import (
    PENDULUM_CORRECTION,
    SOURCE,
    detect_turns,
    gait_bouts,
    initial_contacts,
    pendulum_step_length_m,
    step_vertical_displacement_m,
    trunk_strides,
    vertical_acceleration_g,
    yaw_rate_dps,
)
from sensors.simulate import TRUNK_PENDULUM_CORRECTION, SensorErrors, simulate_day
from tests.conftest import shared_file

NS = 1_000_000_000
DAY = dt.date(2026, 3, 10)  # a Tuesday; with its evening run
SEED = 3
HEIGHT_M = 0.95
# sensors.simulate renders the trunk with Zijlstra & Hof's correction (h = l - sqrt(l^2 -
# (step/2K)^2), K = 1.25, see its module docstring): the default correction recovers its truth.
SIM_CORRECTION = TRUNK_PENDULUM_CORRECTION
NOISY = SensorErrors(
    noise_g=0.008, bias_g=(0.03, -0.02, 0.025), scale=(1.02, 0.985, 1.01), jitter_s=0.001
)
COLUMNS = [
    "t",
    "foot",
    "stride_length_m",
    "stride_time_s",
    "cadence_spm",
    "speed_mps",
    "uncertainty_m",
    "source",
]
GAIT = ("walking", "running")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


@functools.cache
def _sim(rate_hz: float, errors: SensorErrors = SensorErrors()):
    return simulate_day(
        DAY,
        placement="lower_back",
        rate_hz=rate_hz,
        seed=SEED,
        sensor_height_m=HEIGHT_M,
        evening_run=True,
        errors=errors,
    )


def _arrays(samples: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        samples["t"].to_numpy(),
        samples[["ax", "ay", "az"]].to_numpy(),
        samples[["gx", "gy", "gz"]].to_numpy(),
    )


def _activity_at(activities: pd.DataFrame, t_ns: np.ndarray) -> np.ndarray:
    i = np.searchsorted(activities["start"].to_numpy(), t_ns, side="right") - 1
    return activities["activity"].to_numpy(dtype=object)[i]


def _match(truth: pd.DataFrame, ours: pd.DataFrame) -> pd.DataFrame:
    """Each truth stride with our stride starting nearest to it (within half a step), or NaN."""
    tt = truth["t"].to_numpy()
    ot = ours["t"].to_numpy()
    out = truth.copy()
    if not len(ot):
        out["ours_length_m"] = np.nan
        out["ours_cadence_spm"] = np.nan
        return out
    j = np.clip(np.searchsorted(ot, tt), 1, max(1, len(ot) - 1))
    j = np.where(np.abs(ot[j - 1] - tt) < np.abs(ot[j] - tt), j - 1, j) if len(ot) > 1 else j * 0
    near = np.abs(ot[j] - tt) <= 0.25 * truth["stride_time_s"].to_numpy() * NS
    out["ours_length_m"] = np.where(near, ours["stride_length_m"].to_numpy()[j], np.nan)
    out["ours_cadence_spm"] = np.where(near, ours["cadence_spm"].to_numpy()[j], np.nan)
    out["matched"] = near
    return out


def _crop_to_gait(rec, margin_s: float = 60.0) -> pd.DataFrame:
    acts = rec.truth.activities
    gait = acts[acts["activity"].isin(GAIT)]
    t = rec.samples["t"].to_numpy()
    keep = np.zeros(len(t), bool)
    for s, e in zip(gait["start"], gait["end"], strict=True):
        a, b = np.searchsorted(t, [s - margin_s * NS, e + margin_s * NS])
        keep[a:b] = True
    return rec.samples[keep]


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------


def test_pendulum_inverts_the_simulated_centre_of_mass_model():
    step = np.linspace(0.2, 0.9, 15)
    for height in (0.85, 0.95, 1.05):
        h = height - np.sqrt(height**2 - (step / 2) ** 2)  # sensors.simulate's CoM excursion
        np.testing.assert_allclose(pendulum_step_length_m(h, height, 1.0), step, rtol=1e-12)
        np.testing.assert_allclose(pendulum_step_length_m(h, height), PENDULUM_CORRECTION * step)
    assert pendulum_step_length_m(np.array([0.0, -0.01]), 0.95).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError):
        pendulum_step_length_m(np.array([0.01]), 0.0)


@pytest.mark.parametrize("rate_hz", [50.0, 100.0, 200.0])
def test_step_displacement_recovers_a_periodic_centre_of_mass_path(rate_hz):
    # CoM height z = h/2 (1 - cos 2 pi phase) per step, lowest at each contact; steps of varying
    # duration T and excursion h = A T^2 / (2 pi^2) (so the acceleration A at contact, and the
    # whole signal, stays continuous); the accelerometer adds an offset (drift) and noise.
    rng = np.random.default_rng(1)
    step_s = rng.uniform(0.45, 0.75, 14)
    h_true = 3.0 * step_s**2 / (2 * np.pi**2)  # 3 m/s^2 at contact: 3.1-8.5 cm
    contacts_s = np.concatenate([[0.0], np.cumsum(step_s)])
    t = np.arange(0, contacts_s[-1], 1 / rate_hz)
    k = np.searchsorted(contacts_s, t, side="right") - 1
    w = 2 * np.pi / step_s[k]
    acc_mps2 = h_true[k] / 2 * w**2 * np.cos(w * (t - contacts_s[k]))
    a_up_g = acc_mps2 / 9.80665 + 0.013 + rng.normal(0, 0.002, len(t))
    ic = contacts_s[1:-1] * rate_hz  # fractional sample positions
    h = step_vertical_displacement_m(a_up_g, ic, rate_hz)
    # the trapezoid rule loses ~0.7 % of the excursion at 30 samples per step (50 Hz)
    np.testing.assert_allclose(h, h_true[1:-1], rtol=0.02)
    with pytest.raises(ValueError):
        step_vertical_displacement_m(a_up_g, ic[::-1], rate_hz)
    assert len(step_vertical_displacement_m(a_up_g, ic[:1], rate_hz)) == 0


def test_bouts_and_contacts_on_a_simulated_walk():
    rec = _sim(100.0)
    acts = rec.truth.activities
    walk = acts[(acts["activity"] == "walking")].iloc[0]
    s = rec.samples
    sel = (s["t"] >= walk["start"] - 20 * NS) & (s["t"] < walk["end"] + 20 * NS)
    t, acc, _ = _arrays(s[sel])
    a_up, f_v = vertical_acceleration_g(acc, 100.0)
    assert abs(np.median(f_v) - 1.0) < 0.03 and abs(np.median(a_up)) < 0.01
    bouts, step_time = gait_bouts(a_up, 100.0)
    assert np.isfinite(step_time).sum() == (bouts["end"] - bouts["start"]).sum()
    assert len(bouts) >= 1
    truth = rec.truth.strides
    truth = truth[(truth["t"] >= walk["start"]) & (truth["t"] < walk["end"])]
    step_truth = truth["stride_time_s"].median() / 2
    longest = bouts.iloc[int(np.argmax(bouts["end"] - bouts["start"]))]
    # the bout's step time is the coarse autocorrelation estimate that only sets the contact
    # detector's smoothing width (cadence itself comes from the contacts: 0.1 % error)
    assert longest["step_time_s"] == pytest.approx(step_truth, rel=0.1)
    ic_t = t[0] + np.round(initial_contacts(a_up, 100.0, bouts) * 1e7).astype(np.int64)
    heel_strikes = np.sort(truth["t"].to_numpy())
    # every heel strike has a contact next to it: the simulator pushes the trunk up hardest there
    dist = np.abs(heel_strikes[:, None] - ic_t[None, :]).min(axis=1) / NS
    assert np.median(dist) < 0.01
    assert np.quantile(dist, 0.99) < 0.03


# --------------------------------------------------------------------------------------------
# Real data: Mobilise-D HA001 against the INDIP reference bouts
# --------------------------------------------------------------------------------------------

HA001_TRIALS = [("Test5", "Trial1"), ("Test5", "Trial2"), ("Test11", "Trial1")]


def _ref_turning(wb: dict, start_s: np.ndarray, end_s: np.ndarray) -> np.ndarray:
    """Which reference strides [start, end] (s) overlap one of the bout's INDIP turns."""
    t0 = np.atleast_1d(np.asarray(wb["Turn_Start"], dtype=np.float64))
    t1 = np.atleast_1d(np.asarray(wb["Turn_End"], dtype=np.float64))
    return ((start_s[:, None] < t1[None, :]) & (end_s[:, None] > t0[None, :])).any(axis=1)


def test_real_ha001_bouts_against_indip_reference(capsys):
    data = scipy.io.loadmat(shared_file("mobgap_lowerback/HA001/data.mat"), simplify_cells=True)
    info = json.loads(shared_file("mobgap_lowerback/HA001/participant.json").read_text())
    height = float(info["sensor_height_m"])
    rows, strides = [], []
    for test, trial in HA001_TRIALS:
        rec = data["data"]["TimeMeasure1"][test][trial]
        lower_back = rec["SU"]["LowerBack"]
        acc = np.asarray(lower_back["Acc"], dtype=np.float64)
        rate = float(lower_back["Fs"]["Acc"])
        assert rate == 100.0
        # the Mobilise-D LowerBack frame has x along the trunk, +1 g upright, like psoas'
        assert 0.85 < np.median(acc[:, 0]) < 1.05
        t = np.round(np.arange(len(acc)) * NS / rate).astype(np.int64)
        ours = trunk_strides(t, acc, lower_back["Gyr"], rate, height)
        assert list(ours.columns) == COLUMNS
        # without the gyroscope: the same strides, all with a length (no turn detection)
        no_gyro = trunk_strides(t, acc, None, rate, height)
        np.testing.assert_array_equal(no_gyro["t"], ours["t"])
        assert no_gyro["stride_length_m"].notna().all()
        start_s = ours["t"].to_numpy() / NS
        end_s = start_s + ours["stride_time_s"].to_numpy()
        bouts = rec["Standards"]["INDIP"]["MicroWB"]
        for i, wb in enumerate([bouts] if isinstance(bouts, dict) else bouts):
            ref_ic = np.asarray(wb["Stride_InitialContacts"], dtype=np.float64).reshape(-1, 2)
            ref_sl = np.asarray(wb["Stride_Length"], dtype=np.float64).ravel()
            r0, r1 = ref_ic[:, 0] / rate, ref_ic[:, 1] / rate
            ref_turn = _ref_turning(wb, r0, r1)
            # stride by stride: ours that starts and ends with the reference's (+-0.1/0.15 s)
            if len(start_s):
                j = np.abs(start_s[None, :] - r0[:, None]).argmin(axis=1)
                same = (np.abs(start_s[j] - r0) <= 0.1) & (np.abs(end_s[j] - r1) <= 0.15)
                for k in np.flatnonzero(same):
                    strides.append(
                        {
                            "test": test,
                            "start_s": r0[k],
                            "ref_sl_m": ref_sl[k],
                            "ref_turn": bool(ref_turn[k]),
                            "our_sl_m": ours["stride_length_m"].iloc[j[k]],
                            "no_gyro_sl_m": no_gyro["stride_length_m"].iloc[j[k]],
                        }
                    )
            if wb["NumberStrides"] < 4:
                continue
            sel = (start_s >= wb["Start"]) & (start_s <= wb["End"])
            mine = ours[sel]
            rows.append(
                {
                    "test": test,
                    "bout": i,
                    "start_s": wb["Start"],
                    "ref_n": int(wb["NumberStrides"]),
                    "ref_turn_n": int(ref_turn.sum()),
                    "our_n": len(mine),
                    "our_turn_n": int(mine["stride_length_m"].isna().sum()),
                    "ref_sl_m": wb["AverageStrideLength"],
                    "ref_straight_sl_m": np.nanmean(ref_sl[~ref_turn])
                    if (~ref_turn).any()
                    else np.nan,
                    "no_gyro_sl_m": no_gyro["stride_length_m"][sel].mean(),
                    "our_sl_m": mine["stride_length_m"].mean(),
                    "ref_cad_spm": wb["Cadence"],
                    "our_cad_spm": mine["cadence_spm"].mean(),
                }
            )
    table = pd.DataFrame(rows)
    table["no_gyro_err_pct"] = 100 * (table["no_gyro_sl_m"] / table["ref_sl_m"] - 1)
    table["sl_err_pct"] = 100 * (table["our_sl_m"] / table["ref_sl_m"] - 1)
    table["straight_err_pct"] = 100 * (table["our_sl_m"] / table["ref_straight_sl_m"] - 1)
    table["cad_err_pct"] = 100 * (table["our_cad_spm"] / table["ref_cad_spm"] - 1)
    found = table["our_n"] > 0
    with_length = table["our_sl_m"].notna()
    no_gyro_mape = table.loc[found, "no_gyro_err_pct"].abs().mean()
    sl_mape = table.loc[with_length, "sl_err_pct"].abs().mean()
    straight_mape = table.loc[with_length, "straight_err_pct"].abs().mean()
    cad_mape = table.loc[found, "cad_err_pct"].abs().mean()
    straight = found & (table["test"] == "Test5")
    per = pd.DataFrame(strides)
    per["no_gyro_err_pct"] = 100 * (per["no_gyro_sl_m"] / per["ref_sl_m"] - 1)
    by_turn = per.groupby(["test", "ref_turn"]).agg(
        n=("no_gyro_err_pct", "size"),
        pendulum_bias_pct=("no_gyro_err_pct", "mean"),
        ours_nan=("our_sl_m", lambda x: int(x.isna().sum())),
    )
    with capsys.disabled():
        print(f"\nHA001 lower back vs INDIP MicroWB (>= 4 strides), K = {PENDULUM_CORRECTION}")
        print(table.round(3).to_string(index=False))
        print(
            f"bouts found {int(found.sum())}/{len(table)}, with a length {int(with_length.sum())};"
            f" stride length MAPE without the gyroscope {no_gyro_mape:.1f} %, with turns "
            f"removed {sl_mape:.1f} % against all reference strides and {straight_mape:.1f} % "
            f"against the reference's strides outside turns (target 10 %); cadence MAPE "
            f"{cad_mape:.1f} % (target 5 %); straight walks (Test5) stride length MAPE "
            f"{table.loc[straight, 'sl_err_pct'].abs().mean():.1f} %"
        )
        print("stride by stride (matched to the reference), pendulum error in and out of turns:")
        print(by_turn.round(1).to_string())
    assert len(table) == 8
    assert found.sum() >= 7  # the 4-stride shuffle at 28.7 s (0.58 m strides) is not found
    assert cad_mape <= 5.0
    assert table.loc[straight, "sl_err_pct"].abs().max() <= 10.0
    # Why Test11 was too long: stride by stride, the pendulum overestimates the reference's
    # turning strides by ~+50 % (the trunk bobs as in straight walking while the feet turn on
    # the spot) and its straight strides by ~+20 %. Every matched turning stride is now NaN.
    turning = per[per["ref_turn"]]
    assert len(turning) >= 8 and turning["our_sl_m"].isna().all()
    assert turning["no_gyro_err_pct"].mean() > 30.0
    # Honest figures (not tuned on this person): ~23.5 % without the gyroscope, ~21 % with turns
    # removed against all reference strides (the bout means then cover different strides: the
    # reference's short turning ones are missing from ours), ~9 % against the reference's
    # straight strides. Guard them against regressions only.
    assert no_gyro_mape <= 30.0
    assert sl_mape <= 25.0
    assert straight_mape <= 12.0


def test_turn_detection_on_a_synthetic_yaw_rate():
    rate = 100.0
    t = np.arange(0, 30, 1 / rate)
    sway = 25.0 * np.sin(2 * np.pi * 0.9 * t)  # pelvic yaw oscillation of straight walking
    assert len(detect_turns(sway, rate)) == 0
    turn = np.where((t >= 10) & (t < 12), 45.0 * np.sin(np.pi * (t - 10) / 2) ** 2, 0.0)  # 45 deg
    small = np.where((t >= 20) & (t < 21), 40.0 * np.sin(np.pi * (t - 20)) ** 2, 0.0)  # 20 deg
    found = detect_turns(sway + turn - small, rate)
    assert len(found) == 1
    a, b = found[0] / rate
    assert 9.0 < a < 10.5 and 11.5 < b < 13.0
    # the yaw rate is the angular velocity about gravity, whatever the sensor's tilt
    tilt = np.deg2rad(20.0)
    up = np.array([np.cos(tilt), np.sin(tilt), 0.0])
    acc = np.tile(up, (len(t), 1))
    gyro = (turn + sway)[:, None] * up[None, :]
    np.testing.assert_allclose(yaw_rate_dps(acc, gyro, rate), turn + sway, atol=1e-9)


# --------------------------------------------------------------------------------------------
# Simulated days
# --------------------------------------------------------------------------------------------


def _evaluate(rec, samples: pd.DataFrame, label: str, capsys) -> pd.DataFrame:
    t, acc, gyro = _arrays(samples)
    ours = trunk_strides(t, acc, gyro, rec.rate_hz, rec.sensor_height_m, correction=SIM_CORRECTION)
    assert list(ours.columns) == COLUMNS
    assert ours["t"].is_monotonic_increasing
    assert (ours["source"] == SOURCE).all() and (ours["foot"] == "unknown").all()
    acts = rec.truth.activities
    truth = rec.truth.strides.assign(activity=_activity_at(acts, rec.truth.strides["t"]))
    matched = _match(truth, ours)
    lines = []
    for activity in GAIT:
        m = matched[matched["activity"] == activity]
        found = m["matched"].mean()
        cad_err = 100 * (m["ours_cadence_spm"] / m["cadence_spm"] - 1)
        sl_err = 100 * (m["ours_length_m"] / m["stride_length_m"] - 1)
        text = (
            f"{label} {activity:8s} truth strides {len(m):5d}, found {100 * found:5.1f} %; "
            f"cadence median |err| {cad_err.abs().median():.2f} % (bias {cad_err.median():+.2f} %)"
        )
        if activity == "walking":
            text += (
                f"; stride length median |err| {sl_err.abs().median():.2f} % (bias "
                f"{sl_err.median():+.2f} %, 95th percentile {sl_err.abs().quantile(0.95):.1f} %)"
            )
        else:
            nan = m.loc[m["matched"], "ours_length_m"].isna().mean()
            text += f"; stride length NaN (no pendulum) for {100 * nan:.1f} %"
        lines.append(text)
        assert found > 0.95
        assert cad_err.abs().median() < 2.0
        assert abs(cad_err.median()) < 2.0
        if activity == "walking":
            assert sl_err.notna().mean() > 0.99 * found
            assert sl_err.abs().median() < 8.0
            assert abs(sl_err.median()) < 8.0
        else:
            # running has no pendulum: NaN length, never an invented one
            assert m.loc[m["matched"], "ours_length_m"].isna().all()
    # nothing while sitting, standing, lying (or in posture transitions)
    where = _activity_at(acts, ours["t"].to_numpy())
    still = ~np.isin(where, GAIT)
    lines.append(f"{label} strides outside walking/running: {int(still.sum())}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert still.sum() == 0
    return ours


@pytest.mark.parametrize("rate_hz", [50.0, 100.0, 200.0])
def test_simulated_day_stride_length_and_cadence(rate_hz, capsys):
    rec = _sim(rate_hz)
    samples = _crop_to_gait(rec) if rate_hz > 100 else rec.samples
    _evaluate(rec, samples, f"sim {rate_hz:g} Hz", capsys)


def test_simulated_day_with_sensor_errors_and_packet_loss(capsys):
    rec = simulate_day(
        DAY,
        placement="lower_back",
        rate_hz=50.0,
        seed=SEED + 1,
        errors=NOISY,
        packet_loss=0.01,
        evening_run=True,
    )
    assert rec.sensor_height_m is not None  # the person's leg length, 0.88-1.02 m
    _evaluate(rec, rec.samples, "sim 50 Hz noisy, 1 % packets lost", capsys)


def test_simulated_running_signal_does_not_depend_on_stride_length():
    """Why running strides have no length: the simulator's trunk signal does not carry it."""
    kw = dict(placement="lower_back", rate_hz=25.0, seed=SEED, evening_run=True)
    a, b = simulate_day(DAY, **kw), simulate_day(DAY, stride_scale=1.3, **kw)
    acts = a.truth.activities
    t = a.samples["t"].to_numpy()
    axes = ["ax", "ay", "az"]
    diff = np.abs(a.samples[axes].to_numpy() - b.samples[axes].to_numpy())
    where = _activity_at(acts, t)
    assert diff[where == "running"].max() == 0.0
    assert diff[where == "walking"].max() > 0.05  # walking's CoM excursion follows step length


def test_no_strides_without_gait():
    rng = np.random.default_rng(0)
    n = 60 * 50
    t = np.arange(n, dtype=np.int64) * (NS // 50)
    still = np.column_stack([np.ones(n), np.zeros(n), np.zeros(n)]) + rng.normal(0, 0.004, (n, 3))
    assert trunk_strides(t, still, None, 50.0, 0.95).empty
    # a slow sway at 0.3 Hz (not a step frequency) and a sit-to-stand-like bump
    sway = still.copy()
    sway[:, 0] += 0.05 * np.sin(2 * np.pi * 0.3 * t / NS)
    sway[1000:1100, 0] += 0.3 * np.sin(np.linspace(0, 2 * np.pi, 100))
    assert trunk_strides(t, sway, None, 50.0, 0.95).empty
    empty = trunk_strides(t[:1], still[:1], None, 50.0, 0.95)
    assert list(empty.columns) == COLUMNS and empty.empty


def _long_walk(rec, seconds: float = 120.0) -> pd.DataFrame:
    acts = rec.truth.activities
    walks = acts[acts["activity"] == "walking"]
    walk = walks.iloc[int(np.argmax(walks["end"] - walks["start"]))]
    assert (walk["end"] - walk["start"]) / NS > seconds + 20
    s = rec.samples
    a = walk["start"] - 10 * NS
    return s[(s["t"] >= a) & (s["t"] < a + (seconds + 20) * NS)]


def test_gap_inside_a_bout_drops_only_the_strides_across_it():
    rec = _sim(50.0)
    piece = _long_walk(rec)
    t, acc, gyro = _arrays(piece)
    full = trunk_strides(t, acc, gyro, 50.0, HEIGHT_M)
    gap0 = t[0] + 70 * NS
    gap1 = gap0 + NS // 2  # 0.5 s of samples lost
    keep = (t < gap0) | (t >= gap1)
    cut = trunk_strides(t[keep], acc[keep], gyro[keep], 50.0, HEIGHT_M)
    end = cut["t"].to_numpy() + np.round(cut["stride_time_s"].to_numpy() * NS).astype(np.int64)
    assert not ((cut["t"].to_numpy() < gap0) & (end > gap1)).any()  # nothing spans the gap
    full_end = full["t"].to_numpy() + np.round(full["stride_time_s"] * NS).astype(np.int64)
    across = (full["t"].to_numpy() < gap1) & (full_end > gap0)
    clear = full[~across]
    assert 1 <= across.sum() <= 4  # the strides across a 0.5 s gap (both feet)
    ct, ft = cut["t"].to_numpy(), clear["t"].to_numpy()
    m = np.clip(np.searchsorted(ct, ft), 1, len(ct) - 1)
    m = np.where(np.abs(ct[m - 1] - ft) < np.abs(ct[m] - ft), m - 1, m)
    same = np.abs(ct[m] - ft) < 0.02 * NS  # the grid restarts after the gap: sub-sample shifts
    # all others survive but at most one or two next to the gap, where a contact sits on its edge
    assert same.sum() >= len(clear) - 2
    np.testing.assert_allclose(
        cut["stride_length_m"].to_numpy()[m[same]],
        clear["stride_length_m"].to_numpy()[same],
        rtol=0.03,
    )
    assert len(cut) == same.sum()  # and no new ones


def test_unknown_sensor_height_gives_cadence_but_no_length():
    rec = _sim(50.0)
    piece = _long_walk(rec, 60.0)
    t, acc, gyro = _arrays(piece)
    with_h = trunk_strides(t, acc, gyro, 50.0, HEIGHT_M)
    without = trunk_strides(t, acc, None, 50.0, None)
    assert len(without) == len(with_h) > 50
    assert without["stride_length_m"].isna().all()
    assert without["speed_mps"].isna().all() and without["uncertainty_m"].isna().all()
    np.testing.assert_array_equal(without["t"], with_h["t"])
    np.testing.assert_allclose(without["cadence_spm"], with_h["cadence_spm"])
    assert with_h["stride_length_m"].notna().all()
    np.testing.assert_allclose(
        with_h["speed_mps"], with_h["stride_length_m"] / with_h["stride_time_s"]
    )
    np.testing.assert_allclose(with_h["cadence_spm"], 120.0 / with_h["stride_time_s"])


def test_input_validation():
    t = np.arange(10, dtype=np.int64) * NS // 50
    acc = np.zeros((10, 3))
    with pytest.raises(ValueError):
        trunk_strides(t, acc[:, :2], None, 50.0, 0.95)
    with pytest.raises(ValueError):
        trunk_strides(t[::-1], acc, None, 50.0, 0.95)
    with pytest.raises(ValueError):
        trunk_strides(t, acc, None, 50.0, -1.0)
    with pytest.raises(ValueError):
        trunk_strides(t, acc, np.zeros((9, 3)), 50.0, 0.95)


def test_one_simulated_100hz_day_takes_a_few_seconds(capsys):
    rec = _sim(100.0)
    t, acc, gyro = _arrays(rec.samples)
    assert len(t) == 8_640_000
    best = math.inf
    for _ in range(2):
        t0 = time.perf_counter()
        out = trunk_strides(t, acc, gyro, 100.0, HEIGHT_M)
        best = min(best, time.perf_counter() - t0)
    with capsys.disabled():
        print(f"\ntrunk_strides, 100 Hz day: {len(t)} samples, {len(out)} strides, {best:.2f} s")
    assert best < 10.0


def test_long_movement_regions_analysed_in_pieces_give_the_same_strides():
    """Pieces bound the memory of a long region; each stride comes from exactly one piece and
    matches the whole-region analysis: the same start within a sample, the same length within
    1 % (the grid each piece resamples onto starts at its own first sample, and the simulated
    clock jitters), no bias."""
    rec = _sim(100.0)
    t, acc, gyro = _arrays(rec.samples)
    whole = trunk_strides(t, acc, gyro, 100.0, HEIGHT_M, piece_s=math.inf)
    pieces = trunk_strides(t, acc, gyro, 100.0, HEIGHT_M, piece_s=120.0)
    assert len(pieces) == len(whole) > 1000
    assert pieces["t"].is_monotonic_increasing
    assert np.abs(pieces["t"].to_numpy() - whole["t"].to_numpy()).max() <= 10_000_000  # ns
    length_w, length_p = whole["stride_length_m"], pieces["stride_length_m"]
    assert (length_w.isna() == length_p.isna()).all()
    relative = (length_p / length_w - 1).abs()
    assert relative.max() < 0.01
    assert abs(length_p.mean() / length_w.mean() - 1) < 1e-4
