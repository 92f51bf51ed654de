"""Codec of the psoas open IMU profile, version 1 (``docs/ble-imu-profile.md``, the spec).

Pure functions between GATT payload bytes and canonical IMU frames (``sensors/schema.py``):

- IMU Config (read, 12 bytes) <-> :class:`ImuConfig`;
- IMU Data batch (notification, 26-byte header + int16 samples) <-> :class:`ImuBatch` ->
  canonical frame (``t`` int64 ns, ``seq`` int64, ``ax ay az`` float32 g, ``gx gy gz`` float32
  deg/s);
- Record Access Control Point requests and responses; Device Time (i64 µs).

All multi-byte fields are little-endian. Decoders raise only
:class:`~sensors.ble.profiles.errors.ProfileDecodeError`, naming the byte offset and field;
encoders raise :class:`~sensors.ble.profiles.errors.ProfileEncodeError`.

Choices the spec leaves open (documented here, tested in ``tests/test_ble_profiles.py``):

- Reserved flag bits are ignored on receipt and sent as zero (the Bluetooth Core convention for
  RFU bits), in IMU Config and IMU Data flags alike.
- The gyroscope range list is 125, 250, 500, 1000, 2000 deg/s; with no gyroscope the range
  field must be 0 ("0 if none").
- "Device time within 2000–2100" is the half-open UTC interval [2000-01-01, 2100-01-01).
- The 10 s period limit can never be reached: a u32 of nanoseconds tops out at 4.295 s.
- A batch larger than one notification at the largest ATT MTU (517 - 3 = 514 bytes) is rejected
  ("a batch must fit in one notification"), and so is a batch whose last ``seq`` does not fit the
  canonical int64 ``seq`` (the wire field is u64).
- IMU Config's "most samples per batch" must be 1…255 (a batch's count is a u8); its sample rate
  must be above 0 and is carried in millihertz (encoding rounds to the nearest mHz).
- Device Time is decoded without the 2000–2100 check: an unset device clock is the collector's
  to report, not a malformed payload.

Value scaling: ``value = raw × range / 32768`` is computed in float64 and cast to float32. It is
exact: ``range / 32768`` is 2^-k × (1 or 125), so the product of a 16-bit ``raw`` and the scale has
at most 22 significant bits, which float64 and float32 (24-bit significand) both hold exactly; the
result is thus deterministic on every platform, and :func:`quantize` of it gives ``raw`` back.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

import numpy as np
import pandas as pd

from sensors.ble.profiles.errors import ProfileEncodeError, ProfileError, decode_error
from sensors.schema import ACC_COLUMNS, GYRO_COLUMNS, IMU_DTYPES, validate_imu

# --- profile constants --------------------------------------------------------------------------

PROFILE_VERSION: Final = 1
"""IMU Config ``profile version`` this codec speaks."""
BATCH_FORMAT_VERSION: Final = 1
"""IMU Data ``batch format version`` this codec speaks."""

ACC_RANGES_G: Final = (2, 4, 8, 16)
"""Allowed accelerometer ranges, ±g."""
GYRO_RANGES_DPS: Final = (125, 250, 500, 1000, 2000)
"""Allowed gyroscope ranges, ±deg/s."""
NO_GYRO_RANGE_DPS: Final = 0
"""Gyroscope range field of a device (or batch) without a gyroscope."""

PLACEMENT_CODES: Final[dict[str, int]] = {
    "unknown": 0,
    "thigh": 1,
    "lower_back": 2,
    "wrist": 3,
    "foot": 4,
    "chest": 5,
}
"""IMU Config placement code of each canonical placement (``sensors.schema.PLACEMENTS``)."""
_PLACEMENT_NAMES: Final = {code: name for name, code in PLACEMENT_CODES.items()}

RAW_FULL_SCALE: Final = 32768
"""Raw counts per full range: value = raw × range / RAW_FULL_SCALE."""
RAW_MIN: Final = -32768
RAW_MAX: Final = 32767

ACC_AXES: Final = 3
GYRO_AXES: Final = 3
BYTES_PER_VALUE: Final = 2
"""Each raw value is an int16."""

FLAG_GYRO: Final = 0x01
"""IMU Config and IMU Data flags bit 0: gyroscope present."""
FLAG_LIVE: Final = 0x02
"""IMU Data flags bit 1: live (1) or stored record (0)."""

MAX_BATCH_SAMPLES: Final = 255
"""A batch's ``count`` is a u8."""
MAX_ATT_MTU: Final = 517
"""Largest ATT MTU (Core Specification, Vol 3, Part F, §3.2.9: attribute values ≤ 512 bytes)."""
ATT_NOTIFICATION_OVERHEAD: Final = 3
"""Opcode and handle of a Handle Value Notification: a notification carries MTU − 3 bytes."""
MAX_NOTIFICATION_BYTES: Final = MAX_ATT_MTU - ATT_NOTIFICATION_OVERHEAD

