"""Wrist gait (analysis.wrist_gait): cadence-only strides against the simulator's truth.

``sensors.simulate`` renders a wrist that swings with every stride (walking: forearm hanging,
+-18 deg; running: forearm near horizontal, +-25 deg, 0.6 m lever) on top of the body's bounce
and heel-strike impacts, and makes the wrist wander and gesture (8-15 deg, every 0.4-3 s) while
sitting and standing. Its truth strides (both feet, one per heel strike) give the true cadence.
Figures are printed (run with ``-s`` to see them) and the accuracy targets asserted.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
import tracemalloc

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis.stride import STRIDE_COLUMNS
from analysis.wrist_gait import MAX_GAP_PERIODS, SOURCE, gait_windows, wrist_strides
from sensors.simulate import SensorErrors, simulate_day

NS = 1_000_000_000
DAY = dt.date(2026, 3, 10)  # a Tuesday; with its evening run
SEED = 3
NOISY = SensorErrors(
    noise_g=0.01, bias_g=(0.03, -0.02, 0.025), scale=(1.02, 0.985, 1.01), jitter_s=0.001
)
GAIT = ("walking", "running")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


@functools.cache
def _sim(rate_hz: float):
    return simulate_day(
        DAY, placement="wrist", rate_hz=rate_hz, seed=SEED, evening_run=True, errors=NOISY
    )


def _arrays(samples: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return samples["t"].to_numpy(), samples[["ax", "ay", "az"]].to_numpy()


@functools.cache
def _day(rate_hz: float) -> tuple[pd.DataFrame, float, float]:
    """Strides of the simulated day, the seconds they took and the peak of traced memory (MB)."""
    t, acc = _arrays(_sim(rate_hz).samples)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        t0 = time.perf_counter()
        out = wrist_strides(t, acc, rate_hz)
        took = time.perf_counter() - t0
        peak_mb = (tracemalloc.get_traced_memory()[1] - base) / 1e6
    finally:
        tracemalloc.stop()
    return out, took, peak_mb


def _ends(strides: pd.DataFrame) -> np.ndarray:
    return strides["t"].to_numpy() + np.round(strides["stride_time_s"].to_numpy() * NS).astype(
        np.int64
    )


def _activity_at(activities: pd.DataFrame, t_ns: np.ndarray) -> np.ndarray:
    i = np.searchsorted(activities["start"].to_numpy(), t_ns, side="right") - 1
    return activities["activity"].to_numpy(dtype=object)[np.clip(i, 0, len(activities) - 1)]


def _truth_cadence(truth: pd.DataFrame, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Mean truth cadence (steps/min) of the truth strides (both feet) starting within each of
    our strides [start, end); the nearest truth stride where none does."""
    truth = truth.sort_values("t")
    tt = truth["t"].to_numpy()
    tc = truth["cadence_spm"].to_numpy()
    lo, hi = np.searchsorted(tt, start), np.searchsorted(tt, end)
    total = np.concatenate([[0.0], np.cumsum(tc)])
    mean = (total[hi] - total[lo]) / np.maximum(hi - lo, 1)
    near = np.clip(np.searchsorted(tt, start), 0, len(tt) - 1)
    return np.where(hi > lo, mean, tc[near])


def _covered_s(start: np.ndarray, end: np.ndarray, a: int, b: int) -> float:
    """Seconds of [a, b) covered by the (non-overlapping) intervals [start, end)."""
    return float(np.clip(np.minimum(end, b) - np.maximum(start, a), 0, None).sum()) / NS


