"""Kill the writer (SIGKILL, a real subprocess) at random points; nothing may be lost or doubled."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sensors.store import Store
from tests.conftest import REPO, catalog_count, imu_frame, shared_file
from tests.crash_worker import SYNC_DEVICE, collect_records, collect_simulation, sync_input

KILLS_DURING_SYNC = 10
KILLS_DURING_CSV_IMPORT = 6


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.crash_worker", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _kill_after_ready(proc: subprocess.Popen, delay_s: float) -> bool:
    """SIGKILL ``proc`` ``delay_s`` after it says it is ready to write; True if it was killed."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != b"ready":
        proc.wait()
        raise AssertionError(f"worker failed to start: {proc.stderr.read().decode()}")
    try:
        proc.wait(timeout=delay_s)
        return False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return True


def _assert_catalog_matches_files(home: Path) -> None:
    with Store.open(home) as store:  # opening removes debris
        rows = store._query("SELECT path, rows FROM parts")
    listed = dict(zip(rows["path"], rows["rows"], strict=True))
    on_disk = {
        p.relative_to(home).as_posix()
        for top in ("raw", "metrics")
        if (home / top).exists()
        for p in (home / top).rglob("*")
        if p.is_file()
    }
    assert on_disk == set(listed), "files and catalog disagree after reopening"
    for path, count in listed.items():
        assert pq.ParquetFile(home / path).metadata.num_rows == count, path


