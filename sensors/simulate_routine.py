"""Table-level simulation of weeks of a psoas routine with known causal effects.

``sensors/simulate.py`` renders raw IMU days, which is right for testing detectors but far too
slow for the statistical tests of ``analysis/insights.py`` (100 simulated people x 12 weeks).
This module instead draws the *tables* the insights read - ``adherence_daily``, ``symptoms``,
``daily_summary`` and ``weekly_stride`` - directly from a small generative model whose effects are
known, so that confidence-interval coverage and false-finding rates can be measured.

Model (``d`` = day 0 .. 7 * weeks - 1, starting on the Monday ``first_day``; ``w(d)`` its week;
one burn-in week ``w = -1`` is simulated and dropped so that lagged values exist on day 0):

Adherence
    Weekly propensity ``z_w``: stationary AR(1) over weeks, ``z_w = phi_a z_(w-1) +
    sqrt(1 - phi_a^2) N(0, 1)`` (``adherence_week_phi``), so some weeks are good and some poor.
    Day propensity ``p_d = clip(adherence_mean + adherence_week_sd z_w(d) +
    weekend_adherence_shift [d is Sat/Sun], 0, 1)``, and ``p_d = 0`` for weeks before
    ``start_week`` (the burn-in week is always before the start). The routine has five
    exercises; ``adherence_d = Binomial(5, p_d) / 5`` (partial days). ``done = adherence == 1``,
    ``mobility_minutes = 10 adherence_d`` (+ N(0, 1) min on days with any exercise, >= 0),
    ``strength_sessions`` ~ Bernoulli(0.4 p_d) on weekdays (0 before the start).

Longest sitting streak (min), the next-day effect
    ``L_d = streak_weekday_min (Mon-Fri) or streak_weekend_min (Sat/Sun) + e_d +
    streak_effect_min x adherence_(d-1)``, with ``e_d`` a stationary AR(1) (``streak_phi``,
    marginal SD ``streak_sd_min``), clipped to >= 1 min (rarely binding). Total sitting is
    consistent with it: ``sitting_min = 150 + 3.2 L_d + N(0, 30)``, clipped to
    [``L_d``, 0.9 wear]; the mean bout is ``L_d / 3 x exp(N(0, 0.15))``, bouts =
    sitting / mean bout (>= 1), breaks = bouts, ``breaks_per_sitting_hour`` = breaks / sitting h;
    bouts over 30/45 min follow an exponential bout-length law. Wear is 15 h +- 1 h (clipped to
    10.5-18 h); a fraction ``short_wear_rate`` of days is worn 3-9.5 h (the analysis must drop
    those, < 10 h) and ``missing_day_rate`` of days have no row at all.

Pace-adjusted weekly stride (m), the next-week effect
    ``S_w = stride_baseline_m + r_w + stride_effect_m x A_(w-1) + m_w`` with ``A_w`` the mean
    daily adherence of week ``w``, ``r_w`` a stationary AR(1) (``stride_week_phi``, SD
    ``stride_week_sd_m``: real week-to-week change) and ``m_w ~ N(0, stride_measurement_sd_m)``
    (the estimate's own error); ``ci_low/high = S_w -+ 1.96 x (that SD x U(0.8, 1.25))``.
    About 5 % of weeks have too few strides (NaN value, note "not enough data: ..."). With
    ``watch_series`` a second series (``watch1`` / ``watch_derived`` / walking) is added: 8 cm
    shorter (step-derived), twice the noise, 40 % of weeks without enough strides - the
    analysis must pick one series and never pool the two.

Symptoms
    ``pain = clip(round(3 + P_d + pain_effect x adherence_(d-1) + N(0, 0.7)), 0, 10)`` with
    ``P_d`` a slowly varying AR(1) (phi 0.95, SD 1); ``stiffness = clip(round(3.5 + 0.6 P_d +
    Q_d + stiffness_effect x adherence_(d-1) + N(0, 0.7)), 0, 10)`` with ``Q_d`` another such
    AR(1) of SD 0.8. Each is logged on a day with probability ``symptom_log_rate`` (else NaN).
    With the default effects 0 there is no causal link.

``truth`` holds the true effects per +1.0 adherence: ``longest_streak_min_next_day``
(``streak_effect_min``), ``longest_streak_min_same_day`` (0), ``sitting_h_next_day``
(3.2 x ``streak_effect_min`` / 60), ``stride_adjusted_m_next_week`` (``stride_effect_m``),
``stride_adjusted_m_same_week`` (0), ``pain_0_10_next_day``, ``stiffness_0_10_next_day``; and
for the routine start: ``expected_adherence`` (the stationary mean of adherence after the start,
exact: the mean of a clipped normal over weekdays and weekend days) and
``level_change_min`` = ``streak_effect_min x expected_adherence``, the expected jump of the
longest-streak level at the start, with no change in its trend (the true trend change is 0).
``level_change_realised_min`` is the same with the person's realised mean adherence over the
days after the start.

Written here (not a library): the model is specific to this project's tables.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd
from scipy import stats

from sensors.schema import DERIVED_TABLES

EXERCISES = 5
"""Exercises in the daily routine (breathing + pelvic tilts, couch stretch, psoas march, band hip
flexion, reverse lunges): adherence moves in steps of 1/5."""
SITTING_BASE_MIN = 150.0
SITTING_PER_STREAK_MIN = 3.2
SAMPLE_RATE_HZ = 50.0


@dataclass
class SimulatedRoutine:
    """The four input tables of ``analysis.insights`` and the true effects behind them."""

    adherence_daily: pd.DataFrame
    symptoms: pd.DataFrame
    daily_summary: pd.DataFrame
    weekly_stride: pd.DataFrame
    truth: dict[str, float] = field(default_factory=dict)
    start_day: str | None = None
    """First day of the routine (the first day of ``start_week``), None if it never starts."""


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    """A stationary AR(1) series of length ``n`` with marginal SD ``sd``."""
    shocks = rng.normal(0.0, 1.0, n)
    out = np.empty(n)
    out[0] = shocks[0]
    scale = math.sqrt(1.0 - phi * phi)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + scale * shocks[i]
    return sd * out


def _clipped_normal_mean(mean: float, sd: float) -> float:
    """E[clip(X, 0, 1)] for X ~ N(mean, sd^2)."""
    if sd <= 0:
        return float(np.clip(mean, 0.0, 1.0))
    a, b = (0.0 - mean) / sd, (1.0 - mean) / sd
    inside = mean * (stats.norm.cdf(b) - stats.norm.cdf(a)) + sd * (
        stats.norm.pdf(a) - stats.norm.pdf(b)
    )
    return float(inside + stats.norm.sf(b))


def simulate_routine_weeks(
    weeks: int = 12,
    seed: int = 0,
    stride_effect_m: float = 0.03,
    streak_effect_min: float = -15.0,
    start_week: int = 0,
    *,
    first_day: str = "2026-01-05",
    pain_effect: float = 0.0,
    stiffness_effect: float = 0.0,
    adherence_mean: float = 0.6,
    adherence_week_sd: float = 0.25,
    adherence_week_phi: float = 0.6,
    weekend_adherence_shift: float = 0.1,
    streak_weekday_min: float = 75.0,
    streak_weekend_min: float = 55.0,
    streak_phi: float = 0.4,
    streak_sd_min: float = 18.0,
    stride_baseline_m: float = 1.30,
    stride_week_phi: float = 0.5,
    stride_week_sd_m: float = 0.007,
    stride_measurement_sd_m: float = 0.004,
    missing_day_rate: float = 0.03,
    short_wear_rate: float = 0.05,
    symptom_log_rate: float = 0.85,
    watch_series: bool = True,
    device_id: str = "thigh1",
) -> SimulatedRoutine:
    """Simulate ``weeks`` weeks of one person (see the module docstring for the exact model).

    Effects are per +1.0 adherence (a fully done routine vs none): ``streak_effect_min`` on the
    next day's longest sitting streak (min), ``stride_effect_m`` on the next week's pace-adjusted
    stride length (m), ``pain_effect`` / ``stiffness_effect`` on the next day's pain / stiffness
    (0-10 points). Zero effects give null data. Same arguments give identical tables.
    """
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    rng = np.random.default_rng(seed)
    monday = dt.date.fromisoformat(first_day)
    monday -= dt.timedelta(days=monday.weekday())
    n_days = 7 * (weeks + 1)  # index 0..6 is the burn-in week
    week_of = np.arange(n_days) // 7 - 1
    weekend = (np.arange(n_days) % 7) >= 5

    # Adherence.
    z = _ar1(rng, weeks + 1, adherence_week_phi, 1.0)
    propensity = np.clip(
        adherence_mean + adherence_week_sd * z[week_of + 1] + weekend_adherence_shift * weekend,
        0.0,
        1.0,
    )
    started = week_of >= start_week
    propensity = np.where(started, propensity, 0.0)
    adherence = rng.binomial(EXERCISES, propensity) / EXERCISES
    mobility = np.where(adherence > 0, 10.0 * adherence + rng.normal(0.0, 1.0, n_days), 0.0)
    strength = (~weekend & (rng.random(n_days) < 0.4 * propensity)).astype(np.int64)
    previous_adherence = np.concatenate([[0.0], adherence[:-1]])

    # Sitting.
    base = np.where(weekend, streak_weekend_min, streak_weekday_min)
    streak = base + _ar1(rng, n_days, streak_phi, streak_sd_min)
    streak = np.maximum(streak + streak_effect_min * previous_adherence, 1.0)
    wear_h = np.clip(rng.normal(15.0, 1.0, n_days), 10.5, 18.0)
    short = rng.random(n_days) < short_wear_rate
    wear_h = np.where(short, rng.uniform(3.0, 9.5, n_days), wear_h)
    sitting_min = SITTING_BASE_MIN + SITTING_PER_STREAK_MIN * streak + rng.normal(0, 30, n_days)
    sitting_min = np.clip(sitting_min, streak, np.maximum(streak, 0.9 * 60.0 * wear_h))
    mean_bout = streak / 3.0 * np.exp(rng.normal(0.0, 0.15, n_days))
    bouts = np.maximum(1, np.round(sitting_min / mean_bout)).astype(np.int64)
    over30 = np.maximum((streak >= 30).astype(np.int64), np.round(bouts * np.exp(-30 / mean_bout)))
    over45 = np.maximum((streak >= 45).astype(np.int64), np.round(bouts * np.exp(-45 / mean_bout)))

    # Symptoms.
    slow_pain = _ar1(rng, n_days, 0.95, 1.0)
    slow_stiff = _ar1(rng, n_days, 0.95, 0.8)
    pain = 3.0 + slow_pain + pain_effect * previous_adherence + rng.normal(0, 0.7, n_days)
    stiffness = (
        3.5
        + 0.6 * slow_pain
        + slow_stiff
        + stiffness_effect * previous_adherence
        + rng.normal(0, 0.7, n_days)
    )
    pain = np.clip(np.round(pain), 0.0, 10.0)
    stiffness = np.clip(np.round(stiffness), 0.0, 10.0)
    pain[rng.random(n_days) >= symptom_log_rate] = np.nan
    stiffness[rng.random(n_days) >= symptom_log_rate] = np.nan

    keep = slice(7, n_days)
    dates = [monday + dt.timedelta(days=i) for i in range(n_days - 7)]
    days = [d.isoformat() for d in dates]

    adherence_daily = pd.DataFrame(
        {
            "day": days,
            "adherence": adherence[keep],
            "mobility_minutes": np.round(np.maximum(mobility[keep], 0.0), 1),
            "strength_sessions": strength[keep],
            "done": adherence[keep] >= 1.0,
        }
    )
    symptoms = pd.DataFrame(
        {"day": days, "pain_0_10": pain[keep], "stiffness_0_10": stiffness[keep]}
    )

    midnight_ns = np.array(
        [
            int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp()) * 10**9
            for d in dates
        ],
        dtype=np.int64,
    )
    wear_s = 3600.0 * wear_h[keep]
    sit_s = 60.0 * sitting_min[keep]
    rest = wear_s - sit_s
    present = rng.random(n_days - 7) >= missing_day_rate
    summary = pd.DataFrame(
        {
            "device_id": device_id,
            "day": days,
            "placement": "thigh",
            "samples": np.round(wear_s * SAMPLE_RATE_HZ).astype(np.int64),
            "recorded_s": wear_s,
            "gap_count": 0,
            "missing_samples": 0,
            "first_t": midnight_ns + 7 * 3600 * 10**9,
            "last_t": midnight_ns + (7 * 3600 + np.round(wear_s)).astype(np.int64) * 10**9,
            "wear_s": wear_s,
            "non_wear_s": 86400.0 - wear_s,
            "sitting_s": sit_s,
            "upright_s": 0.7 * rest,
            "lying_s": 0.3 * rest,
            "sitting_bouts": bouts[keep],
            "longest_bout_s": 60.0 * streak[keep],
            "breaks": bouts[keep],
            "breaks_per_sitting_hour": bouts[keep] / (sit_s / 3600.0),
            "bouts_over_30min": over30[keep].astype(np.int64),
            "bouts_over_45min": over45[keep].astype(np.int64),
            "median_bout_s": 60.0 * math.log(2.0) * mean_bout[keep],
            "sit_to_stand": bouts[keep],
            "posture_method": "thigh_inclination",
            "calibration": "none",
            "calibration_error_before_g": np.nan,
            "calibration_error_after_g": np.nan,
        }
    )[present].reset_index(drop=True)
    summary = summary.astype(DERIVED_TABLES["daily_summary"])

    # Weekly stride.
    week_mean = adherence.reshape(weeks + 1, 7).mean(axis=1)
    series = [("foot1", "foot_imu", 0.0, 1.0, 0.05)]
    if watch_series:
        series.append(("watch1", "watch_derived", -0.08, 2.0, 0.40))
    frames = []
    for dev, source, offset, noise, sparse in series:
        real = _ar1(rng, weeks, stride_week_phi, stride_week_sd_m)
        sd = stride_measurement_sd_m * noise
        value = (
            stride_baseline_m
            + offset
            + real
            + stride_effect_m * week_mean[:-1]
            + rng.normal(0, sd, weeks)
        )
        half = 1.96 * sd * rng.uniform(0.8, 1.25, weeks)
        few = rng.random(weeks) < sparse
        frames.append(_weekly_rows(dev, source, monday, value, half, few, rng))
    weekly_stride = pd.concat(frames, ignore_index=True).astype(DERIVED_TABLES["weekly_stride"])

    weekday_mean = _clipped_normal_mean(adherence_mean, adherence_week_sd)
    weekend_mean = _clipped_normal_mean(adherence_mean + weekend_adherence_shift, adherence_week_sd)
    expected = (5 * weekday_mean + 2 * weekend_mean) / 7
    after = previous_adherence[7 + 7 * start_week :] if 0 <= start_week < weeks else []
    realised = float(np.mean(after)) if len(after) else math.nan
    truth = {
        "longest_streak_min_next_day": float(streak_effect_min),
        "longest_streak_min_same_day": 0.0,
        "sitting_h_next_day": SITTING_PER_STREAK_MIN * streak_effect_min / 60.0,
        "stride_adjusted_m_next_week": float(stride_effect_m),
        "stride_adjusted_m_same_week": 0.0,
        "pain_0_10_next_day": float(pain_effect),
        "stiffness_0_10_next_day": float(stiffness_effect),
        "expected_adherence": expected,
        "level_change_min": streak_effect_min * expected,
        "level_change_realised_min": streak_effect_min * realised,
    }
    start_day = (
        (monday + dt.timedelta(days=7 * start_week)).isoformat()
        if 0 <= start_week < weeks
        else None
    )
    return SimulatedRoutine(adherence_daily, symptoms, summary, weekly_stride, truth, start_day)


def _weekly_rows(
    device_id: str,
    source: str,
    monday: dt.date,
    value: np.ndarray,
    half: np.ndarray,
    few: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """``weekly_stride`` rows of one (device, source, walking) series."""
    rows = []
    previous: tuple[str, float, float] | None = None
    for w in range(len(value)):
        iso = (monday + dt.timedelta(days=7 * w)).isocalendar()
        week = f"{iso.year}-W{iso.week:02d}"
        strides = int(rng.integers(10, 45)) if few[w] else int(rng.poisson(600))
        days = 1 if few[w] else int(rng.integers(3, 8))
        row: dict[str, object] = {
            "device_id": device_id,
            "source": source,
            "mode": "walking",
            "week": week,
            "strides": strides,
            "days": days,
            "median_stride_length_m": value[w] + rng.normal(0, 0.02),
            "adjusted_stride_length_m": math.nan,
            "ci_low_m": math.nan,
            "ci_high_m": math.nan,
            "reference_speed_mps": 1.35,
            "median_cadence_spm": 110.0 + rng.normal(0, 2),
            "median_speed_mps": 1.35 + rng.normal(0, 0.05),
            "diff_prev_m": math.nan,
            "diff_prev_ci_low_m": math.nan,
            "diff_prev_ci_high_m": math.nan,
            "note": "",
        }
        if few[w]:
            row["note"] = f"not enough data: {strides} strides on {days} day(s) (needs 50 on 2)"
            previous = None
        else:
            row.update(
                adjusted_stride_length_m=value[w],
                ci_low_m=value[w] - half[w],
                ci_high_m=value[w] + half[w],
            )
            if previous is not None:
                spread = math.hypot(half[w], previous[2])
                row.update(
                    diff_prev_m=value[w] - previous[1],
                    diff_prev_ci_low_m=value[w] - previous[1] - spread,
                    diff_prev_ci_high_m=value[w] - previous[1] + spread,
                    note=f"vs {previous[0]}",
                )
            previous = (week, float(value[w]), float(half[w]))
        rows.append(row)
    return pd.DataFrame(rows)


DEFAULT_EXERCISES: Final = (
    "breathing_pelvic_tilts",
    "couch_stretch",
    "psoas_march",
    "band_hip_flexion",
    "reverse_lunge",
)
"""The exercise ids of psoas' built-in 10-minute program (``analysis/routine_program.py``), each
2 of its 10 minutes: k of them done on a day is an adherence of k / 5."""


def routine_log_csv(sim: SimulatedRoutine) -> str:
    """The simulated person's routine log as the CSV ``psoas routine import`` reads: on a day of
    adherence k / 5 the first k exercises of the built-in program done as prescribed (both
    sides), a ``strength`` session per simulated session, and the day's pain and stiffness."""
    lines = ["day,kind,item,side,value"]
    for row in sim.adherence_daily.itertuples(index=False):
        done = round(float(row.adherence) * EXERCISES)
        lines += [f"{row.day},exercise,{item},both," for item in DEFAULT_EXERCISES[:done]]
        if row.strength_sessions > 0:
            lines.append(f"{row.day},session,strength,,")
    for row in sim.symptoms.itertuples(index=False):
        for item, value in (("pain", row.pain_0_10), ("stiffness", row.stiffness_0_10)):
            if value == value:  # not NaN
                lines.append(f"{row.day},symptom,{item},,{value:g}")
    return "\n".join(lines) + "\n"
