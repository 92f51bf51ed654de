"""Today / any day: the posture timeline with sitting streaks and alerts, the headline numbers,
the routine done that day, and a live banner while a collector streams."""

from __future__ import annotations

import time

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from analysis import adherence
from analysis.combine import COMBINED
from analysis.person import active_program, live_streak
from dashboard import queries
from dashboard.figures import day_acceleration_figure, headline_numbers, posture_timeline_figure

dash.register_page(__name__, path="/", name="Day", order=0)

HEADLINES = (
    ("sitting", "Sitting"),
    ("longest streak", "Longest streak"),
    ("breaks per sitting hour", "Breaks per sitting hour"),
    ("bouts over 30 min", "Streaks over 30 min"),
    ("wear", "Worn"),
)


def _card(key: str, title: str) -> dbc.Col:
    slug = key.replace(" ", "-")
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(title, className="headline-title"),
                    html.Div("—", id=f"head-{slug}", className="headline-value"),
                ]
            )
        ),
        xs=6,
        md=2,
    )


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.Div(
                id="live-banner", role="status", **{"aria-live": "polite"}, className="live-banner"
            ),
            dcc.Interval(id="live-tick", interval=2000),
            html.H2("Day", id="day-title"),
            dbc.Row(
                [_card(k, t) for k, t in HEADLINES] + [_card("routine", "Routine done")],
                className="headlines",
            ),
            dcc.Graph(id="day-timeline", config={"displaylogo": False}),
            dcc.Graph(id="day-acceleration", config={"displaylogo": False}),
        ]
    )


@callback(
    [
        Output("day-title", "children"),
        Output("day-timeline", "figure"),
    ]
    + [Output(f"head-{k.replace(' ', '-')}", "children") for k, _ in HEADLINES]
    + [Output("head-routine", "children")],
    Input("device", "value"),
    Input("day", "date"),
)
def show_day(device_id: str | None, day: str | None):
    if not device_id or not day:
        raise dash.exceptions.PreventUpdate
    day = day[:10]
    view = queries.day_view(device_id, day)
    timeline = posture_timeline_figure(
        view["runs"], view["bouts"], view["alerts"], view["tz"], view["start"], view["end"]
    )
    numbers = headline_numbers(view["summary"])
    with queries.store() as store:
        program = active_program(store)
        log = store.read_table("routine_log", {"day": day})
    done = adherence.daily_adherence(program, log, [day])["adherence"].iloc[0]
    return [
        f"{day} — {device_id}",
        timeline,
        *[numbers.get(k, "—") for k, _ in HEADLINES],
        f"{done:.0%}",
    ]


@callback(Output("day-acceleration", "figure"), Input("device", "value"), Input("day", "date"))
def show_acceleration(device_id: str | None, day: str | None):
    """The day's raw acceleration as 30 s means (a callback of its own: the only raw read)."""
    if not device_id or not day:
        raise dash.exceptions.PreventUpdate
    samples, tz = queries.day_samples(device_id, day[:10])
    return day_acceleration_figure(samples, tz, bin_s=30.0)


@callback(
    Output("live-banner", "children"), Input("live-tick", "n_intervals"), Input("device", "value")
)
def live_banner(_tick: int | None, device_id: str | None):
    now = time.time_ns()
    with queries.store() as store:
        # every 2 s: the device list only (not device_options(), which reads daily_summary)
        one = device_id and device_id != COMBINED
        devices = [device_id] if one else store.devices()["device_id"].tolist()
        for dev in devices:
            streak = live_streak(store, dev, now)
            if streak is not None:
                minutes, seconds = divmod(round((streak[1] - streak[0]) / 1e9), 60)
                return dbc.Alert(
                    f"Live: {dev} — sitting for {minutes} min {seconds:02d} s",
                    color="warning",
                    className="live",
                )
    return ""
