"""Honest insights: how a person's psoas-routine adherence moves with their sitting, stride and
symptoms.

Every statement is an *effect with its 95 % interval and the n behind it*, never a bare
correlation coefficient: "on days after you did the routine fully your longest sitting streak was
14 min shorter (95 % CI 6 to 22 min; n = 78 days)". With too little data the answer is "not
enough data yet" (with the n there is and the n needed). A statement is called a *finding* only
when it survives a Holm-Bonferroni correction across the whole family of associations tested for
the person (up to 20), so that looking at many numbers does not turn noise into a claim. These
are associations in one person's observational data, not proof of cause.

Inputs (frames; nothing here touches disk)
    ``adherence_daily`` (``day``, ``adherence`` 0-1, ``mobility_minutes``,
    ``strength_sessions``; from ``analysis/routine.py``), ``symptoms`` (``day``, ``pain_0_10``,
    ``stiffness_0_10``, NaN when not logged), the store's ``daily_summary`` and
    ``weekly_stride`` tables. Sitting comes from the ``combined`` timeline when the person has
    one, else from the device with the most days worn at least ``MIN_WEAR_S`` (10 h); days worn
    less are left out of the sitting outcomes (a half-worn day under-counts sitting and cuts
    streaks short). Stride comes from one (device, source, mode) series of ``weekly_stride`` -
    the one with the most usable weeks (a pace-adjusted value) in the weeks of the routine log -
    and is labelled wherever it is shown; sources are never pooled (a watch's step-derived
    stride and a foot IMU's stride differ by centimetres).

Effects (:func:`associations`)
    Unit: per **+1.0 adherence**, i.e. the routine fully done vs not at all (on a day; on every
    day of a week for weekly effects). ``effect_sd`` restates it for a +0.5 change in SDs of the
    outcome (its SD over the days or weeks used).

    Daily, per outcome: ``y_d = week_(d) + b_same a_d + b_next a_(d-1) + g weekend_d + e_d`` by
    OLS, ``a`` = adherence, ``week_(d)`` one level per ISO week. ``b_same`` is the "same day"
    effect and ``b_next`` the "next day" one (the outcome on day d+1 against adherence on day d);
    both come from one distributed-lag fit, so each is adjusted for the other (adherence is
    autocorrelated: fitted alone, a next-day effect shows up as a spurious same-day one). The
    week levels make every daily comparison one between days of the same week: slow drifts
    (pain easing over a month, a new job) cannot pose as effects, and the weekend term keeps
    "more routine and less desk sitting at weekends" from posing as one. Weekly, per outcome:
    ``y_w = b0 + b_same A_w + b_next A_(w-1) + c w + e_w`` with ``A`` the week's mean adherence
    and a linear trend over weeks (12 weeks cannot carry more).

    Why (``sensors/simulate_routine.py``, 200 simulated people of 12 weeks each): with a linear
    trend in place of the week levels, slowly varying pain and stiffness gave 6 % of people
    without any effect a "finding" (single tests at the 5 % level fired up to 11 % of the time);
    with the week levels 3 % (every daily test at most 5.3 %), and the next-day streak interval
    covered the truth for 97 % of people with an effect. Without any trend: 10.5 %. The price is
    honesty about power: a true -15 min next-day streak effect (estimate SD ~10 min at 12 weeks)
    becomes a Holm-surviving "finding" for only ~5 % of people; the rest read "no clear
    association" with an interval that contains it.

Standard errors (:func:`ols_hac`)
    Newey-West HAC with the Bartlett kernel for each coefficient, computed on its influence
    series ``(X'X)^-1 x_t e_t`` laid out on the calendar (a missing day is a zero, so two days
    only count as adjacent when they are), times the small-sample factor n / (n - k), with
    Student-t quantiles on n - k degrees of freedom.

    - Bandwidth (:func:`bandwidth`, rule ``auto``): the larger of the Newey-West (1994) lag
      ``floor(4 (n/100)^(2/9))`` (3 for 84 days, 2 for 12 weeks) and Andrews' (1991) AR(1)
      plug-in, at most n/4 lags.
    - Prewhitening (Andrews & Monahan 1992, AR(1)): the residuals' lag-1 autocorrelation,
      corrected for its small-sample bias (:func:`residual_ar1`), scaled by how smooth the
      coefficient's influence weights are; the kernel runs on the whitened series and the result
      is recoloured. Without it the routine-start level change's standard error was a quarter
      too small.
    - Floor: no variance below the conventional OLS one (Angrist & Pischke 2009, sec. 8.1:
      robust variances are biased down in small samples). At 11 weeks the HAC variance alone
      declared a true null significant 15-19 % of the time at the 5 % level; with the floor
      4-10 %.

    Minimum data: ``MIN_DAILY_PAIRS`` days or ``MIN_WEEKLY_PAIRS`` weeks that have the outcome
    and the adherence of that day/week and the one before, and adherence that varies (SD above
    ``MIN_ADHERENCE_SD`` over those rows, both lags). Below that the row has NaN numbers and the
    status ``not enough data yet (n=..., need ...)`` and is not tested. A week's mean adherence
    and each weekly outcome need ``MIN_WEEK_DAYS`` days with a value.

Routine start (:func:`routine_start_effect`)
    Interrupted time series: ``y_d = b0 + b1 t + b2 post + b3 t post + g weekend + e``, t in days
    from the start: ``b2`` is the change of level at the start, ``b3`` the change of trend. Same
    HAC errors, prewhitened with the residuals' full AR(1) (its regressors of interest are steps
    and ramps, whose influence weights are smooth). ``start_day`` defaults to the first day with
    adherence > 0 after ``MIN_START_DAYS`` days without; each side needs ``MIN_START_DAYS`` days
    with the outcome. Measured (200 simulated people, routine from week 4 of 12): the interval
    of the level change covered the truth (next-day streak effect x expected adherence) for
    92.5 % (88 % without prewhitening), and 5.5 % of people without an effect got a "clear
    change" (9.5 % without).

Written here rather than with statsmodels: the project keeps to numpy/scipy/pandas, and the
estimators needed (OLS, Bartlett HAC on a calendar grid with gaps and prewhitening, Holm) are a
few lines each.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from scipy import stats

from analysis.adherence import daily_adherence
from analysis.regression import Fit, holm, ols_hac
from analysis.routine import daily_symptoms
from analysis.routine_program import Program
from analysis.trends import iso_week
from sensors.errors import SchemaError

MIN_WEAR_S: Final = 36_000.0
"""Days worn less than 10 h are left out of the sitting outcomes."""
MIN_DAILY_PAIRS: Final = 21
"""Days with an outcome and the adherence of that day and the day before, for daily effects."""
MIN_WEEKLY_PAIRS: Final = 6
"""Weeks with an outcome and the adherence of that week and the week before, for weekly
effects."""
MIN_ADHERENCE_SD: Final = 0.05
"""Adherence must vary (SD over the rows used) by more than this for an effect to be estimable."""
MIN_WEEK_DAYS: Final = 4
"""Days with a value a week needs for its weekly mean (adherence and each outcome)."""
MIN_START_DAYS: Final = 14
"""Days with the outcome a routine-start comparison needs on each side of the start, and days
without the routine before a start."""
ALPHA: Final = 0.05
"""Family-wise error rate of the Holm-Bonferroni correction; intervals are 1 - ALPHA."""
STANDARDISED_CHANGE: Final = 0.5
"""The adherence change the standardised effect ``effect_sd`` is expressed for."""
COMBINED: Final = "combined"
"""device_id of a person's combined timeline in ``daily_summary``."""

