"""The Dash app: a shell (navigation, device, day and week-range pickers that persist across
pages) around five pages (``dashboard/pages``) that wire the store's precomputed tables to the
plain figure functions of ``dashboard/figures.py``.

Offline: Dash serves its own scripts (``serve_locally``) and psoas' stylesheet
(``dashboard/assets``); no CDN, no web fonts. Security: binds 127.0.0.1 by default; on any other
address a token is required and checked on every request (query ``?token=``, which then sets a
cookie, an ``Authorization: Bearer`` header, or the cookie).
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
import flask
from dash import dcc, html

from dashboard import queries
from dashboard.components import labelled

HOST = "127.0.0.1"
TOKEN_ENV = "PSOAS_DASHBOARD_TOKEN"
TOKEN_COOKIE = "psoas_token"
PAGES = Path(__file__).parent / "pages"


def create_app(home: Path, *, token: str | None = None) -> dash.Dash:
    """A Dash app over the store at ``home``; with ``token`` every request must carry it."""
    queries.configure(home)
    app = dash.Dash(
        __name__,
        title="psoas",
        use_pages=True,
        pages_folder=str(PAGES),
        serve_locally=True,
        suppress_callback_exceptions=True,
        update_title=None,
    )
    app.layout = _shell
    if token:
        _require_token(app.server, token)
    return app


def _shell() -> html.Div:
    devices = queries.device_options()
    days = queries.days_with_data()
    last = days[-1] if days else dt.date.today().isoformat()
    first_of_range = days[max(0, len(days) - 28)] if days else last
    nav = [
        dcc.Link(page["name"], href=page["relative_path"], className="nav-link")
        for page in dash.page_registry.values()
    ]
    pickers = dbc.Row(
        [
            labelled(
                "Device",
                dcc.Dropdown(
                    id="device",
                    options=devices,
                    value=devices[0]["value"] if devices else None,
                    clearable=False,
                    persistence=True,
                    persistence_type="local",
                ),
                md=4,
            ),
            labelled(
                "Day",
                dcc.DatePickerSingle(
                    id="day",
                    date=last,
                    display_format="YYYY-MM-DD",
                    first_day_of_week=1,
                    persistence=True,
                    persistence_type="local",
                ),
                md=3,
            ),
            labelled(
                "Weeks from / to",
                dcc.DatePickerRange(
                    id="range",
                    start_date=first_of_range,
                    end_date=last,
                    display_format="YYYY-MM-DD",
                    first_day_of_week=1,
                    persistence=True,
                    persistence_type="local",
                ),
                md=5,
            ),
        ],
        className="pickers",
    )
    return html.Div(
        [
            html.Header(
                [
                    html.H1("psoas", className="brand"),
                    html.Nav(nav, className="nav", **{"aria-label": "pages"}),
                    pickers,
                ]
            ),
            html.Main(dash.page_container, id="main"),
            html.Footer(f"store: {queries.home()}", className="footer"),
        ],
        className="shell",
    )


def _require_token(server: flask.Flask, token: str) -> None:
    """Refuse (401) every request that does not carry ``token``."""

    @server.before_request
    def _check() -> flask.Response | None:
        request = flask.request
        given = (
            request.args.get("token")
            or request.cookies.get(TOKEN_COOKIE)
            or request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        )
        if given and hmac.compare_digest(given.encode(), token.encode()):
            return None
        return flask.Response("psoas: a valid token is required\n", status=401)

    @server.after_request
    def _remember(response: flask.Response) -> flask.Response:
        if flask.request.args.get("token"):
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict")
        return response


def serve(home: Path, port: int = 8050, host: str = HOST, token: str | None = None) -> None:
    """Serve the dashboard until Ctrl-C (on ``host``; a token is needed off 127.0.0.1)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    create_app(home, token=token).run(host=host, port=port, debug=False)
