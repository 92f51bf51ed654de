"""Week-against-week stride length at comparable pace, with honest uncertainty.

A runner's question is "how long is my stride at this pace?": stride length grows with speed, so
weeks are compared at comparable speed, separately for walking and running (cadence below /
above ``RUNNING_CADENCE_SPM``) and for each device and source (a watch's step length is never
pooled with a foot IMU's strides). At a given speed a longer stride means fewer steps: a stride
that lengthens at an unchanged cadence (and so raises the speed) shows at comparable speed as the
smaller change it is at that speed - the simulator's ``stride_scale`` of +4 % reads about +1.5 %.

Method, per (device, source, gait mode):

0. Each stride's pace is the mean speed of the strides around it (:func:`local_pace`).
1. The person's stride-speed relation over all weeks: ``BAND_MPS`` speed bands (at least
   ``MIN_BAND_STRIDES`` strides each), each with its own level and a common within-band slope
   (:func:`pace_residuals`).
2. Each stride's residual from that relation; a week's *pace-adjusted stride length* is the
   relation at the person's overall median speed plus the week's median residual. If pace alone
   changes, strides move along the relation and the adjusted value stays; if the stride changes
   at the same pace, every residual moves.
3. Uncertainty by a cluster bootstrap over days (strides of one day are not independent):
   ``BOOTSTRAP`` resamples of the week's days; 95 % percentile intervals for the weekly value
   and for the difference between two weeks.
4. Over the weeks: Theil-Sen slope (m/week) with a 95 % interval that covers both the weeks'
   spread (Sen's interval) and each week's own uncertainty (slopes of weekly values redrawn
   within their intervals), the Mann-Kendall test (Kendall's tau of value against week, exact p
   for few weeks), and a single change point (the split with the largest mean shift;
   permutation p-value). A trend is stated only when the interval excludes 0 and p < 0.05.
5. A week with fewer than ``MIN_WEEK_STRIDES`` strides (or data on fewer than 2 days) says
   "not enough data" instead of a number; trends need at least ``MIN_TREND_WEEKS`` such weeks.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from scipy import stats

from sensors.schema import DERIVED_TABLES

RUNNING_CADENCE_SPM: Final = 140.0
"""Walking cadence rarely exceeds ~130 steps/min, running rarely falls below ~150."""
BAND_MPS: Final = 0.05
PACE_WINDOW: Final = 11
PACE_GAP_S: Final = 10.0
MIN_BAND_STRIDES: Final = 20
MIN_WEEK_STRIDES: Final = 50
MIN_WEEK_DAYS: Final = 2
MIN_TREND_WEEKS: Final = 4
BOOTSTRAP: Final = 1000
BOOTSTRAP_BIN_M: Final = 0.0005
TREND_DRAWS: Final = 2000
SEED: Final = 20261125
NOT_ENOUGH: Final = "not enough data"

WEEKLY_COLUMNS: Final = DERIVED_TABLES["weekly_stride"]


def gait_mode(cadence_spm: np.ndarray) -> np.ndarray:
    return np.where(np.asarray(cadence_spm) >= RUNNING_CADENCE_SPM, "running", "walking")


def stride_modes(strides: pd.DataFrame) -> np.ndarray:
    """Walking or running for each stride row (no cadence: walking)."""
    return gait_mode(strides["cadence_spm"].fillna(0).to_numpy())


def iso_week(days: pd.Series) -> pd.Series:
    """ISO week labels ``YYYY-Www`` of local days (``YYYY-MM-DD``)."""
    iso = pd.to_datetime(days).dt.isocalendar()
    return iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)


def local_pace(t_ns: np.ndarray, speed_mps: np.ndarray) -> np.ndarray:
    """Each stride's pace: the mean speed of the ``PACE_WINDOW`` strides centred on it within its
    stretch of gait (strides less than ``PACE_GAP_S`` apart).

    A stride's own speed is its length over its time, so its measurement error is in both the
    stride and the pace it would be compared at; against a pace taken over its neighbours that
    error no longer biases the comparison when the mix of paces changes between weeks.
    """
    n = len(t_ns)
    if n == 0:
        return speed_mps.astype(np.float64)
    breaks = np.flatnonzero(np.diff(t_ns) > PACE_GAP_S * 1e9) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [n]])  # exclusive
    stretch = np.repeat(np.arange(len(starts)), ends - starts)
    index = np.arange(n)
    half = PACE_WINDOW // 2
    lo = np.maximum(index - half, starts[stretch])
    hi = np.minimum(index + half + 1, ends[stretch])
    total = np.concatenate([[0.0], np.cumsum(speed_mps, dtype=np.float64)])
    return (total[hi] - total[lo]) / (hi - lo)


def pace_residuals(speed_mps: np.ndarray, stride_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(residual m, usable) of each stride from the person's stride-speed relation.

    Speed bands of ``BAND_MPS`` with at least ``MIN_BAND_STRIDES`` strides; within a band the
    stride follows a common slope (pooled within-band least squares: how stride length changes
    with speed inside a narrow band) around the band's own level (the median of stride - slope x
    speed), so a shift of speeds inside a band is not read as a stride change.
    """
    band = np.floor(speed_mps / BAND_MPS).astype(np.int64)
    frame = pd.DataFrame({"band": band, "v": speed_mps, "L": stride_m})
    counts = frame.groupby("band")["L"].transform("size").to_numpy()
    usable = counts >= MIN_BAND_STRIDES
    if not usable.any():
        return np.full(len(stride_m), np.nan), usable
    inside = frame[usable]
    dv = inside["v"] - inside.groupby("band")["v"].transform("mean")
    dl = inside["L"] - inside.groupby("band")["L"].transform("mean")
    slope = float((dv * dl).sum() / (dv * dv).sum()) if float((dv * dv).sum()) > 0 else 0.0
    level = (inside["L"] - slope * inside["v"]).groupby(inside["band"]).transform("median")
    residual = np.full(len(stride_m), np.nan)
    residual[usable] = (inside["L"] - slope * inside["v"] - level).to_numpy()
    return residual, usable


