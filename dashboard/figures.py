"""Figures as plain functions (DataFrame -> plotly Figure), so tests call them directly.

Every figure here takes already-computed tables (the store's derived tables, the analysis
frames), does no I/O and imports nothing from Dash. Conventions every function keeps:

- Empty or unusable input gives a figure without traces, with the usual title and axis titles
  and a centred annotation saying what is missing ("no sitting data for this day"), never an
  exception.
- Times are ``int64`` UTC nanoseconds in the tables; where a figure shows a time of day it is
  converted to local wall-clock time in the ``tz`` passed in (plotly.js has no time zones, so
  the figure carries naive local times).
- Accessibility: every figure has a title and axis titles with units, and categories differ by
  lightness *and* a second cue that survives greyscale printing and colour-vision deficiency
  (bar patterns, line dash styles, marker symbols or text labels). :data:`POSTURE_STYLE` is the
  one posture palette.
- Light to render: figures carry aggregated data - box statistics rather than every stride,
  one value per day or week, and at most :data:`MAX_TIMELINE_RUNS` posture bars a day (a day
  with more runs is drawn at a coarser resolution); the lag scatter (one point per day) switches
  to WebGL above 1,000 points.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.insights import FINDING, NO_CLEAR, OUTCOMES, STANDARDISED_CHANGE
from analysis.insights import NOT_ENOUGH as INSIGHT_NOT_ENOUGH
from analysis.signal import bin_means
from analysis.trends import NOT_ENOUGH as STRIDE_NOT_ENOUGH
from analysis.trends import iso_week

MAX_TIMELINE_RUNS: Final = 2_000
"""A day with more posture runs is drawn with its shortest runs merged into their neighbours."""
LONG_BOUT_MIN: Final = 30.0
"""Sitting bouts at least this long (minutes) are emphasised on the timeline."""
STRIDE_BAND_MPS: Final = 0.2
"""Width of the pace bands of :func:`weekly_stride_figure` (m/s)."""
MIN_BOX_STRIDES: Final = 5
"""A week's box of one pace band needs at least this many strides."""
MISSING: Final = "\u2014"
"""What :func:`headline_numbers` shows for a number that is not there (an em dash)."""
WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Colours with clearly different lightness (relative luminance in brackets), from dark to light.
DARK_BLUE: Final = "#1b3a6b"  # 0.04
ORANGE: Final = "#e69f00"  # 0.45
LIGHT_GREY: Final = "#c8c8c8"  # 0.58
NEAR_BLACK: Final = "#222222"
MID_GREY: Final = "#7a7a7a"

POSTURE_STYLE: Final[Mapping[str, Mapping[str, str]]] = {
    "sitting": {"color": DARK_BLUE, "pattern": "", "label": "sitting"},
    "lying": {"color": "#5e3c99", "pattern": "x", "label": "lying"},
    "standing": {"color": ORANGE, "pattern": "/", "label": "standing"},
    "upright": {"color": ORANGE, "pattern": "/", "label": "upright"},
    "moving": {"color": "#009e73", "pattern": "\\", "label": "moving"},
    "sedentary": {"color": "#56b4e9", "pattern": "-", "label": "sedentary (wrist)"},
    "non_wear": {"color": "#d4d4d4", "pattern": ".", "label": "not worn"},
    "no_data": {"color": "#f2f2f2", "pattern": "|", "label": "no data"},
    "unknown": {"color": "#9e9e9e", "pattern": "+", "label": "unknown"},
}
"""Posture name (as the tables store it) -> ``color`` (hex), ``pattern`` (a plotly
``marker.pattern.shape``; "" is solid) and ``label``. Every two postures differ in pattern, and
the colours' lightness runs from dark (sitting) to light (no data), so the timeline reads in
greyscale. ``upright`` (trunk sensors, ``daily_summary.upright_s``) is the same posture as
``standing`` and is drawn the same; any other name is drawn as ``unknown``."""
POSTURE_ALIASES: Final[Mapping[str, str]] = {"upright": "standing"}
"""Names that mean the same posture (and so share a style)."""

BAND_STYLES: Final = (
    (DARK_BLUE, "circle"),
    (ORANGE, "square"),
    (LIGHT_GREY, "diamond"),
)
"""Colour and median-marker symbol of the 1st, 2nd, 3rd pace band (slowest first)."""

_MARGIN: Final = {"l": 60, "r": 30, "t": 90, "b": 60}


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def iso_week_of_days(days: Iterable[Any]) -> pd.Series:
    """ISO week labels ``YYYY-Www`` of local days (``YYYY-MM-DD`` strings or dates)."""
    values = pd.Series([str(d)[:10] for d in days], dtype="object")
    if values.empty:
        return pd.Series([], dtype="object")
    return iso_week(values).astype("object").reset_index(drop=True)


def _local(t_ns: Any, tz: str) -> pd.DatetimeIndex:
    """UTC ns -> naive local wall-clock times in ``tz``."""
    values = np.asarray(t_ns, dtype="int64")
    return pd.to_datetime(values, unit="ns", utc=True).tz_convert(tz).tz_localize(None)


def _date_text(stamps: pd.DatetimeIndex) -> list[str]:
    """Naive timestamps as the date strings plotly reads (millisecond precision)."""
    return [s[:23] for s in stamps.strftime("%Y-%m-%d %H:%M:%S.%f")]


def _style_of(posture: str) -> Mapping[str, str]:
    return POSTURE_STYLE.get(posture, POSTURE_STYLE["unknown"])


def _foreground(hex_colour: str) -> str:
    """Pattern line colour that stands out on ``hex_colour``: white on dark, near-black on light."""
    return "#ffffff" if relative_luminance(hex_colour) < 0.3 else NEAR_BLACK


def relative_luminance(hex_colour: str) -> float:
    """WCAG relative luminance (0 black .. 1 white) of a ``#rrggbb`` colour."""
    text = hex_colour.lstrip("#")
    channels = [int(text[i : i + 2], 16) / 255.0 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _pattern(shape: str, colour: str) -> dict[str, Any]:
    """A ``marker.pattern`` drawn over the solid fill (so the colour's lightness stays)."""
    return {
        "shape": shape,
        "fillmode": "overlay",
        "fgcolor": _foreground(colour),
        "size": 7,
        "solidity": 0.25,
    }


def _base_layout(figure: go.Figure, title: str, x_title: str, y_title: str, **extra: Any) -> None:
    """Title at the top, a horizontal legend between it and the plot, white template."""
    layout: dict[str, Any] = {
        "title": {"text": title, "y": 0.98, "yref": "container", "yanchor": "top"},
        "xaxis_title": x_title,
        "yaxis_title": y_title,
        "template": "plotly_white",
        "margin": dict(_MARGIN),
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    }
    layout.update(extra)
    figure.update_layout(**layout)


def _empty_figure(title: str, message: str, x_title: str, y_title: str) -> go.Figure:
    """A figure with its titles and one centred annotation saying why there is nothing."""
    figure = go.Figure()
    _base_layout(figure, title, x_title, y_title)
    figure.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    figure.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    figure.add_annotation(
        text=message,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font={"size": 14, "color": MID_GREY},
    )
    return figure


def _has(frame: pd.DataFrame | None, columns: Sequence[str]) -> bool:
    """``frame`` has rows and every one of ``columns``."""
    return frame is not None and len(frame) > 0 and all(c in frame.columns for c in columns)


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float64")


def _days(values: pd.Series) -> pd.Series:
    """``YYYY-MM-DD`` strings (or dates) -> datetime64 days; unparsable ones NaT."""
    return pd.to_datetime(values.astype("object").map(lambda v: str(v)[:10]), errors="coerce")


def _hours_minutes(seconds: float) -> str:
    minutes = round(seconds / 60.0)
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


# ---------------------------------------------------------------------------------------------
# Existing figures (the Day page's raw signal, coverage bars)
# ---------------------------------------------------------------------------------------------


def day_acceleration_figure(samples: pd.DataFrame, tz: str, bin_s: float = 10.0) -> go.Figure:
    """Acceleration of one day (x, y, z in g), averaged over ``bin_s`` seconds, in local time;
    ``samples`` already binned (the stored day preview, ``attrs["preview"]``) are drawn as
    they are."""
    axes = [c for c in ("ax", "ay", "az") if c in samples.columns]
    binned = samples if "preview" in samples.attrs else bin_means(samples, axes, bin_s)
    when = pd.to_datetime(binned["t"], unit="ns", utc=True).dt.tz_convert(tz)
    figure = go.Figure()
    for axis, dash in zip(axes, ("solid", "dash", "dot"), strict=False):
        figure.add_trace(
            go.Scattergl(x=when, y=binned[axis], mode="lines", name=axis, line={"dash": dash})
        )
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
        title="Recorded time per day",
        xaxis_title="day",
        yaxis_title="hours",
        barmode="group",
        xaxis_type="category",
    )
    if summary.empty:
        figure.add_annotation(text="no recorded days yet", showarrow=False)
    return figure