class _Peek:
    """Looks for debris without opening the store (which would remove it)."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def __enter__(self) -> bool:
        if not (self.home / "catalog.sqlite").exists():
            return False
        conn = sqlite3.connect(self.home / "catalog.sqlite")
        known = {r[0] for r in conn.execute("SELECT path FROM parts")}
        conn.close()
        raw = self.home / "raw"
        files = {p.relative_to(self.home).as_posix() for p in raw.rglob("*") if p.is_file()}
        return bool(files - known)

    def __exit__(self, *exc: object) -> None:
        return None


def test_sync_survives_sigkill_at_random_points(tmp_path: Path):
    """Rounds of: kill the syncing writer at random moments until it completes, then compare."""
    rng = random.Random(20261125)
    real_kills = debris_seen = rounds = 0
    # at least KILLS_DURING_SYNC kills, and more (up to 4x) until one has landed inside a write
    while real_kills < KILLS_DURING_SYNC or (
        debris_seen == 0 and real_kills < 4 * KILLS_DURING_SYNC
    ):
        rounds += 1
        home = tmp_path / f"store{rounds}"
        for _attempt in range(50):
            proc = _start(str(home), "sync")
            killed = _kill_after_ready(proc, rng.uniform(0.0, 0.5))
            with _Peek(home) as debris:
                debris_seen += debris
            _assert_catalog_matches_files(home)
            if not killed:
                assert proc.returncode == 0, proc.stderr.read().decode()
                break
            real_kills += 1
        with Store.open(home) as store:
            stored = store.read_samples(SYNC_DEVICE.device_id)
            assert store.cursor(SYNC_DEVICE.device_id) == len(stored) - 1
            assert store.read_table("gaps").empty
        pd.testing.assert_frame_equal(stored, sync_input())
    assert debris_seen > 0, "no kill ever landed inside a write: the test proves nothing"


def test_csv_import_is_all_or_nothing_under_sigkill(tmp_path: Path):
    home = tmp_path / "store"
    frame = imu_frame(1_200_000, rate_hz=100.0, gyro=False)
    csv_path = tmp_path / "big.csv"
    pd.DataFrame(
        {
            "timestamp": frame["t"] // 1000,  # integer Unix microseconds
            "ax": frame["ax"],
            "ay": frame["ay"],
            "az": frame["az"],
        }
    ).to_csv(csv_path, index=False)
    rng = random.Random(7)
    real_kills = 0
    for _ in range(KILLS_DURING_CSV_IMPORT):
        proc = _start(str(home), "csv", str(csv_path))
        real_kills += _kill_after_ready(proc, rng.uniform(0.0, 0.8))
        _assert_catalog_matches_files(home)
        with Store.open(home) as store:
            n = len(store.read_samples("crash-csv"))
        assert n in (0, len(frame)), f"half an import is visible: {n} rows"
        if n:
            break
    assert real_kills >= 1
    proc = _start(str(home), "csv", str(csv_path))
    _kill_after_ready(proc, 300)
    assert proc.returncode == 0, proc.stderr.read().decode()
    with Store.open(home) as store:
        back = store.read_samples("crash-csv")
    assert len(back) == len(frame)
    np.testing.assert_array_equal(back["t"].to_numpy(), frame["t"].to_numpy())
    np.testing.assert_array_equal(back["ax"].to_numpy(), frame["ax"].to_numpy())
    assert back["seq"].tolist() == list(range(len(frame)))


KILLS_DURING_FILE_IMPORT = 7


def _stored_rows(home: Path) -> int:
    """Rows of samples and metrics the catalog holds (committed parts only)."""
    return catalog_count(home, "SELECT COALESCE(SUM(rows), 0) FROM parts")


@pytest.mark.parametrize("name", ["skdh_io/ax3_sample.cwa", "fit/activity-small-fenix2-run.fit"])
def test_research_file_imports_are_all_or_nothing_under_sigkill(tmp_path: Path, name: str):
    """A real Axivity CWA and a real Garmin FIT file, imported by a process killed at a random
    moment between opening the store and finishing (uniform over an uninterrupted import's
    span): the store holds all of the file or none of it, and its catalog matches its files."""
    path = shared_file(name)
    reference = tmp_path / "reference"
    proc = _start(str(reference), "csv", str(path))  # the worker imports any format psoas reads
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
    started = time.monotonic()
    assert proc.wait(300) == 0, proc.stderr.read().decode()
    import_s = time.monotonic() - started  # kills land anywhere in this span
    full = _stored_rows(reference)
    assert full > 0
    home = tmp_path / "store"
    rng = random.Random(11)
    real_kills = trials = 0
    while real_kills < KILLS_DURING_FILE_IMPORT and trials < 4 * KILLS_DURING_FILE_IMPORT:
        trials += 1
        if home.exists():
            shutil.rmtree(home)
        proc = _start(str(home), "csv", str(path))
        real_kills += _kill_after_ready(proc, rng.uniform(0.0, import_s))
        _assert_catalog_matches_files(home)
        assert _stored_rows(home) in (0, full), f"half of {name} is visible"
    print(
        f"\n{name}: {real_kills} SIGKILLs landed during the import ({import_s:.2f} s) in "
        f"{trials} trials"
    )
    assert real_kills >= KILLS_DURING_FILE_IMPORT


# -- psoas analyze under SIGKILL ---------------------------------------------------------------
# A small store (a thigh IMU and a footpod over a few short days) is analysed once without
# interruption; then, on fresh copies of the unanalysed store, `psoas analyze` is killed at a
# random moment and run again to completion: the derived tables must equal the reference.
KILLS_DURING_ANALYZE = 15
ANALYZE_DAYS = 2
ANALYZE_HOURS = (8, 11)  # the local hours of each simulated day that are kept
ANALYZE_RATE_HZ = 12.5
COMPARED_TABLES = ("sitting_bouts", "daily_summary", "strides", "posture_runs", "alerts")
# Python's start-up (~1 s of imports) would dominate: a fork server imports psoas once (its
# PRELUDE defines run(home)), then forks one child per run, and the child calls run(home). Each
# child is a real process, killed with a real SIGKILL; the server reports how it ended
# ("signal 9" when the kill landed while it was still running).
_FORK_SERVER = """
import os, signal, sys, time
PRELUDE
print("ready", flush=True)
for line in sys.stdin:
    home, kill_after_s = line.split()
    pid = os.fork()
    if pid == 0:
        sys.stdin.close()
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the report; the pipe is the server's
        code = 1
        try:
            code = run(home)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code or 0)
    deadline = time.monotonic() + float(kill_after_s)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)  # not reaped yet, so the pid is still this child's
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.002)
    if os.WIFSIGNALED(status):
        print("signal", os.WTERMSIG(status), flush=True)
    else:
        print("exit", os.WEXITSTATUS(status), flush=True)
