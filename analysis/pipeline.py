"""The one place that reads the store and writes derived tables, device-day by device-day.

For each device-day with raw IMU samples: coverage, and the sitting analysis of
:func:`analysis.day.analyze_imu_day` (bouts, posture runs, streak alerts, daily summary). A
device-day's tables are replaced in one transaction, so re-running is idempotent and a crash
leaves either the old or the new result. Only device-days that received data since the last run
are recomputed, unless ``since`` asks for every day from a date on. Days are analysed in order,
so a day's streak alerts can continue the previous day's posture; bouts cut at midnight are then
linked (``bout_start``/``bout_end`` give the whole bout).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.combine import COMBINED, PRECEDENCE, combine, day_codes, decision_text, watch_runs
from analysis.coverage import daily_summary_row
from analysis.day import (
    DayResult,
    SittingSettings,
    analyze_day_grid,
    analyze_foot_day,
    analyze_imu_day,
)
from analysis.gait import with_speed
from analysis.posture import Orientation
from analysis.signal import bin_means
from analysis.sitting import AlertRules, BoutRules
from analysis.stride import device_strides, empty_strides
from analysis.trends import weekly_table
from sensors.schema import DERIVED_TABLES
from sensors.store import Store
from sensors.timeutil import day_bounds_ns, parse_day

GYRO_PLACEMENTS = ("foot", "lower_back")
"""Placements whose gait methods use the gyroscope (strapdown; turn detection)."""
DEVICE_KINDS = ("watch", "footpod", "phone", "app")
"""Devices whose own stride values (FIT, RSC, Apple Health) go to the strides table."""
ORIENTATION_KEY = "orientation:{device_id}"
ALERT_THRESHOLD_KEY = "alert_threshold_min"
ALERT_REPEAT_KEY = "alert_repeat_min"
PREVIEW_BIN_S = 30.0
"""Bin of the stored day preview (s): 2,880 rows a day, what the dashboard's day view draws."""

DayProgress = Callable[[str, str], None]
"""Called with (device_id, day) before each device-day is analysed."""


@dataclass
class AnalysisReport:
    """Which device-days were (re)analysed."""

    device_days: list[tuple[str, str]] = field(default_factory=list)


def _analyzed_key(device_id: str) -> str:
    return f"analyzed_until_ns:{device_id}"


def days_to_analyze(store: Store, device_id: str, since: dt.date | None) -> list[str]:
    """Every day from ``since`` on, or the days changed since the last analysis."""
    if since is not None:
        return [d for d in store.days(device_id) if parse_day(d) >= since]
    last = store.get_meta(_analyzed_key(device_id))
    return store.changed_days(device_id, int(last) if last else 0)


def sitting_settings(store: Store) -> SittingSettings:
    """The user's alert settings (``psoas alerts --threshold``), else the defaults."""
    threshold = store.get_meta(ALERT_THRESHOLD_KEY)
    repeat = store.get_meta(ALERT_REPEAT_KEY)
    alerts = AlertRules(
        threshold_s=float(threshold) * 60 if threshold else AlertRules().threshold_s,
        repeat_s=float(repeat) * 60 if repeat else None,
    )
    return SittingSettings(BoutRules(), alerts)


def stored_orientation(store: Store, device_id: str) -> Orientation:
    """The upright direction the last analysis learned for the device, else the default."""
    up = store.get_meta(ORIENTATION_KEY.format(device_id=device_id))
    if not up:
        return Orientation()
    x, y, z = (float(v) for v in up.split(","))
    return Orientation((x, y, z), "learned by the last analysis")


def analyze(
    store: Store, *, since: dt.date | None = None, on_day: DayProgress | None = None
) -> AnalysisReport:
    """Run every analysis stage over new (or, with ``since``, all recent) device-days."""
    report = AnalysisReport()
    settings = sitting_settings(store)
    changed_days: set[str] = set()
    for device_id in store.devices()["device_id"]:
        started_ns = time.time_ns()
        days = days_to_analyze(store, device_id, since)
        for day in days:
            if on_day:
                on_day(device_id, day)
            analyze_device_day(store, device_id, day, settings)
            report.device_days.append((device_id, day))
        if days:
            link_midnight_bouts(store, device_id)
        store.set_meta(_analyzed_key(device_id), str(started_ns))
        changed_days.update(days)
    for day in sorted(changed_days):
        if combine_day(store, day, settings):
            report.device_days.append((COMBINED, day))
    if changed_days:
        link_midnight_bouts(store, COMBINED)
        update_weekly_strides(store)
    return report


