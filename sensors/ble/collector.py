"""The Bluetooth collector: scan, after-workday sync, live streaming, reconnects — on bleak only.

Everything here uses bleak's public API (``BleakScanner``, ``BleakClient``) and
bleak-retry-connector; the adapter only chooses the backend class (the OS default, or psoas's
bumble backend), so the same code path runs on BlueZ, macOS, Windows and the virtual link.

Exactly-once: a sync asks the wearable for records from the store's cursor + 1, commits them at
least every ``commit_every_s`` seconds (each commit is one all-or-nothing store ingest), and only
after the final commit asks the wearable to delete what is stored. A dropped link reconnects
with backoff and resumes from the committed cursor; what was received but not committed is simply
sent again, and the store drops anything it already holds by ``seq``. A wearable that stops
answering with the link up (``STALL_TIMEOUT_S``) is treated the same way, and after
``MAX_STALLS`` such stalls in a row without progress the run ends with a clear error; a device
clock that jumps back is re-anchored by ``seq`` and rate (``sensors/ble/batching.py``).

Holes. A notification lost on the radio leaves a hole in ``seq`` that the wearable can still
fill: it logs every sample it samples, the ones it streams live included. So a hole is never
given up on a timer, in a sync or live: the collector asks the wearable again with RACP SEND
from the first missing ``seq`` (:meth:`ImuCollector._fetch`, one go-back loop for both). While
streaming live, a hole that outlives the reorder window (``reorder_window_s``, 0.5 s) is asked
for with a SEND that runs *concurrently* with the live stream (the profile allows it: stored
batches carry the stored flag and interleave with live ones on IMU Data; the collector's buffer
merges both by ``seq``, dropping what arrives twice), so sampling never pauses and no
STOP_LIVE/START_LIVE round trip is needed. Only a hole the wearable itself holds no samples in
(its REPORT_COUNT from the hole equals its count from the next sample it has, read with nothing
logged in between) becomes a store gap. The commit cursor therefore never passes a hole the
wearable could still fill, and the wearable is only told to delete through that cursor: never
through such a hole. A wearable that claims the samples but fails to send them in
``MAX_STALLED_ROUNDS`` SENDs in a row is given up on, as in a sync (logged as a warning).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import deque
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

STALL_TIMEOUT_S = 15.0
"""A wearable that, with the link up, answers nothing for this long is stalled (a hung
firmware): no write response to a RACP request, no RACP indication, no record during a SEND,
no live batch while streaming. The collector commits what it has, reconnects, and after
``MAX_STALLS`` such stalls in a row without progress gives up with a :class:`CollectorError`
(``ImuCollector(stall_timeout_s=..., max_stalls=...)``)."""
MAX_STALLS = 1
"""Stalls in a row without new samples that are retried before the collector gives up."""
MAX_BACKOFF_S = 10.0
TICK_S = 0.25
"""How often a running sync looks at its buffer (commits happen every ``commit_every_s``)."""
GO_BACK_SAMPLES = 100_000
"""Samples held behind a hole (radio loss) that make the collector stop the SEND and go back."""
MAX_STALLED_ROUNDS = 4
"""SEND rounds in a row without progress after which remaining holes are accepted as gaps."""
COUNT_TRIES = 5
"""Tries to read the wearable's counts around a hole with nothing logged in between (live)."""
MIN_CONVENTION_SAMPLES = 10
"""Moving RSC measurements needed before the stride-length convention is decided."""
LIVE_DELETE_EVERY_S = 5.0
"""While streaming live, the wearable is told to free what the catalog holds this often."""

ProgressCallback = Callable[[str, int, int], None]
"""Called with (device_id, samples synced so far, samples to sync)."""
BatchCallback = Callable[[str, pd.DataFrame, bool], None]
"""Called with (device_id, committed samples, live) after every commit: the live-alert hook.
``live`` is False for samples of the offline log (a sync), True while streaming live."""


class CollectorError(PsoasError):
    """The collector could not finish (device not found, too many lost links, ...)."""