FINDING: Final = "finding"
NO_CLEAR: Final = "no clear association"
NOT_ENOUGH: Final = "not enough data yet"

DAILY_OUTCOMES: Final = (
    "longest_streak_min",
    "sitting_h",
    "breaks_per_sitting_hour",
    "pain_0_10",
    "stiffness_0_10",
)
WEEKLY_OUTCOMES: Final = (
    "stride_adjusted_m",
    "longest_streak_min",
    "sitting_h",
    "pain_0_10",
    "stiffness_0_10",
)
DAILY_LAGS: Final = ((0, "same day"), (1, "next day"))
WEEKLY_LAGS: Final = ((0, "same week"), (1, "next week"))

DAILY_COLUMNS: Final = {
    "day": "str",
    "week": "str",
    "adherence": "float64",
    "mobility_minutes": "float64",
    "strength_sessions": "float64",
    "sitting_h": "float64",
    "longest_streak_min": "float64",
    "breaks_per_sitting_hour": "float64",
    "pain_0_10": "float64",
    "stiffness_0_10": "float64",
}
"""Columns of :func:`daily_insight_table` (``strength_sessions`` is float: NaN = not logged)."""

WEEKLY_COLUMNS: Final = {
    "week": "str",
    "days": "int64",
    "adherence": "float64",
    "strength_sessions": "float64",
    "sitting_h": "float64",
    "longest_streak_min": "float64",
    "breaks_per_sitting_hour": "float64",
    "pain_0_10": "float64",
    "stiffness_0_10": "float64",
    "stride_adjusted_m": "float64",
    "stride_ci_low_m": "float64",
    "stride_ci_high_m": "float64",
    "stride_series": "str",
}
"""Columns of :func:`weekly_insight_table`: means over the week's days (``strength_sessions``:
the week's total), ``days`` = days with adherence logged."""

ASSOCIATION_COLUMNS: Final = {
    "level": "str",
    "outcome": "str",
    "lag": "str",
    "lag_steps": "int64",
    "n": "int64",
    "effect": "float64",
    "ci_low": "float64",
    "ci_high": "float64",
    "se": "float64",
    "df": "float64",
    "p": "float64",
    "p_adjusted": "float64",
    "effect_sd": "float64",
    "outcome_sd": "float64",
    "hac_bandwidth": "float64",
    "status": "str",
    "unit": "str",
    "series": "str",
}
"""Columns of :func:`associations`. ``effect`` (``ci_low``, ``ci_high``, ``se``) is in the unit
named by ``unit``: the outcome's unit per +1.0 adherence. ``effect_sd``: the change for +0.5
adherence in outcome SDs. ``series``: the device or stride series the outcome came from."""


@dataclass(frozen=True)
class Outcome:
    """How an outcome is named in sentences; ``scale`` converts its unit to the shown ``shown``."""

    label: str
    unit: str
    shown: str
    scale: float
    decimals: int
    lower: str
    higher: str


