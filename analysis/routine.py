"""The psoas routine: programs as data, a versioned log of entries, and adherence.

Everything here is a pure function over text and DataFrames: the caller reads the program file
and the stored ``routine_log`` table and hands them in; nothing here touches the disk or the
clock (``today`` and ``t_ns`` come in as arguments).

Programs are ``analysis/routine_program.py``'s, adherence ``analysis/adherence.py``'s.

Log entries
===========
One :class:`Entry` per thing logged; :data:`LOG_COLUMNS` is the ``routine_log`` table. Kinds and
what they take (:func:`validate_entry`; anything else given is an error):

- ``exercise``: ``side`` (left | right | both; default ``both`` = both sides done; non-per-side
  exercises take only ``both``), ``sets`` and the exercise's measure (``reps`` or ``seconds``),
  each defaulting to the lower end of the prescription when not given - so logging just the
  exercise means "done as prescribed"; optional ``minutes`` (time spent, informational).
- ``session``: optional ``minutes`` (default: the session's ``minutes``).
- ``symptom``: item ``pain`` or ``stiffness``, ``value`` 0-10 (0 none, 10 worst imaginable).
- ``habit``: ``value`` 1 (done, the default) or 0 (not done).
- ``mobility_test``: ``result`` yes | partly | no; per-side tests need ``side`` left or right.

Every kind takes an optional ``note``. Identity (:func:`entry_key`, :func:`entry_id` = first 16
hex digits of the SHA-1 of the key): an exercise entry is its whole content (day, item, side,
sets, reps, seconds, minutes), so logging the identical entry again is the same entry and never
counts twice (log a different amount to add more); a session or habit is (day, item), a symptom
(day, item), a mobility test (day, item, side). Logging one of those again with other content is
an edit: :func:`apply` appends a new row with ``version`` + 1 and keeps the old one (no silent
overwrite). :func:`delete` appends a ``deleted`` version; :func:`current` is the latest version
of every entry, deleted ones removed.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

from analysis.routine_program import (
    MAX_MINUTES,
    MAX_REPS,
    MAX_SECONDS,
    MAX_SETS,
    SYMPTOMS,
    Program,
    known_items,
    unknown_item_message,
)
from sensors.errors import SchemaError, UsageError
from sensors.schema import DERIVED_TABLES

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

LOG_COLUMNS: Final[Mapping[str, str]] = DERIVED_TABLES["routine_log"]
"""The ``routine_log`` table: column -> dtype. ``t`` is when the row was written (UTC ns),
``day`` the local day the entry is for."""

KINDS: Final = ("exercise", "session", "symptom", "mobility_test", "habit")
SIDES: Final = ("left", "right", "both")
RESULTS: Final = ("yes", "partly", "no")
ORIGINS: Final = ("cli", "dashboard", "csv", "simulated")
"""Where an entry was logged; "simulated" marks the demo store's simulated person."""

ID_LENGTH: Final = 16
"""Hex digits of the SHA-1 of the entry key kept as ``entry_id``."""
MIN_ID_PREFIX: Final = 4
"""The shortest unique prefix of an entry id that :func:`delete` accepts."""

_ID_RE: Final = re.compile(r"[a-z][a-z0-9_]*\Z")
_DAY_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_CONTENT_FIELDS: Final = ("sets", "reps", "seconds", "minutes", "value", "result", "note")
_MAX_CSV_ERRORS: Final = 20


