"""``psoas insights``: how sitting, stride and symptoms moved with the routine, in sentences
with their intervals and n (never a bare correlation)."""

from __future__ import annotations

import sys

from analysis import insights
from analysis.person import insight_tables
from psoas.console import err, out
from sensors.errors import UsageError
from sensors.store import Store
from sensors.timeutil import local_today

TABLES = ("daily", "weekly", "associations")


def print_insights(store: Store, start_day: str | None = None, table: str | None = None) -> None:
    """The findings (or one of :data:`TABLES` as CSV on stdout)."""
    if table is not None and table not in TABLES:
        raise UsageError(f"--table {table!r}: choose one of {', '.join(TABLES)}")
    log = store.read_table("routine_log")
    daily, weekly = insight_tables(store, local_today().isoformat())
    associations = insights.associations(daily, weekly)
    if table is not None:
        frame = {"daily": daily, "weekly": weekly, "associations": associations}[table]
        frame.to_csv(sys.stdout, index=False, lineterminator="\n")
        return
    if log.empty:
        out.print(
            "no routine logged yet: log it with `psoas routine done` (or `psoas routine log`); "
            "insights need at least 3 weeks of days with sitting data and a routine log"
        )
    err.print(
        "effects per routine fully done vs not at all, with 95 % intervals robust to day-to-day "
        "autocorrelation; 'finding' only after correcting for every association tested. These "
        "are associations in your own data, not proof of cause."
    )
    for sentence in insights.findings(daily, weekly, associations):
        out.print(f"- {sentence}", highlight=False)
    start = insights.routine_start_effect(daily, start_day)
    out.print(f"- {start.statement}", highlight=False)
    label = weekly.attrs.get("stride_series")
    if label:
        out.print(f"stride: pace-adjusted weekly stride of {label} (sources are never pooled)")