OUTCOMES: Final = {
    "longest_streak_min": Outcome(
        "longest sitting streak", "min", "min", 1.0, 0, "shorter", "longer"
    ),
    "sitting_h": Outcome("sitting time", "h", "h", 1.0, 2, "less", "more"),
    "breaks_per_sitting_hour": Outcome(
        "breaks per sitting hour", "breaks per sitting hour", "breaks/h", 1.0, 1, "lower", "higher"
    ),
    "pain_0_10": Outcome("pain", "points (0-10)", "points", 1.0, 1, "lower", "higher"),
    "stiffness_0_10": Outcome("stiffness", "points (0-10)", "points", 1.0, 1, "lower", "higher"),
    "stride_adjusted_m": Outcome(
        "pace-adjusted stride length", "m", "cm", 100.0, 1, "shorter", "longer"
    ),
}


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------


def _days(values: pd.Series, table: str) -> pd.Series:
    """``YYYY-MM-DD`` strings -> datetimes; a bad value is a SchemaError naming its row."""
    parsed = pd.to_datetime(values.astype("str"), format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise SchemaError(
            f"{table}: column day, row {row}: {values.iloc[row]!r} is not a day (YYYY-MM-DD)"
        )
    return pd.Series(parsed.to_numpy(), index=values.index)


def _numeric(frame: pd.DataFrame, column: str, table: str) -> pd.Series:
    """A numeric column (NaN where missing or absent); a non-number is a SchemaError."""
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    raw = frame[column]
    if raw.dtype.kind in "fiub":
        return raw.astype("float64")
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = (values.isna() & raw.notna()).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise SchemaError(f"{table}: column {column}, row {row}: {raw.iloc[row]!r} is not a number")
    return values


def _require(frame: pd.DataFrame | None, table: str, columns: Sequence[str]) -> pd.DataFrame:
    """``frame`` after checking its required columns (None or no rows: an empty frame)."""
    if frame is None or len(frame) == 0:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{table}: missing column(s) {', '.join(missing)}; it needs {', '.join(columns)}"
        )
    return frame


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in columns.items()})


