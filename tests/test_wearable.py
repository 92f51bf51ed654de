"""The virtual wearable against a real bumble central, packet for packet.

No mocks: the wearable is :class:`sensors.ble.wearable.VirtualWearable` (a bumble GATT server on
its own virtual controller); the central is a second, plain bumble ``Device`` on the same
``LocalLink`` (or, in one test, behind controllers served over local TCP by
``sensors.ble.virtual_link``), using bumble's GATT client: the two stacks exchange real HCI, LL,
L2CAP and ATT packets. Payloads are decoded with the profile codecs the collector uses.

Tests are sync functions driving ``asyncio.run`` under an overall timeout; each uses its own
link name so no state leaks between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import itertools
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from bumble.att import ATT_Error, ErrorCode
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device, Peer
from bumble.hci import Address
from bumble.host import Host
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink, Transport

from sensors.ble.adapters import local_link
from sensors.ble.profiles import uuids
from sensors.ble.profiles.imu import (
    NO_VALUE,
    ImuBatch,
    RacpOp,
    RacpResponse,
    RacpStatus,
    batches_to_frame,
    decode_batch,
    decode_config,
    decode_device_time,
    decode_racp_response,
    dequantize,
    encode_racp_request,
    frame_to_batches,
    max_samples_per_batch,
    quantize,
)
from sensors.ble.profiles.rsc import (
    FEATURE_STRIDE_LENGTH,
    FEATURE_TOTAL_DISTANCE,
    FEATURE_WALKING_RUNNING_STATUS,
    RscMeasurement,
    decode_rsc_feature,
    decode_rsc_measurement,
)
from sensors.ble.virtual_link import virtual_link
from sensors.ble.wearable import (
    VirtualWearable,
    WearableOptions,
    run_virtual_wearable,
    simulated_live_source,
    wearable_from_simulation,
)
from sensors.ble.wearable_records import RecordStore, slice_batch, split_batch
from sensors.errors import UsageError
from sensors.simulate import SimulatedRecording, simulate_day

DAY = dt.date(2026, 3, 3)  # a Tuesday
RATE_HZ = 50.0
MINUTES = 20
RACP_TIMEOUT_S = 10.0


def run(test: Callable[[], Awaitable[Any]], timeout_s: float = 30.0) -> Any:
    """Run one async test body in a fresh event loop, bounded by ``timeout_s``."""

    async def bounded() -> Any:
        async with asyncio.timeout(timeout_s):
            return await test()

    return asyncio.run(bounded())


def link_name() -> str:
    return f"wearable-test-{uuid.uuid4().hex[:12]}"


_DAY_CACHE: dict[str, SimulatedRecording] = {}


def simulated_minutes(minutes: float = MINUTES, *, start_h: float = 9.0) -> SimulatedRecording:
    """``minutes`` of a simulated 50 Hz thigh day from ``start_h`` o'clock (the day is cached)."""
    if "day" not in _DAY_CACHE:
        _DAY_CACHE["day"] = simulate_day(DAY, placement="thigh", rate_hz=RATE_HZ, seed=3)
    full = _DAY_CACHE["day"]
    first = int(start_h * 3600 * RATE_HZ)
    part = full.samples.iloc[first : first + int(minutes * 60 * RATE_HZ)].reset_index(drop=True)
    return dataclasses.replace(full, samples=part)


# --------------------------------------------------------------------------------------------
# A plain bumble central
# --------------------------------------------------------------------------------------------


