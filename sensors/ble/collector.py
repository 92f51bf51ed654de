"""The Bluetooth collector: scan, after-workday sync, live streaming, reconnects — on bleak only.

Everything here uses bleak's public API (``BleakScanner``, ``BleakClient``) and
bleak-retry-connector; the adapter only chooses the backend class (the OS default, or psoas's
bumble backend), so the same code path runs on BlueZ, macOS, Windows and the virtual link.

Exactly-once: a sync asks the wearable for records from the store's cursor + 1, commits them at
least every ``commit_every_s`` seconds (each commit is one all-or-nothing store ingest), and only
after the final commit asks the wearable to delete what is stored. A dropped link reconnects
with backoff and resumes from the committed cursor; what was received but not committed is simply
sent again, and the store drops anything it already holds by ``seq``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError
from bleak_retry_connector import establish_connection

from sensors.ble.adapters import BleAdapter
from sensors.ble.batching import BatchBuffer, BufferCounters
from sensors.ble.profiles import ProfileDecodeError, uuids
from sensors.ble.profiles.imu import (
    ImuBatch,
    RacpOp,
    RacpResponse,
    RacpStatus,
    batches_to_frame,
    decode_batch,
    decode_config,
    decode_device_time,
    decode_racp_response,
    encode_racp_request,
)
from sensors.ble.profiles.rsc import (
    RscMeasurement,
    StrideConvention,
    decode_rsc_measurement,
    infer_stride_convention,
    rsc_to_metrics,
)
from sensors.errors import PsoasError
from sensors.store import DeviceInfo, RecordingInfo, Store

_log = logging.getLogger(__name__)

RACP_TIMEOUT_S = 30.0
"""How long a RACP request other than SEND may wait for its indication."""
SEND_IDLE_TIMEOUT_S = 15.0
"""A running SEND whose notifications stop for this long is treated as a lost link."""
MAX_BACKOFF_S = 10.0
TICK_S = 0.25
"""How often a running sync looks at its buffer (commits happen every ``commit_every_s``)."""
GO_BACK_SAMPLES = 100_000
"""Samples held behind a hole (radio loss) that make the collector stop the SEND and go back."""
MAX_STALLED_ROUNDS = 4
"""SEND rounds in a row without progress after which remaining holes are accepted as gaps."""
MIN_CONVENTION_SAMPLES = 10
"""Moving RSC measurements needed before the stride-length convention is decided."""

ProgressCallback = Callable[[str, int, int], None]
"""Called with (device_id, samples synced so far, samples to sync)."""
BatchCallback = Callable[[str, pd.DataFrame, bool], None]
"""Called with (device_id, committed samples, live) after every commit: the live-alert hook.
``live`` is False for samples of the offline log (a sync), True while streaming live."""


class CollectorError(PsoasError):
    """The collector could not finish (device not found, too many lost links, ...)."""


class LinkLost(Exception):
    """The Bluetooth link dropped during a session; the collector reconnects."""


@dataclass(frozen=True)
class FoundDevice:
    """A compatible device seen while scanning."""

    device: BLEDevice
    kind: str  # "imu" or "footpod"
    name: str
    rssi: int | None

    @property
    def address(self) -> str:
        return self.device.address

    @property
    def device_id(self) -> str:
        return ble_device_id(self.name, self.address)


def ble_device_id(name: str | None, address: str) -> str:
    """A stable store device id from an advertised name and a Bluetooth address."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name or "ble").strip("-._") or "ble"
    suffix = re.sub(r"[^A-Fa-f0-9]", "", address)[-4:].lower()
    return f"{stem[:54]}-{suffix}" if suffix else stem[:64]


@dataclass
class SessionReport:
    """What a collector run did, summed over reconnects."""

    device_id: str
    kind: str
    samples: int = 0
    metric_rows: int = 0
    commits: int = 0
    reconnects: int = 0
    decode_errors: int = 0
    gaps: int = 0
    missing_samples: int = 0
    deleted_on_device: int = 0
    clock_offset_ns: int | None = None
    stride_convention: str | None = None
    counters: BufferCounters = field(default_factory=BufferCounters)


