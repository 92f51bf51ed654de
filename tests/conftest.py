"""Shared fixtures: real stores on disk in temporary folders, and canonical sample frames."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
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
PSOAS = str(Path(sys.executable).with_name("psoas"))
BROWSER_WAIT_S = 30
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


# -- the dashboard in a real browser (tests/test_dashboard_browser.py, tests/test_soak.py) ------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_dashboard(
    home: Path, *args: str, host: str = "127.0.0.1"
) -> tuple[subprocess.Popen, str]:
    """``psoas dashboard`` on ``home`` in its own process; returns it and its URL once it
    accepts connections."""
    port = free_port()
    proc = subprocess.Popen(
        [PSOAS, "--home", str(home), "dashboard", "--host", host, "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return proc, url
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(f"psoas dashboard exited: {proc.stdout.read()}") from None
            time.sleep(0.3)
    proc.kill()
    raise AssertionError("psoas dashboard did not start within 60 s")


def stop_process(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """A headless Chromium (Debian's chromium + chromium-driver) through Selenium, one per
    test module; its performance and console logs are recorded."""
    from benchmarks.browser import headless_chromium

    driver = headless_chromium(logs=True)
    yield driver
    driver.quit()


def open_page(browser, url: str) -> None:
    """Load ``url`` and wait until the dashboard's shell (``#main``) is there."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    WebDriverWait(browser, BROWSER_WAIT_S).until(lambda d: d.find_elements(By.ID, "main"))


def element_text(browser, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, element_id).text


def wait_text(browser, element_id: str, predicate, timeout_s: float = BROWSER_WAIT_S) -> str:
    """The text of ``element_id`` once ``predicate`` holds for it (within ``timeout_s``)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout_s).until(lambda d: predicate(element_text(d, element_id)))
    return element_text(browser, element_id)