"""


_ANALYZE = """
import analysis.pipeline, psoas.cli, psoas.sitting_report
def run(home):
    return psoas.cli.main(["--home", home, "analyze"])
"""


class _ForkServer:
    def __init__(self, prelude: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _FORK_SERVER.replace("PRELUDE", prelude)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def run(self, home: Path, kill_after_s: float = float("inf")) -> str:
        """Run the prelude's run(home) in a forked child, SIGKILLed after ``kill_after_s`` if
        still running; how it ended: "exit CODE" or "signal 9"."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{home} {kill_after_s}\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _build_unanalysed_store(home: Path) -> None:
    import datetime as dt

    from psoas.demo_store import _footpod_metrics
    from sensors.simulate import simulate_weeks
    from sensors.store import DeviceInfo, RecordingInfo

    tz = "Europe/Berlin"
    thigh = RecordingInfo(
        DeviceInfo("crash-thigh", tz=tz, placement="thigh"), "crash test", rate_hz=ANALYZE_RATE_HZ
    )
    foot = RecordingInfo(
        DeviceInfo("crash-foot", tz=tz, placement="foot", kind="footpod"), "crash test"
    )
    recordings, _log = simulate_weeks(
        dt.date(2026, 3, 2), weeks=1, rate_hz=ANALYZE_RATE_HZ, tz=tz, seed=11
    )
    rng = np.random.default_rng(11)
    with Store.open(home) as store:
        for _day, rec in zip(range(ANALYZE_DAYS), recordings, strict=False):
            local = pd.to_datetime(rec.samples["t"], utc=True).dt.tz_convert(tz).dt.hour
            keep = (local >= ANALYZE_HOURS[0]) & (local < ANALYZE_HOURS[1])
            samples = rec.samples[keep.to_numpy()].drop(columns=["gx", "gy", "gz"])
            t0, t1 = int(samples["t"].iloc[0]), int(samples["t"].iloc[-1])
            strides = rec.truth.strides
            strides = strides[(strides["t"] >= t0) & (strides["t"] <= t1)]
            with store.ingest() as tx:
                tx.add_samples(thigh, samples.reset_index(drop=True))
                tx.add_metrics(foot, _footpod_metrics(strides, rng))


def _derived(home: Path) -> dict[str, pd.DataFrame]:
    with Store.open(home) as store:
        tables = {name: store.read_table(name) for name in COMPARED_TABLES}
    return {
        name: frame.sort_values(list(frame.columns), ignore_index=True)
        for name, frame in tables.items()
    }


def test_analyze_survives_sigkill_at_random_points(tmp_path: Path):
    pristine = tmp_path / "pristine"
    _build_unanalysed_store(pristine)
    server = _ForkServer(_ANALYZE)
    try:
        reference_home = tmp_path / "reference"
        shutil.copytree(pristine, reference_home)
        started = time.monotonic()
        assert server.run(reference_home) == "exit 0"
        run_s = time.monotonic() - started
        reference = _derived(reference_home)
        for name in ("sitting_bouts", "daily_summary", "strides", "posture_runs"):
            assert len(reference[name]) > 0, f"the reference analysis found no {name}"

        rng = random.Random(20261126)
        mid_run = trials = 0
        while mid_run < KILLS_DURING_ANALYZE:
            trials += 1
            assert trials <= 2 * KILLS_DURING_ANALYZE, f"only {mid_run} kills landed mid-run"
            home = tmp_path / f"trial{trials}"
            shutil.copytree(pristine, home)
            ended = server.run(home, kill_after_s=rng.uniform(0.0, 0.9 * run_s))
            assert ended in ("signal 9", "exit 0"), ended
            mid_run += ended == "signal 9"
            _assert_catalog_matches_files(home)
            assert server.run(home) == "exit 0"  # the user runs it again after the crash
            _assert_catalog_matches_files(home)
            got = _derived(home)
            for name in COMPARED_TABLES:
                pd.testing.assert_frame_equal(got[name], reference[name], obj=f"{name} #{trials}")
            shutil.rmtree(home)
    finally:
        server.close()
    print(
        f"\npsoas analyze: {trials} trials, {mid_run} SIGKILLs landed mid-run, each followed by "
        f"a complete re-run equal to the reference (an uninterrupted run took {run_s:.2f} s)"
    )


