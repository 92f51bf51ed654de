"""Gait from sensors that see steps but not stride length (a thigh IMU): cadence, and stride
length only from a measured speed.

A thigh sensor sees every step (the body's impact at each heel strike) but has no way to measure
how far the foot travelled. Its strides are therefore cadence-only rows (``stride_length_m``
NaN, source ``thigh_cadence``) unless another device measured speed at the same time (a footpod,
a watch's GPS): then stride length = speed x stride time, under a source that names both
(``thigh_cadence+speed:<device>``). psoas never invents a stride length.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from analysis.stride import conform, empty_strides

MAX_STEP_S: Final = 1.0
"""Steps further apart than this belong to different walks (cadence below 60 steps/min)."""
SPEED_MATCH_S: Final = 2.0
"""A speed reading within this many seconds of a stride gives it a length."""


def cadence_strides(step_t_ns: np.ndarray, source: str) -> pd.DataFrame:
    """One row per stride (two consecutive steps of one walk) with time and cadence only."""
    step_t_ns = np.sort(np.asarray(step_t_ns, dtype=np.int64))
    if len(step_t_ns) < 3:
        return empty_strides()
    gap = np.diff(step_t_ns) > MAX_STEP_S * 1e9
    walk = np.concatenate([[0], np.cumsum(gap)])
    i = np.arange(len(step_t_ns) - 2)
    same_walk = walk[i] == walk[i + 2]
    i = i[same_walk]
    i = i[::2] if len(i) else i  # strides start every other step: no step counted twice
    stride_s = (step_t_ns[i + 2] - step_t_ns[i]) / 1e9
    return conform(
        pd.DataFrame(
            {
                "t": step_t_ns[i],
                "stride_time_s": stride_s,
                "cadence_spm": 120.0 / stride_s,
                "stride_length_m": np.nan,
                "source": source,
            }
        )
    )


def with_speed(strides: pd.DataFrame, speed: pd.DataFrame, device_id: str) -> pd.DataFrame:
    """Cadence-only strides given a length where ``speed`` (``t`` ns, ``value`` m/s, another
    device's ``speed_mps``) has a reading within ``SPEED_MATCH_S``; the others stay as they are."""
    if strides.empty or speed.empty:
        return strides
    speed = speed.sort_values("t")
    t_speed = speed["t"].to_numpy(np.int64)
    v = speed["value"].to_numpy(np.float64)
    t = strides["t"].to_numpy(np.int64)
    nearest = np.clip(np.searchsorted(t_speed, t), 1, len(t_speed) - 1)
    left_closer = (t - t_speed[nearest - 1]) <= (t_speed[nearest] - t)
    nearest = np.where(left_closer, nearest - 1, nearest)
    close = np.abs(t_speed[nearest] - t) <= SPEED_MATCH_S * 1e9
    moving = v[nearest] > 0.3
    use = close & moving
    out = strides.copy()
    out.loc[use, "speed_mps"] = v[nearest][use]
    out.loc[use, "stride_length_m"] = v[nearest][use] * out.loc[use, "stride_time_s"]
    out.loc[use, "source"] = out.loc[use, "source"] + f"+speed:{device_id}"
    return out
