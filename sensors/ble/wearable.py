"""The virtual wearable: a bumble GATT peripheral that behaves like a real IMU logger or footpod.

It serves the psoas open IMU profile (``docs/ble-imu-profile.md``) or the Bluetooth SIG Running
Speed and Cadence service over a real Bluetooth stack (bumble): it advertises, accepts a central,
answers GATT reads, notifies and indicates, and exchanges real HCI/ATT packets with the central,
either over an in-process bumble ``LocalLink`` (adapter ``bumble:link:<name>``) or through any
bumble transport (``bumble:tcp-client:127.0.0.1:9000``, ``bumble:usb:0``, ...). The demo
(``psoas simulate-device``) and the Bluetooth tests use it; nothing in it is a mock.

What it does, as a device would
-------------------------------
- **Offline log.** A :class:`~sensors.ble.wearable_records.RecordStore` of int16 batches, filled
  from a simulated day (:func:`wearable_from_simulation` quantizes the simulator's frame with
  ``frame_to_batches``; ``wearable.records.to_frame()`` is then, bit for bit, what a decoder
  reconstructs from a SEND). Timestamps are on the **device clock**: true time plus
  ``clock_offset_s`` (default 0.8 s), and Device Time reads ``host clock + clock_offset_s``, so
  the collector's offset estimate (host − device ≈ −0.8 s) can be checked.
- **RACP** (write with response; one indication per request): REPORT_COUNT, SEND (notifies every
  stored batch from the operand on in seq order, re-split to fit the connection's ATT MTU − 3,
  then indicates ``samples sent, last seq sent``), DELETE, ABORT, START_LIVE, STOP_LIVE. While a
  SEND runs, every request but ABORT is answered BUSY. A SEND may run while live streaming is
  on: its stored batches and the live ones interleave on IMU Data (the collector fetches a
  hole of the live stream that way). A malformed write (wrong length) gets
  INVALID_OPERAND, an unknown opcode NOT_SUPPORTED, a non-zero operand where the spec wants 0
  INVALID_OPERAND; the device never crashes. As in the SIG record-access profiles, a RACP write
  while RACP indications (or, for SEND/START_LIVE, IMU Data notifications) are not enabled fails
  with the ATT error 0xFD (CCCD improperly configured). DELETE of nothing is a SUCCESS with 0
  deleted (deleting is idempotent, so a collector's retry after a lost link is harmless); SEND of
  nothing answers NO_RECORDS.
- **Live streaming.** After START_LIVE the device samples in real time (``rate_hz``) from
  ``live_source`` (default: the simulator's next day, entered at the current local time of day),
  batches every ``live_batch_s``, notifies with the live flag and logs the same samples in the
  record store with ``seq`` continuing, so a later sync is exactly-once. Sampling stops when no
  connected central wants live data (unless ``log_continuously``), so a dropped link pauses
  sampling instead of opening a seq gap the collector would never fetch.
- **Accelerated time** (``time_scale``, default 1; IMU only, for soak tests and demos). The
  device clock runs ``time_scale`` times faster than the host's: Device Time reads
  ``host time at creation + clock_offset_s + elapsed monotonic time × time_scale``, and the live
  sampler stamps its samples on that same clock and sends a batch of ``live_batch_s``
  device-seconds every ``live_batch_s / time_scale`` wall seconds. So 30 min of device time at
  100 Hz stream in one minute at ×30, with ``t`` spaced exactly ``1 / rate_hz`` and running
  ahead of the host clock. The collector's clock-offset estimate (host − device from one Device
  Time read at connect) then is the offset *at that read*:
  ``−clock_offset_s − elapsed since creation × (time_scale − 1)``, coherent with the stored
  ``t`` at that moment and drifting by ``time_scale − 1`` seconds per second after it, as a
  fast crystal would (each reconnect reads it again; the recording keeps the first).
- **Footpod.** RSC Measurement notified every ``rsc_interval_s`` from the simulator's truth
  strides, replayed in real time from the first running stride: speed, cadence (steps/min),
  the length in ``stride_convention`` (``"step"``: one step, what many footpods send; or
  ``"stride"``: two steps), total distance and the running bit. RSC Feature announces them.
- **Faults** (seeded, per connection): ``drop_link_every_s`` disconnects the central after that
  many seconds of every connection; ``lose_packets`` silently skips a notification (the samples
  stay logged: the collector sees a seq jump, never an invented sample); ``duplicate_packets``
  sends one twice; ``reorder_packets`` swaps two consecutive ones. A **hung firmware**:
  ``stall_after_samples`` makes the device go silent once it has put that many IMU samples on
  the air (SEND and live together, all connections; once per wearable): no more IMU Data
  notifications, no RACP indication (not even the final one of a running SEND), RACP writes
  acknowledged but ignored, or with ``stall_write_response=False`` not even acknowledged (no
  ATT write response); the link stays up and GATT reads (Config, Device Time) still work. It
  recovers after ``stall_for_s`` seconds as a watchdog reset would: the SEND or live stream in
  progress is abandoned (never finished, never indicated), the log is kept, new requests are
  answered again. ``stall_for_s=None`` hangs until the wearable is restarted (``stop()`` then
  ``start()``, a power cycle). While hung the sensor keeps logging. A **jumping clock**:
  ``clock_jumps=[(at_seq, jump_s), ...]`` moves the device clock by ``jump_s`` (forward or back,
  e.g. an RTC resync) just before it stamps sample ``at_seq`` of the offline log (the log is cut
  into a new batch there, as a logger starts a new record); Device Time reads the clock after
  every jump (``clock_offset_ns`` includes them). Counted in ``stalls`` and ``faults``.

Flow control
------------
``notify_subscriber`` only queues a PDU in bumble's host; a day of records is ~108 k
notifications. The SEND loop awaits each notify and then waits while the host's ACL queue holds
more than a few controller buffers' worth of packets (``DataPacketQueue.pending``, released by the
controller's Number-Of-Completed-Packets events), so memory stays flat and the central's stack is
never flooded; a dropped link ends the loop at once.

Written here rather than taken from a library: bumble provides the stack and the GATT server
(used as is, with its Battery and Device Information services), but no IMU-logger peripheral.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import hashlib
import itertools
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
from bumble import att, data_types
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import (
    AdvertisingEventProperties,
    AdvertisingParameters,
    AdvertisingSet,
    Connection,
    Device,
)
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.hci import HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR, Address
from bumble.host import Host
from bumble.profiles.battery_service import BatteryService
from bumble.profiles.device_information_service import DeviceInformationService
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink, Transport

from sensors.ble.adapters import local_link
from sensors.ble.profiles import ProfileDecodeError, ProfileError, uuids
from sensors.ble.profiles.imu import (
    ACC_RANGES_G,
    GYRO_RANGES_DPS,
    NO_VALUE,
    PLACEMENT_CODES,
    PROFILE_VERSION,
    ImuBatch,
    ImuConfig,
    RacpOp,
    RacpResponse,
    RacpStatus,
    decode_racp_request,
    encode_batch,
    encode_config,
    encode_device_time,
    encode_racp_response,
    frame_to_batches,
    max_samples_per_batch,
    period_from_rate,
)
from sensors.ble.profiles.rsc import (
    FEATURE_STRIDE_LENGTH,
    FEATURE_TOTAL_DISTANCE,
    FEATURE_WALKING_RUNNING_STATUS,
    RscMeasurement,
    encode_rsc_feature,
    encode_rsc_measurement,
)
from sensors.ble.wearable_records import RecordStore, split_batch
from sensors.errors import UsageError
from sensors.schema import ACC_COLUMNS, GYRO_COLUMNS
from sensors.simulate import SimulatedRecording, simulate_day
from sensors.timeutil import local_today, system_tz, zone

__all__ = [
    "KINDS",
    "LiveSource",
    "RecordStore",
    "VirtualWearable",
    "WearableOptions",
    "run_virtual_wearable",
    "simulated_live_source",
    "wearable_from_simulation",
]

_log = logging.getLogger(__name__)

KINDS: Final = ("imu", "footpod")
STORE_MTU: Final = 517
"""Records are logged in batches that fit one notification at the largest ATT MTU."""
NS_PER_S: Final = 1_000_000_000
ADAPTER_PREFIX: Final = "bumble:"
POWER_ON_TIMEOUT_S: Final = 10.0
LINK_PREFIX: Final = "link:"
TEST_COMPANY_ID: Final = 0xFFFF
"""Bluetooth SIG company identifier reserved for tests/prototypes (manufacturer data)."""
MANUFACTURER_DATA_VERSION: Final = 1
LEGACY_ADV_BYTES: Final = 31
ACL_PACKET_BYTES: Final = 251
"""LE ACL data length the virtual controller (link mode) announces: data length extension."""
QUEUE_HIGH_WATER: Final = 48
"""ACL packets the host may hold (queued + in flight) before a sender waits for completions."""
LIVE_QUEUE_BATCHES: Final = 600
"""Live batches a slow central may lag behind before the oldest are dropped (buffer overrun)."""
GAIT_GAP_STRIDES: Final = 1.5
"""A footpod reads "standing" once this many stride times passed without a new stride."""
RUNNING_SPEED_MPS: Final = 2.0
"""Running bit when the truth has no activity labels."""

LiveSource = Callable[[], Iterable[pd.DataFrame]] | Iterable[pd.DataFrame]
"""Canonical IMU frames (only ``ax ay az [gx gy gz]`` are used: the device stamps ``t`` and
``seq`` itself), or a callable returning them, read lazily in order while sampling live."""


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------


@dataclass
class WearableOptions:
    """How the virtual wearable looks and misbehaves. Units are in the names.

    ``name`` defaults to ``psoas-imu`` / ``psoas-footpod`` and ``placement`` to ``thigh`` /
    ``foot`` by ``kind``. ``address`` is the random static Bluetooth address (default: derived
    from kind, name and seed, so a restarted wearable keeps its identity). ``advertising``:
    ``"auto"`` uses legacy advertising when flags, service UUID and full name fit 31 bytes,
    else an extended advertising set (everything in one PDU) if the controller has one, else
    legacy with a shortened name (the full name goes in the scan response).
    """

    kind: str = "imu"
    name: str | None = None
    placement: str | None = None
    rate_hz: float = 50.0
    acc_range_g: int = 16
    gyro_range_dps: int = 2000
    has_gyro: bool = True
    clock_offset_s: float = 0.8
    battery_pct: int = 87
    live_batch_s: float = 0.2
    time_scale: float = 1.0
    log_continuously: bool = False
    tz: str | None = None
    stride_convention: str = "step"
    rsc_interval_s: float = 1.0
    drop_link_every_s: float | None = None
    lose_packets: float = 0.0
    duplicate_packets: float = 0.0
    reorder_packets: float = 0.0
    stall_after_samples: int | None = None
    stall_for_s: float | None = None
    stall_write_response: bool = True
    clock_jumps: Sequence[tuple[int, float]] = ()
    seed: int = 0
    address: str | None = None
    advertising: str = "auto"
    advertising_interval_ms: float = 100.0
    max_mtu: int = 517

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UsageError(f"wearable kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        if self.name is None:
            self.name = f"psoas-{self.kind}"
        if self.placement is None:
            self.placement = "foot" if self.kind == "footpod" else "thigh"
        if not self.name or len(self.name.encode()) > 64:
            raise UsageError(f"device name {self.name!r} must be 1 to 64 bytes")
        if not (1.0 <= self.rate_hz <= 1000.0):
            raise UsageError(f"rate_hz={self.rate_hz} is out of range (1-1000 Hz)")
        if self.placement not in PLACEMENT_CODES:
            raise UsageError(
                f"placement {self.placement!r}; choose one of {', '.join(PLACEMENT_CODES)}"
            )
        if self.acc_range_g not in ACC_RANGES_G:
            raise UsageError(f"acc_range_g={self.acc_range_g}; choose one of {ACC_RANGES_G} g")
        if self.has_gyro and self.gyro_range_dps not in GYRO_RANGES_DPS:
            raise UsageError(
                f"gyro_range_dps={self.gyro_range_dps}; choose one of {GYRO_RANGES_DPS} deg/s"
            )
        if not (0 <= self.battery_pct <= 100):
            raise UsageError(f"battery_pct={self.battery_pct} must be 0-100")
        if not (0.01 <= self.live_batch_s <= 10.0):
            raise UsageError(f"live_batch_s={self.live_batch_s} must be 0.01-10 s")
        if not (0.1 <= self.rsc_interval_s <= 10.0):
            raise UsageError(f"rsc_interval_s={self.rsc_interval_s} must be 0.1-10 s")
        if self.stride_convention not in ("step", "stride"):
            raise UsageError(f"stride_convention={self.stride_convention!r}; use step or stride")
        if self.drop_link_every_s is not None and not self.drop_link_every_s > 0:
            raise UsageError(f"drop_link_every_s={self.drop_link_every_s} must be above 0")
        for label in ("lose_packets", "duplicate_packets", "reorder_packets"):
            value = getattr(self, label)
            if not (0.0 <= value < 1.0):
                raise UsageError(f"{label}={value} must be a probability in [0, 1)")
        if self.stall_after_samples is not None and self.stall_after_samples < 0:
            raise UsageError(f"stall_after_samples={self.stall_after_samples} must be 0 or more")
        if self.stall_for_s is not None and not (0 < self.stall_for_s < math.inf):
            raise UsageError(f"stall_for_s={self.stall_for_s} must be above 0 (None: forever)")
        jumps = tuple(sorted((int(at), float(jump)) for at, jump in self.clock_jumps))
        if any(at < 0 or not math.isfinite(j) or j == 0 for at, j in jumps) or len(
            {at for at, _ in jumps}
        ) != len(jumps):
            raise UsageError(
                f"clock_jumps={self.clock_jumps!r}: give (at_seq >= 0, jump_s != 0) pairs, "
                f"one per seq"
            )
        self.clock_jumps = jumps
        if self.advertising not in ("auto", "legacy", "extended"):
            raise UsageError(f"advertising={self.advertising!r}; use auto, legacy or extended")
        if not self.max_mtu <= 517:
            raise UsageError(f"max_mtu={self.max_mtu} is above the largest ATT MTU 517")
        try:
            max_samples_per_batch(self.max_mtu, self.has_gyro)
        except ProfileError as exc:
            raise UsageError(f"max_mtu={self.max_mtu}: {exc}") from exc
        if not math.isfinite(self.clock_offset_s):
            raise UsageError("clock_offset_s must be a finite number of seconds")
        if not (math.isfinite(self.time_scale) and 0.01 <= self.time_scale <= 1000.0):
            raise UsageError(f"time_scale={self.time_scale} must be 0.01-1000 (1 = real time)")

    @property
    def resolved_name(self) -> str:
        assert self.name is not None
        return self.name


def _random_static_address(*parts: object) -> str:
    """A random static address (two top bits set) derived from ``parts``."""
    digest = bytearray(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:6])
    digest[0] |= 0xC0
    return ":".join(f"{b:02X}" for b in digest)


# --------------------------------------------------------------------------------------------
# Faults and live sample feed (pure helpers)
# --------------------------------------------------------------------------------------------


@dataclass
class FaultCounters:
    """What the fault injector did (all connections)."""

    lost: int = 0
    duplicated: int = 0
    reordered: int = 0
    stalls: int = 0
    """Times the firmware hung (``stall_after_samples``)."""
    ignored_racp: int = 0
    """RACP requests a hung firmware left unanswered (no indication, maybe no write response)."""
    clock_jumps: int = 0
    """Clock jumps stamped into the offline log (``clock_jumps``)."""


class _FaultStream:
    """Applies the link faults to one stream of notifications (one SEND, one live stream)."""

    def __init__(self, rng: random.Random, options: WearableOptions, counters: FaultCounters):
        self._rng = rng
        self._lose = options.lose_packets
        self._dup = options.duplicate_packets
        self._reorder = options.reorder_packets
        self._counters = counters
        self._held: bytes | None = None

    def feed(self, payload: bytes) -> list[bytes]:
        """What to transmit now for ``payload`` (maybe nothing, maybe two or three PDUs)."""
        if self._lose and self._rng.random() < self._lose:
            self._counters.lost += 1
            return []
        if self._held is not None:
            out = [payload, self._held]
            self._held = None
        elif self._reorder and self._rng.random() < self._reorder:
            self._held = payload
            self._counters.reordered += 1
            return []
        else:
            out = [payload]
        if self._dup:
            doubled = []
            for p in out:
                doubled.append(p)
                if self._rng.random() < self._dup:
                    doubled.append(p)
                    self._counters.duplicated += 1
            out = doubled
        return out

    def flush(self) -> list[bytes]:
        """A payload still held back for reordering (sent late rather than never)."""
        held, self._held = self._held, None
        return [] if held is None else [held]


class _SourceExhausted(Exception):
    pass


class _Abandoned(Exception):
    """A hung firmware recovered (or lost its link): the SEND or live stream is forgotten."""


class _SampleFeed:
    """Hands out the live source's signal values ``n`` samples at a time."""

    def __init__(self, source: LiveSource, columns: Sequence[str]) -> None:
        self._source = source
        self._iter: Iterator[pd.DataFrame] | None = None
        self._columns = list(columns)
        self._buf = np.empty((0, len(self._columns)), dtype=np.float32)
        self._pending: asyncio.Future[pd.DataFrame | None] | None = None

    def _next_frame(self) -> pd.DataFrame | None:
        if self._iter is None:
            source = self._source() if callable(self._source) else self._source
            self._iter = iter(source)
        return next(self._iter, None)

    async def take(self, n: int) -> np.ndarray:
        while len(self._buf) < n:
            # The source is read in a worker thread (the simulator renders a day at a time). A
            # cancelled take leaves that read running; the next take collects it, so the
            # source is never entered twice at once.
            if self._pending is None:
                self._pending = asyncio.ensure_future(asyncio.to_thread(self._next_frame))
            frame = await asyncio.shield(self._pending)
            self._pending = None
            if frame is None:
                raise _SourceExhausted
            missing = [c for c in self._columns if c not in frame.columns]
            if missing:
                raise UsageError(f"live source frame lacks column(s) {', '.join(missing)}")
            values = frame[self._columns].to_numpy(dtype=np.float32)
            self._buf = np.concatenate([self._buf, values]) if len(self._buf) else values
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def simulated_live_source(
    *,
    placement: str = "thigh",
    rate_hz: float = 50.0,
    seed: int = 0,
    tz: str | None = None,
    first_day: dt.date | None = None,
    at_current_time: bool = True,
    chunk_s: float = 60.0,
) -> Iterator[pd.DataFrame]:
    """Simulated days from ``first_day`` (default: today in ``tz``), in ``chunk_s`` slices.

    With ``at_current_time`` the first day is entered at the current local time of day, so a
    demo at 10:00 streams the simulated person's desk morning. Each day renders on first use.
    """
    tz = tz or system_tz()
    now = dt.datetime.now(zone(tz))
    day = first_day or now.date()
    skip_s = (now - now.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds()
    skip = int(skip_s * rate_hz) if at_current_time else 0
    chunk = max(1, int(chunk_s * rate_hz))
    while True:
        samples = simulate_day(day, placement=placement, rate_hz=rate_hz, tz=tz, seed=seed).samples
        for start in range(min(skip, len(samples)), len(samples), chunk):
            yield samples.iloc[start : start + chunk]
        skip = 0
        day += dt.timedelta(days=1)


# --------------------------------------------------------------------------------------------
# Footpod: the truth strides replayed in real time
# --------------------------------------------------------------------------------------------


class _StridePlayer:
    """Walks through the simulator's truth strides at real speed; one RSC measurement per step.

    The replay starts at the first running stride (else the first stride) and wraps around
    after the last one; between gait bouts the pod reads standing (speed and cadence 0).
    """

    def __init__(
        self, strides: pd.DataFrame, activities: pd.DataFrame | None, convention: str
    ) -> None:
        s = strides.sort_values("t", kind="stable")
        self._t = s["t"].to_numpy(np.int64)
        self._speed = s["speed_mps"].to_numpy(np.float64)
        self._cadence = s["cadence_spm"].to_numpy(np.float64)
        self._length = s["stride_length_m"].to_numpy(np.float64)
        self._stride_ns = (s["stride_time_s"].to_numpy(np.float64) * NS_PER_S).astype(np.int64)
        if convention == "step":
            self._length = self._length / 2
        self._act_start = self._act_end = None
        self._act_running = None
        if activities is not None and len(activities):
            self._act_start = activities["start"].to_numpy(np.int64)
            self._act_end = activities["end"].to_numpy(np.int64)
            self._act_running = (activities["activity"] == "running").to_numpy(bool)
        if len(self._t) == 0:
            raise UsageError("the footpod needs a simulated day with walking or running strides")
        running = np.flatnonzero(self._speed >= RUNNING_SPEED_MPS)
        first = int(running[0]) if len(running) else 0
        self._start = int(self._t[first])
        self._end = int(self._t[-1] + self._stride_ns[-1]) + 5 * NS_PER_S
        self.cursor_ns = self._start
        self.distance_m = 0.0

    def _running_at(self, t_ns: int, speed: float) -> bool:
        if self._act_start is None or self._act_running is None:
            return speed >= RUNNING_SPEED_MPS
        i = int(np.searchsorted(self._act_start, t_ns, side="right")) - 1
        return bool(i >= 0 and t_ns < self._act_end[i] and self._act_running[i])

    def step(self, dt_s: float) -> RscMeasurement:
        self.cursor_ns += round(dt_s * NS_PER_S)
        if self.cursor_ns > self._end:
            self.cursor_ns = self._start
        i = int(np.searchsorted(self._t, self.cursor_ns, side="right")) - 1
        moving = i >= 0 and self.cursor_ns - self._t[i] <= GAIT_GAP_STRIDES * self._stride_ns[i]
        if moving:
            speed = float(self._speed[i])
            cadence = min(255, round(float(self._cadence[i])))
            length = float(self._length[i])
        else:
            speed, cadence, length = 0.0, 0, 0.0
        self.distance_m += speed * dt_s
        return RscMeasurement(
            speed_mps=speed,
            cadence_spm=cadence,
            stride_length_m=length,
            total_distance_m=self.distance_m,
            running=moving and self._running_at(self.cursor_ns, speed),
        )


# --------------------------------------------------------------------------------------------
# Per-connection state
# --------------------------------------------------------------------------------------------


@dataclass
class _Session:
    connection: Connection
    rng: random.Random
    index: int
    live: bool = False
    send_task: asyncio.Task | None = None
    abort: bool = False
    closed: bool = False
    live_queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(LIVE_QUEUE_BATCHES))
    live_task: asyncio.Task | None = None
    tasks: set[asyncio.Task] = field(default_factory=set)
    drop_handle: asyncio.TimerHandle | None = None
    flow: asyncio.Event = field(default_factory=asyncio.Event)
    queue: Any = None  # bumble DataPacketQueue of the connection
    mtu_requested: bool = False

    def spawn(self, coro: Any) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


