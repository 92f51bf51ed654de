"""One device-day of raw IMU samples in, that day's sitting tables out: a pure function.

``psoas analyze`` (analysis/pipeline.py) reads a device-day from the store, calls
:func:`analyze_imu_day` and writes what it returns; the cohort runner calls the same function.

Steps: auto-calibration (sphere fit; applied only when it lowers the error) -> 1 s epochs ->
non-wear -> orientation from the day's walking -> posture per epoch -> sitting bouts, breaks and
streak alerts (one streaming tracker, seeded with the end of the previous day so that a streak
across midnight alerts when it should) -> posture runs and the daily summary.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import posture, signal
from analysis.combine import day_codes
from analysis.foot_stride import foot_strides
from analysis.gait import cadence_strides
from analysis.posture import (
    LYING,
    MOVING,
    NO_DATA,
    NON_WEAR,
    POSTURE_NAMES,
    SITTING,
    STANDING,
)
from analysis.sitting import (
    EPOCH_NS,
    AlertRules,
    BoutRules,
    BoutTracker,
    bouts_frame,
    runs_of,
    sitting_summary,
)
from analysis.steps import PeakFinder, StepBand, count_per_epoch
from analysis.stride import conform, empty_strides
from analysis.transitions import trunk_transitions
from analysis.trunk_stride import trunk_strides
from analysis.wrist_gait import wrist_strides

NS = 1_000_000_000
_NO_TRANSITIONS = pd.DataFrame(
    {
        "t": pd.Series(dtype="int64"),
        "kind": pd.Series(dtype="string"),
        "duration_s": pd.Series(dtype="float64"),
        "lean_deg": pd.Series(dtype="float64"),
    }
)
TRUNK_PLACEMENTS = ("lower_back", "chest")
STEP_PLACEMENTS = ("thigh", "lower_back", "chest")
"""Where steps are counted for the break rule (a wrist's arm swing is not a step)."""
ALERT_KIND = "sitting_streak"


@dataclass(frozen=True)
class SittingSettings:
    """The user's rules for bouts and alerts."""

    bouts: BoutRules = field(default_factory=BoutRules)
    alerts: AlertRules = field(default_factory=AlertRules)


@dataclass
class DayResult:
    """What one device-day's analysis produced (table rows without ``device_id``/``day``)."""

    bouts: pd.DataFrame
    runs: pd.DataFrame
    alerts: pd.DataFrame
    summary: dict[str, object]
    calibration: signal.Calibration | None
    orientation: posture.Orientation
    non_wear_s: float
    transitions: pd.DataFrame = field(default_factory=lambda: _NO_TRANSITIONS.copy())
    strides: pd.DataFrame = field(default_factory=empty_strides)


TEMPERATURE_DROP_C = 2.0
"""A still window counts as non-wear, where the device logs temperature, only if it is at least
this much colder than the device was while worn (a very still sleeper keeps it warm)."""


BLOCK_S = 3600
"""The day is processed one clock hour at a time: an hour holds whole calibration windows and
whole epochs, and no (n, 3) copy of the whole day is ever made (peak memory)."""


def _hour_blocks(t_ns: np.ndarray) -> list[tuple[int, int]]:
    """Index ranges of ``t_ns`` (sorted) per clock hour (UTC), empty hours left out."""
    if len(t_ns) == 0:
        return []
    block_ns = BLOCK_S * NS
    edges = np.arange(t_ns[0] // block_ns * block_ns, t_ns[-1] + block_ns, block_ns)
    cuts = np.searchsorted(t_ns, edges)
    return [(int(a), int(b)) for a, b in itertools.pairwise(cuts.tolist()) if b > a]


def _block(axes: signal.Axes, a: int, b: int) -> np.ndarray:
    return signal.rows(axes, a, b, np.float32)


def posture_codes(
    t_ns: np.ndarray,
    acc_g: np.ndarray | signal.Axes,
    placement: str,
    temperature: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, np.ndarray, signal.Calibration | None, posture.Orientation]:
    """Calibrate, epoch, find non-wear and classify: (epochs, codes, calibration, orientation).

    ``acc_g`` is an (n, 3) array or the three axis columns. ``temperature`` (``t`` ns, ``value``
    degrees C; the device's temperature log) confirms non-wear where present.
    """
    day = _posture_and_steps(t_ns, acc_g, placement, temperature, with_steps=False)
    return day.epochs, day.codes, day.calibration, day.orientation


@dataclass
class _PostureDay:
    """What the hour-by-hour pass over a day's samples found."""

    epochs: pd.DataFrame
    codes: np.ndarray
    calibration: signal.Calibration | None
    orientation: posture.Orientation
    step_t: np.ndarray
    """Step times (ns), when asked for."""
    rate_hz: float


def _posture_and_steps(
    t_ns: np.ndarray,
    acc_g: np.ndarray | signal.Axes,
    placement: str,
    temperature: pd.DataFrame | None,
    *,
    with_steps: bool,
) -> _PostureDay:
    """:func:`posture_codes` plus the step times (ns) when ``with_steps``, hour by hour."""
    t_ns = np.asarray(t_ns, dtype=np.int64)
    axes = signal.as_axes(acc_g, len(t_ns))
    blocks = _hour_blocks(t_ns)
    calibration = None
    rate_hz = signal.nominal_rate_hz(t_ns) if len(t_ns) > 1 else 0.0
    if len(t_ns) > 1:
        stats = [signal.window_stats(t_ns[a:b], _block(axes, a, b)) for a, b in blocks]
        calibration = signal.calibrate_from_windows(signal.WindowStats.concat(stats), rate_hz)
    band = StepBand(rate_hz) if with_steps and len(t_ns) > 1 else None
    # step candidates hour by hour; the day's band-passed magnitude is never held whole
    peaks = PeakFinder(rate_hz) if band is not None and band.usable else None
    parts = []
    for a, b in blocks:
        block = _block(axes, a, b)
        if calibration is not None:
            block = signal.apply_calibration(block, calibration)
        parts.append(signal.epoch_table(t_ns[a:b], block, epoch_s=1.0))
        if peaks is not None:
            peaks.feed(band.feed(block))
    epochs = (
        pd.concat(parts, ignore_index=True)
        if parts
        else signal.epoch_table(t_ns, np.empty((0, 3), np.float32), epoch_s=1.0)
    )
    epochs.attrs["epoch_s"] = 1.0
    orientation = posture.learn_orientation(epochs, placement)
    codes = posture.classify(epochs, placement, orientation)
    if len(epochs):
        drop_c = None
        if temperature is not None and len(temperature):
            epochs["temperature_c"] = np.interp(
                epochs["t"].to_numpy(np.float64),
                temperature["t"].to_numpy(np.float64),
                temperature["value"].to_numpy(np.float64),
            ).astype(np.float32)
            drop_c = TEMPERATURE_DROP_C
        codes[signal.non_wear(epochs, temperature_drop_c=drop_c)] = NON_WEAR
    step_t = np.empty(0, np.int64)
    if peaks is not None:
        step_t = peaks.step_times(t_ns, epochs["t"].to_numpy(np.int64), codes == MOVING)
    return _PostureDay(epochs, codes, calibration, orientation, step_t, rate_hz)


def runs_frame(t_ns: np.ndarray, codes: np.ndarray) -> pd.DataFrame:
    """Posture runs (``start, end, posture``) of epochs ``t_ns`` with ``codes``."""
    runs = list(runs_of(t_ns, codes))
    return pd.DataFrame(
        {
            "start": pd.Series([r.start for r in runs], dtype="int64"),
            "end": pd.Series([r.end for r in runs], dtype="int64"),
            "posture": pd.Series([POSTURE_NAMES[r.code] for r in runs], dtype="string"),
        }
    )


def seed_from_runs(tracker: BoutTracker, runs: pd.DataFrame, before_ns: int) -> None:
    """Feed the tracker the previous day's posture runs that end by ``before_ns``."""
    runs = runs[runs["end"] <= before_ns]
    if runs.empty:
        return
    first = int(runs["start"].min())
    codes = day_codes(runs, first, before_ns)
    known = codes != NO_DATA  # missing seconds stay gaps, as in the stored runs
    tracker.feed(first + np.flatnonzero(known).astype(np.int64) * EPOCH_NS, codes[known])


def analyze_imu_day(
    samples: pd.DataFrame,
    placement: str,
    day_start_ns: int,
    day_end_ns: int,
    settings: SittingSettings | None = None,
    previous_runs: pd.DataFrame | None = None,
    temperature: pd.DataFrame | None = None,
    sensor_height_m: float | None = None,
) -> DayResult:
    """Sitting analysis of one local day's raw samples (``t`` ns, ``ax ay az`` g); for a
    lower-back sensor also its strides (lengths need ``sensor_height_m``, else cadence only).

    ``previous_runs`` are the posture runs of the day before (from the store), so that a bout
    running over midnight keeps its streak for alerts; bouts themselves are cut at midnight
    (the pipeline links the parts).
    """
    t = samples["t"].to_numpy(np.int64)
    axes = (samples["ax"].to_numpy(), samples["ay"].to_numpy(), samples["az"].to_numpy())
    counts_steps = placement in STEP_PLACEMENTS
    day = _posture_and_steps(t, axes, placement, temperature, with_steps=counts_steps)
    codes, calibration, orientation = day.codes, day.calibration, day.orientation
    step_t, rate_hz = day.step_t, day.rate_hz
    epoch_t = day.epochs["t"].to_numpy(np.int64)
    steps = count_per_epoch(step_t, epoch_t) if counts_steps else None
    result = analyze_codes(
        epoch_t,
        codes,
        placement,
        day_start_ns,
        day_end_ns,
        settings,
        previous_runs,
        method=f"{placement}; {orientation.source}",
        steps=steps,
    )
    result.calibration, result.orientation = calibration, orientation
    if placement == "thigh":
        inside_day = (step_t >= day_start_ns) & (step_t < day_end_ns)
        result.strides = cadence_strides(step_t[inside_day], "thigh_cadence")
    if placement == "wrist" and len(t) > 1:  # cadence from arm swing; never a stride length
        found = wrist_strides(t, np.column_stack(axes), rate_hz)
        inside = (found["t"] >= day_start_ns) & (found["t"] < day_end_ns)
        result.strides = conform(found[inside])
    if placement in TRUNK_PLACEMENTS and len(t) > 1:  # the trunk methods take the day's columns
        found = trunk_transitions(t, axes, rate_hz, epoch_t, codes, orientation)
        inside = (found["t"] >= day_start_ns) & (found["t"] < day_end_ns)
        result.transitions = found[inside].reset_index(drop=True)
        result.summary["sit_to_stand"] = int((result.transitions["kind"] == "sit_to_stand").sum())
        if placement == "lower_back":
            gyro = None
            if all(c in samples.columns for c in ("gx", "gy", "gz")):
                gyro = tuple(samples[c].to_numpy() for c in ("gx", "gy", "gz"))
            found = trunk_strides(t, axes, gyro, rate_hz, sensor_height_m)
            inside = (found["t"] >= day_start_ns) & (found["t"] < day_end_ns)
            result.strides = conform(found[inside])
    result.summary.update(
        calibration=_calibration_text(calibration),
        calibration_error_before_g=calibration.error_before_g if calibration else np.nan,
        calibration_error_after_g=calibration.error_after_g if calibration else np.nan,
    )
    return result


def analyze_foot_day(
    samples: pd.DataFrame, day_start_ns: int, day_end_ns: int, foot: str = "unknown"
) -> DayResult:
    """Gait only: a foot cannot tell sitting from standing, so no posture, bouts or alerts;
    wear time from non-wear, strides from :func:`analysis.foot_stride.foot_strides`."""
    t = samples["t"].to_numpy(np.int64)
    acc = samples[["ax", "ay", "az"]].to_numpy(np.float32)
    epochs = signal.epoch_table(t, acc, epoch_s=1.0)
    inside = (epochs["t"] >= day_start_ns) & (epochs["t"] < day_end_ns)
    non_wear_s = float(signal.non_wear(epochs)[inside.to_numpy()].sum()) if len(epochs) else 0.0
    strides = empty_strides()
    if all(c in samples.columns for c in ("gx", "gy", "gz")) and len(t) > 1:
        gyro = samples[["gx", "gy", "gz"]].to_numpy(np.float32)
        found = foot_strides(t, acc, gyro, signal.nominal_rate_hz(t), foot=foot)
        found = found[(found["t"] >= day_start_ns) & (found["t"] < day_end_ns)]
        strides = conform(found)
    method = "foot: gait only (a foot cannot tell sitting from standing)"
    if not all(c in samples.columns for c in ("gx", "gy", "gz")):
        method += "; no gyroscope, so no stride length"
    result = analyze_codes(
        np.empty(0, np.int64),
        np.empty(0, np.int8),
        "foot",
        day_start_ns,
        day_end_ns,
        method=method,
    )
    result.summary.update(wear_s=float(inside.sum()) - non_wear_s, non_wear_s=non_wear_s)
    result.non_wear_s, result.strides = non_wear_s, strides
    return result


def analyze_day_grid(
    codes: np.ndarray,
    placement: str,
    day_start_ns: int,
    day_end_ns: int,
    settings: SittingSettings | None,
    previous_runs: pd.DataFrame | None,
    *,
    method: str,
) -> DayResult:
    """:func:`analyze_codes` for one code per second from ``day_start_ns`` (a watch's activity
    log or the combined timeline, see :func:`analysis.combine.day_codes`); NO_DATA is no data."""
    epoch_t = day_start_ns + np.arange(len(codes), dtype=np.int64) * EPOCH_NS
    known = codes != NO_DATA
    return analyze_codes(
        epoch_t[known],
        codes[known],
        placement,
        day_start_ns,
        day_end_ns,
        settings,
        previous_runs,
        method=method,
    )


def analyze_codes(
    epoch_t: np.ndarray,
    codes: np.ndarray,
    placement: str,
    day_start_ns: int,
    day_end_ns: int,
    settings: SittingSettings | None = None,
    previous_runs: pd.DataFrame | None = None,
    *,
    method: str,
    steps: np.ndarray | None = None,
) -> DayResult:
    """Bouts, alerts, runs and the daily summary from per-second posture codes of one day
    (from an IMU, a watch's activity log or the combined timeline); ``steps`` per epoch, where
    known, let a short walk count as a break."""
    settings = settings or SittingSettings()
    inside = (epoch_t >= day_start_ns) & (epoch_t < day_end_ns)
    epoch_t, codes = epoch_t[inside], codes[inside]
    steps = steps[inside] if steps is not None else None

    bouts = BoutTracker(settings.bouts)
    bouts.feed(epoch_t, codes, steps)
    bout_rows = bouts_frame(bouts.finish(), "", placement).drop(columns="device_id")

    streaks = BoutTracker(settings.bouts, settings.alerts)
    if previous_runs is not None:
        seed_from_runs(streaks, previous_runs, day_start_ns)
    streaks.alerts.clear()
    streaks.feed(epoch_t, codes, steps)
    streaks.finish()
    fired = [a for a in streaks.alerts if day_start_ns <= a.t < day_end_ns]
    alerts = pd.DataFrame(
        {
            "t": pd.Series([a.t for a in fired], dtype="int64"),
            "kind": pd.Series([ALERT_KIND] * len(fired), dtype="string"),
            "streak_s": pd.Series([a.streak_s for a in fired], dtype="float64"),
            "bout_start": pd.Series([a.bout_start for a in fired], dtype="int64"),
            "source": pd.Series(["analysis"] * len(fired), dtype="string"),
            "acknowledged": pd.Series([False] * len(fired), dtype="bool"),
        }
    )
    seconds = {code: float((codes == code).sum()) for code in (SITTING, STANDING, MOVING, LYING)}
    non_wear_s = float((codes == NON_WEAR).sum())
    known_s = float(np.isin(codes, [NON_WEAR, NO_DATA], invert=True).sum())
    summary: dict[str, object] = {
        **sitting_summary(bout_rows, settings.bouts),
        "wear_s": known_s,
        "non_wear_s": non_wear_s,
        "upright_s": seconds[STANDING] + seconds[MOVING],
        "lying_s": seconds[LYING],
        "sit_to_stand": 0,
        "posture_method": method,
        "calibration": "",
        "calibration_error_before_g": np.nan,
        "calibration_error_after_g": np.nan,
    }
    return DayResult(
        bouts=bout_rows,
        runs=runs_frame(epoch_t, codes),
        alerts=alerts,
        summary=summary,
        calibration=None,
        orientation=posture.Orientation(),
        non_wear_s=non_wear_s,
    )


def _calibration_text(calibration: signal.Calibration | None) -> str:
    if calibration is None:
        return "not enough data"
    if not calibration.ok:
        return f"not applied: {calibration.reason}"
    offset = ", ".join(f"{v:+.4f}" for v in calibration.offset_g)
    scale = ", ".join(f"{v:.4f}" for v in calibration.scale)
    return f"applied: offset ({offset}) g, scale ({scale})"
