"""Routine: the program, a logging form (the same validation as ``psoas routine log``), the
calendar of adherence, pain and stiffness over time, and the hang-test history."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from analysis import adherence, routine
from analysis.person import active_program, log_routine
from dashboard import queries
from dashboard.components import labelled
from dashboard.figures import adherence_calendar_figure, mobility_tests_figure, symptoms_figure
from sensors.errors import PsoasError
from sensors.timeutil import local_today, parse_day

dash.register_page(__name__, path="/routine", name="Routine", order=2)


def _field(label: str, control) -> dbc.Col:
    return labelled(label, control, xs=6, md=2)


def _choice(id_: str, options: list[tuple[str, str]]) -> dbc.Select:
    return dbc.Select(
        id=id_, options=[{"label": text, "value": v} for v, text in options], value=""
    )


def layout(**_query: str) -> html.Div:
    with queries.store() as store:
        program = active_program(store)
    exercises = [("", "—")] + [(e.id, f"{e.name} ({e.prescription()})") for e in program.exercises]
    sessions = [("", "—")] + [(s.id, s.name) for s in program.sessions]
    results = [("", "—"), ("yes", "yes"), ("partly", "partly"), ("no", "no")]
    rows = [
        html.Tr([html.Td(e.name), html.Td(e.prescription()), html.Td(f"{e.minutes:g} min")])
        for e in program.exercises
    ]
    goals = (
        f"Daily mobility {program.daily_minutes[0]:g}–{program.daily_minutes[1]:g} min; "
        f"{program.weekly_sessions[0]}–{program.weekly_sessions[1]} strength sessions a week."
    )
    form = dbc.Form(
        [
            dbc.Row(
                [
                    _field(
                        "Day (YYYY-MM-DD)",
                        dbc.Input(id="form-day", type="text", value=local_today().isoformat()),
                    ),
                    labelled("Exercise", _choice("form-exercise", exercises), md=4),
                    _field(
                        "Side",
                        _choice(
                            "form-side",
                            [("", "—"), ("both", "both"), ("left", "left"), ("right", "right")],
                        ),
                    ),
                    _field("Sets", dbc.Input(id="form-sets", type="number", min=1, step=1)),
                    _field("Reps", dbc.Input(id="form-reps", type="number", min=1, step=1)),
                ]
            ),
            dbc.Row(
                [
                    _field("Seconds per set", dbc.Input(id="form-seconds", type="number", min=1)),
                    _field("Session", _choice("form-session", sessions)),
                    _field("Pain (0–10)", dbc.Input(id="form-pain", type="number")),
                    _field("Stiffness (0–10)", dbc.Input(id="form-stiffness", type="number")),
                    _field("Hang test left", _choice("form-hang-left", results)),
                    _field("Hang test right", _choice("form-hang-right", results)),
                ]
            ),
            dbc.Row(
                [
                    labelled("Note", dbc.Input(id="form-note", type="text"), md=6),
                    dbc.Col(
                        dbc.Button("Log", id="form-submit", type="submit", color="primary"),
                        md=2,
                        className="form-submit",
                    ),
                    dbc.Col(
                        dbc.Button("Whole routine done", id="form-done", color="secondary"),
                        md=3,
                        className="form-submit",
                    ),
                ]
            ),
        ],
        id="routine-form",
        prevent_default_on_submit=True,
    )
    return html.Div(
        [
            html.H2("Routine"),
            html.P(f"{program.title or program.name}. {goals}"),
            html.Table(
                [
                    html.Thead(
                        html.Tr([html.Th("Exercise"), html.Th("Prescription"), html.Th("Time")])
                    ),
                    html.Tbody(rows),
                ],
                className="table",
            ),
            html.H3("Log"),
            form,
            html.Div(id="form-message", role="alert", className="form-message"),
            dcc.Store(id="log-version", data=0),
            html.P(id="adherence-text", className="sentence"),
            dcc.Graph(id="adherence-calendar", config={"displaylogo": False}),
            dcc.Graph(id="symptoms", config={"displaylogo": False}),
            dcc.Graph(id="mobility-tests", config={"displaylogo": False}),
        ]
    )


def _number(value) -> float | None:
    return None if value in (None, "") else float(value)


@callback(
    Output("form-message", "children"),
    Output("form-message", "className"),
    Output("log-version", "data"),
    Input("routine-form", "n_submit"),
    Input("form-submit", "n_clicks"),
    Input("form-done", "n_clicks"),
    State("form-day", "value"),
    State("form-exercise", "value"),
    State("form-side", "value"),
    State("form-sets", "value"),
    State("form-reps", "value"),
    State("form-seconds", "value"),
    State("form-session", "value"),
    State("form-pain", "value"),
    State("form-stiffness", "value"),
    State("form-hang-left", "value"),
    State("form-hang-right", "value"),
    State("form-note", "value"),
    State("log-version", "data"),
    prevent_initial_call=True,
)
def submit(
    _submits,
    _clicks,
    _done,
    day,
    exercise,
    side,
    sets,
    reps,
    seconds,
    session,
    pain,
    stiffness,
    left,
    right,
    note,
    version,
):
    try:
        day_ = parse_day((day or "").strip())
        with queries.store() as store:
            program = active_program(store)
            if dash.ctx.triggered_id == "form-done":
                entries = routine.done_entries(program, day_, local_today())
            else:
                entries = routine.form_entries(
                    program,
                    day=day_,
                    today=local_today(),
                    exercise=exercise or None,
                    sets=_number(sets),
                    reps=_number(reps),
                    seconds=_number(seconds),
                    side=side or None,
                    session=session or None,
                    pain=_number(pain),
                    stiffness=_number(stiffness),
                    hang_test={s: r for s, r in (("left", left), ("right", right)) if r},
                    note=note or "",
                )
            messages = log_routine(store, entries, "dashboard")
    except PsoasError as exc:
        return f"Not logged: {exc}", "form-message error", version
    return "; ".join(messages), "form-message ok", (version or 0) + 1


@callback(
    Output("adherence-calendar", "figure"),
    Output("symptoms", "figure"),
    Output("mobility-tests", "figure"),
    Output("adherence-text", "children"),
    Input("range", "start_date"),
    Input("range", "end_date"),
    Input("log-version", "data"),
)
def show_routine(first: str | None, last: str | None, _version: int):
    if not first or not last:
        raise dash.exceptions.PreventUpdate
    first, last = first[:10], last[:10]
    days = pd.date_range(first, last, freq="D").strftime("%Y-%m-%d").tolist()
    with queries.store() as store:
        program = active_program(store)
        log = store.read_table("routine_log")
    daily = adherence.daily_adherence(program, log, days)
    symptoms = routine.daily_symptoms(log)
    symptoms = symptoms[(symptoms["day"] >= first) & (symptoms["day"] <= last)]
    tests = routine.mobility_tests(log)
    streak = adherence.streaks(daily)
    text = (
        f"{int(daily['done'].sum())} of {len(daily)} days done "
        f"(mean {daily['adherence'].mean():.0%}); "
        f"streak {streak['current']} day(s), longest {streak['longest']}."
    )
    return (
        adherence_calendar_figure(daily),
        symptoms_figure(symptoms),
        mobility_tests_figure(tests),
        text,
    )
