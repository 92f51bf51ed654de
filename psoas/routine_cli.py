"""``psoas routine ...``: the program, logging (exercises, sessions, habits, symptoms, mobility
tests), edits and deletions, CSV import/export, and adherence.

Every command validates all it was given before writing anything: an invalid entry stores
nothing. The log is append-only (an edit is a new version of its entry; ``history`` shows them).
The dashboard's form calls the same :func:`log_entries`.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from analysis import adherence, routine
from analysis.person import active_program, log_routine
from analysis.routine_program import Program, parse_program
from psoas.console import err, out
from psoas.context import open_store
from psoas.export import write_output
from sensors.errors import UsageError
from sensors.store import Store
from sensors.store.programs import (
    ACTIVE_PROGRAM_KEY,
    check_name,
    program_names,
    read_program_text,
    write_program_text,
)
from sensors.timeutil import local_today, parse_day, system_tz, zone

routine_app = typer.Typer(
    help="The psoas routine: the program, logging, symptoms, mobility tests and adherence.",
    no_args_is_help=True,
)
program_app = typer.Typer(help="Routine programs: list, add (TOML), use.", no_args_is_help=True)
routine_app.add_typer(program_app, name="program")


def _store() -> Store:
    return open_store()


DateOption = Annotated[str | None, typer.Option("--date", help="Day (YYYY-MM-DD); default today.")]


def log_entries(store: Store, entries: list[routine.Entry], origin: str = "cli") -> list[str]:
    return log_routine(store, entries, origin)


def _side_result(text: str, option: str) -> tuple[str, str]:
    side, sep, result = text.partition("=")
    if not sep:
        raise UsageError(f"{option} {text!r}: write SIDE=RESULT, e.g. left=partly")
    return side.strip(), result.strip()


@routine_app.command("log")
def log_command(
    date: Annotated[
        str | None, typer.Option("--date", help="Day (YYYY-MM-DD); default today.")
    ] = None,
    exercise: Annotated[
        str | None, typer.Option(help="Exercise id (`psoas routine show`).")
    ] = None,
    sets: Annotated[float | None, typer.Option(help="Sets done.")] = None,
    reps: Annotated[float | None, typer.Option(help="Repetitions per set.")] = None,
    seconds: Annotated[float | None, typer.Option(help="Seconds per set (holds).")] = None,
    side: Annotated[str | None, typer.Option(help="left, right or both.")] = None,
    session: Annotated[str | None, typer.Option(help="A session id, e.g. strength.")] = None,
    minutes: Annotated[float | None, typer.Option(help="Minutes of the session.")] = None,
    habit: Annotated[list[str] | None, typer.Option(help="A habit done (repeatable).")] = None,
    pain: Annotated[float | None, typer.Option(help="Pain 0-10.")] = None,
    stiffness: Annotated[float | None, typer.Option(help="Morning stiffness 0-10.")] = None,
    hang_test: Annotated[
        list[str] | None,
        typer.Option(help="Bench-edge hang test per side: left=yes|partly|no (repeatable)."),
    ] = None,
    note: Annotated[str, typer.Option(help="A note kept with the entries.")] = "",
) -> None:
    """Log what you did and how you feel; everything given is checked before anything is stored."""
    day = parse_day(date) if date else local_today()
    tests = dict(_side_result(text, "--hang-test") for text in hang_test or [])
    with _store() as store:
        program = active_program(store)
        entries = routine.form_entries(
            program,
            day=day,
            today=local_today(),
            exercise=exercise,
            sets=sets,
            reps=reps,
            seconds=seconds,
            side=side,
            session=session,
            minutes=minutes,
            habits=habit or [],
            pain=pain,
            stiffness=stiffness,
            hang_test=tests,
            note=note,
        )
        for message in log_entries(store, entries):
            out.print(message, highlight=False)


@routine_app.command("done")
def done_command(
    date: Annotated[
        str | None, typer.Option("--date", help="Day (YYYY-MM-DD); default today.")
    ] = None,
) -> None:
    """Log the whole daily routine as prescribed (each exercise at the low end of its range)."""
    day = parse_day(date) if date else local_today()
    with _store() as store:
        program = active_program(store)
        entries = routine.done_entries(program, day, local_today())
        messages = log_entries(store, entries)
        daily = adherence.daily_adherence(
            program, store.read_table("routine_log"), [day.isoformat()]
        )
    for message in messages:
        out.print(message, highlight=False)
    out.print(f"{day}: {daily['adherence'].iloc[0]:.0%} of {program.title or program.name}")


@routine_app.command("delete")
def delete_command(
    entry_id: Annotated[str, typer.Argument(help="Entry id (or its first 4+ characters).")],
) -> None:
    """Delete an entry (kept in the history as a deleted version)."""
    with _store() as store:
        row = routine.delete(store.read_table("routine_log"), entry_id, time.time_ns())
        store.append_derived("routine_log", row)
    out.print(f"deleted {row['entry_id'].iloc[0]} (version {int(row['version'].iloc[0])})")


@routine_app.command("history")
def history_command(
    date: Annotated[str | None, typer.Option("--date", help="Only this day.")] = None,
) -> None:
    """Every version of every entry (edits and deletions included), oldest first."""
    with _store() as store:
        log = store.read_table("routine_log")
    if date:
        log = log[log["day"] == parse_day(date).isoformat()]
    if log.empty:
        out.print("no routine entries yet")
        return
    table = Table("day", "entry", "version", "logged", "what", "deleted", "via")
    tz = system_tz()
    for row in log.sort_values(["day", "entry_id", "version"]).itertuples(index=False):
        logged = dt.datetime.fromtimestamp(row.t / 1e9, zone(tz)).strftime("%Y-%m-%d %H:%M")
        what = routine.describe(routine.entry_from_row(row._asdict()))
        table.add_row(
            row.day,
            row.entry_id,
            str(row.version),
            logged,
            what,
            "yes" if row.deleted else "",
            row.origin,
        )
    out.print(table)


# -- CSV -----------------------------------------------------------------------------------------
@routine_app.command("export")
def export_command(
    out_path: Annotated[str, typer.Option("--out", help="File to write, or - for stdout.")] = "-",
    history: Annotated[
        bool, typer.Option(help="Every version, not just the current entries.")
    ] = False,
) -> None:
    """Write the log as CSV (current entries; --history for every version)."""
    with _store() as store:
        log = store.read_table("routine_log")
    frame = log if history else routine.current(log)
    text = routine.log_to_csv(frame)
    write_output(out_path, store.home, lambda sink: sink.write(text.encode()))
    if out_path != "-":
        err.print(f"wrote {len(frame):,} routine entries to {out_path}")


@routine_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="A routine CSV (as `psoas routine export` writes).")],
) -> None:
    """Import a routine CSV: every row is checked first; one bad row and nothing is stored."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV"
        ) from exc
    with _store() as store:
        program = active_program(store)
        entries = routine.parse_log_csv(text, program, local_today(), where=str(path))
        messages = log_entries(store, entries, origin="csv")
    logged = sum(m.endswith(": logged") for m in messages)
    out.print(f"{path}: {len(entries)} rows, {logged} new, {len(entries) - logged} known or edits")