class Central:
    """A bumble Device acting as GATT client: scan, connect, subscribe, RACP round trips."""

    def __init__(self, host: Host, address: str = "F0:F1:F2:F3:F4:F5") -> None:
        self.device = Device(name="central", address=Address(address), host=host)
        self.connection: Connection | None = None
        self.peer: Peer | None = None
        self.batches: list[ImuBatch] = []
        self.responses: asyncio.Queue[bytes] = asyncio.Queue()
        self.rsc: list[RscMeasurement] = []
        self.disconnected = asyncio.Event()

    @classmethod
    def on_link(cls, name: str) -> Central:
        controller = Controller("central", link=local_link(name))
        return cls(Host(controller, AsyncPipeSink(controller)))

    async def scan(self, service: str, timeout_s: float = 5.0) -> Any:
        """The first advertisement listing ``service`` (bumble Advertisement)."""
        await self.device.power_on()
        found: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_advertisement(advertisement: Any) -> None:
            listed = advertisement.data.get_all(
                AdvertisingData.Type.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS
            ) + advertisement.data.get_all(
                AdvertisingData.Type.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS
            )
            wanted = UUID(service)
            if any(wanted in group for group in listed) and not found.done():
                found.set_result(advertisement)

        self.device.on("advertisement", on_advertisement)
        await self.device.start_scanning()
        try:
            return await asyncio.wait_for(found, timeout_s)
        finally:
            await self.device.stop_scanning()

    async def connect(self, address: Address, mtu: int | None = 517) -> Peer:
        self.disconnected.clear()
        self.connection = await self.device.connect(address)
        self.connection.on("disconnection", lambda _reason: self.disconnected.set())
        self.peer = Peer(self.connection)
        if mtu is not None:
            await self.peer.request_mtu(mtu)
        await self.peer.discover_services()
        await self.peer.discover_characteristics()
        return self.peer

    def char(self, uuid_text: str) -> Any:
        assert self.peer is not None
        short = uuid_text.endswith("-0000-1000-8000-00805f9b34fb")
        key = UUID.from_16_bits(int(uuid_text[4:8], 16)) if short else UUID(uuid_text)
        found = self.peer.get_characteristics_by_uuid(key)
        assert found, f"characteristic {uuid_text} not found"
        return found[0]

    async def subscribe_imu(self) -> None:
        assert self.peer is not None
        await self.peer.subscribe(
            self.char(uuids.IMU_DATA), lambda v: self.batches.append(decode_batch(bytes(v)))
        )
        await self.peer.subscribe(
            self.char(uuids.IMU_RACP),
            lambda v: self.responses.put_nowait(bytes(v)),
            prefer_notify=False,
        )

    async def write_racp(self, data: bytes) -> None:
        assert self.peer is not None
        await self.peer.write_value(self.char(uuids.IMU_RACP), data, with_response=True)

    async def raw_response(self, timeout_s: float = RACP_TIMEOUT_S) -> bytes:
        return await asyncio.wait_for(self.responses.get(), timeout_s)

    async def response(self, timeout_s: float = RACP_TIMEOUT_S) -> RacpResponse:
        return decode_racp_response(await self.raw_response(timeout_s))

    async def racp(
        self, op: RacpOp | int, operand: int = 0, timeout_s: float = RACP_TIMEOUT_S
    ) -> RacpResponse:
        await self.write_racp(encode_racp_request(op, operand))
        return await self.response(timeout_s)

    async def read(self, uuid_text: str) -> bytes:
        assert self.peer is not None
        return bytes(await self.peer.read_value(self.char(uuid_text)))

    def frame(self) -> pd.DataFrame:
        return batches_to_frame(self.batches)


@contextlib.asynccontextmanager
async def session(
    wearable: VirtualWearable, *, mtu: int | None = 517, subscribe: bool = True
) -> AsyncIterator[Central]:
    """``wearable`` started on a fresh in-process link and a central connected to it."""
    name = link_name()
    await wearable.start(f"bumble:link:{name}")
    try:
        central = Central.on_link(name)
        service = uuids.RSC_SERVICE if wearable.options.kind == "footpod" else uuids.IMU_SERVICE
        advertisement = await central.scan(service)
        await central.connect(advertisement.address, mtu=mtu)
        if subscribe and wearable.options.kind == "imu":
            await central.subscribe_imu()
        yield central
    finally:
        await wearable.stop()


def imu_wearable(minutes: float = MINUTES, **options: Any) -> VirtualWearable:
    return wearable_from_simulation(simulated_minutes(minutes), WearableOptions(**options))


# --------------------------------------------------------------------------------------------
# RecordStore: pure logic
# --------------------------------------------------------------------------------------------


def _batches(frame: pd.DataFrame, n: int = 40) -> list[ImuBatch]:
    return frame_to_batches(frame, acc_range_g=16, gyro_range_dps=2000, rate_hz=50, max_samples=n)