# --------------------------------------------------------------------------------------------
# Entries
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One validated routine log entry (see :func:`validate_entry`); numbers are None when not
    given, ``day`` is ``YYYY-MM-DD``."""

    day: str
    kind: str
    item: str
    side: str = "both"
    sets: float | None = None
    reps: float | None = None
    seconds: float | None = None
    minutes: float | None = None
    value: float | None = None
    result: str = ""
    note: str = ""
    program: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        return entry_key(self)

    @property
    def entry_id(self) -> str:
        return entry_id(self)


def entry_key(entry: Entry) -> str:
    """The canonical identity of ``entry`` (what makes two loggings the same entry)."""
    if entry.kind == "exercise":
        parts = [entry.side, *(_num_text(v) for v in (entry.sets, entry.reps, entry.seconds))]
        parts.append(_num_text(entry.minutes))
    elif entry.kind == "mobility_test":
        parts = [entry.side]
    else:
        parts = []
    return "|".join(("v1", entry.kind, entry.day, entry.item, *parts))


def entry_id(entry: Entry) -> str:
    """A stable id: the first :data:`ID_LENGTH` hex digits of the SHA-1 of :func:`entry_key`."""
    return hashlib.sha1(entry_key(entry).encode("utf-8")).hexdigest()[:ID_LENGTH]


class _FieldError(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.field = name
        self.message = message


def validate_entry(
    program: Program,
    *,
    day: dt.date | str,
    today: dt.date,
    kind: str | None,
    item: str,
    side: str | None = None,
    sets: float | str | None = None,
    reps: float | str | None = None,
    seconds: float | str | None = None,
    minutes: float | str | None = None,
    value: float | str | None = None,
    result: str | None = None,
    note: str = "",
) -> Entry:
    """Validate one entry against ``program`` (rules: module docstring) and return it.

    ``kind`` None infers the kind from the item id. Raises :class:`UsageError` whose message
    starts with the field name, e.g. ``value: pain must be between 0 and 10, got 11; ...``.
    """
    try:
        return _build_entry(
            program,
            day=day,
            today=today,
            kind=kind,
            item=item,
            side=side,
            sets=sets,
            reps=reps,
            seconds=seconds,
            minutes=minutes,
            value=value,
            result=result,
            note=note,
        )
    except _FieldError as exc:
        raise UsageError(str(exc)) from None


def _build_entry(
    program: Program,
    *,
    day: Any,
    today: dt.date,
    kind: str | None,
    item: Any,
    side: Any,
    sets: Any,
    reps: Any,
    seconds: Any,
    minutes: Any,
    value: Any,
    result: Any,
    note: Any,
) -> Entry:
    day_text = _check_day(day, today)
    item = "" if item is None else str(item).strip()
    if not item:
        raise _FieldError("item", f"missing; name what you did: {known_items(program)}")
    if kind is None or (isinstance(kind, str) and not kind.strip()):
        kind = program.kind_of(item)
        if kind is None:
            raise _FieldError("item", f"unknown item {item!r}; {known_items(program)}")
    kind = str(kind).strip()
    if kind not in KINDS:
        raise _FieldError("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    if item not in program._ids_by_kind()[kind]:
        raise _FieldError("item", unknown_item_message(program, kind, item))
    side = _optional_choice("side", side, SIDES)
    result = _optional_choice("result", result, RESULTS)
    numbers = {
        "sets": _optional_number("sets", sets),
        "reps": _optional_number("reps", reps),
        "seconds": _optional_number("seconds", seconds),
        "minutes": _optional_number("minutes", minutes),
        "value": _optional_number("value", value),
    }
    note = "" if note is None or (isinstance(note, float) and math.isnan(note)) else str(note)
    given = {k for k, v in numbers.items() if v is not None}
    if result is not None:
        given.add("result")
    if side is not None:
        given.add("side")

    def forbid(*names: str) -> None:
        for name in names:
            if name in given:
                what = "symptom" if kind == "symptom" else kind.replace("_", " ")
                raise _FieldError(name, f"not used for a {what} entry ({item}); leave it out")

    def bounded(name: str, limit: float, *, whole: bool) -> float | None:
        v = numbers[name]
        if v is None:
            return None
        if v <= 0:
            raise _FieldError(name, f"must be a positive number, got {v:g}")
        if whole and v != int(v):
            raise _FieldError(name, f"must be a whole number, got {v:g}")
        if v > limit:
            raise _FieldError(name, f"must be at most {limit:g}, got {v:g}; is it a typo?")
        return v

    out: dict[str, Any] = {"day": day_text, "kind": kind, "item": item, "note": note}
    if kind == "exercise":
        forbid("value", "result")
        ex = program.exercise(item)
        other = "seconds" if ex.measure == "reps" else "reps"
        if other in given:
            raise _FieldError(
                other,
                f"{item} is counted in {ex.measure} ({ex.prescription()}); "
                f"give {ex.measure}, not {other}",
            )
        if not ex.per_side and side not in (None, "both"):
            raise _FieldError("side", f"{item} is not done per side; leave side out (or give both)")
        limit = MAX_REPS if ex.measure == "reps" else MAX_SECONDS
        sets_v = bounded("sets", MAX_SETS, whole=True)
        amount = bounded(ex.measure, limit, whole=ex.measure == "reps")
        out.update(
            side=side or "both",
            sets=float(ex.sets[0]) if sets_v is None else sets_v,
            minutes=bounded("minutes", MAX_MINUTES, whole=False),
        )
        out[ex.measure] = float(ex.amount[0]) if amount is None else amount
    elif kind == "session":
        forbid("sets", "reps", "seconds", "value", "result")
        if side not in (None, "both"):
            raise _FieldError("side", f"a session ({item}) has no side; leave side out")
        minutes_v = bounded("minutes", MAX_MINUTES, whole=False)
        session = next(s for s in program.sessions if s.id == item)
        out.update(minutes=session.minutes if minutes_v is None else minutes_v)
    elif kind == "symptom":
        forbid("sets", "reps", "seconds", "minutes", "result")
        if side not in (None, "both"):
            raise _FieldError("side", f"{item} has no side; leave side out")
        v = numbers["value"]
        if v is None:
            raise _FieldError("value", f"missing; rate {item} from 0 (none) to 10 (worst)")
        if not 0 <= v <= 10:
            raise _FieldError(
                "value",
                f"{item} must be between 0 and 10, got {v:g}; rate it 0 (none) to 10 (worst "
                "imaginable)",
            )
        out.update(value=v)
    elif kind == "habit":
        forbid("sets", "reps", "seconds", "minutes", "result")
        if side not in (None, "both"):
            raise _FieldError("side", f"a habit ({item}) has no side; leave side out")
        v = numbers["value"]
        if v is not None and v not in (0.0, 1.0):
            raise _FieldError("value", f"a habit is 1 (done) or 0 (not done), got {v:g}")
        out.update(value=1.0 if v is None else v)
    else:  # mobility_test
        forbid("sets", "reps", "seconds", "minutes", "value")
        test = next(t for t in program.tests if t.id == item)
        if test.per_side and side not in ("left", "right"):
            raise _FieldError(
                "side", f"{item} is tested per side; give side left or right (one entry each)"
            )
        if not test.per_side and side not in (None, "both"):
            raise _FieldError("side", f"{item} is not tested per side; leave side out")
        if result is None:
            raise _FieldError("result", f"missing; give the {item} result: yes, partly or no")
        out.update(side=side or "both", result=result)
    return Entry(program=program.name, **out)


def _check_day(day: Any, today: dt.date) -> str:
    if isinstance(today, dt.datetime):
        today = today.date()
    if isinstance(day, dt.datetime):
        day = day.date()
    if isinstance(day, str):
        text = day.strip()
        try:
            if not _DAY_RE.match(text):
                raise ValueError
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise _FieldError("day", f"must be a date YYYY-MM-DD, got {text!r}") from None
    if not isinstance(day, dt.date):
        raise _FieldError("day", f"must be a date YYYY-MM-DD, got {day!r}")
    if day > today:
        raise _FieldError(
            "day",
            f"{day.isoformat()} is in the future (today is {today.isoformat()}); "
            "log days that have begun",
        )
    return day.isoformat()


def _optional_choice(name: str, value: Any, choices: Sequence[str]) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    if text not in choices:
        raise _FieldError(name, f"must be one of {', '.join(choices)}, got {value!r}")
    return text


def _optional_number(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            number = float(value.strip())
        except ValueError:
            raise _FieldError(name, f"must be a number, got {value!r}") from None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise _FieldError(name, f"must be a number, got {value!r}")
    if math.isnan(number):
        return None
    if math.isinf(number):
        raise _FieldError(name, f"must be a finite number, got {value!r}")
    return number


def form_entries(
    program: Program,
    *,
    day: dt.date | str,
    today: dt.date,
    exercise: str | None = None,
    sets: float | None = None,
    reps: float | None = None,
    seconds: float | None = None,
    side: str | None = None,
    session: str | None = None,
    minutes: float | None = None,
    habits: Sequence[str] = (),
    pain: float | None = None,
    stiffness: float | None = None,
    hang_test: Mapping[str, str] | None = None,
    note: str = "",
) -> list[Entry]:
    """The entries of one logging form (``psoas routine log`` or the dashboard's form), each
    validated; the first invalid field raises :class:`UsageError` and nothing is returned. The
    hang test is ``{side: result}``; amounts belong to the exercise, minutes to the session."""

    def entry(kind: str, item: str, **fields: Any) -> Entry:
        return validate_entry(
            program, day=day, today=today, kind=kind, item=item, note=note, **fields
        )

    entries = []
    if exercise:
        entries.append(
            entry("exercise", exercise, side=side, sets=sets, reps=reps, seconds=seconds)
        )
    elif any(v is not None for v in (sets, reps, seconds, side)):
        raise UsageError("sets/reps/seconds/side: they belong to an exercise; choose one")
    if session:
        entries.append(entry("session", session, minutes=minutes))
    elif minutes is not None:
        raise UsageError("minutes: they belong to a session (e.g. strength); choose one")
    entries += [entry("habit", h) for h in habits]
    for item, value in (("pain", pain), ("stiffness", stiffness)):
        if value is not None:
            entries.append(entry("symptom", item, value=value))
    for test_side, result in (hang_test or {}).items():
        entries.append(entry("mobility_test", "hang_test", side=test_side, result=result))
    if not entries:
        raise UsageError(
            "nothing to log: give an exercise, a session, a habit, pain, stiffness or the hang "
            "test (or log the whole routine as done)"
        )
    return entries


def done_entries(program: Program, day: dt.date | str, today: dt.date) -> list[Entry]:
    """The whole daily routine as prescribed (lower end of every range), one entry per side for
    per-side exercises: what "I did the routine today" logs."""
    out = []
    for ex in program.exercises:
        for side in ("left", "right") if ex.per_side else ("both",):
            out.append(
                validate_entry(
                    program, day=day, today=today, kind="exercise", item=ex.id, side=side
                )
            )
    return out


def describe(entry: Entry) -> str:
    """A short human text of the entry's content, e.g. ``couch_stretch left 2 x 30 s``."""
    label = _label(entry)
    if entry.kind == "exercise":
        if entry.seconds is not None:
            text = f"{label} {_num_text(entry.sets)} x {_num_text(entry.seconds)} s"
        else:
            text = f"{label} {_num_text(entry.sets)} x {_num_text(entry.reps)} reps"
        if entry.minutes is not None:
            text += f" ({_num_text(entry.minutes)} min)"
        return text
    return f"{label} {_main_value(entry)}"


def _label(entry: Entry) -> str:
    if entry.kind in ("exercise", "mobility_test") and entry.side != "both":
        return f"{entry.item} {entry.side}"
    return entry.item


def _main_value(entry: Entry) -> str:
    if entry.kind == "session":
        return f"{_num_text(entry.minutes)} min"
    if entry.kind == "symptom":
        return _num_text(entry.value)
    if entry.kind == "habit":
        return "done" if entry.value == 1 else "not done"
    if entry.kind == "mobility_test":
        return entry.result
    return describe(entry)


def _num_text(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return f"{float(v):.12g}"


# --------------------------------------------------------------------------------------------
# The versioned log
# --------------------------------------------------------------------------------------------


def empty_log() -> pd.DataFrame:
    """An empty ``routine_log`` frame with :data:`LOG_COLUMNS`."""
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in LOG_COLUMNS.items()})