def update_weekly_strides(store: Store) -> None:
    """Recompute the pace-adjusted weekly stride table from every stored stride."""
    strides = store.read_table("strides")
    store.replace_derived("weekly_stride", weekly_table(strides))


def analyze_device_day(store: Store, device_id: str, day: str, settings: SittingSettings) -> None:
    """Analyse one device-day and replace its rows in every derived table at once."""
    device = store.device(device_id)
    assert device is not None
    start_ns, end_ns = day_bounds_ns(parse_day(day), device.tz)
    gyro = ("gx", "gy", "gz") if device.placement in GYRO_PLACEMENTS else ()
    samples = store.read_samples(device_id, day=day, columns=["t", "ax", "ay", "az", *gyro])
    present = [c for c in gyro if c in samples.columns]
    if present and len(samples) and samples[present].isna().all().all():
        samples = samples.drop(columns=present)  # parts without a gyroscope only
    gaps = store.gaps(device_id, start_ns, end_ns)
    main = _main_recording(store.recordings(device_id), start_ns, end_ns)
    placement = device.placement if main is None else str(main["placement"])
    sensor_height_m = None
    if main is not None and pd.notna(main["sensor_height_m"]):
        sensor_height_m = float(main["sensor_height_m"])
    row = {**_NO_SITTING, **daily_summary_row(device_id, day, placement, samples, gaps)}
    key = {"device_id": device_id, "day": day}
    previous_runs = store.read_table("posture_runs", {**key, "day": _day_before(day)})
    result = None
    metrics = store.read_metrics(device_id, day=day)
    if len(samples) and placement == "foot":
        result = analyze_foot_day(samples, start_ns, end_ns)
    elif len(samples):
        temperature = metrics[metrics["metric"] == "temperature_c"]
        result = analyze_imu_day(
            samples,
            placement,
            start_ns,
            end_ns,
            settings,
            previous_runs,
            temperature,
            sensor_height_m=sensor_height_m,
        )
        if result.orientation.source.startswith("learned"):
            up = ",".join(f"{v:.6f}" for v in result.orientation.up)
            store.set_meta(ORIENTATION_KEY.format(device_id=device_id), up)
    else:
        activity = metrics[metrics["metric"] == "activity_type"]
        if len(activity):
            codes = day_codes(watch_runs(activity, start_ns, end_ns), start_ns, end_ns)
            result = analyze_day_grid(
                codes,
                "watch",
                start_ns,
                end_ns,
                settings,
                previous_runs,
                method="watch activity_type (sedentary, not sitting)",
            )
    strides = device_strides(metrics, device.kind) if device.kind in DEVICE_KINDS else None
    if result is not None and len(result.strides):
        strides = _with_other_devices_speed(store, device_id, result.strides, start_ns, end_ns)
    preview = None
    if len(samples) and placement != "foot":  # what the dashboard's day view draws
        preview = bin_means(samples, ["ax", "ay", "az"], PREVIEW_BIN_S)
    _write_day(store, key, row, result, strides, preview)


def _with_other_devices_speed(
    store: Store, device_id: str, strides: pd.DataFrame, start_ns: int, end_ns: int
) -> pd.DataFrame:
    """Cadence-only strides get a length from another device's measured speed, if one ran."""
    for other in store.devices()["device_id"]:
        if other == device_id:
            continue
        info = store.device(other)
        if info is None or info.kind not in DEVICE_KINDS:
            continue
        metrics = store.read_metrics(other, start_ns=start_ns, end_ns=end_ns)
        speed = metrics[metrics["metric"] == "speed_mps"]
        if len(speed):
            strides = with_speed(strides, speed, other)
    return strides


def _write_day(
    store: Store,
    key: dict[str, str],
    row: dict[str, object],
    result: DayResult | None,
    strides: pd.DataFrame | None = None,
    preview: pd.DataFrame | None = None,
) -> None:
    """Replace one device-day's rows in every derived table, in one transaction."""
    tables = ("sitting_bouts", "posture_runs", "transitions", "alerts")
    frames = {name: _empty(name) for name in tables}
    if result is not None:
        row.update(result.summary)
        bouts = result.bouts.assign(bout_start=result.bouts["start"], bout_end=result.bouts["end"])
        frames = {
            "sitting_bouts": bouts,
            "posture_runs": result.runs,
            "transitions": result.transitions,
            "alerts": result.alerts,
        }
    frames["strides"] = strides if strides is not None else empty_strides()
    frames["day_preview"] = preview if preview is not None else _empty("day_preview")
    store.replace_derived_tables(
        [
            (name, frame.assign(**key), key if name != "alerts" else {**key, "source": "analysis"})
            for name, frame in frames.items()
        ]
        + [("daily_summary", pd.DataFrame([row]), key)]
    )