@dataclass
class Prepared:
    """One (device, source, mode) group's strides with residuals from the person's curve."""

    frame: pd.DataFrame  # week, day, stride_length_m, cadence_spm, speed_mps, residual
    reference_speed_mps: float
    reference_stride_m: float


def prepare(strides: pd.DataFrame) -> Prepared | None:
    """Residuals of one group's strides (columns ``day``, ``stride_length_m``, ``cadence_spm``,
    ``speed_mps``); None when no cadence band has enough strides."""
    valid = strides[
        np.isfinite(strides["stride_length_m"]) & np.isfinite(strides["speed_mps"])
    ].copy()
    if valid.empty:
        return None
    valid = valid.sort_values("t", kind="stable")
    speed = local_pace(valid["t"].to_numpy(np.int64), valid["speed_mps"].to_numpy(np.float64))
    stride = valid["stride_length_m"].to_numpy(np.float64)
    residual, usable = pace_residuals(speed, stride)
    if not usable.any():
        return None
    valid = valid[usable].copy()
    valid["residual"] = residual[usable]
    valid["week"] = iso_week(valid["day"]).to_numpy()
    reference_speed = float(np.median(speed[usable]))
    near = np.abs(speed[usable] - reference_speed) <= BAND_MPS
    reference_stride = float(np.median(stride[usable][near] - residual[usable][near]))
    return Prepared(valid, reference_speed, reference_stride)


def _day_groups(frame: pd.DataFrame) -> list[np.ndarray]:
    return [g.to_numpy(np.float64) for _, g in frame.groupby("day")["residual"]]


