"""Insights: the findings with their intervals and n, the effects as a forest plot, a lag
scatter, and the before/after comparison; "not enough data yet" is a designed state."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, callback, dcc, html

from analysis import insights
from dashboard import queries
from dashboard.components import labelled
from dashboard.figures import effects_figure, lag_scatter_figure
from sensors.timeutil import local_today

dash.register_page(__name__, path="/insights", name="Insights", order=3)

OUTCOMES = [
    ("longest_streak_min", "Longest sitting streak"),
    ("sitting_h", "Sitting time"),
    ("breaks_per_sitting_hour", "Breaks per sitting hour"),
    ("pain_0_10", "Pain"),
    ("stiffness_0_10", "Stiffness"),
]


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H2("Insights"),
            html.P(
                "Effects per routine fully done vs not at all, with 95 % intervals robust to "
                "day-to-day autocorrelation. A finding must survive a correction for every "
                "association tested. These are associations in your own data, not proof of cause.",
                className="lead-note",
            ),
            html.Div(id="insights-list", **{"aria-live": "polite"}),
            dcc.Store(id="insights-refresh"),
            dcc.Graph(id="effects", config={"displaylogo": False}),
            dbc.Row(
                [
                    labelled(
                        "Outcome",
                        dbc.Select(
                            id="lag-outcome",
                            options=[{"label": text, "value": v} for v, text in OUTCOMES],
                            value=OUTCOMES[0][0],
                        ),
                        md=4,
                    ),
                    labelled(
                        "Outcome on",
                        dbc.Select(
                            id="lag-days",
                            options=[
                                {"label": "the same day", "value": "0"},
                                {"label": "the next day", "value": "1"},
                            ],
                            value="1",
                        ),
                        md=4,
                    ),
                ]
            ),
            dcc.Graph(id="lag-scatter", config={"displaylogo": False}),
        ]
    )


@callback(
    Output("insights-list", "children"),
    Output("effects", "figure"),
    Input("device", "value"),
)
def show_insights(_device: str | None):
    daily, weekly, table = queries.insight_view(local_today().isoformat())
    sentences = insights.findings(daily, weekly, table)
    start = insights.routine_start_effect(daily)
    items = []
    for sentence in [*sentences, start.statement]:
        waiting = "not enough data yet" in sentence.lower()
        items.append(
            dbc.Alert(
                sentence,
                color="light" if waiting else "info",
                className="insight waiting" if waiting else "insight",
            )
        )
    return items, effects_figure(table)


@callback(
    Output("lag-scatter", "figure"),
    Input("lag-outcome", "value"),
    Input("lag-days", "value"),
)
def show_lag(outcome: str, lag: str):
    daily, _, _ = queries.insight_view(local_today().isoformat())
    return lag_scatter_figure(daily, outcome, int(lag))