def test_record_store_counts_iterates_and_deletes_by_seq() -> None:
    frame = simulated_minutes(1).samples  # 3000 samples
    frame = frame[(frame["seq"] % 1000) >= 100].reset_index(drop=True)  # two device-side gaps
    store = RecordStore(_batches(frame))
    seqs = frame["seq"].to_numpy()
    assert store.samples == len(frame)
    assert (store.first_seq, store.last_seq) == (int(seqs[0]), int(seqs[-1]))
    for probe in (0, int(seqs[0]), int(seqs[17]), int(seqs[1000]), int(seqs[-1]), 10**12):
        assert store.count_from(probe) == int((seqs >= probe).sum())
    mid = int(seqs[123])  # inside a batch
    parts = list(store.iter_from(mid, through=int(seqs[2000])))
    got = batches_to_frame(parts)
    want = store.to_frame()
    want = want[(want["seq"] >= mid) & (want["seq"] <= int(seqs[2000]))].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)
    assert all(b.count <= 40 for b in parts)

    full = store.to_frame()
    deleted = store.delete_through(mid)
    assert deleted == int((seqs <= mid).sum())
    assert store.first_seq == mid + 1
    pd.testing.assert_frame_equal(
        store.to_frame(), full[full["seq"] > mid].reset_index(drop=True), check_exact=True
    )
    assert store.delete_through(mid) == 0  # idempotent
    with pytest.raises(ValueError, match="does not come after"):
        store.add(_batches(frame.iloc[:5]))
    remaining = store.samples
    assert store.delete_through(10**12) == remaining
    assert store.samples == 0 and store.first_seq is None and store.count_from(0) == 0


def test_split_keeps_samples_and_times() -> None:
    batch = _batches(simulated_minutes(0.02).samples, 40)[0]
    parts = split_batch(batch, 7)
    assert [p.count for p in parts] == [7, 7, 7, 7, 7, 5]
    pd.testing.assert_frame_equal(batches_to_frame(parts), batches_to_frame([batch]))
    assert slice_batch(batch, 0) is batch
    with pytest.raises(ValueError):
        slice_batch(batch, 40)


def test_options_and_adapters_are_checked() -> None:
    with pytest.raises(UsageError, match="kind"):
        WearableOptions(kind="watch")
    with pytest.raises(UsageError, match="lose_packets"):
        WearableOptions(lose_packets=1.5)
    assert WearableOptions(kind="footpod").name == "psoas-footpod"
    assert WearableOptions(kind="footpod").placement == "foot"

    async def body() -> None:
        for bad in ("usb:0", "bumble:", "bumble:link:"):
            with pytest.raises(UsageError, match="adapter"):
                await VirtualWearable().start(bad)
        with pytest.raises(UsageError, match="transport"):
            await VirtualWearable().start("bumble:no-such-transport:1")

    run(body)


# --------------------------------------------------------------------------------------------
# IMU wearable over a real link
# --------------------------------------------------------------------------------------------


def test_advertises_name_and_service_and_serves_config_time_battery() -> None:
    wearable = imu_wearable(1)

    async def body() -> None:
        name = link_name()
        await wearable.start(f"bumble:link:{name}")
        try:
            central = Central.on_link(name)
            advertisement = await central.scan(uuids.IMU_SERVICE)
            data = advertisement.data
            assert data.get(AdvertisingData.Type.COMPLETE_LOCAL_NAME) == "psoas-imu"
            assert str(advertisement.address) == wearable.address
            maker = data.get(AdvertisingData.Type.MANUFACTURER_SPECIFIC_DATA)
            assert maker is not None
            await central.connect(advertisement.address)
            assert wearable.connections == 1 and wearable.connected == 1
            config = decode_config(await central.read(uuids.IMU_CONFIG))
            assert config.rate_hz == RATE_HZ and config.has_gyro and config.placement == "thigh"
            assert (config.acc_range_g, config.gyro_range_dps) == (16, 2000)
            assert config.max_batch_samples == max_samples_per_batch(517, True) == 40
            before = time.time_ns()
            device_us = decode_device_time(await central.read(uuids.DEVICE_TIME))
            after = time.time_ns()
            offset_ns = (before + after) // 2 - device_us * 1000
            assert abs(offset_ns + 800_000_000) < 50_000_000  # host - device = -0.8 s
            assert (await central.read(uuids.BATTERY_LEVEL))[0] == 87
        finally:
            await wearable.stop()

    run(body)


