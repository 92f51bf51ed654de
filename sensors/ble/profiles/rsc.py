"""Codec of the Bluetooth SIG Running Speed and Cadence service (footpods), and its canonical rows.

Specifications: Running Speed and Cadence Service v1.0 (RSCS, Bluetooth SIG, 2012), §3.1 RSC
Measurement and §3.2 RSC Feature; field layouts in the Bluetooth SIG GATT Specification
Supplement (GSS), characteristics "RSC Measurement" (0x2A53) and "RSC Feature" (0x2A54).

RSC Measurement (notify), little-endian:

========  =====  ===========================================================================
offset    type   field
========  =====  ===========================================================================
0         u8     flags: bit 0 stride length present, bit 1 total distance present,
                 bit 2 walking (0) / running (1); bits 3–7 reserved
1         u16    instantaneous speed, 1/256 m/s
3         u8     instantaneous cadence, 1/min (foot falls, i.e. steps, per minute)
4         u16    instantaneous stride length, 1/100 m       (if flags bit 0)
4 or 6    u32    total distance, 1/10 m                     (if flags bit 1)
========  =====  ===========================================================================

RSC Feature (read) is a u16 bit field: bit 0 stride length, bit 1 total distance, bit 2 walking
or running status, bit 3 calibration procedure, bit 4 multiple sensor locations supported.

Receipt rules (the Bluetooth Core convention for reserved-for-future-use fields: sent as zero,
ignored on receipt): reserved flag/feature bits are **ignored**, and so are bytes after the last
field the flags announce (a later spec version may append fields there). A payload shorter than
its flags require raises :class:`~sensors.ble.profiles.errors.ProfileDecodeError`.

Which length a footpod reports as "stride length" varies: many send one step, some one full gait
cycle (two steps). :func:`infer_stride_convention` decides from speed and cadence
(``speed = cadence / 60 × step length``); :func:`rsc_to_metrics` then writes canonical
``stride_length_m`` (two steps) and ``step_length_m`` (one step). Cadence is taken as steps per
minute (both feet), as RSCS counts foot falls.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np
import pandas as pd

from sensors.ble.profiles.errors import ProfileEncodeError, ProfileError, decode_error
from sensors.schema import ACTIVITY_TYPES, validate_metrics

FLAG_STRIDE_LENGTH: Final = 0x01
FLAG_TOTAL_DISTANCE: Final = 0x02
FLAG_RUNNING: Final = 0x04
FLAGS_DEFINED: Final = FLAG_STRIDE_LENGTH | FLAG_TOTAL_DISTANCE | FLAG_RUNNING

SPEED_UNITS_PER_MPS: Final = 256
"""Instantaneous speed resolution: 1/256 m/s."""
STRIDE_UNITS_PER_M: Final = 100
"""Instantaneous stride length resolution: 1/100 m."""
DISTANCE_UNITS_PER_M: Final = 10
"""Total distance resolution: 1/10 m."""
SECONDS_PER_MINUTE: Final = 60.0
STEPS_PER_STRIDE: Final = 2
"""A stride (one full gait cycle) is two steps."""

U8_MAX: Final = 0xFF
U16_MAX: Final = 0xFFFF
U32_MAX: Final = 0xFFFF_FFFF

_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_MEASUREMENT_PAYLOAD: Final = "RSC Measurement"
_FEATURE_PAYLOAD: Final = "RSC Feature"

FEATURE_STRIDE_LENGTH: Final = "stride_length"
FEATURE_TOTAL_DISTANCE: Final = "total_distance"
FEATURE_WALKING_RUNNING_STATUS: Final = "walking_running_status"
FEATURE_CALIBRATION: Final = "calibration"
FEATURE_MULTIPLE_SENSOR_LOCATIONS: Final = "multiple_sensor_locations"
FEATURE_BITS: Final[dict[str, int]] = {
    FEATURE_STRIDE_LENGTH: 0,
    FEATURE_TOTAL_DISTANCE: 1,
    FEATURE_WALKING_RUNNING_STATUS: 2,
    FEATURE_CALIBRATION: 3,
    FEATURE_MULTIPLE_SENSOR_LOCATIONS: 4,
}
"""RSC Feature bit of each feature name (RSCS §3.2)."""

_ACTIVITY_CODES: Final = {name: code for code, name in ACTIVITY_TYPES.items()}
ACTIVITY_RUNNING: Final = _ACTIVITY_CODES["running"]
ACTIVITY_WALKING: Final = _ACTIVITY_CODES["walking"]


@dataclass(frozen=True)
class RscMeasurement:
    """One RSC Measurement: speed m/s, cadence steps/min, reported length m (None if absent),
    total distance m (None if absent), running (True) or walking (False)."""

    speed_mps: float
    cadence_spm: int
    stride_length_m: float | None
    total_distance_m: float | None
    running: bool


def _read(data: bytes, offset: int, codec: struct.Struct, field: str, flags: int | None) -> int:
    if len(data) < offset + codec.size:
        why = "" if flags is None else f" (flags {flags:#04x} announce it)"
        raise decode_error(
            _MEASUREMENT_PAYLOAD,
            offset,
            field,
            f"payload is {len(data)} bytes; {field} needs bytes {offset} to "
            f"{offset + codec.size - 1}{why}",
        )
    return int(codec.unpack_from(data, offset)[0])


def decode_rsc_measurement(data: bytes) -> RscMeasurement:
    """An :class:`RscMeasurement` from an RSC Measurement notification (receipt rules above)."""
    flags = _read(data, 0, _U8, "flags", None)
    speed = _read(data, 1, _U16, "speed", None)
    cadence = _read(data, 3, _U8, "cadence", None)
    offset = 4
    stride: float | None = None
    distance: float | None = None
    if flags & FLAG_STRIDE_LENGTH:
        stride = _read(data, offset, _U16, "stride_length", flags) / STRIDE_UNITS_PER_M
        offset += _U16.size
    if flags & FLAG_TOTAL_DISTANCE:
        distance = _read(data, offset, _U32, "total_distance", flags) / DISTANCE_UNITS_PER_M
    return RscMeasurement(
        speed_mps=speed / SPEED_UNITS_PER_MPS,
        cadence_spm=cadence,
        stride_length_m=stride,
        total_distance_m=distance,
        running=bool(flags & FLAG_RUNNING),
    )


def _units(value: float, per_unit: int, maximum: int, field: str) -> int:
    """``value`` in the field's resolution, rounded half to even; range-checked."""
    if not math.isfinite(value):
        raise ProfileEncodeError(f"{_MEASUREMENT_PAYLOAD}: {field} {value} is not finite")
    units = round(value * per_unit)
    if not 0 <= units <= maximum:
        raise ProfileEncodeError(
            f"{_MEASUREMENT_PAYLOAD}: {field} {value} is outside 0 to {maximum / per_unit}"
        )
    return units