def combine_day(store: Store, day: str, settings: SittingSettings) -> bool:
    """The person's timeline for ``day`` from every device with postures that day (two or
    more), stored as device ``combined``; returns whether it was written."""
    runs = store.read_table("posture_runs", {"day": day})
    runs = runs[runs["device_id"] != COMBINED]
    ranked = []
    for device_id in runs["device_id"].unique().tolist():
        device = store.device(device_id)
        rank = _precedence(store, device_id)
        if device is not None and rank is not None:
            ranked.append((rank, device_id, device.tz))
    key = {"device_id": COMBINED, "day": day}
    if len(ranked) < 2:
        if not store.read_table("daily_summary", key).empty:  # devices were removed
            _write_day(store, key, {**_NO_SITTING, **key}, None)
        return False
    ranked.sort()
    tz = ranked[0][2]
    start_ns, end_ns = day_bounds_ns(parse_day(day), tz)
    codes_by_rank = [
        (rank, day_codes(runs[runs["device_id"] == d], start_ns, end_ns)) for rank, d, _ in ranked
    ]
    codes, decided_by = combine(codes_by_rank)
    result = analyze_day_grid(
        codes,
        "combined",
        start_ns,
        end_ns,
        settings,
        store.read_table("posture_runs", {**key, "day": _day_before(day)}),
        method=decision_text([d for _, d, _ in ranked], decided_by),
    )
    row = {**_NO_SITTING, **key, "placement": "combined"}
    _write_day(store, key, row, result)
    return True


def _precedence(store: Store, device_id: str) -> int | None:
    device = store.device(device_id)
    if device is None:
        return None
    if device.kind == "watch":
        return PRECEDENCE["watch"]
    return PRECEDENCE.get(device.placement)


def _day_before(day: str) -> str:
    return (parse_day(day) - dt.timedelta(days=1)).isoformat()


def link_midnight_bouts(store: Store, device_id: str) -> None:
    """Give bout parts cut at midnight the whole bout's ``bout_start`` and ``bout_end``."""
    bouts = store.read_table("sitting_bouts", {"device_id": device_id})
    if len(bouts) < 2:
        return
    linked = link_bout_parts(bouts, BoutRules().min_break_s)
    if not linked[["bout_start", "bout_end"]].equals(bouts[["bout_start", "bout_end"]]):
        store.replace_derived("sitting_bouts", linked, {"device_id": device_id})


def link_bout_parts(bouts: pd.DataFrame, max_gap_s: float) -> pd.DataFrame:
    """Chain parts where one ended with its day's data and the next starts within
    ``max_gap_s`` in the next day; every part gets the chain's first start and last end."""
    bouts = bouts.sort_values("start", kind="stable").reset_index(drop=True)
    start, end = bouts["start"].to_numpy(), bouts["end"].to_numpy()
    cut = bouts["ended_by"].to_numpy() == "end_of_data"
    next_day = bouts["day"].to_numpy()[1:] != bouts["day"].to_numpy()[:-1]
    joins = cut[:-1] & next_day & (start[1:] - end[:-1] <= max_gap_s * 1e9)
    chain = np.concatenate([[0], np.cumsum(~joins)])
    bouts["bout_start"] = pd.Series(start).groupby(chain).transform("min").to_numpy()
    bouts["bout_end"] = pd.Series(end).groupby(chain).transform("max").to_numpy()
    return bouts


_NO_SITTING: dict[str, object] = {
    column: {"int64": 0, "float64": np.nan, "string": "", "bool": False}[dtype]
    for column, dtype in DERIVED_TABLES["daily_summary"].items()
}
"""daily_summary values of a day without raw samples (a watch's metrics-only day)."""


def _empty(table: str) -> pd.DataFrame:
    columns = {c: d for c, d in DERIVED_TABLES[table].items() if c not in ("device_id", "day")}
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in columns.items()})


def _main_recording(recordings: pd.DataFrame, start_ns: int, end_ns: int) -> pd.Series | None:
    """The recording with most samples overlapping ``[start_ns, end_ns)``, if any."""
    overlapping = recordings[(recordings["first_t"] < end_ns) & (recordings["last_t"] >= start_ns)]
    if overlapping.empty:
        return None
    return overlapping.sort_values("samples").iloc[-1]