NS_PER_US: Final = 1_000
NS_PER_S: Final = 1_000_000_000
MAX_PERIOD_NS: Final = 10 * NS_PER_S
"""A sample period above 10 s is rejected (unreachable with a u32, see the module docstring)."""
DEVICE_TIME_MIN_US: Final = 946_684_800_000_000
"""2000-01-01T00:00:00Z in µs since the Unix epoch (inclusive)."""
DEVICE_TIME_END_US: Final = 4_102_444_800_000_000
"""2100-01-01T00:00:00Z in µs since the Unix epoch (exclusive)."""
MILLIHERTZ_PER_HZ: Final = 1000

U8_MAX: Final = 0xFF
U16_MAX: Final = 0xFFFF
U32_MAX: Final = 0xFFFF_FFFF
U64_MAX: Final = 0xFFFF_FFFF_FFFF_FFFF
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

_CONFIG = struct.Struct("<BBIBHBH")
"""version, flags, rate mHz, acc range, gyro range, placement, max batch samples."""
_HEADER = struct.Struct("<BBBBHQqI")
"""version, flags, count, acc range, gyro range, first seq, t0 µs, period ns."""
CONFIG_BYTES: Final = _CONFIG.size  # 12
HEADER_BYTES: Final = _HEADER.size  # 26

# Byte offsets, for error messages.
_CFG_OFFSETS: Final = {
    "version": 0,
    "flags": 1,
    "rate_mhz": 2,
    "acc_range_g": 6,
    "gyro_range_dps": 7,
    "placement": 9,
    "max_batch_samples": 10,
}
_HDR_OFFSETS: Final = {
    "version": 0,
    "flags": 1,
    "count": 2,
    "acc_range_g": 3,
    "gyro_range_dps": 4,
    "first_seq": 6,
    "t0_us": 14,
    "period_ns": 22,
    "samples": HEADER_BYTES,
}

_CONFIG_PAYLOAD: Final = "IMU Config"
_BATCH_PAYLOAD: Final = "IMU Data batch"
_REQUEST_PAYLOAD: Final = "RACP request"
_RESPONSE_PAYLOAD: Final = "RACP response"
_TIME_PAYLOAD: Final = "Device Time"

_Problem = tuple[str, str]
"""(field, what is wrong) found by a validator; decoders and encoders wrap it in their error."""


def _axes(has_gyro: bool) -> int:
    return ACC_AXES + GYRO_AXES if has_gyro else ACC_AXES


def _range_problems(has_gyro: bool, acc_range_g: int, gyro_range_dps: int) -> _Problem | None:
    if acc_range_g not in ACC_RANGES_G:
        return "acc_range_g", f"accelerometer range ±{acc_range_g} g is not one of {ACC_RANGES_G}"
    if has_gyro and gyro_range_dps not in GYRO_RANGES_DPS:
        return (
            "gyro_range_dps",
            f"gyroscope range ±{gyro_range_dps} deg/s is not one of {GYRO_RANGES_DPS}",
        )
    if not has_gyro and gyro_range_dps != NO_GYRO_RANGE_DPS:
        return (
            "gyro_range_dps",
            f"gyroscope range is {gyro_range_dps} but the gyroscope flag is clear; "
            f"a device without gyroscope sends {NO_GYRO_RANGE_DPS}",
        )
    return None


# --- IMU Config ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImuConfig:
    """What a device announces in IMU Config.

    ``rate_hz`` in Hz (carried in mHz), ``acc_range_g`` ±g, ``gyro_range_dps`` ±deg/s (0 without
    gyroscope), ``placement`` one of ``sensors.schema.PLACEMENTS``, ``max_batch_samples`` the most
    samples the device puts in one IMU Data batch.
    """

    version: int
    has_gyro: bool
    rate_hz: float
    acc_range_g: int
    gyro_range_dps: int
    placement: str
    max_batch_samples: int