# --------------------------------------------------------------------------------------------
# The wearable
# --------------------------------------------------------------------------------------------


def _bumble_uuid(text: str) -> UUID:
    """A bumble UUID; SIG base UUIDs become their 16-bit form (how they go on the air)."""
    if text.endswith("-0000-1000-8000-00805f9b34fb") and text.startswith("0000"):
        return UUID.from_16_bits(int(text[4:8], 16))
    return UUID(text)


class VirtualWearable:
    """A bumble GATT peripheral serving the psoas IMU profile or SIG RSC (see module docstring).

    Observability for tests: ``connections`` (accepted so far), ``connected`` (now),
    ``dropped_links`` (by ``drop_link_every_s``), ``sent_batches`` (IMU Data notifications put
    on the air, duplicates included), ``sent_samples`` (SEND), ``live_batches``,
    ``rsc_measurements``, ``deleted_through`` (last DELETE operand), ``faults``
    (:class:`FaultCounters`), ``racp_log`` (``(op, operand, status)`` per answered request) and
    ``address``.
    """

    def __init__(
        self,
        options: WearableOptions | None = None,
        records: RecordStore | None = None,
        live_source: LiveSource | None = None,
        *,
        strides: pd.DataFrame | None = None,
        activities: pd.DataFrame | None = None,
    ) -> None:
        self.options = options or WearableOptions()
        self.records = records if records is not None else RecordStore()
        self.live_source = live_source
        self._strides = strides
        self._activities = activities
        o = self.options
        self.address = o.address or _random_static_address(o.kind, o.name, o.seed)
        last = self.records.last_seq
        self.next_seq = 0 if last is None else last + 1
        # observability
        self.connections = 0
        self.dropped_links = 0
        self.sent_batches = 0
        self.sent_samples = 0
        self.live_batches = 0
        self.rsc_measurements = 0
        self.deleted_through: int | None = None
        self.faults = FaultCounters()
        self.racp_log: list[tuple[int, int, RacpStatus]] = []
        self.air_samples = 0  # IMU samples put on the air (SEND and live), for the stall fault
        self._hang: asyncio.Event | None = None  # set while the firmware hangs; set() recovers
        self._stalled = False  # the stall fault fires once per wearable
        # stack
        self.device: Device | None = None
        self._controller: Controller | None = None
        self._link: Any = None
        self._transport: Transport | None = None
        self._adv_set: AdvertisingSet | None = None
        self._sessions: dict[int, _Session] = {}
        self._tasks: set[asyncio.Task] = set()
        self._sampler: asyncio.Task | None = None
        self._feed: _SampleFeed | None = None
        self._running = False
        self._axes = [*ACC_COLUMNS, *(GYRO_COLUMNS if o.has_gyro else ())]
        self._store_max = max_samples_per_batch(STORE_MTU, o.has_gyro)
        self._mtu_limit = min(self._store_max, max_samples_per_batch(o.max_mtu, o.has_gyro))
        self._period_ns = period_from_rate(o.rate_hz)
        # the device clock's anchor: with time_scale != 1 it runs that many times faster
        self._clock_anchor = (time.time_ns(), time.monotonic_ns())
        self.advertising_mode: str | None = None

    # -- small properties ------------------------------------------------------------------

    @property
    def clock_offset_ns(self) -> int:
        """Device clock minus host clock, ns (the collector should estimate the negative)."""
        jumps_s = sum(jump for _, jump in self.options.clock_jumps)  # the clock made them all
        return round((self.options.clock_offset_s + jumps_s) * NS_PER_S)

    def device_time_ns(self) -> int:
        """Now on the device clock, ns since the Unix epoch: the host clock + the offset, or
        with ``time_scale`` != 1, the host time at creation + the offset + the monotonic time
        elapsed since then × ``time_scale``."""
        scale = self.options.time_scale
        if scale == 1.0:
            return time.time_ns() + self.clock_offset_ns
        wall0_ns, mono0_ns = self._clock_anchor
        return wall0_ns + self.clock_offset_ns + round((time.monotonic_ns() - mono0_ns) * scale)

    @property
    def connected(self) -> int:
        """Centrals connected right now."""
        return len(self._sessions)

    @property
    def sampling(self) -> bool:
        """Whether the live sampler is running."""
        return self._sampler is not None and not self._sampler.done()

    def _spawn(self, coro: Any) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("virtual wearable task failed", exc_info=task.exception())

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, adapter: str) -> None:
        """Power on on ``adapter`` (``bumble:link:<name>`` or ``bumble:<transport>``), register
        the GATT services and advertise."""
        if self.device is not None:
            raise UsageError("the virtual wearable is already started")
        host = await self._open(adapter)
        o = self.options
        device = Device(name=o.resolved_name, address=Address(self.address), host=host)
        device.gatt_server.max_mtu = o.max_mtu
        device.add_services(self._services())
        device.on(device.EVENT_CONNECTION, self._on_connection)
        self.device = device
        self._recover()  # a power cycle ends a hung firmware
        try:
            try:
                await asyncio.wait_for(device.power_on(), POWER_ON_TIMEOUT_S)
            except TimeoutError as exc:
                raise UsageError(
                    f"no Bluetooth controller answered on {adapter!r} within "
                    f"{POWER_ON_TIMEOUT_S:.0f} s; is it plugged in / is the virtual link running?"
                ) from exc
            self._running = True
            await self._advertise()
        except Exception:
            await self.stop()
            raise
        if o.kind == "footpod":
            self._spawn(self._rsc_loop())
        elif o.log_continuously:
            self._ensure_sampler()
        _log.info(
            "virtual %s %r (%s) advertising on %s (%s); %d stored samples",
            o.kind,
            o.name,
            self.address,
            adapter,
            self.advertising_mode,
            self.records.samples,
        )

    async def _open(self, adapter: str) -> Host:
        if not adapter.startswith(ADAPTER_PREFIX) or len(adapter) == len(ADAPTER_PREFIX):
            raise UsageError(
                f"adapter {adapter!r}: the virtual wearable runs on bumble; use "
                "bumble:link:<name> (in-process) or bumble:<transport>, e.g. "
                "bumble:tcp-client:127.0.0.1:9000"
            )
        spec = adapter[len(ADAPTER_PREFIX) :]
        if spec.startswith(LINK_PREFIX):
            name = spec[len(LINK_PREFIX) :]
            if not name:
                raise UsageError(f"adapter {adapter!r} names no link; use bumble:link:<name>")
            self._link = local_link(name)
            controller = Controller(f"{self.options.name}@{name}", link=self._link)
            # A controller with LE data length extension: fewer ACL fragments per notification.
            controller.le_acl_data_packet_length = ACL_PACKET_BYTES
            self._controller = controller
            return Host(controller, AsyncPipeSink(controller))
        try:
            self._transport = await open_transport(spec)
        except Exception as exc:
            raise UsageError(f"cannot open the bumble transport {spec!r}: {exc}") from exc
        return Host(self._transport.source, self._transport.sink)

    async def stop(self) -> None:
        """Stop sampling and advertising, disconnect the central, power off, release the link."""
        self._running = False
        if self._sampler is not None:
            self._sampler.cancel()
        for session in list(self._sessions.values()):
            self._close_session(session)
        device = self.device
        if device is not None:
            for connection in list(device.connections.values()):
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.disconnect(), 2.0)
            with contextlib.suppress(Exception):
                if self._adv_set is not None:
                    await asyncio.wait_for(self._adv_set.stop(), 2.0)
                else:
                    await asyncio.wait_for(device.stop_advertising(), 2.0)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._sampler is not None:
            await asyncio.gather(self._sampler, return_exceptions=True)
            self._sampler = None
        if device is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(device.power_off(), 2.0)
        if self._link is not None and self._controller is not None:
            with contextlib.suppress(KeyError):
                self._link.remove_controller(self._controller)
        if self._transport is not None:
            with contextlib.suppress(Exception):
                await self._transport.close()
        self.device = self._controller = self._link = self._transport = self._adv_set = None

    async def __aenter__(self) -> VirtualWearable:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- GATT --------------------------------------------------------------------------------

    def _services(self) -> list[Service]:
        o = self.options
        info = DeviceInformationService(
            manufacturer_name="psoas",
            model_number=f"virtual {o.kind}",
            serial_number=self.address.replace(":", ""),
            firmware_revision=f"imu-profile-{PROFILE_VERSION}",
        )
        battery = BatteryService(lambda _connection: o.battery_pct)
        if o.kind == "footpod":
            self._rsc_char = Characteristic(
                _bumble_uuid(uuids.RSC_MEASUREMENT),
                Characteristic.Properties.NOTIFY,
                Characteristic.Permissions.READABLE,
                b"",
            )
            feature = Characteristic(
                _bumble_uuid(uuids.RSC_FEATURE),
                Characteristic.Properties.READ,
                Characteristic.Permissions.READABLE,
                encode_rsc_feature(
                    {FEATURE_STRIDE_LENGTH, FEATURE_TOTAL_DISTANCE, FEATURE_WALKING_RUNNING_STATUS}
                ),
            )
            rsc = Service(_bumble_uuid(uuids.RSC_SERVICE), [self._rsc_char, feature])
            return [rsc, battery, info]
        self._data_char = Characteristic(
            UUID(uuids.IMU_DATA),
            Characteristic.Properties.NOTIFY,
            Characteristic.Permissions.READABLE,
            b"",
        )
        config = Characteristic(
            UUID(uuids.IMU_CONFIG),
            Characteristic.Properties.READ,
            Characteristic.Permissions.READABLE,
            CharacteristicValue(read=self._read_config),
        )
        clock = Characteristic(
            UUID(uuids.DEVICE_TIME),
            Characteristic.Properties.READ,
            Characteristic.Permissions.READABLE,
            CharacteristicValue(read=lambda _c: encode_device_time(self.device_time_ns() // 1000)),
        )
        self._racp_char = Characteristic(
            UUID(uuids.IMU_RACP),
            Characteristic.Properties.WRITE | Characteristic.Properties.INDICATE,
            Characteristic.Permissions.WRITEABLE,
            CharacteristicValue(write=self._on_racp_write),
        )
        imu = Service(UUID(uuids.IMU_SERVICE), [self._data_char, config, clock, self._racp_char])
        return [imu, battery, info]

    def _read_config(self, connection: Connection) -> bytes:
        o = self.options
        return encode_config(
            ImuConfig(
                version=PROFILE_VERSION,
                has_gyro=o.has_gyro,
                rate_hz=o.rate_hz,
                acc_range_g=o.acc_range_g,
                gyro_range_dps=o.gyro_range_dps if o.has_gyro else 0,
                placement=o.placement or "unknown",
                # too small an MTU now: the device raises it before sending (see _raise_mtu)
                max_batch_samples=self._batch_limit(connection) or self._mtu_limit,
            )
        )

    def _batch_limit(self, connection: Connection) -> int:
        """Most samples per notification on ``connection`` (0 if not even one fits)."""
        try:
            return min(
                self._store_max, max_samples_per_batch(connection.att_mtu, self.options.has_gyro)
            )
        except ProfileError:
            return 0

    def _cccd(self, connection: Connection, characteristic: Characteristic) -> int:
        assert self.device is not None
        subscribers = self.device.gatt_server.subscribers.get(connection) or {}
        value = subscribers.get(characteristic.handle) or b"\x00\x00"
        return value[0] if len(value) == 2 else 0

    # -- advertising -------------------------------------------------------------------------

    def _advertising_payloads(self) -> tuple[bytes, bytes, bytes]:
        """(legacy advertising data, legacy scan response, extended advertising data).

        Legacy data holds flags, the service UUID and the complete name when they fit 31 bytes,
        else a shortened name (the complete one then goes in the scan response); the extended
        data holds everything, manufacturer data included.
        """
        o = self.options
        name = o.resolved_name
        flags = data_types.Flags(
            AdvertisingData.Flags.LE_GENERAL_DISCOVERABLE_MODE
            | AdvertisingData.Flags.BR_EDR_NOT_SUPPORTED
        )
        service: Any
        if o.kind == "footpod":
            service = data_types.CompleteListOf16BitServiceUUIDs([_bumble_uuid(uuids.RSC_SERVICE)])
        else:
            service = data_types.CompleteListOf128BitServiceUUIDs([UUID(uuids.IMU_SERVICE)])
        maker = bytes(
            AdvertisingData(
                [
                    data_types.ManufacturerSpecificData(
                        TEST_COMPANY_ID,
                        bytes([MANUFACTURER_DATA_VERSION, KINDS.index(o.kind) + 1, o.battery_pct]),
                    )
                ]
            )
        )
        full = bytes(AdvertisingData([flags, service, data_types.CompleteLocalName(name)]))
        if len(full) <= LEGACY_ADV_BYTES:
            return full, maker, full + maker
        head = bytes(AdvertisingData([flags, service]))
        room = max(LEGACY_ADV_BYTES - len(head) - 2, 0)
        short = name.encode()[:room].decode(errors="ignore")
        legacy = head + bytes(AdvertisingData([data_types.ShortenedLocalName(short)]))
        scan = bytes(AdvertisingData([data_types.CompleteLocalName(name)])) + maker
        return legacy, scan, full + maker

    async def _advertise(self) -> None:
        device = self.device
        if device is None or not self._running:
            return
        if self._adv_set is not None:
            await self._adv_set.start()
            return
        o = self.options
        legacy, scan, extended = self._advertising_payloads()
        name_fits = extended.startswith(legacy)
        use_extended = o.advertising == "extended" or (
            o.advertising == "auto" and not name_fits and device.supports_le_extended_advertising
        )
        if use_extended:
            if not device.supports_le_extended_advertising:
                raise UsageError(
                    "this controller cannot do extended advertising; use advertising='legacy'"
                )
            self._adv_set = await device.create_advertising_set(
                advertising_parameters=AdvertisingParameters(
                    advertising_event_properties=AdvertisingEventProperties(
                        is_connectable=True, is_scannable=False, is_legacy=False
                    ),
                    primary_advertising_interval_min=o.advertising_interval_ms,
                    primary_advertising_interval_max=o.advertising_interval_ms,
                ),
                advertising_data=extended,
                auto_start=True,
            )
            self.advertising_mode = "extended"
            return
        await device.start_advertising(
            advertising_data=legacy,
            scan_response_data=scan,
            advertising_interval_min=o.advertising_interval_ms,
            advertising_interval_max=o.advertising_interval_ms,
        )
        self.advertising_mode = "legacy"

    # -- connections -------------------------------------------------------------------------

    def _on_connection(self, connection: Connection) -> None:
        self.connections += 1
        rng = random.Random(self.options.seed * 1_000_003 + self.connections)
        session = _Session(connection=connection, rng=rng, index=self.connections)
        session.queue = connection.data_packet_queue
        if session.queue is not None:
            session.queue.on("flow", session.flow.set)
        self._sessions[connection.handle] = session
        connection.on(
            connection.EVENT_DISCONNECTION, lambda reason: self._on_disconnection(session, reason)
        )
        if self.options.drop_link_every_s is not None:
            session.drop_handle = asyncio.get_running_loop().call_later(
                self.options.drop_link_every_s, self._drop_link, session
            )
        _log.info("%s: central %s connected", self.options.name, connection.peer_address)

    def _drop_link(self, session: _Session) -> None:
        if session.closed:
            return
        self.dropped_links += 1
        _log.info("%s: dropping the link (fault injection)", self.options.name)
        self._spawn(self._disconnect(session.connection))

    @staticmethod
    async def _disconnect(connection: Connection) -> None:
        with contextlib.suppress(Exception):
            await connection.disconnect(HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)

    def _on_disconnection(self, session: _Session, reason: int) -> None:
        _log.info("%s: central disconnected (reason %s)", self.options.name, reason)
        self._close_session(session)
        if self._running:
            self._spawn(self._advertise())

    def _close_session(self, session: _Session) -> None:
        if session.closed:
            return
        session.closed = True
        session.live = False
        session.abort = True
        session.flow.set()
        if session.queue is not None:
            with contextlib.suppress(Exception):
                session.queue.remove_listener("flow", session.flow.set)
        if session.drop_handle is not None:
            session.drop_handle.cancel()
        for task in list(session.tasks):
            task.cancel()
        self._sessions.pop(session.connection.handle, None)
        self._maybe_stop_sampler()

    # -- notifications with flow control ---------------------------------------------------

    async def _notify(self, session: _Session, characteristic: Characteristic, data: bytes) -> None:
        assert self.device is not None
        await self.device.notify_subscriber(session.connection, characteristic, data)
        queue = session.queue
        if queue is None:
            await asyncio.sleep(0)
            return
        while queue.pending > QUEUE_HIGH_WATER and not session.closed:
            session.flow.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(session.flow.wait(), 0.5)
        await asyncio.sleep(0)

    # -- the hung-firmware fault -------------------------------------------------------------

    @property
    def hung(self) -> bool:
        """Whether the firmware hangs right now (``stall_after_samples``)."""
        return self._hang is not None and not self._hang.is_set()

    def _maybe_hang(self) -> None:
        o = self.options
        if self._stalled or o.stall_after_samples is None:
            return
        if self.air_samples < o.stall_after_samples:
            return
        self._stalled = True
        self.faults.stalls += 1
        self._hang = asyncio.Event()
        _log.info("%s: the firmware hangs (fault injection)", o.name)
        if o.stall_for_s is not None:
            asyncio.get_running_loop().call_later(o.stall_for_s, self._recover)

    def _recover(self) -> None:
        hang, self._hang = self._hang, None
        if hang is not None and not hang.is_set():
            _log.info("%s: the firmware recovers (watchdog reset)", self.options.name)
            hang.set()

    async def _while_hung(self, session: _Session) -> None:
        """Wait until the firmware recovers or the link goes (no-op when not hung)."""
        hang = self._hang
        while hang is not None and not hang.is_set() and not session.closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hang.wait(), 0.1)

    async def _send_imu(self, session: _Session, faults: _FaultStream, batch: ImuBatch) -> None:
        self._maybe_hang()
        if self.hung:
            # silent from here on; a recovered firmware has forgotten what it was sending
            await self._while_hung(session)
            raise _Abandoned
        self.air_samples += batch.count
        limit = self._batch_limit(session.connection)
        for piece in split_batch(batch, limit):
            for payload in faults.feed(encode_batch(piece)):
                if session.closed:
                    return
                await self._notify(session, self._data_char, payload)
                self.sent_batches += 1

    # -- RACP --------------------------------------------------------------------------------

    def _on_racp_write(self, connection: Connection, value: bytes) -> Awaitable[None] | None:
        session = self._sessions.get(connection.handle)
        if session is None or session.closed:
            return None
        if self.hung:
            self.faults.ignored_racp += 1
            _log.info("%s: hung firmware ignores RACP write %s", self.options.name, value.hex())
            if not self.options.stall_write_response:
                return self._while_hung(session)  # bumble answers the write when this ends
            return None
        if not self._cccd(connection, self._racp_char) & 0x02:
            raise att.ATT_Error(att.ErrorCode.CCCD_IMPROPERLY_CONFIGURED)
        data = bytes(value)
        try:
            op, operand = decode_racp_request(data)
        except ProfileDecodeError as exc:
            code = data[0] if data and data[0] <= 0x7F else 0
            known = code in {o.value for o in RacpOp}
            status = RacpStatus.INVALID_OPERAND if known else RacpStatus.NOT_SUPPORTED
            _log.info("%s: malformed RACP write %s: %s", self.options.name, data.hex(), exc)
            session.spawn(self._respond(session, code, 0, status))
            return
        if (
            op in (RacpOp.SEND, RacpOp.START_LIVE)
            and not self._cccd(connection, self._data_char) & 1
        ):
            raise att.ATT_Error(att.ErrorCode.CCCD_IMPROPERLY_CONFIGURED)
        sending = session.send_task is not None and not session.send_task.done()
        if op == RacpOp.ABORT:
            if operand != 0:
                session.spawn(self._respond(session, op, operand, RacpStatus.INVALID_OPERAND))
            else:
                session.abort = True
                session.spawn(self._abort(session))
        elif sending:
            session.spawn(self._respond(session, op, operand, RacpStatus.BUSY))
        elif op == RacpOp.SEND:
            session.abort = False
            session.send_task = session.spawn(self._send_records(session, operand))
        else:
            session.spawn(self._handle(session, op, operand))

    async def _respond(
        self,
        session: _Session,
        op: int,
        operand: int,
        status: RacpStatus,
        value1: int = 0,
        value2: int = 0,
    ) -> None:
        if self.hung:  # a hung firmware answers nothing, not even a SEND it was running
            self.faults.ignored_racp += 1
            return
        self.racp_log.append((int(op), operand, status))
        payload = encode_racp_response(RacpResponse(op, status, value1, value2))  # type: ignore[arg-type]
        if session.closed or self.device is None:
            return
        try:
            await self.device.indicate_subscriber(session.connection, self._racp_char, payload)
        except Exception as exc:  # the link went down or the central never confirmed
            _log.info("%s: RACP indication not confirmed: %s", self.options.name, exc)

    async def _handle(self, session: _Session, op: RacpOp, operand: int) -> None:
        store = self.records
        if op == RacpOp.REPORT_COUNT:
            last = store.last_seq
            await self._respond(
                session,
                op,
                operand,
                RacpStatus.SUCCESS,
                store.count_from(operand),
                NO_VALUE if last is None else last,
            )
        elif op == RacpOp.DELETE:
            deleted = store.delete_through(operand)
            self.deleted_through = operand
            first = store.first_seq
            await self._respond(
                session,
                op,
                operand,
                RacpStatus.SUCCESS,
                deleted,
                NO_VALUE if first is None else first,
            )
        elif op in (RacpOp.START_LIVE, RacpOp.STOP_LIVE):
            if operand != 0:
                await self._respond(session, op, operand, RacpStatus.INVALID_OPERAND)
                return
            if op == RacpOp.START_LIVE:
                self._start_live(session)
            else:
                self._stop_live(session)
            await self._respond(session, op, operand, RacpStatus.SUCCESS)
        else:  # pragma: no cover - every RacpOp is handled above
            await self._respond(session, op, operand, RacpStatus.NOT_SUPPORTED)

    async def _abort(self, session: _Session) -> None:
        task = session.send_task
        if task is not None and not task.done():
            await asyncio.wait([task])
        await self._respond(session, RacpOp.ABORT, 0, RacpStatus.SUCCESS)

    async def _send_records(self, session: _Session, first: int) -> None:
        op = RacpOp.SEND
        store = self.records
        through = store.last_seq
        if through is None or store.count_from(first) == 0:
            await self._respond(session, op, first, RacpStatus.NO_RECORDS, 0, NO_VALUE)
            return
        if not self._batch_limit(session.connection):
            await self._raise_mtu(session)
            if not self._batch_limit(session.connection):
                _log.warning(
                    "%s: ATT MTU %d is too small for one sample; negotiate a larger MTU",
                    self.options.name,
                    session.connection.att_mtu,
                )
                await self._respond(session, op, first, RacpStatus.NOT_SUPPORTED, 0, NO_VALUE)
                return
        faults = _FaultStream(session.rng, self.options, self.faults)
        sent, last = 0, NO_VALUE
        started = time.perf_counter()
        for batch in store.iter_from(first, through=through):
            if session.abort or session.closed:
                break
            try:
                await self._send_imu(session, faults, batch)
            except _Abandoned:  # hung, then reset: the SEND is never finished nor indicated
                self.sent_samples += sent
                return
            sent += batch.count
            last = batch.last_seq
        else:
            for payload in faults.flush():
                await self._notify(session, self._data_char, payload)
                self.sent_batches += 1
        self.sent_samples += sent
        elapsed = time.perf_counter() - started
        _log.info(
            "%s: sent %d samples in %.2f s (%.0f samples/s)",
            self.options.name,
            sent,
            elapsed,
            sent / elapsed if elapsed else 0.0,
        )
        status = RacpStatus.ABORTED if session.abort else RacpStatus.SUCCESS
        await self._respond(session, op, first, status, sent, last)

    async def _raise_mtu(self, session: _Session) -> None:
        """Peripheral-initiated MTU exchange, once per connection, when the central skipped it."""
        if session.mtu_requested:
            return
        session.mtu_requested = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                session.connection.gatt_client.request_mtu(self.options.max_mtu), 5.0
            )

    # -- live --------------------------------------------------------------------------------

    def _start_live(self, session: _Session) -> None:
        if session.live:
            return
        session.live = True
        session.live_task = session.spawn(self._live_sender(session))
        self._ensure_sampler()

    def _stop_live(self, session: _Session) -> None:
        session.live = False
        if session.live_task is not None:
            session.live_task.cancel()
            session.live_task = None
        while not session.live_queue.empty():
            session.live_queue.get_nowait()
        self._maybe_stop_sampler()

    def _ensure_sampler(self) -> None:
        if self.options.kind != "imu" or self.sampling:
            return
        if self._feed is None:
            self._feed = _SampleFeed(self._live_source(), self._axes)
        self._sampler = asyncio.get_running_loop().create_task(self._sample_loop(self._feed))
        self._sampler.add_done_callback(self._task_done)

    def _maybe_stop_sampler(self) -> None:
        if self.options.log_continuously and self._running:
            return
        if any(s.live for s in self._sessions.values()):
            return
        if self._sampler is not None:
            self._sampler.cancel()
            self._sampler = None

    def _live_source(self) -> LiveSource:
        if self.live_source is not None:
            return self.live_source
        o = self.options
        return lambda: simulated_live_source(
            placement=o.placement or "thigh", rate_hz=o.rate_hz, seed=o.seed, tz=o.tz
        )

    async def _sample_loop(self, feed: _SampleFeed) -> None:
        o = self.options
        chunk = max(1, round(o.live_batch_s * o.rate_hz))
        # The clock starts now; if the source is slow to produce its first samples (the default
        # simulator renders a whole day first), the batches due meanwhile follow in a burst.
        start_mono = time.monotonic()
        start_dev_ns = self.device_time_ns()
        k = 0
        try:
            while True:
                due = start_mono + (k + chunk) / o.rate_hz / o.time_scale
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                values = await feed.take(chunk)
                self._log_live(values, start_dev_ns + k * self._period_ns)
                k += chunk
        except _SourceExhausted:
            _log.info("%s: the live source is exhausted; sampling stops", o.name)

    def _log_live(self, values: np.ndarray, t0_ns: int) -> None:
        n = len(values)
        index = np.arange(n, dtype=np.int64)
        frame = pd.DataFrame(
            {"t": t0_ns + index * self._period_ns, "seq": self.next_seq + index},
        )
        for k, name in enumerate(self._axes):
            frame[name] = values[:, k]
        o = self.options
        batches = frame_to_batches(
            frame,
            acc_range_g=o.acc_range_g,
            gyro_range_dps=o.gyro_range_dps,
            rate_hz=o.rate_hz,
            max_samples=self._store_max,
            live=True,
        )
        self.next_seq += n
        self.records.add(batches)
        for session in self._sessions.values():
            if not session.live:
                continue
            for batch in batches:
                if session.live_queue.full():  # a central that lags far behind: overrun
                    session.live_queue.get_nowait()
                    self.faults.lost += 1
                session.live_queue.put_nowait(batch)

    async def _live_sender(self, session: _Session) -> None:
        faults = _FaultStream(session.rng, self.options, self.faults)
        while True:
            batch = await session.live_queue.get()
            before = self.sent_batches
            try:
                await self._send_imu(session, faults, batch)
            except _Abandoned:  # hung, then reset: the stream is gone until START_LIVE again
                session.live_task = None
                self._stop_live(session)
                return
            self.live_batches += self.sent_batches - before

    # -- footpod -----------------------------------------------------------------------------

    async def _rsc_loop(self) -> None:
        o = self.options
        strides, activities = self._strides, self._activities
        if strides is None or len(strides) == 0:
            truth = await asyncio.to_thread(
                simulate_day,
                local_today(o.tz),
                placement="foot",
                tz=o.tz or system_tz(),
                seed=o.seed,
                evening_run=True,
                truth_only=True,
            )
            strides, activities = truth.truth.strides, truth.truth.activities
        player = _StridePlayer(strides, activities, o.stride_convention)
        streams: dict[int, _FaultStream] = {}
        start = time.monotonic()
        tick = 0
        while True:
            tick += 1
            delay = start + tick * o.rsc_interval_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            payload = encode_rsc_measurement(player.step(o.rsc_interval_s))
            for session in list(self._sessions.values()):
                if not self._cccd(session.connection, self._rsc_char) & 1:
                    continue
                stream = streams.get(session.index)
                if stream is None:
                    stream = streams[session.index] = _FaultStream(session.rng, o, self.faults)
                for data in stream.feed(payload):
                    await self._notify(session, self._rsc_char, data)
                    self.rsc_measurements += 1


