"""Small layout pieces the pages share."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash.development.base_component import Component


def labelled(label: str, control: Component, **widths: int) -> dbc.Col:
    """A column holding ``control`` under its label (tied by id, so screen readers and
    ``<label>`` clicks reach it); ``widths`` are dbc.Col breakpoints, e.g. ``md=4``."""
    return dbc.Col([dbc.Label(label, html_for=control.id), control], **widths)
