"""Terminal output: one rich console on stderr for messages and progress, stdout for data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

err = Console(stderr=True, soft_wrap=True)
out = Console()
if not out.is_terminal:
    out = Console(width=200)  # pipes and logs get whole table rows


@contextmanager
def byte_progress(description: str) -> Iterator[Progress]:
    """A progress bar for reading files, in bytes."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        yield progress


@contextmanager
def count_progress(description: str) -> Iterator[Progress]:
    """A progress bar for a known number of steps."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        yield progress


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def human_duration(seconds: float) -> str:
    minutes, _ = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def local_time(t_ns: int | None, tz: str) -> str:
    """``t_ns`` (UTC ns) as local ``YYYY-MM-DD HH:MM`` in ``tz``; '-' for None."""
    if t_ns is None or t_ns != t_ns:  # None or NaN
        return "-"
    moment = dt.datetime.fromtimestamp(int(t_ns) / 1e9, tz=dt.UTC)
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