def _config_problem(
    version: int,
    has_gyro: bool,
    rate_mhz: int,
    acc_range_g: int,
    gyro_range_dps: int,
    max_batch_samples: int,
) -> _Problem | None:
    if version != PROFILE_VERSION:
        return "version", f"profile version {version} is not supported (this is v{PROFILE_VERSION})"
    if not 1 <= rate_mhz <= U32_MAX:
        return "rate_mhz", f"sample rate {rate_mhz} mHz is not 1 to {U32_MAX} mHz"
    problem = _range_problems(has_gyro, acc_range_g, gyro_range_dps)
    if problem:
        return problem
    if not 1 <= max_batch_samples <= MAX_BATCH_SAMPLES:
        return (
            "max_batch_samples",
            f"{max_batch_samples} samples per batch; a batch holds 1 to {MAX_BATCH_SAMPLES}",
        )
    return None


def encode_config(cfg: ImuConfig) -> bytes:
    """The 12-byte IMU Config value of ``cfg`` (the rate is rounded to the nearest mHz)."""
    if not math.isfinite(cfg.rate_hz):
        raise ProfileEncodeError(f"{_CONFIG_PAYLOAD}: sample rate {cfg.rate_hz} Hz is not finite")
    rate_mhz = round(cfg.rate_hz * MILLIHERTZ_PER_HZ)
    problem = _config_problem(
        cfg.version,
        cfg.has_gyro,
        rate_mhz,
        cfg.acc_range_g,
        cfg.gyro_range_dps,
        cfg.max_batch_samples,
    )
    if problem:
        raise ProfileEncodeError(f"{_CONFIG_PAYLOAD}: {problem[0]}: {problem[1]}")
    if cfg.placement not in PLACEMENT_CODES:
        raise ProfileEncodeError(
            f"{_CONFIG_PAYLOAD}: placement {cfg.placement!r} is not one of "
            f"{', '.join(PLACEMENT_CODES)}"
        )
    return _CONFIG.pack(
        cfg.version,
        FLAG_GYRO if cfg.has_gyro else 0,
        rate_mhz,
        cfg.acc_range_g,
        cfg.gyro_range_dps,
        PLACEMENT_CODES[cfg.placement],
        cfg.max_batch_samples,
    )


def decode_config(data: bytes) -> ImuConfig:
    """An :class:`ImuConfig` from an IMU Config value (exactly 12 bytes)."""
    if len(data) != CONFIG_BYTES:
        raise decode_error(
            _CONFIG_PAYLOAD, 0, "length", f"{len(data)} bytes; the value is {CONFIG_BYTES} bytes"
        )
    version, flags, rate_mhz, acc, gyro, placement, max_samples = _CONFIG.unpack(data)
    has_gyro = bool(flags & FLAG_GYRO)
    problem = _config_problem(version, has_gyro, rate_mhz, acc, gyro, max_samples)
    if problem:
        field, what = problem
        raise decode_error(_CONFIG_PAYLOAD, _CFG_OFFSETS[field], field, what)
    if placement not in _PLACEMENT_NAMES:
        raise decode_error(
            _CONFIG_PAYLOAD,
            _CFG_OFFSETS["placement"],
            "placement",
            f"placement code {placement} is not one of {sorted(_PLACEMENT_NAMES)}",
        )
    return ImuConfig(
        version=version,
        has_gyro=has_gyro,
        rate_hz=rate_mhz / MILLIHERTZ_PER_HZ,
        acc_range_g=acc,
        gyro_range_dps=gyro,
        placement=_PLACEMENT_NAMES[placement],
        max_batch_samples=max_samples,
    )


# --- IMU Data batch -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ImuBatch:
    """One IMU Data batch: ``raw`` int16 counts, shape ``(count, 3)`` or ``(count, 6)``.

    Sample ``i`` has ``seq = first_seq + i`` and device time ``t0_us × 1000 + i × period_ns`` ns
    since the Unix epoch. ``live`` tells a live notification from a stored record. Two batches are
    equal when every field and every raw value are equal.
    """

    first_seq: int
    t0_us: int
    period_ns: int
    live: bool
    acc_range_g: int
    gyro_range_dps: int
    raw: np.ndarray

    @property
    def count(self) -> int:
        """Number of samples."""
        return int(self.raw.shape[0])

    @property
    def has_gyro(self) -> bool:
        """Whether the samples carry gyroscope axes (6 values per sample)."""
        return int(self.raw.shape[1]) == ACC_AXES + GYRO_AXES

    @property
    def last_seq(self) -> int:
        """``seq`` of the last sample."""
        return self.first_seq + self.count - 1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImuBatch):
            return NotImplemented
        return (
            self.first_seq == other.first_seq
            and self.t0_us == other.t0_us
            and self.period_ns == other.period_ns
            and self.live == other.live
            and self.acc_range_g == other.acc_range_g
            and self.gyro_range_dps == other.gyro_range_dps
            and self.raw.shape == other.raw.shape
            and bool(np.array_equal(self.raw, other.raw))
        )

    __hash__ = None  # type: ignore[assignment]  # holds an array: not hashable


