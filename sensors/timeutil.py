"""Time helpers: UTC int64 nanoseconds <-> local calendar days in an IANA zone (DST-safe)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from sensors.errors import UsageError

NS_PER_S = 1_000_000_000


def zone(tz: str) -> ZoneInfo:
    """Return the IANA zone ``tz`` or raise a :class:`UsageError` that says how to name one."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(
            f"unknown time zone {tz!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'"
        ) from exc


def day_bounds_ns(day: dt.date, tz: str) -> tuple[int, int]:
    """UTC ns of local midnight starting ``day`` and of the next local midnight (DST-safe)."""
    z = zone(tz)
    start = dt.datetime.combine(day, dt.time(), tzinfo=z)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=z)
    return _to_ns(start), _to_ns(end)


def _to_ns(moment: dt.datetime) -> int:
    delta = moment.astimezone(dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1_000


def local_day(t_ns: int, tz: str) -> dt.date:
    """The local calendar day in ``tz`` that contains the instant ``t_ns``."""
    moment = dt.datetime.fromtimestamp(t_ns // NS_PER_S, tz=dt.UTC).astimezone(zone(tz))
    return moment.date()


def split_by_local_day(t_ns: np.ndarray, tz: str) -> list[tuple[dt.date, int, int]]:
    """Split sorted timestamps into runs of one local day each.

    Returns ``(day, start_index, stop_index)`` triples covering ``t_ns`` in order. Only the day
    boundaries are computed in Python; the rows are located with a binary search, so this costs
    O(days * log n) rather than a time-zone conversion per sample.
    """
    n = len(t_ns)
    if n == 0:
        return []
    runs: list[tuple[dt.date, int, int]] = []
    start = 0
    day = local_day(int(t_ns[0]), tz)
    while start < n:
        _, day_end_ns = day_bounds_ns(day, tz)
        stop = int(np.searchsorted(t_ns, day_end_ns, side="left"))
        if stop > start:
            runs.append((day, start, stop))
            start = stop
        if start < n:
            day = local_day(int(t_ns[start]), tz)
    return runs


def parse_day(text: str) -> dt.date:
    """Parse ``YYYY-MM-DD`` or raise a :class:`UsageError`."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"not a day: {text!r}; write it as YYYY-MM-DD") from exc


def local_today(tz: str | None = None) -> dt.date:
    """Today's date in ``tz`` (default: this machine's zone)."""
    return dt.datetime.now(zone(tz or system_tz())).date()


def system_tz() -> str:
    """This machine's IANA zone name ($TZ, /etc/timezone or /etc/localtime), else 'UTC'."""
    env = os.environ.get("TZ", "").lstrip(":")
    if env and _is_zone(env):
        return env
    try:
        name = Path("/etc/timezone").read_text().strip()
        if _is_zone(name):
            return name
    except OSError:
        pass
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            name = target.split("zoneinfo/", 1)[1]
            if _is_zone(name):
                return name
    except OSError:
        pass
    return "UTC"


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
