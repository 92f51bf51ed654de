"""The ``psoas`` console script, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.conftest import catalog_dump, imu_frame, shared_file, tree_snapshot

PSOAS = str(Path(sys.executable).with_name("psoas"))


def psoas(*args: str, home: Path, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [PSOAS, "--home", str(home), *args], capture_output=True, text=True, timeout=300
    )
    if check and done.returncode != 0:
        raise AssertionError(f"psoas {' '.join(args)} failed: {done.stderr}")
    return done


@pytest.fixture
def csv_file(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    frame = imu_frame(6000)
    path = tmp_path / "thigh.csv"
    pd.DataFrame(
        {
            "timestamp": frame["t"] / 1e9,
            **{c: frame[c] for c in ("ax", "ay", "az", "gx", "gy", "gz")},
        }
    ).to_csv(path, index=False)
    return path, frame


def test_import_status_export_round_trip(tmp_path, csv_file):
    path, frame = csv_file
    home = tmp_path / "h"
    done = psoas("import", str(path), "--placement", "thigh", "--tz", "Europe/Berlin", home=home)
    assert "6,000 samples" in done.stderr and "device thigh" in done.stderr
    status = psoas("status", home=home).stdout
    assert "thigh" in status and "6,000" in status and "Europe/Berlin" in status
    exported = psoas("export", "raw", "--format", "csv", "--out", "-", home=home).stdout
    back = pd.read_csv(io.StringIO(exported))
    assert back["device_id"].unique().tolist() == ["thigh"]
    assert back["t"].tolist() == frame["t"].tolist()
    pd.testing.assert_series_equal(back["ax"].astype("float32"), frame["ax"], check_names=False)


def test_export_parquet_to_file_and_every_table(tmp_path, csv_file):
    path, frame = csv_file
    home = tmp_path / "h"
    psoas("import", str(path), "--tz", "UTC", home=home)
    psoas("analyze", home=home)
    out = tmp_path / "raw.parquet"
    psoas("export", "raw", "--format", "parquet", "--out", str(out), home=home)
    assert pq.read_table(out).num_rows == len(frame)
    summary = pd.read_csv(io.StringIO(psoas("export", "daily_summary", home=home).stdout))
    assert summary.loc[0, "samples"] == len(frame)
    assert summary.loc[0, "recorded_s"] == pytest.approx(60.0)
    for table in (
        "metrics",
        "gaps",
        "sitting_bouts",
        "strides",
        "alerts",
        "routine_log",
        "weekly_stride",
    ):
        header = psoas("export", table, home=home).stdout.splitlines()[0]
        assert header, table


def test_second_import_of_same_file_is_a_noop(tmp_path, csv_file):
    path, _ = csv_file
    home = tmp_path / "h"
    psoas("import", str(path), "--tz", "UTC", home=home)
    again = psoas("import", str(path), "--tz", "UTC", home=home)
    assert "already imported" in again.stderr


def test_malformed_csv_exits_non_zero_with_one_line_and_store_unchanged(tmp_path, csv_file):
    path, _ = csv_file
    home = tmp_path / "h"
    psoas("import", str(path), "--tz", "UTC", home=home)
    lines = path.read_text().splitlines(True)
    lines[1233] = lines[1233].replace(",", ";", 2)
    bad = tmp_path / "bad.csv"
    bad.write_text("".join(lines))
    before = (tree_snapshot(home), catalog_dump(home))
    done = psoas("import", str(bad), "--tz", "UTC", home=home, check=False)
    assert done.returncode != 0
    assert "line 1234" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert (tree_snapshot(home), catalog_dump(home)) == before


def test_debug_shows_the_traceback(tmp_path):
    done = psoas(
        "--debug", "import", str(tmp_path / "missing.csv"), home=tmp_path / "h", check=False
    )
    assert done.returncode != 0 and "Traceback" in done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["export", "nope"], "unknown table 'nope'"),
        (["export", "raw", "--format", "xlsx"], "unknown format 'xlsx'"),
        (["import", "x.csv", "--placement", "knee"], "--placement 'knee'"),
        (["import", "x.csv", "--tz", "Mars/Olympus"], "unknown time zone"),
        (["analyze", "--since", "yesterday"], "not a day"),
    ],
)
def test_usage_errors_are_one_actionable_line(tmp_path, args, expected):
    done = psoas(*args, home=tmp_path / "h", check=False)
    assert done.returncode == 2
    assert expected in done.stderr and "Traceback" not in done.stderr


def test_status_of_empty_store_says_what_to_do(tmp_path):
    assert "psoas import" in psoas("status", home=tmp_path / "h").stdout


def test_psoas_home_environment_variable_selects_the_store(tmp_path, csv_file):
    path, _ = csv_file
    env_home = tmp_path / "from-env"
    done = subprocess.run(
        [PSOAS, "import", str(path), "--tz", "UTC"],
        capture_output=True,
        text=True,
        env={"PSOAS_HOME": str(env_home), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert (env_home / "catalog.sqlite").exists()


def _folder_of_files(tmp_path: Path, csv_file) -> Path:
    """A folder as users have them: importable files, a broken one, and unrelated files."""
    path, _ = csv_file
    folder = tmp_path / "exports"
    (folder / "watch").mkdir(parents=True)
    (folder / "thigh.csv").write_bytes(path.read_bytes())
    (folder / "watch" / "run.fit").write_bytes(
        shared_file("fit/garmin-fenix-5-run.fit").read_bytes()
    )
    (folder / "watch" / "broken.fit").write_bytes(
        shared_file("fit/invalid/activity-filecrc.fit").read_bytes()
    )
    (folder / "notes.txt.md").write_text("not sensor data")
    (folder / ".hidden.csv").write_text("garbage")
    return folder


def test_folder_import_keeps_going_lists_failures_and_exits_non_zero(tmp_path, csv_file):
    home = tmp_path / "h"
    done = psoas(
        "import", str(_folder_of_files(tmp_path, csv_file)), "--tz", "UTC", home=home, check=False
    )
    assert done.returncode == 3
    assert "import summary" in done.stdout
    assert "broken.fit" in done.stdout and "failed" in done.stdout
    assert "notes.txt.md" in done.stdout and "skipped" in done.stdout
    assert ".hidden.csv" not in done.stdout
    assert "1 of 4 files were not imported" in done.stderr
    status = psoas("status", home=home).stdout
    assert "garmin-fenix5" in status and "thigh" in status


def test_dry_run_checks_everything_and_writes_nothing(tmp_path, csv_file):
    home = tmp_path / "h"
    psoas("status", home=home)  # an empty store
    before = (tree_snapshot(home), catalog_dump(home))
    folder = _folder_of_files(tmp_path, csv_file)
    (folder / "watch" / "broken.fit").unlink()
    done = psoas("import", str(folder), "--dry-run", "--tz", "UTC", home=home)
    assert "dry run: nothing was written" in done.stdout
    assert "would import 6,000 samples" in done.stderr
    assert (tree_snapshot(home), catalog_dump(home)) == before


def test_glob_patterns_are_expanded(tmp_path, csv_file):
    folder = _folder_of_files(tmp_path, csv_file)
    home = tmp_path / "h"
    done = psoas("import", str(folder / "**" / "run*.fit"), "--tz", "UTC", home=home)
    assert "garmin-fenix5" in done.stderr
    nothing = psoas("import", str(folder / "*.gpx"), home=home, check=False)
    assert nothing.returncode == 3 and "no file matches" in nothing.stderr


def test_dry_run_against_a_home_that_does_not_exist_creates_nothing(tmp_path, csv_file):
    home = tmp_path / "not-yet"
    done = psoas("import", str(csv_file[0]), "--dry-run", "--tz", "UTC", home=home)
    assert "dry run: nothing was written" in done.stdout
    assert not home.exists()


def test_analyze_reports_sitting_and_alerts_lists_and_sets_the_threshold(tmp_path):
    from sensors.simulate import simulate_day
    from sensors.store import DeviceInfo, RecordingInfo, Store

    home = tmp_path / "h"
    rec = simulate_day("2026-03-10", placement="thigh", rate_hz=20.0, seed=7, tz="Europe/Berlin")
    with Store.open(home) as store, store.ingest() as tx:
        tx.add_samples(
            RecordingInfo(DeviceInfo("thigh", tz="Europe/Berlin", placement="thigh"), "sim"),
            rec.samples,
        )
    done = psoas("analyze", home=home)
    assert "longest streak" in done.stdout and "2026-03-10" in done.stdout
    listed = psoas("alerts", "--day", "2026-03-10", home=home)
    assert "30 min" in listed.stdout and "analysis" in listed.stdout
    assert "alert threshold: 30 min" in listed.stderr
    thirty = listed.stdout.count("30 min")

    too_short = psoas("alerts", "--threshold", "5", home=home, check=False)
    assert too_short.returncode == 2 and "15 to 120" in too_short.stderr
    psoas("alerts", "--threshold", "45", home=home)
    psoas("analyze", "--since", "2026-03-10", home=home)
    again = psoas("alerts", home=home)
    assert "45 min" in again.stdout and "alert threshold: 45 min" in again.stderr
    assert again.stdout.count("45 min") <= thirty
    bouts = pd.read_csv(io.StringIO(psoas("export", "sitting_bouts", home=home).stdout))
    assert (bouts["duration_s"] >= bouts["sitting_s"]).all() and len(bouts) > 3


def test_live_alerts_need_a_live_stream(tmp_path):
    done = psoas("collect", "--live-alerts", home=tmp_path / "h", check=False)
    assert done.returncode == 2 and "--live or --duration" in done.stderr


def test_trends_show_weeks_and_compare_checks_its_argument(tmp_path):
    home = tmp_path / "h"
    psoas("import", str(shared_file("fit/activity-small-fenix2-run.fit")), "--tz", "UTC", home=home)
    psoas("analyze", home=home)
    shown = psoas("trends", home=home)
    assert "watch_derived, running" in shown.stdout and "2015-W33" in shown.stdout
    assert "not enough data" in shown.stdout
    wrong = psoas("trends", "--compare", "last week", home=home, check=False)
    assert wrong.returncode == 2 and "ISO weeks" in wrong.stderr


def test_dashboard_needs_a_store_and_a_token_off_loopback(tmp_path):
    missing = psoas("dashboard", home=tmp_path / "nothing", check=False)
    assert missing.returncode == 2 and "no psoas store" in missing.stderr
    assert "--demo" in missing.stderr and not (tmp_path / "nothing").exists()
    exposed = psoas("dashboard", "--host", "0.0.0.0", home=tmp_path, check=False)
    assert exposed.returncode == 2 and "--token" in exposed.stderr
