"""The store-facing side of the routine, insights and the live streak: what the command line and
the dashboard share, so that both validate, write and read exactly alike.

Like ``analysis/pipeline.py`` (the per-day analysis), this module reads the store and writes
derived tables; everything it computes is done by the pure modules (routine, adherence,
insights, alerts).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Final

import pandas as pd

from analysis import routine
from analysis.routine_program import Program, default_program, parse_program
from sensors.errors import UsageError
from sensors.store import Store
from sensors.store.programs import ACTIVE_PROGRAM_KEY, read_program_text

NS: Final = 1_000_000_000
LIVE_WINDOW_S: Final = 4 * 3600
"""How far back the live streak looks (s): a streak longer than this reads as this long."""
LIVE_STALE_S: Final = 60
"""A device whose newest sample is older than this (s) is not streaming."""


def active_program(store: Store) -> Program:
    """The program in use: the one named by ``psoas routine program use``, else the default."""
    name = store.get_meta(ACTIVE_PROGRAM_KEY)
    if not name:
        return default_program()
    text = read_program_text(store.home, name)
    if text is None:
        raise UsageError(
            f"the active program {name!r} is missing from {store.home / 'programs'}; add it again "
            f"with `psoas routine program add FILE` or `psoas routine program use default`"
        )
    return parse_program(text, where=f"program {name}")


def log_routine(
    store: Store, entries: list[routine.Entry], origin: str, t_ns: int | None = None
) -> list[str]:
    """Append the validated ``entries`` to the routine log in one transaction; one message per
    entry ("logged", "already logged", "... changed from ... (version 2)"). Entries without a
    program name get the active program's."""
    name = active_program(store).name
    entries = [e if e.program else dataclasses.replace(e, program=name) for e in entries]
    log = store.read_table("routine_log")
    rows, messages = routine.apply(log, entries, t_ns or time.time_ns(), origin)
    if not rows.empty:
        store.append_derived("routine_log", rows)
    return messages


def insight_tables(store: Store, until_day: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The person's daily and weekly insight tables (``analysis.insights.insight_tables``)."""
    from analysis import insights  # scipy: imported here, so logging a routine starts fast

    return insights.insight_tables(
        active_program(store),
        store.read_table("routine_log"),
        store.read_table("daily_summary"),
        store.read_table("weekly_stride"),
        until_day,
    )


def live_streak(store: Store, device_id: str, now_ns: int | None = None) -> tuple[int, int] | None:
    """The sitting streak in progress on a device that is streaming now: ``(start, reached)``
    UTC ns, from its last ``LIVE_WINDOW_S`` of committed samples through the live detector
    (the same one ``psoas collect --live-alerts`` runs); None when it is not streaming or not
    sitting. Reads only committed parts, so a collector writing at the same time is never seen
    half-way."""
    from analysis.alerts import LiveSittingAlerts  # the analysis stack (scipy): see above
    from analysis.pipeline import sitting_settings, stored_orientation

    device = store.device(device_id)
    if device is None or device.placement not in ("thigh", "lower_back", "chest", "wrist"):
        return None
    now_ns = now_ns or time.time_ns()
    recent = store.read_samples(device_id, start_ns=now_ns - LIVE_STALE_S * NS, columns=["t"])
    if recent.empty:  # not streaming: the cheap check first (the banner polls every device)
        return None
    samples = store.read_samples(
        device_id, start_ns=now_ns - LIVE_WINDOW_S * NS, columns=["t", "ax", "ay", "az"]
    )
    settings = sitting_settings(store)
    detector = LiveSittingAlerts(
        device.placement, settings.bouts, settings.alerts, stored_orientation(store, device_id)
    )
    detector.feed(samples)
    return detector.current_streak()
