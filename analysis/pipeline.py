"""The one place that reads the store and writes derived tables, device-day by device-day.

Today it computes ``daily_summary`` (coverage of each day); the sitting, gait and routine stages
plug in here as they arrive. Only device-days that received data since the last run are
recomputed, unless ``since`` asks for every day from a date on.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from analysis.coverage import daily_summary_row
from sensors.store import Store
from sensors.timeutil import day_bounds_ns, parse_day

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


def analyze(
    store: Store, *, since: dt.date | None = None, on_day: DayProgress | None = None
) -> AnalysisReport:
    """Run every analysis stage over new (or, with ``since``, all recent) device-days."""
    report = AnalysisReport()
    for device_id in store.devices()["device_id"]:
        started_ns = time.time_ns()
        device = store.device(device_id)
        assert device is not None
        recordings = store.recordings(device_id)
        for day in days_to_analyze(store, device_id, since):
            if on_day:
                on_day(device_id, day)
            start_ns, end_ns = day_bounds_ns(parse_day(day), device.tz)
            samples = store.read_samples(device_id, day=day, columns=["t"])
            gaps = store.gaps(device_id, start_ns, end_ns)
            placement = _placement_on(recordings, start_ns, end_ns, device.placement)
            row = daily_summary_row(device_id, day, placement, samples, gaps)
            store.replace_derived(
                "daily_summary", pd.DataFrame([row]), where={"device_id": device_id, "day": day}
            )
            report.device_days.append((device_id, day))
        store.set_meta(_analyzed_key(device_id), str(started_ns))
    return report


def _placement_on(recordings: pd.DataFrame, start_ns: int, end_ns: int, default: str) -> str:
    """Placement of the recording with most samples overlapping ``[start_ns, end_ns)``."""
    overlapping = recordings[(recordings["first_t"] < end_ns) & (recordings["last_t"] >= start_ns)]
    if overlapping.empty:
        return default
    return str(overlapping.sort_values("samples").iloc[-1]["placement"])
