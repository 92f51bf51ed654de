"""The canonical data contract that every stage of psoas shares.

- Time is ``int64`` nanoseconds since the Unix epoch, UTC, in column ``t``.
- IMU samples: ``t, seq, ax, ay, az`` (g) and optionally ``gx, gy, gz`` (deg/s); signals are
  ``float32``. ``seq`` is the device's monotonically increasing sample counter; it makes
  ingest exactly-once.
- Device metrics (watch, footpod) are long format ``t, metric, value``; each metric name carries
  its unit (``METRIC_UNITS``).
- Derived tables have fixed columns (``DERIVED_TABLES``).

Importers and the Bluetooth collector hand their frames to :func:`validate_imu` or
:func:`validate_metrics`; everything downstream trusts what passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from sensors.errors import SchemaError

PLACEMENTS: Final = ("thigh", "lower_back", "wrist", "foot", "chest", "unknown")

ACC_COLUMNS: Final = ("ax", "ay", "az")
"""Acceleration along the sensor's x, y, z axes, in g (1 g = 9.80665 m/s^2)."""
GYRO_COLUMNS: Final = ("gx", "gy", "gz")
"""Rotation rate about the sensor's x, y, z axes, in deg/s."""
IMU_COLUMNS: Final = ("t", "seq", *ACC_COLUMNS, *GYRO_COLUMNS)

STANDARD_GRAVITY_MPS2: Final = 9.80665

IMU_DTYPES: Final[Mapping[str, str]] = {
    "t": "int64",
    "seq": "int64",
    **dict.fromkeys(ACC_COLUMNS + GYRO_COLUMNS, "float32"),
}

METRIC_UNITS: Final[Mapping[str, str]] = {
    "steps": "count since the previous row",
    "cadence_spm": "steps per minute (both feet)",
    "stride_length_m": "metres, one full gait cycle (two steps)",
    "stride_length_derived_m": (
        "metres, one full gait cycle (two steps), derived from speed x 120 / cadence_spm"
    ),
    "step_length_m": "metres, one step",
    "speed_mps": "metres per second",
    "distance_m": "metres, cumulative",
    "heart_rate_bpm": "beats per minute",
    "activity_type": "code, see ACTIVITY_TYPES",
    "intensity": "device-specific intensity level",
    "stance_time_ms": "milliseconds",
    "vertical_oscillation_mm": "millimetres",
    "battery_pct": "percent",
    "temperature_c": "degrees Celsius (sensor's internal temperature)",
    "distance_walking_m": "metres walked or run in the interval that ends at t (not cumulative)",
    "stand_hour": "1 = stood during the hour that starts at t, 0 = did not (Apple Watch)",
    "workout_s": "seconds, duration of the workout that starts at t",
    "workout_distance_m": "metres, distance of the workout that starts at t",
    "workout_activity": (
        "code of the workout that starts at t: 0 other, 1 running, 2 cycling, "
        "4 fitness equipment, 5 swimming, 6 walking, 100 hiking"
    ),
}
"""Every metric name psoas knows, with the unit its values are in."""

ACTIVITY_TYPES: Final[Mapping[int, str]] = {
    0: "generic",
    1: "running",
    2: "cycling",
    3: "transition",
    4: "fitness_equipment",
    5: "swimming",
    6: "walking",
    8: "sedentary",
}
"""Activity codes stored in the ``activity_type`` metric (the FIT SDK's activity_type values)."""

METRIC_DTYPES: Final[Mapping[str, str]] = {"t": "int64", "metric": "string", "value": "float64"}

# Derived tables: column -> dtype. ``start``/``end``/``t`` are UTC ns like every time in psoas.
DERIVED_TABLES: Final[Mapping[str, Mapping[str, str]]] = {
    "gaps": {
        "device_id": "string",
        "start": "int64",
        "end": "int64",
        "first_missing_seq": "int64",
        "missing_count": "int64",
        "reason": "string",
    },
    "sitting_bouts": {
        "device_id": "string",
        "day": "string",
        "start": "int64",
        "end": "int64",
        "duration_s": "float64",
        "sitting_s": "float64",
        "posture": "string",
        "placement": "string",
        "ended_by": "string",
        "bout_start": "int64",
        "bout_end": "int64",
    },
    "transitions": {
        "device_id": "string",
        "day": "string",
        "t": "int64",
        "kind": "string",
        "duration_s": "float64",
        "lean_deg": "float64",
    },
    "posture_runs": {
        "device_id": "string",
        "day": "string",
        "start": "int64",
        "end": "int64",
        "posture": "string",
    },
    "strides": {
        "device_id": "string",
        "day": "string",
        "t": "int64",
        "foot": "string",
        "stride_length_m": "float64",
        "stride_time_s": "float64",
        "cadence_spm": "float64",
        "speed_mps": "float64",
        "uncertainty_m": "float64",
        "clearance_m": "float64",
        "source": "string",
    },
    "alerts": {
        "device_id": "string",
        "day": "string",
        "t": "int64",
        "kind": "string",
        "streak_s": "float64",
        "bout_start": "int64",
        "source": "string",
        "acknowledged": "bool",
    },
    "day_preview": {  # the day's acceleration for display: PREVIEW_BIN_S means of the raw axes
        "device_id": "string",
        "day": "string",
        "t": "int64",
        "ax": "float64",
        "ay": "float64",
        "az": "float64",
    },
    "routine_log": {  # append-only: an edit is a new version of the entry (see analysis/routine)
        "entry_id": "string",
        "version": "int64",
        "t": "int64",
        "day": "string",
        "program": "string",
        "kind": "string",
        "item": "string",
        "side": "string",
        "sets": "float64",
        "reps": "float64",
        "seconds": "float64",
        "minutes": "float64",
        "value": "float64",
        "result": "string",
        "note": "string",
        "deleted": "bool",
        "origin": "string",
    },
    "daily_summary": {
        "device_id": "string",
        "day": "string",
        "placement": "string",
        "samples": "int64",
        "recorded_s": "float64",
        "gap_count": "int64",
        "missing_samples": "int64",
        "first_t": "int64",
        "last_t": "int64",
        "wear_s": "float64",
        "non_wear_s": "float64",
        "sitting_s": "float64",
        "upright_s": "float64",
        "lying_s": "float64",
        "sitting_bouts": "int64",
        "longest_bout_s": "float64",
        "breaks": "int64",
        "breaks_per_sitting_hour": "float64",
        "bouts_over_30min": "int64",
        "bouts_over_45min": "int64",
        "median_bout_s": "float64",
        "sit_to_stand": "int64",
        "posture_method": "string",
        "calibration": "string",
        "calibration_error_before_g": "float64",
        "calibration_error_after_g": "float64",
    },
    "weekly_stride": {
        "device_id": "string",
        "source": "string",
        "mode": "string",
        "week": "string",
        "strides": "int64",
        "days": "int64",
        "median_stride_length_m": "float64",
        "adjusted_stride_length_m": "float64",
        "ci_low_m": "float64",
        "ci_high_m": "float64",
        "reference_speed_mps": "float64",
        "median_cadence_spm": "float64",
        "median_speed_mps": "float64",
        "diff_prev_m": "float64",
        "diff_prev_ci_low_m": "float64",
        "diff_prev_ci_high_m": "float64",
        "note": "string",
    },
}