def encode_rsc_measurement(m: RscMeasurement) -> bytes:
    """The RSC Measurement value of ``m`` (values rounded to the field resolutions)."""
    flags = FLAG_RUNNING if m.running else 0
    body = [_U16.pack(_units(m.speed_mps, SPEED_UNITS_PER_MPS, U16_MAX, "speed_mps"))]
    cadence = m.cadence_spm
    whole = isinstance(cadence, int | np.integer) or (
        isinstance(cadence, float) and cadence.is_integer()
    )
    if not whole or not 0 <= cadence <= U8_MAX:
        raise ProfileEncodeError(
            f"{_MEASUREMENT_PAYLOAD}: cadence {cadence} is not a whole 0 to {U8_MAX} per min"
        )
    body.append(_U8.pack(int(cadence)))
    if m.stride_length_m is not None:
        flags |= FLAG_STRIDE_LENGTH
        units = _units(m.stride_length_m, STRIDE_UNITS_PER_M, U16_MAX, "stride_length_m")
        body.append(_U16.pack(units))
    if m.total_distance_m is not None:
        flags |= FLAG_TOTAL_DISTANCE
        units = _units(m.total_distance_m, DISTANCE_UNITS_PER_M, U32_MAX, "total_distance_m")
        body.append(_U32.pack(units))
    return _U8.pack(flags) + b"".join(body)


