"""Devices: each device with its last sync, battery and days of data, the coverage per day,
recorded gaps and the import history."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dash_table, dcc, html

from dashboard import queries
from dashboard.figures import coverage_heatmap_figure

dash.register_page(__name__, path="/devices", name="Devices", order=4)


def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H2("Devices"),
            dash_table.DataTable(
                id="devices-table", page_size=10, style_table={"overflowX": "auto"}
            ),
            dcc.Graph(id="coverage", config={"displaylogo": False}),
            html.H3("Recorded gaps"),
            dash_table.DataTable(id="gaps-table", page_size=10),
            html.H3("Imports and syncs"),
            dash_table.DataTable(id="imports-table", page_size=10),
        ]
    )


def _table(frame):
    return frame.to_dict("records"), [{"name": c, "id": c} for c in frame.columns]


@callback(
    Output("devices-table", "data"),
    Output("devices-table", "columns"),
    Output("coverage", "figure"),
    Output("gaps-table", "data"),
    Output("gaps-table", "columns"),
    Output("imports-table", "data"),
    Output("imports-table", "columns"),
    Input("range", "start_date"),
    Input("range", "end_date"),
)
def show_devices(first: str | None, last: str | None):
    view = queries.devices_view()
    summary = view["summary"]
    if first and last:
        summary = summary[(summary["day"] >= first[:10]) & (summary["day"] <= last[:10])]
    return (
        *_table(view["devices"]),
        coverage_heatmap_figure(summary),
        *_table(view["gaps"]),
        *_table(view["recordings"]),
    )