def _bootstrap_medians(days: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Medians of ``BOOTSTRAP`` resamples (with replacement) of whole days.

    Each day's residuals become a histogram of ``BOOTSTRAP_BIN_M`` bins, so a resample is a
    weighted sum of day histograms and its median a search in the cumulative counts: the
    interval is exact to half a bin (0.25 mm) and costs the same for 100 or 100,000 strides.
    """
    low = min(float(d.min()) for d in days)
    high = max(float(d.max()) for d in days)
    bins = min(20_000, max(1, int(np.ceil((high - low) / BOOTSTRAP_BIN_M)) + 1))
    edges = low + np.arange(bins + 1) * BOOTSTRAP_BIN_M
    histograms = np.stack([np.histogram(d, bins=edges)[0] for d in days]).astype(np.float64)
    picks = rng.integers(0, len(days), size=(BOOTSTRAP, len(days)))
    weights = np.zeros((BOOTSTRAP, len(days)))
    np.add.at(weights, (np.arange(BOOTSTRAP)[:, None], picks), 1.0)
    cumulative = np.cumsum(weights @ histograms, axis=1)
    half = cumulative[:, -1:] / 2.0
    index = (cumulative < half).sum(axis=1)
    return edges[index] + BOOTSTRAP_BIN_M / 2.0


def weekly_table(strides: pd.DataFrame) -> pd.DataFrame:
    """``weekly_stride`` rows for every (device, source, mode) and ISO week.

    ``strides``: ``device_id, day, stride_length_m, cadence_spm, speed_mps, source``; strides
    without speed or cadence are left out (no pace to compare at).
    """
    if strides.empty:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in WEEKLY_COLUMNS.items()})
    rows: list[dict[str, object]] = []
    strides = strides.assign(mode=stride_modes(strides))
    for (device_id, source, mode), group in strides.groupby(["device_id", "source", "mode"]):
        prepared = prepare(group)
        if prepared is None:
            rows += _rows_without_pace_relation(device_id, source, mode, group)
            continue
        rng = np.random.default_rng(SEED)
        previous: tuple[str, list[np.ndarray], float] | None = None
        for week, frame in prepared.frame.groupby("week", sort=True):
            days = _day_groups(frame)
            row: dict[str, object] = {
                "device_id": device_id,
                "source": source,
                "mode": mode,
                "week": week,
                "strides": len(frame),
                "days": len(days),
                "median_stride_length_m": float(frame["stride_length_m"].median()),
                "reference_speed_mps": prepared.reference_speed_mps,
                "median_cadence_spm": float(frame["cadence_spm"].median()),
                "median_speed_mps": float(frame["speed_mps"].median()),
                "adjusted_stride_length_m": np.nan,
                "ci_low_m": np.nan,
                "ci_high_m": np.nan,
                "diff_prev_m": np.nan,
                "diff_prev_ci_low_m": np.nan,
                "diff_prev_ci_high_m": np.nan,
                "note": "",
            }
            if len(frame) < MIN_WEEK_STRIDES or len(days) < MIN_WEEK_DAYS:
                row["note"] = (
                    f"{NOT_ENOUGH}: {len(frame)} strides on {len(days)} day(s) "
                    f"(needs {MIN_WEEK_STRIDES} on {MIN_WEEK_DAYS})"
                )
                rows.append(row)
                previous = None
                continue
            median = float(np.median(frame["residual"]))
            boot = _bootstrap_medians(days, rng)
            row["adjusted_stride_length_m"] = prepared.reference_stride_m + median
            low, high = np.percentile(boot, [2.5, 97.5])
            row["ci_low_m"] = prepared.reference_stride_m + low
            row["ci_high_m"] = prepared.reference_stride_m + high
            if previous is not None:
                diff, diff_low, diff_high = _difference(previous[1], days, previous[2], median, rng)
                row["diff_prev_m"] = diff
                row["diff_prev_ci_low_m"], row["diff_prev_ci_high_m"] = diff_low, diff_high
                row["note"] = f"vs {previous[0]}"
            rows.append(row)
            previous = (str(week), days, median)
    out = pd.DataFrame(rows).reindex(columns=list(WEEKLY_COLUMNS))
    return out.astype(WEEKLY_COLUMNS) if len(out) else weekly_table(strides.iloc[:0])


def _rows_without_pace_relation(
    device_id: str, source: str, mode: str, group: pd.DataFrame
) -> list[dict[str, object]]:
    """Weekly rows of a group too small for a stride-pace relation: raw medians, no estimate."""
    group = group.assign(week=iso_week(group["day"]).to_numpy())
    return [
        {
            "device_id": device_id,
            "source": source,
            "mode": mode,
            "week": week,
            "strides": len(frame),
            "days": frame["day"].nunique(),
            "median_stride_length_m": float(frame["stride_length_m"].median()),
            "median_cadence_spm": float(frame["cadence_spm"].median()),
            "median_speed_mps": float(frame["speed_mps"].median()),
            "note": f"{NOT_ENOUGH}: no pace band with {MIN_BAND_STRIDES} strides yet",
        }
        for week, frame in group.groupby("week", sort=True)
    ]


def _difference(
    days_a: list[np.ndarray],
    days_b: list[np.ndarray],
    median_a: float,
    median_b: float,
    rng: np.random.Generator,
) -> tuple[float, float, float]:
    """(b - a, 95 % interval) of the weeks' median residuals, days resampled independently."""
    boot = _bootstrap_medians(days_b, rng) - _bootstrap_medians(days_a, rng)
    low, high = np.percentile(boot, [2.5, 97.5])
    return median_b - median_a, float(low), float(high)


def compare_weeks(strides: pd.DataFrame, week_a: str, week_b: str) -> dict[str, object] | None:
    """Week B minus week A (pace-adjusted) for one group's strides, with its interval and
    the number of strides behind each side; None if the group has no curve."""
    prepared = prepare(strides)
    if prepared is None:
        return None
    frame = prepared.frame
    a, b = frame[frame["week"] == week_a], frame[frame["week"] == week_b]
    out: dict[str, object] = {"week_a": week_a, "week_b": week_b, "n_a": len(a), "n_b": len(b)}
    short = [w for w, f in ((week_a, a), (week_b, b)) if len(f) < MIN_WEEK_STRIDES]
    if short:
        out["statement"] = f"{NOT_ENOUGH} in {', '.join(short)}"
        return out
    rng = np.random.default_rng(SEED)
    diff, low, high = _difference(
        _day_groups(a),
        _day_groups(b),
        float(a["residual"].median()),
        float(b["residual"].median()),
        rng,
    )
    out.update(diff_m=diff, ci_low_m=low, ci_high_m=high)
    out["statement"] = _diff_sentence(week_a, week_b, diff, low, high, len(a), len(b))
    return out


def _diff_sentence(a: str, b: str, diff: float, low: float, high: float, na: int, nb: int) -> str:
    verdict = "no clear change" if low <= 0 <= high else ("longer" if diff > 0 else "shorter")
    return (
        f"{b} vs {a}: {100 * diff:+.1f} cm (95 % CI {100 * low:+.1f} to {100 * high:+.1f} cm; "
        f"n = {na} and {nb} strides) - {verdict} at comparable pace"
    )


@dataclass
class Trend:
    """The weekly values' trend; every number with its n and interval."""

    weeks: int
    slope_m_per_week: float
    slope_ci_low: float
    slope_ci_high: float
    mann_kendall_tau: float
    mann_kendall_p: float
    change_week: str | None
    change_p: float
    statement: str


def trend(weekly: pd.DataFrame) -> Trend:
    """Trend over one group's weekly rows (weeks without enough data are left out)."""
    usable = weekly[np.isfinite(weekly["adjusted_stride_length_m"])].sort_values("week")
    n = len(usable)
    if n < MIN_TREND_WEEKS:
        return Trend(
            n,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            math.nan,
            None,
            math.nan,
            f"{NOT_ENOUGH} for a trend: {n} week(s) with enough strides (needs {MIN_TREND_WEEKS})",
        )
    y = usable["adjusted_stride_length_m"].to_numpy(np.float64)
    x = np.arange(n, dtype=np.float64)
    slope, _, low, high = stats.theilslopes(y, x, alpha=0.95)
    # Each weekly value is itself uncertain (its day bootstrap): slopes of weekly values redrawn
    # within their intervals widen the interval where the weeks' own spread does not.
    se = (usable["ci_high_m"] - usable["ci_low_m"]).to_numpy(np.float64) / (2 * 1.96)
    draws = np.random.default_rng(SEED).normal(y, se, size=(TREND_DRAWS, n))
    slopes = _theil_sen_slopes(draws, x)
    low = min(low, float(np.percentile(slopes, 2.5)))
    high = max(high, float(np.percentile(slopes, 97.5)))
    tau, p = stats.kendalltau(x, y)
    change_at, change_p = change_point(y)
    change_week = str(usable["week"].iloc[change_at]) if change_at is not None else None
    if (low > 0 or high < 0) and p < 0.05:
        direction = "longer" if slope > 0 else "shorter"
        verdict = f"stride is getting {direction}"
    else:
        verdict = "no clear trend"
    statement = (
        f"{verdict}: {100 * slope:+.2f} cm/week (95 % CI {100 * low:+.2f} to "
        f"{100 * high:+.2f}; Mann-Kendall tau {tau:+.2f}, p = {p:.3f}; n = {n} weeks)"
    )
    if change_week is not None and change_p < 0.05:
        statement += f"; a step change from {change_week} (p = {change_p:.3f})"
    return Trend(
        n,
        float(slope),
        float(low),
        float(high),
        float(tau),
        float(p),
        change_week,
        float(change_p),
        statement,
    )


def _theil_sen_slopes(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Theil-Sen slope of every row of ``y`` (draws x weeks) against ``x``, vectorised."""
    i, j = np.triu_indices(len(x), k=1)
    return np.median((y[:, j] - y[:, i]) / (x[j] - x[i]), axis=1)


def change_point(y: np.ndarray, permutations: int = 2000) -> tuple[int | None, float]:
    """(index where the later segment starts, permutation p) of the largest mean shift."""
    n = len(y)
    if n < 4:
        return None, math.nan

    def best(values: np.ndarray) -> tuple[int, float]:
        shifts = [
            abs(values[k:].mean() - values[:k].mean()) * math.sqrt(k * (n - k) / n)
            for k in range(2, n - 1)
        ]
        k = int(np.argmax(shifts))
        return k + 2, shifts[k]

    at, observed = best(y)
    if math.factorial(n) <= permutations:
        orders = (np.array(p) for p in itertools.permutations(range(n)))
        total = math.factorial(n)
    else:
        rng = np.random.default_rng(SEED)
        orders = (rng.permutation(n) for _ in range(permutations))
        total = permutations
    as_large = sum(best(y[order])[1] >= observed - 1e-12 for order in orders)
    return at, as_large / total