# -- the Bluetooth collector under SIGKILL ---------------------------------------------------
# A process runs a virtual wearable and the real collector syncing it over two bumble stacks
# (tests/crash_worker.py run_collect) and is SIGKILLed at a random moment; the next process is
# the same device still holding every record, and the collector resumes from the store's cursor.
# After every kill the store holds exactly a prefix of the device's records (nothing doubled,
# nothing half-written); the run that completes holds all of them.
KILLS_DURING_COLLECT = 10
_COLLECT = """
from pathlib import Path
from tests.crash_worker import collect_simulation, run_collect
SIM = collect_simulation()
def run(home):
    run_collect(Path(home), SIM)
    return 0
"""


def _stored_samples(home: Path) -> pd.DataFrame | None:
    with Store.open(home) as store:
        devices = store.devices()["device_id"].tolist()
        return store.read_samples(devices[0]) if devices else None


def test_collector_survives_sigkill_at_random_points(tmp_path: Path):
    expected = collect_records(collect_simulation())
    server = _ForkServer(_COLLECT)
    try:
        started = time.monotonic()
        assert server.run(tmp_path / "reference") == "exit 0"
        run_s = time.monotonic() - started
        pd.testing.assert_frame_equal(_stored_samples(tmp_path / "reference"), expected)

        rng = random.Random(20261125)
        kills = part_synced = rounds = 0
        # at least KILLS_DURING_COLLECT kills, and more (up to 4x) until a third of them found
        # the store part-synced: a kill during the scan or the connection finds it empty
        while kills < KILLS_DURING_COLLECT or (
            part_synced < KILLS_DURING_COLLECT // 3 and kills < 4 * KILLS_DURING_COLLECT
        ):
            rounds += 1
            home = tmp_path / f"round{rounds}"
            for _ in range(20):  # kill, restart, ... until a run completes
                # the first ~quarter of a sync is start-up, scan and connection
                ended = server.run(home, kill_after_s=rng.uniform(0.25 * run_s, run_s))
                assert ended in ("signal 9", "exit 0"), ended
                _assert_catalog_matches_files(home)
                stored = _stored_samples(home)
                if ended == "exit 0":
                    pd.testing.assert_frame_equal(stored, expected, obj=f"round {rounds}")
                    break
                kills += 1
                if stored is not None:  # a prefix of the device's records, each once
                    n = len(stored)
                    part_synced += 0 < n < len(expected)
                    pd.testing.assert_frame_equal(stored, expected.iloc[:n], obj=f"kill {kills}")
            else:
                raise AssertionError(f"round {rounds}: no run completed in 20 starts")
            shutil.rmtree(home)
    finally:
        server.close()
    assert part_synced >= KILLS_DURING_COLLECT // 3, f"only {part_synced} kills landed mid-sync"
    print(
        f"\ncollector: {kills} SIGKILLs in {rounds} rounds, {part_synced} of them with the store "
        f"part-synced; every restart resumed, each round ended with all {len(expected)} samples "
        f"exactly once (an uninterrupted sync took {run_s:.2f} s)"
    )