def _coerce_log(log: pd.DataFrame | None) -> pd.DataFrame:
    if log is None or (len(log) == 0 and len(log.columns) == 0):
        return empty_log()
    missing = [c for c in LOG_COLUMNS if c not in log.columns]
    if missing:
        raise SchemaError(
            f"routine_log frame lacks the columns {', '.join(missing)}; "
            "it must have the columns of analysis.routine.LOG_COLUMNS"
        )
    out = log.loc[:, list(LOG_COLUMNS)].copy()
    for c, dtype in LOG_COLUMNS.items():
        if dtype == "string":
            out[c] = out[c].astype("string").fillna("")
        elif dtype == "bool":
            out[c] = out[c].fillna(False).astype("bool")
        else:
            out[c] = out[c].astype(dtype)
    return out.reset_index(drop=True)


def _rows_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    if not rows:
        return empty_log()
    frame = pd.DataFrame(rows, columns=list(LOG_COLUMNS))
    return frame.astype(dict(LOG_COLUMNS))


def _row(entry: Entry, eid: str, version: int, t_ns: int, origin: str, deleted: bool) -> dict:
    nan = float("nan")
    return {
        "entry_id": eid,
        "version": int(version),
        "t": int(t_ns),
        "day": entry.day,
        "program": entry.program,
        "kind": entry.kind,
        "item": entry.item,
        "side": entry.side,
        "sets": nan if entry.sets is None else float(entry.sets),
        "reps": nan if entry.reps is None else float(entry.reps),
        "seconds": nan if entry.seconds is None else float(entry.seconds),
        "minutes": nan if entry.minutes is None else float(entry.minutes),
        "value": nan if entry.value is None else float(entry.value),
        "result": entry.result,
        "note": entry.note,
        "deleted": bool(deleted),
        "origin": origin,
    }


