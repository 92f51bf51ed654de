"""Routine programs as data: the TOML layout, its validation and the built-in default.

A program is a TOML document (parsed with the standard library's ``tomllib``) validated by
:func:`parse_program`. Layout:

- top level: ``name`` (id), ``title`` (optional text, defaults to ``name``), ``daily_minutes``
  (the daily mobility target in minutes: a number or ``[minimum, full]``; the lower end must be
  reachable, i.e. at most the exercises' total ``minutes``).
- ``[[exercise]]`` (at least one): the daily mobility exercises. ``id``, ``name``, ``minutes``
  (prescribed time; the exercise's weight in adherence), ``per_side`` (bool), ``sets`` and exactly
  one of ``reps`` or ``seconds`` (per set, per side where ``per_side``), each a positive integer
  or ``[min, max]``; optional ``description``.
- ``[[session]]``: longer sessions with a weekly goal. ``id``, ``name``, ``per_week`` (positive
  integer or ``[min, max]``), optional ``minutes`` (usual length, default 30) and
  ``description``.
- ``[[habit]]``: optional daily habits, done or not. ``id``, ``name``, optional ``description``.
- ``[[test]]``: mobility self-tests with the results yes | partly | no. ``id``, ``name``,
  ``per_side`` (bool), optional ``description``.

Ids match ``[a-z][a-z0-9_]*``, are unique across all four tables (so an entry's item names one
thing) and must not be ``pain`` or ``stiffness`` (the symptom items). Unknown keys are errors.
Errors name the file and the field path, with tables counted from 1 in file order, e.g.
``program.toml: exercise[3].sets: must be a positive integer or [min, max], got -2``.

The built-in default (:data:`DEFAULT_PROGRAM_TOML`, :func:`default_program`)::

# The psoas routine: about 10 minutes of mobility every day, 2–3 strength sessions a week,
# two everyday habits and the bench-edge hang test.
name = "psoas_10min"
title = "Daily 10-minute psoas routine"
daily_minutes = [5, 10]  # daily mobility target in minutes: [minimum, full routine]

[[exercise]]
id = "breathing_pelvic_tilts"
name = "Diaphragmatic breathing + pelvic tilts"
minutes = 2
per_side = false
sets = 1
seconds = 120

[[exercise]]
id = "couch_stretch"
name = "Couch stretch"
minutes = 2
per_side = true
sets = 2
seconds = [30, 60]

[[exercise]]
id = "psoas_march"
name = "Psoas march (dead-bug progression)"
minutes = 2
per_side = true
sets = 3
reps = [8, 12]

[[exercise]]
id = "band_hip_flexion"
name = "Resisted band hip flexion"
minutes = 2
per_side = true
sets = [2, 3]
reps = [10, 15]

[[exercise]]
id = "reverse_lunge"
name = "Reverse lunges / split squats"
minutes = 2
per_side = true
sets = [2, 3]
reps = [8, 12]

[[session]]
id = "strength"
name = "Strength session"
per_week = [2, 3]
minutes = 30

[[habit]]
id = "stand_breaks"
name = "Stand up every 30–45 min"

[[habit]]
id = "side_sleeping"
name = "Sleep on the side with a pillow between the knees"

[[test]]
id = "hang_test"
name = "Bench-edge hang test: thigh drops to neutral"
per_side = true
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NoReturn

from sensors.errors import UsageError

DEFAULT_SESSION_MINUTES: Final = 30.0
SYMPTOMS: Final = ("pain", "stiffness")
"""The symptom items (reserved: no program item may use these ids)."""

# Plausibility limits that catch typos (300 sets, 6000 s); they are far above any real routine.
MAX_SETS: Final = 100
MAX_REPS: Final = 1000
MAX_SECONDS: Final = 3600.0
MAX_MINUTES: Final = 1440.0

EPS: Final = 1e-9
_ID_RE: Final = re.compile(r"[a-z][a-z0-9_]*\Z")

DEFAULT_PROGRAM_TOML: Final = """\
# The psoas routine: about 10 minutes of mobility every day, 2–3 strength sessions a week,
# two everyday habits and the bench-edge hang test.
name = "psoas_10min"
title = "Daily 10-minute psoas routine"
daily_minutes = [5, 10]  # daily mobility target in minutes: [minimum, full routine]