def test_send_twenty_minutes_bit_for_bit_then_delete() -> None:
    wearable = imu_wearable(MINUTES)
    stored = wearable.records.to_frame()
    first, last = int(stored["seq"].iloc[0]), int(stored["seq"].iloc[-1])
    assert len(stored) == MINUTES * 60 * RATE_HZ

    async def body() -> float:
        async with session(wearable) as central:
            count = await central.racp(RacpOp.REPORT_COUNT, 0)
            assert count == RacpResponse(RacpOp.REPORT_COUNT, RacpStatus.SUCCESS, len(stored), last)
            started = time.perf_counter()
            done = await central.racp(RacpOp.SEND, 0)
            elapsed = time.perf_counter() - started
            assert done == RacpResponse(RacpOp.SEND, RacpStatus.SUCCESS, len(stored), last)
            assert all(not b.live and b.count <= 40 for b in central.batches)
            pd.testing.assert_frame_equal(central.frame(), stored, check_exact=True)
            # the device clock: stored times are the simulator's plus the 0.8 s offset
            sim = simulated_minutes(MINUTES).samples
            shift = stored["t"].to_numpy() - sim["t"].to_numpy()
            assert np.abs(shift - 800_000_000).max() <= 20_000_000  # within one period (jitter)

            # SEND from inside a batch: exactly the samples from that seq on
            central.batches.clear()
            operand = first + 1234
            done = await central.racp(RacpOp.SEND, operand)
            assert (done.status, done.value1, done.value2) == (
                RacpStatus.SUCCESS,
                last - operand + 1,
                last,
            )
            want = stored[stored["seq"] >= operand].reset_index(drop=True)
            pd.testing.assert_frame_equal(central.frame(), want, check_exact=True)

            # DELETE through a seq inside a batch leaves exactly the rest
            cut = first + 30_017
            deleted = await central.racp(RacpOp.DELETE, cut)
            assert deleted == RacpResponse(
                RacpOp.DELETE, RacpStatus.SUCCESS, cut - first + 1, cut + 1
            )
            assert wearable.deleted_through == cut
            count = await central.racp(RacpOp.REPORT_COUNT, 0)
            assert (count.value1, count.value2) == (last - cut, last)
            central.batches.clear()
            done = await central.racp(RacpOp.SEND, 0)
            assert done.value1 == last - cut
            want = stored[stored["seq"] > cut].reset_index(drop=True)
            pd.testing.assert_frame_equal(central.frame(), want, check_exact=True)
            assert (await central.racp(RacpOp.SEND, last + 1)).status == RacpStatus.NO_RECORDS
            # deleting again (a collector's retry after a lost link) is harmless
            again = await central.racp(RacpOp.DELETE, cut)
            assert (again.status, again.value1, again.value2) == (RacpStatus.SUCCESS, 0, cut + 1)
            everything = await central.racp(RacpOp.DELETE, last)
            assert (everything.value1, everything.value2) == (last - cut, NO_VALUE)
            assert (await central.racp(RacpOp.SEND, 0)).status == RacpStatus.NO_RECORDS
            return elapsed

    elapsed = run(body, 60)
    print(f"SEND of {len(stored)} samples: {elapsed:.2f} s, {len(stored) / elapsed:.0f} samples/s")


def test_send_resplits_batches_for_a_small_mtu() -> None:
    wearable = imu_wearable(2)
    stored = wearable.records.to_frame()

    async def body() -> None:
        async with session(wearable, mtu=185) as central:
            limit = max_samples_per_batch(185, True)
            config = decode_config(await central.read(uuids.IMU_CONFIG))
            assert config.max_batch_samples == limit == 13
            done = await central.racp(RacpOp.SEND, 0)
            assert done.status == RacpStatus.SUCCESS
            assert max(b.count for b in central.batches) == limit
            pd.testing.assert_frame_equal(central.frame(), stored, check_exact=True)

    run(body)


