"""Figures as plain functions (DataFrame -> plotly Figure), so tests call them directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go


def downsample_mean(samples: pd.DataFrame, columns: list[str], bin_s: float) -> pd.DataFrame:
    """Mean of ``columns`` over consecutive ``bin_s``-second bins of ``t`` (UTC ns)."""
    if samples.empty:
        return pd.DataFrame({"t": pd.Series(dtype="int64"), **{c: [] for c in columns}})
    t = samples["t"].to_numpy()
    bins = (t - t[0]) // int(bin_s * 1e9)
    grouped = samples[columns].groupby(bins).mean()
    grouped.insert(0, "t", pd.Series(t).groupby(bins).first().to_numpy())
    return grouped.reset_index(drop=True)


def day_acceleration_figure(samples: pd.DataFrame, tz: str, bin_s: float = 10.0) -> go.Figure:
    """Acceleration of one day (x, y, z in g), averaged over ``bin_s`` seconds, in local time."""
    axes = [c for c in ("ax", "ay", "az") if c in samples.columns]
    binned = downsample_mean(samples, axes, bin_s)
    when = pd.to_datetime(binned["t"], unit="ns", utc=True).dt.tz_convert(tz)
    figure = go.Figure()
    for axis in axes:
        figure.add_trace(go.Scattergl(x=when, y=binned[axis], mode="lines", name=axis))
    figure.update_layout(
        title=f"Acceleration ({bin_s:g}-s means)",
        xaxis_title=f"local time ({tz})",
        yaxis_title="acceleration (g)",
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h"},
    )
    if len(binned) == 0:
        figure.add_annotation(text="no samples for this day", showarrow=False)
    return figure


def coverage_figure(summary: pd.DataFrame) -> go.Figure:
    """Recorded hours per day and device (from ``daily_summary``)."""
    figure = go.Figure()
    for device_id, rows in summary.groupby("device_id"):
        figure.add_trace(
            go.Bar(x=rows["day"], y=np.asarray(rows["recorded_s"]) / 3600, name=str(device_id))
        )
    figure.update_layout(
        title="Recorded time per day", yaxis_title="hours", barmode="group", xaxis_type="category"
    )
    return figure