# --------------------------------------------------------------------------------------------
# Simulation -> wearable
# --------------------------------------------------------------------------------------------


def _next_seq_after(sim: SimulatedRecording) -> int:
    """The first seq after a simulated day (counting samples the link dropped at its end)."""
    last = int(sim.samples["seq"].iloc[-1]) if len(sim.samples) else -1
    lost = sim.truth.lost_packets
    if len(lost):
        last = max(last, int((lost["first_missing_seq"] + lost["missing_count"] - 1).max()))
    return last + 1


def wearable_from_simulation(
    sim: SimulatedRecording | Sequence[SimulatedRecording],
    options: WearableOptions | None = None,
    *,
    live_source: LiveSource | None = None,
) -> VirtualWearable:
    """A wearable holding the simulated day(s) as its offline log (IMU) or strides (footpod).

    IMU: each day's samples, shifted onto the device clock (+ ``clock_offset_s``), are quantized
    with ``frame_to_batches`` in batches of ``max_samples_per_batch(517, has_gyro)`` samples;
    ``wearable.records.to_frame()`` is exactly what a SEND delivers. ``rate_hz`` and
    ``placement`` come from the simulation. The default live source continues with the
    simulated person's next day. Footpod: the truth strides and activities are replayed.
    """
    sims = [sim] if isinstance(sim, SimulatedRecording) else list(sim)
    if not sims:
        raise UsageError("wearable_from_simulation needs at least one simulated day")
    base = options or WearableOptions()
    first, last = sims[0], sims[-1]
    if base.kind == "footpod":
        strides = pd.concat([s.truth.strides for s in sims], ignore_index=True)
        activities = pd.concat([s.truth.activities for s in sims], ignore_index=True)
        return VirtualWearable(base, strides=strides, activities=activities)
    options = dataclasses.replace(
        base, rate_hz=first.rate_hz, placement=first.placement, tz=base.tz or first.tz
    )
    offset_ns = round(options.clock_offset_s * NS_PER_S)
    limit = max_samples_per_batch(STORE_MTU, options.has_gyro)
    store = RecordStore()
    wearable_jumps = 0
    for day in sims:
        if day.rate_hz != first.rate_hz:
            raise UsageError("all simulated days of one wearable need the same rate_hz")
        frame = day.samples
        if not options.has_gyro:
            frame = frame.drop(columns=[c for c in GYRO_COLUMNS if c in frame.columns])
        t = frame["t"].to_numpy() + offset_ns
        seq = frame["seq"].to_numpy()
        cuts = {0, len(frame)}
        for at_seq, jump_s in options.clock_jumps:  # the clock jumps before stamping at_seq
            at = int(np.searchsorted(seq, at_seq))
            t[at:] += round(jump_s * NS_PER_S)
            cuts.add(at)
        frame = frame.assign(t=t)
        for a, b in itertools.pairwise(sorted(cuts)):  # a jump starts a new record (batch)
            if a == b:
                continue
            if a and a < len(frame):
                wearable_jumps += 1
            store.add(
                frame_to_batches(
                    frame.iloc[a:b],
                    acc_range_g=options.acc_range_g,
                    gyro_range_dps=options.gyro_range_dps,
                    rate_hz=options.rate_hz,
                    max_samples=limit,
                )
            )
    if live_source is None and last.day is not None:
        following = last.day + dt.timedelta(days=1)
        live_source = _continuation(options, last, following)
    wearable = VirtualWearable(options, store, live_source)
    wearable.faults.clock_jumps = wearable_jumps
    wearable.next_seq = max(wearable.next_seq, _next_seq_after(last))
    return wearable