def test_send_without_mtu_exchange_negotiates_one_itself() -> None:
    wearable = imu_wearable(0.5)
    stored = wearable.records.to_frame()

    async def body() -> None:
        async with session(wearable, mtu=None) as central:
            assert central.connection is not None and central.connection.att_mtu == 23
            done = await central.racp(RacpOp.SEND, 0)
            assert done.status == RacpStatus.SUCCESS
            assert central.connection.att_mtu == 517
            pd.testing.assert_frame_equal(central.frame(), stored, check_exact=True)

    run(body)


def test_busy_while_sending_and_abort() -> None:
    wearable = imu_wearable(180)  # ~3 s to send: plenty of time to be busy
    stored = wearable.records.to_frame()

    async def body() -> None:
        async with session(wearable) as central:
            await central.write_racp(encode_racp_request(RacpOp.SEND, 0))
            while len(central.batches) < 20:
                await asyncio.sleep(0.001)
            busy = await central.racp(RacpOp.REPORT_COUNT, 0)
            assert (busy.op, busy.status) == (RacpOp.REPORT_COUNT, RacpStatus.BUSY)
            assert (await central.racp(RacpOp.DELETE, 10**9)).status == RacpStatus.BUSY
            await central.write_racp(encode_racp_request(RacpOp.ABORT, 0))
            aborted = await central.response()
            assert (aborted.op, aborted.status) == (RacpOp.SEND, RacpStatus.ABORTED)
            ok = await central.response()
            assert (ok.op, ok.status) == (RacpOp.ABORT, RacpStatus.SUCCESS)
            got = central.frame()
            assert 0 < len(got) < len(stored)
            assert aborted.value1 >= len(got) and aborted.value2 >= got["seq"].iloc[-1]
            pd.testing.assert_frame_equal(got, stored.iloc[: len(got)], check_exact=True)
            assert wearable.records.samples == len(stored)  # busy DELETE deleted nothing
            assert (await central.racp(RacpOp.REPORT_COUNT, 0)).status == RacpStatus.SUCCESS

    run(body)


def test_malformed_racp_writes_get_error_indications() -> None:
    wearable = imu_wearable(0.5)

    async def body() -> None:
        async with session(wearable, subscribe=False) as central:
            # RACP indications not enabled: the write itself fails (as SIG RACPs do)
            with pytest.raises(ATT_Error) as caught:
                await central.write_racp(encode_racp_request(RacpOp.REPORT_COUNT, 0))
            assert caught.value.error_code == ErrorCode.CCCD_IMPROPERLY_CONFIGURED
            await central.subscribe_imu()
            cases = [
                (b"\x02\x00\x00", RacpOp.SEND, RacpStatus.INVALID_OPERAND),  # too short
                (encode_racp_request(RacpOp.SEND, 0) + b"\x00", RacpOp.SEND, None),  # too long
                (encode_racp_request(0x7E, 0), 0x7E, RacpStatus.NOT_SUPPORTED),
                (b"", 0, RacpStatus.NOT_SUPPORTED),
                (encode_racp_request(RacpOp.START_LIVE, 5), RacpOp.START_LIVE, None),
                (encode_racp_request(RacpOp.ABORT, 1), RacpOp.ABORT, None),
            ]
            for payload, op, status in cases:
                await central.write_racp(payload)
                raw = await central.raw_response()
                assert raw[0] == (int(op) | 0x80), payload.hex()
                assert raw[1] == (status or RacpStatus.INVALID_OPERAND), payload.hex()
            assert not wearable.sampling
            ok = await central.racp(RacpOp.REPORT_COUNT, 0)
            assert ok.status == RacpStatus.SUCCESS and ok.value1 == wearable.records.samples

    run(body)


def ramp_source(has_gyro: bool = True) -> Iterator[pd.DataFrame]:
    """Frames of a recognisable signal: ax counts up by 1/1024 g per sample."""
    k = 0
    while True:
        n = 37
        ax = ((k + np.arange(n)) % 4096) / 1024.0 - 2.0
        frame = {"ax": ax, "ay": np.full(n, 0.25), "az": np.full(n, -0.5)}
        if has_gyro:
            frame.update(gx=np.full(n, 10.0), gy=np.full(n, -20.0), gz=np.full(n, 0.0))
        yield pd.DataFrame(frame).astype("float32")
        k += n


