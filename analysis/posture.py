"""Posture per 1 s epoch from the epoch table of a thigh, lower-back or wrist IMU.

Input is the epoch table of :func:`analysis.signal.epoch_table` (per-epoch mean acceleration per
axis, its standard deviation, ENMO). The mean acceleration of a 1 s epoch is the gravity
estimate; the standard deviation is the movement. Every rule below works on one epoch at a time,
so classifying a stream batch by batch gives exactly what classifying the whole day gives.

Sensor frame (psoas' convention, also the Mobilise-D lower-back frame and the simulator's): ``x``
runs along the body segment and reads +1 g when the segment is upright, ``z`` points out of the
front of the segment (out of the front of the thigh, out of the back for a lower-back sensor is
-z). A sensor worn differently is corrected by :func:`learn_orientation`, which takes the
segment's upright direction from the day's walking (walking is upright for the thigh and the
trunk), so only the axis conventions of the front matter.

Rules (thresholds are module constants, each with its reason):

- thigh: the thigh's inclination from vertical separates sitting/lying (thigh horizontal, more
  than ``THIGH_SITTING_DEG``) from upright; among horizontal epochs, a thigh rotated about its
  own axis (front facing sideways or down: side or prone lying) is lying; supine lying cannot be
  told from sitting by a thigh sensor alone and counts as sitting. Upright epochs are standing or
  moving by the movement threshold.
- lower back: the trunk's backward recline (sagittal-plane angle from upright) above
  ``BACK_RECLINE_DEG`` is sitting (people sit reclined against a backrest or with a posterior
  pelvic tilt), more than ``LYING_DEG`` from vertical is lying; walking is always upright. Forward
  leaning while seated is read as upright: the known weakness of trunk-only posture.
- wrist: only "sedentary" (low movement) vs "active" - a wrist cannot see the thigh; bouts from it
  are labelled sedentary and carry lower confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

# Posture codes, one int8 per epoch. Order matters nowhere; names are what the tables store.
SITTING: Final = 0
STANDING: Final = 1
MOVING: Final = 2
LYING: Final = 3
NON_WEAR: Final = 4
NO_DATA: Final = 5
SEDENTARY: Final = 6
"""Wrist-only: low movement, posture unknown (lower confidence than sitting)."""
POSTURE_NAMES: Final = (
    "sitting",
    "standing",
    "moving",
    "lying",
    "non_wear",
    "no_data",
    "sedentary",
)
POSTURE_CODES: Final = {name: code for code, name in enumerate(POSTURE_NAMES)}
"""Posture name (as the tables store it) -> code."""

THIGH_SITTING_DEG: Final = 45.0
"""Thigh more than this from vertical is horizontal (sitting or lying); halfway, like
ActiPASS / Skotte et al. (2014) who use 45 degrees."""
THIGH_ROTATED_DEG: Final = 60.0
"""A horizontal thigh whose front faces more than this away from up is rotated: lying on the side
or prone (sitting keeps the front of the thigh up, crossed legs rotate it by 20-35 degrees)."""
BACK_RECLINE_DEG: Final = 8.0
"""Trunk reclined backward more than this from the day's walking posture is seated: standing
sway stays within a few degrees, sitting reclines 10-30 degrees."""
LYING_DEG: Final = 60.0
"""Trunk (or thigh, for prone/side checks) more than this from vertical in any direction."""
MOVING_SD_G: Final = 0.1
"""Epoch standard deviation of acceleration (vector of the three axis SDs) above which an
upright epoch is moving (walking gives 0.2-0.5 g, standing weight shifts stay under 0.05 g)."""
WRIST_SEDENTARY_ENMO_G: Final = 0.045
"""Wrist ENMO below this (averaged over a minute) is sedentary: the Hildebrand et al. (2014)
wrist cut-point of about 45 mg."""
WRIST_WINDOW_S: Final = 60
MIN_WALKING_EPOCHS: Final = 120
"""Orientation is learned only from at least two minutes of walking; else the default frame."""

_DEFAULT_UP: Final = np.array([1.0, 0.0, 0.0])


@dataclass(frozen=True)
class Orientation:
    """The sensor's upright direction (unit vector in sensor axes) and where it came from."""

    up: tuple[float, float, float] = (1.0, 0.0, 0.0)
    source: str = "default frame (x up)"

    def rotation(self) -> np.ndarray:
        """3x3 matrix turning sensor vectors so that ``up`` becomes +x (Rodrigues' formula)."""
        u = np.asarray(self.up, dtype=np.float64)
        u = u / np.linalg.norm(u)
        v = np.cross(u, _DEFAULT_UP)
        s, c = float(np.linalg.norm(v)), float(u @ _DEFAULT_UP)
        if s < 1e-9:
            return np.eye(3) if c > 0 else np.diag([-1.0, -1.0, 1.0])
        k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
        return np.eye(3) + k + k @ k * ((1 - c) / (s * s))