async def scan(adapter: BleAdapter, timeout_s: float = 5.0) -> list[FoundDevice]:
    """Scan for psoas IMU wearables and RSC footpods; strongest signal first."""
    seen = await BleakScanner.discover(
        timeout=timeout_s, return_adv=True, backend=adapter.scanner_backend
    )
    found = []
    for device, adv in seen.values():
        services = {u.lower() for u in adv.service_uuids}
        kind = (
            "imu"
            if uuids.IMU_SERVICE in services
            else "footpod"
            if uuids.RSC_SERVICE in services
            else None
        )
        if kind:
            name = adv.local_name or device.name or device.address
            found.append(FoundDevice(device, kind, name, adv.rssi))
    return sorted(found, key=lambda f: -(f.rssi if f.rssi is not None else -999))


def choose(found: list[FoundDevice], wanted: str | None) -> FoundDevice:
    """The device named or addressed ``wanted``, or the only one found."""
    if wanted is None:
        if len(found) == 1:
            return found[0]
        if not found:
            raise CollectorError(
                "no psoas wearable or footpod found; is it on, advertising and in range? "
                "(`psoas devices` lists what is seen)"
            )
        names = ", ".join(f"{f.name} ({f.address})" for f in found)
        raise CollectorError(f"several devices found ({names}); choose one with --device")
    for f in found:
        if wanted.lower() in (f.name.lower(), f.address.lower(), f.device_id.lower()):
            return f
    seen = ", ".join(f.name for f in found) or "none"
    raise CollectorError(f"device {wanted!r} not found (seen: {seen}); check the name or address")


async def collect_devices(
    store: Store,
    adapter: BleAdapter,
    wanted: Sequence[str],
    *,
    tz: str,
    placement: str | None = None,
    live_s: float | None = None,
    delete_after_sync: bool = True,
    scan_timeout_s: float = 5.0,
    progress: ProgressCallback | None = None,
    on_batch: BatchCallback | None = None,
    commit_every_s: float = 2.0,
) -> list[SessionReport]:
    """Sync (and stream) every wanted device at once: IMUs and footpods, one adapter.

    ``on_batch`` sees every committed IMU batch (live alerts); ``commit_every_s`` is how often
    live samples are committed (and so the alert latency)."""
    found = await scan(adapter, scan_timeout_s)
    targets = [choose(found, w) for w in wanted] if wanted else [choose(found, None)]
    runs: list[Awaitable[SessionReport]] = []
    for target in targets:
        if target.kind == "imu":
            collector = ImuCollector(
                store,
                adapter,
                target,
                tz=tz,
                placement=placement,
                delete_after_sync=delete_after_sync,
                progress=progress,
                on_batch=on_batch,
                commit_every_s=commit_every_s,
            )
            runs.append(collector.run(live_s))
        elif live_s is None:
            raise CollectorError(
                f"{target.name} is a footpod: it only streams live; pass --duration SECONDS "
                f"or --live"
            )
        else:
            runs.append(FootpodCollector(store, adapter, target, tz=tz).run(live_s))
    return list(await asyncio.gather(*runs))


