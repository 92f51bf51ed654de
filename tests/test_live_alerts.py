"""Live sitting-streak alerts: the detector on raw batches, and through a real Bluetooth link.

The link test runs the virtual wearable (a bumble GATT server) and the collector (bleak on
psoas's bumble backend) on one virtual link: real packets, real time. The wearable's log holds
the start of a sitting streak that reaches 30 minutes a few seconds into live streaming.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pandas as pd
import pytest

from analysis.alerts import LiveSittingAlerts
from analysis.day import SittingSettings, analyze_imu_day
from analysis.sitting import AlertRules, BoutRules
from psoas.live_alerts import LiveAlertPrinter
from sensors.ble.adapters import parse_adapter
from sensors.ble.collector import collect_devices
from sensors.ble.wearable import WearableOptions, wearable_from_simulation
from sensors.simulate import GroundTruth, SimulatedRecording, simulate_day
from sensors.store import Store
from sensors.timeutil import day_bounds_ns

NS = 1_000_000_000
RATE_HZ = 50.0


def test_live_detector_on_random_batches_equals_one_batch_and_the_day_analysis():
    day = simulate_day("2026-03-10", placement="thigh", rate_hz=25.0, seed=8, tz="UTC")
    start, end = day_bounds_ns(pd.Timestamp("2026-03-10").date(), "UTC")
    rules = SittingSettings(BoutRules(min_break_steps=None), AlertRules(20 * 60, 10 * 60))

    whole = LiveSittingAlerts("thigh", rules.bouts, rules.alerts).feed(day.samples)
    detector = LiveSittingAlerts("thigh", rules.bouts, rules.alerts)
    cuts = np.sort(np.random.default_rng(1).choice(len(day.samples), 400, replace=False))
    raised = []
    for a, b in zip([0, *cuts], [*cuts, len(day.samples)], strict=True):
        raised += detector.feed(day.samples.iloc[a:b])
    assert len(whole) > 3 and raised == whole  # exactly, however the samples are batched

    # The day analysis also calibrates and learns the orientation (live cannot): same alerts,
    # within a second or two.
    analysed = analyze_imu_day(day.samples, "thigh", start, end, rules).alerts["t"].to_numpy()
    assert len(analysed) == len(raised)
    assert np.abs(analysed - np.array([a.t for a in raised])).max() <= 2 * NS


def _thigh(t_ns: np.ndarray, sitting: np.ndarray, seed: int) -> pd.DataFrame:
    """Thigh samples: x up when upright, the front (z) up when sitting; 0.02 g noise."""
    rng = np.random.default_rng(seed)
    n = len(t_ns)
    acc = np.where(sitting[:, None], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]) + rng.normal(0, 0.02, (n, 3))
    gyro = rng.normal(0, 0.5, (n, 3))
    frame = {"t": t_ns, "seq": np.arange(n, dtype=np.int64)}
    for i, axis in enumerate("xyz"):
        frame["a" + axis] = acc[:, i].astype(np.float32)
        frame["g" + axis] = gyro[:, i].astype(np.float32)
    return pd.DataFrame(frame)


def _history(now_ns: int, bout_start_ns: int) -> SimulatedRecording:
    """35 minutes logged on the wearable up to ``now_ns``: upright, then sitting from
    ``bout_start_ns``."""
    t = now_ns - np.arange(int(35 * 60 * RATE_HZ), 0, -1, dtype=np.int64) * int(NS / RATE_HZ)
    empty = pd.DataFrame()
    truth = GroundTruth(empty, empty, empty, empty)
    return SimulatedRecording(
        "history", "thigh", RATE_HZ, "UTC", None, _thigh(t, t >= bout_start_ns, 1), truth
    )


def _sitting_live_source():
    for chunk in range(1000):
        t = np.arange(int(10 * RATE_HZ), dtype=np.int64)
        yield _thigh(t, np.ones(len(t), bool), 100 + chunk)


@pytest.mark.timeout(180)
def test_collect_live_alerts_print_within_two_seconds_of_the_threshold(tmp_path, capsys):
    now_ns = time.time_ns()
    due_ns = now_ns + 12 * NS  # the streak reaches 30 min 12 s after the log ends
    bout_start_ns = due_ns - 30 * 60 * NS
    wearable = wearable_from_simulation(
        _history(now_ns, bout_start_ns),
        WearableOptions(name="alert-imu", clock_offset_s=0.0, live_batch_s=0.2),
        live_source=_sitting_live_source,
    )
    raised_at: list[int] = []

    class TimedPrinter(LiveAlertPrinter):
        def _raise(self, device_id, alert):
            raised_at.append(time.time_ns())
            super()._raise(device_id, alert)

    async def body(store: Store):
        link = "bumble:link:live-alerts"
        await wearable.start(link)
        adapter = parse_adapter(link)
        printer = TimedPrinter(store)
        try:
            await collect_devices(
                store,
                adapter,
                ["alert-imu"],
                tz="UTC",
                placement="thigh",
                live_s=20.0,
                scan_timeout_s=2.0,
                on_batch=printer,
                commit_every_s=0.5,
            )
        finally:
            await adapter.close()
            await wearable.stop()
        return printer

    with Store.open(tmp_path / "store") as store:
        printer = asyncio.run(asyncio.wait_for(body(store), 150))
        stored = store.read_table("alerts")
    assert len(printer.raised) == 1
    _, alert = printer.raised[0]
    assert abs(alert.t - due_ns) <= 2 * NS, (alert.t - due_ns) / NS  # where the data says
    latency_s = (raised_at[0] - alert.t) / NS  # device clock = this clock (offset 0)
    printed = capsys.readouterr().out
    assert "sitting for 30 min" in printed
    with capsys.disabled():
        print(f"\nlive alert printed {latency_s:.2f} s after the streak reached 30 min")
    assert 0 <= latency_s <= 2.0
    assert stored["source"].tolist() == ["live"] and stored["t"].tolist() == [alert.t]