# ---------------------------------------------------------------------------------------------
# Day page: posture timeline and headline numbers
# ---------------------------------------------------------------------------------------------

_ROW_POSTURE: Final = "posture"
_ROW_BOUTS: Final = "sitting bouts"
_ROW_ALERTS: Final = "alerts"


def _coarsen_runs(runs: pd.DataFrame, origin_ns: int, max_runs: int) -> tuple[pd.DataFrame, float]:
    """Runs (``start, end, posture``, clipped to the day) redrawn at a coarser resolution when
    there are more than ``max_runs``: the day is cut into intervals of 15 s (30 s, 60 s, ... until
    at most ``max_runs`` runs remain) from ``origin_ns``, each interval takes the posture that
    fills most of it, and equal neighbours join. Returns the runs and the interval length (s; 0
    when the runs are drawn as they are). Majority per interval, rather than merging short runs
    into the run before them, keeps a stretch of many short standing/moving runs from being
    drawn as the sitting that preceded it."""
    if len(runs) <= max_runs:
        return runs, 0.0
    names, code = np.unique(runs["posture"].astype(str).to_numpy(), return_inverse=True)
    start = runs["start"].to_numpy("int64") - origin_ns
    end = runs["end"].to_numpy("int64") - origin_ns
    interval_s = 15.0
    while True:
        step = int(interval_s * 1e9)
        n_bins = int(end.max() // step) + 1
        filled = np.zeros((n_bins + 1, len(names)))
        first = start // step
        last = (end - 1) // step
        same = first == last
        np.add.at(filled, (first[same], code[same]), (end - start)[same])
        split = ~same
        np.add.at(filled, (first[split], code[split]), ((first + 1) * step - start)[split])
        np.add.at(filled, (last[split], code[split]), (end - last * step)[split])
        full = np.zeros_like(filled)  # whole intervals inside a run, as a difference array
        np.add.at(full, (first[split] + 1, code[split]), step)
        np.add.at(full, (last[split], code[split]), -step)
        filled = (filled + np.cumsum(full, axis=0))[:n_bins]
        used = np.flatnonzero(filled.sum(axis=1) > 0)
        best = filled[used].argmax(axis=1)
        new = np.ones(len(used), dtype=bool)
        new[1:] = (best[1:] != best[:-1]) | (np.diff(used) > 1)
        if int(new.sum()) <= max_runs:
            break
        interval_s *= 2
    group = np.cumsum(new) - 1
    first_bin = used[new]
    last_bin = np.zeros(len(first_bin), dtype=np.int64)
    np.maximum.at(last_bin, group, used)
    out = pd.DataFrame(
        {
            "start": origin_ns + np.maximum(first_bin * step, start.min()),
            "end": origin_ns + np.minimum((last_bin + 1) * step, end.max()),
            "posture": names[best[new]],
        }
    )
    return out, interval_s


def _clip_to_day(frame: pd.DataFrame, day_start_ns: int, day_end_ns: int) -> pd.DataFrame:
    start = frame["start"].to_numpy("int64").clip(day_start_ns, day_end_ns)
    end = frame["end"].to_numpy("int64").clip(day_start_ns, day_end_ns)
    out = frame.assign(start=start, end=end)
    return out[out["end"] > out["start"]].sort_values("start", kind="stable")


def _span_bars(
    start_ns: np.ndarray, end_ns: np.ndarray, tz: str
) -> tuple[list[str], np.ndarray, pd.DatetimeIndex, pd.DatetimeIndex]:
    """Date-axis horizontal bars: base (local start text), width (wall-clock ms), local start
    and end times."""
    local_start = _local(start_ns, tz)
    local_end = _local(end_ns, tz)
    width_ms = np.maximum((local_end - local_start).total_seconds().to_numpy() * 1000.0, 0.0)
    return _date_text(local_start), width_ms, local_start, local_end


def posture_timeline_figure(
    runs: pd.DataFrame | None,
    bouts: pd.DataFrame | None,
    alerts: pd.DataFrame | None,
    tz: str,
    day_start_ns: int,
    day_end_ns: int,
) -> go.Figure:
    """One local day as a timeline with three rows, bottom to top:

    - ``posture``: each posture run (``posture_runs``: ``start, end, posture``) as a bar coloured
      and patterned by :data:`POSTURE_STYLE`, one trace per posture. A day with more than
      :data:`MAX_TIMELINE_RUNS` runs is drawn as the main posture of each 15-s (or longer)
      interval, and an annotation says so.
    - ``sitting bouts``: each bout (``sitting_bouts``: ``start, end, duration_s``) as a band
      labelled with its minutes (a label that does not fit a short bout is hidden; the hover
      text has it); bouts of at least :data:`LONG_BOUT_MIN` minutes (the whole
      bout, when ``bout_start``/``bout_end`` say it crosses midnight) are dark, solid and
      outlined, shorter ones light and hatched.
    - ``alerts``: each sitting-streak alert (``alerts``: ``t, streak_s``) as a marker labelled
      with the streak, details in the hover text.

    Everything is clipped to ``[day_start_ns, day_end_ns)`` (UTC ns) and shown in local time of
    ``tz``.
    """
    title = "Posture and sitting through the day"
    x_title = f"local time ({tz})"
    y_title = "track"
    have_runs = _has(runs, ("start", "end", "posture"))
    have_bouts = _has(bouts, ("start", "end"))
    have_alerts = _has(alerts, ("t",))
    runs_day = _clip_to_day(runs, day_start_ns, day_end_ns) if have_runs else None
    bouts_day = _clip_to_day(bouts, day_start_ns, day_end_ns) if have_bouts else None
    alerts_day = None
    if have_alerts:
        t = alerts["t"].to_numpy("int64")
        alerts_day = alerts[(t >= day_start_ns) & (t < day_end_ns)].sort_values("t")
    if not any(f is not None and len(f) for f in (runs_day, bouts_day, alerts_day)):
        return _empty_figure(title, "no sitting data for this day", x_title, y_title)

    figure = go.Figure()
    notes: list[str] = []
    if runs_day is not None and len(runs_day):
        runs_day = runs_day.assign(posture=runs_day["posture"].astype("object").fillna("unknown"))
        drawn, interval_s = _coarsen_runs(runs_day, day_start_ns, MAX_TIMELINE_RUNS)
        if interval_s:
            notes.append(
                f"{len(runs_day)} posture runs: drawn as the main posture of each "
                f"{interval_s:g}-s interval"
            )
        order = list(POSTURE_STYLE) + sorted(set(drawn["posture"]) - set(POSTURE_STYLE))
        for posture in [p for p in order if (drawn["posture"] == p).any()]:
            rows = drawn[drawn["posture"] == posture]
            style = _style_of(posture)
            base, width, local_start, local_end = _span_bars(
                rows["start"].to_numpy(), rows["end"].to_numpy(), tz
            )
            minutes = (rows["end"].to_numpy() - rows["start"].to_numpy()) / 60e9
            label = style["label"] if posture in POSTURE_STYLE else posture
            figure.add_trace(
                go.Bar(
                    name=label,
                    orientation="h",
                    y=[_ROW_POSTURE] * len(rows),
                    base=base,
                    x=width,
                    width=0.8,
                    marker={
                        "color": style["color"],
                        "line": {"width": 0},
                        "pattern": _pattern(style["pattern"], style["color"]),
                    },
                    customdata=np.column_stack(
                        [local_start.strftime("%H:%M"), local_end.strftime("%H:%M"), minutes]
                    ),
                    hovertemplate=(
                        f"{label}<br>%{{customdata[0]}}\u2013%{{customdata[1]}} "
                        "(%{customdata[2]:.1f} min)<extra></extra>"
                    ),
                    legendgroup="posture",
                    legendgrouptitle_text="posture",
                )
            )

    if bouts_day is not None and len(bouts_day):
        start = bouts_day["start"].to_numpy("int64")
        end = bouts_day["end"].to_numpy("int64")
        part_s = (
            _numbers(bouts_day, "duration_s")
            if "duration_s" in bouts_day.columns
            else (end - start) / 1e9
        )
        part_s = np.where(np.isfinite(part_s), part_s, (end - start) / 1e9)
        whole_s = part_s.copy()
        if {"bout_start", "bout_end"} <= set(bouts_day.columns):
            b0 = pd.to_numeric(bouts_day["bout_start"], errors="coerce").to_numpy("float64")
            b1 = pd.to_numeric(bouts_day["bout_end"], errors="coerce").to_numpy("float64")
            whole = (b1 - b0) / 1e9
            whole_s = np.where(np.isfinite(whole) & (whole > part_s), whole, part_s)
        long = whole_s >= LONG_BOUT_MIN * 60.0
        for is_long in (True, False):
            pick = long == is_long
            if not pick.any():
                continue
            base, width, local_start, local_end = _span_bars(start[pick], end[pick], tz)
            texts = [
                f"{p / 60:.0f} min" if abs(w - p) < 1 else f"{p / 60:.0f} min (of {w / 60:.0f})"
                for p, w in zip(part_s[pick], whole_s[pick], strict=True)
            ]
            colour = DARK_BLUE if is_long else "#9ecae1"
            name = (
                f"sitting bout \u2265 {LONG_BOUT_MIN:g} min"
                if is_long
                else f"sitting bout < {LONG_BOUT_MIN:g} min"
            )
            figure.add_trace(
                go.Bar(
                    name=name,
                    orientation="h",
                    y=[_ROW_BOUTS] * int(pick.sum()),
                    base=base,
                    x=width,
                    width=0.8 if is_long else 0.55,
                    text=texts,
                    textposition="inside",
                    insidetextanchor="middle",
                    textfont={"color": "#ffffff" if is_long else NEAR_BLACK},
                    marker={
                        "color": colour,
                        "line": {
                            "color": "#000000" if is_long else MID_GREY,
                            "width": 2 if is_long else 1,
                        },
                        "pattern": _pattern("" if is_long else "/", colour),
                    },
                    customdata=np.column_stack(
                        [local_start.strftime("%H:%M"), local_end.strftime("%H:%M"), texts]
                    ),
                    hovertemplate=(
                        "sitting bout %{customdata[0]}\u2013%{customdata[1]}: "
                        "%{customdata[2]}<extra></extra>"
                    ),
                    legendgroup="bouts",
                    legendgrouptitle_text="sitting",
                )
            )

    if alerts_day is not None and len(alerts_day):
        local_t = _local(alerts_day["t"].to_numpy(), tz)
        streak_min = (
            _numbers(alerts_day, "streak_s") / 60.0
            if "streak_s" in alerts_day.columns
            else np.full(len(alerts_day), np.nan)
        )
        kinds = (
            alerts_day["kind"].astype("object").fillna("sitting streak").to_numpy()
            if "kind" in alerts_day.columns
            else np.full(len(alerts_day), "sitting streak", dtype=object)
        )
        labels = [f"{m:.0f} min" if np.isfinite(m) else "" for m in streak_min]
        hover = [
            f"alert at {when:%H:%M}: {kind}"
            + (f", sitting for {m:.0f} min" if np.isfinite(m) else "")
            for when, kind, m in zip(local_t, kinds, streak_min, strict=True)
        ]
        figure.add_trace(
            go.Scatter(
                name="sitting alert",
                x=_date_text(local_t),
                y=[_ROW_ALERTS] * len(alerts_day),
                mode="markers+text",
                text=labels,
                textposition="top center",
                marker={
                    "symbol": "triangle-down",
                    "size": 13,
                    "color": "#b2182b",
                    "line": {"color": "#000000", "width": 1},
                },
                hovertext=hover,
                hoverinfo="text",
            )
        )

    _base_layout(
        figure,
        title,
        x_title,
        y_title,
        barmode="overlay",
        uniformtext={"minsize": 8, "mode": "hide"},
        bargap=0.2,
        margin={**_MARGIN, "t": 60, "b": 90},
        legend={"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1.0, "yanchor": "top"},
    )
    figure.update_xaxes(
        type="date",
        range=_date_text(_local([day_start_ns, day_end_ns], tz)),
        tickformat="%H:%M",
    )
    figure.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=[_ROW_POSTURE, _ROW_BOUTS, _ROW_ALERTS],
        range=[-0.6, 2.6],
        fixedrange=True,
    )
    if runs_day is None or not len(runs_day):
        notes.append("no posture runs for this day")
    if bouts_day is None or not len(bouts_day):
        notes.append("no sitting bouts this day")
    for i, note in enumerate(notes):
        figure.add_annotation(
            text=note,
            xref="paper",
            yref="paper",
            x=1.0,
            y=-0.18 - 0.07 * i,
            xanchor="right",
            showarrow=False,
            font={"size": 11, "color": MID_GREY},
        )
    return figure


def headline_numbers(summary_row: pd.Series | None) -> dict[str, str]:
    """The Day page's headline numbers from one ``daily_summary`` row, formatted:

    ``sitting`` ("6 h 25 min"), ``longest streak`` ("48 min"), ``breaks per sitting hour``
    ("2.3"; "—" on a day without sitting), ``bouts over 30 min`` ("3") and ``wear``
    ("14 h 10 min"). A missing row or value gives "—".
    """

    def value(column: str) -> float | None:
        if summary_row is None or column not in summary_row.index:
            return None
        number = pd.to_numeric(pd.Series([summary_row[column]]), errors="coerce").iloc[0]
        return float(number) if pd.notna(number) and math.isfinite(number) else None

    sitting = value("sitting_s")
    longest = value("longest_bout_s")
    breaks = value("breaks_per_sitting_hour")
    over_30 = value("bouts_over_30min")
    wear = value("wear_s")
    return {
        "sitting": MISSING if sitting is None else _hours_minutes(sitting),
        "longest streak": MISSING if longest is None else f"{longest / 60:.0f} min",
        "breaks per sitting hour": (MISSING if breaks is None or not sitting else f"{breaks:.1f}"),
        "bouts over 30 min": MISSING if over_30 is None else f"{over_30:.0f}",
        "wear": MISSING if wear is None else _hours_minutes(wear),
    }


# ---------------------------------------------------------------------------------------------
# Stride page
# ---------------------------------------------------------------------------------------------


def _box_stats(values: np.ndarray) -> dict[str, float]:
    """Tukey box: quartiles and whiskers to the furthest values within 1.5 IQR."""
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    iqr = q3 - q1
    inside = values[(values >= q1 - 1.5 * iqr) & (values <= q3 + 1.5 * iqr)]
    return {
        "q1": float(q1),
        "median": float(median),
        "q3": float(q3),
        "lowerfence": float(inside.min()),
        "upperfence": float(inside.max()),
    }


def _band_label(band: int) -> str:
    low = band * STRIDE_BAND_MPS
    return f"{low:.1f}\u2013{low + STRIDE_BAND_MPS:.1f} m/s"


def _pace_bands(speed_mps: np.ndarray, max_bands: int) -> list[int]:
    """The ``max_bands`` most populated :data:`STRIDE_BAND_MPS` bands (as band numbers), slowest
    first."""
    band = np.floor(speed_mps / STRIDE_BAND_MPS + 1e-9).astype(np.int64)
    counts = pd.Series(band).value_counts()
    counts = counts[counts >= MIN_BOX_STRIDES]
    top = counts.sort_values(ascending=False, kind="stable").index[:max_bands]
    return sorted(int(b) for b in top)


def weekly_stride_figure(
    strides: pd.DataFrame | None, weekly: pd.DataFrame | None, max_bands: int = 3
) -> go.Figure:
    """Stride length per ISO week at comparable pace, for one stride series.

    ``strides`` (``day, stride_length_m, speed_mps``) are put into :data:`STRIDE_BAND_MPS`-wide
    pace bands; of the ``max_bands`` most populated bands each week gets a box (quartiles,
    whiskers to 1.5 IQR, from precomputed statistics; no points) with a median marker, one colour
    and marker symbol per band, when it has :data:`MIN_BOX_STRIDES` strides in that band. Right
    of the boxes, the week's pace-adjusted median (``weekly``: ``week,
    adjusted_stride_length_m, ci_low_m, ci_high_m, note``) as a black line with its 95 %
    interval as error bars; a week whose note says "not enough data" gets that annotation in
    place of a point.

    The x axis is numeric (week number in order, labelled with the ISO week) so the boxes of the
    bands and the adjusted value sit side by side at fixed offsets.
    """
    title = "Stride length per week at comparable pace"
    x_title = "ISO week"
    y_title = "stride length (m)"
    use = pd.DataFrame()
    if _has(strides, ("day", "stride_length_m", "speed_mps")):
        use = pd.DataFrame(
            {
                "day": strides["day"].astype("object").to_numpy(),
                "length": _numbers(strides, "stride_length_m"),
                "speed": _numbers(strides, "speed_mps"),
            }
        )
        use = use[np.isfinite(use["length"]) & np.isfinite(use["speed"]) & use["day"].notna()]
        use = use.assign(week=iso_week_of_days(use["day"]).to_numpy())
    has_weekly = _has(weekly, ("week",))
    weeks = set(use["week"]) if len(use) else set()
    if has_weekly:
        weeks |= set(weekly["week"].dropna().astype(str))
    if not weeks:
        return _empty_figure(title, "no strides for this series yet", x_title, y_title)
    week_list = sorted(weeks)
    position = {w: i for i, w in enumerate(week_list)}

    figure = go.Figure()
    bands = _pace_bands(use["speed"].to_numpy(), max_bands) if len(use) else []
    span = 0.55
    offsets = (
        np.linspace(-0.35, -0.35 + span, len(bands) + 1)[:-1] + span / len(bands) / 2
        if bands
        else []
    )
    box_width = span / max(len(bands), 1) * 0.8
    band_of = (
        np.floor(use["speed"].to_numpy() / STRIDE_BAND_MPS + 1e-9).astype(np.int64)
        if len(use)
        else np.zeros(0, np.int64)
    )
    for k, (band, offset) in enumerate(zip(bands, offsets, strict=True)):
        colour, symbol = BAND_STYLES[k % len(BAND_STYLES)]
        in_band = use[band_of == band]
        stats: list[dict[str, float]] = []
        xs: list[float] = []
        hover: list[str] = []
        for week, rows in in_band.groupby("week", sort=True):
            values = rows["length"].to_numpy()
            if len(values) < MIN_BOX_STRIDES:
                continue
            box = _box_stats(values)
            stats.append(box)
            xs.append(position[week] + offset)
            hover.append(
                f"{week}, {_band_label(band)}: median {box['median']:.2f} m "
                f"(IQR {box['q1']:.2f}\u2013{box['q3']:.2f} m; n = {len(values)} strides)"
            )
        if not xs:
            continue
        label = _band_label(band)
        group = f"band{band}"
        figure.add_trace(
            go.Box(
                name=label,
                x=xs,
                q1=[s["q1"] for s in stats],
                median=[s["median"] for s in stats],
                q3=[s["q3"] for s in stats],
                lowerfence=[s["lowerfence"] for s in stats],
                upperfence=[s["upperfence"] for s in stats],
                width=box_width,
                fillcolor=colour,
                line={"color": NEAR_BLACK, "width": 1},
                opacity=0.85,
                boxpoints=False,
                legendgroup=group,
                showlegend=False,
                hoverinfo="skip",
            )
        )
        figure.add_trace(
            go.Scatter(
                name=f"pace {label}",
                x=xs,
                y=[s["median"] for s in stats],
                mode="markers",
                marker={
                    "symbol": symbol,
                    "size": 9,
                    "color": colour,
                    "line": {"color": NEAR_BLACK, "width": 1.5},
                },
                legendgroup=group,
                hovertext=hover,
                hoverinfo="text",
            )
        )

    if has_weekly:
        frame = weekly.assign(week=weekly["week"].astype(str)).sort_values("week")
        note = (
            frame["note"].astype("object").fillna("").astype(str)
            if "note" in frame.columns
            else pd.Series([""] * len(frame), index=frame.index)
        )
        short = note.str.startswith(STRIDE_NOT_ENOUGH)
        adjusted = (
            _numbers(frame, "adjusted_stride_length_m")
            if "adjusted_stride_length_m" in frame.columns
            else np.full(len(frame), np.nan)
        )
        low = _numbers(frame, "ci_low_m") if "ci_low_m" in frame.columns else adjusted * np.nan
        high = _numbers(frame, "ci_high_m") if "ci_high_m" in frame.columns else adjusted * np.nan
        good = ~short.to_numpy() & np.isfinite(adjusted)
        if good.any():
            # "not enough data" weeks break the line (a gap), so it never bridges them
            good |= short.to_numpy()
            adjusted = np.where(short, np.nan, adjusted)
            xs = [position[w] + 0.3 for w in frame["week"][good]]
            figure.add_trace(
                go.Scatter(
                    name="pace-adjusted median (95 % CI)",
                    x=xs,
                    y=adjusted[good],
                    mode="lines+markers",
                    line={"color": NEAR_BLACK, "width": 2},
                    marker={
                        "symbol": "x-thin",
                        "size": 10,
                        "line": {"width": 2, "color": NEAR_BLACK},
                    },
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": np.nan_to_num(high[good] - adjusted[good]),
                        "arrayminus": np.nan_to_num(adjusted[good] - low[good]),
                        "color": NEAR_BLACK,
                        "thickness": 1.5,
                        "width": 5,
                    },
                    customdata=np.column_stack(
                        [frame["week"][good], low[good], high[good], note[good]]
                    ),
                    hovertemplate=(
                        "%{customdata[0]}: pace-adjusted %{y:.3f} m "
                        "(95 % CI %{customdata[1]:.3f}\u2013%{customdata[2]:.3f} m) "
                        "%{customdata[3]}<extra></extra>"
                    ),
                )
            )
        for week, text in zip(frame["week"][short], note[short], strict=True):
            figure.add_annotation(
                x=position[week],
                y=0.02,
                xref="x",
                yref="paper",
                yanchor="bottom",
                text="not enough<br>data",
                hovertext=text,
                showarrow=False,
                font={"size": 10, "color": MID_GREY},
            )
    if not figure.data:
        figure.add_annotation(
            text="no week with enough strides in one pace band yet",
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
            showarrow=False,
            font={"size": 14, "color": MID_GREY},
        )
    _base_layout(figure, title, x_title, y_title, boxmode="overlay")
    figure.update_xaxes(
        tickmode="array",
        tickvals=list(range(len(week_list))),
        ticktext=week_list,
        range=[-0.6, len(week_list) - 0.4],
        zeroline=False,
    )
    return figure