class LinkLost(Exception):
    """The Bluetooth link dropped during a session; the collector reconnects."""


class DeviceStalled(LinkLost):
    """The link is up but the wearable stopped answering (see ``STALL_TIMEOUT_S``)."""


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
class CommitStats:
    """How stale live samples are when they become durable, in seconds (monotonic clock).

    A commit's latency runs from the arrival of its earliest-arrived notification (the bleak
    callback) to the end of its store transaction (fsynced Parquet part + catalog row), so it
    includes the wait for the next commit (``commit_every_s``), the reorder window and the
    write itself; ``duration`` is the write alone. Only live commits count: a sync's batches
    are the device's offline log, committed for throughput, not freshness.
    """

    commits: int = 0
    latency_last_s: float | None = None
    latency_max_s: float = 0.0
    duration_max_s: float = 0.0
    recent_latency_s: deque[float] = field(default_factory=lambda: deque(maxlen=4096))
    """The latencies of the last 4096 live commits (for percentiles; memory stays bounded)."""

    def record(self, latency_s: float, duration_s: float) -> None:
        self.commits += 1
        self.latency_last_s = latency_s
        self.latency_max_s = max(self.latency_max_s, latency_s)
        self.duration_max_s = max(self.duration_max_s, duration_s)
        self.recent_latency_s.append(latency_s)


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
    stalls: int = 0
    """Times the wearable stopped answering with the link up (a hung firmware)."""
    go_backs: int = 0
    """SEND rounds that went back to a hole (notifications lost on the radio), sync or live."""
    clock_offset_ns: int | None = None
    stride_convention: str | None = None
    counters: BufferCounters = field(default_factory=BufferCounters)
    live_commits: CommitStats = field(default_factory=CommitStats)


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
        self.last_record = self.last_data
        """When the last stored record (not a live batch) arrived: a SEND's sign of life."""

    def on_disconnect(self, _client: BleakClient) -> None:
        self.disconnected.set()

    async def wait(  # type: ignore[no-untyped-def]
        self, awaitable: asyncio.Future | asyncio.Task, timeout_s: float, what: str = "an answer"
    ):
        """Await ``awaitable`` unless the link drops (:class:`LinkLost`) or ``timeout_s``
        passes (:class:`DeviceStalled`: no ``what`` within it)."""
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
        raise DeviceStalled(f"no {what} within {timeout_s:g} s")


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
        stall_timeout_s: float = STALL_TIMEOUT_S,
        max_stalls: int = MAX_STALLS,
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
        self.stall_timeout_s = stall_timeout_s
        self.max_stalls = max_stalls
        self._stalls_in_row = 0
        self._samples_at_stall = -1  # report.samples at the last stall (-1: none yet)
        self.progress = progress
        self.on_batch = on_batch
        self.report = SessionReport(found.device_id, "imu")
        self._recording: RecordingInfo | None = None
        self._arrivals: deque[tuple[int, float]] = deque()  # (first seq, monotonic s) per batch

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
        try:
            async with _connected(self.adapter, self.found, session) as client:
                await self._exchange(client, session)
        except DeviceStalled as exc:
            self.report.stalls += 1
            # stalls in a row: new samples since the previous stall start the count again
            progressed = self.report.samples > self._samples_at_stall
            self._samples_at_stall = self.report.samples
            self._stalls_in_row = 1 if progressed else self._stalls_in_row + 1
            if self._stalls_in_row > self.max_stalls:
                raise CollectorError(self._stalled_message(exc)) from exc
            _log.warning(
                "%s: the wearable stopped answering (%s); reconnecting", self.found.name, exc
            )
            raise

    def _stalled_message(self, exc: DeviceStalled) -> str:
        cursor = self.store.cursor(self.found.device_id)
        where = "" if cursor is None else f" (the store holds it through seq {cursor})"
        return (
            f"{self.found.name} ({self.found.address}) stopped answering with the link up: "
            f"{exc} ({self._stalls_in_row} time(s) in a row). {self.report.samples:,} new samples "
            f"of this run are committed{where}; the rest stays on the wearable, nothing is lost "
            f"or deleted. Restart the wearable (or wait for it to recover) and run `psoas "
            f"collect` again: it resumes after the last committed sample."
        )

    async def _exchange(self, client: BleakClient, session: _Session) -> None:
        config = decode_config(await client.read_gatt_char(uuids.IMU_CONFIG))
        self._estimate_clock_offset(await _timed_read(client, uuids.DEVICE_TIME))
        recording = self._recording_for(config.rate_hz, config.placement)
        cursor = self.store.cursor(self.found.device_id)
        buffer = BatchBuffer(
            None if cursor is None else cursor + 1,
            expected_period_ns=round(1e9 / config.rate_hz),
            reorder_window_s=self.reorder_window_s,
            hold_holes=True,  # a hole is asked for again (sync and live), never timed out
            # the stored time at the cursor: a device clock that jumped back is seen at once
            last_t_ns=self.store.cursor_time(self.found.device_id),
            counters=self.report.counters,  # summed over reconnects
        )
        arrivals = self._arrivals = deque()

        def on_data(_char: object, data: bytearray) -> None:
            session.last_data = now = time.monotonic()
            try:
                batch = decode_batch(bytes(data))
                buffer.add(batch)
                arrivals.append((batch.first_seq, now))
                if not batch.live:
                    session.last_record = now
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
        """Live batches until ``live_until``, committed at least every ``commit_every_s``.

        The wearable logs what it streams (so a dropped link loses nothing); every
        ``LIVE_DELETE_EVERY_S`` it is told to free what is committed, so a long live session
        (``--live`` runs until Ctrl-C) does not fill its memory with samples the store holds.
        A hole that outlives the reorder window is asked for again with a SEND from it that runs
        alongside the live stream (:meth:`_fetch`); after STOP_LIVE one more SEND from the next
        ``seq`` fetches what waits behind a hole and anything logged but not streamed.
        """
        await self._racp(client, session, RacpOp.START_LIVE, 0)
        session.last_data = freed = time.monotonic()
        while (now := time.monotonic()) < live_until:
            pause = min(self.commit_every_s, live_until - now)
            if buffer.hole() is not None:  # look again when its reorder window ends
                pause = min(pause, max(self.reorder_window_s - buffer.hole_age_s(), 0.05))
            await session.wait(asyncio.ensure_future(self._live_pause(session, pause)), pause + 5)
            self._commit(recording, buffer.release(), live=True)
            hole = buffer.hole()
            if hole is not None and buffer.hole_age_s() >= self.reorder_window_s:
                # no late notification filled it: lost on the radio, or never logged
                await self._fetch(client, session, buffer, recording, hole, live=True)
            if time.monotonic() - freed >= LIVE_DELETE_EVERY_S:
                await self._delete_committed(client, session)
                freed = time.monotonic()
        await self._racp(client, session, RacpOp.STOP_LIVE, 0)
        await asyncio.sleep(0.2)  # batches already in flight
        self._commit(recording, buffer.release(), live=True)
        assert buffer.next_seq is not None  # set by the sync before
        await self._fetch(client, session, buffer, recording, buffer.next_seq, live=True)
        self._commit(recording, buffer.release(final=True), live=True)
        await self._delete_committed(client, session)

    async def _live_pause(self, session: _Session, pause_s: float) -> None:
        """Sleep ``pause_s``, but raise :class:`DeviceStalled` as soon as no live batch came for
        ``stall_timeout_s`` (the reconnect then syncs what the wearable logged meanwhile)."""
        until = time.monotonic() + pause_s
        while (now := time.monotonic()) < until:
            silent = now - session.last_data
            if silent >= self.stall_timeout_s:
                raise DeviceStalled(f"no live batch for {self.stall_timeout_s:g} s")
            await asyncio.sleep(min(until - now, self.stall_timeout_s - silent))

    async def _sync(
        self,
        client: BleakClient,
        session: _Session,
        buffer: BatchBuffer,
        recording: RecordingInfo,
        cursor: int | None,
    ) -> None:
        """Fetch every stored record after the cursor, asking again from each hole
        (:meth:`_fetch`); what is still missing at the end is a device-side gap."""
        start = 0 if cursor is None else cursor + 1
        if buffer.next_seq is None:
            buffer.next_seq = start
        total = await self._count_from(client, session, start)
        if not total:
            return
        done = await self._fetch(client, session, buffer, recording, start, total=total)
        done += self._commit(recording, buffer.release(final=True))
        self._report_progress(done, total)

    async def _fetch(
        self,
        client: BleakClient,
        session: _Session,
        buffer: BatchBuffer,
        recording: RecordingInfo,
        start: int,
        *,
        live: bool = False,
        total: int | None = None,
    ) -> int:
        """SEND from ``start`` and go back to each hole, until every ``seq`` the SEND covered
        arrived or is a device-side gap; returns the samples committed.

        A notification lost on the radio leaves a hole the wearable can fill: after each SEND
        the collector asks again from the first such hole (what arrives twice is dropped). A
        hole the wearable holds no samples in (:meth:`_holds_samples`) is a device-side gap: it
        is accepted and the store records it. The sync runs this from its cursor; live
        streaming runs it from a hole that outlived the reorder window, while live batches keep
        arriving (``live``: commits count as live). Holes after the last ``seq`` a SEND covered
        (younger live ones) are left for their own reorder window.
        """
        done = 0
        stalled = 0
        while True:
            before = buffer.next_seq
            if start == buffer.hole():
                self.report.go_backs += 1
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
                        self._commit(recording, ready, live=live)  # in order before the drop
                if time.monotonic() - last_commit >= self.commit_every_s:
                    done += self._commit(recording, ready, live=live)
                    ready = []
                    self._report_progress(done, total)
                    last_commit = time.monotonic()
                if not aborted and buffer.pending_samples >= GO_BACK_SAMPLES:
                    # too much waits behind a hole: stop, sort out the holes, go back (below)
                    await self._write_racp(client, session, RacpOp.ABORT, 0)
                    aborted = True
            done += self._commit(recording, ready, live=live)
            result = send.result()
            if result.status == RacpStatus.NO_RECORDS:
                covered = NO_VALUE  # it holds nothing from ``start`` on: any hole is its own
            elif result.status in (RacpStatus.SUCCESS, RacpStatus.ABORTED):
                covered = result.value2  # the last seq it sent
                aborted = aborted or result.status == RacpStatus.ABORTED
            else:
                raise LinkLost(f"the wearable ended the sync with status {result.status.name}")
            done += self._commit(recording, buffer.release(), live=live)
            # A hole the wearable has no samples in is a device-side gap: accept it. One it
            # does have samples in was lost on the radio: ask again from there.
            while (hole := buffer.hole()) is not None and hole <= covered:
                after = buffer.after_hole()
                assert after is not None
                if await self._holds_samples(client, session, hole, after):
                    break
                buffer.accept_hole()
                done += self._commit(recording, buffer.release(), live=live)
            self._report_progress(done, total)
            if (hole is None or hole > covered) and not aborted:
                break  # everything the SEND covered arrived, in order
            stalled = 0 if buffer.next_seq != before else stalled + 1
            if stalled >= MAX_STALLED_ROUNDS:
                _log.warning("%s: the wearable keeps missing seq %s", self.found.name, hole)
                buffer.accept_hole()  # given up (a sync's final release accepts the rest)
                done += self._commit(recording, buffer.release(), live=live)
                break
            assert buffer.next_seq is not None
            start = buffer.next_seq
            if hole is not None:
                _log.info("%s: samples from seq %d were lost on the way", self.found.name, hole)
        return done

    async def _holds_samples(
        self, client: BleakClient, session: _Session, hole: int, after: int
    ) -> bool:
        """Whether the wearable holds samples in ``hole .. after - 1`` (they were lost on the
        radio: ask again) rather than none (a device-side gap).

        The difference of its counts from ``after`` and from ``hole``. A wearable streaming
        live logs new samples meanwhile, so the two counts only compare when both answers name
        the same last stored ``seq``; after ``COUNT_TRIES`` tries without such a quiet moment
        (or without an answer) the hole is asked for again (``MAX_STALLED_ROUNDS`` bounds
        that).
        """
        for _ in range(COUNT_TRIES):
            from_after = await self._count(client, session, after)
            from_hole = await self._count(client, session, hole)
            if from_after and from_hole and from_after[1] == from_hole[1]:
                return from_hole[0] != from_after[0]
        return True

    async def _count_from(self, client: BleakClient, session: _Session, seq: int) -> int:
        """How many samples the wearable holds from ``seq`` on."""
        count = await self._count(client, session, seq)
        return count[0] if count else 0

    async def _count(
        self, client: BleakClient, session: _Session, seq: int
    ) -> tuple[int, int] | None:
        """(samples the wearable holds from ``seq`` on, its last stored seq or ``NO_VALUE``),
        or None when it did not say (busy, not supported)."""
        answer = await self._racp(client, session, RacpOp.REPORT_COUNT, seq)
        if answer.status == RacpStatus.NO_RECORDS:
            return 0, NO_VALUE
        if answer.status != RacpStatus.SUCCESS:
            return None
        return answer.value1, answer.value2

    async def _racp_send(self, client: BleakClient, session: _Session, start: int) -> RacpResponse:
        """SEND from ``start``; waits as long as records keep arriving."""
        while not session.responses.empty():
            session.responses.get_nowait()
        await self._write_racp(client, session, RacpOp.SEND, start)
        # records keep it going; live batches (a SEND during live streaming) do not
        session.last_data = session.last_record = time.monotonic()
        while True:
            getter = asyncio.ensure_future(session.responses.get())
            idle_s = time.monotonic() - session.last_record
            try:
                response = await session.wait(getter, max(self.stall_timeout_s - idle_s, 0.01))
            except DeviceStalled:
                if time.monotonic() - session.last_record < self.stall_timeout_s:
                    continue  # still receiving records: the answer comes after the last one
                raise DeviceStalled(
                    f"no record and no RACP answer for {self.stall_timeout_s:g} s in the middle "
                    f"of a SEND from seq {start}"
                ) from None
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
        await self._write_racp(client, session, op, operand)
        while True:
            getter = asyncio.ensure_future(session.responses.get())
            response = await session.wait(
                getter, self.stall_timeout_s, f"answer (indication) to RACP {op.name}"
            )
            if response.op == op:
                return response
            _log.warning("%s: unexpected RACP answer %s", self.found.name, response)

    async def _write_racp(
        self, client: BleakClient, session: _Session, op: RacpOp, operand: int
    ) -> None:
        """Write a RACP request with response; a wearable that never acknowledges it stalls."""
        request = encode_racp_request(op, operand)
        write = asyncio.ensure_future(client.write_gatt_char(uuids.IMU_RACP, request, True))
        await session.wait(write, self.stall_timeout_s, f"write response to RACP {op.name}")

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
        began = time.monotonic()
        with self.store.ingest() as tx:
            tx.add_samples(recording, frame)
        durable = time.monotonic()
        # the earliest arrival among the notifications this commit covers (a late or rejected
        # one is counted by the next commit past its seq: never too optimistic)
        arrived = durable
        last_seq = batches[-1].last_seq
        while self._arrivals and self._arrivals[0][0] <= last_seq:
            arrived = min(arrived, self._arrivals.popleft()[1])
        if live:
            self.report.live_commits.record(durable - arrived, durable - began)
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

    def _report_progress(self, done: int, total: int | None) -> None:
        if self.progress is not None and total is not None:
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
