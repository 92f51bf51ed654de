"""The collector against the virtual wearable: two real bumble stacks on a virtual link.

The central side is driven only through the collector's public entry points (which use bleak's
public API with psoas's bumble backend); the peripheral is the virtual wearable, a bumble GATT
server. Real HCI/ATT/GATT packets cross the link; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sensors.ble.adapters import parse_adapter
from sensors.ble.collector import (
    CollectorError,
    FootpodCollector,
    ImuCollector,
    SessionReport,
    choose,
    collect_devices,
    scan,
)
from sensors.ble.profiles import uuids
from sensors.ble.profiles.imu import ImuBatch, encode_batch
from sensors.ble.wearable import VirtualWearable, WearableOptions, wearable_from_simulation
from sensors.simulate import simulate_day
from sensors.store import Store

DAY = dt.date(2026, 11, 20)
_links = itertools.count()


def run(coro, timeout_s: float = 240.0):
    """Run an async test body with a hard time limit."""
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


def simulated(minutes: float | None, *, rate_hz: float = 50.0, packet_loss: float = 0.0, seed=3):
    sim = simulate_day(DAY, rate_hz=rate_hz, tz="UTC", seed=seed, packet_loss=packet_loss)
    if minutes is not None:
        sim.samples = sim.samples.iloc[: int(minutes * 60 * rate_hz)].reset_index(drop=True)
    return sim


async def sync(
    store: Store,
    wearable: VirtualWearable,
    *,
    live_s: float | None = None,
    delete: bool = True,
    scan_s: float = 2.0,
    **collector_options,
) -> SessionReport:
    """Start ``wearable`` on a fresh link, run the collector once (``collector_options`` go to
    :class:`ImuCollector`), stop the wearable (a later ``sync`` restarts it: a power cycle)."""
    link = f"bumble:link:collector-test-{next(_links)}"
    await wearable.start(link)
    adapter = parse_adapter(link)
    try:
        found = choose(await scan(adapter, scan_s), wearable.options.name)
        collector = ImuCollector(
            store, adapter, found, tz="UTC", delete_after_sync=delete, **collector_options
        )
        return await collector.run(live_s)
    finally:
        await adapter.close()
        await wearable.stop()


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "store") as s:
        yield s


def test_scan_finds_the_wearable_by_name_and_service_uuid():
    async def body():
        wearable = wearable_from_simulation(simulated(1), WearableOptions(name="psoas-scan"))
        link = "bumble:link:collector-scan"
        await wearable.start(link)
        adapter = parse_adapter(link)
        try:
            found = await scan(adapter, 2.0)
        finally:
            await adapter.close()
            await wearable.stop()
        return found

    found = run(body())
    assert [(f.name, f.kind) for f in found] == [("psoas-scan", "imu")]
    assert found[0].rssi is not None
    with pytest.raises(CollectorError, match="not found"):
        choose(found, "someone-else")


def test_full_day_of_offline_records_syncs_bit_for_bit(store):
    """A 50 Hz six-axis day: what the wearable logged is what the store holds, exactly."""
    wearable = wearable_from_simulation(simulated(None), WearableOptions(name="psoas-day"))
    expected = wearable.records.to_frame()
    assert len(expected) >= 4_300_000
    report = run(sync(store, wearable))
    stored = store.read_samples(report.device_id)
    pd.testing.assert_frame_equal(stored, expected)
    assert store.cursor(report.device_id) == int(expected["seq"].iloc[-1])
    assert report.gaps == 0 and report.reconnects == 0
    assert report.deleted_on_device == len(expected) and wearable.records.samples == 0
    assert report.clock_offset_ns == pytest.approx(-0.8e9, abs=0.05e9)


def test_sync_and_streaming_survive_ten_link_drops(store):
    """Every sample the device held, offline and live, is stored once; cursor at the last."""
    options = WearableOptions(name="psoas-drops", drop_link_every_s=0.5)
    wearable = wearable_from_simulation(simulated(240), options)
    report = run(sync(store, wearable, live_s=6.0, delete=False))
    expected = wearable.records.to_frame()  # the offline log plus what was sampled live
    stored = store.read_samples(report.device_id)
    assert wearable.dropped_links >= 10, wearable.dropped_links
    assert report.reconnects >= 10
    assert stored["seq"].is_unique
    assert wearable.live_batches > 0
    pd.testing.assert_frame_equal(stored, expected)
    assert store.cursor(report.device_id) == wearable.records.last_seq


def test_samples_the_device_lost_are_gaps_never_invented(store):
    sim = simulated(60, packet_loss=0.01)
    last_seq = sim.samples["seq"].iloc[-1]
    lost = sim.truth.lost_packets  # of the whole day: keep the hour that was kept
    lost = lost[lost["first_missing_seq"] < last_seq]
    assert len(lost) > 0
    wearable = wearable_from_simulation(sim, WearableOptions(name="psoas-gaps"))
    expected = wearable.records.to_frame()
    report = run(sync(store, wearable))
    stored = store.read_samples(report.device_id)
    pd.testing.assert_frame_equal(stored, expected)
    gaps = store.read_table("gaps")
    # consecutive lost packets are one gap in the store
    runs = lost.sort_values("first_missing_seq")
    merged = (
        runs["first_missing_seq"].iloc[1:].to_numpy()
        != (runs["first_missing_seq"] + runs["missing_count"]).iloc[:-1].to_numpy()
    )
    assert len(gaps) == 1 + int(merged.sum())
    assert gaps["missing_count"].sum() == lost["missing_count"].sum()
    assert set(gaps["first_missing_seq"]) <= set(lost["first_missing_seq"])


def test_radio_losses_duplicates_and_reordering_are_repaired(store):
    options = WearableOptions(
        name="psoas-faults", lose_packets=0.02, duplicate_packets=0.02, reorder_packets=0.02
    )
    wearable = wearable_from_simulation(simulated(60), options)
    expected = wearable.records.to_frame()
    report = run(sync(store, wearable))
    assert wearable.faults.lost > 0 and wearable.faults.duplicated > 0
    assert wearable.faults.reordered > 0
    pd.testing.assert_frame_equal(store.read_samples(report.device_id), expected)
    assert report.gaps == 0
    assert report.counters.duplicate_batches > 0


class HostileWearable(VirtualWearable):
    """A wearable whose firmware misbehaves: every few batches it also sends a bad packet."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.bad_packets = 0
        self._count = 0

    async def _send_imu(self, session, faults, batch: ImuBatch) -> None:
        self._count += 1
        if self._count % 7 == 0:
            good = encode_batch(batch)
            hostile = [
                good[:20],  # truncated header
                good + b"\x00" * 12,  # length does not match the count
                good[:2] + bytes([255]) + good[3:],  # count claims 255 samples
                b"\xff" * 40,  # garbage
                _with_time(batch, 5_000_000_000_000_000),  # the year 2128
                _with_seq(batch, max(0, batch.first_seq - 400)),  # seq going backwards
            ]
            for payload in hostile:
                if session.closed:
                    return
                await self._notify(session, self._data_char, payload)
                self.bad_packets += 1
        await super()._send_imu(session, faults, batch)