def movement_g(epochs: pd.DataFrame) -> np.ndarray:
    """Per-epoch movement: the norm of the three axis standard deviations (g)."""
    sd = epochs[["sd_x", "sd_y", "sd_z"]].to_numpy(np.float64)
    return np.sqrt((sd * sd).sum(axis=1))


def gravity_directions(epochs: pd.DataFrame, orientation: Orientation) -> np.ndarray:
    """Per-epoch unit gravity vectors (epoch means normalised) in the upright-corrected frame."""
    g = epochs[["mean_x", "mean_y", "mean_z"]].to_numpy(np.float64)
    norm = np.linalg.norm(g, axis=1, keepdims=True)
    g = g / np.where(norm > 1e-6, norm, 1.0)
    return g @ orientation.rotation().T


def learn_orientation(epochs: pd.DataFrame, placement: str) -> Orientation:
    """The upright direction from the day's walking epochs (thigh and lower back), else default.

    Walking epochs: movement between 0.15 and 1.5 g with the sensor within 45 degrees of the
    default upright axis (so lying restlessness and transport are left out).
    """
    if placement not in ("thigh", "lower_back"):
        return Orientation()
    g = gravity_directions(epochs, Orientation())
    moving = movement_g(epochs)
    walking = (moving > 0.15) & (moving < 1.5) & (g[:, 0] > np.cos(np.radians(45)))
    if int(walking.sum()) < MIN_WALKING_EPOCHS:
        return Orientation()
    up = g[walking].mean(axis=0)
    up /= np.linalg.norm(up)
    return Orientation(
        (float(up[0]), float(up[1]), float(up[2])), f"learned from {int(walking.sum())} s walking"
    )


def classify(
    epochs: pd.DataFrame, placement: str, orientation: Orientation | None = None
) -> np.ndarray:
    """Posture code (int8) per epoch row for a device worn at ``placement``."""
    orientation = orientation or Orientation()
    if placement == "thigh":
        return classify_thigh(epochs, orientation)
    if placement in ("lower_back", "chest"):
        return classify_trunk(epochs, orientation)
    return classify_wrist(epochs)


def classify_thigh(epochs: pd.DataFrame, orientation: Orientation) -> np.ndarray:
    g = gravity_directions(epochs, orientation)
    inclination = np.degrees(np.arccos(np.clip(g[:, 0], -1.0, 1.0)))
    front_from_up = np.degrees(np.arccos(np.clip(g[:, 2], -1.0, 1.0)))
    horizontal = inclination > THIGH_SITTING_DEG
    rotated = front_from_up > THIGH_ROTATED_DEG
    moving = movement_g(epochs) > MOVING_SD_G
    return _codes(horizontal & ~rotated, horizontal & rotated, moving)


def classify_trunk(epochs: pd.DataFrame, orientation: Orientation) -> np.ndarray:
    g = gravity_directions(epochs, orientation)
    from_vertical = np.degrees(np.arccos(np.clip(g[:, 0], -1.0, 1.0)))
    recline = np.degrees(np.arctan2(g[:, 2], g[:, 0]))  # backward recline is +z
    moving = movement_g(epochs) > MOVING_SD_G
    lying = from_vertical > LYING_DEG
    sitting = ~lying & ~moving & (recline > BACK_RECLINE_DEG)
    return _codes(sitting, lying, moving)


def classify_wrist(epochs: pd.DataFrame) -> np.ndarray:
    t_s = epochs["t"].to_numpy() // 1_000_000_000
    enmo = epochs["enmo_g"].to_numpy(np.float64)
    # the mean ENMO of the wall-clock minute each epoch falls in: per-epoch, chunk-independent
    minute = t_s // WRIST_WINDOW_S
    first = np.concatenate([[0], np.flatnonzero(np.diff(minute)) + 1])
    sums = np.add.reduceat(enmo, first) if len(enmo) else enmo
    counts = np.diff(np.concatenate([first, [len(enmo)]]))
    mean = np.repeat(sums / np.maximum(counts, 1), counts)
    return np.where(mean < WRIST_SEDENTARY_ENMO_G, SEDENTARY, MOVING).astype(np.int8)


def _codes(sitting: np.ndarray, lying: np.ndarray, moving: np.ndarray) -> np.ndarray:
    out = np.where(moving, MOVING, STANDING).astype(np.int8)
    out[lying] = LYING
    out[sitting] = SITTING
    return out
