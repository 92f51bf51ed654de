"""Stride rows for the ``strides`` table, one source at a time, never pooled silently.

- Foot IMU: :func:`analysis.foot_stride.foot_strides` (zero-velocity strapdown per stride).
- Lower-back IMU: :func:`analysis.trunk_stride.trunk_strides` (inverted pendulum; needs the
  sensor height, else cadence only).
- Watch (FIT), footpod (RSC), phone/app (Apple Health): the device's own values, already in
  psoas units at import (stride = 2 steps). A device row is one record (about a second of gait
  for a watch), not one stride. Where the device also gives speed and cadence, the stride they
  imply (speed x 120 / cadence) is the check: their disagreement is the row's ``uncertainty_m``.
  A stride the watch derived from speed and cadence itself keeps its own source name
  (``<kind>_derived``) so it is never taken for a measurement.
- Thigh and wrist IMUs give steps, not stride length: cadence-only rows
  (``analysis/gait.py``, ``analysis/wrist_gait.py``); psoas does not invent a length.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from sensors.schema import DERIVED_TABLES

STRIDE_COLUMNS: Final = {
    c: d for c, d in DERIVED_TABLES["strides"].items() if c not in ("device_id", "day")
}
"""``strides`` table columns besides ``device_id`` and ``day``."""


def empty_strides() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in STRIDE_COLUMNS.items()})


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly the stride columns and dtypes (missing ones NaN / "unknown")."""
    out = {}
    for column, dtype in STRIDE_COLUMNS.items():
        if column in frame.columns:
            out[column] = frame[column].astype(dtype)
        elif dtype == "string":
            out[column] = pd.Series(["unknown"] * len(frame), dtype="string", index=frame.index)
        else:
            out[column] = pd.Series(np.nan, index=frame.index, dtype=dtype)
    return pd.DataFrame(out).reset_index(drop=True)


def device_strides(metrics: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Stride rows from a device's metrics (``t, metric, value``) of one day."""
    wanted = ["stride_length_m", "stride_length_derived_m", "cadence_spm", "speed_mps"]
    rows = metrics[metrics["metric"].isin(wanted)]
    if rows.empty:
        return empty_strides()
    wide = rows.pivot_table(index="t", columns="metric", values="value", aggfunc="last")
    wide = wide.reindex(columns=wanted)
    measured = wide["stride_length_m"].notna()
    derived = ~measured & wide["stride_length_derived_m"].notna()
    keep = measured | derived
    if not keep.any():
        return empty_strides()
    wide = wide[keep]
    length = wide["stride_length_m"].where(measured[keep], wide["stride_length_derived_m"])
    cadence = wide["cadence_spm"].where(wide["cadence_spm"] > 0)
    implied = wide["speed_mps"] * 120.0 / cadence
    frame = pd.DataFrame(
        {
            "t": wide.index.to_numpy(np.int64),
            "stride_length_m": length.to_numpy(),
            "stride_time_s": (120.0 / cadence).to_numpy(),
            "cadence_spm": cadence.to_numpy(),
            "speed_mps": wide["speed_mps"].to_numpy(),
            "uncertainty_m": np.where(measured[keep], (length - implied).abs(), np.nan),
            "source": np.where(measured[keep], kind, f"{kind}_derived"),
        }
    )
    return conform(frame)
