"""``psoas routine ...`` as a user runs it (real subprocesses, a real store on disk)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import catalog_dump, routine_log_rows, tree_snapshot
from tests.test_cli import psoas

DAY = "2026-11-02"  # a Monday in the past: the tests never depend on today's date


def _current(home: Path) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(psoas("routine", "export", home=home).stdout))


def _unchanged(home: Path):
    before = (catalog_dump(home), tree_snapshot(home))
    return lambda: (catalog_dump(home), tree_snapshot(home)) == before


def test_done_logs_the_whole_routine_once(tmp_path: Path):
    home = tmp_path / "h"
    first = psoas("routine", "done", "--date", DAY, home=home).stdout
    assert first.count(": logged") == 9  # breathing + 4 per-side exercises x 2 sides
    assert f"{DAY}: 100%" in first
    rows = routine_log_rows(home)
    again = psoas("routine", "done", "--date", DAY, home=home).stdout
    assert again.count("already logged") == 9 and routine_log_rows(home) == rows
    assert f"{DAY}: 100%" in again


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("--pain", "11"), "value: pain must be between 0 and 10"),
        (("--exercise", "hip_thrust"), "unknown exercise 'hip_thrust'"),
        (("--exercise", "psoas_march", "--reps", "-3"), "reps: must be a positive"),
        (("--date", "2999-01-01", "--pain", "2"), "is in the future"),
        (("--pain", "3", "--stiffness", "12"), "stiffness must be between 0 and 10"),
        (("--hang-test", "left=maybe"), "result"),
        (("--exercise", "breathing_pelvic_tilts", "--side", "left"), "side"),
    ],
)
def test_invalid_log_input_is_refused_and_stores_nothing(tmp_path: Path, args, field):
    home = tmp_path / "h"
    psoas("routine", "done", "--date", DAY, home=home)
    unchanged = _unchanged(home)
    dated = args if args[0] == "--date" else ("--date", DAY, *args)
    done = psoas("routine", "log", *dated, home=home, check=False)
    assert done.returncode == 2
    assert field in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert unchanged()


def test_edits_are_versions_and_deletions_are_kept_in_the_history(tmp_path: Path):
    home = tmp_path / "h"
    psoas("routine", "log", "--date", DAY, "--pain", "4", "--stiffness", "6", home=home)
    edit = psoas("routine", "log", "--date", DAY, "--pain", "3", home=home).stdout
    assert f"pain for {DAY} changed from 4 to 3 (version 2)" in edit
    current = _current(home)
    pain = current[current["item"] == "pain"]
    assert pain["value"].tolist() == [3.0]
    history = psoas("routine", "history", "--date", DAY, home=home).stdout
    assert "pain 4" in history and "pain 3" in history
    stiffness_id = current.loc[current["item"] == "stiffness", "entry_id"].iloc[0]
    psoas("routine", "delete", stiffness_id[:6], home=home)
    assert "stiffness" not in set(_current(home)["item"])
    full = pd.read_csv(io.StringIO(psoas("routine", "export", "--history", home=home).stdout))
    assert len(full) == 4  # pain v1, v2; stiffness v1 and its deletion


def test_csv_export_imports_into_another_store_all_or_nothing(tmp_path: Path):
    home = tmp_path / "h"
    psoas("routine", "done", "--date", DAY, home=home)
    psoas("routine", "log", "--date", DAY, "--pain", "2", "--hang-test", "left=partly", home=home)
    psoas("routine", "log", "--date", "2026-11-03", "--session", "strength", home=home)
    exported = tmp_path / "log.csv"
    psoas("routine", "export", "--out", str(exported), home=home)
    other = tmp_path / "other"
    report = psoas("routine", "import", str(exported), home=other).stdout
    assert "12 rows, 12 new" in report
    columns = ["day", "kind", "item", "side", "sets", "reps", "seconds", "minutes", "value"]
    a = _current(home)[columns].sort_values(columns, ignore_index=True)
    b = _current(other)[columns].sort_values(columns, ignore_index=True)
    pd.testing.assert_frame_equal(a, b)
    # a CSV with one bad line stores nothing and names the line
    header, first = exported.read_text().splitlines()[:2]
    pain = dict.fromkeys(header.split(","), "")
    pain.update(day="2026-11-05", kind="symptom", item="pain", value="12")
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join([header, first, ",".join(pain.values())]) + "\n")
    unchanged = _unchanged(other)
    done = psoas("routine", "import", str(broken), home=other, check=False)
    assert done.returncode == 2 and "line 3" in done.stderr and "value" in done.stderr
    assert unchanged()


def test_programs_are_validated_stored_and_used(tmp_path: Path):
    home = tmp_path / "h"
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "mine"\ndaily_minutes = 4\n[[exercise]]\nid = "bridge"\nname = "Glute bridge"\n'
        "minutes = 4\nper_side = false\nsets = -2\nreps = 10\n"
    )
    done = psoas("routine", "program", "add", str(bad), home=home, check=False)
    assert done.returncode == 2 and "exercise[1].sets" in done.stderr
    good = tmp_path / "good.toml"
    good.write_text(bad.read_text().replace("sets = -2", "sets = 2"))
    psoas("routine", "program", "add", str(good), "--use", home=home)
    assert "* mine" in psoas("routine", "program", "list", home=home).stdout
    logged = psoas("routine", "log", "--date", DAY, "--exercise", "bridge", home=home).stdout
    assert "bridge" in logged and "logged" in logged
    assert "Glute bridge" in psoas("routine", "show", home=home).stdout
    refused = psoas(
        "routine", "log", "--date", DAY, "--exercise", "couch_stretch", home=home, check=False
    )
    assert refused.returncode == 2 and "known: bridge" in refused.stderr
    psoas("routine", "program", "use", "default", home=home)
    assert "* default" in psoas("routine", "program", "list", home=home).stdout
    traversal = psoas("routine", "program", "use", "../x", home=home, check=False)
    assert traversal.returncode == 2 and "program name" in traversal.stderr