def _batch_problem(
    count: int,
    axes: int,
    acc_range_g: int,
    gyro_range_dps: int,
    first_seq: int,
    t0_us: int,
    period_ns: int,
) -> _Problem | None:
    """What is wrong with a batch's header fields, checked in payload order."""
    if not 1 <= count <= MAX_BATCH_SAMPLES:
        return "count", f"count {count}; a batch holds 1 to {MAX_BATCH_SAMPLES} samples"
    size = HEADER_BYTES + count * axes * BYTES_PER_VALUE
    if size > MAX_NOTIFICATION_BYTES:
        return (
            "count",
            f"{count} samples of {axes} axes make a {size}-byte batch, more than one notification "
            f"holds ({MAX_NOTIFICATION_BYTES} bytes at the largest ATT MTU {MAX_ATT_MTU})",
        )
    problem = _range_problems(axes == ACC_AXES + GYRO_AXES, acc_range_g, gyro_range_dps)
    if problem:
        return problem
    if first_seq < 0 or first_seq + count - 1 > INT64_MAX:
        return (
            "first_seq",
            f"seq {first_seq} to {first_seq + count - 1} does not fit 0 to 2^63-1 "
            "(the canonical int64 seq)",
        )
    if not DEVICE_TIME_MIN_US <= t0_us < DEVICE_TIME_END_US:
        return (
            "t0_us",
            f"device time {t0_us} µs since the epoch is outside 2000–2100; "
            "the device clock is not set",
        )
    if not 1 <= period_ns <= min(MAX_PERIOD_NS, U32_MAX):
        return "period_ns", f"sample period {period_ns} ns is not above 0 and at most 10 s"
    return None


def encode_batch(batch: ImuBatch) -> bytes:
    """The IMU Data notification of ``batch`` (26-byte header + little-endian int16 samples)."""
    raw = np.asarray(batch.raw)
    if raw.ndim != 2 or raw.shape[1] not in (ACC_AXES, ACC_AXES + GYRO_AXES):
        raise ProfileEncodeError(
            f"{_BATCH_PAYLOAD}: raw has shape {raw.shape}; expected (count, 3) or (count, 6)"
        )
    if raw.dtype.kind not in "iu" or (
        raw.dtype != np.int16 and raw.size and (raw.min() < RAW_MIN or raw.max() > RAW_MAX)
    ):
        raise ProfileEncodeError(
            f"{_BATCH_PAYLOAD}: raw must hold int16 counts ({RAW_MIN} to {RAW_MAX}), "
            f"got dtype {raw.dtype}"
        )
    count, axes = int(raw.shape[0]), int(raw.shape[1])
    problem = _batch_problem(
        count,
        axes,
        batch.acc_range_g,
        batch.gyro_range_dps,
        batch.first_seq,
        batch.t0_us,
        batch.period_ns,
    )
    if problem:
        raise ProfileEncodeError(
            f"{_BATCH_PAYLOAD} seq {batch.first_seq}: {problem[0]}: {problem[1]}"
        )
    flags = (FLAG_GYRO if axes > ACC_AXES else 0) | (FLAG_LIVE if batch.live else 0)
    header = _HEADER.pack(
        BATCH_FORMAT_VERSION,
        flags,
        count,
        batch.acc_range_g,
        batch.gyro_range_dps,
        batch.first_seq,
        batch.t0_us,
        batch.period_ns,
    )
    return header + raw.astype("<i2", copy=False).tobytes()