def test_live_batches_continue_the_seq_and_are_logged() -> None:
    options = WearableOptions(live_batch_s=0.1)
    wearable = wearable_from_simulation(simulated_minutes(1), options, live_source=ramp_source())
    stored_last = wearable.records.last_seq
    assert stored_last is not None

    async def body() -> None:
        async with session(wearable) as central:
            started = wearable.device_time_ns()
            assert (await central.racp(RacpOp.START_LIVE, 0)).status == RacpStatus.SUCCESS
            while sum(b.count for b in central.batches) < 60:  # ~1.2 s of 50 Hz
                await asyncio.sleep(0.02)
            assert (await central.racp(RacpOp.STOP_LIVE, 0)).status == RacpStatus.SUCCESS
            assert not wearable.sampling
            live = central.frame()
            assert all(b.live for b in central.batches)
            assert live["seq"].iloc[0] == stored_last + 1
            assert (np.diff(live["seq"].to_numpy()) == 1).all()
            assert (np.diff(live["t"].to_numpy()) == 20_000_000).all()
            assert abs(int(live["t"].iloc[0]) - started) < 1_000_000_000  # device clock, now
            ramp = ((np.arange(len(live)) % 4096) / 1024.0 - 2.0).astype(np.float32)
            np.testing.assert_array_equal(live["ax"].to_numpy(), ramp)
            gy = dequantize(quantize(np.array([-20.0]), 2000), 2000)[0]  # -20.0195 deg/s
            assert (live["gy"] == gy).all()

            # the device logged what it streamed: a later sync is exactly-once by seq
            central.batches.clear()
            done = await central.racp(RacpOp.SEND, stored_last + 1)
            assert done.status == RacpStatus.SUCCESS and done.value1 >= len(live)
            synced = central.frame()
            assert not any(b.live for b in central.batches)
            pd.testing.assert_frame_equal(synced.iloc[: len(live)], live, check_exact=True)

            # live again: the seq goes on where logging stopped
            central.batches.clear()
            await central.racp(RacpOp.START_LIVE, 0)
            while not central.batches:
                await asyncio.sleep(0.02)
            await central.racp(RacpOp.STOP_LIVE, 0)
            assert central.batches[0].first_seq == synced["seq"].iloc[-1] + 1

    run(body)


def test_default_live_source_is_the_simulator() -> None:
    options = WearableOptions(rate_hz=25.0, has_gyro=False, live_batch_s=0.2)

    async def body() -> None:
        async with session(VirtualWearable(options)) as central:
            config = decode_config(await central.read(uuids.IMU_CONFIG))
            assert not config.has_gyro and config.max_batch_samples == 81
            await central.racp(RacpOp.START_LIVE, 0)
            while sum(b.count for b in central.batches) < 25:
                await asyncio.sleep(0.05)
            await central.racp(RacpOp.STOP_LIVE, 0)
            live = central.frame()
            assert list(live.columns) == ["t", "seq", "ax", "ay", "az"]
            assert live["seq"].iloc[0] == 0
            norm = np.sqrt((live[["ax", "ay", "az"]].to_numpy(np.float64) ** 2).sum(axis=1))
            # in g (not m/s^2): about 1 g at rest; the simulated person streams "now", and at
            # some hours of the day they are running (a median near 1.6 g)
            assert 0.5 < float(np.median(norm)) < 3.0

    run(body, 60)


def test_simulated_live_source_enters_the_day_at_the_current_time() -> None:
    frames = simulated_live_source(rate_hz=1.0, tz="UTC", first_day=DAY, chunk_s=600)
    first = next(frames)
    now = dt.datetime.now(dt.UTC)
    seconds = now.hour * 3600 + now.minute * 60 + now.second
    assert abs(int(first["seq"].iloc[0]) - seconds) <= 2
    assert len(first) == min(600, 86_400 - int(first["seq"].iloc[0]))


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


def test_lost_packets_make_seq_jumps_never_invented_samples() -> None:
    wearable = imu_wearable(5, lose_packets=0.2, seed=7)
    stored = wearable.records.to_frame()

    async def body() -> None:
        async with session(wearable) as central:
            done = await central.racp(RacpOp.SEND, 0)
            assert (done.status, done.value1) == (RacpStatus.SUCCESS, len(stored))
            got = central.frame()
            assert 0 < len(got) < len(stored)
            assert wearable.faults.lost == len(stored) // 40 - len(central.batches)
            seq = got["seq"].to_numpy()
            assert (np.diff(seq) > 0).all() and (np.diff(seq) > 1).any()
            want = stored.set_index("seq").loc[seq].reset_index()[list(stored.columns)]
            pd.testing.assert_frame_equal(got, want, check_exact=True)

    run(body)