EXPORT_TABLES: Final = ("raw", "metrics", *DERIVED_TABLES)
"""Every table ``psoas export`` knows, in the order the documentation lists them."""


def empty_table(name: str) -> pd.DataFrame:
    """An empty frame with the canonical columns and dtypes of derived table ``name``."""
    columns = DERIVED_TABLES[name]
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in columns.items()})


def validate_imu(frame: pd.DataFrame, *, where: str = "samples") -> pd.DataFrame:
    """Check ``frame`` against the IMU contract and return it with canonical dtypes.

    Raises :class:`SchemaError` naming the column and the first offending row (0-based position in
    ``frame``) when a required column is missing, a value is missing or not finite, ``t`` goes
    backwards, or ``seq`` does not strictly increase. ``where`` prefixes the message (a file name,
    a device) so the user knows which input to look at.
    """
    missing = [c for c in ("t", "seq", *ACC_COLUMNS) if c not in frame.columns]
    if missing:
        raise SchemaError(f"{where}: missing column(s) {', '.join(missing)}")
    gyro = [c for c in GYRO_COLUMNS if c in frame.columns]
    if gyro and len(gyro) != 3:
        raise SchemaError(f"{where}: gyroscope needs all of gx, gy, gz; got only {', '.join(gyro)}")
    columns = ["t", "seq", *ACC_COLUMNS, *gyro]
    out = {}
    for name in columns:
        values = frame[name].to_numpy()
        if name in ("t", "seq"):
            out[name] = _as_int64(values, name, where)
        else:
            out[name] = _as_finite_float32(values, name, where)
    _check_increasing(out["t"], "t", where, strict=False)
    _check_increasing(out["seq"], "seq", where, strict=True)
    return pd.DataFrame(out, copy=False)


def validate_metrics(frame: pd.DataFrame, *, where: str = "metrics") -> pd.DataFrame:
    """Check a long-format metrics frame (``t, metric, value``) and return canonical dtypes.

    Metric names must be in :data:`METRIC_UNITS`; values must be finite.
    """
    missing = [c for c in ("t", "metric", "value") if c not in frame.columns]
    if missing:
        raise SchemaError(f"{where}: missing column(s) {', '.join(missing)}")
    t = _as_int64(frame["t"].to_numpy(), "t", where)
    metric = frame["metric"].astype("string")
    unknown = ~metric.isin(list(METRIC_UNITS))
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise SchemaError(
            f"{where}: column metric, row {row}: unknown metric {metric.iloc[row]!r}; "
            f"known metrics: {', '.join(METRIC_UNITS)}"
        )
    value = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(value)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise SchemaError(f"{where}: column value, row {row}: {frame['value'].iloc[row]!r}")
    return pd.DataFrame({"t": t, "metric": metric.to_numpy(), "value": value}, copy=False).astype(
        {"metric": "string"}
    )


def _as_int64(values: np.ndarray, name: str, where: str) -> np.ndarray:
    if values.dtype.kind in "iu":
        return values.astype("int64", copy=False)
    numeric = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(numeric) | (numeric != np.round(numeric))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise SchemaError(f"{where}: column {name}, row {row}: {values[row]!r} is not an integer")
    return numeric.astype("int64")


def _as_finite_float32(values: np.ndarray, name: str, where: str) -> np.ndarray:
    if values.dtype.kind not in "fiu":
        values = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64")
    out = values.astype("float32", copy=False)
    bad = ~np.isfinite(out)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise SchemaError(
            f"{where}: column {name}, row {row}: {values[row]!r} is missing or not a finite number"
        )
    return out


def _check_increasing(values: np.ndarray, name: str, where: str, *, strict: bool) -> None:
    if len(values) < 2:
        return
    bad = values[1:] <= values[:-1] if strict else values[1:] < values[:-1]
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        rule = "strictly increase" if strict else "never decrease"
        raise SchemaError(
            f"{where}: column {name}, row {row}: {values[row]} follows {values[row - 1]}; "
            f"{name} must {rule}"
        )