def decode_batch(data: bytes) -> ImuBatch:
    """An :class:`ImuBatch` from an IMU Data notification; every rule of the spec is checked.

    The returned ``raw`` is a read-only copy (the caller may reuse ``data``'s buffer).
    """
    size = len(data)
    if size < HEADER_BYTES:
        raise decode_error(
            _BATCH_PAYLOAD,
            0,
            "header",
            f"payload is {size} bytes, shorter than the {HEADER_BYTES}-byte header",
        )
    version, flags, count, acc, gyro, first_seq, t0_us, period_ns = _HEADER.unpack_from(data)
    if version != BATCH_FORMAT_VERSION:
        raise decode_error(
            _BATCH_PAYLOAD,
            _HDR_OFFSETS["version"],
            "version",
            f"batch format version {version} is not supported (this is v{BATCH_FORMAT_VERSION})",
        )
    axes = _axes(bool(flags & FLAG_GYRO))
    if count == 0:
        raise decode_error(
            _BATCH_PAYLOAD, _HDR_OFFSETS["count"], "count", "count 0; a batch holds 1 to 255"
        )
    expected = HEADER_BYTES + count * axes * BYTES_PER_VALUE
    if size != expected:
        raise decode_error(
            _BATCH_PAYLOAD,
            _HDR_OFFSETS["count"],
            "count",
            f"payload is {size} bytes but count {count} × {axes} axes × {BYTES_PER_VALUE} bytes "
            f"+ {HEADER_BYTES}-byte header needs {expected}",
        )
    problem = _batch_problem(count, axes, acc, gyro, first_seq, t0_us, period_ns)
    if problem:
        field, what = problem
        raise decode_error(_BATCH_PAYLOAD, _HDR_OFFSETS[field], field, what)
    raw = np.frombuffer(data, dtype="<i2", offset=HEADER_BYTES).reshape(count, axes)
    raw = raw.astype(np.int16)  # a native-endian copy, independent of ``data``
    raw.flags.writeable = False
    return ImuBatch(
        first_seq=first_seq,
        t0_us=t0_us,
        period_ns=period_ns,
        live=bool(flags & FLAG_LIVE),
        acc_range_g=acc,
        gyro_range_dps=gyro,
        raw=raw,
    )