# --------------------------------------------------------------------------------------------
# Simulated days
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rate_hz", [50.0, 100.0])
def test_simulated_day_cadence_coverage_and_no_false_strides(rate_hz, capsys):
    rec = _sim(rate_hz)
    ours, took, peak_mb = _day(rate_hz)
    acts = rec.truth.activities
    truth = rec.truth.strides
    assert list(ours.columns) == list(STRIDE_COLUMNS)
    assert ours["stride_length_m"].isna().all() and (ours["source"] == SOURCE).all()
    np.testing.assert_allclose(ours["cadence_spm"], 120.0 / ours["stride_time_s"])
    start, end = ours["t"].to_numpy(), _ends(ours)
    assert (start[1:] >= end[:-1] - NS // 1000).all()  # consecutive strides, no overlap

    where = _activity_at(acts, (start + end) // 2)
    lines = [f"wrist {rate_hz:g} Hz (noisy): {len(ours)} strides in {took:.2f} s, {peak_mb:.0f} MB"]
    gait = acts[acts["activity"].isin(GAIT)]
    for mode in GAIT:
        segs = gait[gait["activity"] == mode]
        assert len(segs), f"the simulated day has no {mode}"
        # per bout (truth segment): median cadence, and the share of its time covered
        bout_err, total_s, covered_s = [], 0.0, 0.0
        for a, b in zip(segs["start"], segs["end"], strict=True):
            inside = (start >= a) & (end <= b)
            true = truth[(truth["t"] >= a) & (truth["t"] < b)]["cadence_spm"].median()
            bout_err.append(ours["cadence_spm"][inside].median() / true - 1.0)
            total_s += (b - a) / NS
            covered_s += _covered_s(start, end, a, b)
        bout_err = np.abs(np.array(bout_err)) * 100
        # per stride: against the truth strides that start within it
        mine = where == mode
        rel = ours["cadence_spm"].to_numpy()[mine] / _truth_cadence(truth, start[mine], end[mine])
        stride_err = np.abs(rel - 1.0) * 100
        coverage = covered_s / total_s * 100
        lines.append(
            f"  {mode}: {len(segs)} bouts, {total_s:.0f} s, covered {coverage:.1f} %; "
            f"bout median cadence error max {np.nanmax(bout_err):.2f} %; per stride "
            f"median {np.median(stride_err):.2f} %, 95th pct {np.percentile(stride_err, 95):.2f} %"
            f", within 5 %: {np.mean(stride_err < 5) * 100:.1f} % of {mine.sum()}"
        )
        assert np.isfinite(bout_err).all()  # every bout found
        assert bout_err.max() < 5.0
        assert np.mean(stride_err < 5.0) >= 0.95
        assert coverage >= 90.0
    outside = ~np.isin(where, GAIT)
    # strides more than 5 s away from any walk or run: sitting, standing, gesturing, lying
    t_gait = np.sort(np.concatenate([gait["start"].to_numpy(), gait["end"].to_numpy()]))
    j = np.clip(np.searchsorted(t_gait, start), 1, len(t_gait) - 1)
    far = np.minimum(np.abs(start - t_gait[j - 1]), np.abs(start - t_gait[j])) > 5 * NS
    lines.append(
        f"  strides outside walking/running: {outside.sum()} ({outside.mean() * 100:.2f} %), "
        f"of them more than 5 s from one: {(outside & far).sum()}"
    )
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert outside.mean() < 0.02
    assert (outside & far).sum() == 0
    assert peak_mb < 150  # bounded: one (n, window) float64 matrix of the day would be ~35 GB


def test_walking_windows_are_gait_and_still_ones_are_not():
    rec = _sim(50.0)
    acts = rec.truth.activities
    s = rec.samples
    walk = acts[acts["activity"] == "walking"].iloc[0]
    sit = acts[acts["activity"] == "sitting"]
    sit = sit.iloc[int(np.argmax(sit["end"] - sit["start"]))]
    for row, want in ((walk, True), (sit, False)):
        piece = s[(s["t"] >= row["start"]) & (s["t"] < row["end"])]
        w = gait_windows(*_arrays(piece), 50.0)
        assert len(w) > 10
        inner = w.iloc[2:-5]  # windows wholly inside the activity
        if want:
            assert inner["gait"].mean() > 0.95
        else:
            assert not inner["gait"].any()
    walking = gait_windows(*_arrays(s[(s["t"] >= walk["start"]) & (s["t"] < walk["end"])]), 50.0)
    assert not walking["step_cycle"].any()  # the simulated arm always swings: T is a stride


def _walk_piece(seconds: float) -> tuple[np.ndarray, np.ndarray]:
    rec = _sim(50.0)
    acts = rec.truth.activities
    walks = acts[acts["activity"] == "walking"]
    walk = walks.iloc[int(np.argmax(walks["end"] - walks["start"]))]
    a = walk["start"] + 60 * NS
    assert a + seconds * NS < walk["end"]
    s = rec.samples
    return _arrays(s[(s["t"] >= a) & (s["t"] < a + int(seconds * NS))])


def test_gap_splits_the_bout():
    t, acc = _walk_piece(80.0)
    full = wrist_strides(t, acc, 50.0)
    gap0 = t[0] + 40 * NS
    gap1 = gap0 + 3 * NS  # 3 s of samples lost
    keep = (t < gap0) | (t >= gap1)
    cut = wrist_strides(t[keep], acc[keep], 50.0)
    start, end = cut["t"].to_numpy(), _ends(cut)
    assert not ((start < gap1) & (end > gap0)).any()  # nothing spans or touches the gap
    before, after = end[end <= gap0], start[start >= gap1]
    assert len(before) >= 20 and len(after) >= 20  # the walk goes on on both sides
    assert gap0 - before.max() < 8 * NS and after.min() - gap1 < 8 * NS
    # away from the gap (and from the piece's ends, where the window grid now differs by up to
    # a hop) the strides are the same ones
    ft = full["t"].to_numpy()
    away = (np.abs(ft - gap0) > 10 * NS) & (np.abs(ft - gap1) > 10 * NS)
    away &= (ft > t[0] + 10 * NS) & (ft < t[-1] - 10 * NS)
    nearest = np.abs(start[:, None] - ft[None, away]).min(axis=0)
    assert np.all(nearest < 0.03 * NS)
    # a single lost sample (an interval of two periods, with jitter) is no gap; two are one
    mid = len(t) // 2
    for lost, spanned in ((1, 1), (2, 0)):
        keep = np.ones(len(t), bool)
        keep[mid : mid + lost] = False
        again = wrist_strides(t[keep], acc[keep], 50.0)
        a_start, a_end = again["t"].to_numpy(), _ends(again)
        assert ((a_start < t[mid]) & (a_end > t[mid + lost - 1])).sum() == spanned


def test_empty_short_and_unusable_input():
    columns = list(STRIDE_COLUMNS)
    for n in (0, 1, 2, 100, 400):
        t = np.arange(n, dtype=np.int64) * (NS // 50)
        acc = np.tile([1.0, 0.0, 0.0], (n, 1))
        out = wrist_strides(t, acc, 50.0)
        assert list(out.columns) == columns and out.empty
        assert (
            out.dtypes.to_dict()
            == pd.DataFrame(
                {c: pd.Series(dtype=d) for c, d in STRIDE_COLUMNS.items()}
            ).dtypes.to_dict()
        )
    t, acc = _walk_piece(30.0)
    assert len(wrist_strides(t, acc, 50.0)) > 10
    assert wrist_strides(t, np.full_like(acc, np.nan), 50.0).empty  # nothing finite
    t10 = t[::5]
    assert wrist_strides(t10, acc[::5], 10.0).empty  # 10 Hz cannot resolve the band
    assert gait_windows(t10, acc[::5], 10.0).empty


def test_input_validation():
    t = np.arange(10, dtype=np.int64) * NS // 50
    acc = np.zeros((10, 3))
    with pytest.raises(ValueError):
        wrist_strides(t, acc[:, :2], 50.0)
    with pytest.raises(ValueError):
        wrist_strides(t[:9], acc, 50.0)
    with pytest.raises(ValueError):
        wrist_strides(t[::-1], acc, 50.0)
    with pytest.raises(ValueError):
        wrist_strides(t, acc, 0.0)
    with pytest.raises(ValueError):
        wrist_strides(t, acc, float("nan"))


# --------------------------------------------------------------------------------------------
# A wrist without arm swing (synthetic: the simulator always swings the arm)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("step_s", [0.45, 0.6, 0.7])
def test_wrist_moving_with_the_trunk_counts_steps_not_strides(step_s):
    # hand in a pocket: the wrist bounces with the trunk at every step (vertical, with a second
    # harmonic) and sways sideways once per stride; no arm swing. For steps of 0.6-0.7 s the
    # wrist's whole motion repeats every *step* inside the stride search range (0.5-2 s): the
    # magnitude's odd harmonics and the low intensity must make it read as a step.
    rate = 50.0
    rng = np.random.default_rng(4)
    t_s = np.arange(0, 90, 1 / rate)
    ph = 2 * np.pi * t_s / step_s
    up = 0.15 * np.sin(ph) + 0.05 * np.sin(2 * ph + 0.7)
    side = 0.04 * np.sin(ph / 2)
    tilt = np.deg2rad(20.0)  # the sensor's x axis 20 deg off the vertical
    acc = np.column_stack(
        [
            (1 + up) * np.cos(tilt) + side * np.sin(tilt),
            (1 + up) * np.sin(tilt) - side * np.cos(tilt),
            0.02 * np.sin(ph / 2 + 1.0),
        ]
    ) + rng.normal(0, 0.01, (len(t_s), 3))
    t = (t_s * NS).astype(np.int64)
    out = wrist_strides(t, acc, rate)
    assert len(out) >= 30
    assert np.median(out["cadence_spm"]) == pytest.approx(60 / step_s, rel=0.02)


def test_periodic_running_magnitude_is_a_stride_not_a_step():
    # the simulated running wrist: magnitude dominated by the arm swing (odd harmonics of the
    # stride) but intense, so its 0.72 s cycle is a stride (about 166 steps/min), not a step
    rec = _sim(50.0)
    acts = rec.truth.activities
    run = acts[acts["activity"] == "running"].iloc[0]
    s = rec.samples
    piece = s[(s["t"] >= run["start"] + 60 * NS) & (s["t"] < run["start"] + 120 * NS)]
    w = gait_windows(*_arrays(piece), 50.0)
    assert (w["r_half"] < 0).mean() > 0.9 and w["gait"].mean() > 0.9
    assert not w["step_cycle"].any()
    truth = rec.truth.strides
    true = truth[(truth["t"] >= run["start"]) & (truth["t"] < run["end"])]["cadence_spm"]
    assert np.median(120 / w["cycle_s"]) == pytest.approx(true.median(), rel=0.02)


# --------------------------------------------------------------------------------------------
# Robustness
# --------------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    rate=st.sampled_from([12.5, 25.0, 50.0, 100.0]),
    seconds=st.floats(0.0, 40.0),
    freq_hz=st.floats(0.3, 3.0),
    swing_g=st.floats(0.0, 2.0),
    bounce_g=st.floats(0.0, 1.0),
    raw=arrays(
        np.float32,
        st.integers(1, 64),
        elements=st.one_of(
            st.floats(-0.0625, 0.0625, width=32),  # sensor noise
            st.floats(width=32, allow_nan=False, allow_infinity=False),  # anything finite
        ),
    ),
    gaps=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 400)), max_size=3),
)
def test_arbitrary_finite_input_never_raises(rate, seconds, freq_hz, swing_g, bounce_g, raw, gaps):
    # a gait-like signal (a swing at the cycle frequency across gravity, a bounce at twice it
    # along gravity) plus arbitrary finite values (tiled), with gaps cut into the timestamps
    n = int(seconds * rate)
    t = np.round(np.arange(n) * NS / rate).astype(np.int64)
    for where, length in gaps:
        if n:
            t[int(where * (n - 1)) :] += round(length * NS / rate)
    ph = 2 * np.pi * freq_hz * t / NS
    acc = np.column_stack(
        [1 + bounce_g * np.sin(2 * ph), swing_g * np.sin(ph), 0.3 * swing_g * np.cos(ph)]
    )
    acc = acc + np.resize(raw, 3 * n).reshape(n, 3).astype(np.float64)
    out = wrist_strides(t, acc, rate)
    assert list(out.columns) == list(STRIDE_COLUMNS)
    assert out["stride_length_m"].isna().all()
    cadence = out["cadence_spm"].to_numpy()
    assert np.all((cadence >= 30) & (cadence <= 250))
    if len(out):
        start, end = out["t"].to_numpy(), _ends(out)
        assert start.min() >= t[0] and end.max() <= t[-1]
        big = np.flatnonzero(np.diff(t) > MAX_GAP_PERIODS * NS / rate)
        for g in big:  # no stride spans a gap
            assert not ((start <= t[g]) & (end >= t[g + 1])).any()