def test_duplicates_and_reordering_lose_nothing() -> None:
    wearable = imu_wearable(5, duplicate_packets=0.1, reorder_packets=0.1, seed=11)
    stored = wearable.records.to_frame()

    async def body() -> None:
        async with session(wearable) as central:
            done = await central.racp(RacpOp.SEND, 0)
            assert done.status == RacpStatus.SUCCESS
            firsts = [b.first_seq for b in central.batches]
            assert len(firsts) > len(set(firsts))  # duplicates arrived
            assert any(b < a for a, b in itertools.pairwise(firsts))  # out of order
            assert wearable.faults.duplicated > 0 and wearable.faults.reordered > 0
            unique = {b.first_seq: b for b in central.batches}
            merged = batches_to_frame([unique[k] for k in sorted(unique)])
            pd.testing.assert_frame_equal(merged, stored, check_exact=True)

    run(body)


def test_drop_link_disconnects_and_the_wearable_advertises_again() -> None:
    wearable = imu_wearable(1, drop_link_every_s=0.3)

    async def body() -> None:
        name = link_name()
        await wearable.start(f"bumble:link:{name}")
        try:
            central = Central.on_link(name)
            advertisement = await central.scan(uuids.IMU_SERVICE)
            await central.connect(advertisement.address)
            started = time.monotonic()
            await asyncio.wait_for(central.disconnected.wait(), 5)
            assert 0.2 < time.monotonic() - started < 2.0
            assert wearable.dropped_links == 1
            await asyncio.sleep(0.05)
            assert wearable.connected == 0
            await central.connect(advertisement.address)  # advertising again: reconnects
            await central.subscribe_imu()
            assert (await central.racp(RacpOp.REPORT_COUNT, 0)).status == RacpStatus.SUCCESS
            await asyncio.wait_for(central.disconnected.wait(), 5)
            assert (wearable.connections, wearable.dropped_links) == (2, 2)
        finally:
            await wearable.stop()

    run(body)


def test_link_drop_during_send_ends_it_cleanly() -> None:
    wearable = imu_wearable(180, drop_link_every_s=0.25)  # the drop comes long before the end
    stored = wearable.records.to_frame()

    async def body() -> None:
        async with session(wearable) as central:
            await central.write_racp(encode_racp_request(RacpOp.SEND, 0))
            await asyncio.wait_for(central.disconnected.wait(), 5)
            got = central.frame()
            assert 0 < len(got) < len(stored)
            pd.testing.assert_frame_equal(got, stored.iloc[: len(got)], check_exact=True)
            await asyncio.sleep(0.05)
            sent = wearable.sent_batches
            await asyncio.sleep(0.2)
            assert wearable.connected == 0 and wearable.sent_batches == sent  # the SEND ended

    run(body)


# --------------------------------------------------------------------------------------------
# Footpod
# --------------------------------------------------------------------------------------------


def test_footpod_notifies_plausible_running_measurements() -> None:
    truth = simulate_day(DAY, placement="foot", seed=5, evening_run=True, truth_only=True)
    options = WearableOptions(kind="footpod", rsc_interval_s=0.1, stride_convention="step")
    wearable = wearable_from_simulation(truth, options)

    async def body() -> None:
        async with session(wearable) as central:
            features = decode_rsc_feature(await central.read(uuids.RSC_FEATURE))
            assert features == {
                FEATURE_STRIDE_LENGTH,
                FEATURE_TOTAL_DISTANCE,
                FEATURE_WALKING_RUNNING_STATUS,
            }
            assert central.peer is not None
            await central.peer.subscribe(
                central.char(uuids.RSC_MEASUREMENT),
                lambda v: central.rsc.append(decode_rsc_measurement(bytes(v))),
            )
            while len(central.rsc) < 12:
                await asyncio.sleep(0.05)
        got = central.rsc  # the replay starts at the first running stride
        assert all(m.running for m in got)
        assert all(2.0 < m.speed_mps < 6.5 for m in got)
        assert all(140 <= m.cadence_spm <= 200 for m in got)
        for m in got:  # one step's length: speed = cadence / 60 * step
            assert m.stride_length_m is not None
            step = m.speed_mps * 60 / m.cadence_spm
            assert abs(m.stride_length_m - step) < 0.05 * step + 0.02
        distances = [m.total_distance_m for m in central.rsc]
        assert all(
            b is not None and a is not None and b >= a for a, b in itertools.pairwise(distances)
        )
        strides = truth.truth.strides
        running = strides[strides["speed_mps"] >= 2.0]
        assert abs(np.median([m.speed_mps for m in got]) - running["speed_mps"].median()) < 0.5

    run(body)