class _Session:
    """One connection: notifications in, RACP requests out, disconnects observed."""

    def __init__(self) -> None:
        self.disconnected = asyncio.Event()
        self.responses: asyncio.Queue[RacpResponse] = asyncio.Queue()
        self.last_data = time.monotonic()

    def on_disconnect(self, _client: BleakClient) -> None:
        self.disconnected.set()

    async def wait(self, awaitable: asyncio.Future | asyncio.Task, timeout_s: float):  # type: ignore[no-untyped-def]
        """Await ``awaitable`` unless the link drops or ``timeout_s`` passes."""
        lost = asyncio.ensure_future(self.disconnected.wait())
        try:
            done, _ = await asyncio.wait(
                {awaitable, lost}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            lost.cancel()
        if awaitable in done:
            return awaitable.result()
        awaitable.cancel()
        if self.disconnected.is_set():
            raise LinkLost("the link dropped")
        raise LinkLost(f"no answer within {timeout_s:.0f} s")


@contextlib.asynccontextmanager
async def _connected(
    adapter: BleAdapter, found: FoundDevice, session: _Session
) -> AsyncIterator[BleakClient]:
    """A bleak client connected with retries (bleak-retry-connector), disconnected afterwards."""
    client = await establish_connection(
        BleakClient,
        found.device,
        found.name,
        disconnected_callback=session.on_disconnect,
        max_attempts=3,
        use_services_cache=False,
        backend=adapter.client_backend,
    )
    try:
        yield client
    finally:
        if client.is_connected:
            try:
                await client.disconnect()
            except BleakError as exc:  # already going down: nothing to save
                _log.debug("disconnect: %s", exc)


def _backoff_s(failures: int) -> float:
    """Seconds to wait before reconnect attempt number ``failures`` (exponential, capped)."""
    return min(MAX_BACKOFF_S, 0.2 * 2 ** min(failures, 6))


async def _reconnecting(
    found: FoundDevice,
    report: SessionReport,
    max_reconnects: int,
    session: Callable[[], Awaitable[None]],
    *,
    progress: Callable[[], int],
    done: Callable[[], bool] = lambda: False,
) -> None:
    """Run ``session`` until it ends normally (or ``done()``), reconnecting after a lost link.

    Lost links count while no progress is made: a session after which ``progress()`` grew resets
    the count and the backoff; more than ``max_reconnects`` in a row is a :class:`CollectorError`.
    """
    failures = 0
    while not done():
        before = progress()
        try:
            await session()
            return
        except (LinkLost, BleakError, TimeoutError) as exc:
            failures = 1 if progress() > before else failures + 1
            report.reconnects += 1
            if failures > max_reconnects:
                raise CollectorError(
                    f"{found.name}: lost the link {failures} times without progress ({exc}); "
                    f"what was committed is safe — move closer to the device and run collect "
                    f"again"
                ) from exc
            _log.info("%s: %s; reconnecting", found.name, exc)
            await asyncio.sleep(_backoff_s(failures))


class ImuCollector:
    """Syncs (and optionally streams live from) one psoas IMU wearable into the store."""

    def __init__(
        self,
        store: Store,
        adapter: BleAdapter,
        found: FoundDevice,
        *,
        tz: str,
        placement: str | None = None,
        commit_every_s: float = 2.0,
        delete_after_sync: bool = True,
        reorder_window_s: float = 0.5,
        max_reconnects: int = 30,
        progress: ProgressCallback | None = None,
        on_batch: BatchCallback | None = None,
    ) -> None:
        self.store = store
        self.adapter = adapter
        self.found = found
        self.tz = tz
        self.placement = placement
        self.commit_every_s = commit_every_s
        self.delete_after_sync = delete_after_sync
        self.reorder_window_s = reorder_window_s
        self.max_reconnects = max_reconnects
        self.progress = progress
        self.on_batch = on_batch
        self.report = SessionReport(found.device_id, "imu")
        self._recording: RecordingInfo | None = None

    async def run(self, live_s: float | None = None) -> SessionReport:
        """Sync everything the wearable holds, then stream live for ``live_s`` seconds."""
        self._live_s = live_s
        self._live_until: float | None = None  # set when the first sync completes
        await _reconnecting(
            self.found,
            self.report,
            self.max_reconnects,
            self._session,
            progress=lambda: self.report.samples,
        )
        return self.report

    async def _session(self) -> None:
        session = _Session()
        async with _connected(self.adapter, self.found, session) as client:
            await self._exchange(client, session)

    async def _exchange(self, client: BleakClient, session: _Session) -> None:
        config = decode_config(await client.read_gatt_char(uuids.IMU_CONFIG))
        self._estimate_clock_offset(await _timed_read(client, uuids.DEVICE_TIME))
        recording = self._recording_for(config.rate_hz, config.placement)
        cursor = self.store.cursor(self.found.device_id)
        buffer = BatchBuffer(
            None if cursor is None else cursor + 1,
            expected_period_ns=round(1e9 / config.rate_hz),
            reorder_window_s=self.reorder_window_s,
            hold_holes=True,
        )
        self.report.counters = buffer.counters

        def on_data(_char: object, data: bytearray) -> None:
            session.last_data = time.monotonic()
            try:
                batch = decode_batch(bytes(data))
                buffer.add(batch)
            except ProfileDecodeError as exc:
                self.report.decode_errors += 1
                _log.warning("%s: bad IMU Data notification: %s", self.found.name, exc)

        def on_racp(_char: object, data: bytearray) -> None:
            try:
                session.responses.put_nowait(decode_racp_response(bytes(data)))
            except ProfileDecodeError as exc:
                self.report.decode_errors += 1
                _log.warning("%s: bad RACP indication: %s", self.found.name, exc)

        await client.start_notify(uuids.IMU_DATA, on_data)
        await client.start_notify(uuids.IMU_RACP, on_racp)
        try:
            # every connection first fetches what the wearable logged since the cursor: the
            # offline day, or what it sampled while a live link was down
            await self._sync(client, session, buffer, recording, cursor)
            await self._delete_committed(client, session)
            if self._live_s is not None and self._live_until is None:
                self._live_until = time.monotonic() + self._live_s  # live time starts now
            if self._live_until is not None and time.monotonic() < self._live_until:
                await self._stream(client, session, buffer, recording, self._live_until)
        except LinkLost:
            # what arrived in order before the drop is good: keep it, resume after it
            self._commit(recording, buffer.release())
            raise

    async def _stream(
        self,
        client: BleakClient,
        session: _Session,
        buffer: BatchBuffer,
        recording: RecordingInfo,
        live_until: float,
    ) -> None:
        """Live batches until ``live_until``, committed at least every ``commit_every_s``."""
        buffer.hold_holes = False  # live: a hole is only waited for a reorder window
        await self._racp(client, session, RacpOp.START_LIVE, 0)
        while time.monotonic() < live_until:
            pause = min(self.commit_every_s, live_until - time.monotonic())
            await session.wait(asyncio.ensure_future(asyncio.sleep(pause)), pause + 5)
            self._commit(recording, buffer.release(), live=True)
        await self._racp(client, session, RacpOp.STOP_LIVE, 0)
        await asyncio.sleep(0.2)  # batches already in flight
        self._commit(recording, buffer.release(final=True), live=True)
        await self._delete_committed(client, session)

    async def _sync(
        self,
        client: BleakClient,
        session: _Session,
        buffer: BatchBuffer,
        recording: RecordingInfo,
        cursor: int | None,
    ) -> None:
        """Fetch every stored record after the cursor, asking again from each hole.

        A notification lost on the radio leaves a hole the wearable can fill: after each SEND
        the collector asks again from the first such hole (what arrives twice is dropped). A
        hole the wearable holds no samples in (same count from the hole as from the first seq
        after it) is a device-side gap: it is accepted and the store records it.
        """
        start = 0 if cursor is None else cursor + 1
        if buffer.next_seq is None:
            buffer.next_seq = start
        total = await self._count_from(client, session, start)
        if not total:
            return
        done = 0
        stalled = 0
        while True:
            before = buffer.next_seq
            send = asyncio.ensure_future(self._racp_send(client, session, start))
            aborted = False
            last_commit = time.monotonic()
            ready: list[ImuBatch] = []
            while not send.done():
                try:
                    await self._commit_while(session, send)
                finally:
                    ready.extend(buffer.release())
                    if session.disconnected.is_set():
                        self._commit(recording, ready)  # in order before the drop: keep it
                if time.monotonic() - last_commit >= self.commit_every_s:
                    done += self._commit(recording, ready)
                    ready = []
                    self._report_progress(done, total)
                    last_commit = time.monotonic()
                if not aborted and buffer.pending_samples >= GO_BACK_SAMPLES:
                    # too much waits behind a hole: stop, sort out the holes, go back (below)
                    abort = encode_racp_request(RacpOp.ABORT, 0)
                    await client.write_gatt_char(uuids.IMU_RACP, abort, True)
                    aborted = True
            done += self._commit(recording, ready)
            result = send.result()
            if result.status == RacpStatus.NO_RECORDS:
                break
            if result.status not in (RacpStatus.SUCCESS, RacpStatus.ABORTED):
                raise LinkLost(f"the wearable ended the sync with status {result.status.name}")
            aborted = aborted or result.status == RacpStatus.ABORTED
            done += self._commit(recording, buffer.release())
            # A hole the wearable has no samples in is a device-side gap: accept it. One it
            # does have samples in was lost on the radio: ask again from there.
            while (hole := buffer.hole()) is not None:
                after = buffer.after_hole()
                assert after is not None
                if await self._count_from(client, session, hole) != await self._count_from(
                    client, session, after
                ):
                    break
                buffer.accept_hole()
                done += self._commit(recording, buffer.release())
            self._report_progress(done, total)
            if hole is None and not aborted:
                break  # the whole answer arrived, in order
            stalled = 0 if buffer.next_seq != before else stalled + 1
            if stalled >= MAX_STALLED_ROUNDS:
                _log.warning("%s: the wearable keeps missing seq %s", self.found.name, hole)
                break
            assert buffer.next_seq is not None
            start = buffer.next_seq
            if hole is not None:
                _log.info("%s: samples from seq %d were lost on the way", self.found.name, hole)
        done += self._commit(recording, buffer.release(final=True))
        self._report_progress(done, total)

    async def _count_from(self, client: BleakClient, session: _Session, seq: int) -> int:
        """How many samples the wearable holds from ``seq`` on."""
        answer = await self._racp(client, session, RacpOp.REPORT_COUNT, seq)
        return answer.value1 if answer.status == RacpStatus.SUCCESS else 0

    async def _racp_send(self, client: BleakClient, session: _Session, start: int) -> RacpResponse:
        """SEND from ``start``; waits as long as records keep arriving."""
        while not session.responses.empty():
            session.responses.get_nowait()
        request = encode_racp_request(RacpOp.SEND, start)
        await client.write_gatt_char(uuids.IMU_RACP, request, True)
        while True:
            getter = asyncio.ensure_future(session.responses.get())
            try:
                response = await session.wait(getter, SEND_IDLE_TIMEOUT_S)
            except LinkLost:
                if session.disconnected.is_set():
                    raise
                if time.monotonic() - session.last_data < SEND_IDLE_TIMEOUT_S:
                    continue  # still receiving records: the answer comes after the last one
                raise
            if response.op == RacpOp.SEND:
                return response
            _log.warning("%s: unexpected RACP answer %s", self.found.name, response)

    async def _commit_while(self, session: _Session, send: asyncio.Future) -> None:
        pause = asyncio.ensure_future(asyncio.sleep(TICK_S))
        lost = asyncio.ensure_future(session.disconnected.wait())
        try:
            await asyncio.wait({send, pause, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            pause.cancel()
            lost.cancel()
        if session.disconnected.is_set() and not send.done():
            send.cancel()
            raise LinkLost("the link dropped during the sync")

    async def _racp(
        self,
        client: BleakClient,
        session: _Session,
        op: RacpOp,
        operand: int,
    ) -> RacpResponse:
        while not session.responses.empty():  # a stale answer from before must not match
            session.responses.get_nowait()
        await client.write_gatt_char(uuids.IMU_RACP, encode_racp_request(op, operand), True)
        while True:
            getter = asyncio.ensure_future(session.responses.get())
            response = await session.wait(getter, RACP_TIMEOUT_S)
            if response.op == op:
                return response
            _log.warning("%s: unexpected RACP answer %s", self.found.name, response)

    async def _delete_committed(self, client: BleakClient, session: _Session) -> None:
        """Let the wearable free what the catalog has committed (never more)."""
        cursor = self.store.cursor(self.found.device_id)
        if not self.delete_after_sync or cursor is None:
            return
        response = await self._racp(client, session, RacpOp.DELETE, cursor)
        if response.status == RacpStatus.SUCCESS:
            self.report.deleted_on_device += response.value1

    def _commit(
        self, recording: RecordingInfo, batches: list[ImuBatch], *, live: bool = False
    ) -> int:
        if not batches:
            return 0
        frame = batches_to_frame(batches)
        with self.store.ingest() as tx:
            tx.add_samples(recording, frame)
        result = tx.result
        self.report.samples += result.new_samples
        self.report.gaps += result.gaps
        self.report.missing_samples += result.missing_samples
        self.report.commits += 1
        if self.on_batch is not None and result.new_samples:
            self.on_batch(self.found.device_id, frame, live)
        return len(frame)

    def _recording_for(self, rate_hz: float, placement: str) -> RecordingInfo:
        if self._recording is None:
            worn = self.placement or placement or "unknown"
            known = self.store.device(self.found.device_id)
            device = DeviceInfo(
                self.found.device_id,
                tz=known.tz if known else self.tz,
                placement=worn,
                kind="imu",
                name=self.found.name,
            )
            self._recording = RecordingInfo(
                device,
                source=f"bluetooth {self.found.address}",
                placement=worn,
                rate_hz=rate_hz,
                clock_offset_ns=self.report.clock_offset_ns,
            )
        return self._recording

    def _estimate_clock_offset(self, timed: tuple[int, int, bytes]) -> None:
        before_ns, after_ns, data = timed
        device_ns = decode_device_time(data) * 1000
        self.report.clock_offset_ns = (before_ns + after_ns) // 2 - device_ns

    def _report_progress(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(self.found.device_id, done, max(total, done))


async def _timed_read(client: BleakClient, uuid: str) -> tuple[int, int, bytes]:
    before = time.time_ns()
    data = await client.read_gatt_char(uuid)
    return before, time.time_ns(), bytes(data)


class FootpodCollector:
    """Streams a SIG Running Speed and Cadence footpod into the store's device metrics."""

    def __init__(
        self,
        store: Store,
        adapter: BleAdapter,
        found: FoundDevice,
        *,
        tz: str,
        commit_every_s: float = 2.0,
        max_reconnects: int = 30,
    ) -> None:
        self.store = store
        self.adapter = adapter
        self.found = found
        self.tz = tz
        self.commit_every_s = commit_every_s
        self.max_reconnects = max_reconnects
        self.report = SessionReport(found.device_id, "footpod")
        self._times: list[int] = []
        self._measurements: list[RscMeasurement] = []
        self._convention = StrideConvention.UNKNOWN
        self._recording: RecordingInfo | None = None

    async def run(self, live_s: float) -> SessionReport:
        until = time.monotonic() + live_s
        await _reconnecting(
            self.found,
            self.report,
            self.max_reconnects,
            lambda: self._session(until),
            progress=lambda: 0,  # a footpod streams: every lost link counts
            done=lambda: time.monotonic() >= until,
        )
        self._commit(final=True)
        return self.report

    async def _session(self, until: float) -> None:
        session = _Session()

        def on_measurement(_char: object, data: bytearray) -> None:
            try:
                measurement = decode_rsc_measurement(bytes(data))
            except ProfileDecodeError as exc:
                self.report.decode_errors += 1
                _log.warning("%s: bad RSC measurement: %s", self.found.name, exc)
                return
            self._times.append(time.time_ns())
            self._measurements.append(measurement)

        async with _connected(self.adapter, self.found, session) as client:
            await client.start_notify(uuids.RSC_MEASUREMENT, on_measurement)
            while time.monotonic() < until:
                pause = min(self.commit_every_s, until - time.monotonic())
                await session.wait(asyncio.ensure_future(asyncio.sleep(pause)), pause + 5)
                self._commit(final=False)

    def _commit(self, *, final: bool) -> None:
        if not self._measurements:
            return
        if self._convention == StrideConvention.UNKNOWN:
            self._decide_convention(final)
            if self._convention == StrideConvention.UNKNOWN and not final:
                return  # hold the rows until the stride convention is known
        frame = rsc_to_metrics(np.asarray(self._times), self._measurements, self._convention)
        with self.store.ingest() as tx:
            tx.add_metrics(self._recording_once(), frame)
        self.report.metric_rows += len(frame)
        self.report.commits += 1
        self._times, self._measurements = [], []

    def _decide_convention(self, final: bool) -> None:
        with_length = [m for m in self._measurements if m.stride_length_m is not None]
        if len(with_length) < MIN_CONVENTION_SAMPLES and not final:
            return
        self._convention = infer_stride_convention(
            np.array([m.speed_mps for m in with_length]),
            np.array([m.cadence_spm for m in with_length]),
            np.array([m.stride_length_m for m in with_length]),
        )
        self.report.stride_convention = self._convention.value
        _log.info("%s: stride length convention %s", self.found.name, self._convention.value)

    def _recording_once(self) -> RecordingInfo:
        if self._recording is None:
            known = self.store.device(self.found.device_id)
            device = DeviceInfo(
                self.found.device_id,
                tz=known.tz if known else self.tz,
                placement="foot",
                kind="footpod",
                name=self.found.name,
            )
            self._recording = RecordingInfo(
                device,
                source=f"bluetooth {self.found.address} (RSC, stride length reported as one "
                f"{self._convention.value})",
                placement="foot",
            )
        return self._recording