def _continuation(
    options: WearableOptions, sim: SimulatedRecording, day: dt.date
) -> Callable[[], Iterator[pd.DataFrame]]:
    return lambda: simulated_live_source(
        placement=sim.placement, rate_hz=sim.rate_hz, seed=sim.seed, tz=sim.tz, first_day=day
    )


def simulate_days(
    days: int,
    *,
    placement: str = "thigh",
    rate_hz: float = 50.0,
    tz: str | None = None,
    seed: int = 0,
    last_day: dt.date | None = None,
    packet_loss: float = 0.0,
    device_id: str | None = None,
) -> list[SimulatedRecording]:
    """``days`` consecutive simulated days ending ``last_day`` (default: yesterday in ``tz``),
    with ``seq`` continuing from day to day as one device's counter would."""
    if days < 1:
        raise UsageError(f"days={days} must be at least 1")
    tz = tz or system_tz()
    last_day = last_day or local_today(tz) - dt.timedelta(days=1)
    out: list[SimulatedRecording] = []
    seq = 0
    for i in range(days):
        day = last_day - dt.timedelta(days=days - 1 - i)
        sim = simulate_day(
            day,
            placement=placement,
            rate_hz=rate_hz,
            tz=tz,
            seed=seed,
            device_id=device_id,
            packet_loss=packet_loss,
            seq_start=seq,
        )
        seq = _next_seq_after(sim)
        out.append(sim)
    return out