def _weeks_sorted(weekly: pd.DataFrame) -> pd.DataFrame:
    """One row per week (the one with most strides when a table mixes series), sorted."""
    frame = weekly.assign(week=weekly["week"].astype(str))
    if "strides" in frame.columns:
        frame = frame.assign(_n=pd.to_numeric(frame["strides"], errors="coerce").fillna(0))
        frame = frame.sort_values(["week", "_n"], ascending=[True, False], kind="stable")
    return frame.drop_duplicates("week").sort_values("week").reset_index(drop=True)


def cadence_speed_figure(weekly: pd.DataFrame | None) -> go.Figure:
    """Median cadence (steps/min, left axis, solid line with circles) and median speed (m/s,
    right axis, dashed line with squares) per ISO week, from ``weekly_stride`` rows of one
    series."""
    title = "Median cadence and speed per week"
    x_title = "ISO week"
    y_title = "median cadence (steps/min)"
    if not _has(weekly, ("week",)) or not (
        {"median_cadence_spm", "median_speed_mps"} & set(weekly.columns)
    ):
        return _empty_figure(title, "no weekly stride data yet", x_title, y_title)
    frame = _weeks_sorted(weekly)
    cadence = (
        _numbers(frame, "median_cadence_spm")
        if "median_cadence_spm" in frame.columns
        else np.full(len(frame), np.nan)
    )
    speed = (
        _numbers(frame, "median_speed_mps")
        if "median_speed_mps" in frame.columns
        else np.full(len(frame), np.nan)
    )
    if not (np.isfinite(cadence).any() or np.isfinite(speed).any()):
        return _empty_figure(title, "no weekly stride data yet", x_title, y_title)
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            name="median cadence (steps/min)",
            x=frame["week"],
            y=cadence,
            mode="lines+markers",
            line={"color": DARK_BLUE, "dash": "solid", "width": 2},
            marker={"symbol": "circle", "size": 8},
            hovertemplate="%{x}: %{y:.0f} steps/min<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            name="median speed (m/s)",
            x=frame["week"],
            y=speed,
            yaxis="y2",
            mode="lines+markers",
            line={"color": ORANGE, "dash": "dash", "width": 2},
            marker={"symbol": "square", "size": 8, "line": {"color": NEAR_BLACK, "width": 1}},
            hovertemplate="%{x}: %{y:.2f} m/s<extra></extra>",
        )
    )
    _base_layout(
        figure,
        title,
        x_title,
        y_title,
        yaxis2={
            "title": {"text": "median speed (m/s)"},
            "overlaying": "y",
            "side": "right",
            "tickmode": "auto",
            "showgrid": False,
        },
    )
    figure.update_xaxes(type="category")
    return figure