@settings(max_examples=15, deadline=None)
@given(
    rate=st.sampled_from([12.5, 25.0, 50.0, 100.0]),
    seconds=st.floats(20.0, 40.0),
    freq_hz=st.floats(0.55, 1.8),
    swing_g=st.floats(0.1, 2.0),
    bounce_share=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**16),
)
def test_arm_swing_with_steps_gives_its_cadence(
    rate, seconds, freq_hz, swing_g, bounce_share, seed
):
    # an arm swing of stride frequency f (0.55-1.8 Hz: 66-216 steps/min) across gravity with a
    # bounce at 2 f along it (0.1 g up to the swing's size) and 0.03 g noise: 120 f steps/min
    bounce_g = 0.1 + bounce_share * max(0.0, swing_g - 0.1)
    n = int(seconds * rate)
    t = np.round(np.arange(n) * NS / rate).astype(np.int64)
    ph = 2 * np.pi * freq_hz * t / NS
    acc = np.column_stack(
        [1 + bounce_g * np.sin(2 * ph), swing_g * np.sin(ph), 0.3 * swing_g * np.cos(ph)]
    ) + np.random.default_rng(seed).normal(0, 0.03, (n, 3))
    out = wrist_strides(t, acc, rate)
    rel = out["cadence_spm"].to_numpy() / (120 * freq_hz) - 1
    assert len(out) >= 5
    assert abs(np.median(rel)) < 0.02
    assert np.mean(np.abs(rel) < 0.05) >= 0.75
    assert out["stride_time_s"].sum() >= 0.6 * seconds  # most of the recording is gait


def test_a_wrist_day_analysed_by_the_pipeline_gets_cadence_strides_without_length():
    from analysis.day import analyze_imu_day
    from sensors.timeutil import day_bounds_ns

    rec = _sim(50.0)
    start, end = day_bounds_ns(DAY, rec.tz)
    result = analyze_imu_day(rec.samples, "wrist", start, end)
    strides = result.strides
    assert len(strides) > 500 and set(strides["source"]) == {SOURCE}
    assert strides["stride_length_m"].isna().all()
    assert ((strides["t"] >= start) & (strides["t"] < end)).all()
    # the same rows as the gait function on the day's samples: nothing lost in the wiring
    direct, _, _ = _day(50.0)
    np.testing.assert_array_equal(strides["t"].to_numpy(), direct["t"].to_numpy())