def max_samples_per_batch(mtu: int, has_gyro: bool) -> int:
    """Most samples one batch can hold at ATT MTU ``mtu``: ``(mtu − 3 − 26) // (axes × 2)``.

    An MTU above the largest one (517) counts as 517; the result is capped at 255 (u8 count).
    Raises :class:`ProfileEncodeError` when not even one sample fits.
    """
    axes = _axes(has_gyro)
    usable = min(mtu, MAX_ATT_MTU) - ATT_NOTIFICATION_OVERHEAD - HEADER_BYTES
    samples = min(usable // (axes * BYTES_PER_VALUE), MAX_BATCH_SAMPLES)
    if samples < 1:
        need = ATT_NOTIFICATION_OVERHEAD + HEADER_BYTES + axes * BYTES_PER_VALUE
        raise ProfileEncodeError(
            f"ATT MTU {mtu} cannot carry one {axes}-axis IMU sample; negotiate an MTU of at "
            f"least {need}"
        )
    return samples


# --- scaling ------------------------------------------------------------------------------------


def quantize(values_g_or_dps: np.ndarray, range_: int) -> np.ndarray:
    """Raw int16 counts of ``values`` (g or deg/s) at ±``range_``: ``rint(v × 32768 / range)``.

    Rounds half to even and saturates at -32768 / 32767 (±inf too). NaN raises
    :class:`ProfileEncodeError`. For values on the grid (``raw × range / 32768``) it returns
    ``raw`` exactly.
    """
    if not range_ > 0:
        raise ProfileEncodeError(f"quantize: range {range_} must be above 0")
    values = np.asarray(values_g_or_dps, dtype=np.float64)
    with np.errstate(over="ignore"):
        # exact (a power of 2); the division below is the one rounding before rint
        counts = np.multiply(values, RAW_FULL_SCALE, out=np.empty_like(values))
    counts /= range_
    np.rint(counts, out=counts)
    nan = np.isnan(counts)
    if nan.any():
        index = np.unravel_index(int(np.flatnonzero(nan)[0]), values.shape)
        raise ProfileEncodeError(f"quantize: value at index {tuple(map(int, index))} is NaN")
    np.clip(counts, RAW_MIN, RAW_MAX, out=counts)
    return counts.astype(np.int16)


def dequantize(raw: np.ndarray, range_: int | np.ndarray) -> np.ndarray:
    """float32 values (g or deg/s) of raw counts at ±``range_``; exact (see module docstring)."""
    scale = np.asarray(range_, dtype=np.float64) / RAW_FULL_SCALE
    return (np.asarray(raw) * scale).astype(np.float32)


# --- batches <-> canonical frames ---------------------------------------------------------------


def _empty_frame(has_gyro: bool) -> pd.DataFrame:
    columns = ("t", "seq", *ACC_COLUMNS, *(GYRO_COLUMNS if has_gyro else ()))
    return pd.DataFrame({c: pd.Series(dtype=IMU_DTYPES[c]) for c in columns})


def batch_to_frame(batch: ImuBatch) -> pd.DataFrame:
    """The canonical IMU frame of one batch (see :func:`batches_to_frame`)."""
    return batches_to_frame([batch])


def batches_to_frame(batches: Sequence[ImuBatch]) -> pd.DataFrame:
    """One canonical IMU frame of ``batches``, in the order given (no sorting, no de-duplication).

    ``t = t0_us × 1000 + i × period_ns`` (int64 ns, device clock), ``seq = first_seq + i``,
    ``ax ay az`` float32 g and, when the batches carry a gyroscope, ``gx gy gz`` float32 deg/s.
    Vectorised: a day of 240 k batches (4.3 M samples) converts in under a second. All must agree
    on whether they carry a gyroscope (:class:`ProfileError` otherwise); ranges may differ.
    """
    n_batches = len(batches)
    if n_batches == 0:
        return _empty_frame(has_gyro=False)
    widths = {int(b.raw.shape[1]) for b in batches}
    if len(widths) != 1:
        raise ProfileError(
            f"IMU batches mix {sorted(widths)} values per sample; a frame either has a gyroscope "
            "or not: convert accelerometer-only and 6-axis batches separately"
        )
    has_gyro = widths.pop() == ACC_AXES + GYRO_AXES
    header = np.array(
        [
            (b.first_seq, b.t0_us, b.period_ns, b.acc_range_g, b.gyro_range_dps, b.raw.shape[0])
            for b in batches
        ],
        dtype=np.int64,
    )
    first_seq, t0_us, period_ns, acc_range, gyro_range, counts = header.T
    raw = np.concatenate([b.raw for b in batches]) if n_batches > 1 else batches[0].raw
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    index = np.arange(total, dtype=np.int64) - np.repeat(starts, counts)
    out: dict[str, np.ndarray] = {
        "t": np.repeat(t0_us * NS_PER_US, counts) + index * np.repeat(period_ns, counts),
        "seq": np.repeat(first_seq, counts) + index,
    }
    groups = [(ACC_COLUMNS, 0, acc_range)]
    if has_gyro:
        groups.append((GYRO_COLUMNS, ACC_AXES, gyro_range))
    for names, first_axis, ranges in groups:
        uniform = bool((ranges == ranges[0]).all())
        range_ = ranges[0] if uniform else np.repeat(ranges, counts)
        for k, name in enumerate(names):
            out[name] = dequantize(raw[:, first_axis + k], range_)
    return pd.DataFrame(out, copy=False)


def period_from_rate(rate_hz: float) -> int:
    """Sample period in whole ns of a rate in Hz (rounded to the nearest ns)."""
    if not (math.isfinite(rate_hz) and rate_hz > 0):
        raise ProfileEncodeError(f"sample rate {rate_hz} Hz must be a finite number above 0")
    period = round(NS_PER_S / rate_hz)
    if not 1 <= period <= min(MAX_PERIOD_NS, U32_MAX):
        raise ProfileEncodeError(
            f"sample rate {rate_hz} Hz gives a period of {period} ns, which a batch cannot carry "
            f"(1 to {U32_MAX} ns)"
        )
    return period


def frame_to_batches(
    frame: pd.DataFrame,
    *,
    acc_range_g: int,
    gyro_range_dps: int,
    rate_hz: float,
    max_samples: int,
    live: bool = False,
) -> list[ImuBatch]:
    """Quantize a canonical IMU frame into batches, as a device that logs int16 counts would.

    A batch holds at most ``max_samples`` samples with contiguous ``seq``; a ``seq`` jump starts a
    new batch. Each batch's time is its first sample's ``t`` rounded to the nearest µs, with the
    period ``round(1e9 / rate_hz)`` ns. ``gyro_range_dps`` is ignored (sent as 0) when the frame
    has no gyroscope columns. Raises :class:`ProfileEncodeError` for ranges, rates or batch sizes
    a batch cannot carry, and :class:`~sensors.errors.SchemaError` for a non-canonical frame.
    """
    canon = validate_imu(frame, where="IMU frame to send")
    has_gyro = GYRO_COLUMNS[0] in canon.columns
    axes = _axes(has_gyro)
    gyro_range = gyro_range_dps if has_gyro else NO_GYRO_RANGE_DPS
    problem = _range_problems(has_gyro, acc_range_g, gyro_range)
    if problem:
        raise ProfileEncodeError(f"{_BATCH_PAYLOAD}: {problem[0]}: {problem[1]}")
    period_ns = period_from_rate(rate_hz)
    limit = max_samples_per_batch(MAX_ATT_MTU, has_gyro)
    if not 1 <= max_samples <= limit:
        raise ProfileEncodeError(
            f"{max_samples} samples per batch: a {axes}-axis batch holds 1 to {limit} samples "
            "(one notification at the largest ATT MTU)"
        )
    n = len(canon)
    if n == 0:
        return []
    seq = canon["seq"].to_numpy()
    t = canon["t"].to_numpy()
    if seq[0] < 0:
        raise ProfileEncodeError(f"IMU frame to send: row 0: seq {seq[0]} is negative")

    raw = np.empty((n, axes), dtype=np.int16)
    raw[:, :ACC_AXES] = quantize(canon[list(ACC_COLUMNS)].to_numpy(), acc_range_g)
    if has_gyro:
        raw[:, ACC_AXES:] = quantize(canon[list(GYRO_COLUMNS)].to_numpy(), gyro_range)
    raw.flags.writeable = False

    positions = np.arange(n, dtype=np.int64)
    run_start = np.ones(n, dtype=bool)
    run_start[1:] = np.diff(seq) != 1
    run_first = np.maximum.accumulate(np.where(run_start, positions, 0))
    starts = np.flatnonzero((positions - run_first) % max_samples == 0)
    ends = np.append(starts[1:], n)
    half_us = NS_PER_US // 2
    t0_us = (t[starts] + half_us) // NS_PER_US
    bad = (t0_us < DEVICE_TIME_MIN_US) | (t0_us >= DEVICE_TIME_END_US)
    if bad.any():
        row = int(starts[np.flatnonzero(bad)[0]])
        raise ProfileEncodeError(
            f"IMU frame to send: row {row}: t {t[row]} ns is outside 2000–2100, "
            "which a batch cannot carry"
        )
    return [
        ImuBatch(
            first_seq=first,
            t0_us=time_us,
            period_ns=period_ns,
            live=live,
            acc_range_g=acc_range_g,
            gyro_range_dps=gyro_range,
            raw=raw[a:b],
        )
        for first, time_us, a, b in zip(
            seq[starts].tolist(), t0_us.tolist(), starts.tolist(), ends.tolist(), strict=True
        )
    ]


# --- Record Access Control Point ----------------------------------------------------------------


class RacpOp(IntEnum):
    """RACP request opcodes."""

    REPORT_COUNT = 0x01
    SEND = 0x02
    DELETE = 0x03
    ABORT = 0x04
    START_LIVE = 0x10
    STOP_LIVE = 0x11


class RacpStatus(IntEnum):
    """RACP response status."""

    SUCCESS = 0
    NOT_SUPPORTED = 1
    INVALID_OPERAND = 2
    NO_RECORDS = 3
    BUSY = 4
    ABORTED = 5


_RACP_OPS: Final = frozenset(op.value for op in RacpOp)
_RACP_STATUSES: Final = frozenset(status.value for status in RacpStatus)

NO_VALUE: Final = U64_MAX
"""RACP "no value"."""
RACP_RESPONSE_BIT: Final = 0x80
"""A response opcode is the request opcode | 0x80."""
_REQUEST_OPCODE_MAX: Final = 0x7F
_RACP_REQUEST = struct.Struct("<BQ")
_RACP_RESPONSE = struct.Struct("<BBQQ")
RACP_REQUEST_BYTES: Final = _RACP_REQUEST.size  # 9
RACP_RESPONSE_BYTES: Final = _RACP_RESPONSE.size  # 18


@dataclass(frozen=True)
class RacpResponse:
    """An RACP indication; ``value1``/``value2`` mean what the spec's table says per ``op``."""

    op: RacpOp
    status: RacpStatus
    value1: int
    value2: int


def _check_u64(payload: str, field: str, value: int) -> None:
    if not 0 <= value <= U64_MAX:
        raise ProfileEncodeError(f"{payload}: {field} {value} does not fit a u64")


def _check_request_opcode(payload: str, op: int) -> int:
    """``op`` as an int; any 0x00–0x7F is allowed so that a test can send an unknown opcode."""
    op = int(op)
    if not 0 <= op <= _REQUEST_OPCODE_MAX:
        raise ProfileEncodeError(f"{payload}: opcode {op:#x} is not 0x00 to 0x7f")
    return op


def encode_racp_request(op: RacpOp | int, operand: int) -> bytes:
    """``u8 opcode, u64 operand`` (9 bytes)."""
    code = _check_request_opcode(_REQUEST_PAYLOAD, op)
    _check_u64(_REQUEST_PAYLOAD, "operand", operand)
    return _RACP_REQUEST.pack(code, operand)


def _known_ops() -> str:
    return ", ".join(f"{op.value:#04x} {op.name}" for op in RacpOp)


def decode_racp_request(data: bytes) -> tuple[RacpOp, int]:
    """``(op, operand)`` of an RACP write; an unknown opcode raises (field ``opcode``).

    The operand is not judged here (an ABORT with operand 5 decodes): answering
    ``INVALID_OPERAND`` is the device's decision.
    """
    if len(data) != RACP_REQUEST_BYTES:
        raise decode_error(
            _REQUEST_PAYLOAD,
            0,
            "length",
            f"{len(data)} bytes; a request is {RACP_REQUEST_BYTES} (u8 opcode, u64 operand)",
        )
    code, operand = _RACP_REQUEST.unpack(data)
    if code not in _RACP_OPS:
        raise decode_error(
            _REQUEST_PAYLOAD, 0, "opcode", f"unknown opcode {code:#04x}; known: {_known_ops()}"
        )
    return RacpOp(code), operand


def encode_racp_response(resp: RacpResponse) -> bytes:
    """``u8 op | 0x80, u8 status, u64 value1, u64 value2`` (18 bytes).

    ``resp.op`` may be any request opcode 0x00–0x7F, so that a device can answer an unknown
    request with ``NOT_SUPPORTED``.
    """
    code = _check_request_opcode(_RESPONSE_PAYLOAD, resp.op)
    if int(resp.status) not in _RACP_STATUSES:
        raise ProfileEncodeError(f"{_RESPONSE_PAYLOAD}: unknown status {resp.status}")
    _check_u64(_RESPONSE_PAYLOAD, "value1", resp.value1)
    _check_u64(_RESPONSE_PAYLOAD, "value2", resp.value2)
    return _RACP_RESPONSE.pack(code | RACP_RESPONSE_BIT, int(resp.status), resp.value1, resp.value2)


def decode_racp_response(data: bytes) -> RacpResponse:
    """An :class:`RacpResponse` from an RACP indication; unknown opcode or status raises."""
    if len(data) != RACP_RESPONSE_BYTES:
        raise decode_error(
            _RESPONSE_PAYLOAD,
            0,
            "length",
            f"{len(data)} bytes; a response is {RACP_RESPONSE_BYTES} "
            "(u8 opcode, u8 status, u64 value1, u64 value2)",
        )
    code, status, value1, value2 = _RACP_RESPONSE.unpack(data)
    if not code & RACP_RESPONSE_BIT:
        raise decode_error(
            _RESPONSE_PAYLOAD,
            0,
            "opcode",
            f"opcode {code:#04x} lacks the response bit 0x80 (is this a request?)",
        )
    op = code & ~RACP_RESPONSE_BIT
    if op not in _RACP_OPS:
        raise decode_error(
            _RESPONSE_PAYLOAD,
            0,
            "opcode",
            f"response to unknown opcode {op:#04x}; known: {_known_ops()}",
        )
    if status not in _RACP_STATUSES:
        raise decode_error(
            _RESPONSE_PAYLOAD,
            1,
            "status",
            f"unknown status {status}; known: "
            + ", ".join(f"{s.value} {s.name}" for s in RacpStatus),
        )
    return RacpResponse(RacpOp(op), RacpStatus(status), value1, value2)


# --- Device Time --------------------------------------------------------------------------------

_DEVICE_TIME = struct.Struct("<q")
DEVICE_TIME_BYTES: Final = _DEVICE_TIME.size  # 8


def encode_device_time(us: int) -> bytes:
    """Device Time value: i64 µs since the Unix epoch."""
    if not INT64_MIN <= us <= INT64_MAX:
        raise ProfileEncodeError(f"{_TIME_PAYLOAD}: {us} µs does not fit an i64")
    return _DEVICE_TIME.pack(us)


def decode_device_time(data: bytes) -> int:
    """µs since the Unix epoch on the device clock (not range-checked, see module docstring)."""
    if len(data) != DEVICE_TIME_BYTES:
        raise decode_error(
            _TIME_PAYLOAD, 0, "length", f"{len(data)} bytes; the value is {DEVICE_TIME_BYTES}"
        )
    return int(_DEVICE_TIME.unpack(data)[0])
