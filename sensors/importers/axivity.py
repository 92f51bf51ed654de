"""Axivity AX3 / AX6 ``.cwa`` import (OpenMovement continuous wave accelerometer format).

A CWA file is a 1024-byte ``MD`` metadata header followed by 512-byte ``AX`` data blocks. Each
block carries its own sample rate code, sample count, packing (3 x 10-bit values plus a 2-bit
exponent in one 32-bit word, or signed 16-bit values for 3, 6 or 9 axes), the device clock
(whole seconds) and the index of the sample that clock reading belongs to, light, temperature
and a checksum (the 256 little-endian 16-bit words of a block sum to zero).

Decoding is vectorised with numpy over whole runs of blocks (``CHUNK_BLOCKS`` at a time, so a
week-long file is read in bounded memory): there is no Python loop per block or per sample.
Written here rather than taken from a library because the readers that exist (scikit-digital-
health, actipy, openmovement's cwa-convert) are compiled extensions or Java tools that load the
whole file, and none reports which block was bad; this one streams, skips bad blocks, and says
which.

Timestamps follow the reconstruction of scikit-digital-health (our reference decoder): the first
sample of a block is at ``clock - timestampOffset / rate``; the block spans ``sampleCount / rate``
seconds, and when it starts less than one second after the previous block ended, it is joined to
it (the device clock only ticks in whole seconds, so consecutive blocks are stitched). Device
clocks keep local time without daylight-saving changes: they are read in ``options.tz`` with the
UTC offset in force at the first block.

Bad blocks (checksum, header, impossible fields, a truncated last block) are skipped and counted
in :attr:`AxivityImporter.decisions`; the samples are numbered by their position in the file
(``seq``), so a skipped block is a seq jump the store records as a gap.

Temperature (deg C, ``(raw - 171) / 3.142`` as scikit-digital-health) is emitted as one
``temperature_c`` metric row per block when the schema knows that metric.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sensors.errors import ImportFormatError
from sensors.importers.base import Batch, ImportOptions, ProgressCallback
from sensors.store import DeviceInfo, RecordingInfo

log = logging.getLogger(__name__)

HEADER_BYTES = 1024
BLOCK_BYTES = 512
CHUNK_BLOCKS = 10_000
TEMPERATURE_METRIC = "temperature_c"
_MAX_LISTED = 10


@dataclass
class Decisions:
    """What the importer detected or decided, reported to the user."""

    device: str = ""
    clock: str = ""
    bad_blocks: str = ""
    temperature: str = ""


@dataclass(frozen=True)
class CwaHeader:
    """The fields of the ``MD`` header psoas uses."""

    hardware_type: int
    device_id: int
    session_id: int
    sensor_config: int
    rate_code: int

    @property
    def model(self) -> str:
        return "AX6" if self.hardware_type == 0x64 else "AX3"

    @property
    def header_gyro_dps(self) -> float | None:
        """Gyroscope range (deg/s) configured in the header, if any."""
        code = self.sensor_config & 0x0F
        if self.sensor_config in (0, 0xFF) or code == 0:
            return None
        return 8000.0 / (1 << code)


@dataclass
class BadBlock:
    index: int  # 0 = first data block
    offset: int  # byte offset in the file
    reason: str


def parse_header(path: Path, head: bytes) -> CwaHeader:
    """The CWA header of ``path`` (``head`` = its first bytes), or an ImportFormatError."""
    if head[:2] != b"MD":
        raise ImportFormatError(
            f"{path}: byte 0: not an Axivity CWA file (it does not start with 'MD'); "
            f"import the .cwa file the device wrote"
        )
    if len(head) < HEADER_BYTES:
        raise ImportFormatError(
            f"{path}: byte {len(head)}: the file ends inside the {HEADER_BYTES}-byte CWA header; "
            f"the file is truncated, copy it from the device again"
        )
    length = int.from_bytes(head[2:4], "little")
    if length != HEADER_BYTES - 4:
        raise ImportFormatError(
            f"{path}: byte 2: CWA header length {length}, expected {HEADER_BYTES - 4}; "
            f"the header is damaged, copy the file from the device again"
        )
    lower = int.from_bytes(head[5:7], "little")
    upper = int.from_bytes(head[11:13], "little")
    device_id = lower | ((upper if upper != 0xFFFF else 0) << 16)
    return CwaHeader(
        hardware_type=head[4],
        device_id=device_id,
        session_id=int.from_bytes(head[7:11], "little"),
        sensor_config=head[35],
        rate_code=head[36],
    )


@dataclass
class _State:
    """What decoding carries from one chunk of blocks to the next."""

    axes: int | None = None  # channel count of the file, from its first good block
    next_seq: int = 0
    nominal_count: int = 120
    last_index: int = -2  # index of the last good block
    # its end time (device seconds, unstitched) as whole seconds + a fraction relative to them:
    # one float64 of unix seconds resolves only 0.24 us, which shifted the first block of every
    # chunk by up to ~0.1 us against a decode of the same blocks in one chunk
    last_ref: int = 0
    last_t1: float = 0.0
    last_t: int | None = None  # last sample time (ns)
    rate_hz: float | None = None  # sample rate of the first good block


class AxivityImporter:
    name = "axivity-cwa"
    suffixes = (".cwa",)

    def __init__(self) -> None:
        self.decisions = Decisions()
        self.bad_blocks: list[BadBlock] = []

    def sniff(self, path: Path, head: bytes) -> bool:
        return head[:2] == b"MD"

    def read(
        self, path: Path, options: ImportOptions, progress: ProgressCallback
    ) -> Iterator[Batch]:
        decisions = Decisions()
        self.decisions = decisions
        bad: list[BadBlock] = []
        self.bad_blocks = bad
        size = path.stat().st_size
        with path.open("rb") as handle:
            header = parse_header(path, handle.read(HEADER_BYTES))
            device_id = options.device_id or f"axivity-{header.model.lower()}-{header.device_id}"
            decisions.device = (
                f"Axivity {header.model}, device {header.device_id}, session {header.session_id}"
            )
            decisions.temperature = f"stored as metric {TEMPERATURE_METRIC}, one row per block"
            state = _State()
            recording: RecordingInfo | None = None
            offset_ns: int | None = None
            first_index = 0
            while True:
                raw = handle.read(CHUNK_BLOCKS * BLOCK_BYTES)
                if not raw:
                    break
                whole = len(raw) // BLOCK_BYTES
                if whole < len(raw) / BLOCK_BYTES:
                    index = first_index + whole
                    bad.append(
                        BadBlock(
                            index,
                            HEADER_BYTES + index * BLOCK_BYTES,
                            f"truncated ({len(raw) - whole * BLOCK_BYTES} of {BLOCK_BYTES} bytes)",
                        )
                    )
                blocks = np.frombuffer(raw, dtype=np.uint8, count=whole * BLOCK_BYTES)
                blocks = blocks.reshape(whole, BLOCK_BYTES)
                decoded = _decode_chunk(path, blocks, first_index, header, state, bad)
                first_index += whole
                progress(min(handle.tell(), size), size)
                if decoded is None:
                    continue
                samples, temperature = decoded
                if offset_ns is None:
                    offset_ns = _clock_offset_ns(int(samples["t"].iloc[0]), options.tz)
                    decisions.clock = (
                        f"device clock read as local time in {options.tz} "
                        f"(UTC{offset_ns / 3.6e12:+g} h)"
                    )
                if offset_ns:
                    samples["t"] -= offset_ns
                    temperature["t"] -= offset_ns
                if recording is None:
                    recording = RecordingInfo(
                        DeviceInfo(device_id, tz=options.tz, placement=options.placement),
                        source=str(path),
                        placement=options.placement,
                        sensor_height_m=options.sensor_height_m,
                        rate_hz=state.rate_hz,
                    )
                yield Batch(
                    recording,
                    samples=samples,
                    metrics=temperature,
                )
        if bad:
            listed = ", ".join(
                f"#{b.index} at byte {b.offset} ({b.reason})" for b in bad[:_MAX_LISTED]
            )
            more = f" and {len(bad) - _MAX_LISTED} more" if len(bad) > _MAX_LISTED else ""
            decisions.bad_blocks = f"{len(bad)} data block(s) skipped: {listed}{more}"
            log.warning("%s: %s", path, decisions.bad_blocks)
        if recording is None:
            raise ImportFormatError(
                f"{path}: byte {HEADER_BYTES}: no valid data block in the file"
                + (f" ({decisions.bad_blocks})" if bad else "")
                + "; the recording is empty or damaged"
            )


def _clock_offset_ns(t_ns: int, tz: str) -> int:
    """UTC offset (ns) of zone ``tz`` at naive local time ``t_ns`` (device clocks skip DST)."""
    if tz == "UTC":
        return 0
    stamp = pd.Timestamp(t_ns, unit="ns").tz_localize(
        tz, ambiguous=False, nonexistent="shift_forward"
    )
    offset = stamp.utcoffset()
    return 0 if offset is None else int(offset.total_seconds() * 1e9)


def _u16(blocks: np.ndarray, at: int) -> np.ndarray:
    return blocks[:, at].astype(np.int64) | (blocks[:, at + 1].astype(np.int64) << 8)


def _u32(blocks: np.ndarray, at: int) -> np.ndarray:
    return _u16(blocks, at) | (_u16(blocks, at + 2) << 16)


def _unix_seconds(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seconds since 1970 of packed CWA clock values, and whether each is a valid date."""
    year = ((packed >> 26) & 0x3F) + 2000
    month = (packed >> 22) & 0x0F
    day = (packed >> 17) & 0x1F
    hour = (packed >> 12) & 0x1F
    minute = (packed >> 6) & 0x3F
    second = packed & 0x3F
    valid = (month >= 1) & (month <= 12) & (day >= 1) & (hour < 24) & (minute < 60) & (second < 60)
    # days from the civil date (proleptic Gregorian), vectorised
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return days * 86400 + hour * 3600 + minute * 60 + second, valid