[[exercise]]
id = "breathing_pelvic_tilts"
name = "Diaphragmatic breathing + pelvic tilts"
minutes = 2
per_side = false
sets = 1
seconds = 120

[[exercise]]
id = "couch_stretch"
name = "Couch stretch"
minutes = 2
per_side = true
sets = 2
seconds = [30, 60]

[[exercise]]
id = "psoas_march"
name = "Psoas march (dead-bug progression)"
minutes = 2
per_side = true
sets = 3
reps = [8, 12]

[[exercise]]
id = "band_hip_flexion"
name = "Resisted band hip flexion"
minutes = 2
per_side = true
sets = [2, 3]
reps = [10, 15]

[[exercise]]
id = "reverse_lunge"
name = "Reverse lunges / split squats"
minutes = 2
per_side = true
sets = [2, 3]
reps = [8, 12]

[[session]]
id = "strength"
name = "Strength session"
per_week = [2, 3]
minutes = 30

[[habit]]
id = "stand_breaks"
name = "Stand up every 30–45 min"

[[habit]]
id = "side_sleeping"
name = "Sleep on the side with a pillow between the knees"

[[test]]
id = "hang_test"
name = "Bench-edge hang test: thigh drops to neutral"
per_side = true
"""


# --------------------------------------------------------------------------------------------
# Programs
# --------------------------------------------------------------------------------------------

IntRange = tuple[int, int]


@dataclass(frozen=True)
class Exercise:
    """A daily mobility exercise; ``sets`` and ``reps``/``seconds`` are per side where
    ``per_side``; ``minutes`` is its prescribed time and its weight in adherence."""

    id: str
    name: str
    minutes: float
    per_side: bool
    sets: IntRange
    reps: IntRange | None = None
    seconds: IntRange | None = None
    description: str = ""

    @property
    def measure(self) -> str:
        """``"reps"`` or ``"seconds"``: what one set is counted in."""
        return "reps" if self.reps is not None else "seconds"

    @property
    def amount(self) -> IntRange:
        """The prescribed reps or seconds per set, ``(min, max)``."""
        value = self.reps if self.reps is not None else self.seconds
        assert value is not None
        return value

    @property
    def prescribed_volume(self) -> float:
        """sets x reps (or x seconds) at the lower end of both ranges, per side."""
        return float(self.sets[0] * self.amount[0])

    def prescription(self) -> str:
        """Human text, e.g. ``2 x 30–60 s per side``."""
        unit = " s" if self.measure == "seconds" else " reps"
        text = f"{range_text(self.sets)} x {range_text(self.amount)}{unit}"
        return text + (" per side" if self.per_side else "")


@dataclass(frozen=True)
class Session:
    """A longer session with a weekly goal ``per_week`` = (min, max) sessions."""

    id: str
    name: str
    per_week: IntRange
    minutes: float = DEFAULT_SESSION_MINUTES
    description: str = ""


@dataclass(frozen=True)
class Habit:
    """A daily habit, logged as done (1) or not (0)."""

    id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class MobilityTest:
    """A self-test with the results yes | partly | no, per side where ``per_side``."""

    id: str
    name: str
    per_side: bool
    description: str = ""


@dataclass(frozen=True)
class Program:
    """A validated routine program (see the module docstring for the TOML layout)."""

    name: str
    title: str
    daily_minutes: tuple[float, float]
    exercises: tuple[Exercise, ...]
    sessions: tuple[Session, ...] = ()
    habits: tuple[Habit, ...] = ()
    tests: tuple[MobilityTest, ...] = ()

    @property
    def total_minutes(self) -> float:
        """The prescribed minutes of the whole daily routine."""
        return float(sum(e.minutes for e in self.exercises))

    @property
    def weekly_sessions(self) -> IntRange:
        """The summed weekly session goal ``(min, max)`` over all sessions."""
        return (
            sum(s.per_week[0] for s in self.sessions),
            sum(s.per_week[1] for s in self.sessions),
        )

    def kind_of(self, item: str) -> str | None:
        """The entry kind an item id belongs to (``pain`` -> ``symptom``), or None if unknown."""
        if item in SYMPTOMS:
            return "symptom"
        for kind, ids in self._ids_by_kind().items():
            if item in ids:
                return kind
        return None

    def exercise(self, item: str) -> Exercise:
        """The exercise ``item``; :class:`UsageError` listing the known ids otherwise."""
        for e in self.exercises:
            if e.id == item:
                return e
        raise UsageError(unknown_item_message(self, "exercise", item))

    def _ids_by_kind(self) -> dict[str, tuple[str, ...]]:
        return {
            "exercise": tuple(e.id for e in self.exercises),
            "session": tuple(s.id for s in self.sessions),
            "habit": tuple(h.id for h in self.habits),
            "mobility_test": tuple(t.id for t in self.tests),
            "symptom": SYMPTOMS,
        }


def default_program() -> Program:
    """The built-in program (:data:`DEFAULT_PROGRAM_TOML`)."""
    return parse_program(DEFAULT_PROGRAM_TOML, where="built-in program")


_HINTS: Final = {
    "name": "a text in quotes",
    "id": 'an id such as "couch_stretch"',
    "daily_minutes": "a positive number of minutes or [min, max]",
    "minutes": "a positive number of minutes",
    "per_side": "true or false",
    "sets": "a positive integer or [min, max]",
    "per_week": "a positive integer or [min, max]",
    "reps": "a positive integer or [min, max]",
    "seconds": "a positive integer or [min, max]",
    "exercise": "at least one [[exercise]] table",
}

_TABLE_FIELDS: Final = {
    # table: (required, optional)
    "exercise": (
        ("id", "name", "minutes", "per_side", "sets"),
        ("reps", "seconds", "description"),
    ),
    "session": (("id", "name", "per_week"), ("minutes", "description")),
    "habit": (("id", "name"), ("description",)),
    "test": (("id", "name", "per_side"), ("description",)),
}
_TOP_FIELDS: Final = (("name", "daily_minutes", "exercise"), ("title", "session", "habit", "test"))


class _ProgramCheck:
    """Field checks that raise :class:`UsageError` naming ``where`` and the field path."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, path: str, message: str) -> NoReturn:
        raise UsageError(f"{self.where}: {path}: {message}")

    def keys(self, path: str, table: Mapping[str, Any], fields: tuple[tuple[str, ...], ...]):
        required, optional = fields
        allowed = (*required, *optional)
        unknown = [k for k in table if k not in allowed]
        if unknown:
            where = f"{path}.{unknown[0]}" if path else unknown[0]
            self.fail(where, f"unknown key; the keys allowed here are {', '.join(allowed)}")
        for key in required:
            if key not in table:
                where = f"{path}.{key}" if path else key
                self.fail(where, f"required field is missing; give {_HINTS.get(key, 'it')}")

    def text(self, path: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"must be a non-empty text in quotes, got {show_value(value)}")
        return value.strip()

    def ident(self, path: str, value: Any) -> str:
        if not isinstance(value, str) or not _ID_RE.match(value):
            self.fail(
                path,
                "must be an id of lowercase letters, digits and _ starting with a letter "
                f'(e.g. "couch_stretch"), got {show_value(value)}',
            )
        return value

    def boolean(self, path: str, value: Any) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"must be true or false, got {show_value(value)}")
        return value

    def positive_number(self, path: str, value: Any, limit: float = MAX_MINUTES) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            self.fail(path, f"must be a positive number, got {show_value(value)}")
        if value > limit:
            self.fail(path, f"must be at most {limit:g}, got {show_value(value)}")
        return float(value)

    def int_range(self, path: str, value: Any, limit: int) -> IntRange:
        def ok(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool) and v > 0

        if ok(value):
            low = high = value
        elif isinstance(value, list) and len(value) == 2 and all(ok(v) for v in value):
            low, high = value
        else:
            self.fail(path, f"must be a positive integer or [min, max], got {show_value(value)}")
        if low > high:
            self.fail(path, f"min {low} is greater than max {high}; write [{high}, {low}]")
        if high > limit:
            self.fail(path, f"must be at most {limit}, got {show_value(value)}")
        return (low, high)

    def number_range(self, path: str, value: Any) -> tuple[float, float]:
        def ok(v: Any) -> bool:
            return (
                isinstance(v, int | float)
                and not isinstance(v, bool)
                and math.isfinite(v)
                and 0 < v <= MAX_MINUTES
            )

        if ok(value):
            low = high = float(value)
        elif isinstance(value, list) and len(value) == 2 and all(ok(v) for v in value):
            low, high = float(value[0]), float(value[1])
        else:
            self.fail(
                path, f"must be a positive number of minutes or [min, max], got {show_value(value)}"
            )
        if low > high:
            self.fail(path, f"min {low:g} is greater than max {high:g}; write [{high:g}, {low:g}]")
        return (low, high)

    def tables(self, key: str, value: Any) -> list[Mapping[str, Any]]:
        if isinstance(value, dict):
            self.fail(key, f"must be an array of tables: write [[{key}]] (double brackets)")
        if not isinstance(value, list):
            self.fail(key, f"must be an array of tables [[{key}]], got {show_value(value)}")
        for i, table in enumerate(value, 1):
            if not isinstance(table, dict):
                self.fail(f"{key}[{i}]", f"must be a table [[{key}]], got {show_value(table)}")
        return value


