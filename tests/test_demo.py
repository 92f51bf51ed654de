"""``psoas demo`` end to end, as the README's quick start runs it."""

from __future__ import annotations

import io
import json
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from psoas.demo import DEMO_WEARABLE, demo_days
from sensors.store import Store
from tests.conftest import free_port
from tests.test_cli import PSOAS, psoas


@dataclass
class DemoRun:
    home: Path
    stdout: str
    layout: dict
    weeks_status: int


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> DemoRun:
    """One `psoas demo` as the README's quick start runs it (a workday synced over Bluetooth,
    analysed, reported, then the dashboard served), into a home that holds an earlier demo's
    store: about half a minute, shared by the tests below."""
    home = tmp_path_factory.mktemp("demo") / "demo"
    with Store.open(home):
        pass  # an earlier demo's store ...
    (home / "left-over").write_text("from the first run")  # ... with something in it
    port = free_port()
    proc = subprocess.Popen(
        [PSOAS, "--home", str(home), "demo", "--tz", "Europe/Berlin", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        layout = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/_dash-layout"
                with urllib.request.urlopen(url, timeout=5) as response:
                    layout = json.loads(response.read())
                break
            except OSError:
                time.sleep(0.5)
        assert layout is not None, proc.stderr.read() if proc.poll() is not None else "timeout"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/weeks", timeout=10) as page:
            weeks_status = page.status
    finally:
        proc.terminate()
        stdout, _ = proc.communicate(timeout=30)
    return DemoRun(home, stdout, layout, weeks_status)


def test_demo_reports_and_leaves_a_readable_store(demo_run, tmp_path):
    home, stdout = demo_run.home, demo_run.stdout
    assert "psoas demo" in stdout and DEMO_WEARABLE in stdout
    assert "sitting: psoas / truth" in stdout and "synced over Bluetooth" in stdout
    status = psoas("status", home=home).stdout
    assert DEMO_WEARABLE in status and "Europe/Berlin" in status
    raw_file = tmp_path / "raw.parquet"
    psoas("export", "raw", "--format", "parquet", "--out", str(raw_file), home=home)
    raw = pd.read_parquet(raw_file)
    summary = pd.read_csv(io.StringIO(psoas("export", "daily_summary", home=home).stdout))
    # a whole local day at 50 Hz, less the packets the simulated link lost
    assert len(raw) == summary.loc[0, "samples"]
    assert 0.98 * 86_400 * 50 < len(raw) <= 25 * 3600 * 50
    assert raw["seq"].is_monotonic_increasing and raw["seq"].is_unique
    gaps = pd.read_csv(io.StringIO(psoas("export", "gaps", home=home).stdout))
    assert len(raw) + gaps["missing_count"].sum() == raw["seq"].iloc[-1] + 1
    # the workday's sitting was analysed from the synced data: hours of it, bouts that add up
    assert 3 * 3600 < summary.loc[0, "sitting_s"] < 14 * 3600
    bouts = pd.read_csv(io.StringIO(psoas("export", "sitting_bouts", home=home).stdout))
    assert bouts["sitting_s"].sum() == summary.loc[0, "sitting_s"]


def test_demo_starts_from_a_fresh_home_and_serves_the_dashboard(demo_run):
    assert DEMO_WEARABLE in json.dumps(demo_run.layout)  # the device picker of the shell
    assert demo_run.weeks_status == 200
    summary = pd.read_csv(io.StringIO(psoas("export", "daily_summary", home=demo_run.home).stdout))
    assert len(summary) == 1  # one demo day: the earlier store was replaced, not added to
    assert not (demo_run.home / "left-over").exists()


def test_demo_refuses_to_wipe_a_folder_that_is_not_a_store(tmp_path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("...")
    done = psoas("demo", "--no-dashboard", home=precious, check=False)
    assert done.returncode == 2 and "not a psoas store" in done.stderr
    assert (precious / "chapter1.tex").exists()


def test_demo_days_end_on_a_workday():
    import datetime as dt

    days = demo_days(3, today=dt.date(2026, 11, 30))  # a Monday
    assert days[-1] == dt.date(2026, 11, 27) and days[-1].weekday() == 4
    assert len(days) == 3