def decode_rsc_feature(data: bytes) -> frozenset[str]:
    """The supported feature names (keys of :data:`FEATURE_BITS`); reserved bits are ignored."""
    if len(data) < _U16.size:
        raise decode_error(
            _FEATURE_PAYLOAD, 0, "features", f"payload is {len(data)} bytes; the value is a u16"
        )
    bits = _U16.unpack_from(data)[0]
    return frozenset(name for name, bit in FEATURE_BITS.items() if bits >> bit & 1)


def encode_rsc_feature(features: Iterable[str]) -> bytes:
    """The RSC Feature value announcing ``features`` (names from :data:`FEATURE_BITS`)."""
    bits = 0
    for name in features:
        if name not in FEATURE_BITS:
            raise ProfileEncodeError(
                f"{_FEATURE_PAYLOAD}: unknown feature {name!r}; known: {', '.join(FEATURE_BITS)}"
            )
        bits |= 1 << FEATURE_BITS[name]
    return _U16.pack(bits)


# --- stride length convention -------------------------------------------------------------------


class StrideConvention(StrEnum):
    """What a footpod's "stride length" field measures."""

    STEP = "step"
    """One step (heel strike to the other foot's heel strike)."""
    STRIDE = "stride"
    """One full gait cycle (two steps)."""
    UNKNOWN = "unknown"


MIN_MOVING_SPEED_MPS: Final = 0.5
"""Samples slower than this are not used to infer the convention (standing, shuffling)."""
MIN_CONVENTION_SAMPLES: Final = 10
"""Fewest moving samples with a length to decide on."""
CONVENTION_TOLERANCE: Final = 0.2
"""Relative tolerance around ratio 1 (step) and 2 (stride): [0.8, 1.2] and [1.6, 2.4].

Wide enough for uncalibrated footpods (speed errors of up to ~10 %), the 1/256 m/s, 1 step/min
and 1 cm quantization, and lag between a pod's speed and length filters; narrow enough that the
two bands stay far apart (1.2 vs 1.6), so a median between them is called ambiguous, not guessed.
"""
MIN_AGREEMENT: Final = 0.6
"""Fraction of the moving samples whose ratio must fall in the chosen band."""


def infer_stride_convention(
    speed_mps: np.ndarray | Sequence[float],
    cadence_spm: np.ndarray | Sequence[float],
    length_m: np.ndarray | Sequence[float | None],
    *,
    min_speed_mps: float = MIN_MOVING_SPEED_MPS,
    min_samples: int = MIN_CONVENTION_SAMPLES,
    tolerance: float = CONVENTION_TOLERANCE,
    min_agreement: float = MIN_AGREEMENT,
) -> StrideConvention:
    """Whether reported lengths are steps or strides, from ``speed = cadence / 60 × step``.

    For every moving sample (speed > ``min_speed_mps``, cadence > 0, a finite length > 0) the
    ratio ``length / (speed × 60 / cadence)`` is ≈ 1 for step lengths and ≈ 2 for stride
    lengths. The median ratio decides when it lies within ``tolerance`` (relative) of 1 or 2 and at
    least ``min_agreement`` of the ratios lie in that same band; fewer than ``min_samples`` moving
    samples, or a median or spread that fits neither, give ``UNKNOWN``. Missing lengths may be
    NaN or None.
    """
    speed = np.asarray(speed_mps, dtype=np.float64)
    cadence = np.asarray(cadence_spm, dtype=np.float64)
    length = np.asarray(length_m, dtype=np.float64)
    if not speed.shape == cadence.shape == length.shape or speed.ndim != 1:
        raise ProfileError(
            f"infer_stride_convention: speed, cadence and length must be 1-D of equal length, "
            f"got shapes {speed.shape}, {cadence.shape}, {length.shape}"
        )
    moving = (
        np.isfinite(speed)
        & np.isfinite(cadence)
        & np.isfinite(length)
        & (speed > min_speed_mps)
        & (cadence > 0)
        & (length > 0)
    )
    if int(moving.sum()) < min_samples:
        return StrideConvention.UNKNOWN
    step_from_speed = speed[moving] * SECONDS_PER_MINUTE / cadence[moving]
    ratio = length[moving] / step_from_speed
    median = float(np.median(ratio))
    for convention, expected in (
        (StrideConvention.STEP, 1.0),
        (StrideConvention.STRIDE, float(STEPS_PER_STRIDE)),
    ):
        low, high = expected * (1 - tolerance), expected * (1 + tolerance)
        if low <= median <= high:
            agreement = float(np.mean((ratio >= low) & (ratio <= high)))
            return convention if agreement >= min_agreement else StrideConvention.UNKNOWN
    return StrideConvention.UNKNOWN


