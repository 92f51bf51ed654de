"""Sitting bouts and breaks from per-epoch postures, by one streaming tracker.

The tracker takes postures epoch batch by epoch batch (a whole day at once after a sync, or the
live batches of the collector) and gives the same bouts and the same alerts however the epochs
are split into batches: it works on runs of equal posture (run-length encoding, vectorised), and
only the run still open at the end of a batch is carried over.

Rules (:class:`BoutRules`, all configurable):

- A bout starts with a sitting run of at least ``flicker_s`` (shorter sitting is posture
  flicker, not a bout). Wrist ``sedentary`` epochs count as sitting, and the bout says so.
- Non-sitting time (standing, moving, lying) ends a bout only when it lasts ``min_break_s`` in a
  row, or holds ``min_break_steps`` steps, and never when shorter than ``flicker_s``: then it is
  a *break*. Shorter interruptions stay inside the bout but do not count as sitting time.
- Non-wear ends a bout at once and is never sitting; missing data longer than ``max_gap_s``
  ends it too (shorter gaps are neither sitting nor a break).

A bout has ``start`` (its first sitting epoch), ``end`` (the end of its last sitting epoch),
``duration_s`` = end - start, and ``sitting_s``, the seconds actually classified sitting within
it. Daily totals are sums of ``sitting_s`` over the day's bouts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

from analysis.posture import (
    LYING,
    MOVING,
    NO_DATA,
    NON_WEAR,
    POSTURE_NAMES,
    SEDENTARY,
    SITTING,
    STANDING,
)

EPOCH_NS: Final = 1_000_000_000
"""Every posture epoch is one second."""
NS: Final = 1_000_000_000


@dataclass(frozen=True)
class BoutRules:
    """What makes a sitting bout and a break (seconds, steps)."""

    min_break_s: float = 60.0
    min_break_steps: int | None = 20
    flicker_s: float = 10.0
    max_gap_s: float = 60.0

    def __post_init__(self) -> None:
        if self.min_break_s < 0 or self.flicker_s < 0 or self.max_gap_s < 0:
            raise ValueError("bout rule durations must not be negative")


@dataclass(frozen=True)
class Run:
    """Epochs ``[start, end)`` (UTC ns) of one posture code, with the steps taken in them."""

    code: int
    start: int
    end: int
    steps: int = 0

    @property
    def seconds(self) -> float:
        return (self.end - self.start) / NS


@dataclass(frozen=True)
class Bout:
    start: int
    end: int
    sitting_s: float
    posture: str
    ended_by: str

    @property
    def duration_s(self) -> float:
        return (self.end - self.start) / NS


def runs_of(t_ns: np.ndarray, codes: np.ndarray, steps: np.ndarray | None = None) -> Iterator[Run]:
    """Runs of equal posture in epochs at ``t_ns`` (sorted epoch starts, 1 s apart where
    recorded); missing epochs between recorded ones become ``NO_DATA`` runs."""
    if len(t_ns) == 0:
        return
    t_ns = np.asarray(t_ns, dtype=np.int64)
    codes = np.asarray(codes, dtype=np.int8)
    steps = np.zeros(len(t_ns), np.int64) if steps is None else np.asarray(steps, np.int64)
    jump = np.diff(t_ns) != EPOCH_NS
    change = (np.diff(codes) != 0) | jump
    first = np.concatenate([[0], np.flatnonzero(change) + 1])
    last = np.concatenate([first[1:] - 1, [len(t_ns) - 1]])
    run_steps = np.add.reduceat(steps, first)
    for i, (a, b) in enumerate(zip(first.tolist(), last.tolist(), strict=True)):
        if i and jump[a - 1]:
            yield Run(NO_DATA, int(t_ns[a - 1]) + EPOCH_NS, int(t_ns[a]))
        yield Run(int(codes[a]), int(t_ns[a]), int(t_ns[b]) + EPOCH_NS, int(run_steps[i]))


@dataclass
class AlertRules:
    """When a sitting streak raises an alert: at ``threshold_s`` of streak, and again every
    ``repeat_s`` after that if set."""

    threshold_s: float = 30 * 60.0
    repeat_s: float | None = None

    def __post_init__(self) -> None:
        if not 15 * 60 <= self.threshold_s <= 120 * 60:
            raise ValueError(
                f"alert threshold {self.threshold_s / 60:g} min: choose 15 to 120 minutes"
            )
        if self.repeat_s is not None and self.repeat_s < 60:
            raise ValueError("repeat alerts at most once a minute")


@dataclass(frozen=True)
class Alert:
    t: int
    """When the streak reached ``streak_s`` (UTC ns): bout start + streak."""
    streak_s: float
    bout_start: int


@dataclass
class BoutTracker:
    """Streaming sitting-bout detector: feed epoch batches, collect bouts and alerts."""

    rules: BoutRules = field(default_factory=BoutRules)
    alert_rules: AlertRules | None = None
    bouts: list[Bout] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    _open: Run | None = None
    _bout_start: int | None = None
    _bout_posture: str = "sitting"
    _sit_end: int = 0
    _sitting_s: float = 0.0
    _pause_s: float = 0.0
    _pause_steps: int = 0
    _alert_bout: int | None = None
    _alerts_fired: int = 0

    def feed(
        self, t_ns: np.ndarray, codes: np.ndarray, steps: np.ndarray | None = None
    ) -> list[Alert]:
        """Take the next epochs (after every epoch fed before); return alerts raised by them."""
        before = len(self.alerts)
        for run in runs_of(t_ns, codes, steps):
            self._extend(run)
        self._check_alerts()
        return self.alerts[before:]

    def finish(self) -> list[Bout]:
        """The data ended: close the open run and any open bout; return all bouts."""
        if self._open is not None:
            self._close_run(self._open)
            self._open = None
        self._check_alerts()
        self._end_bout("end_of_data")
        return self.bouts

    def current_streak(self) -> tuple[int, int] | None:
        """The streak in progress as ``(start, reached)`` UTC ns: the open bout's start (or the
        open sitting run's, once it outlasts a flicker) and how far its sitting is known to
        reach; None while not sitting."""
        end = self._streak_end()
        if end is None:
            return None
        start = self._bout_start
        if start is None:
            assert self._open is not None
            start = self._open.start
        return start, end

    # -- runs -------------------------------------------------------------------------------------
    def _extend(self, run: Run) -> None:
        open_ = self._open
        if open_ is not None and open_.code == run.code and open_.end == run.start:
            self._open = Run(run.code, open_.start, run.end, open_.steps + run.steps)
            return
        if open_ is not None:
            if open_.end != run.start:  # a gap between two batches
                self._close_run(open_)
                self._extend(Run(NO_DATA, open_.end, run.start))
                self._extend(run)
                return
            self._close_run(open_)
        self._open = run

    def _close_run(self, run: Run) -> None:
        rules = self.rules
        if run.code in (SITTING, SEDENTARY):
            if self._bout_start is None:
                if run.seconds < rules.flicker_s:
                    return
                self._bout_start = run.start
                self._bout_posture = POSTURE_NAMES[run.code]
                self._sitting_s = 0.0
            self._sitting_s += run.seconds
            self._sit_end = run.end
            self._pause_s, self._pause_steps = 0.0, 0
            self._check_alerts()
        elif run.code in (STANDING, MOVING, LYING):
            if self._bout_start is None:
                return
            self._pause_s += run.seconds
            self._pause_steps += run.steps
            by_time = self._pause_s >= max(rules.min_break_s, rules.flicker_s)
            by_steps = (
                rules.min_break_steps is not None
                and self._pause_steps >= rules.min_break_steps
                and self._pause_s >= rules.flicker_s
            )
            if by_time or by_steps:
                self._end_bout("break")
        elif run.code == NON_WEAR:
            self._end_bout("non_wear")
        elif run.code == NO_DATA and run.seconds > rules.max_gap_s:
            self._end_bout("no_data")

    def _end_bout(self, reason: str) -> None:
        if self._bout_start is None:
            return
        self.bouts.append(
            Bout(self._bout_start, self._sit_end, self._sitting_s, self._bout_posture, reason)
        )
        self._bout_start = None
        self._pause_s, self._pause_steps = 0.0, 0

    # -- alerts -----------------------------------------------------------------------------------
    def _streak_end(self) -> int | None:
        """How far the current bout's sitting is known to reach (UTC ns), or None."""
        open_ = self._open
        if self._bout_start is None:
            if open_ is None or open_.code not in (SITTING, SEDENTARY):
                return None
            if open_.seconds < self.rules.flicker_s:
                return None
            return open_.end  # the open run will start a bout
        if open_ is not None and open_.code in (SITTING, SEDENTARY):
            return open_.end
        return self._sit_end

    def _check_alerts(self) -> None:
        rules = self.alert_rules
        end = self._streak_end()
        if rules is None or end is None:
            return
        start = self._bout_start if self._bout_start is not None else self._open.start  # type: ignore[union-attr]
        if start != self._alert_bout:
            self._alert_bout, self._alerts_fired = start, 0
        while rules.repeat_s is not None or self._alerts_fired == 0:
            streak_s = rules.threshold_s + self._alerts_fired * (rules.repeat_s or 0.0)
            t = start + round(streak_s * NS)
            if t > end:
                return
            self.alerts.append(Alert(t, streak_s, start))
            self._alerts_fired += 1


