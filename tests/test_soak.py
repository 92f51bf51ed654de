"""Soak: a 30-minute accelerated live stream from three 100 Hz wearables with the dashboard open.

Three virtual IMU wearables (bumble GATT peripherals: two on the thigh, one on the lower back) on
one in-process bumble link stream live to the real collector (``collect_devices``, the code path
of ``psoas collect --live --live-alerts``: one bleak adapter, commits every 0.5 s) into a real
store in ``tmp_path``. Their clocks run ``PSOAS_SOAK_SPEEDUP`` times faster than the host's
(``WearableOptions.time_scale``), so ``PSOAS_SOAK_MINUTES`` of device time (default 30 min, so
180,000 samples per device) stream in ``minutes / speedup`` wall minutes. Meanwhile
``psoas dashboard`` serves the same store in its own process, and a headless Chromium shows the
Day page, whose live banner polls the store every 2 s; the test switches the page's device
between the three wearables and reads the banner.

What must hold:

- **Commit latency < 2 s.** The collector's own instrument (``SessionReport.live_commits``),
  per live commit: from the arrival of its earliest notification to the end of its store
  transaction; its maximum must stay under 2 s. The test also measures end to end, from the
  moment a commit's oldest sample was *measured* (its device time, read back on the device
  clock) to the ``on_batch`` call after the durable commit. That measure also includes the
  wearable's sampler, its queue and the two bumble stacks, which all run in the same Python
  process and event loop as the collector. Its 95th percentile must stay under 2 s and its
  maximum is printed.
- **Memory flat.** The RSS of the test process is sampled every 0.5 s while all three
  devices stream. That process holds the collector and both bumble stacks (the wearables and
  their logs, which the collector frees on the device every 5 s), plus pytest and the Selenium
  client. The median of the last third may exceed the median of the first third by at most
  ``RSS_GROWTH_LIMIT_MB``: holding on to the committed samples (40 bytes each in the canonical
  frame, about 360,000 of them between the two thirds) would add about 14 MB. The dashboard
  process is measured too, with a looser bound, ``DASHBOARD_GROWTH_LIMIT_MB``, scaled with the
  soak's length. The banner reads the whole streak in progress (up to 30 min × 100 Hz) every 2 s
  by design, so its working set grows with the streak.
- **Exactly once.** Each device's seq counter, with nothing missing and nothing twice: what
  is in the store, followed by what the device still holds (samples taken after the last commit).
  Every ``t`` is exactly 10 ms after the one before, over the whole span of device time.
- **The banner followed the live devices.** It named every device, and the streak it showed
  grew.

A longer soak on demand (2 h of device time in about 4 minutes; the timeout follows)::

    PSOAS_SOAK_MINUTES=120 PSOAS_SOAK_SPEEDUP=30 pytest tests/test_soak.py -s

The default speed-up is ×30. On this 2-core machine, three devices at ×30 use about 30 % of one
core. ×60 used about 50 % in a short trial, but the live queues overran when other jobs loaded
the machine. ×120 could not keep up. Each run prints its numbers (use ``-s`` to see them).
The results so far, including a long run that exceeded the latency bound once, are in
``docs/reliability.md`` (Soak).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

from sensors.ble.adapters import parse_adapter
from sensors.ble.collector import SessionReport, ble_device_id, collect_devices
from sensors.ble.wearable import VirtualWearable, WearableOptions
from sensors.errors import UsageError
from sensors.store import Store
from tests.conftest import (
    catalog_count,
    element_text,
    open_page,
    serve_dashboard,
    stop_process,
    wait_text,
)

SOAK_MINUTES = float(os.environ.get("PSOAS_SOAK_MINUTES", "30"))
SPEEDUP = float(os.environ.get("PSOAS_SOAK_SPEEDUP", "30"))
LIVE_S = SOAK_MINUTES * 60 / SPEEDUP
RATE_HZ = 100.0
PERIOD_NS = 10_000_000
DEVICES = (("soak-thigh-a", "thigh"), ("soak-thigh-b", "thigh"), ("soak-back", "lower_back"))
COMMIT_EVERY_S = 0.5  # psoas collect --live-alerts
LATENCY_LIMIT_S = 2.0
RSS_GROWTH_LIMIT_MB = 10.0
DASHBOARD_GROWTH_LIMIT_MB = 150.0 * max(1.0, SOAK_MINUTES / 30)  # it reads the whole streak
MB = 2**20

# the gravity direction (x, y, z in g) of each placement while sitting: thigh level (front up),
# trunk reclined 20 degrees backwards
SITTING_G = {"thigh": (0.0, 0.0, 1.0), "lower_back": (0.94, 0.0, 0.34)}


def _sitting_source(placement: str, seed: int):
    """Live samples of a person sitting still, a minute at a time (the device stamps t, seq)."""

    def frames():
        rng = np.random.default_rng(seed)
        n = int(60 * RATE_HZ)
        while True:
            acc = np.asarray(SITTING_G[placement]) + rng.normal(0.0, 0.02, (n, 3))
            gyro = rng.normal(0.0, 0.5, (n, 3))
            values = np.hstack([acc, gyro]).astype(np.float32)
            yield pd.DataFrame(values, columns=["ax", "ay", "az", "gx", "gy", "gz"])

    return frames


class _RssSampler(threading.Thread):
    """RSS (MB) of this process and of the dashboard (with its children) every ``every_s``."""

    def __init__(self, dashboard_pid: int, every_s: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.every_s = every_s
        self.here = psutil.Process()
        self.dashboard = psutil.Process(dashboard_pid)
        self.samples: list[tuple[float, float, float]] = []  # (monotonic s, here MB, dash MB)
        self.recording = threading.Event()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every_s):
            if self.recording.is_set():
                self.samples.append((time.monotonic(), self._rss(self.here), self._tree()))

    @staticmethod
    def _rss(proc: psutil.Process) -> float:
        try:
            return proc.memory_info().rss / MB
        except psutil.Error:
            return 0.0

    def _tree(self) -> float:
        procs = [self.dashboard]
        with contextlib.suppress(psutil.Error):
            procs += self.dashboard.children(recursive=True)
        return sum(self._rss(p) for p in procs)


def _thirds(values: list[float]) -> tuple[float, float]:
    third = max(1, len(values) // 3)
    return statistics.median(values[:third]), statistics.median(values[-third:])


def _show_device(browser, device_id: str) -> None:
    """Pick ``device_id`` in the page's device selector (Dash's ``set_props``: the same
    callbacks a click in the dropdown fires)."""
    browser.execute_script(
        "window.dash_clientside.set_props('device', {value: arguments[0]});", device_id
    )


def _banner_minutes(text: str) -> float:
    minutes, rest = text.split("sitting for ")[1].split(" min ")
    return int(minutes) + int(rest.split(" s")[0]) / 60


@pytest.mark.timeout(LIVE_S + 300)
def test_soak_three_wearables_at_100_hz_with_the_dashboard_open(tmp_path: Path, browser):
    home = tmp_path / "soak"
    Store.open(home).close()
    wearables = [
        VirtualWearable(
            WearableOptions(
                name=name,
                placement=placement,
                rate_hz=RATE_HZ,
                live_batch_s=1.0,  # device-seconds per batch: one every 1/SPEEDUP s of wall
                time_scale=SPEEDUP,
                seed=i,
                tz="UTC",
            ),
            live_source=_sitting_source(placement, seed=i),
        )
        for i, (name, placement) in enumerate(DEVICES)
    ]
    ids = {ble_device_id(w.options.name, w.address): w for w in wearables}
    e2e: dict[str, list[float]] = {d: [] for d in ids}
    skew_before: dict[str, int] = {}
    reports: list[SessionReport] = []
    failure: list[BaseException] = []

    def on_batch(device_id: str, frame: pd.DataFrame, live: bool) -> None:
        # called in the collector's loop right after the commit: the oldest sample's age, in
        # wall seconds, read on the device clock that stamped it
        if live:
            w = ids[device_id]
            age_ns = w.device_time_ns() - int(frame["t"].iloc[0])
            e2e[device_id].append(age_ns / 1e9 / SPEEDUP)

    async def collect() -> None:
        link = "bumble:link:soak"
        for w in wearables:
            await w.start(link)
        adapter = parse_adapter(link)
        try:
            with Store.open(home) as store:
                for device_id, w in ids.items():
                    skew_before[device_id] = w.device_time_ns() - time.time_ns()
                reports.extend(
                    await collect_devices(
                        store,
                        adapter,
                        [name for name, _ in DEVICES],
                        tz="UTC",
                        live_s=LIVE_S,
                        scan_timeout_s=2.0,
                        on_batch=on_batch,
                        commit_every_s=COMMIT_EVERY_S,
                    )
                )
        finally:
            await adapter.close()
            for w in wearables:
                await w.stop()

    def run_collector() -> None:
        try:
            asyncio.run(collect())
        except BaseException as exc:  # reported by the main thread
            failure.append(exc)

    proc, url = serve_dashboard(home)
    rss = _RssSampler(proc.pid)
    rss.start()
    collector = threading.Thread(target=run_collector, daemon=True)
    started = time.monotonic()
    collector.start()
    banners: dict[str, list[float]] = {d: [] for d in ids}
    try:
        # all three are streaming once each has committed: then the page lists them
        deadline = time.monotonic() + 60
        while catalog_count(home, "SELECT COUNT(DISTINCT device_id) FROM parts") < len(ids):
            assert time.monotonic() < deadline and not failure, failure or "no live commits"
            time.sleep(0.2)
        rss.recording.set()
        open_page(browser, url + "/")
        wait_text(browser, "live-banner", lambda t: "sitting for" in t)
        while collector.is_alive():
            for device_id in ids:
                _show_device(browser, device_id)
                try:
                    text = wait_text(
                        browser, "live-banner", lambda t, d=device_id: d in t and "sitting" in t, 10
                    )
                except Exception:
                    if not collector.is_alive():
                        break  # the stream ended while switching
                    raise
                banners[device_id].append(_banner_minutes(text))
                time.sleep(1.0)
            collector.join(0.0)
        live_banner = element_text(browser, "live-banner")
    finally:
        rss.recording.clear()
        rss.done.set()
        collector.join(120)
        stop_process(proc)
    wall_s = time.monotonic() - started
    assert not failure, failure
    assert len(reports) == len(ids)

    # -- exactly once, over the whole span of device time
    checked = 0
    with Store.open(home) as store:
        for report in reports:
            w = ids[report.device_id]
            stored = store.read_samples(report.device_id, columns=["t", "seq"])
            kept_from = w.records.first_seq if w.records.samples else w.next_seq
            seq = stored["seq"].to_numpy()
            assert np.array_equal(seq, np.arange(kept_from)), report.device_id
            assert w.records.samples == w.next_seq - kept_from  # the rest is still on the device
            assert report.deleted_on_device == kept_from  # freed on the device once committed
            assert (np.diff(stored["t"].to_numpy()) == PERIOD_NS).all()
            span_min = (stored["t"].iloc[-1] - stored["t"].iloc[0]) / 60e9
            assert span_min >= 0.95 * SOAK_MINUTES, span_min
            assert report.gaps == 0 and report.reconnects == 0
            # the offset estimate is the device clock's skew at the read (running fast)
            skew_after = w.device_time_ns() - time.time_ns()
            assert -skew_after <= report.clock_offset_ns <= -skew_before[report.device_id]
            checked += len(stored)

    # -- commit latency
    latencies = [x for r in reports for x in r.live_commits.recent_latency_s]
    ends = [x for series in e2e.values() for x in series]
    latency_max = max(r.live_commits.latency_max_s for r in reports)
    p95 = float(np.percentile(latencies, 95))
    e2e_max, e2e_p95 = max(ends), float(np.percentile(ends, 95))

    # -- memory
    here = [s[1] for s in rss.samples]
    dash = [s[2] for s in rss.samples]
    here_first, here_last = _thirds(here)
    dash_first, dash_last = _thirds(dash)

    print(
        f"\nsoak: {SOAK_MINUTES:g} min of device time at x{SPEEDUP:g} in {wall_s:.0f} s wall; "
        f"{checked:,} samples checked; {sum(r.live_commits.commits for r in reports)} live "
        f"commits: latency max {latency_max:.3f} s, p95 {p95:.3f} s; sample-to-durable max "
        f"{e2e_max:.3f} s, p95 {e2e_p95:.3f} s; commit write max "
        f"{max(r.live_commits.duration_max_s for r in reports):.3f} s\n"
        f"soak: RSS collector process {here_first:.1f} -> {here_last:.1f} MB (median of first "
        f"-> last third, {len(here)} samples, max {max(here):.1f}); dashboard "
        f"{dash_first:.1f} -> {dash_last:.1f} MB (max {max(dash):.1f}); banner minutes "
        f"{ {d[-4:]: (min(v), max(v)) for d, v in banners.items() if v} }"
    )
    assert latency_max < LATENCY_LIMIT_S
    assert e2e_p95 < LATENCY_LIMIT_S  # its max is printed: it includes the device and the radio
    assert len(here) >= 10
    assert here_last - here_first <= RSS_GROWTH_LIMIT_MB
    assert dash_last - dash_first <= DASHBOARD_GROWTH_LIMIT_MB

    # -- the banner followed every live device, and the streak it showed grew
    for device_id, minutes in banners.items():
        assert minutes, f"the banner never showed {device_id}"
    assert max(max(v) for v in banners.values()) >= 0.5 * SOAK_MINUTES
    assert all(v[-1] >= v[0] for v in banners.values())
    assert live_banner == "" or "sitting for" in live_banner


def test_time_scale_runs_the_device_clock_fast_and_is_validated():
    wearable = VirtualWearable(WearableOptions(time_scale=50.0, clock_offset_s=0.8))
    device0, host0 = wearable.device_time_ns(), time.time_ns()
    assert abs(device0 - host0 - 0.8e9) < 0.5e9  # just created: host + offset
    time.sleep(0.2)
    device1, host1 = wearable.device_time_ns(), time.time_ns()
    assert 45 < (device1 - device0) / (host1 - host0) < 55
    real = VirtualWearable(WearableOptions(clock_offset_s=0.8))
    assert abs(real.device_time_ns() - time.time_ns() - 0.8e9) < 0.05e9
    for bad in (0.0, -1.0, float("inf"), float("nan"), 1001.0):
        with pytest.raises(UsageError, match="time_scale"):
            WearableOptions(time_scale=bad)
