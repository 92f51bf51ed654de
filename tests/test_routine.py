"""The psoas routine: program files, the versioned log, CSV and adherence (analysis/routine.py)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import adherence, routine, routine_program
from analysis.adherence import daily_adherence
from analysis.routine import (
    LOG_COLUMNS,
    Entry,
    apply,
    current,
    delete,
    done_entries,
    validate_entry,
)
from analysis.routine_program import DEFAULT_PROGRAM_TOML, default_program, parse_program
from sensors.errors import UsageError

TODAY = dt.date(2026, 11, 20)
DAY = "2026-11-20"
PROGRAM = default_program()


def entry(item: str, day: str = DAY, kind: str | None = None, **fields) -> Entry:
    return validate_entry(PROGRAM, day=day, today=TODAY, kind=kind, item=item, **fields)


def logged(*batches: list[Entry], log: pd.DataFrame | None = None) -> pd.DataFrame:
    """The stored log after applying each batch in turn (as the store would append them)."""
    log = routine.empty_log() if log is None else log
    for t, batch in enumerate(batches, 1):
        rows, _ = apply(log, batch, t_ns=t, origin="cli")
        log = pd.concat([log, rows], ignore_index=True) if len(rows) else log
    return log


def adherence_of(log: pd.DataFrame, day: str = DAY) -> float:
    return float(daily_adherence(PROGRAM, log, [day])["adherence"].iloc[0])


def with_replaced(old: str, new: str) -> str:
    assert old in DEFAULT_PROGRAM_TOML
    return DEFAULT_PROGRAM_TOML.replace(old, new, 1)


# ---------------------------------------------------------------- the default program


def test_default_program_is_the_ten_minute_routine_with_its_goals():
    p = PROGRAM
    assert p.name == "psoas_10min"
    assert [e.id for e in p.exercises] == [
        "breathing_pelvic_tilts",
        "couch_stretch",
        "psoas_march",
        "band_hip_flexion",
        "reverse_lunge",
    ]
    assert math.isclose(p.total_minutes, 10.0)
    assert p.daily_minutes == (5.0, 10.0)
    ex = {e.id: e for e in p.exercises}
    assert ex["breathing_pelvic_tilts"].sets == (1, 1)
    assert ex["breathing_pelvic_tilts"].seconds == (120, 120)
    assert not ex["breathing_pelvic_tilts"].per_side
    assert (ex["couch_stretch"].sets, ex["couch_stretch"].seconds) == ((2, 2), (30, 60))
    assert (ex["psoas_march"].sets, ex["psoas_march"].reps) == ((3, 3), (8, 12))
    assert (ex["band_hip_flexion"].sets, ex["band_hip_flexion"].reps) == ((2, 3), (10, 15))
    assert (ex["reverse_lunge"].sets, ex["reverse_lunge"].reps) == ((2, 3), (8, 12))
    assert all(e.per_side for e in p.exercises[1:])
    (strength,) = p.sessions
    assert (strength.id, strength.name, strength.per_week, strength.minutes) == (
        "strength",
        "Strength session",
        (2, 3),
        30.0,
    )
    assert [h.id for h in p.habits] == ["stand_breaks", "side_sleeping"]
    (hang,) = p.tests
    assert hang.id == "hang_test" and hang.per_side
    assert p.kind_of("pain") == "symptom" and p.kind_of("hang_test") == "mobility_test"


def test_module_docstring_shows_the_default_program_verbatim():
    assert DEFAULT_PROGRAM_TOML in routine_program.__doc__


def test_done_entries_log_the_whole_routine_per_side_and_score_one():
    entries = done_entries(PROGRAM, DAY, TODAY)
    assert len(entries) == 1 + 2 * 4
    assert {e.side for e in entries if e.item == "couch_stretch"} == {"left", "right"}
    daily = daily_adherence(PROGRAM, logged(entries))
    row = daily.iloc[0]
    assert row["adherence"] == 1.0 and row["mobility_minutes"] == 10.0
    assert row["done"] and row["mobility_target_met"]


# ---------------------------------------------------------------- program validation


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            with_replaced("sets = 3", "sets = -2"),
            "program.toml: exercise[3].sets: must be a positive integer or [min, max], got -2",
        ),
        (
            with_replaced("sets = 3", "sets = [12, 8]"),
            "program.toml: exercise[3].sets: min 12 is greater than max 8; write [8, 12]",
        ),
        (
            with_replaced('id = "psoas_march"', 'id = "couch_stretch"'),
            "program.toml: exercise[3].id: duplicate id 'couch_stretch' (already used by "
            "exercise[2])",
        ),
        (
            with_replaced('id = "psoas_march"', 'id = "Psoas-March"'),
            "program.toml: exercise[3].id: must be an id of lowercase letters",
        ),
        (
            with_replaced('id = "stand_breaks"', 'id = "pain"'),
            "program.toml: habit[1].id: 'pain' is reserved",
        ),
        (
            with_replaced("per_side = false\n", "per_side = false\ncolour = 1\n"),
            "program.toml: exercise[1].colour: unknown key",
        ),
        (
            with_replaced("per_week = [2, 3]\n", ""),
            "program.toml: session[1].per_week: required field is missing",
        ),
        (
            with_replaced("sets = 1\n", "sets = 1\nreps = 5\n"),
            "program.toml: exercise[1]: give exactly one of reps or seconds",
        ),
        (
            with_replaced("per_side = false", 'per_side = "no"'),
            'program.toml: exercise[1].per_side: must be true or false, got "no"',
        ),
        (
            with_replaced("daily_minutes = [5, 10]", "daily_minutes = [12, 15]"),
            "program.toml: daily_minutes: the minimum 12 min is more than the exercises' total",
        ),
        (
            with_replaced('title = "Daily 10-minute psoas routine"', "colour = 3"),
            "program.toml: colour: unknown key",
        ),
        (
            'name = "x"\ndaily_minutes = 5\n[exercise]\nid = "a"\n',
            "program.toml: exercise: must be an array of tables: write [[exercise]]",
        ),
        ('name = "x"\ndaily_minutes = 5\n', "program.toml: exercise: required field is missing"),
    ],
)
def test_program_errors_name_the_field(text, message):
    with pytest.raises(UsageError) as info:
        parse_program(text, where="program.toml")
    assert str(info.value).startswith(message), str(info.value)


def test_program_syntax_error_gives_line_and_column():
    text = 'name = "x"\ndaily_minutes = 5\n[[exercise]\nid = "a"\n'
    with pytest.raises(UsageError, match=r"program.toml: TOML syntax error: .*line 3, column"):
        parse_program(text, where="program.toml")


def test_a_custom_program_with_only_exercises_parses():
    p = parse_program(
        'name = "mini"\ndaily_minutes = 3\n[[exercise]]\nid = "plank"\nname = "Plank"\n'
        "minutes = 3\nper_side = false\nsets = 3\nseconds = 30\n"
    )
    assert (p.title, p.daily_minutes, p.sessions, p.weekly_sessions) == ("mini", (3, 3), (), (0, 0))


# ---------------------------------------------------------------- entry validation


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"item": "pain", "value": 11},
            "value: pain must be between 0 and 10, got 11",
        ),
        (
            {"item": "couch", "kind": "exercise"},
            "item: unknown exercise 'couch' in program psoas_10min; known: "
            "breathing_pelvic_tilts, couch_stretch, psoas_march, band_hip_flexion, reverse_lunge",
        ),
        ({"item": "couch"}, "item: unknown item 'couch'; exercise: breathing_pelvic_tilts"),
        (
            {"item": "strength", "kind": "exercise"},
            "item: unknown exercise 'strength' in program psoas_10min; 'strength' is a session",
        ),
        (
            {"item": "pain", "value": 2, "day": "2026-11-21"},
            "day: 2026-11-21 is in the future (today is 2026-11-20)",
        ),
        ({"item": "pain", "value": 2, "day": "20.11.2026"}, "day: must be a date YYYY-MM-DD"),
        ({"item": "psoas_march", "reps": -3}, "reps: must be a positive number, got -3"),
        ({"item": "psoas_march", "sets": 0}, "sets: must be a positive number, got 0"),
        ({"item": "psoas_march", "sets": 2.5}, "sets: must be a whole number, got 2.5"),
        ({"item": "psoas_march", "sets": 300}, "sets: must be at most 100, got 300"),
        (
            {"item": "couch_stretch", "reps": 10},
            "reps: couch_stretch is counted in seconds (2 x 30–60 s per side); give seconds",
        ),
        (
            {"item": "breathing_pelvic_tilts", "side": "left"},
            "side: breathing_pelvic_tilts is not done per side",
        ),
        ({"item": "couch_stretch", "side": "up"}, "side: must be one of left, right, both"),
        ({"item": "couch_stretch", "value": 3}, "value: not used for a exercise entry"),
        ({"item": "pain"}, "value: missing; rate pain from 0 (none) to 10 (worst)"),
        ({"item": "stand_breaks", "value": 0.5}, "value: a habit is 1 (done) or 0 (not done)"),
        ({"item": "hang_test", "result": "yes"}, "side: hang_test is tested per side"),
        ({"item": "hang_test", "side": "left", "result": "maybe"}, "result: must be one of yes"),
        ({"item": "hang_test", "side": "left"}, "result: missing; give the hang_test result"),
        ({"item": "strength", "sets": 2}, "sets: not used for a session entry (strength)"),
    ],
)
def test_invalid_entries_say_which_field_and_why(fields, message):
    fields = dict(fields)
    with pytest.raises(UsageError) as info:
        entry(fields.pop("item"), **fields)
    assert str(info.value).startswith(message), str(info.value)


def test_an_exercise_without_amounts_is_the_prescription_lower_end():
    e = entry("band_hip_flexion")
    assert (e.kind, e.side, e.sets, e.reps, e.seconds, e.minutes) == (
        "exercise",
        "both",
        2.0,
        10.0,
        None,
        None,
    )
    assert entry("band_hip_flexion", reps=15).sets == 2.0
    assert entry("strength").minutes == 30.0
    assert entry("stand_breaks").value == 1.0


# ---------------------------------------------------------------- the versioned log


def test_relogging_a_symptom_is_a_versioned_edit_that_keeps_history():
    log = logged([entry("pain", value=4)])
    rows, messages = apply(log, [entry("pain", value=3)], t_ns=10, origin="cli")
    assert messages == ["pain for 2026-11-20 changed from 4 to 3 (version 2)"]
    assert rows["version"].tolist() == [2]
    assert rows["entry_id"].iloc[0] == log["entry_id"].iloc[0]
    full = pd.concat([log, rows], ignore_index=True)
    assert full["value"].tolist() == [4.0, 3.0]  # no silent overwrite
    assert current(full)["value"].tolist() == [3.0]
    assert routine.daily_symptoms(full)["pain_0_10"].tolist() == [3.0]


def test_relogging_an_identical_exercise_appends_nothing():
    first = [entry("couch_stretch", side="left"), entry("psoas_march")]
    log = logged(first)
    rows, messages = apply(log, first, t_ns=5, origin="cli")
    assert rows.empty and list(rows.columns) == list(LOG_COLUMNS)
    assert all(m.endswith("already logged — not counted twice") for m in messages)
    # twice in one batch: the second sees the first
    rows, messages = apply(None, [first[0], first[0]], t_ns=5, origin="csv")
    assert len(rows) == 1 and messages[1].endswith("not counted twice")


def test_a_different_amount_of_the_same_exercise_is_another_entry_that_adds_up():
    log = logged([entry("couch_stretch", sets=1)], [entry("couch_stretch", sets=1, seconds=31)])
    assert len(current(log)) == 2
    # 1 x 30 + 1 x 31 of the prescribed 2 x 30 on each side: full credit
    assert adherence_of(log) == pytest.approx(2 / 10)


def test_delete_appends_a_deleted_version_and_relogging_revives_it():
    e = entry("hang_test", side="left", result="partly")
    log = logged([e])
    rows = delete(log, e.entry_id[:6], t_ns=7)
    assert rows[["entry_id", "version", "deleted", "result"]].values.tolist() == [
        [e.entry_id, 2, True, "partly"]
    ]
    log = pd.concat([log, rows], ignore_index=True)
    assert current(log).empty and routine.mobility_tests(log).empty
    with pytest.raises(UsageError, match="already deleted"):
        delete(log, e.entry_id, t_ns=8)
    with pytest.raises(UsageError, match="no such routine log entry"):
        delete(log, "0123456789abcdef", t_ns=8)
    rows, messages = apply(log, [e], t_ns=9, origin="dashboard")
    assert rows["version"].tolist() == [3] and "logged again (version 3)" in messages[0]
    log = pd.concat([log, rows], ignore_index=True)
    assert routine.mobility_tests(log).values.tolist() == [[DAY, "hang_test", "left", "partly"]]


def test_deleting_an_exercise_removes_its_credit():
    e = entry("breathing_pelvic_tilts")
    log = logged([e])
    assert adherence_of(log) == pytest.approx(0.2)
    log = pd.concat([log, delete(log, e.entry_id, t_ns=3)], ignore_index=True)
    assert adherence_of(log) == 0.0


# ---------------------------------------------------------------- CSV


def test_csv_round_trip_keeps_every_current_entry():
    log = logged(
        done_entries(PROGRAM, "2026-11-18", TODAY),
        [
            entry("pain", value=4, note='after "desk" day, stiff'),
            entry("stiffness", value=6.5, day="2026-11-19"),
            entry("strength", minutes=45, day="2026-11-19"),
            entry("side_sleeping", value=0),
            entry("hang_test", side="right", result="no"),
        ],
        [entry("pain", value=2, note="multi\nline")],
    )
    text = routine.log_to_csv(log)
    entries = routine.parse_log_csv(text, PROGRAM, TODAY, where="log.csv")
    back = logged(entries)
    content = [c for c in LOG_COLUMNS if c not in ("t", "version", "origin")]
    pd.testing.assert_frame_equal(current(back)[content], current(log)[content])


def test_csv_errors_name_the_line_and_column_and_import_nothing():
    text = (
        "day,kind,item,side,value,result\n"
        "2026-11-19,symptom,pain,,3,\n"
        "2026-11-19,symptom,pain,,11,\n"
        "2026-11-19,,hang_test,left,,maybe\n"
    )
    with pytest.raises(UsageError) as info:
        routine.parse_log_csv(text, PROGRAM, TODAY, where="log.csv")
    message = str(info.value)
    assert message.startswith("log.csv: 2 invalid rows; nothing was imported")
    assert "line 3, column value: pain must be between 0 and 10, got 11" in message
    assert "line 4, column result: must be one of yes, partly, no" in message
    one = "day,kind,item,reps\n2026-11-19,exercise,psoas_march,-1\n"
    with pytest.raises(UsageError, match=r"^log.csv: line 2, column reps: must be a positive"):
        routine.parse_log_csv(one, PROGRAM, TODAY, where="log.csv")
    with pytest.raises(UsageError, match=r"line 1, column 'weight': unknown column"):
        routine.parse_log_csv("day,kind,item,weight\n", PROGRAM, TODAY, where="log.csv")


def test_csv_of_a_history_imports_only_the_current_entries():
    e = entry("couch_stretch")
    log = logged([e, entry("pain", value=5)], [entry("pain", value=1)])
    log = pd.concat([log, delete(log, e.entry_id, t_ns=9)], ignore_index=True)
    entries = routine.parse_log_csv(routine.log_to_csv(log), PROGRAM, TODAY)
    assert entries == [entry("pain", value=1)]


# ---------------------------------------------------------------- adherence


def test_half_the_couch_stretch_sets_is_half_its_credit():
    # prescribed 2 sets x 30 s per side; 1 x 30 s on both sides -> credit 1/2 on 2 of 10 min
    log = logged([entry("couch_stretch", sets=1, seconds=30)])
    row = daily_adherence(PROGRAM, log).iloc[0]
    assert row["adherence"] == pytest.approx(2 * 0.5 / 10)
    assert row["mobility_minutes"] == pytest.approx(1.0)
    assert not row["done"] and not row["mobility_target_met"]


def test_partial_credit_worked_example():
    log = logged(
        [
            entry("breathing_pelvic_tilts"),  # 1 x 120 s: credit 1 -> 2 min
            entry("couch_stretch", side="left"),  # left 2 x 30 s: 1
            entry("couch_stretch", side="right", sets=1),  # right 1 x 30 s: 1/2 -> 0.75 -> 1.5
            entry("psoas_march", reps=12),  # 3 x 12 of 3 x 8: capped at 1 -> 2 min
            entry("band_hip_flexion", sets=1, reps=15, side="left"),  # left 15/20, right 0
            entry("reverse_lunge", sets=1, reps=4),  # 4/16 both sides -> 0.25 -> 0.5 min
        ]
    )
    expected_minutes = 2 + 1.5 + 2 + 2 * (0.75 + 0) / 2 + 0.5
    credits = adherence.exercise_credits(PROGRAM, log)
    assert credits["credit"].tolist() == pytest.approx([1.0, 0.75, 1.0, 0.375, 0.25])
    row = daily_adherence(PROGRAM, log).iloc[0]
    assert row["mobility_minutes"] == pytest.approx(expected_minutes)
    assert row["adherence"] == pytest.approx(expected_minutes / 10)
    assert row["mobility_target_met"] and not row["done"]  # 6.75 min >= 5, 0.675 < 0.8


def test_days_without_entries_are_zero_and_the_span_is_filled():
    log = logged([entry("pain", value=2, day="2026-11-15")], done_entries(PROGRAM, DAY, TODAY))
    daily = daily_adherence(PROGRAM, log)
    assert daily["day"].tolist() == [f"2026-11-{d}" for d in range(15, 21)]
    assert daily["adherence"].tolist() == [0, 0, 0, 0, 0, 1.0]
    assert dict(daily.dtypes.astype(str)) == {
        "day": "string",
        "adherence": "float64",
        "mobility_minutes": "float64",
        "mobility_target_met": "bool",
        "strength_sessions": "int64",
        "habits_done": "int64",
        "done": "bool",
    }
    assert daily_adherence(PROGRAM, routine.empty_log()).empty


def test_weekly_strength_target_and_habits():
    # ISO week 2026-W47 is Mon 16 .. Sun 22 Nov; W46 ends Sun 15 Nov
    log = logged(
        [
            entry("strength", day="2026-11-10"),
            entry("strength", day="2026-11-16"),
            entry("strength", day="2026-11-18"),
            entry("strength", day="2026-11-18"),  # the same day's session again: one session
            entry("stand_breaks", day="2026-11-16"),
            entry("side_sleeping", day="2026-11-16", value=0),
        ],
        done_entries(PROGRAM, "2026-11-17", TODAY),
    )
    daily = daily_adherence(PROGRAM, log)
    assert daily.set_index("day").loc["2026-11-16", "habits_done"] == 1
    weekly = adherence.weekly_adherence(daily, PROGRAM)
    assert weekly["week"].tolist() == ["2026-W46", "2026-W47"]
    assert weekly["days"].tolist() == [6, 3]  # the log's span ends on 18 Nov
    assert weekly["strength_sessions"].tolist() == [1, 2]
    assert weekly["strength_target"].tolist() == ["2–3", "2–3"]
    assert weekly["strength_met"].tolist() == [False, True]
    assert weekly["days_done"].tolist() == [0, 1]
    assert weekly["mobility_days_met"].tolist() == [0, 1]
    assert weekly["mean_adherence"].tolist() == pytest.approx([0.0, 1 / 3])


def test_streaks_count_consecutive_done_days_and_forgive_an_unfinished_today():
    def daily(pattern: str, start: str = "2026-11-01") -> pd.DataFrame:
        first = dt.date.fromisoformat(start)
        days = [(first + dt.timedelta(i)).isoformat() for i in range(len(pattern))]
        return pd.DataFrame({"day": days, "done": [c == "x" for c in pattern]})

    assert adherence.streaks(daily("xx.xxx.xxxx")) == {"current": 4, "longest": 4}
    assert adherence.streaks(daily("xxx.xx.")) == {"current": 2, "longest": 3}
    assert adherence.streaks(daily("xxx..")) == {"current": 0, "longest": 3}
    gap = pd.concat([daily("xx"), daily("xx", start="2026-11-05")])  # days 3 and 4 missing
    assert adherence.streaks(gap) == {"current": 2, "longest": 2}
    assert adherence.streaks(daily("")) == {"current": 0, "longest": 0}


# ---------------------------------------------------------------- properties

DAYS = ["2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"]


@st.composite
def entries(draw) -> Entry:
    day = draw(st.sampled_from(DAYS))
    kind = draw(st.sampled_from(["exercise"] * 4 + ["symptom", "session", "habit"]))
    if kind == "exercise":
        ex = draw(st.sampled_from(PROGRAM.exercises))
        sides = ["left", "right", "both"] if ex.per_side else ["both"]
        fields = {
            "side": draw(st.sampled_from(sides)),
            "sets": draw(st.integers(1, 4)),
            ex.measure: draw(st.integers(1, 70)),
        }
        return entry(ex.id, day=day, **fields)
    if kind == "symptom":
        return entry(
            draw(st.sampled_from(["pain", "stiffness"])), day, value=draw(st.integers(0, 10))
        )
    if kind == "habit":
        return entry(draw(st.sampled_from(["stand_breaks", "side_sleeping"])), day, value=1)
    return entry("strength", day)


PROPERTY = settings(max_examples=50, deadline=None)


@PROPERTY
@given(st.lists(entries(), max_size=25))
def test_adherence_is_a_fraction_of_the_routine(batch):
    daily = daily_adherence(PROGRAM, logged(batch), DAYS)
    assert daily["adherence"].between(0.0, 1.0).all()
    assert daily["mobility_minutes"].between(0.0, PROGRAM.total_minutes).all()
    assert len(daily) == len(DAYS)


@PROPERTY
@given(st.lists(entries(), max_size=25), st.randoms(use_true_random=False))
def test_adherence_does_not_depend_on_log_order(batch, rnd):
    log = logged(batch)
    shuffled_rows = log.sample(frac=1.0, random_state=rnd.randint(0, 2**31))
    reordered = batch[:]
    rnd.shuffle(reordered)
    expected = daily_adherence(PROGRAM, log, DAYS)
    pd.testing.assert_frame_equal(daily_adherence(PROGRAM, shuffled_rows, DAYS), expected)
    # the same entries logged in another order (exercises, sessions, habits of value 1 have no
    # edits, so the order of logging cannot matter either)
    pd.testing.assert_frame_equal(daily_adherence(PROGRAM, logged(reordered), DAYS), expected)


@PROPERTY
@given(st.lists(entries(), max_size=25))
def test_logging_the_same_entries_twice_counts_them_once(batch):
    once = logged(batch)
    twice = logged(batch, batch)
    # a batch that edits one entry twice (pain 4, then pain 3) edits it again; any other batch
    # appends nothing the second time
    final = list({e.entry_id: e for e in batch}.values())
    rows, _ = apply(logged(final), final, t_ns=99, origin="cli")
    assert rows.empty
    pd.testing.assert_frame_equal(
        daily_adherence(PROGRAM, twice, DAYS), daily_adherence(PROGRAM, once, DAYS)
    )


@PROPERTY
@given(st.lists(entries(), max_size=20), entries())
def test_adding_an_entry_never_lowers_adherence(batch, extra):
    log = logged(batch)
    before = daily_adherence(PROGRAM, log, DAYS)
    after = daily_adherence(PROGRAM, logged([extra], log=log), DAYS)
    assert (after["adherence"].to_numpy() >= before["adherence"].to_numpy()).all()
    assert (after["strength_sessions"].to_numpy() >= before["strength_sessions"].to_numpy()).all()
