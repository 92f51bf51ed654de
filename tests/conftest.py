"""Shared fixtures: real stores on disk in temporary folders, and canonical sample frames."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

from sensors.store import DeviceInfo, RecordingInfo, Store

# CI runs the same examples every time (a landing run must not depend on luck); a developer's
# run explores new ones. Failures print the example to reproduce it either way.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
T0_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z


def imu_frame(
    n: int, *, seq0: int = 0, t0_ns: int = T0_NS, rate_hz: float = 100.0, gyro: bool = True
) -> pd.DataFrame:
    """A canonical IMU frame of ``n`` samples with reproducible values."""
    rng = np.random.default_rng(seq0 + n)
    seq = np.arange(seq0, seq0 + n, dtype=np.int64)
    frame = {
        "t": t0_ns + (seq - seq0) * int(1e9 / rate_hz),
        "seq": seq,
        "ax": rng.normal(0.0, 0.1, n).astype(np.float32) + np.float32(1.0),
        "ay": rng.normal(0.0, 0.1, n).astype(np.float32),
        "az": rng.normal(0.0, 0.1, n).astype(np.float32),
    }
    if gyro:
        for c in ("gx", "gy", "gz"):
            frame[c] = rng.normal(0.0, 20.0, n).astype(np.float32)
    return pd.DataFrame(frame)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(home: Path):
    with Store.open(home) as s:
        yield s


@pytest.fixture
def recording() -> RecordingInfo:
    return RecordingInfo(DeviceInfo("imu1", tz="Europe/Berlin", placement="thigh"), source="test")


def mutate_bytes(data: bytes, kind: str, where: float, value: int) -> bytes:
    """A fuzzing mutation of ``data``: ``truncate`` at the fraction ``where`` of its length, or
    ``flip`` bits of the byte there (``value`` picks which)."""
    buf = bytearray(data)
    pos = int(where * (len(buf) - 1))
    if kind == "truncate":
        return bytes(buf[:pos])
    if kind == "flip":
        buf[pos] ^= (value % 255) + 1
        return bytes(buf)
    raise ValueError(f"unknown mutation {kind!r}")


def shared_file(relative: str) -> Path:
    """A file of ../shared/data; missing is a failure under CI, a skip on a developer machine."""
    path = SHARED_DATA / relative
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing: CI needs ../shared/data beside the repository")
        pytest.skip(f"{path} is not available on this machine")
    return path


def tree_snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``root`` with its size and content (for exactly-as-it-was checks)."""
    snap = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file():
            if path.name.endswith(("-wal", "-shm")) or path.name in ("lock", "catalog.sqlite"):
                continue  # the catalog is compared logically (catalog_dump), the lock is no data
            snap[rel] = (path.stat().st_size, path.read_bytes())
        else:
            snap[rel] = (-1, b"")
    return snap


def catalog_dump(root: Path) -> list[str]:
    """The catalog's full logical content as SQL statements."""
    conn = sqlite3.connect(root / "catalog.sqlite")
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def catalog_count(root: Path, sql: str) -> int:
    """The single number ``sql`` selects from the store's catalog (a COUNT or SUM)."""
    conn = sqlite3.connect(root / "catalog.sqlite")
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def routine_log_rows(root: Path) -> int:
    """How many rows the store's routine log holds (every version counts)."""
    return catalog_count(root, "SELECT COUNT(*) FROM routine_log")