def _with_time(batch: ImuBatch, t0_us: int) -> bytes:
    data = bytearray(encode_batch(batch))
    data[14:22] = t0_us.to_bytes(8, "little", signed=True)
    return bytes(data)


def _with_seq(batch: ImuBatch, first_seq: int) -> bytes:
    raw = np.full_like(batch.raw, 1234)  # different values under an old seq: must not win
    forged = ImuBatch(
        first_seq=first_seq,
        t0_us=batch.t0_us,
        period_ns=batch.period_ns,
        live=batch.live,
        acc_range_g=batch.acc_range_g,
        gyro_range_dps=batch.gyro_range_dps,
        raw=raw,
    )
    return encode_batch(forged)


def test_hostile_peer_cannot_crash_the_collector_or_corrupt_the_store(store):
    sim = simulated(20)
    honest = wearable_from_simulation(sim, WearableOptions(name="psoas-hostile"))
    wearable = HostileWearable(honest.options, records=honest.records)
    expected = wearable.records.to_frame()
    report = run(sync(store, wearable))
    assert wearable.bad_packets > 50
    pd.testing.assert_frame_equal(store.read_samples(report.device_id), expected)
    assert report.decode_errors + report.counters.duplicate_batches > 0
    assert report.decode_errors >= wearable.bad_packets * 5 // 6 - 10


def test_footpod_speed_cadence_and_stride_length_arrive_as_canonical_metrics(store):
    sim = simulate_day(DAY, rate_hz=25.0, tz="UTC", seed=11, evening_run=True)
    options = WearableOptions(kind="footpod", name="psoas-pod", stride_convention="step")

    async def body():
        wearable = wearable_from_simulation(sim, options)
        link = "bumble:link:collector-footpod"
        await wearable.start(link)
        adapter = parse_adapter(link)
        try:
            found = choose(await scan(adapter, 2.0), "psoas-pod")
            assert found.kind == "footpod"
            return await FootpodCollector(store, adapter, found, tz="UTC").run(14.0)
        finally:
            await adapter.close()
            await wearable.stop()

    report = run(body())
    assert report.stride_convention == "step"
    metrics = store.read_metrics(report.device_id)
    wide = metrics.pivot_table(index="t", columns="metric", values="value")
    assert {"speed_mps", "cadence_spm", "stride_length_m", "step_length_m"} <= set(wide.columns)
    moving = wide[wide["speed_mps"] > 1.0]
    assert len(moving) >= 8
    # two steps per stride, and speed = cadence (steps/min) / 60 x step length
    np.testing.assert_allclose(moving["stride_length_m"], 2 * moving["step_length_m"])
    implied = moving["cadence_spm"] / 60 * moving["step_length_m"]
    np.testing.assert_allclose(implied, moving["speed_mps"], rtol=0.1)
    assert uuids.RSC_SERVICE.startswith("00001814")


def test_thigh_imu_and_footpod_are_collected_at_once(store):
    """``psoas collect --device A --device B``: both devices, one adapter, concurrently."""
    pod_sim = simulate_day(DAY, rate_hz=25.0, tz="UTC", seed=11, evening_run=True)

    async def body():
        imu = wearable_from_simulation(simulated(30, rate_hz=25.0), WearableOptions(name="m-imu"))
        pod = wearable_from_simulation(pod_sim, WearableOptions(kind="footpod", name="m-pod"))
        expected = imu.records.to_frame()
        link = "bumble:link:collector-multi"
        for wearable in (imu, pod):
            await wearable.start(link)
        adapter = parse_adapter(link)
        try:
            reports = await collect_devices(
                store, adapter, ["m-imu", "m-pod"], tz="UTC", live_s=5.0, scan_timeout_s=2.0
            )
        finally:
            await adapter.close()
            await imu.stop()
            await pod.stop()
        return reports, expected

    reports, expected = run(body())
    by_kind = {r.kind: r for r in reports}
    assert set(by_kind) == {"imu", "footpod"}
    stored = store.read_samples(by_kind["imu"].device_id)
    pd.testing.assert_frame_equal(stored.iloc[: len(expected)], expected)
    assert len(stored) > len(expected)  # and the live samples after the sync
    assert by_kind["footpod"].metric_rows > 0
    assert len(store.read_metrics(by_kind["footpod"].device_id)) == by_kind["footpod"].metric_rows