# -- program and adherence ---------------------------------------------------------------------
@routine_app.command("show")
def show_command(
    weeks: Annotated[int, typer.Option(help="Weeks of adherence to show.", min=1, max=520)] = 4,
) -> None:
    """The program in use, this week's adherence against its goals, and the streaks."""
    with _store() as store:
        program = active_program(store)
        log = store.read_table("routine_log")
    print_program(program)
    print_adherence(program, log, weeks)


def print_program(program: Program) -> None:
    lo, hi = program.daily_minutes
    out.print(
        f"[bold]{program.title or program.name}[/] ({program.name}): daily mobility "
        f"{lo:g}–{hi:g} min; sessions {program.weekly_sessions[0]}–{program.weekly_sessions[1]} "
        f"a week"
    )
    table = Table("exercise", "name", "prescription", "minutes")
    for ex in program.exercises:
        table.add_row(ex.id, ex.name, ex.prescription(), f"{ex.minutes:g}")
    for s in program.sessions:
        table.add_row(s.id, s.name, f"{s.per_week[0]}–{s.per_week[1]} a week", f"{s.minutes:g}")
    for h in program.habits:
        table.add_row(h.id, h.name, "daily check (optional)", "")
    for t in program.tests:
        table.add_row(t.id, t.name, "yes / partly / no" + (" per side" if t.per_side else ""), "")
    out.print(table)


def print_adherence(program: Program, log: pd.DataFrame, weeks: int) -> None:
    end = local_today()
    days = [(end - dt.timedelta(days=i)).isoformat() for i in range(7 * weeks - 1, -1, -1)]
    daily = adherence.daily_adherence(program, log, days)
    weekly = adherence.weekly_adherence(daily, program)
    table = Table("week", "days done", "mean adherence", "sessions", "goal met", "mobility days")
    for row in weekly.itertuples(index=False):
        table.add_row(
            row.week,
            f"{row.days_done}/{row.days}",
            f"{row.mean_adherence:.0%}",
            f"{row.strength_sessions} (goal {row.strength_target})",
            "yes" if row.strength_met else "no",
            f"{row.mobility_days_met}/{row.days}",
        )
    out.print(table)
    streak = adherence.streaks(daily)
    out.print(
        f"today {daily['adherence'].iloc[-1]:.0%} done; streak {streak['current']} day(s), "
        f"longest {streak['longest']} (a day counts from {adherence.DONE_FRACTION:.0%} done)"
    )


@program_app.command("list")
def program_list() -> None:
    """The stored programs and which one is in use."""
    with _store() as store:
        active = store.get_meta(ACTIVE_PROGRAM_KEY) or "default"
        names = ["default", *program_names(store.home)]
    for name in names:
        out.print(("* " if name == active else "  ") + name)


@program_app.command("add")
def program_add(
    path: Annotated[Path, typer.Argument(help="A program in TOML (see docs/routine.md).")],
    use: Annotated[bool, typer.Option("--use", help="Make it the program in use.")] = False,
) -> None:
    """Validate a TOML program and store it under its ``name`` (replacing one of that name)."""
    text = path.read_text(encoding="utf-8")
    program = parse_program(text, where=str(path))
    name = check_name(program.name)
    if name == "default":
        raise UsageError(f"{path}: name: 'default' is the built-in program; choose another name")
    with _store() as store:
        write_program_text(store.home, name, text)
        if use:
            store.set_meta(ACTIVE_PROGRAM_KEY, name)
    out.print(f"stored program {name}" + (" (in use)" if use else ""))


@program_app.command("use")
def program_use(name: Annotated[str, typer.Argument(help="A stored program, or default.")]) -> None:
    """Choose the program that logging and adherence use."""
    with _store() as store:
        if name == "default":
            store.set_meta(ACTIVE_PROGRAM_KEY, "")
        else:
            if read_program_text(store.home, check_name(name)) is None:
                raise UsageError(f"no program {name!r}; `psoas routine program list` shows them")
            store.set_meta(ACTIVE_PROGRAM_KEY, name)
            active_program(store)  # still valid
    out.print(f"using program {name}")