def parse_program(text: str, where: str = "program") -> Program:
    """Parse and validate a program in TOML (layout: module docstring).

    Raises :class:`UsageError` naming ``where`` and the field path (tables counted from 1), e.g.
    ``program.toml: exercise[3].sets: must be a positive integer or [min, max], got -2``; a TOML
    syntax error carries tomllib's line and column.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{where}: TOML syntax error: {exc}; fix the file there") from None
    check = _ProgramCheck(where)
    check.keys("", doc, _TOP_FIELDS)
    name = check.ident("name", doc["name"])
    title = check.text("title", doc["title"]) if "title" in doc else name
    daily_minutes = check.number_range("daily_minutes", doc["daily_minutes"])

    seen: dict[str, str] = {}

    def ident(path: str, value: Any) -> str:
        item = check.ident(path, value)
        if item in SYMPTOMS:
            check.fail(path, f"{item!r} is reserved for the symptom entries; choose another id")
        if item in seen:
            check.fail(path, f"duplicate id {item!r} (already used by {seen[item]})")
        seen[item] = path.rsplit(".", 1)[0]
        return item

    exercises = []
    tables = check.tables("exercise", doc["exercise"])
    if not tables:
        check.fail("exercise", "needs at least one [[exercise]] table")
    for i, t in enumerate(tables, 1):
        p = f"exercise[{i}]"
        check.keys(p, t, _TABLE_FIELDS["exercise"])
        if ("reps" in t) == ("seconds" in t):
            check.fail(
                p,
                "give exactly one of reps or seconds (what one set is counted in), "
                + ("not both" if "reps" in t else "neither is given"),
            )
        exercises.append(
            Exercise(
                id=ident(f"{p}.id", t["id"]),
                name=check.text(f"{p}.name", t["name"]),
                minutes=check.positive_number(f"{p}.minutes", t["minutes"]),
                per_side=check.boolean(f"{p}.per_side", t["per_side"]),
                sets=check.int_range(f"{p}.sets", t["sets"], MAX_SETS),
                reps=check.int_range(f"{p}.reps", t["reps"], MAX_REPS) if "reps" in t else None,
                seconds=(
                    check.int_range(f"{p}.seconds", t["seconds"], int(MAX_SECONDS))
                    if "seconds" in t
                    else None
                ),
                description=_optional_text(check, f"{p}.description", t),
            )
        )
    sessions = []
    for i, t in enumerate(check.tables("session", doc.get("session", [])), 1):
        p = f"session[{i}]"
        check.keys(p, t, _TABLE_FIELDS["session"])
        sessions.append(
            Session(
                id=ident(f"{p}.id", t["id"]),
                name=check.text(f"{p}.name", t["name"]),
                per_week=check.int_range(f"{p}.per_week", t["per_week"], 7 * 10),
                minutes=(
                    check.positive_number(f"{p}.minutes", t["minutes"])
                    if "minutes" in t
                    else DEFAULT_SESSION_MINUTES
                ),
                description=_optional_text(check, f"{p}.description", t),
            )
        )
    habits = []
    for i, t in enumerate(check.tables("habit", doc.get("habit", [])), 1):
        p = f"habit[{i}]"
        check.keys(p, t, _TABLE_FIELDS["habit"])
        habits.append(
            Habit(
                id=ident(f"{p}.id", t["id"]),
                name=check.text(f"{p}.name", t["name"]),
                description=_optional_text(check, f"{p}.description", t),
            )
        )
    tests = []
    for i, t in enumerate(check.tables("test", doc.get("test", [])), 1):
        p = f"test[{i}]"
        check.keys(p, t, _TABLE_FIELDS["test"])
        tests.append(
            MobilityTest(
                id=ident(f"{p}.id", t["id"]),
                name=check.text(f"{p}.name", t["name"]),
                per_side=check.boolean(f"{p}.per_side", t["per_side"]),
                description=_optional_text(check, f"{p}.description", t),
            )
        )
    total = sum(e.minutes for e in exercises)
    if daily_minutes[0] > total + EPS:
        check.fail(
            "daily_minutes",
            f"the minimum {daily_minutes[0]:g} min is more than the exercises' total "
            f"{total:g} min, so it could never be met; lower it or add exercise minutes",
        )
    return Program(
        name=name,
        title=title,
        daily_minutes=daily_minutes,
        exercises=tuple(exercises),
        sessions=tuple(sessions),
        habits=tuple(habits),
        tests=tuple(tests),
    )


def _optional_text(check: _ProgramCheck, path: str, table: Mapping[str, Any]) -> str:
    if "description" not in table:
        return ""
    value = table["description"]
    if not isinstance(value, str):
        check.fail(path, f"must be a text in quotes, got {show_value(value)}")
    return value


def show_value(value: Any) -> str:
    """A TOML-like rendering of a parsed value for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "a table"
    return str(value)


def range_text(r: IntRange | tuple[float, float]) -> str:
    return f"{r[0]:g}" if r[0] == r[1] else f"{r[0]:g}–{r[1]:g}"


def known_items(program: Program) -> str:
    ids = program._ids_by_kind()
    return "; ".join(f"{kind}: {', '.join(v)}" for kind, v in ids.items() if v)


def unknown_item_message(program: Program, kind: str, item: str) -> str:
    known = program._ids_by_kind()[kind]
    actual = program.kind_of(item)
    label = kind.replace("_", " ")
    hint = f"; {item!r} is a {actual.replace('_', ' ')}" if actual and actual != kind else ""
    listing = ", ".join(known) if known else "(none in this program)"
    return f"unknown {label} {item!r} in program {program.name}{hint}; known: {listing}"
