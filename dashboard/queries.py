"""What the pages read: the store's precomputed tables, filtered to what one view shows. Raw
samples only for the day view (one device-day, averaged before it reaches the browser) and the
live banner (the last hours of a streaming device).

Every call opens the store, reads committed rows and closes it: a collector committing at the
same time is never seen half-way (SQLite WAL readers see the last committed transaction).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from analysis.combine import COMBINED
from analysis.trends import stride_modes
from sensors.schema import empty_table
from sensors.store import Store
from sensors.timeutil import day_bounds_ns, parse_day

_home: Path | None = None
T = TypeVar("T")
_CACHE_SIZE = 16

MAX_STRIDES_PER_WEEK = 2000
"""Strides per week sent to the weekly figure (a seeded sample; its boxes are quartiles)."""


def configure(home: Path) -> None:
    global _home
    _home = Path(home)


def home() -> Path:
    assert _home is not None, "call dashboard.queries.configure(home) first"
    return _home


def data_version() -> tuple[int, ...]:
    """Changes with every commit to the store (each one writes the catalog or its WAL), so a
    cached view is reused only while nothing was written — a collector's commit, a logged
    routine or an analysis run all make the next callback read afresh."""
    version: list[int] = []
    for name in ("catalog.sqlite", "catalog.sqlite-wal"):
        try:
            stat = (home() / name).stat()
            version += [stat.st_mtime_ns, stat.st_size]
        except FileNotFoundError:
            version += [0, 0]
    return tuple(version)


def cached(function: Callable[..., T]) -> Callable[..., T]:
    """``function`` memoised on its arguments and :func:`data_version` (results are shared:
    callers must not modify them)."""
    memo = functools.lru_cache(maxsize=_CACHE_SIZE)(lambda _version, *args: function(*args))

    @functools.wraps(function)
    def wrapper(*args: Any) -> T:
        return memo(data_version(), *args)

    return wrapper


@contextmanager
def store() -> Iterator[Store]:
    with Store.open(home()) as opened:
        yield opened


def device_options() -> list[dict[str, str]]:
    """Dropdown options: the combined timeline first (when there is one), then every device."""
    with store() as s:
        devices = s.devices()
        summary_devices = set(s.read_table("daily_summary")["device_id"])
    options = []
    if COMBINED in summary_devices:
        options.append({"label": "you (all devices combined)", "value": COMBINED})
    # devices with a sitting analysis (IMUs) before those without (footpods, watches' metrics)
    devices = devices.assign(_imu=devices["kind"] != "imu").sort_values(["_imu", "device_id"])
    for row in devices.itertuples(index=False):
        options.append(
            {"label": f"{row.device_id} ({row.kind}, {row.placement})", "value": row.device_id}
        )
    return options


def days_with_data() -> list[str]:
    with store() as s:
        return sorted(set(s.read_table("daily_summary")["day"]))


def device_tz(device_id: str | None) -> str:
    with store() as s:
        devices = s.devices()
    if devices.empty:
        return "UTC"
    match = devices[devices["device_id"] == device_id]
    return str((match if len(match) else devices)["tz"].iloc[0])


def day_view(device_id: str, day: str) -> dict[str, object]:
    """Everything the day page shows for one device-day."""
    tz = device_tz(device_id)
    start, end = day_bounds_ns(parse_day(day), tz)
    where = {"device_id": device_id, "day": day}
    with store() as s:
        summary = s.read_table("daily_summary", where)
        runs = s.read_table("posture_runs", where)
        bouts = s.read_table("sitting_bouts", where)
        alerts = s.read_table("alerts", where)
    return {
        "tz": tz,
        "start": start,
        "end": end,
        "summary": summary.iloc[0] if len(summary) else None,
        "runs": runs,
        "bouts": bouts,
        "alerts": alerts,
    }


def day_samples(device_id: str, day: str) -> tuple[pd.DataFrame, str]:
    """One device-day's acceleration for display and the device's zone: the stored day
    preview (``attrs["preview"]``), else — a day analysed before previews existed — its raw
    samples; empty for devices without raw samples."""
    with store() as s:
        device = s.device(device_id)
        if device is None or device.kind != "imu":
            return no_samples(), device.tz if device else "UTC"
        preview = s.read_table("day_preview", {"device_id": device_id, "day": day})
        if len(preview):
            preview = preview[["t", "ax", "ay", "az"]]
            preview.attrs["preview"] = True
            return preview, device.tz
        return s.read_samples(device_id, day=day, columns=["t", "ax", "ay", "az"]), device.tz


def stride_series() -> list[dict[str, str]]:
    """Dropdown options of the (device, source, mode) series in ``weekly_stride``."""
    with store() as s:
        weekly = s.read_table("weekly_stride")
    keys = weekly[["device_id", "source", "mode"]].drop_duplicates()
    counts = weekly.groupby(["device_id", "source", "mode"])["strides"].sum()
    keys = keys.assign(n=[counts[tuple(k)] for k in keys.itertuples(index=False)])
    return [
        {
            "label": f"{k.device_id} · {k.source} · {k.mode}",
            "value": f"{k.device_id}|{k.source}|{k.mode}",
        }
        for k in keys.sort_values("n", ascending=False).itertuples(index=False)
    ]


@cached
def weeks_view(series: str, first_day: str, last_day: str) -> dict[str, pd.DataFrame]:
    """Strides (sampled per week) and weekly rows of one series, and daily sitting, in range."""
    device_id, source, mode = series.split("|", 2)
    span = {"day": (first_day, _after(last_day))}
    with store() as s:
        weekly = s.read_table("weekly_stride", {"device_id": device_id, "source": source})
        # the weekly table counts the series' strides: read about MAX_STRIDES_PER_WEEK a week
        stored = int(weekly["strides"].sum()) if len(weekly) else 0
        every = max(1, stored // max(1, MAX_STRIDES_PER_WEEK * len(weekly)))
        where = {"device_id": device_id, "source": source, **span}
        strides = s.read_table("strides", where, every=every)
        summary = s.read_table("daily_summary", span)
    weekly = weekly[weekly["mode"] == mode]
    strides = strides[stride_modes(strides) == mode]
    return {"weekly": weekly, "strides": _sample_per_week(strides), "summary": summary}


def _after(day: str) -> str:
    return (parse_day(day) + dt.timedelta(days=1)).isoformat()


def _sample_per_week(strides: pd.DataFrame) -> pd.DataFrame:
    if strides.empty:
        return strides
    week = pd.to_datetime(strides["day"]).dt.strftime("%G-W%V")
    rng = np.random.default_rng(0)
    keep = np.zeros(len(strides), dtype=bool)
    for _, index in strides.groupby(week.to_numpy()).indices.items():
        chosen = (
            index
            if len(index) <= MAX_STRIDES_PER_WEEK
            else rng.choice(index, MAX_STRIDES_PER_WEEK, replace=False)
        )
        keep[chosen] = True
    return strides[keep].reset_index(drop=True)


def no_samples() -> pd.DataFrame:
    return pd.DataFrame({"t": pd.Series(dtype="int64"), "ax": [], "ay": [], "az": []})


def no_strides() -> pd.DataFrame:

    return empty_table("strides")


def no_weekly() -> pd.DataFrame:

    return empty_table("weekly_stride")


@cached
def daily_summary(first_day: str, last_day: str) -> pd.DataFrame:
    with store() as s:
        return s.read_table("daily_summary", {"day": (first_day, _after(last_day))})


def series_strides(series: str) -> pd.DataFrame:
    """Every stride of one (device, source, mode) series (the pace relation spans all weeks)."""
    device_id, source, mode = series.split("|", 2)
    with store() as s:
        strides = s.read_table("strides", {"device_id": device_id, "source": source})
    return strides[stride_modes(strides) == mode].reset_index(drop=True)


def devices_view() -> dict[str, pd.DataFrame]:
    """Devices (last sync, battery, days with data), daily coverage, gaps and recordings, with
    times in each device's local time."""
    with store() as s:
        devices = s.devices()
        recordings = s.recordings()
        gaps = s.read_table("gaps")
        summary = s.read_table("daily_summary")
        rows = []
        for d in devices.itertuples(index=False):
            raw_days, metric_days = s.days(d.device_id), s.days(d.device_id, kind="metrics")
            battery = float("nan")
            if metric_days:
                last = s.read_metrics(d.device_id, day=metric_days[-1])
                level = last[last["metric"] == "battery_pct"]
                battery = float(level["value"].iloc[-1]) if len(level) else battery
            rows.append(
                {
                    "device": d.device_id,
                    "kind": d.kind,
                    "placement": d.placement,
                    "zone": d.tz,
                    "last sync": local_time(d.last_sync_ns, d.tz),
                    "battery %": "—" if battery != battery else f"{battery:.0f}",
                    "days with data": len(set(raw_days) | set(metric_days)),
                }
            )
    tz = dict(zip(devices["device_id"], devices["tz"], strict=True))
    gap_rows = pd.DataFrame(
        {
            "device": gaps["device_id"],
            "from": [
                local_time(t, tz.get(d, "UTC"))
                for t, d in zip(gaps["start"], gaps["device_id"], strict=True)
            ],
            "missing samples": gaps["missing_count"],
            "why": gaps["reason"],
        }
    )
    imports = pd.DataFrame(
        {
            "device": recordings["device_id"],
            "source": recordings["source"],
            "placement": recordings["placement"],
            "when": [
                local_time(t, z)
                for t, z in zip(recordings["created_ns"], recordings["tz"], strict=True)
            ],
            "samples": recordings["samples"],
            "metric rows": recordings["metric_rows"],
        }
    )
    return {
        "devices": pd.DataFrame(rows),
        "summary": summary,
        "gaps": gap_rows,
        "recordings": imports,
    }


def local_time(t_ns: object, tz: str) -> str:
    """``t_ns`` (UTC ns) as local ``YYYY-MM-DD HH:MM``; "—" when unknown."""
    if t_ns is None or t_ns != t_ns:
        return "—"
    return pd.Timestamp(int(t_ns), unit="ns", tz="UTC").tz_convert(tz).strftime("%Y-%m-%d %H:%M")


@cached
def insight_view(until_day: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The person's daily and weekly insight tables and their associations."""
    from analysis import insights
    from analysis.person import insight_tables

    with store() as s:
        daily, weekly = insight_tables(s, until_day)
    return daily, weekly, insights.associations(daily, weekly)