def rsc_arrays(
    measurements: Sequence[RscMeasurement],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(speed_mps, cadence_spm, length_m)`` float64 arrays; an absent length is NaN."""
    speed = np.fromiter((m.speed_mps for m in measurements), np.float64, len(measurements))
    cadence = np.fromiter((m.cadence_spm for m in measurements), np.float64, len(measurements))
    length = np.fromiter(
        (np.nan if m.stride_length_m is None else m.stride_length_m for m in measurements),
        np.float64,
        len(measurements),
    )
    return speed, cadence, length


def rsc_to_metrics(
    t_ns: np.ndarray,
    measurements: Sequence[RscMeasurement],
    convention: StrideConvention,
    *,
    report_activity: bool = True,
) -> pd.DataFrame:
    """Canonical long metrics (``t, metric, value``) of RSC measurements received at ``t_ns``.

    Per measurement: ``speed_mps``, ``cadence_spm``, ``activity_type`` (FIT code: running 1 or
    walking 6; leave out with ``report_activity=False`` when the pod's RSC Feature lacks
    walking/running status, since its flag then always reads "walking"), and where present
    ``distance_m`` and the lengths: ``stride_length_m`` (two steps) and ``step_length_m`` (one
    step), converted per ``convention``. With ``UNKNOWN`` the lengths are left out rather than
    guessed. Rows are ordered by ``t`` (stable); the frame passes ``validate_metrics``.
    """
    t = np.asarray(t_ns)
    if t.ndim != 1 or len(t) != len(measurements):
        raise ProfileError(
            f"rsc_to_metrics: {len(measurements)} measurements but t_ns has shape {t.shape}"
        )
    t = t.astype(np.int64, copy=False)
    speed, cadence, length = rsc_arrays(measurements)
    distance = np.fromiter(
        (np.nan if m.total_distance_m is None else m.total_distance_m for m in measurements),
        np.float64,
        len(measurements),
    )
    parts: list[tuple[str, np.ndarray, np.ndarray]] = [
        ("speed_mps", t, speed),
        ("cadence_spm", t, cadence),
    ]
    has_length = np.isfinite(length)
    if convention == StrideConvention.STEP:
        step = length[has_length]
        parts.append(("stride_length_m", t[has_length], step * STEPS_PER_STRIDE))
        parts.append(("step_length_m", t[has_length], step))
    elif convention == StrideConvention.STRIDE:
        stride = length[has_length]
        parts.append(("stride_length_m", t[has_length], stride))
        parts.append(("step_length_m", t[has_length], stride / STEPS_PER_STRIDE))
    has_distance = np.isfinite(distance)
    parts.append(("distance_m", t[has_distance], distance[has_distance]))
    if report_activity:
        running = np.fromiter((m.running for m in measurements), bool, len(measurements))
        activity = np.where(running, ACTIVITY_RUNNING, ACTIVITY_WALKING).astype(np.float64)
        parts.append(("activity_type", t, activity))
    times = np.concatenate([p[1] for p in parts])
    values = np.concatenate([p[2] for p in parts])
    names = np.concatenate([np.full(len(p[1]), p[0], dtype=object) for p in parts])
    order = np.argsort(times, kind="stable")
    frame = pd.DataFrame({"t": times[order], "metric": names[order], "value": values[order]})
    return validate_metrics(frame, where="RSC measurements")
