"""analysis.signal checked against analytic signals, slow references and simulated truth.

The simulated day (thigh, 25 Hz, default SensorErrors) is rendered once per module; the real
Axivity files come from ../shared/data.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import signal as sps

from analysis.signal import (
    Calibration,
    apply_calibration,
    calibrate,
    epoch_table,
    gravity,
    inclination_deg,
    low_pass,
    nominal_rate_hz,
    non_wear,
    non_wear_periods,
    to_uniform_grid,
)
from sensors.importers.axivity import AxivityImporter
from sensors.importers.base import ImportOptions
from sensors.simulate import SensorErrors, simulate_day
from sensors.timeutil import day_bounds_ns
from tests.conftest import T0_NS, shared_file

NS = 1_000_000_000
TZ = "Europe/Berlin"
DAY = dt.date(2026, 3, 4)  # a Wednesday (workday plan)
RATE = 25.0
MIN = 60 * NS


def _local_ns(hours: float) -> int:
    """UTC ns of a wall-clock time (hours after local midnight) on DAY; no DST change that day."""
    return day_bounds_ns(DAY, TZ)[0] + round(hours * 3600 * NS)


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def day():
    rec = simulate_day(DAY, placement="thigh", rate_hz=RATE, tz=TZ, seed=1)
    t = rec.samples["t"].to_numpy()
    acc = rec.samples[["ax", "ay", "az"]].to_numpy()
    return rec, t, acc


def _on_table(t: np.ndarray, acc: np.ndarray, start: int, end: int, seed: int = 5) -> np.ndarray:
    """``acc`` with [start, end) replaced by a device lying still on a table, z up.

    The table reading goes through the same error model as the simulator: scale * (0, 0, 1) +
    bias + N(0, noise_g) per axis.
    """
    e = SensorErrors()
    out = acc.copy()
    sel = (t >= start) & (t < end)
    rng = np.random.default_rng(seed)
    still = np.array(e.scale) * np.array([0.0, 0.0, 1.0]) + np.array(e.bias_g)
    out[sel] = (still + rng.normal(0.0, e.noise_g, (int(sel.sum()), 3))).astype(np.float32)
    return out


TABLE = (_local_ns(14.0), _local_ns(15.5))  # 90 min on the table in the afternoon


@pytest.fixture(scope="module")
def table_day(day):
    _, t, acc = day
    return t, _on_table(t, acc, *TABLE)


# ------------------------------------------------------------------------- rate and the grid


def test_nominal_rate_rounds_sensibly():
    rng = np.random.default_rng(0)
    n = 5000
    jittered = (np.arange(n) * (NS / 49.98) + rng.normal(0, 2e5, n)).astype(np.int64)
    assert nominal_rate_hz(jittered) == 50.0
    exact = np.round(np.arange(n) * NS / 204.8).astype(np.int64)
    assert nominal_rate_hz(exact) == 204.8
    slow = np.round(np.arange(n) * 10.25e6).astype(np.int64)  # an AX6 running at 97.56 Hz
    assert nominal_rate_hz(slow) == 97.6
    drifting = np.round(np.arange(n) * NS / 12.49).astype(np.int64)
    assert nominal_rate_hz(drifting) == 12.5
    lossy = np.delete(np.arange(n) * 10_000_000, np.arange(100, 4000, 7))  # packet loss
    assert nominal_rate_hz(lossy) == 100.0


def test_uniform_grid_resamples_a_sine():
    rng = np.random.default_rng(1)
    freq = 1.3
    t = T0_NS + 3_333_333 + np.arange(1000) * 20_000_000  # 50 Hz, not on the 100 Hz grid
    t = t + rng.normal(0, 1e6, len(t)).astype(np.int64)  # 1 ms jitter, still increasing
    assert np.all(np.diff(t) > 0)

    def wave(ns):
        s = (ns - T0_NS) / NS
        return np.column_stack([np.sin(2 * np.pi * freq * s), np.cos(2 * np.pi * freq * s)])

    gt, gv = to_uniform_grid(t, wave(t).astype(np.float32), 100.0)
    assert gt.dtype == np.int64 and gv.dtype == np.float32 and gv.shape == (len(gt), 2)
    assert np.all(gt % 10_000_000 == 0)
    assert gt[0] >= t[0] and gt[0] - t[0] < 10_000_000
    assert gt[-1] <= t[-1] and t[-1] - gt[-1] < 10_000_000
    # linear interpolation error <= h^2/8 max|f''| with h the longest sampling interval
    h = np.diff(t).max() / NS
    bound = h * h / 8 * (2 * np.pi * freq) ** 2
    assert 3e-3 < bound < 7e-3
    err = np.abs(gv - wave(gt))
    assert not np.isnan(gv).any()
    assert err.max() < bound + 1e-6  # + float32 rounding
    assert err.mean() < 2e-3  # h^2/12 (2 pi f)^2 2/pi = 1.4e-3; nearest sample: 3e-2


def test_uniform_grid_keeps_long_gaps_and_bridges_short_ones():
    t = T0_NS + np.arange(3000) * 20_000_000  # 50 Hz, 60 s
    v = ((t - T0_NS) / NS).astype(np.float64)[:, None] * 0.5 + 1.0  # a ramp: exact under interp
    long_gap = (t > T0_NS + 10 * NS) & (t < T0_NS + 13 * NS)  # 3 s without samples
    short_gap = (t > T0_NS + 30 * NS) & (t < T0_NS + 30 * NS + 500_000_000)  # 0.5 s
    keep = ~(long_gap | short_gap)
    gt, gv = to_uniform_grid(t[keep], v[keep], 100.0, max_gap_s=1.0)
    nan = np.isnan(gv[:, 0])
    inside = (gt > T0_NS + 10 * NS) & (gt < T0_NS + 13 * NS)
    np.testing.assert_array_equal(nan, inside)
    assert inside.sum() == 299
    ramp = ((gt - T0_NS) / NS) * 0.5 + 1.0
    np.testing.assert_allclose(gv[~nan, 0], ramp[~nan], atol=1e-9)
    # the 0.5 s gap is interpolated, on both sides of the limit
    _, gv_tight = to_uniform_grid(t[keep], v[keep], 100.0, max_gap_s=0.4)
    in_short = (gt > T0_NS + 30 * NS) & (gt < T0_NS + 30 * NS + 500_000_000)
    assert np.isnan(gv_tight[in_short, 0]).all() and not np.isnan(gv[in_short, 0]).any()


def test_uniform_grid_non_integer_period():
    t = T0_NS + np.arange(0, 10 * NS, 10_000_000)
    gt, gv = to_uniform_grid(t, np.ones(len(t)), 30.0)
    k0 = -(-int(gt[0]) * 30 // NS)  # the first multiple of 1/30 s at or after the first sample
    expected = np.array([((k0 + j) * NS + 15) // 30 for j in range(len(gt))], dtype=np.int64)
    assert gt[0] == expected[0]
    assert len(gt) == 300
    np.testing.assert_array_equal(gt, expected)
    assert gv.ndim == 1 and np.all(gv == 1.0)


# ---------------------------------------------------------------------------------- low pass


def test_low_pass_matches_scipy_on_a_long_stretch():
    rng = np.random.default_rng(2)
    x = np.cumsum(rng.normal(0, 0.01, (2_500_000, 2)), axis=0)  # longer than one chunk
    ours = low_pass(x, 100.0, cutoff_hz=0.25)
    sos = sps.butter(2, 0.25, fs=100.0, output="sos")
    np.testing.assert_allclose(ours, sps.sosfiltfilt(sos, x, axis=0), rtol=0, atol=1e-9)
    ours32 = low_pass(x.astype(np.float32), 100.0)
    assert ours32.dtype == np.float32
    np.testing.assert_allclose(ours32, sps.sosfiltfilt(sos, x, axis=0), atol=2e-5)


def test_low_pass_filters_each_side_of_a_gap_independently():
    rng = np.random.default_rng(3)
    n = 6000  # 60 s at 100 Hz
    base = 1.0 + rng.normal(0, 0.05, (n, 3))
    base[2000:2500] = np.nan  # a 5 s gap
    stepped = base.copy()
    stepped[1500:2000] += 0.8  # a step right before the gap
    a, b = low_pass(base, 100.0), low_pass(stepped, 100.0)
    nan = np.isnan(base)
    np.testing.assert_array_equal(np.isnan(a), nan)
    np.testing.assert_array_equal(np.isnan(b), nan)
    np.testing.assert_array_equal(a[2500:], b[2500:])  # nothing leaks across the gap
    assert np.abs(b[1900:2000] - a[1900:2000]).min() > 0.3  # the step is there
    # each side equals the stretch filtered alone
    sos = sps.butter(2, 0.25, fs=100.0, output="sos")
    np.testing.assert_allclose(a[2500:], sps.sosfiltfilt(sos, base[2500:], axis=0), atol=1e-12)
    np.testing.assert_allclose(b[:2000], sps.sosfiltfilt(sos, stepped[:2000], axis=0), atol=1e-12)


def test_low_pass_short_stretches_and_columns_with_own_gaps():
    x = np.linspace(0.0, 1.0, 40)[:, None].repeat(2, axis=1)
    x[5:10, 0] = np.nan  # column 0: stretches 0-5, 10-40
    x[[11, 13], 1] = np.nan  # column 1: stretches 0-11, 12 (one sample), 14-40
    y = low_pass(x, 10.0, cutoff_hz=1.0)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(x))
    sos = sps.butter(2, 1.0, fs=10.0, output="sos")
    np.testing.assert_allclose(y[:5, 0], sps.sosfiltfilt(sos, x[:5, 0], padlen=4), atol=1e-12)
    np.testing.assert_allclose(y[:11, 1], sps.sosfiltfilt(sos, x[:11, 1], padlen=9), atol=1e-12)
    assert y[12, 1] == x[12, 1]
    one_d = low_pass(x[:, 0], 10.0, cutoff_hz=1.0)
    assert one_d.shape == (40,)
    np.testing.assert_array_equal(np.isnan(one_d), np.isnan(x[:, 0]))


def test_gravity_removes_movement():
    s = np.arange(0, 120, 0.01)
    still = np.array([0.6, 0.0, 0.8])
    acc = still + 0.3 * np.sin(2 * np.pi * 2.0 * s)[:, None] * np.array([1.0, 1.0, 0.0])
    g = gravity(acc.astype(np.float32), 100.0)
    assert g.dtype == np.float32
    np.testing.assert_allclose(
        g[1000:-1000], np.broadcast_to(still, g[1000:-1000].shape), atol=2e-3
    )


# ------------------------------------------------------------------------------- inclination


def test_inclination_of_known_vectors():
    c30, s30 = np.cos(np.radians(30)), np.sin(np.radians(30))
    vec = np.array(
        [
            [1.0, 0.0, 0.0],  # x up
            [0.0, 0.0, 2.0],  # z up, length does not matter
            [0.0, -1.0, 0.0],  # y down
            [c30, 0.0, s30],  # x tilted 30 deg toward z
            [0.0, 0.0, 0.0],  # no direction
        ]
    )
    inc = inclination_deg(vec)
    np.testing.assert_allclose(inc[0], [0, 90, 90], atol=1e-9)
    np.testing.assert_allclose(inc[1], [90, 90, 0], atol=1e-9)
    np.testing.assert_allclose(inc[2], [90, 180, 90], atol=1e-9)
    np.testing.assert_allclose(inc[3], [30, 90, 60], atol=1e-9)
    assert np.isnan(inc[4]).all()
    np.testing.assert_allclose(inclination_deg(np.array([0, 1, 1])), [90, 45, 45], atol=1e-9)


# ------------------------------------------------------------------------------- calibration


def _still_window_error(t, acc) -> float:
    """Mean | |mean| - 1 | (g) over complete 10 s windows with every axis SD < 13 mg."""
    ep = epoch_table(t, acc, epoch_s=10.0)
    sd = ep[["sd_x", "sd_y", "sd_z"]].to_numpy()
    still = (sd < 0.013).all(axis=1) & (ep["n"].to_numpy() >= 0.9 * RATE * 10)
    m = ep.loc[still, ["mean_x", "mean_y", "mean_z"]].to_numpy(dtype=np.float64)
    return float(np.mean(np.abs(np.linalg.norm(m, axis=1) - 1.0)))


def test_calibration_recovers_the_simulated_sensor_errors(day):
    _, t, acc = day
    cal = calibrate(t, acc, RATE)
    print(cal)
    assert cal.ok, cal.reason
    assert cal.stationary_windows > 1000
    # A 10 s mean of 250 samples carries 4 mg / sqrt(250) = 0.25 mg of noise per axis, so
    # | |a| - 1 | cannot fall much below 0.2 mg; 1 mg leaves room for slow posture drift and is
    # still 10x below the uncalibrated error (bias 8-12 mg, scale 0.5-1 %).
    assert cal.error_before_g > 0.008
    assert cal.error_after_g < 0.001
    assert cal.error_after_g < cal.error_before_g
    # measured = s * true + b  =>  true = (measured + (-b)) * (1 / s): offset = -b, scale = 1/s
    e = SensorErrors()
    true_offset = -np.array(e.bias_g)
    true_scale = 1.0 / np.array(e.scale)
    offset, scale = np.array(cal.offset_g), np.array(cal.scale)
    # y and z see +-1 g (side-lying, sitting, prone): fully determined, 0.5 mg / 0.05 %
    np.testing.assert_allclose(offset[1:], true_offset[1:], atol=5e-4)
    np.testing.assert_allclose(scale[1:], true_scale[1:], atol=5e-4)
    # x (the thigh's long axis) only spans -0.25..+1 g: offset and scale trade off along
    # (1 + o) s = const; the correction is exact at x = 1 g and within 3 mg near x = 0
    np.testing.assert_allclose(offset[0], true_offset[0], atol=3e-3)
    np.testing.assert_allclose(scale[0], true_scale[0], atol=3e-3)
    at_one_g = (e.scale[0] + e.bias_g[0] + offset[0]) * scale[0]
    assert abs(at_one_g - 1.0) < 5e-4
    corrected = apply_calibration(acc, cal)
    assert corrected.dtype == np.float32 and corrected.shape == acc.shape
    assert _still_window_error(t, acc) > 0.008
    assert _still_window_error(t, corrected) < 0.001


def test_ggir_coverage_rule_refuses_a_thigh_day(day):
    _, t, acc = day
    cal = calibrate(t, acc, RATE, coverage="ggir")
    assert not cal.ok
    assert "coverage" in cal.reason and "x spans" in cal.reason
    assert cal.offset_g == (0.0, 0.0, 0.0) and cal.scale == (1.0, 1.0, 1.0)


def test_calibration_refuses_too_little_data():
    e = SensorErrors()
    rng = np.random.default_rng(4)
    n = int(30 * 60 * RATE)  # 30 min lying still in one orientation
    t = T0_NS + np.arange(n) * int(NS / RATE)
    acc = np.array(e.scale) * [0.0, 0.0, 1.0] + e.bias_g + rng.normal(0, e.noise_g, (n, 3))
    acc = acc.astype(np.float32)
    cal = calibrate(t, acc, RATE)
    assert isinstance(cal, Calibration)
    assert not cal.ok and "coverage" in cal.reason
    assert cal.stationary_windows == 180
    assert apply_calibration(acc, cal) is acc
    short = calibrate(t[: int(120 * RATE)], acc[: int(120 * RATE)], RATE)
    assert not short.ok and "too few stationary windows" in short.reason
    assert short.stationary_windows == 12
    assert apply_calibration(acc, short) is acc


@pytest.mark.parametrize("name", ["ax6_sample.cwa", "ax3_sample.cwa"])
def test_calibration_on_real_axivity_files(name):
    path: Path = shared_file(f"skdh_io/{name}")
    batches = list(AxivityImporter().read(path, ImportOptions(), lambda done, total: None))
    samples = pd.concat([b.samples for b in batches], ignore_index=True)
    t = samples["t"].to_numpy()
    acc = samples[["ax", "ay", "az"]].to_numpy()
    rate = nominal_rate_hz(t)
    cal = calibrate(t, acc, rate)
    print(f"{name}: {len(t)} samples, {rate} Hz, {(t[-1] - t[0]) / NS:.0f} s: {cal}")
    assert isinstance(cal, Calibration)
    assert cal.stationary_windows >= 0
    if cal.ok:
        assert cal.error_after_g <= cal.error_before_g
    else:
        assert cal.reason
        assert apply_calibration(acc, cal) is acc


# ------------------------------------------------------------------------------- epoch table


def _reference_epochs(t, acc, gyro, temp, epoch_s) -> pd.DataFrame:
    e_ns = int(epoch_s * NS)
    a = acc.astype(np.float64)
    norm = np.linalg.norm(a, axis=1)
    frame = pd.DataFrame(
        {
            "e": t // e_ns,
            "x": a[:, 0],
            "y": a[:, 1],
            "z": a[:, 2],
            "norm": norm,
            "enmo": np.maximum(norm - 1, 0),
            "gyro": np.linalg.norm(gyro.astype(np.float64), axis=1),
            "temp": temp,
        }
    )
    g = frame.groupby("e")
    out = pd.DataFrame({"t": g.size().index.to_numpy() * e_ns, "n": g.size().to_numpy()})
    for ax in "xyz":
        out[f"mean_{ax}"] = g[ax].mean().to_numpy()
    for ax in "xyz":
        out[f"sd_{ax}"] = g[ax].std(ddof=1).fillna(0.0).to_numpy()
    for ax in "xyz":
        out[f"min_{ax}"] = g[ax].min().to_numpy()
    for ax in "xyz":
        out[f"max_{ax}"] = g[ax].max().to_numpy()
    out["enmo_g"] = g["enmo"].mean().to_numpy()
    out["mad_g"] = g["norm"].apply(lambda r: np.mean(np.abs(r - r.mean()))).to_numpy()
    out["gyro_dps"] = g["gyro"].mean().to_numpy()
    out["temperature_c"] = g["temp"].mean().to_numpy()  # pandas skips NaN
    return out


@pytest.mark.parametrize("epoch_s", [1.0, 5.0])
def test_epoch_table_matches_a_groupby_reference(epoch_s):
    rng = np.random.default_rng(6)
    n = 60_000
    t = T0_NS + 123_456_789 + np.cumsum(rng.integers(5_000_000, 15_000_000, n))
    # gaps: 7.3 s (splits epochs), 0.4 s, and 40 s
    t[20_000:] += 7_300_000_000
    t[35_000:] += 400_000_000
    t[50_000:] += 40 * NS
    acc = rng.normal([0.1, -0.2, 0.9], 0.3, (n, 3)).astype(np.float32)
    gyro = rng.normal(0, 50, (n, 3)).astype(np.float32)
    temp = 30 + rng.normal(0, 0.5, n)
    temp[rng.random(n) < 0.2] = np.nan
    ours = epoch_table(t, acc, epoch_s=epoch_s, gyro_dps=gyro, temperature_c=temp)
    ref = _reference_epochs(t, acc, gyro, temp, epoch_s)
    assert list(ours.columns) == list(ref.columns)
    assert ours["t"].dtype == np.int64 and ours["mean_x"].dtype == np.float32
    assert ours.attrs["epoch_s"] == epoch_s
    np.testing.assert_array_equal(ours["t"].to_numpy(), ref["t"].to_numpy())
    np.testing.assert_array_equal(ours["n"].to_numpy(), ref["n"].to_numpy())
    assert ours["n"].sum() == n
    assert (np.diff(ours["t"]) > epoch_s * NS).any()  # gaps leave epochs out
    for col in ref.columns[2:]:
        np.testing.assert_allclose(ours[col], ref[col], rtol=2e-6, atol=2e-6, err_msg=col)


def test_epoch_table_enmo_and_mad_of_known_signals():
    t = T0_NS + np.arange(6000) * 10_000_000  # 60 s at 100 Hz
    rest = np.tile(np.array([0.6, 0.0, 0.8], dtype=np.float32), (len(t), 1))
    ep = epoch_table(t, rest)
    assert len(ep) == 60 and (ep["n"] == 100).all()
    assert ep["enmo_g"].max() < 1e-6 and ep["mad_g"].max() < 1e-6
    assert ep["sd_x"].max() < 1e-6
    amp, f = 0.5, 2.0  # |a| = 1 + A sin(2 pi f t), whole periods per epoch
    s = (t - T0_NS) / NS
    osc = np.column_stack([np.zeros_like(s), np.zeros_like(s), 1 + amp * np.sin(2 * np.pi * f * s)])
    ep = epoch_table(t, osc.astype(np.float32))
    np.testing.assert_allclose(ep["enmo_g"], amp / np.pi, rtol=2e-3)  # mean of max(A sin, 0)
    np.testing.assert_allclose(ep["mad_g"], 2 * amp / np.pi, rtol=2e-3)  # mean |A sin|
    np.testing.assert_allclose(ep["sd_z"], amp / np.sqrt(2), rtol=1e-2)


def test_epoch_table_ignores_gap_rows_of_a_grid():
    t = T0_NS + np.arange(1000) * 10_000_000
    acc = np.ones((1000, 3), dtype=np.float32)
    acc[100:350] = np.nan
    ep = epoch_table(t, acc)
    np.testing.assert_array_equal(ep["n"], [100, 50, 100, 100, 100, 100, 100, 100])
    assert np.isfinite(ep.drop(columns=["t", "n"]).to_numpy()).all()


# ---------------------------------------------------------------------------------- non-wear


def test_non_wear_finds_the_table_period_and_not_sitting(day, table_day):
    rec, t, _ = day
    t, acc = table_day
    ep = epoch_table(t, acc)
    flags = non_wear(ep)
    periods = non_wear_periods(ep, flags)
    print(periods)
    assert len(periods) == 1
    start, end = int(periods["start"].iloc[0]), int(periods["end"].iloc[0])
    step = 15 * MIN
    assert TABLE[0] <= start <= TABLE[0] + step
    assert TABLE[1] - step <= end <= TABLE[1]
    assert periods["duration_s"].iloc[0] >= 60 * 60
    # nothing else: in particular no sitting bout (the simulator's fidgeting keeps the pooled
    # SD of every sitting bout above 50 mg on two axes), nor sleep
    et = ep["t"].to_numpy()
    outside = (et < TABLE[0]) | (et >= TABLE[1])
    assert not flags[outside].any()
    bouts = rec.truth.sitting_bouts
    assert bouts["duration_s"].max() > 45 * 60
    sitting = np.zeros(len(et), dtype=bool)
    for s, e in zip(bouts["start"], bouts["end"], strict=True):
        sitting |= (et >= s) & (et < e)
    sitting &= outside  # the table replaced part of a sitting bout
    assert sitting.sum() > 4 * 3600
    shorter = non_wear(ep, window_min=30.0, step_min=5.0)  # stricter: half-hour windows
    assert not shorter[sitting].any()
    assert not shorter[outside].any()


def test_a_gap_neither_creates_nor_bridges_non_wear(day):
    _, t, acc = day
    # 40 min on the table, a 2 h recording gap, 40 min on the table again: 80 min of still rows
    # in a row, but no 60 min of still *time*: nothing may be flagged
    first, second = (
        (_local_ns(13.0), _local_ns(13 + 40 / 60)),
        (_local_ns(15 + 40 / 60), _local_ns(16 + 20 / 60)),
    )
    both = _on_table(t, _on_table(t, acc, *first), *second, seed=6)
    keep = (t < first[1]) | (t >= second[0])
    ep = epoch_table(t[keep], both[keep])
    assert not non_wear(ep).any()
    # the same 80 min without the gap are one non-wear period
    joined = _on_table(t, acc, first[0], first[0] + 80 * MIN)
    ep_joined = epoch_table(t, joined)
    assert len(non_wear_periods(ep_joined, non_wear(ep_joined))) == 1

    # a gap elsewhere changes nothing: the table period stays, the gap is never flagged
    table = _on_table(t, acc, *TABLE)
    full = epoch_table(t, table)
    full_flags = non_wear(full)
    hole = (t >= _local_ns(18.0)) & (t < _local_ns(18.5))
    ep_hole = epoch_table(t[~hole], table[~hole])
    flags_hole = non_wear(ep_hole)
    kept = np.isin(full["t"].to_numpy(), ep_hole["t"].to_numpy())
    np.testing.assert_array_equal(flags_hole, full_flags[kept])
    periods = non_wear_periods(ep_hole, flags_hole)
    assert len(periods) == 1 and periods["end"].iloc[0] <= TABLE[1]


def test_non_wear_periods_split_at_gaps():
    t = T0_NS + np.concatenate([np.arange(0, 100), np.arange(300, 400)]) * NS
    ep = pd.DataFrame({"t": t})
    ep.attrs["epoch_s"] = 1.0
    flags = np.ones(len(t), dtype=bool)
    flags[50] = False
    periods = non_wear_periods(ep, flags)
    assert periods["start"].tolist() == [T0_NS, T0_NS + 51 * NS, T0_NS + 300 * NS]
    assert periods["end"].tolist() == [T0_NS + 50 * NS, T0_NS + 100 * NS, T0_NS + 400 * NS]
    assert periods["duration_s"].tolist() == [50.0, 49.0, 100.0]
    assert non_wear_periods(ep, np.zeros(len(t), dtype=bool)).empty


def test_temperature_confirms_non_wear(table_day):
    t, acc = table_day
    ep = epoch_table(t, acc)
    et = ep["t"].to_numpy()
    on_table = (et >= TABLE[0]) & (et < TABLE[1])
    ep["temperature_c"] = np.where(on_table, 24.0, 32.0).astype(np.float32)  # cooled down
    cold = non_wear(ep, temperature_drop_c=4.0)
    np.testing.assert_array_equal(cold, non_wear(ep))
    assert cold.any()
    ep["temperature_c"] = np.float32(32.0)  # stayed warm: e.g. very still, but on the body
    assert not non_wear(ep, temperature_drop_c=4.0).any()
    assert non_wear(ep).any()  # without the temperature rule it is flagged


@pytest.mark.parametrize(("amp_g", "flagged"), [(0.012, True), (0.014, False)])
def test_non_wear_pools_the_sd_across_epochs(amp_g, flagged):
    # x and y switch between +-amp every minute: each 1 s epoch is nearly constant (0.5 mg
    # noise), so only the between-epoch part of the pooled SD (= amp) can exceed 13 mg; the
    # range (2 amp + noise < 50 mg) passes either way
    rng = np.random.default_rng(7)
    n = int(2 * 3600 * RATE)
    t = T0_NS + np.arange(n) * int(NS / RATE)
    square = np.where(((t - T0_NS) // MIN) % 2 == 0, amp_g, -amp_g)
    acc = np.column_stack([square, square, np.ones(n)]) + rng.normal(0, 5e-4, (n, 3))
    ep = epoch_table(t, acc.astype(np.float32))
    assert ep["sd_x"].max() < 0.002
    assert (ep["max_x"].max() - ep["min_x"].min()) < 0.05
    flags = non_wear(ep)
    assert flags.all() if flagged else not flags.any()