def _week_start(labels: pd.Series, table: str) -> pd.Series:
    """Mondays of ISO week labels ``YYYY-Www``; a bad label is a SchemaError."""
    parsed = pd.to_datetime(labels.astype("str") + "-1", format="%G-W%V-%u", errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise SchemaError(
            f"{table}: column week, row {row}: {labels.iloc[row]!r} is not an ISO week (YYYY-Www)"
        )
    return pd.Series(parsed.to_numpy(), index=labels.index)


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def sitting_device(
    daily_summary: pd.DataFrame | None, min_wear_s: float = MIN_WEAR_S
) -> str | None:
    """The device whose sitting the insights use: ``combined`` when present, else the device with
    the most days worn at least ``min_wear_s`` (ties: more rows, then by name); None without
    rows."""
    if daily_summary is None or len(daily_summary) == 0:
        return None
    devices = daily_summary["device_id"].astype("str")
    if (devices == COMBINED).any():
        return COMBINED
    worn = pd.to_numeric(daily_summary["wear_s"], errors="coerce") >= min_wear_s
    counts = (
        pd.DataFrame({"device": devices, "worn": worn, "rows": 1})
        .groupby("device")
        .sum()
        .reset_index()
        .sort_values(["worn", "rows", "device"], ascending=[False, False, True])
    )
    return str(counts["device"].iloc[0])


def daily_insight_table(
    adherence_daily: pd.DataFrame | None,
    symptoms: pd.DataFrame | None,
    daily_summary: pd.DataFrame | None,
    *,
    min_wear_s: float = MIN_WEAR_S,
) -> pd.DataFrame:
    """One row per calendar day from the first to the last day of any input (columns
    :data:`DAILY_COLUMNS`); days without a value have NaN, so "next day" is always the next
    calendar day.

    ``sitting_h`` = ``sitting_s`` / 3600, ``longest_streak_min`` = ``longest_bout_s`` / 60 and
    ``breaks_per_sitting_hour`` come from :func:`sitting_device`, on days it was worn at least
    ``min_wear_s`` seconds (else NaN). A day listed twice keeps its last row.
    ``attrs["sitting_device"]`` names the device. Raises :class:`SchemaError` for a missing
    column, a malformed day or number, or an adherence outside 0-1.
    """
    adh = _require(adherence_daily, "adherence_daily", ("day", "adherence"))
    sym = _require(symptoms, "symptoms", ("day",))
    summary = _require(
        daily_summary,
        "daily_summary",
        ("device_id", "day", "wear_s", "sitting_s", "longest_bout_s", "breaks_per_sitting_hour"),
    )

    parts: list[pd.DataFrame] = []
    if len(adh):
        adherence = _numeric(adh, "adherence", "adherence_daily")
        outside = ((adherence < -1e-9) | (adherence > 1 + 1e-9)).to_numpy()
        if outside.any():
            row = int(np.flatnonzero(outside)[0])
            raise SchemaError(
                f"adherence_daily: column adherence, row {row}: {adherence.iloc[row]} is outside "
                "0-1 (the fraction of the daily routine done)"
            )
        parts.append(
            pd.DataFrame(
                {
                    "date": _days(adh["day"], "adherence_daily"),
                    "adherence": adherence.clip(0.0, 1.0),
                    "mobility_minutes": _numeric(adh, "mobility_minutes", "adherence_daily"),
                    "strength_sessions": _numeric(adh, "strength_sessions", "adherence_daily"),
                }
            )
        )
    if len(sym):
        parts.append(
            pd.DataFrame(
                {
                    "date": _days(sym["day"], "symptoms"),
                    "pain_0_10": _numeric(sym, "pain_0_10", "symptoms"),
                    "stiffness_0_10": _numeric(sym, "stiffness_0_10", "symptoms"),
                }
            )
        )
    device = sitting_device(summary, min_wear_s) if len(summary) else None
    if device is not None:
        rows = summary[(summary["device_id"].astype("str") == device).to_numpy()]
        worn = (_numeric(rows, "wear_s", "daily_summary") >= min_wear_s).to_numpy()
        sitting = pd.DataFrame(
            {
                "date": _days(rows["day"], "daily_summary"),
                "sitting_h": _numeric(rows, "sitting_s", "daily_summary") / 3600.0,
                "longest_streak_min": _numeric(rows, "longest_bout_s", "daily_summary") / 60.0,
                "breaks_per_sitting_hour": _numeric(
                    rows, "breaks_per_sitting_hour", "daily_summary"
                ),
            }
        )
        parts.append(sitting[worn])

    parts = [p.drop_duplicates("date", keep="last").set_index("date") for p in parts if len(p)]
    if not parts:
        out = _empty(DAILY_COLUMNS)
        out.attrs["sitting_device"] = device
        return out
    first = min(p.index.min() for p in parts)
    last = max(p.index.max() for p in parts)
    spine = pd.DataFrame(index=pd.date_range(first, last, freq="D"))
    for part in parts:
        spine = spine.join(part, how="left")
    days = pd.Series(spine.index.strftime("%Y-%m-%d"))
    spine["day"] = days.to_numpy()
    spine["week"] = iso_week(days).to_numpy()
    out = spine.reset_index(drop=True).reindex(columns=list(DAILY_COLUMNS)).astype(DAILY_COLUMNS)
    out.attrs["sitting_device"] = device
    return out


def stride_series(
    weekly_stride: pd.DataFrame | None, weeks: Sequence[str] | None = None
) -> tuple[str, pd.DataFrame]:
    """(label ``device / source / mode``, its rows) of the ``weekly_stride`` series with the most
    usable weeks (a finite ``adjusted_stride_length_m``) among ``weeks`` (all weeks when None or
    when no series has a usable week among them); ties: more strides, then by label.
    ("", no rows) without any rows. Series are never pooled."""
    columns = ("device_id", "source", "mode", "week", "adjusted_stride_length_m")
    frame = _require(weekly_stride, "weekly_stride", columns)
    if len(frame) == 0:
        return "", frame.iloc[:0]
    label = (
        frame["device_id"].astype("str")
        + " / "
        + frame["source"].astype("str")
        + " / "
        + frame["mode"].astype("str")
    )
    usable = np.isfinite(_numeric(frame, "adjusted_stride_length_m", "weekly_stride"))
    if weeks is not None:
        among = usable & frame["week"].astype("str").isin(list(weeks))
        if among.any():
            usable = among
    ranking = (
        pd.DataFrame(
            {
                "label": label.to_numpy(),
                "usable": usable.to_numpy(),
                "strides": _numeric(frame, "strides", "weekly_stride").fillna(0.0).to_numpy(),
            }
        )
        .groupby("label")
        .sum()
        .reset_index()
        .sort_values(["usable", "strides", "label"], ascending=[False, False, True])
    )
    best = str(ranking["label"].iloc[0])
    return best, frame[(label == best).to_numpy()]


def weekly_insight_table(
    daily_table: pd.DataFrame | None,
    weekly_stride: pd.DataFrame | None,
    *,
    min_week_days: int = MIN_WEEK_DAYS,
) -> pd.DataFrame:
    """One row per ISO week from the first to the last week of either input (columns
    :data:`WEEKLY_COLUMNS`).

    ``adherence`` and every outcome are means over the week's days that have a value, NaN when
    fewer than ``min_week_days`` have one; ``strength_sessions`` is the week's total (NaN on the
    same rule). The stride columns come from one :func:`stride_series`, labelled in
    ``stride_series`` and ``attrs["stride_series"]``; ``attrs["sitting_device"]`` is carried over.
    """
    daily = daily_table if daily_table is not None else _empty(DAILY_COLUMNS)
    logged = daily.loc[daily["adherence"].notna(), "week"].astype("str").unique().tolist()
    label, stride = stride_series(weekly_stride, logged or None)
    pieces = []
    if len(daily):
        dates = pd.to_datetime(daily["day"].astype("str"), format="%Y-%m-%d")
        monday = dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")
        grouped = daily.assign(_monday=monday.to_numpy()).groupby("_monday")
        counts = grouped.count()
        means = grouped[["adherence", *DAILY_OUTCOMES]].mean()
        agg = means.where(counts[means.columns] >= min_week_days)
        agg["strength_sessions"] = (
            grouped["strength_sessions"]
            .sum(min_count=1)
            .where(counts["strength_sessions"] >= min_week_days)
        )
        agg["days"] = counts["adherence"]
        pieces.append(agg)
    if len(stride):
        part = pd.DataFrame(
            {
                "_monday": _week_start(stride["week"], "weekly_stride").to_numpy(),
                "stride_adjusted_m": _numeric(
                    stride, "adjusted_stride_length_m", "weekly_stride"
                ).to_numpy(),
                "stride_ci_low_m": _numeric(stride, "ci_low_m", "weekly_stride").to_numpy(),
                "stride_ci_high_m": _numeric(stride, "ci_high_m", "weekly_stride").to_numpy(),
            }
        )
        pieces.append(part.drop_duplicates("_monday", keep="last").set_index("_monday"))
    if not pieces:
        out = _empty(WEEKLY_COLUMNS)
    else:
        first = min(p.index.min() for p in pieces)
        last = max(p.index.max() for p in pieces)
        spine = pd.DataFrame(index=pd.date_range(first, last, freq="7D"))
        for piece in pieces:
            spine = spine.join(piece, how="left")
        spine["days"] = spine["days"].fillna(0) if "days" in spine.columns else 0
        spine["week"] = iso_week(pd.Series(spine.index.strftime("%Y-%m-%d"))).to_numpy()
        spine["stride_series"] = label
        out = spine.reset_index(drop=True).reindex(columns=list(WEEKLY_COLUMNS))
        out = out.astype(WEEKLY_COLUMNS)
    out.attrs["stride_series"] = label
    out.attrs["sitting_device"] = daily.attrs.get("sitting_device")
    return out


def _t_summary(fit: Fit, index: int) -> tuple[float, float, float, float, float]:
    """(effect, se, ci_low, ci_high, p) of coefficient ``index``; NaN interval when se is 0."""
    effect = float(fit.beta[index])
    se = math.sqrt(max(float(fit.variance[index]), 0.0))
    if not se > 1e-12 * max(1.0, abs(effect)) or not math.isfinite(se):
        return effect, se, math.nan, math.nan, math.nan
    q = float(stats.t.ppf(1 - ALPHA / 2, fit.df))
    p = float(2 * stats.t.sf(abs(effect / se), fit.df))
    return effect, se, effect - q * se, effect + q * se, p


def insight_tables(
    program: Program,
    routine_log: pd.DataFrame,
    daily_summary: pd.DataFrame,
    weekly_stride: pd.DataFrame,
    until_day: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The daily and weekly insight tables of a person from the store's tables: adherence to
    ``program`` on every day from the first to the last logged or measured day, at most
    ``until_day`` (``YYYY-MM-DD``; days without entries are days without the routine), symptoms,
    sitting and
    stride. What ``psoas insights``, the dashboard and the notebooks all use."""
    spans = [
        (str(f["day"].min()), str(f["day"].max())) for f in (routine_log, daily_summary) if len(f)
    ]
    first = min((a for a, _ in spans), default=until_day)
    last = min(until_day, max((b for _, b in spans), default=until_day))  # not past the data
    days = pd.date_range(first, max(first, last), freq="D").strftime("%Y-%m-%d").tolist()
    adherence_daily = daily_adherence(program, routine_log, days)
    daily = daily_insight_table(adherence_daily, daily_symptoms(routine_log), daily_summary)
    return daily, weekly_insight_table(daily, weekly_stride)


# ---------------------------------------------------------------------------------------------
# Associations
# ---------------------------------------------------------------------------------------------


def _previous(values: np.ndarray, position: np.ndarray) -> np.ndarray:
    """The value at position - 1 for every row (NaN where that day/week is not in the table)."""
    out = np.full(len(values), np.nan)
    if len(position) == 0:
        return out
    grid = np.full(int(position.max() - position.min()) + 2, np.nan)
    grid[position - position.min() + 1] = values
    return grid[position - position.min()]


def _level_rows(
    level: str,
    adherence: np.ndarray,
    position: np.ndarray,
    outcomes: dict[str, np.ndarray],
    *,
    weekend: np.ndarray | None,
    blocks: np.ndarray | None,
    detrend: bool,
    min_pairs: int,
    series: dict[str, str],
    hac: dict[str, object],
) -> list[dict[str, object]]:
    """Association rows of one level (daily or weekly): one distributed-lag fit per outcome."""
    lags = DAILY_LAGS if level == "daily" else WEEKLY_LAGS
    step = "days" if level == "daily" else "weeks"
    previous = _previous(adherence, position)
    rows: list[dict[str, object]] = []
    for outcome, y in outcomes.items():
        use = np.isfinite(y) & np.isfinite(adherence) & np.isfinite(previous)
        n = int(use.sum())
        reason: str | None = None
        fit: Fit | None = None
        if n < min_pairs:
            reason = f"{NOT_ENOUGH} (n={n} {step}, need {min_pairs})"
        else:
            spread = min(float(np.std(adherence[use])), float(np.std(previous[use])))
            if spread <= MIN_ADHERENCE_SD:
                reason = (
                    f"{NOT_ENOUGH} (n={n} {step}; adherence barely varies: SD {spread:.2f}, "
                    f"need more than {MIN_ADHERENCE_SD})"
                )
        if reason is None:
            columns = [np.ones(n), adherence[use], previous[use]]
            if blocks is not None:
                present = np.unique(blocks[use])
                columns += [(blocks[use] == b).astype(np.float64) for b in present[1:]]
            elif detrend:
                columns.append((position[use] - position[use].mean()) / 7.0)
            if weekend is not None and 0 < weekend[use].sum() < n:
                columns.append(weekend[use].astype(np.float64))
            fit = ols_hac(y[use], np.column_stack(columns), position[use], **hac)
            if fit is None:
                apart = "the week-to-week level" if blocks is not None else "the time trend"
                reason = f"{NOT_ENOUGH} (n={n} {step}; adherence cannot be told apart from {apart})"
        sd = float(np.std(y[use], ddof=1)) if n > 1 else math.nan
        for steps, name in lags:
            row: dict[str, object] = {
                "level": level,
                "outcome": outcome,
                "lag": name,
                "lag_steps": steps,
                "n": n,
                "outcome_sd": sd,
                "unit": f"{OUTCOMES[outcome].unit} per +1.0 adherence",
                "series": series.get(outcome, ""),
                "status": reason,
            }
            if fit is not None:
                effect, se, low, high, p = _t_summary(fit, 1 + steps)
                if math.isfinite(p):
                    row.update(
                        effect=effect,
                        se=se,
                        ci_low=low,
                        ci_high=high,
                        p=p,
                        df=fit.df,
                        hac_bandwidth=float(fit.bandwidth[1 + steps]),
                        effect_sd=effect * STANDARDISED_CHANGE / sd if sd > 0 else math.nan,
                        status="tested",
                    )
                else:
                    row["status"] = f"{NOT_ENOUGH} (n={n} {step}; the outcome does not vary)"
            rows.append(row)
    return rows


def associations(
    daily_table: pd.DataFrame | None,
    weekly_table: pd.DataFrame | None,
    *,
    within_week: bool = True,
    detrend: bool = True,
    rule: str = "auto",
    prewhiten: str | None = "influence",
    floor: bool = True,
) -> pd.DataFrame:
    """Lagged adherence effects, one row per (outcome, lag) (columns
    :data:`ASSOCIATION_COLUMNS`): :data:`DAILY_OUTCOMES` at "same day" and "next day",
    :data:`WEEKLY_OUTCOMES` at "same week" and "next week" (model: module docstring).

    ``status``: "finding" when the Holm-adjusted p-value (over every tested row of both levels)
    is below ``ALPHA``; "no clear association" otherwise; "not enough data yet (n=..., need
    ...)" with NaN numbers when the row could not be tested. The keyword options exist to
    measure the choices (module docstring): ``within_week`` False compares daily values across
    weeks with a linear trend (``detrend`` False: without); ``rule``, ``prewhiten`` and ``floor``
    go to :func:`ols_hac`.
    """
    daily = daily_table if daily_table is not None else _empty(DAILY_COLUMNS)
    weekly = weekly_table if weekly_table is not None else _empty(WEEKLY_COLUMNS)
    hac: dict[str, object] = {"rule": rule, "prewhiten": prewhiten, "floor": floor}
    sitting_from = str(
        daily.attrs.get("sitting_device") or weekly.attrs.get("sitting_device") or ""
    )
    stride_from = str(weekly.attrs.get("stride_series") or "")
    if not stride_from and len(weekly):
        stride_from = str(weekly["stride_series"].iloc[0])
    series = {
        "longest_streak_min": sitting_from,
        "sitting_h": sitting_from,
        "breaks_per_sitting_hour": sitting_from,
        "stride_adjusted_m": stride_from,
    }

    dates = pd.to_datetime(daily["day"].astype("str"), format="%Y-%m-%d")
    position = (dates - dates.min()).dt.days.to_numpy(np.int64) if len(daily) else np.zeros(0, int)
    first_weekday = int(dates.iloc[0].weekday()) if len(daily) else 0
    rows = _level_rows(
        "daily",
        daily["adherence"].to_numpy(np.float64),
        position,
        {o: daily[o].to_numpy(np.float64) for o in DAILY_OUTCOMES},
        weekend=(dates.dt.day_of_week >= 5).to_numpy(),
        blocks=(position + first_weekday) // 7 if within_week else None,
        detrend=detrend,
        min_pairs=MIN_DAILY_PAIRS,
        series=series,
        hac=hac,
    )
    mondays = _week_start(weekly["week"], "weekly table")
    weeks = ((mondays - mondays.min()).dt.days // 7).to_numpy(np.int64) if len(weekly) else None
    rows += _level_rows(
        "weekly",
        weekly["adherence"].to_numpy(np.float64),
        weeks if weeks is not None else np.zeros(0, np.int64),
        {o: weekly[o].to_numpy(np.float64) for o in WEEKLY_OUTCOMES},
        weekend=None,
        blocks=None,
        detrend=detrend,
        min_pairs=MIN_WEEKLY_PAIRS,
        series=series,
        hac=hac,
    )
    out = pd.DataFrame(rows).reindex(columns=list(ASSOCIATION_COLUMNS))
    tested = (out["status"] == "tested").to_numpy()
    out["p_adjusted"] = holm(np.where(tested, out["p"].to_numpy(np.float64), np.nan))
    out.loc[tested, "status"] = np.where(
        out.loc[tested, "p_adjusted"] < ALPHA, FINDING, NO_CLEAR
    ).tolist()
    return out.astype(ASSOCIATION_COLUMNS)


# ---------------------------------------------------------------------------------------------
# Routine start (interrupted time series)
# ---------------------------------------------------------------------------------------------


@dataclass
class StartEffect:
    """Change of an outcome at the start of the routine: ``level_change`` (the outcome's unit)
    and ``trend_change_per_day``, each with its 95 % interval; n on each side."""

    outcome: str
    start_day: str | None
    n_before: int
    n_after: int
    level_change: float
    level_ci_low: float
    level_ci_high: float
    level_p: float
    trend_change_per_day: float
    trend_ci_low: float
    trend_ci_high: float
    hac_bandwidth: float
    status: str
    statement: str


def routine_start(
    daily_table: pd.DataFrame | None, without_days: int = MIN_START_DAYS
) -> str | None:
    """The first day with adherence > 0 after at least ``without_days`` days in the table
    without the routine (adherence 0 or not logged); None if there is none."""
    if daily_table is None or len(daily_table) == 0:
        return None
    done = np.nan_to_num(daily_table["adherence"].to_numpy(np.float64), nan=0.0) > 0
    run = 0
    for i, value in enumerate(done):
        if value and run >= without_days:
            return str(daily_table["day"].iloc[i])
        run = 0 if value else run + 1
    return None


def routine_start_effect(
    daily_table: pd.DataFrame | None,
    start_day: str | None = None,
    outcome: str = "longest_streak_min",
    *,
    min_days: int = MIN_START_DAYS,
    rule: str = "auto",
    prewhiten: str | None = "residual",
    floor: bool = True,
) -> StartEffect:
    """Interrupted time series of ``outcome`` (one of :data:`DAILY_OUTCOMES`) around the start of
    the routine.

    Segmented regression ``y = b0 + b1 t + b2 post + b3 t post + g weekend`` (t in days from the
    start, ``post`` = from the start day on) with HAC errors (:func:`ols_hac`);
    ``level_change`` = b2, ``trend_change_per_day`` = b3. ``start_day`` defaults to
    :func:`routine_start`. Needs ``min_days`` days with the outcome on each side, else the status
    and statement say "not enough data yet" with the days there are.
    """
    if outcome not in DAILY_OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(DAILY_OUTCOMES)}, not {outcome!r}")
    daily = daily_table if daily_table is not None else _empty(DAILY_COLUMNS)
    look = OUTCOMES[outcome]
    start = start_day if start_day is not None else routine_start(daily, min_days)
    nan = math.nan

    def not_enough(why: str, before: int = 0, after: int = 0) -> StartEffect:
        text = f"Not enough data yet for a before/after comparison of {look.label}: {why}."
        return StartEffect(
            outcome, start, before, after, nan, nan, nan, nan, nan, nan, nan, nan, NOT_ENOUGH, text
        )

    if start is None:
        return not_enough(
            f"no start of the routine after {min_days} days without it (n = {len(daily)} days)"
        )
    dates = pd.to_datetime(daily["day"].astype("str"), format="%Y-%m-%d")
    t = (dates - pd.Timestamp(start)).dt.days.to_numpy(np.float64)
    y = daily[outcome].to_numpy(np.float64)
    use = np.isfinite(y)
    before, after = int((use & (t < 0)).sum()), int((use & (t >= 0)).sum())
    if before < min_days or after < min_days:
        return not_enough(
            f"n = {before} days before {start} and {after} from it, {min_days} needed on each side",
            before,
            after,
        )
    post = (t >= 0).astype(np.float64)
    weekend = (dates.dt.day_of_week >= 5).to_numpy(np.float64)
    columns = [np.ones(len(t)), t, post, t * post]
    if 0 < weekend[use].sum() < use.sum():
        columns.append(weekend)
    fit = ols_hac(
        y[use],
        np.column_stack(columns)[use],
        t[use].astype(np.int64),
        rule=rule,
        prewhiten=prewhiten,
        floor=floor,
    )
    if fit is None:
        return not_enough("the before/after model cannot be fitted", before, after)
    level, _, low, high, p = _t_summary(fit, 2)
    trend, _, trend_low, trend_high, _ = _t_summary(fit, 3)
    if not math.isfinite(p):
        return not_enough("the outcome does not vary", before, after)
    clear = p < ALPHA
    if clear:
        change = f"was {_show(abs(level), look)} {look.shown} {_direction(level, look)}"
    else:
        change = f"changed by {_show(level, look, signed=True)} {look.shown} (no clear change)"
    statement = (
        f"From the start of your routine on {start}, your {look.label} {change} "
        f"(95 % CI {_show(low, look, signed=True)} to {_show(high, look, signed=True)} "
        f"{look.shown}; n = {before} days before and {after} from the start; change of trend "
        f"{_show(7 * trend, look, signed=True)} {look.shown}/week, 95 % CI "
        f"{_show(7 * trend_low, look, signed=True)} to {_show(7 * trend_high, look, signed=True)})."
    )
    return StartEffect(
        outcome,
        start,
        before,
        after,
        level,
        low,
        high,
        p,
        trend,
        trend_low,
        trend_high,
        float(fit.bandwidth[2]),
        "clear change" if clear else "no clear change",
        statement,
    )


# ---------------------------------------------------------------------------------------------
# Sentences
# ---------------------------------------------------------------------------------------------

MINUS: Final = "\u2212"
_WHEN: Final = {
    "same day": "On days you did the routine fully (vs. not at all, within the same week)",
    "next day": "On days after you did the routine fully (vs. not at all, within the same week)",
    "same week": "In weeks you did the routine fully every day (vs. not at all)",
    "next week": "In weeks after a week you did the routine fully every day (vs. not at all)",
}
_LINK: Final = {
    "same day": "same-day",
    "next day": "next-day",
    "same week": "same-week",
    "next week": "next-week",
}


def _show(value: float, look: Outcome, *, signed: bool = False) -> str:
    """``value`` (in the outcome's unit) in the shown unit, rounded; signed with + or a minus."""
    text = f"{abs(value) * look.scale:.{look.decimals}f}"
    if not signed or float(text) == 0:
        return text
    return ("+" if value > 0 else MINUS) + text


def _direction(value: float, look: Outcome) -> str:
    return look.lower if value < 0 else look.higher


def _count(n: int, unit: str) -> str:
    """``n = 1 day`` / ``n = 12 days`` (``unit`` singular)."""
    return f"n = {n} {unit}{'' if n == 1 else 's'}"


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def _label(row: pd.Series) -> str:
    look = OUTCOMES[str(row["outcome"])]
    if row["outcome"] == "stride_adjusted_m":
        return look.label + (f" ({row['series']})" if row["series"] else "")
    return look.label if row["level"] == "daily" else f"weekly mean {look.label}"


def _sentence(row: pd.Series) -> str:
    """One tested association as a sentence with its effect, interval, n and adjusted p."""
    look = OUTCOMES[str(row["outcome"])]
    unit = "day" if row["level"] == "daily" else "week"
    n = _count(int(row["n"]), unit)
    effect, low, high = float(row["effect"]), float(row["ci_low"]), float(row["ci_high"])
    p = f"Holm-adjusted p {_p(float(row['p_adjusted']))}"
    if row["status"] == FINDING:
        near, far = sorted((abs(low), abs(high)))
        return (
            f"{_WHEN[str(row['lag'])]}, your {_label(row)} was {_show(effect, look)} {look.shown} "
            f"{_direction(effect, look)} (95 % CI {_show(near, look)} to {_show(far, look)} "
            f"{look.shown}; {n}; {p}) \u2014 a finding."
        )
    opening = "No clear association"
    if low > 0 or high < 0:  # significant alone, not once the whole family is accounted for
        opening = "A possible association, not confirmed once every association tested is counted,"
    return (
        f"{opening} between routine adherence and {_LINK[str(row['lag'])]} "
        f"{_label(row)} ({_show(effect, look, signed=True)} {look.shown} per fully done {unit}, "
        f"95 % CI {_show(low, look, signed=True)} to {_show(high, look, signed=True)} "
        f"{look.shown}; {n}; {p})."
    )


def _why(row: pd.Series, unit: str, need: int) -> str:
    """Why a row could not be tested, from its status, with its n."""
    n = _count(int(row["n"]), unit)
    status = str(row["status"])
    spread = re.search(r"SD ([0-9.]+)", status)
    if spread:
        return (
            f"your routine adherence barely varied (SD {spread.group(1)} over {n}; more than "
            f"{MIN_ADHERENCE_SD} needed)"
        )
    if "told apart" in status:
        return f"adherence {status.split('; adherence ')[1].rstrip(')')} ({n})"
    if "does not vary" in status:
        return f"the outcome does not vary ({n})"
    return f"{n}, {need} needed"


def findings(
    daily_table: pd.DataFrame | None,
    weekly_table: pd.DataFrame | None,
    table: pd.DataFrame | None = None,
) -> list[str]:
    """Readable sentences, each with its effect, 95 % interval and n, or "not enough data yet"
    with the n there is and the n needed: findings first (smallest adjusted p first), then the
    associations without a clear effect, then what cannot be estimated yet (one sentence per
    level when none of its rows can be). ``table``: an :func:`associations` result of the same
    tables, to reuse."""
    if table is None:
        table = associations(daily_table, weekly_table)
    tested = table[table["status"].isin([FINDING, NO_CLEAR])]
    tested = tested.assign(_later=(tested["status"] != FINDING).to_numpy()).sort_values(
        ["_later", "p_adjusted"], kind="stable"
    )
    sentences = [_sentence(row) for _, row in tested.iterrows()]
    for level, unit, need, frame in (
        ("daily", "day", MIN_DAILY_PAIRS, daily_table),
        ("weekly", "week", MIN_WEEKLY_PAIRS, weekly_table),
    ):
        rows = table[table["level"] == level]
        short = rows[rows["status"].str.startswith(NOT_ENOUGH)]
        if short.empty:
            continue
        if len(short) < len(rows):
            for _, row in short.iterrows():
                sentences.append(
                    f"Not enough data yet for the {_LINK[str(row['lag'])]} link between routine "
                    f"adherence and {_label(row)}: {_why(row, unit, need)}."
                )
            continue
        logged = 0
        if frame is not None and len(frame):
            logged = int(frame["adherence"].notna().sum())
        varies = short[short["status"].str.contains("barely varies")]
        if len(varies):
            sentences.append(
                f"Not enough data yet for {level} effects: {_why(varies.iloc[0], unit, need)}."
            )
        else:
            sentences.append(
                f"Not enough data yet for {level} effects: {logged} {unit}"
                f"{'' if logged == 1 else 's'} of routine logged, "
                f"{_count(int(short['n'].max()), unit)} usable (with the {unit} before and an "
                f"outcome), {need} needed."
            )
    return sentences
