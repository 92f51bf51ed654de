"""Adherence to the routine: per day (partial credit), per week (goals), streaks.

Per day (:func:`daily_adherence`), for each daily exercise e of the program:

- volume = sets x reps (or sets x seconds); prescribed volume V_e = the lower end of ``sets``
  times the lower end of ``reps``/``seconds`` (the lower end of every range counts as done; more
  than that earns no extra credit). A 60 s hold counts as much as two 30 s holds.
- done volume of a side = the sum over the day's distinct entries of that side; an entry with
  side ``both`` counts its full volume for each side. Missing sets/reps/seconds count as the
  prescription's lower end (the same default as logging).
- credit c_e = min(1, done / V_e); for per-side exercises the mean of the left and right credits
  (so one side fully done is 0.5); for other exercises entries of any side count.
- adherence = sum(minutes_e x c_e) / sum(minutes_e), in [0, 1]; ``mobility_minutes`` =
  sum(minutes_e x c_e); ``mobility_target_met`` = mobility_minutes >= daily_minutes[0];
  ``done`` = adherence >= :data:`DONE_FRACTION` (0.8: four of the five default exercises, or all
  of them at 80 %).
- ``strength_sessions`` = session entries of the day (all of the program's sessions count
  together against the sum of their ``per_week`` goals), ``habits_done`` = habits with value 1.

Entries whose item is not in the program (an older program) are ignored; the program name on
an entry is not used. Because the log is reduced to its current versions first and every sum is
over distinct entries, adherence does not depend on the order of rows, re-logging an identical
entry changes nothing, and adding an entry never lowers a day's adherence.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd

from analysis.routine import current
from analysis.routine_program import Program, range_text
from sensors.errors import UsageError

DONE_FRACTION: Final = 0.8
"""A day counts as *done* when its adherence reaches this fraction of the daily routine."""
DAILY_COLUMNS: Final[Mapping[str, str]] = {
    "day": "string",
    "adherence": "float64",
    "mobility_minutes": "float64",
    "mobility_target_met": "bool",
    "strength_sessions": "int64",
    "habits_done": "int64",
    "done": "bool",
}
WEEKLY_COLUMNS: Final[Mapping[str, str]] = {
    "week": "string",
    "days": "int64",
    "days_done": "int64",
    "mean_adherence": "float64",
    "strength_sessions": "int64",
    "strength_target": "string",
    "strength_met": "bool",
    "mobility_days_met": "int64",
}

EPS: Final = 1e-9
_DAY_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


# --------------------------------------------------------------------------------------------
# Adherence
# --------------------------------------------------------------------------------------------


def _day_list(entries: pd.DataFrame, days: Sequence[str] | None) -> list[str]:
    if days is None:
        if entries.empty:
            return []
        first = dt.date.fromisoformat(str(entries["day"].min()))
        last = dt.date.fromisoformat(str(entries["day"].max()))
        return [(first + dt.timedelta(d)).isoformat() for d in range((last - first).days + 1)]
    out = []
    for d in days:
        text = d.isoformat() if isinstance(d, dt.date) else str(d)
        if not _DAY_RE.match(text):
            raise UsageError(f"day {text!r}: must be a date YYYY-MM-DD")
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            raise UsageError(f"day {text!r}: not a calendar date") from None
        out.append(text)
    return sorted(set(out))


def _credit_matrix(program: Program, cur: pd.DataFrame, day_list: list[str]) -> np.ndarray:
    """Credits of the current entries ``cur``: an array days x exercises (program order)."""
    index = {d: i for i, d in enumerate(day_list)}
    column = {e.id: j for j, e in enumerate(program.exercises)}
    ex = cur[(cur["kind"] == "exercise") & cur["item"].isin(list(column))]
    # done volume per (day, exercise, side); rows come sorted from current(), so the sums do
    # not depend on the order of the stored log
    done = np.zeros((len(day_list), len(column), 2))
    for day, item, side, sets, reps, seconds in zip(
        ex["day"], ex["item"], ex["side"], ex["sets"], ex["reps"], ex["seconds"], strict=True
    ):
        i = index.get(str(day))
        if i is None:
            continue
        e = program.exercises[column[item]]
        n_sets = float(e.sets[0]) if pd.isna(sets) else float(sets)
        amount = reps if e.measure == "reps" else seconds
        amount = float(e.amount[0]) if pd.isna(amount) else float(amount)
        volume = n_sets * amount
        j = column[item]
        if not e.per_side or side in ("left", "both"):
            done[i, j, 0] += volume
        if e.per_side and side in ("right", "both"):
            done[i, j, 1] += volume
    prescribed = np.array([e.prescribed_volume for e in program.exercises])
    credit = np.minimum(1.0, done / prescribed[None, :, None])
    per_side = np.array([e.per_side for e in program.exercises])
    return np.where(per_side[None, :], credit.mean(axis=2), credit[:, :, 0])


def exercise_credits(
    program: Program, entries: pd.DataFrame | None, days: Sequence[str] | None = None
) -> pd.DataFrame:
    """Credit in [0, 1] of every daily exercise on every day: columns ``day``, ``exercise``,
    ``credit``, ``minutes`` (= prescribed minutes x credit), by day then program order.
    ``entries`` as for :func:`daily_adherence`. Rules: module docstring."""
    cur = current(entries)
    day_list = _day_list(cur, days)
    credit = _credit_matrix(program, cur, day_list)
    minutes = np.array([e.minutes for e in program.exercises])
    n = len(program.exercises)
    return pd.DataFrame(
        {
            "day": pd.array(np.repeat(day_list, n), dtype="string"),
            "exercise": pd.array([e.id for e in program.exercises] * len(day_list), dtype="string"),
            "credit": credit.reshape(-1),
            "minutes": (credit * minutes[None, :]).reshape(-1),
        }
    )


def daily_adherence(
    program: Program, entries: pd.DataFrame | None, days: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per day of ``days`` (sorted; default: every day from the first to the last day
    of the log) with :data:`DAILY_COLUMNS`; days without entries are 0. ``entries`` is the
    ``routine_log`` (full history or :func:`current`; it is reduced to current entries first).
    Rules: module docstring."""
    cur = current(entries)
    day_list = _day_list(cur, days)
    if not day_list:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in DAILY_COLUMNS.items()})
    credit = _credit_matrix(program, cur, day_list)
    mobility = pd.Series(credit @ np.array([e.minutes for e in program.exercises]))
    adherence = (mobility / program.total_minutes).clip(0.0, 1.0)
    session_ids = [s.id for s in program.sessions]
    habit_ids = [h.id for h in program.habits]
    sessions = cur[(cur["kind"] == "session") & cur["item"].isin(session_ids)]
    habits = cur[(cur["kind"] == "habit") & cur["item"].isin(habit_ids) & (cur["value"] >= 1)]
    out = pd.DataFrame(
        {
            "day": day_list,
            "adherence": adherence.to_numpy(),
            "mobility_minutes": mobility.to_numpy(),
            "mobility_target_met": mobility.to_numpy() >= program.daily_minutes[0] - EPS,
            "strength_sessions": _count_by_day(sessions, day_list),
            "habits_done": _count_by_day(habits, day_list),
            "done": adherence.to_numpy() >= DONE_FRACTION - EPS,
        }
    )
    return out.astype(dict(DAILY_COLUMNS))


