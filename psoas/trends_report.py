"""``psoas trends``: stride length week against week at comparable pace, with intervals."""

from __future__ import annotations

import numpy as np
from rich.table import Table

from analysis.trends import compare_weeks, stride_modes, trend
from psoas.console import err, out
from sensors.errors import UsageError
from sensors.store import Store


def _cm(value: float) -> str:
    return "-" if not np.isfinite(value) else f"{100 * value:.1f}"


def print_trends(store: Store, device: str | None, compare: tuple[str, str] | None = None) -> None:
    """One table per (device, source, gait mode), its trend sentence, and an optional
    comparison of two ISO weeks (``YYYY-Www``)."""
    weekly = store.read_table("weekly_stride", {"device_id": device} if device else None)
    if weekly.empty:
        out.print(
            "no stride data yet: import a watch or footpod file, or sync a foot / lower-back "
            "IMU, then `psoas analyze`"
        )
        return
    err.print(
        "stride length at comparable pace (pace-adjusted, cm) with 95 % intervals from a "
        "bootstrap over days; sources are never pooled"
    )
    for (device_id, source, mode), group in weekly.groupby(["device_id", "source", "mode"]):
        table = Table(
            "week",
            "strides",
            "median (cm)",
            "pace-adjusted (cm)",
            "95 % CI",
            "vs previous week (cm)",
            "note",
            title=f"{device_id} — {source}, {mode} (reference pace "
            f"{group['reference_speed_mps'].iloc[0]:.2f} m/s)",
        )
        for row in group.sort_values("week").itertuples(index=False):
            diff = (
                f"{100 * row.diff_prev_m:+.1f} ({100 * row.diff_prev_ci_low_m:+.1f} to "
                f"{100 * row.diff_prev_ci_high_m:+.1f})"
                if np.isfinite(row.diff_prev_m)
                else "-"
            )
            table.add_row(
                row.week,
                f"{row.strides:,}",
                _cm(row.median_stride_length_m),
                _cm(row.adjusted_stride_length_m),
                f"{_cm(row.ci_low_m)} to {_cm(row.ci_high_m)}",
                diff,
                row.note,
            )
        out.print(table)
        out.print(trend(group).statement, highlight=False)
        if compare is not None:
            strides = store.read_table("strides", {"device_id": device_id, "source": source})
            strides = strides[stride_modes(strides) == mode]
            result = compare_weeks(strides, *compare)
            if result is not None:
                out.print(str(result["statement"]), highlight=False)


def parse_compare(text: str | None) -> tuple[str, str] | None:
    """``2026-W10,2026-W14`` -> the two weeks; None for None."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(len(p) == 8 and p[4:6] == "-W" for p in parts):
        raise UsageError(f"--compare {text!r}: give two ISO weeks, e.g. 2026-W10,2026-W14")
    return parts[0], parts[1]