def _decode_chunk(
    path: Path,
    blocks: np.ndarray,
    first_index: int,
    header: CwaHeader,
    state: _State,
    bad: list[BadBlock],
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Samples and per-block temperature of a run of data blocks (None if none is good)."""
    n = len(blocks)
    if n == 0:
        return None
    index = first_index + np.arange(n)
    words = blocks.view("<u2")
    checksum_ok = (words.sum(axis=1, dtype=np.uint64) & 0xFFFF) == 0
    is_ax = (blocks[:, 0] == ord("A")) & (blocks[:, 1] == ord("X")) & (_u16(blocks, 2) == 508)
    axes = (blocks[:, 25] >> 4).astype(np.int64)
    packing = (blocks[:, 25] & 0x0F).astype(np.int64)
    count = _u16(blocks, 28)
    capacity = np.where(packing == 0, 120, 240 // np.maximum(axes, 1))
    layout_ok = ((packing == 0) & (axes == 3)) | ((packing == 2) & np.isin(axes, (3, 6, 9)))
    clock, clock_ok = _unix_seconds(_u32(blocks, 14))
    fields_ok = layout_ok & (count >= 1) & (count <= capacity) & clock_ok
    good = is_ax & checksum_ok & fields_ok
    if state.axes is None and good.any():
        state.axes = int(axes[good][0])
    if state.axes is not None:
        good &= axes == state.axes
    for i in np.flatnonzero(~good):
        if not is_ax[i]:
            reason = "not a data block"
        elif not checksum_ok[i]:
            reason = "bad checksum"
        elif state.axes is not None and axes[i] != state.axes and layout_ok[i]:
            reason = f"{axes[i]} axes where the file has {state.axes}"
        else:
            reason = "impossible field values"
        bad.append(BadBlock(int(index[i]), HEADER_BYTES + int(index[i]) * BLOCK_BYTES, reason))
    # seq numbers: samples numbered by position in the file; a bad block uses the nominal count
    if good.any() and state.rate_hz is None:
        state.nominal_count = int(count[good][0])
    slots = np.where(good, count, state.nominal_count)
    seq_start = state.next_seq + np.concatenate(([0], np.cumsum(slots)[:-1]))
    state.next_seq += int(slots.sum())
    if not good.any():
        return None
    g = np.flatnonzero(good)
    blocks, count, index, seq_start = blocks[g], count[g], index[g], seq_start[g]
    packing, clock = packing[g], clock[g]
    nax = state.axes or 3
    rate = 3200.0 / np.left_shift(1, 15 - (blocks[:, 24] & 0x0F).astype(np.int64))
    if state.rate_hz is None:
        state.rate_hz = float(rate[0])
    ts_offset = _u16(blocks, 26)
    ts_offset = np.where(ts_offset >= 0x8000, ts_offset - 0x10000, ts_offset)
    # times in seconds relative to a reference second, so float64 keeps sub-microsecond precision
    ref = int(clock[0])
    t0 = (clock - ref) - ts_offset / rate
    t1 = t0 + count / rate
    prev_t1 = np.concatenate(([state.last_t1 + (state.last_ref - ref)], t1[:-1]))
    prev_index = np.concatenate(([state.last_index], index[:-1]))
    stitch = (prev_index == index - 1) & (t0 - prev_t1 < 1.0)
    start = np.where(stitch, prev_t1, t0)
    period = (t1 - start) / count
    state.last_index = int(index[-1])
    state.last_ref, state.last_t1 = ref, float(t1[-1])
    # samples: a (blocks x slot) grid, masked to each block's count
    width = int(count.max())
    slot = np.arange(width)
    mask = slot[None, :] < count[:, None]
    # when every block is full (the usual case) the grid is the samples: select with basic
    # slicing and reshapes instead of boolean indexing, which copies (a third of the decode time)
    full = bool(mask.all())
    values = np.empty((len(g), width, nax), dtype=np.float64)
    packed = packing == 0
    unpacked = ~packed
    if packed.any():
        rows = slice(None) if packed.all() else packed
        word = blocks[rows, 30:510].copy().view("<u4")[:, :width].astype(np.int64)
        exponent = word >> 30
        for k in range(3):
            v = (word >> (10 * k)) & 0x3FF
            v = (v ^ 0x200) - 0x200
            values[rows, :, k] = (v << exponent) / 256.0
    if unpacked.any():
        unpacked = slice(None) if unpacked.all() else unpacked
        sub = blocks[unpacked]
        cap = 240 // nax
        raw = sub[:, 30 : 30 + cap * nax * 2].copy().view("<i2").reshape(len(sub), cap, nax)
        raw = raw[:, :width, :].astype(np.float64)
        light = _u16(sub, 18)
        acc_scale = np.left_shift(1, 8 + ((light >> 13) & 0x07)).astype(np.float64)
        if nax == 3:
            values[unpacked] = raw / acc_scale[:, None, None]
        else:
            gyro_code = (light >> 10) & 0x07
            fallback = header.header_gyro_dps or 2000.0
            gyro_range = np.where(gyro_code > 0, 8000.0 / np.left_shift(1, gyro_code), fallback)
            gyro_scale = 32768.0 / gyro_range
            values[unpacked, :, 0:3] = raw[:, :, 3:6] / acc_scale[:, None, None]
            values[unpacked, :, 3:6] = raw[:, :, 0:3] / gyro_scale[:, None, None]
            if nax == 9:
                values = values[:, :, :6]
    rel = start[:, None] + slot[None, :] * period[:, None]
    rel = rel.reshape(-1) if full else rel[mask]
    t = ref * 1_000_000_000 + np.rint(rel * 1e9).astype(np.int64)
    seq = seq_start[:, None] + slot[None, :]
    seq = seq.reshape(-1) if full else seq[mask]
    step = np.flatnonzero(np.diff(t) < 0)
    backwards = int(step[0]) if len(step) else None
    if backwards is None and state.last_t is not None and t[0] < state.last_t:
        backwards = -1
    if backwards is not None:
        block = int(np.searchsorted(np.cumsum(count), backwards + 1, side="right"))
        block_index = int(index[min(block, len(index) - 1)])
        raise ImportFormatError(
            f"{path}: byte {HEADER_BYTES + block_index * BLOCK_BYTES}: data block #{block_index} "
            f"has a time before the block preceding it (the device clock was changed during "
            f"the recording); split the file at that block and import the parts"
        )
    state.last_t = int(t[-1])
    flat = values.reshape(-1, values.shape[2]) if full else values[mask]
    frame = {
        "t": t,
        "seq": seq.astype(np.int64),
        "ax": flat[:, 0].astype(np.float32),
        "ay": flat[:, 1].astype(np.float32),
        "az": flat[:, 2].astype(np.float32),
    }
    if nax >= 6:
        frame["gx"] = flat[:, 3].astype(np.float32)
        frame["gy"] = flat[:, 4].astype(np.float32)
        frame["gz"] = flat[:, 5].astype(np.float32)
    temp_raw = _u16(blocks, 20) & 0x3FF
    temperature = pd.DataFrame(
        {
            "t": ref * 1_000_000_000 + np.rint(start * 1e9).astype(np.int64),
            "metric": TEMPERATURE_METRIC,
            "value": (temp_raw - 171.0) / 3.142,
        }
    )
    return pd.DataFrame(frame), temperature
