"""The Dash app: wires the store's precomputed tables to figures; no heavy work in callbacks.

This first version shows the store's devices, the daily coverage and one device-day's
acceleration; the day, weeks, routine and insights pages come with their analyses.
"""

from __future__ import annotations

import logging
from pathlib import Path

import dash
import pandas as pd
from dash import Input, Output, dash_table, dcc, html

from dashboard.figures import coverage_figure, day_acceleration_figure
from sensors.store import Store

HOST = "127.0.0.1"


def create_app(home: Path) -> dash.Dash:
    """A Dash app over the store at ``home`` (opened read-only per request)."""
    app = dash.Dash(__name__, title="psoas")

    def layout() -> html.Div:
        with Store.open(home) as store:
            summary = store.read_table("daily_summary")
            devices = store.devices()
        options = [
            {"label": f"{r.device_id} — {r.day}", "value": f"{r.device_id}|{r.day}"}
            for r in summary.itertuples()
        ]
        return html.Div(
            [
                html.H1("psoas"),
                html.P(f"store: {home} — {len(devices)} device(s)", id="store-line"),
                dcc.Graph(id="coverage", figure=coverage_figure(summary)),
                dcc.Dropdown(
                    id="device-day",
                    options=options,
                    value=options[-1]["value"] if options else None,
                    clearable=False,
                ),
                dcc.Graph(id="day-acceleration"),
                dash_table.DataTable(
                    id="summary-table",
                    data=summary.to_dict("records"),
                    columns=[{"name": c, "id": c} for c in summary.columns],
                    page_size=10,
                ),
            ],
            style={"fontFamily": "sans-serif", "margin": "1em 2em"},
        )

    app.layout = layout

    @app.callback(Output("day-acceleration", "figure"), Input("device-day", "value"))
    def _show_day(value: str | None) -> object:
        if not value:
            return day_acceleration_figure(_no_samples(), "UTC")
        device_id, day = value.split("|", 1)
        with Store.open(home) as store:
            device = store.device(device_id)
            samples = store.read_samples(device_id, day=day, columns=["t", "ax", "ay", "az"])
        return day_acceleration_figure(samples, device.tz if device else "UTC")

    return app


def _no_samples() -> pd.DataFrame:
    return pd.DataFrame({"t": pd.Series(dtype="int64"), "ax": [], "ay": [], "az": []})


def serve(home: Path, port: int = 8050) -> None:
    """Serve the dashboard on 127.0.0.1:``port`` until Ctrl-C."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    create_app(home).run(host=HOST, port=port, debug=False)