def bouts_frame(bouts: list[Bout], device_id: str, placement: str) -> pd.DataFrame:
    """Bouts as ``sitting_bouts`` table rows (without ``day``)."""
    return pd.DataFrame(
        {
            "device_id": pd.Series([device_id] * len(bouts), dtype="string"),
            "start": pd.Series([b.start for b in bouts], dtype="int64"),
            "end": pd.Series([b.end for b in bouts], dtype="int64"),
            "duration_s": pd.Series([b.duration_s for b in bouts], dtype="float64"),
            "sitting_s": pd.Series([b.sitting_s for b in bouts], dtype="float64"),
            "posture": pd.Series([b.posture for b in bouts], dtype="string"),
            "placement": pd.Series([placement] * len(bouts), dtype="string"),
            "ended_by": pd.Series([b.ended_by for b in bouts], dtype="string"),
        }
    )


def time_weighted_median_s(durations_s: np.ndarray) -> float:
    """The bout length at which half of all sitting time is in shorter bouts (s); 0 if none."""
    d = np.sort(np.asarray(durations_s, dtype=np.float64))
    if len(d) == 0 or d.sum() <= 0:
        return 0.0
    cumulative = np.cumsum(d)
    return float(d[np.searchsorted(cumulative, cumulative[-1] / 2.0)])


def sitting_summary(bouts: pd.DataFrame, rules: BoutRules) -> dict[str, float | int]:
    """Daily sitting figures from one day's bouts (``sitting_bouts`` rows)."""
    sitting_s = float(bouts["sitting_s"].sum()) if len(bouts) else 0.0
    durations = bouts["duration_s"].to_numpy(np.float64) if len(bouts) else np.empty(0)
    breaks = int((bouts["ended_by"] == "break").sum()) if len(bouts) else 0
    return {
        "sitting_s": sitting_s,
        "sitting_bouts": len(bouts),
        "longest_bout_s": float(durations.max()) if len(durations) else 0.0,
        "breaks": breaks,
        "breaks_per_sitting_hour": breaks / (sitting_s / 3600.0) if sitting_s > 0 else 0.0,
        "bouts_over_30min": int((durations > 30 * 60).sum()),
        "bouts_over_45min": int((durations > 45 * 60).sum()),
        "median_bout_s": time_weighted_median_s(durations),
    }