def test_footpod_advertises_the_rsc_service() -> None:
    options = WearableOptions(kind="footpod", stride_convention="stride")

    async def body() -> None:
        wearable = wearable_from_simulation(
            simulate_day(DAY, placement="foot", seed=5, evening_run=True, truth_only=True),
            options,
        )
        name = link_name()
        await wearable.start(f"bumble:link:{name}")
        try:
            advertisement = await Central.on_link(name).scan(uuids.RSC_SERVICE)
            data = advertisement.data
            assert data.get(AdvertisingData.Type.COMPLETE_LOCAL_NAME) == "psoas-footpod"
            assert wearable.advertising_mode == "legacy"
        finally:
            await wearable.stop()

    run(body)


# --------------------------------------------------------------------------------------------
# Through a bumble transport (controllers served over local TCP)
# --------------------------------------------------------------------------------------------


def _free_ports(n: int) -> list[int]:
    ports = []
    sockets = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


def test_wearable_over_a_tcp_transport() -> None:
    wearable = imu_wearable(1)
    stored = wearable.records.to_frame()

    async def body() -> None:
        async with virtual_link(_free_ports(2)) as adapters:
            await wearable.start(adapters[0])
            transport: Transport | None = None
            try:
                transport = await open_transport(adapters[1].removeprefix("bumble:"))
                central = Central(Host(transport.source, transport.sink))
                advertisement = await central.scan(uuids.IMU_SERVICE)
                await central.connect(advertisement.address)
                await central.subscribe_imu()
                done = await central.racp(RacpOp.SEND, 0)
                assert done.status == RacpStatus.SUCCESS
                pd.testing.assert_frame_equal(central.frame(), stored, check_exact=True)
            finally:
                await wearable.stop()
                if transport is not None:
                    await transport.close()

    run(body)


# --------------------------------------------------------------------------------------------
# psoas simulate-device
# --------------------------------------------------------------------------------------------


def test_run_virtual_wearable_serves_simulated_days_until_cancelled() -> None:
    options = WearableOptions(rate_hz=10.0, has_gyro=False, seed=4)

    async def body() -> None:
        name = link_name()
        ready: asyncio.Future[VirtualWearable] = asyncio.get_running_loop().create_future()
        serving = asyncio.ensure_future(
            run_virtual_wearable(
                f"bumble:link:{name}",
                options,
                days=2,
                tz="UTC",
                last_day=DAY,
                ready=ready.set_result,
            )
        )
        wearable = await asyncio.wait_for(ready, 20)
        assert wearable.records.samples == 2 * 86_400 * 10
        frame = wearable.records.to_frame()
        assert (np.diff(frame["seq"].to_numpy()) == 1).all()  # one counter across the days
        day_start = int(pd.Timestamp(DAY - dt.timedelta(days=1), tz="UTC").value)
        assert int(frame["t"].iloc[0]) - day_start == pytest.approx(800_000_000, abs=1_000_000)
        central = Central.on_link(name)
        advertisement = await central.scan(uuids.IMU_SERVICE)
        await central.connect(advertisement.address)
        await central.subscribe_imu()
        count = await central.racp(RacpOp.REPORT_COUNT, 86_400 * 10)
        assert (count.value1, count.value2) == (86_400 * 10, 2 * 86_400 * 10 - 1)
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        assert wearable.device is None and wearable.connected == 0
        assert len(local_link(name).controllers) == 1  # only the central's is left

    run(body, 60)
