"""Kill the writer (SIGKILL, a real subprocess) at random points; nothing may be lost or doubled."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sensors.store import Store
from tests.conftest import REPO, imu_frame
from tests.crash_worker import SYNC_DEVICE, sync_input

KILLS_DURING_SYNC = 20
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
        import sqlite3

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
    while real_kills < KILLS_DURING_SYNC:
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
