"""Sitting in the terminal: the alert setting, the alerts raised so far, and analysed days."""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from analysis.combine import COMBINED
from analysis.pipeline import ALERT_REPEAT_KEY, ALERT_THRESHOLD_KEY, sitting_settings
from psoas.console import err, local_time, out
from sensors.errors import UsageError
from sensors.store import Store
from sensors.timeutil import system_tz


def set_alert_rules(store: Store, threshold_min: float | None, repeat_min: float | None) -> None:
    """Store the user's alert threshold / repeat interval (minutes), checked by AlertRules."""
    from analysis.sitting import AlertRules

    current = sitting_settings(store).alerts
    threshold_s = threshold_min * 60 if threshold_min is not None else current.threshold_s
    if repeat_min is None:
        repeat_s = current.repeat_s
    else:
        repeat_s = repeat_min * 60 if repeat_min > 0 else None
    try:
        AlertRules(threshold_s, repeat_s)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    store.set_meta(ALERT_THRESHOLD_KEY, f"{threshold_s / 60:g}")
    store.set_meta(ALERT_REPEAT_KEY, f"{repeat_s / 60:g}" if repeat_s else "")
    again = f", again every {repeat_s / 60:g} min" if repeat_s else ""
    err.print(
        f"alert after {threshold_s / 60:g} min of sitting{again}; past days take it with "
        f"`psoas analyze --since YYYY-MM-DD`"
    )


def print_alerts(store: Store, day: str | None, device: str | None) -> int:
    """Print the alerts (of one local day / device); returns how many."""
    where = {k: v for k, v in (("day", day), ("device_id", device)) if v is not None}
    alerts = _without_repeats(store.read_table("alerts", where))
    rules = sitting_settings(store).alerts
    err.print(f"alert threshold: {rules.threshold_s / 60:g} min of sitting")
    if alerts.empty:
        out.print("no sitting-streak alerts" + (f" on {day}" if day else ""))
        return 0
    zones = {d: _zone_of(store, d) for d in alerts["device_id"].unique()}
    table = Table("time", "device", "sitting for", "streak began", "from")
    for row in alerts.itertuples(index=False):
        tz = zones[row.device_id]
        table.add_row(
            local_time(row.t, tz),
            row.device_id,
            f"{row.streak_s / 60:.0f} min",
            local_time(row.bout_start, tz),
            "live" if row.source == "live" else "analysis",
        )
    out.print(table)
    return len(alerts)


def print_sitting_days(store: Store, device_days: list[tuple[str, str]]) -> None:
    """One line per analysed device-day with raw data: sitting, longest streak, breaks, alerts."""
    if not device_days:
        return
    from psoas.console import human_duration

    table = Table("device", "day", "worn", "sitting", "longest streak", "breaks/h", "alerts")
    for device_id, day in device_days[-14:]:
        rows = store.read_table("daily_summary", {"device_id": device_id, "day": day})
        if rows.empty or rows.iloc[0]["samples"] == 0:
            continue
        row = rows.iloc[0]
        fired = len(store.read_table("alerts", {"device_id": device_id, "day": day}))
        table.add_row(
            device_id,
            day,
            human_duration(row["wear_s"]),
            human_duration(row["sitting_s"]),
            human_duration(row["longest_bout_s"]),
            f"{row['breaks_per_sitting_hour']:.1f}",
            str(fired),
        )
    if table.row_count:
        if len(device_days) > 14:
            err.print(f"(the last 14 of {len(device_days)} analysed device-days)")
        out.print(table)


def _zone_of(store: Store, device_id: str) -> str:
    device = store.device(device_id)
    return device.tz if device is not None else system_tz()


def _without_repeats(alerts: pd.DataFrame) -> pd.DataFrame:
    """Keep one alert per streak: on a day with a combined (several-device) timeline only its
    alerts; a live alert only if the later analysis did not mark it too (within a minute)."""
    combined_days = set(alerts.loc[alerts["device_id"] == COMBINED, "day"])
    alerts = alerts[(alerts["device_id"] == COMBINED) | ~alerts["day"].isin(combined_days)]
    live = alerts["source"] == "live"
    if not live.any() or live.all():
        return alerts
    marked = alerts[~live]
    keep = [
        not is_live
        or not (
            (marked["device_id"] == device) & ((marked["t"] - t).abs() <= 60 * 1_000_000_000)
        ).any()
        for device, t, is_live in zip(alerts["device_id"], alerts["t"], live, strict=True)
    ]
    return alerts[keep]