async def run_virtual_wearable(
    adapter: str,
    options: WearableOptions | None = None,
    *,
    days: int = 1,
    seed: int | None = None,
    tz: str | None = None,
    last_day: dt.date | None = None,
    packet_loss: float = 0.0,
    ready: Callable[[VirtualWearable], None] | None = None,
) -> None:
    """Simulate ``days`` days (IMU) or a day's strides (footpod), load them, start on
    ``adapter`` and serve until cancelled (``psoas simulate-device``). ``ready`` is called once
    the wearable advertises."""
    options = options or WearableOptions()
    seed = options.seed if seed is None else seed
    tz = tz or options.tz or system_tz()
    zone(tz)
    if options.kind == "footpod":
        day = last_day or local_today(tz)
        sims = [
            await asyncio.to_thread(
                simulate_day,
                day,
                placement="foot",
                tz=tz,
                seed=seed,
                evening_run=True,
                truth_only=True,
            )
        ]
    else:
        sims = await asyncio.to_thread(
            simulate_days,
            days,
            placement=options.placement or "thigh",
            rate_hz=options.rate_hz,
            tz=tz,
            seed=seed,
            last_day=last_day,
            packet_loss=packet_loss,
        )
    options = dataclasses.replace(options, seed=seed, tz=tz)
    wearable = await asyncio.to_thread(wearable_from_simulation, sims, options)
    await wearable.start(adapter)
    try:
        if ready is not None:
            ready(wearable)
        await asyncio.Event().wait()
    finally:
        await wearable.stop()
