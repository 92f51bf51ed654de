"""Weeks: stride length per week within pace bands with the pace-adjusted trend and its
interval, a week-against-week comparison, cadence and speed, and sitting per day."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, callback, dcc, html

from analysis.trends import compare_weeks
from dashboard import queries
from dashboard.components import labelled
from dashboard.figures import cadence_speed_figure, sitting_weeks_figure, weekly_stride_figure

dash.register_page(__name__, path="/weeks", name="Weeks", order=1)


def layout(**_query: str) -> html.Div:
    series = queries.stride_series()
    return html.Div(
        [
            html.H2("Weeks"),
            dbc.Row(
                [
                    labelled(
                        "Stride series (device · source · gait)",
                        dcc.Dropdown(
                            id="series",
                            options=series,
                            value=series[0]["value"] if series else None,
                            clearable=False,
                            persistence=True,
                            persistence_type="local",
                        ),
                        md=6,
                    ),
                    labelled("Compare week", dcc.Dropdown(id="week-a"), md=3),
                    labelled("with week", dcc.Dropdown(id="week-b"), md=3),
                ]
            ),
            html.P(id="compare-text", className="sentence", role="status"),
            html.P(id="stride-empty", className="empty-state"),
            dcc.Graph(id="weekly-stride", config={"displaylogo": False}),
            dcc.Graph(id="cadence-speed", config={"displaylogo": False}),
            dcc.Graph(id="sitting-weeks", config={"displaylogo": False}),
        ]
    )


@callback(
    Output("weekly-stride", "figure"),
    Output("cadence-speed", "figure"),
    Output("sitting-weeks", "figure"),
    Output("week-a", "options"),
    Output("week-b", "options"),
    Output("stride-empty", "children"),
    Input("series", "value"),
    Input("range", "start_date"),
    Input("range", "end_date"),
    Input("device", "value"),
)
def show_weeks(series: str | None, first: str | None, last: str | None, device_id: str | None):
    if not first or not last:
        raise dash.exceptions.PreventUpdate
    first, last = first[:10], last[:10]
    summary = queries.daily_summary(first, last)
    if device_id:
        summary = summary[summary["device_id"] == device_id]
    sitting = sitting_weeks_figure(summary)
    if not series:
        empty = weekly_stride_figure(queries.no_strides(), queries.no_weekly())
        return (
            empty,
            cadence_speed_figure(None),
            sitting,
            [],
            [],
            (
                "No stride data yet: sync a foot or lower-back IMU, a footpod or a watch, then run "
                "`psoas analyze`."
            ),
        )
    view = queries.weeks_view(series, first, last)
    weekly = view["weekly"]
    weekly = weekly[(weekly["week"] >= _week(first)) & (weekly["week"] <= _week(last))]
    weeks = [{"label": w, "value": w} for w in weekly["week"]]
    return (
        weekly_stride_figure(view["strides"], weekly),
        cadence_speed_figure(weekly),
        sitting,
        weeks,
        weeks,
        "",
    )


def _week(day: str) -> str:
    return pd.Timestamp(day).strftime("%G-W%V")


@callback(
    Output("compare-text", "children"),
    Input("series", "value"),
    Input("week-a", "value"),
    Input("week-b", "value"),
)
def compare(series: str | None, week_a: str | None, week_b: str | None) -> str:
    if not series or not week_a or not week_b:
        return "Pick two weeks to compare their pace-adjusted stride length."
    strides = queries.series_strides(series)
    result = compare_weeks(strides, week_a, week_b)
    if result is None:
        return f"Not enough data to compare {week_a} with {week_b}."
    return str(result["statement"])