def entry_from_row(row: Mapping[str, Any]) -> Entry:
    """The :class:`Entry` a ``routine_log`` row holds (NaN -> None)."""

    def num(name: str) -> float | None:
        v = row[name]
        return None if v is None or pd.isna(v) else float(v)

    def text(name: str) -> str:
        v = row[name]
        return "" if v is None or pd.isna(v) else str(v)

    return Entry(
        day=text("day"),
        kind=text("kind"),
        item=text("item"),
        side=text("side") or "both",
        sets=num("sets"),
        reps=num("reps"),
        seconds=num("seconds"),
        minutes=num("minutes"),
        value=num("value"),
        result=text("result"),
        note=text("note"),
        program=text("program"),
    )


def _latest(log: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The latest row (deleted or not) of every entry id, as dicts."""
    if log.empty:
        return {}
    ordered = log.sort_values(["entry_id", "version", "t"], kind="stable")
    latest = ordered.drop_duplicates("entry_id", keep="last")
    return {r["entry_id"]: r for r in latest.to_dict("records")}


def _changes(old: Entry, new: Entry) -> list[tuple[str, str, str]]:
    out = []
    for name in _CONTENT_FIELDS:
        a, b = getattr(old, name), getattr(new, name)
        if isinstance(a, str) or isinstance(b, str):
            if (a or "") != (b or ""):
                out.append((name, a or "", b or ""))
        elif _num_text(a) != _num_text(b):
            out.append((name, _num_text(a), _num_text(b)))
    return out


def apply(
    log: pd.DataFrame | None, new: Iterable[Entry], t_ns: int, origin: str
) -> tuple[pd.DataFrame, list[str]]:
    """The rows to append to the stored ``log`` for the ``new`` entries, and one message each.

    A new entry gets ``version`` 1 ("logged"); an entry identical to its current version appends
    nothing ("already logged — not counted twice"); other content under the same id (a symptom,
    habit, session or test logged again) appends ``version`` + 1 and says what changed; a
    deleted entry logged again comes back as a new version. Entries of ``new`` are applied in
    order, so a later one sees the earlier ones. ``log`` is not modified.
    """
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}, got {origin!r}")
    latest = _latest(_coerce_log(log))
    rows: list[dict[str, Any]] = []
    messages: list[str] = []
    for entry in new:
        eid = entry.entry_id
        prev = latest.get(eid)
        if prev is None:
            version = 1
            message = f"{entry.day} {describe(entry)}: logged"
        elif prev["deleted"]:
            version = int(prev["version"]) + 1
            message = f"{entry.day} {describe(entry)}: logged again (version {version})"
        else:
            old = entry_from_row(prev)
            changes = _changes(old, entry)
            if not changes:
                messages.append(
                    f"{entry.day} {describe(entry)}: already logged — not counted twice"
                )
                continue
            version = int(prev["version"]) + 1
            message = _change_message(old, entry, changes, version)
        row = _row(entry, eid, version, t_ns, origin, deleted=False)
        rows.append(row)
        latest[eid] = row
        messages.append(message)
    return _rows_frame(rows), messages


def _change_message(
    old: Entry, new: Entry, changes: list[tuple[str, str, str]], version: int
) -> str:
    main = {"session": "minutes", "symptom": "value", "habit": "value", "mobility_test": "result"}
    main_field = main.get(new.kind)
    parts = []
    for name, _a, _b in changes:
        if name == main_field:
            parts.insert(0, f"changed from {_main_value(old)} to {_main_value(new)}")
        else:
            a, b = getattr(old, name), getattr(new, name)
            shown = (repr(a), repr(b)) if name == "note" else (_num_text(a), _num_text(b))
            parts.append(f"{name} changed from {shown[0]} to {shown[1]}")
    return f"{_label(new)} for {new.day} {', '.join(parts)} (version {version})"


def delete(log: pd.DataFrame | None, entry_id: str, t_ns: int, origin: str = "cli") -> pd.DataFrame:
    """The one row to append that deletes entry ``entry_id`` (or a unique prefix of at least
    :data:`MIN_ID_PREFIX` hex digits): its latest content with ``deleted`` True, version + 1."""
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}, got {origin!r}")
    latest = _latest(_coerce_log(log))
    key = str(entry_id).strip().lower()
    if key in latest:
        matches = [key]
    elif len(key) >= MIN_ID_PREFIX:
        matches = sorted(k for k in latest if k.startswith(key))
    else:
        matches = []
    if not matches:
        raise UsageError(
            f"entry id {entry_id!r}: no such routine log entry; copy the id from the listing of "
            "the routine log"
        )
    if len(matches) > 1:
        raise UsageError(
            f"entry id {entry_id!r} is ambiguous ({', '.join(matches)}); give more digits"
        )
    prev = latest[matches[0]]
    if prev["deleted"]:
        raise UsageError(f"entry {matches[0]} is already deleted")
    row = _row(entry_from_row(prev), matches[0], int(prev["version"]) + 1, t_ns, origin, True)
    return _rows_frame([row])


def current(log: pd.DataFrame | None) -> pd.DataFrame:
    """The latest version of every entry, deleted ones removed, sorted by day, kind, item, side
    and id. Idempotent: ``current(current(log))`` equals ``current(log)``."""
    log = _coerce_log(log)
    if log.empty:
        return log
    ordered = log.sort_values(["entry_id", "version", "t"], kind="stable")
    latest = ordered.drop_duplicates("entry_id", keep="last")
    latest = latest[~latest["deleted"]]
    latest = latest.sort_values(["day", "kind", "item", "side", "entry_id"], kind="stable")
    return latest.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------

_REQUIRED_CSV: Final = ("day", "kind", "item")


def log_to_csv(frame: pd.DataFrame | None) -> str:
    """The ``routine_log`` rows of ``frame`` as CSV with the :data:`LOG_COLUMNS` header (missing
    numbers empty, booleans true/false). Pass :func:`current` for a clean export; a full history
    re-imports to the same current entries."""
    frame = _coerce_log(frame)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(LOG_COLUMNS)
    for record in frame.to_dict("records"):
        out = []
        for c, dtype in LOG_COLUMNS.items():
            v = record[c]
            if dtype == "float64":
                out.append(_num_text(v))
            elif dtype == "bool":
                out.append("true" if v else "false")
            else:
                out.append(str(v))
        writer.writerow(out)
    return buf.getvalue()


def parse_log_csv(
    text: str, program: Program, today: dt.date, where: str = "routine CSV"
) -> list[Entry]:
    """Validate every row of a routine CSV against ``program`` and return its entries.

    Columns: ``day``, ``kind``, ``item`` (required; an empty ``kind`` is inferred from the item)
    and any of ``side, sets, reps, seconds, minutes, value, result, note``; the bookkeeping
    columns of :data:`LOG_COLUMNS` are accepted. When ``entry_id`` and ``version`` are present
    (an export of the log's history) only the latest version of each id is taken, and rows with
    ``deleted`` true are dropped. All or nothing: any invalid row raises one
    :class:`UsageError` listing every problem by line and column, and nothing is returned.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise UsageError(
            f"{where}: the file is empty; it needs a header line such as "
            f"{','.join(_REQUIRED_CSV)},side,sets,reps,seconds,minutes,value,result,note"
        ) from None
    except csv.Error as exc:
        raise UsageError(f"{where}: line 1: not valid CSV ({exc})") from None
    header = [h.strip() for h in header]
    for name in header:
        if name not in LOG_COLUMNS:
            raise UsageError(
                f"{where}: line 1, column {name!r}: unknown column; allowed columns are "
                f"{', '.join(LOG_COLUMNS)}"
            )
        if header.count(name) > 1:
            raise UsageError(f"{where}: line 1, column {name!r}: the column appears twice")
    for name in _REQUIRED_CSV:
        if name not in header:
            raise UsageError(
                f"{where}: line 1: missing column {name!r}; the header needs "
                f"{', '.join(_REQUIRED_CSV)}"
            )
    errors: list[str] = []
    parsed: list[tuple[int, dict[str, str], Entry]] = []
    previous_end = reader.line_num
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(f"line {previous_end + 1}: not valid CSV ({exc})")
            break
        line = previous_end + 1
        previous_end = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            errors.append(f"line {line}: {len(fields)} fields, but the header has {len(header)}")
            continue
        row = dict(zip(header, fields, strict=True))
        try:
            entry = _build_entry(
                program,
                day=row["day"],
                today=today,
                kind=row["kind"],
                item=row["item"],
                side=row.get("side"),
                sets=row.get("sets"),
                reps=row.get("reps"),
                seconds=row.get("seconds"),
                minutes=row.get("minutes"),
                value=row.get("value"),
                result=row.get("result"),
                note=row.get("note", ""),
            )
            deleted = _csv_bool(row.get("deleted", ""), "deleted")
            version = _csv_int(row.get("version", ""), "version")
        except _FieldError as exc:
            errors.append(f"line {line}, column {exc.field}: {exc.message}")
            continue
        row["deleted"] = "true" if deleted else ""
        row["version"] = "" if version is None else str(version)
        parsed.append((line, row, entry))
    if errors:
        shown = errors[:_MAX_CSV_ERRORS]
        more = len(errors) - len(shown)
        if len(errors) == 1:
            raise UsageError(f"{where}: {errors[0]}; nothing was imported, fix it and try again")
        lines = "\n".join(f"  {e}" for e in shown)
        tail = f"\n  ... and {more} more" if more else ""
        raise UsageError(
            f"{where}: {len(errors)} invalid rows; nothing was imported, fix them and try "
            f"again:\n{lines}{tail}"
        )
    if "entry_id" in header and "version" in header:
        best: dict[str, tuple[int, int]] = {}
        for i, (_line, row, _entry) in enumerate(parsed):
            eid = row["entry_id"].strip()
            if eid:
                version = int(row["version"] or 0)
                if eid not in best or version >= best[eid][0]:
                    best[eid] = (version, i)
        keep = {i for _v, i in best.values()}
        parsed = [p for i, p in enumerate(parsed) if not p[1]["entry_id"].strip() or i in keep]
    return [entry for _line, row, entry in parsed if row["deleted"] != "true"]


def _csv_bool(text: str, name: str) -> bool:
    value = text.strip().lower()
    if value in ("", "false", "0", "no"):
        return False
    if value in ("true", "1", "yes"):
        return True
    raise _FieldError(name, f"must be true or false, got {text!r}")


def _csv_int(text: str, name: str) -> int | None:
    value = text.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise _FieldError(name, f"must be a whole number, got {text!r}") from None


def daily_symptoms(entries: pd.DataFrame | None) -> pd.DataFrame:
    """Current symptom ratings per day: ``day, pain_0_10, stiffness_0_10`` (NaN when not
    logged), one row per day with any rating."""
    cur = current(entries)
    sym = cur[cur["kind"] == "symptom"]
    columns = {"day": "string", "pain_0_10": "float64", "stiffness_0_10": "float64"}
    if sym.empty:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in columns.items()})
    wide = sym.pivot_table(index="day", columns="item", values="value", aggfunc="last")
    wide = wide.reindex(columns=list(SYMPTOMS))
    out = pd.DataFrame(
        {
            "day": wide.index.astype(str),
            "pain_0_10": wide["pain"].to_numpy(dtype="float64"),
            "stiffness_0_10": wide["stiffness"].to_numpy(dtype="float64"),
        }
    )
    return out.sort_values("day").reset_index(drop=True).astype(columns)


def mobility_tests(entries: pd.DataFrame | None) -> pd.DataFrame:
    """Current mobility test results: ``day, test, side, result`` sorted by day, test, side."""
    cur = current(entries)
    tests = cur[cur["kind"] == "mobility_test"]
    out = tests.loc[:, ["day", "item", "side", "result"]].rename(columns={"item": "test"})
    out = out.sort_values(["day", "test", "side"], kind="stable").reset_index(drop=True)
    return out.astype({"day": "string", "test": "string", "side": "string", "result": "string"})
