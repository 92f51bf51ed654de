"""Sit-to-stand and stand-to-sit transitions from a lower-back (trunk) IMU.

Standing up and sitting down both lean the trunk forward (to bring the centre of mass over the
feet) while the body rises or falls. Where the per-second postures change between sitting and
upright (each side at least ``MIN_SIDE_S``), the raw signal around the change is examined:
trunk pitch from the low-passed acceleration (forward lean, degrees, in the orientation the day
learned) and acceleration along the trunk's axis (the rise or fall). A transition is confirmed
when the forward lean peaks at least ``MIN_LEAN_DEG`` above the upright posture and the trunk-axis
acceleration swings by at least ``MIN_VERTICAL_G``; its time is the lean peak, its duration the
time the lean stays above half its peak.
"""

from __future__ import annotations

import itertools
from typing import Final

import numpy as np
import pandas as pd
from scipy import signal as sps

from analysis.posture import MOVING, SITTING, STANDING, Orientation
from analysis.signal import Axes, as_axes, rows
from analysis.sitting import runs_of

SEARCH_S: Final = 4.0
"""Seconds either side of the posture change searched for the lean peak."""
MIN_SIDE_S: Final = 5.0
MIN_LEAN_DEG: Final = 10.0
MIN_VERTICAL_G: Final = 0.1
LOW_PASS_HZ: Final = 2.0
NS: Final = 1_000_000_000


def trunk_transitions(
    t_ns: np.ndarray,
    acc_g: np.ndarray | Axes,
    rate_hz: float,
    epoch_t_ns: np.ndarray,
    codes: np.ndarray,
    orientation: Orientation | None = None,
) -> pd.DataFrame:
    """Confirmed transitions: ``t`` (ns, lean peak), ``kind`` (sit_to_stand / stand_to_sit),
    ``duration_s``, ``lean_deg`` (forward lean above upright). ``acc_g`` (g) is an (n, 3) array
    or the day's three columns (only the samples around each posture change are copied)."""
    axes = as_axes(acc_g, len(t_ns))
    confirmed: list[tuple[int, str, float, float]] = []
    upright = np.where(codes == MOVING, STANDING, codes)  # standing and moving: one side
    runs = [r for r in runs_of(epoch_t_ns, upright) if r.seconds >= MIN_SIDE_S]
    rotation = (orientation or Orientation()).rotation()
    sos = sps.butter(2, min(LOW_PASS_HZ, 0.45 * rate_hz), fs=rate_hz, output="sos")
    for before, after in itertools.pairwise(runs):
        if after.start - before.end > 2 * NS:
            continue
        if before.code == SITTING and after.code == STANDING:
            kind = "sit_to_stand"
        elif before.code == STANDING and after.code == SITTING:
            kind = "stand_to_sit"
        else:
            continue
        found = _confirm(t_ns, axes, rate_hz, after.start, kind, rotation, sos)
        if found is not None:
            confirmed.append((found[0], kind, found[1], found[2]))
    return pd.DataFrame(
        {
            "t": pd.Series([r[0] for r in confirmed], dtype="int64"),
            "kind": pd.Series([r[1] for r in confirmed], dtype="string"),
            "duration_s": pd.Series([r[2] for r in confirmed], dtype="float64"),
            "lean_deg": pd.Series([r[3] for r in confirmed], dtype="float64"),
        }
    )


def _confirm(
    t_ns: np.ndarray,
    axes: Axes,
    rate_hz: float,
    boundary_ns: int,
    kind: str,
    rotation: np.ndarray,
    sos: np.ndarray,
) -> tuple[int, float, float] | None:
    """(lean-peak time ns, duration s, lean deg) of a transition near ``boundary_ns``, or None."""
    # int64 keys: float ones would make numpy convert the whole day's t_ns to float64 per call
    search_ns = round(SEARCH_S * NS)
    a, b = np.searchsorted(t_ns, np.array([boundary_ns - search_ns, boundary_ns + search_ns]))
    if b - a < 2 * rate_hz:
        return None
    window = rows(axes, a, b) @ rotation.T
    smooth = sps.sosfiltfilt(sos, window, axis=0, padlen=min(3 * 6, len(window) - 1))
    lean = np.degrees(np.arctan2(-smooth[:, 2], smooth[:, 0]))  # forward is -z
    t = t_ns[a:b]
    upright_side = t >= boundary_ns if kind == "sit_to_stand" else t < boundary_ns
    baseline = float(np.median(lean[upright_side])) if upright_side.any() else 0.0
    peak = int(np.argmax(lean))
    lean_deg = float(lean[peak] - baseline)
    if lean_deg < MIN_LEAN_DEG:
        return None
    near = np.abs(t - t[peak]) <= 1.5 * NS
    vertical = window[near, 0]
    if float(vertical.max() - vertical.min()) < MIN_VERTICAL_G:
        return None
    above = lean > baseline + lean_deg / 2
    first = peak - int(np.argmin(above[peak::-1])) + 1 if not above[: peak + 1].all() else 0
    last = peak + int(np.argmin(above[peak:])) - 1 if not above[peak:].all() else len(lean) - 1
    duration_s = float(t[last] - t[first]) / NS
    return int(t[peak]), duration_s, lean_deg