# ---------------------------------------------------------------------------------------------
# Sitting over weeks
# ---------------------------------------------------------------------------------------------


def _one_device(summary: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The rows of one device: all when the table has one; else "combined" when there, else the
    device with the most days."""
    if "device_id" not in summary.columns:
        return summary, ""
    ids = summary["device_id"].astype("object")
    if ids.nunique(dropna=True) <= 1:
        return summary, ""
    pick = "combined" if (ids == "combined").any() else str(ids.value_counts().index[0])
    return summary[ids == pick], pick


def sitting_weeks_figure(daily_summary: pd.DataFrame | None) -> go.Figure:
    """Sitting per day (hours, dark bars, left axis) and the day's longest sitting streak
    (minutes, dashed orange line with diamonds, right axis), with a dotted line at
    :data:`LONG_BOUT_MIN` minutes, from ``daily_summary`` rows of one device (the caller
    filters; a table with several devices shows "combined" or the device with most days, named
    in the title)."""
    title = "Sitting per day and longest streak"
    x_title = "day"
    y_title = "sitting (h)"
    if not _has(daily_summary, ("day",)) or not (
        {"sitting_s", "longest_bout_s"} & set(daily_summary.columns)
    ):
        return _empty_figure(title, "no sitting data yet", x_title, y_title)
    frame, device = _one_device(daily_summary)
    if device:
        title = f"{title} ({device})"
    frame = frame.assign(_day=_days(frame["day"])).dropna(subset=["_day"]).sort_values("_day")
    if frame.empty:
        return _empty_figure(title, "no sitting data yet", x_title, y_title)
    days = frame["_day"].dt.strftime("%Y-%m-%d").tolist()
    sitting_h = (
        _numbers(frame, "sitting_s") / 3600.0
        if "sitting_s" in frame.columns
        else np.full(len(frame), np.nan)
    )
    longest_min = (
        _numbers(frame, "longest_bout_s") / 60.0
        if "longest_bout_s" in frame.columns
        else np.full(len(frame), np.nan)
    )
    wear_h = _numbers(frame, "wear_s") / 3600.0 if "wear_s" in frame.columns else sitting_h * np.nan
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            name="sitting (h)",
            x=days,
            y=sitting_h,
            marker={"color": DARK_BLUE, "line": {"width": 0}},
            customdata=wear_h,
            hovertemplate="%{x}: %{y:.1f} h sitting (worn %{customdata:.1f} h)<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            name="longest streak (min)",
            x=days,
            y=longest_min,
            yaxis="y2",
            mode="lines+markers",
            line={"color": ORANGE, "dash": "dash", "width": 2},
            marker={"symbol": "diamond", "size": 8, "line": {"color": NEAR_BLACK, "width": 1}},
            hovertemplate="%{x}: longest streak %{y:.0f} min<extra></extra>",
        )
    )
    figure.add_shape(
        type="line",
        xref="paper",
        x0=0,
        x1=1,
        yref="y2",
        y0=LONG_BOUT_MIN,
        y1=LONG_BOUT_MIN,
        line={"color": MID_GREY, "dash": "dot", "width": 1},
    )
    figure.add_annotation(
        text=f"{LONG_BOUT_MIN:g} min",
        xref="paper",
        x=1.0,
        yref="y2",
        y=LONG_BOUT_MIN,
        xanchor="right",
        yanchor="bottom",
        showarrow=False,
        font={"size": 10, "color": MID_GREY},
    )
    top = np.nanmax(longest_min) if np.isfinite(longest_min).any() else LONG_BOUT_MIN
    _base_layout(
        figure,
        title,
        x_title,
        y_title,
        yaxis2={
            "title": {"text": "longest streak (min)"},
            "overlaying": "y",
            "side": "right",
            "range": [0, max(top, LONG_BOUT_MIN) * 1.1],
            "tickmode": "auto",
            "showgrid": False,
        },
    )
    figure.update_xaxes(type="date")
    figure.update_yaxes(rangemode="tozero", selector={"anchor": "x"})
    return figure


# ---------------------------------------------------------------------------------------------
# Routine page
# ---------------------------------------------------------------------------------------------


def adherence_calendar_figure(daily_adherence: pd.DataFrame | None) -> go.Figure:
    """A calendar of routine adherence: rows weekdays Monday (top) to Sunday, columns ISO weeks
    from the first to the last logged week, cells the day's ``adherence`` (0-1) on the cividis
    scale (lightness rises with adherence, readable in greyscale) with the percentage as text;
    days without a row are blank."""
    title = "Routine adherence per day"
    x_title = "ISO week"
    y_title = "weekday"
    if not _has(daily_adherence, ("day", "adherence")):
        return _empty_figure(title, "no routine logged yet", x_title, y_title)
    frame = pd.DataFrame(
        {"day": _days(daily_adherence["day"]), "adherence": _numbers(daily_adherence, "adherence")}
    ).dropna(subset=["day"])
    if frame.empty:
        return _empty_figure(title, "no routine logged yet", x_title, y_title)
    frame = frame.drop_duplicates("day", keep="last")
    monday = frame["day"] - pd.to_timedelta(frame["day"].dt.day_of_week, unit="D")
    first, last = monday.min(), monday.max()
    n_weeks = (last - first).days // 7 + 1
    mondays = [first + pd.Timedelta(days=7 * k) for k in range(n_weeks)]
    labels = iso_week_of_days(m.strftime("%Y-%m-%d") for m in mondays).tolist()
    z: list[list[float | None]] = [[None] * n_weeks for _ in range(7)]
    text = [[""] * n_weeks for _ in range(7)]
    dates = [[""] * n_weeks for _ in range(7)]
    for k in range(n_weeks):
        for d in range(7):
            dates[d][k] = (mondays[k] + pd.Timedelta(days=d)).strftime("%a %Y-%m-%d")
    for day, week_start, value in zip(frame["day"], monday, frame["adherence"], strict=True):
        row, col = day.weekday(), (week_start - first).days // 7
        if np.isfinite(value):
            z[row][col] = float(value)
            text[row][col] = f"{value * 100:.0f}%"
    figure = go.Figure(
        go.Heatmap(
            x=labels,
            y=list(WEEKDAYS),
            z=z,
            text=text,
            texttemplate="%{text}",
            customdata=dates,
            zmin=0.0,
            zmax=1.0,
            colorscale="Cividis",
            colorbar={"title": {"text": "adherence (%)"}, "tickformat": ".0%"},
            xgap=2,
            ygap=2,
            hoverongaps=False,
            hovertemplate="%{customdata}: %{text} of the daily routine<extra></extra>",
        )
    )
    _base_layout(figure, title, x_title, y_title, plot_bgcolor="#ffffff")
    figure.update_yaxes(autorange="reversed", type="category", showgrid=False)
    figure.update_xaxes(type="category", showgrid=False)
    return figure


def symptoms_figure(symptoms: pd.DataFrame | None) -> go.Figure:
    """Pain (dark blue, solid line, circles) and stiffness (orange, dashed line, squares), each
    0-10, per day; days without a rating are gaps in the line."""
    title = "Pain and stiffness"
    x_title = "day"
    y_title = "rating (0\u201310)"
    columns = [
        ("pain_0_10", "pain", DARK_BLUE, "solid", "circle"),
        ("stiffness_0_10", "stiffness", ORANGE, "dash", "square"),
    ]
    present = [c for c in columns if _has(symptoms, ("day", c[0]))]
    if not present:
        return _empty_figure(title, "no pain or stiffness logged yet", x_title, y_title)
    frame = symptoms.assign(_day=_days(symptoms["day"])).dropna(subset=["_day"]).sort_values("_day")
    values = {c[0]: _numbers(frame, c[0]) for c in present}
    if frame.empty or not any(np.isfinite(v).any() for v in values.values()):
        return _empty_figure(title, "no pain or stiffness logged yet", x_title, y_title)
    days = frame["_day"].dt.strftime("%Y-%m-%d").tolist()
    figure = go.Figure()
    for column, name, colour, dash, symbol in present:
        figure.add_trace(
            go.Scatter(
                name=f"{name} (0\u201310)",
                x=days,
                y=values[column],
                mode="lines+markers",
                connectgaps=False,
                line={"color": colour, "dash": dash, "width": 2},
                marker={"symbol": symbol, "size": 8, "line": {"color": NEAR_BLACK, "width": 1}},
                hovertemplate=f"%{{x}}: {name} %{{y:.0f}}/10<extra></extra>",
            )
        )
    _base_layout(figure, title, x_title, y_title)
    figure.update_xaxes(type="date")
    figure.update_yaxes(range=[-0.5, 10.5], tick0=0, dtick=2)
    return figure


_RESULT_STYLE: Final = {
    "yes": (DARK_BLUE, "circle", "yes"),
    "partly": (ORANGE, "triangle-up", "partly"),
    "no": ("#8c8c8c", "x-thin-open", "no"),
}


def mobility_tests_figure(tests: pd.DataFrame | None) -> go.Figure:
    """Mobility test results over time as a dot chart: one row per test and side ("bench-edge
    hang \u00b7 left"), one dot per logged day; yes = dark filled circle, partly = orange
    triangle, no = grey cross (so each result reads by shape alone)."""
    title = "Mobility tests"
    x_title = "day"
    y_title = "test \u00b7 side"
    if not _has(tests, ("day", "test", "result")):
        return _empty_figure(title, "no mobility tests logged yet", x_title, y_title)
    frame = tests.assign(_day=_days(tests["day"])).dropna(subset=["_day"])
    if frame.empty:
        return _empty_figure(title, "no mobility tests logged yet", x_title, y_title)
    side = (
        frame["side"].astype("object").fillna("")
        if "side" in frame.columns
        else pd.Series([""] * len(frame), index=frame.index)
    )
    test = frame["test"].astype("object").fillna("?").astype(str).str.replace("_", " ")
    row = [t if not s else f"{t} \u00b7 {s}" for t, s in zip(test, side, strict=True)]
    frame = frame.assign(_row=row, _result=frame["result"].astype("object").fillna("").str.lower())
    rows = sorted(set(row))
    figure = go.Figure()
    for result, (colour, symbol, label) in _RESULT_STYLE.items():
        pick = frame[frame["_result"] == result].sort_values("_day")
        if pick.empty:
            continue
        figure.add_trace(
            go.Scatter(
                name=label,
                x=pick["_day"].dt.strftime("%Y-%m-%d").tolist(),
                y=pick["_row"].tolist(),
                mode="markers",
                marker={
                    "symbol": symbol,
                    "size": 12,
                    "color": colour,
                    "line": {"color": NEAR_BLACK if result != "no" else colour, "width": 1.5},
                },
                hovertemplate=f"%{{x}} \u2013 %{{y}}: {label}<extra></extra>",
            )
        )
    if not figure.data:
        return _empty_figure(title, "no mobility test results (yes/partly/no)", x_title, y_title)
    _base_layout(figure, title, x_title, y_title, height=max(320, 220 + 45 * len(rows)))
    figure.update_xaxes(type="date")
    figure.update_yaxes(type="category", categoryorder="array", categoryarray=rows[::-1])
    return figure


# ---------------------------------------------------------------------------------------------
# Insights page
# ---------------------------------------------------------------------------------------------


def _outcome_name(outcome: str, level: str) -> str:
    look = OUTCOMES.get(outcome)
    name = look.label if look is not None else outcome.replace("_", " ")
    if level == "weekly" and outcome != "stride_adjusted_m":
        name = f"weekly mean {name}"
    return name


def _raw_effect_text(row: pd.Series) -> str:
    """The raw effect and its interval in the outcome's shown unit."""
    outcome, level = str(row.get("outcome", "")), str(row.get("level", "daily"))
    effect, low, high = (float(row[c]) for c in ("effect", "ci_low", "ci_high"))
    per = "fully done day" if level == "daily" else "fully done week"
    look = OUTCOMES.get(outcome)
    if look is None:
        unit = str(row.get("unit", "") or "")
        return f"{effect:+.3g} {unit} (95 % CI {low:+.3g} to {high:+.3g})"
    d = look.decimals
    s = look.scale
    return (
        f"{effect * s:+.{d}f} {look.shown} per {per} "
        f"(95 % CI {low * s:+.{d}f} to {high * s:+.{d}f} {look.shown})"
    )


def _missing_line(row: pd.Series) -> str:
    """ "outcome · lag: n=12 days, need 21" for a row without an estimate."""
    name = _outcome_name(str(row.get("outcome", "")), str(row["level"]))
    status = str(row["status"])
    if status.startswith(INSIGHT_NOT_ENOUGH):
        status = status[len(INSIGHT_NOT_ENOUGH) :].strip(" ()")
    return f"{name} \u00b7 {row.get('lag', '')}: {status or 'no estimate'}"


def effects_figure(associations: pd.DataFrame | None) -> go.Figure:
    """Forest plot of the adherence effects (:func:`analysis.insights.associations` rows).

    Each row with a number (status "finding" or "no clear association") is a point at its
    standardised effect ``effect_sd`` (outcome SDs per +0.5 adherence) with its 95 % interval
    (``ci_low``/``ci_high`` on the same scale) as error bars, labelled "outcome · lag (n = N
    days)"; the raw effect with its unit is in the hover text. Findings are large filled dark
    diamonds with thick bars and bold labels, the rest open grey circles. A dotted line marks 0
    (no association). Rows that could not be estimated ("not enough data yet") are listed in an
    annotation below the plot.
    """
    title = "Routine adherence and your outcomes"
    x_title = f"standardised effect (outcome SDs per +{STANDARDISED_CHANGE:g} adherence)"
    y_title = "outcome \u00b7 when (n)"
    if associations is None or associations.empty:
        return _empty_figure(title, "no associations computed yet", x_title, y_title)
    frame = associations.reset_index(drop=True)
    for column in ("effect", "ci_low", "ci_high", "effect_sd", "outcome_sd"):
        frame[column] = (
            _numbers(frame, column) if column in frame.columns else np.full(len(frame), np.nan)
        )
    status = (
        frame["status"].astype("object").fillna("").astype(str)
        if "status" in frame.columns
        else pd.Series([""] * len(frame))
    )
    level = (
        frame["level"].astype("object").fillna("daily").astype(str)
        if "level" in frame.columns
        else pd.Series(["daily"] * len(frame))
    )
    frame = frame.assign(status=status.to_numpy(), level=level.to_numpy())
    numeric = (
        np.isfinite(frame["effect_sd"])
        & np.isfinite(frame["ci_low"])
        & np.isfinite(frame["ci_high"])
        & np.isfinite(frame["effect"])
        & ~frame["status"].str.startswith(INSIGHT_NOT_ENOUGH)
    ).to_numpy()

    def label(row: pd.Series) -> str:
        unit = "days" if row["level"] == "daily" else "weeks"
        n = pd.to_numeric(pd.Series([row.get("n")]), errors="coerce").iloc[0]
        count = f"n = {int(n)} {unit}" if pd.notna(n) else "n = ?"
        name = _outcome_name(str(row.get("outcome", "")), row["level"])
        return f"{name} \u00b7 {row.get('lag', '')} ({count})"

    shown = frame[numeric]
    missing = frame[~numeric]
    missing_lines = [_missing_line(row) for _, row in missing.iterrows()]
    if shown.empty:
        figure = _empty_figure(title, "no effects can be estimated yet", x_title, y_title)
    else:
        figure = go.Figure()
        # standardised interval: the same scale that turned effect into effect_sd
        scale = np.where(
            shown["effect"].to_numpy() != 0,
            shown["effect_sd"].to_numpy() / np.where(shown["effect"] == 0, 1, shown["effect"]),
            STANDARDISED_CHANGE / shown["outcome_sd"].to_numpy(),
        )
        low_sd = np.minimum(shown["ci_low"] * scale, shown["ci_high"] * scale)
        high_sd = np.maximum(shown["ci_low"] * scale, shown["ci_high"] * scale)
        labels = [label(row) for _, row in shown.iterrows()]
        is_finding = (shown["status"] == FINDING).to_numpy()
        ypos = np.arange(len(shown))[::-1].astype(float)  # first row at the top
        for finding in (True, False):
            pick = is_finding == finding
            if not pick.any():
                continue
            effect_sd = shown["effect_sd"].to_numpy()[pick]
            hover = [
                f"{lab}<br>{_raw_effect_text(row)}<br>standardised {sd:+.2f} SD; {row['status']}"
                for lab, (_, row), sd in zip(
                    np.array(labels, dtype=object)[pick],
                    shown[pick].iterrows(),
                    effect_sd,
                    strict=True,
                )
            ]
            figure.add_trace(
                go.Scatter(
                    name=FINDING if finding else NO_CLEAR,
                    x=effect_sd,
                    y=ypos[pick],
                    mode="markers",
                    marker=(
                        {"symbol": "diamond", "size": 14, "color": DARK_BLUE}
                        if finding
                        else {
                            "symbol": "circle-open",
                            "size": 10,
                            "color": MID_GREY,
                            "line": {"width": 2},
                        }
                    ),
                    error_x={
                        "type": "data",
                        "symmetric": False,
                        "array": high_sd[pick] - effect_sd,
                        "arrayminus": effect_sd - low_sd[pick],
                        "color": DARK_BLUE if finding else MID_GREY,
                        "thickness": 3 if finding else 1.5,
                        "width": 6 if finding else 4,
                    },
                    hovertext=hover,
                    hoverinfo="text",
                )
            )
        ticktext = [f"<b>{t}</b>" if f else t for t, f in zip(labels, is_finding, strict=True)]
        _base_layout(figure, title, x_title, y_title, showlegend=True)
        figure.update_yaxes(
            tickmode="array",
            tickvals=ypos.tolist(),
            ticktext=ticktext,
            range=[-0.7, len(shown) - 0.3],
            automargin=True,
            showgrid=True,
        )
        figure.add_vline(x=0, line={"color": NEAR_BLACK, "dash": "dot", "width": 1})
        figure.update_layout(height=180 + 34 * len(shown) + 16 * len(missing_lines))
    if missing_lines:
        figure.add_annotation(
            text="<b>Not enough data yet:</b><br>" + "<br>".join(missing_lines),
            xref="paper",
            yref="paper",
            x=0,
            y=0,
            xanchor="left",
            yanchor="top",
            yshift=-45,
            align="left",
            showarrow=False,
            font={"size": 11, "color": MID_GREY},
        )
        margin = dict(_MARGIN)
        margin["b"] = 70 + 16 * (len(missing_lines) + 1)
        figure.update_layout(margin=margin)
    return figure


def lag_scatter_figure(daily_table: pd.DataFrame | None, outcome: str, lag_days: int) -> go.Figure:
    """Adherence on day d (x, 0-100 %) against ``outcome`` on day d + ``lag_days`` (y, in the
    outcome's shown unit) for the days that have both (a daily insight table: ``day, adherence,
    <outcome>``), with an ordinary least-squares line (dashed) for orientation. The title gives
    the number of day pairs n; the note under the plot says the line is unadjusted (the effects
    of :func:`effects_figure` come from the week-adjusted model)."""
    look = OUTCOMES.get(outcome)
    name = look.label if look is not None else outcome.replace("_", " ")
    shown_unit = look.shown if look is not None else ""
    scale = look.scale if look is not None else 1.0
    when = {0: "the same day", 1: "the next day"}.get(lag_days, f"{lag_days} days later")
    x_title = "routine adherence on day d (% of the daily routine)"
    y_title = f"{name} {when}" + (f" ({shown_unit})" if shown_unit else "")
    base_title = f"{name[0].upper()}{name[1:]} {when} vs routine adherence"
    if not _has(daily_table, ("day", "adherence", outcome)):
        return _empty_figure(
            f"{base_title} (n = 0 days)", "no days to compare yet", x_title, y_title
        )
    day = _days(daily_table["day"])
    adherence = pd.Series(_numbers(daily_table, "adherence"), index=day)
    values = pd.Series(_numbers(daily_table, outcome) * scale, index=day)
    adherence = adherence[adherence.index.notna() & ~adherence.index.duplicated(keep="last")]
    values = values[values.index.notna() & ~values.index.duplicated(keep="last")]
    later = values.reindex(adherence.index + pd.Timedelta(days=int(lag_days))).to_numpy()
    x = adherence.to_numpy()
    ok = np.isfinite(x) & np.isfinite(later)
    n = int(ok.sum())
    title = f"{base_title} (n = {n} day{'' if n == 1 else 's'})"
    if n == 0:
        return _empty_figure(
            title, "no days with both adherence and this outcome yet", x_title, y_title
        )
    x, y = x[ok], later[ok]
    days = adherence.index[ok].strftime("%Y-%m-%d")
    figure = go.Figure()
    trace = go.Scattergl if n > 1000 else go.Scatter
    figure.add_trace(
        trace(
            name=f"day pairs (n = {n})",
            x=x,
            y=y,
            mode="markers",
            marker={"color": DARK_BLUE, "size": 8, "opacity": 0.7, "symbol": "circle"},
            customdata=np.asarray(days),
            hovertemplate=(
                "day %{customdata}: adherence %{x:.0%}, "
                f"{name} %{{y:.{look.decimals if look else 1}f}} {shown_unit}<extra></extra>"
            ),
        )
    )
    if n >= 3 and np.ptp(x) > 0:
        slope, intercept = np.polyfit(x, y, 1)
        line_x = np.array([x.min(), x.max()])
        figure.add_trace(
            go.Scatter(
                name=f"least-squares line ({slope / 10:+.2f} {shown_unit} per +10 %)",
                x=line_x,
                y=intercept + slope * line_x,
                mode="lines",
                line={"color": ORANGE, "dash": "dash", "width": 2},
                hoverinfo="skip",
            )
        )
    _base_layout(figure, title, x_title, y_title, margin={**_MARGIN, "b": 90})
    figure.update_xaxes(tickformat=".0%", range=[-0.05, 1.05])
    figure.add_annotation(
        text="line: simple least squares, not adjusted for week or weekday",
        xref="paper",
        yref="paper",
        x=1.0,
        y=0,
        yanchor="top",
        yshift=-55,
        xanchor="right",
        showarrow=False,
        font={"size": 10, "color": MID_GREY},
    )
    return figure


# ---------------------------------------------------------------------------------------------
# Devices page
# ---------------------------------------------------------------------------------------------


def coverage_heatmap_figure(daily_summary: pd.DataFrame | None) -> go.Figure:
    """Recorded hours per device (rows) and day (columns, every day from the first to the last)
    as a heatmap on the cividis scale (0-24 h; lightness rises with hours), with the hours as
    cell text when there are at most 31 days; device-days without a row are blank."""
    title = "Recorded hours per device and day"
    x_title = "day"
    y_title = "device"
    if not _has(daily_summary, ("device_id", "day", "recorded_s")):
        return _empty_figure(title, "no recorded days yet", x_title, y_title)
    frame = pd.DataFrame(
        {
            "device": daily_summary["device_id"]
            .astype("object")
            .fillna("?")
            .astype(str)
            .to_numpy(),
            "day": _days(daily_summary["day"]).to_numpy(),
            "hours": _numbers(daily_summary, "recorded_s") / 3600.0,
        }
    ).dropna(subset=["day"])
    if frame.empty:
        return _empty_figure(title, "no recorded days yet", x_title, y_title)
    grid = frame.pivot_table(index="device", columns="day", values="hours", aggfunc="sum")
    all_days = pd.date_range(frame["day"].min(), frame["day"].max(), freq="D")
    grid = grid.reindex(columns=all_days).sort_index()
    z = [[None if not np.isfinite(v) else float(v) for v in row] for row in grid.to_numpy()]
    text = [["" if v is None else f"{v:.0f}" for v in row] for row in z]
    labels = [d.strftime("%Y-%m-%d") for d in all_days]
    figure = go.Figure(
        go.Heatmap(
            x=labels,
            y=list(grid.index),
            z=z,
            text=text,
            texttemplate="%{text}" if len(labels) <= 31 else None,
            zmin=0.0,
            zmax=24.0,
            colorscale="Cividis",
            colorbar={"title": {"text": "recorded (h)"}},
            xgap=1,
            ygap=2,
            hoverongaps=False,
            hovertemplate="%{y}, %{x}: %{text} h recorded<extra></extra>",
        )
    )
    _base_layout(
        figure,
        title,
        x_title,
        y_title,
        plot_bgcolor="#ffffff",
        height=max(320, 200 + 45 * len(grid)),
    )
    figure.update_xaxes(type="date", showgrid=False)
    figure.update_yaxes(type="category", showgrid=False)
    return figure