def _count_by_day(rows: pd.DataFrame, day_list: list[str]) -> list[int]:
    counts = rows["day"].astype(str).value_counts()
    return [int(counts.get(d, 0)) for d in day_list]


def iso_week(day: str | dt.date) -> str:
    """The ISO week ``YYYY-Www`` of a day."""
    d = dt.date.fromisoformat(day) if isinstance(day, str) else day
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def weekly_adherence(daily: pd.DataFrame, program: Program) -> pd.DataFrame:
    """Per ISO week of the :func:`daily_adherence` frame ``daily``: :data:`WEEKLY_COLUMNS`.

    ``days`` is the number of the week's days in ``daily`` (a partial first/last week has
    fewer), ``mean_adherence`` their mean, ``strength_met`` whether the week's sessions reach
    the lower end of the program's weekly goal, ``mobility_days_met`` the days whose
    mobility minutes reached the daily target."""
    if daily.empty:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in WEEKLY_COLUMNS.items()})
    frame = daily.assign(week=[iso_week(str(d)) for d in daily["day"]])
    grouped = frame.groupby("week", sort=True)
    goal = program.weekly_sessions
    out = pd.DataFrame(
        {
            "days": grouped.size(),
            "days_done": grouped["done"].sum(),
            "mean_adherence": grouped["adherence"].mean(),
            "strength_sessions": grouped["strength_sessions"].sum(),
            "mobility_days_met": grouped["mobility_target_met"].sum(),
        }
    ).reset_index()
    out["strength_target"] = range_text(goal) if program.sessions else ""
    out["strength_met"] = out["strength_sessions"] >= goal[0]
    return out.loc[:, list(WEEKLY_COLUMNS)].astype(dict(WEEKLY_COLUMNS))


def streaks(daily: pd.DataFrame) -> dict[str, int]:
    """Runs of consecutive calendar days with ``done``: ``longest`` over ``daily`` and
    ``current``, the run ending on its last day - or on the day before when the last day is not
    done (yet), so an unfinished today does not break the streak."""
    if daily.empty:
        return {"current": 0, "longest": 0}
    done = dict(zip(daily["day"].astype(str), daily["done"].astype(bool), strict=True))
    days = sorted(done)
    longest = run = 0
    previous: dt.date | None = None
    runs: dict[str, int] = {}
    for text in days:
        d = dt.date.fromisoformat(text)
        if done[text]:
            run = run + 1 if previous is not None and (d - previous).days == 1 and run else 1
        else:
            run = 0
        runs[text] = run
        longest = max(longest, run)
        previous = d
    last = dt.date.fromisoformat(days[-1])
    current_run = runs[days[-1]]
    if current_run == 0:
        current_run = runs.get((last - dt.timedelta(days=1)).isoformat(), 0)
    return {"current": int(current_run), "longest": int(longest)}
