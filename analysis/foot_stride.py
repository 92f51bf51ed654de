"""Stride length, time, speed and clearance from a foot-worn IMU (zero-velocity-aided strapdown).

Method
------
A foot IMU is at rest for a moment of every stance phase. Resetting the velocity there (a
zero-velocity update, ZUPT; Foxlin 2005) turns the otherwise quickly diverging double integration
of the acceleration into a short, well-posed problem per stride:

1. **Zero-velocity detection** (:func:`zero_velocity_mask`): a sample is at rest when, over a
   centred window of ``ZV_WINDOW_S``, the mean angular-rate magnitude is at most ``ZV_GYRO_DPS``
   *and* the mean deviation of the specific-force magnitude from 1 g is at most ``ZV_ACC_G``: the
   angular-rate-energy and acceleration-magnitude detectors of Skog et al. (2010) combined, written
   with magnitudes in physical units so that the thresholds are readable.
2. **Stride segmentation** (:func:`segment_strides`): the rest runs are the stance phases. Two
   consecutive rest runs separated by one movement that looks like a swing (angular-rate peak
   >= ``SWING_GYRO_DPS``, at most ``MAX_SWING_S`` long) delimit one stride. As in Rampp et al.
   (2015) a stride runs from one mid-stance to the next, mid-stance (their ``min_vel``) being the
   sample of least windowed angular rate in the stance, searched within ``STANCE_SEARCH_S`` of
   the swing (so a long standing pause does not stretch a stride).
3. **Strapdown per stride** (:func:`integrate_strides`, :func:`strapdown_stride`):

   - attitude: the initial attitude levels the mean specific force of the rest samples around
     the first mid-stance (roll and pitch; heading is arbitrary, only horizontal distance is
     reported). It is propagated with the exact rotation of the trapezoidal mean angular rate of
     every sample interval. The attitude along a stride is a product of quaternions, computed
     for all strides at once: one vectorised numpy step per sample index within a stride (a few
     hundred steps for a batch of thousands of strides), never a Python loop per sample of the
     recording or per stride.
   - tilt correction: at the end mid-stance the integrated attitude must again see gravity
     straight up; the residual tilt (gyroscope bias and scale errors) is removed linearly in time
     about a level axis, the attitude analogue of the velocity drift removal below.
   - velocity and position: the specific force is rotated to the level frame, the local gravity
     (the specific-force magnitude at the first mid-stance, which also absorbs the accelerometer's
     scale error along gravity) is subtracted and the acceleration integrated (trapezoid) from zero
     velocity. The velocity must be zero again at the end mid-stance; the residual is removed
     in proportion to the error accumulated so far (see *Drift model*) and the corrected velocity
     is integrated to position.
4. **Stride parameters** (:func:`foot_strides`): stride length = horizontal displacement of the
   heel (see *Robustness*, heel reference; of the sensor when its lever arm is not estimable or
   ``reference="sensor"``) between the two mid-stances; stride time = time between them;
   speed = length / time; cadence = 120 / stride time (steps of both feet per minute);
   clearance = highest sensor position above the start height; uncertainty = the horizontal
   displacement the drift removal took away. A movement that is not gait (shorter than
   ``MIN_STRIDE_LENGTH_M``, faster than ``MAX_SPEED_MPS``, or needing a drift correction above
   ``MAX_DRIFT_FRACTION`` of its length) is not reported.

Drift model
-----------
Kanzler et al. (2015) remove the end-of-stride velocity residual linearly in time; that is the
fixed-interval smoother of a velocity error that grows as a random walk of *constant* intensity
(sensor bias). On real shoes most of the error is made where the signal is violent: heel-strike
impacts last a few milliseconds and are only sampled once or twice at ~200 Hz (in the gaitmap
sample single-sample spikes of +13 g followed by -9 g, some clipped at 16 g), and scale, axis-
misalignment and timing errors of both sensors scale with the magnitude of the motion. Here the
velocity error is modelled as a random walk whose intensity is ``DRIFT_FLOOR_MPS2**2 + |a|**2``
(``a`` the gravity-free acceleration in the level frame); the smoothed error given zero velocity
at both ends is the residual times the accumulated intensity fraction, which reduces to the
linear removal when the floor dominates. This choice was made after looking at where the
velocity error arises in the gaitmap sample (against its motion capture): on its strides without
a large turn the mean absolute error is 3.3 % (left) and 3.0 % (right) with the linear removal and
2.1 % and 2.3 % with this model; the floor value itself was not tuned (0-5 m/s^2 change these
figures by less than 0.1 %).

The tilt correction costs about 0.2 % on the gaitmap sample (its gyroscopes are calibrated; the
end-of-stride gravity estimate adds a little noise) but keeps uncalibrated gyroscopes usable: with
a simulated 2 deg/s gyroscope bias the stride-length bias is 1.0 % with it and 2.8 % without.

Frame
-----
psoas' foot frame is the simulator's (:mod:`sensors.simulate`) and the gaitmap example data's:
x forward toward the toes, y to the left, z up when the foot is flat (a flat foot reads
(0, 0, +1) g). The method does not rely on it: gravity is estimated at every mid-stance and
stride length is a horizontal distance, so any fixed mounting orientation of the sensor on the
shoe gives the same strides (clearance is measured along the estimated vertical).

Units: ``acc_g`` in g (specific force, +1 g on an axis pointing up at rest), ``gyro_dps`` in
deg/s, ``t_ns`` int64 nanoseconds. Internally SI units (m/s^2, rad/s, s, m).

Robustness
----------
- A gap in ``t_ns`` longer than ``GAP_S`` (or a non-increasing time) is never integrated across:
  a stride containing one is dropped, the strides around it are kept. Shorter gaps are integrated
  with their true duration (every interval uses its own ``dt``).
- Non-finite samples (NaN/inf on any axis) count as a gap: the stride containing one is dropped;
  they never reach other strides and never end a rest run as a swing.
- Saturated (clipped) samples are integrated as recorded. The velocity the clipping loses shows
  up as residual velocity at the end-of-stride ZUPT and is removed by the drift correction, which
  raises ``uncertainty_m``; a stride whose correction is implausibly large is dropped
  (``MAX_DRIFT_FRACTION``).
- Standing, sitting and lying contain no swing, hence no stride; fidgeting, foot tapping and knee
  bouncing move the foot by less than ``MIN_STRIDE_LENGTH_M``.
- Heel reference. While the foot turns within a stride the heel, the toes and the sensor move
  by different distances (a 166 deg turn in the gaitmap sample: heel 0.47 m, sensor 0.28 m).
  Stride length is reported at the heel (as motion capture and clinics define it) when the
  sensor-to-heel lever arm r can be estimated from the recording itself: between initial contact
  (the impact, largest specific force within ``ROCKER_SEARCH_S`` before foot-flat) and foot-flat
  (start of the rest) the foot rotates about its heel (Perry's heel rocker), so the sensor-frame
  velocity is w x rho, rho = sensor - pivot constant; rho is a least-squares fit per stride
  (:func:`_heel_pivot`; roll and yaw during the rocker make the lateral part observable, a
  ridge sends an unobservable part to 0) and r = -median over the strides
  (:func:`heel_lever_arm`, with plausibility bounds ``LEVER_*``; otherwise the sensor is
  reported). The heel's displacement is the sensor's plus Rz(dpsi) L1 r - L0 r
  (:meth:`StrideTrajectories.point_displacement_m`), zero without a turn. What is estimated is
  the pivot of the heel's floor contact (posterior-lateral edge of the sole), not the heel marker
  on the back of the calcaneus: on the gaitmap sample 4.2 / 5.2 cm horizontal (left / right)
  where the motion capture implies 8.7 / 8.2 cm to the marker, so the 166 deg stride reads 0.35 m
  (sensor 0.28, heel marker 0.47). No constant was fitted to any recording.

Constants and where they come from
----------------------------------
- ``ZV_WINDOW_S`` = 0.05 s: the window of gaitmap's default ZUPT detector (0.05 s, maximum of the
  gyro norm <= 34 deg/s, for its RTS Kalman filter); Skog et al. (2010) use 3-5 samples.
- ``ZV_GYRO_DPS`` = 40 deg/s on the *mean* gyro norm of the window: about gaitmap's 34 deg/s on
  the window maximum. Checked (not tuned) on the gaitmap sample: the least windowed mean of every
  stance there is 2-15 deg/s.
- ``ZV_ACC_G`` = 0.1 g: acceleration-magnitude detector of Skog et al. (2010); mid-stance
  deviations are 0.003-0.025 g in the gaitmap sample, swings reach several g.
- ``SWING_GYRO_DPS`` = 100 deg/s: swing angular-rate peaks are several hundred deg/s in walking and
  more in running (Rampp et al. 2015 segment strides on this swing peak of the sagittal gyro;
  370-730 deg/s in the gaitmap sample); 100 keeps slow walking and the shuffling steps of turns.
- ``MAX_SWING_S`` = 1.2 s, ``MIN_STRIDE_S`` = 0.3 s, ``MAX_STRIDE_S`` = 3.0 s: swings last 0.3-0.6 s
  and strides 0.6-1.6 s in walking and running (Perry, *Gait analysis*, 1992); the generous upper
  limits keep the slow strides of turns (2.3 s in the gaitmap sample).
- ``STANCE_SEARCH_S`` = 0.5 s: longer than the rest part of a walking stance (0.2-0.5 s), so the
  strides of continuous gait share their mid-stance; it only bounds the search in long pauses.
- ``GAP_S`` = 0.1 s: the project's rule for gaps (never integrate across more than 0.1 s).
- ``ORIENT_WINDOW_S`` = 0.05 s: half-width of the rest window averaged for the attitude at the
  stride's ends (about ten samples at 200 Hz against noise, short against the stance).
- ``DRIFT_FLOOR_MPS2`` = 2 m/s^2: see *Drift model*.
- ``ROCKER_SEARCH_S`` = 0.3 s (the heel rocker lasts ~0.1 s, Perry 1992), ``ROCKER_SKIP_S`` =
  0.01 s (the impact sample is no rotation), ``ROCKER_MIN_DPS`` = 100 deg/s, ``ROCKER_MIN_FIT``
  = 0.5 (the rotation explains half the velocity), ``ROCKER_RIDGE`` = 1e-3, ``MIN_LEVER_STRIDES``
  = 5, ``LEVER_MIN_M`` = 0.03 m, ``LEVER_MAX_M`` = 0.25 m (a shoe), ``LEVER_MAX_VERTICAL_M`` =
  0.15 m (sensor height above the sole): chosen a priori, not tuned; the gaitmap lever arm moves
  by < 3 mm for a 1-5-sample skip.
- ``MIN_STRIDE_LENGTH_M`` = 0.2 m, ``MAX_SPEED_MPS`` = 12 m/s, ``MAX_DRIFT_FRACTION`` = 0.5:
  plausibility limits of gait (a stride of gait is longer than a foot; 12 m/s is a sprint; a
  correction of half the stride means the ZUPT assumption failed).

References
----------
- E. Foxlin, "Pedestrian tracking with shoe-mounted inertial sensors", IEEE Computer Graphics and
  Applications 25(6), 2005 (ZUPT).
- I. Skog, P. Haendel, J.-O. Nilsson, J. Rantakokko, "Zero-velocity detection - an algorithm
  evaluation", IEEE Trans. Biomed. Eng. 57(11), 2010.
- A. Rampp, J. Barth, S. Schuelein, K.-G. Gassmann, J. Klucken, B. M. Eskofier, "Inertial
  sensor-based stride parameter calculation from gait sequences in geriatric patients", IEEE
  Trans. Biomed. Eng. 62(4), 2015 (strides between mid-stances, min_vel).
- J. Perry, *Gait analysis: normal and pathological function*, 1992 (heel, ankle and forefoot
  rockers).
- C. M. Kanzler, J. Barth, A. Rampp, H. Schlarb, F. Rott, J. Klucken, B. M. Eskofier, "Inertial
  sensor based and shoe size independent gait analysis including heel and toe clearance
  estimation", IEEE EMBC 2015 (per-stride integration, linear velocity drift removal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from scipy.ndimage import uniform_filter1d

__all__ = [
    "STRIDE_COLUMNS",
    "HeelLever",
    "StrideTrajectories",
    "foot_strides",
    "gyro_activity_dps",
    "heel_lever_arm",
    "integrate_strides",
    "segment_strides",
    "strapdown_stride",
    "zero_velocity_mask",
]

G_MPS2: Final = 9.80665
"""Standard gravity (m/s^2): converts g to m/s^2."""
NS: Final = 1_000_000_000
GAP_S: Final = 0.1
ZV_WINDOW_S: Final = 0.05
ZV_GYRO_DPS: Final = 40.0
ZV_ACC_G: Final = 0.1
SWING_GYRO_DPS: Final = 100.0
MAX_SWING_S: Final = 1.2
MIN_STRIDE_S: Final = 0.3
MAX_STRIDE_S: Final = 3.0
STANCE_SEARCH_S: Final = 0.5
ORIENT_WINDOW_S: Final = 0.05
DRIFT_FLOOR_MPS2: Final = 2.0
ROCKER_SEARCH_S: Final = 0.3
ROCKER_SKIP_S: Final = 0.01
ROCKER_MIN_DPS: Final = 100.0
ROCKER_MIN_FIT: Final = 0.5
ROCKER_RIDGE: Final = 1e-3
MIN_LEVER_STRIDES: Final = 5
LEVER_MIN_M: Final = 0.03
LEVER_MAX_M: Final = 0.25
LEVER_MAX_VERTICAL_M: Final = 0.15
MIN_STRIDE_LENGTH_M: Final = 0.2
MAX_SPEED_MPS: Final = 12.0
MAX_DRIFT_FRACTION: Final = 0.5
_BATCH_CELLS: Final = 1 << 20
"""Strides are integrated in batches of at most this many (stride x sample) cells (memory)."""
_INVALID: Final = np.float32(1e4)
"""Stand-in magnitude of a non-finite sample: never at rest."""

STRIDE_COLUMNS: Final = (
    "t",
    "end_t",
    "foot",
    "stride_length_m",
    "stride_time_s",
    "speed_mps",
    "cadence_spm",
    "clearance_m",
    "uncertainty_m",
    "source",
)
"""Columns of :func:`foot_strides`, in order."""


# --------------------------------------------------------------------------------------------
# Inputs and small helpers
# --------------------------------------------------------------------------------------------


def _check_inputs(
    t_ns: np.ndarray, acc_g: np.ndarray, gyro_dps: np.ndarray, rate_hz: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t_ns = np.asarray(t_ns)
    acc_g = np.asarray(acc_g)
    gyro_dps = np.asarray(gyro_dps)
    if t_ns.ndim != 1:
        raise ValueError("t_ns must be one-dimensional")
    n = len(t_ns)
    for name, a in (("acc_g", acc_g), ("gyro_dps", gyro_dps)):
        if a.shape != (n, 3):
            raise ValueError(f"{name} must have shape ({n}, 3), not {a.shape}")
    if not (np.isfinite(rate_hz) and rate_hz > 0):
        raise ValueError(f"rate_hz={rate_hz} must be a positive sample rate (Hz)")
    return t_ns.astype(np.int64, copy=False), acc_g, gyro_dps


def _norm(x: np.ndarray) -> np.ndarray:
    """Row norms of an (n, 3) array in float32 (enough for detection); non-finite -> _INVALID."""
    x32 = np.asarray(x).astype(np.float32, copy=False)
    out = np.sqrt(np.einsum("ij,ij->i", x32, x32))
    out[~np.isfinite(out)] = _INVALID
    return out


def _window_samples(seconds: float, rate_hz: float) -> int:
    return max(3, round(seconds * rate_hz))


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and end (exclusive) indices of the runs of True in ``mask``."""
    d = np.diff(mask.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


# --------------------------------------------------------------------------------------------
# Zero-velocity detection
# --------------------------------------------------------------------------------------------


def gyro_activity_dps(gyro_dps: np.ndarray, rate_hz: float) -> np.ndarray:
    """Mean angular-rate magnitude (deg/s) over a centred ``ZV_WINDOW_S`` window, per sample.

    ``gyro_dps`` (n, 3) in deg/s, ``rate_hz`` the nominal sample rate (Hz). The (square-root
    form of the) angular-rate-energy statistic of Skog et al. (2010); its least value within a
    stance is mid-stance (``min_vel``, Rampp et al. 2015). Non-finite samples count as fast.
    """
    return _activity(_norm(gyro_dps), rate_hz)


def _activity(gyro_norm: np.ndarray, rate_hz: float) -> np.ndarray:
    return uniform_filter1d(gyro_norm, _window_samples(ZV_WINDOW_S, rate_hz), mode="nearest")


def _rest(acc_g: np.ndarray, activity: np.ndarray, rate_hz: float) -> np.ndarray:
    dev = np.abs(_norm(acc_g) - np.float32(1.0))
    dev = uniform_filter1d(dev, _window_samples(ZV_WINDOW_S, rate_hz), mode="nearest")
    return (activity <= ZV_GYRO_DPS) & (dev <= ZV_ACC_G)


def zero_velocity_mask(acc_g: np.ndarray, gyro_dps: np.ndarray, rate_hz: float) -> np.ndarray:
    """Per-sample zero-velocity (foot at rest) flags, bool (n,).

    At rest when, over a centred window of ``ZV_WINDOW_S`` seconds, the mean angular-rate
    magnitude is at most ``ZV_GYRO_DPS`` deg/s and the mean of |‖specific force‖ - 1 g| is at
    most ``ZV_ACC_G`` g: the angular-rate-energy and acceleration-magnitude detectors of Skog et
    al. (2010) combined. ``acc_g`` (n, 3) in g, ``gyro_dps`` (n, 3) in deg/s, ``rate_hz`` the
    nominal sample rate (Hz). Non-finite samples (and their window) are never at rest.
    """
    return _rest(np.asarray(acc_g), gyro_activity_dps(gyro_dps, rate_hz), rate_hz)


# --------------------------------------------------------------------------------------------
# Stride segmentation
# --------------------------------------------------------------------------------------------


def _window_argmin(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Index of the least ``values`` in each window [lo, hi) (vectorised; windows non-empty)."""
    if len(lo) == 0:
        return np.empty(0, np.int64)
    width = int(np.max(hi - lo))
    idx = lo[:, None] + np.arange(width)[None, :]
    inside = idx < hi[:, None]
    v = np.where(inside, values[np.minimum(idx, len(values) - 1)], np.inf)
    return lo + np.argmin(v, axis=1)


def _segment(
    t_ns: np.ndarray,
    finite: np.ndarray,
    gyro_norm: np.ndarray,
    activity: np.ndarray,
    rest: np.ndarray,
    rate_hz: float,
) -> np.ndarray:
    """segment_strides on precomputed per-sample quantities."""
    if len(t_ns) < 4:
        return np.empty((0, 2), np.int64)
    dt = np.diff(t_ns)
    bad = (dt > GAP_S * NS) | (dt <= 0) | ~finite[:-1] | ~finite[1:]  # interval i -> i + 1
    rest = rest & finite
    rest[1:] &= ~bad  # a rest run never spans a gap: the sample after one starts a new run
    r0, r1 = _runs(rest)
    if len(r0) < 2:
        return np.empty((0, 2), np.int64)
    # the movement between rest runs k and k + 1 is [r1[k], r0[k + 1])
    m0, m1 = r1[:-1], r0[1:]
    edges = np.empty(2 * len(m0), np.int64)
    edges[0::2], edges[1::2] = m0, m1
    peak = np.maximum.reduceat(np.where(finite, gyro_norm, 0.0), edges)[0::2]
    move_s = (t_ns[m1] - t_ns[m0 - 1]) / NS
    k = np.flatnonzero((peak >= SWING_GYRO_DPS) & (move_s <= MAX_SWING_S))
    if len(k) == 0:
        return np.empty((0, 2), np.int64)
    search = max(1, round(STANCE_SEARCH_S * rate_hz))
    # start: mid-stance of the rest run before the swing, within `search` samples of its end;
    # end: mid-stance of the rest run after the swing, within `search` samples of its start
    start = _window_argmin(activity, np.maximum(r0[k], r1[k] - search), r1[k])
    end = _window_argmin(activity, r0[k + 1], np.minimum(r1[k + 1], r0[k + 1] + search))
    stride_s = (t_ns[end] - t_ns[start]) / NS
    bad_before = np.concatenate([[0], np.cumsum(bad, dtype=np.int64)])
    clean = bad_before[end] == bad_before[start]
    keep = clean & (stride_s >= MIN_STRIDE_S) & (stride_s <= MAX_STRIDE_S)
    return np.column_stack([start[keep], end[keep]]).astype(np.int64)


def segment_strides(
    t_ns: np.ndarray, acc_g: np.ndarray, gyro_dps: np.ndarray, rate_hz: float
) -> np.ndarray:
    """Strides as (k, 2) int64 sample indices ``[start, end]`` (both mid-stance, end inclusive).

    Stance phases are the runs of :func:`zero_velocity_mask`; two consecutive runs separated by
    one swing-like movement (peak angular rate >= ``SWING_GYRO_DPS`` deg/s, at most
    ``MAX_SWING_S`` s) delimit a stride. Each border is the mid-stance sample (least
    :func:`gyro_activity_dps`, Rampp et al. 2015's ``min_vel``) within ``STANCE_SEARCH_S`` of the
    swing. Strides shorter than ``MIN_STRIDE_S`` or longer than ``MAX_STRIDE_S`` (s), or spanning
    a time gap > ``GAP_S`` or a non-finite sample, are left out. ``t_ns`` int64 ns (sorted),
    ``acc_g`` (n, 3) in g, ``gyro_dps`` (n, 3) in deg/s, in any fixed sensor frame; ``rate_hz``
    the nominal sample rate (Hz).
    """
    t_ns, acc_g, gyro_dps = _check_inputs(t_ns, acc_g, gyro_dps, rate_hz)
    finite = np.isfinite(acc_g).all(axis=1) & np.isfinite(gyro_dps).all(axis=1)
    gyro_norm = _norm(gyro_dps)
    activity = _activity(gyro_norm, rate_hz)
    rest = _rest(acc_g, activity, rate_hz)
    return _segment(t_ns, finite, gyro_norm, activity, rest, rate_hz)


# --------------------------------------------------------------------------------------------
# Strapdown integration
# --------------------------------------------------------------------------------------------

# Quaternions (w, x, y, z) and vectors are stored component-first, shape (4, ...) and (3, ...):
# each component is its own array block, so the products below are plain array arithmetic.


def _qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a b of quaternions (4, ...), broadcasting over the rest."""
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ]
    )


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.stack(
        [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    )


def _qrotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` (3, ...) by unit quaternions ``q`` (4, ...): q v q*."""
    u = q[1:]
    t = 2.0 * _cross(u, v)
    return v + q[0] * t + _cross(u, t)


def _rotvec_to_quat(theta: np.ndarray) -> np.ndarray:
    """Quaternion (4, ...) of the rotation vectors ``theta`` (3, ...) in rad (exponential map)."""
    angle = np.sqrt(np.einsum("i...,i...->...", theta, theta))
    small = angle < 1e-12
    k = np.where(small, 0.5, np.sin(0.5 * angle) / np.where(small, 1.0, angle))
    return np.concatenate([np.cos(0.5 * angle)[None], k * theta])


def _level_quat(up: np.ndarray) -> np.ndarray:
    """Smallest rotation (4, k) taking the unit vectors ``up`` (3, k) (sensor frame) to +z."""
    c = up[2]
    q = np.stack([1.0 + c, up[1], -up[0], np.zeros_like(c)])  # (1 + c, up x z)
    flipped = 1.0 + c < 1e-9  # upside down: half turn about x
    q[:, flipped] = np.array([0.0, 1.0, 0.0, 0.0])[:, None]
    return q / np.linalg.norm(q, axis=0)


def _attitude(q0: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Attitude (4, k, m) from the initial attitude q0 (4, k) and the increments (4, k, m - 1).

    q[:, :, i + 1] = q[:, :, i] steps[:, :, i]: the recurrence runs over the sample index within
    a stride, each step vectorised over all k strides of the batch (so the Python loop has as many
    iterations as the longest stride of the batch has samples, whatever the number of strides).
    """
    k, m1 = steps.shape[1:]
    q = np.empty((4, k, m1 + 1))
    q[:, :, 0] = q0
    w, x, y, z = q[0], q[1], q[2], q[3]
    sw, sx, sy, sz = steps
    for i in range(m1):
        aw, ax, ay, az = w[:, i], x[:, i], y[:, i], z[:, i]
        bw, bx, by, bz = sw[:, i], sx[:, i], sy[:, i], sz[:, i]
        w[:, i + 1] = aw * bw - ax * bx - ay * by - az * bz
        x[:, i + 1] = aw * bx + ax * bw + ay * bz - az * by
        y[:, i + 1] = aw * by - ax * bz + ay * bw + az * bx
        z[:, i + 1] = aw * bz + ax * by - ay * bx + az * bw
    return q / np.linalg.norm(q, axis=0)


def _cumtrapz(x: np.ndarray, dt_s: np.ndarray) -> np.ndarray:
    """Cumulative trapezoid integral along the last axis from 0 (x (..., m), dt (k, m - 1))."""
    out = np.zeros_like(x)
    np.cumsum(0.5 * (x[..., 1:] + x[..., :-1]) * dt_s, axis=-1, out=out[..., 1:])
    return out


@dataclass(frozen=True)
class _Strapdown:
    position_m: np.ndarray  # (3, k, m)
    velocity_mps: np.ndarray  # (3, k, m)
    residual_mps: np.ndarray  # (3, k)
    removed_m: np.ndarray  # (3, k) displacement taken away by the drift removal
    heading_rad: np.ndarray  # (k,)
    pivot_m: np.ndarray  # (3, k) sensor minus heel-rocker pivot, sensor frame; NaN: no rocker


def _strapdown(
    acc_mps2: np.ndarray,
    gyr_rads: np.ndarray,
    dt_s: np.ndarray,
    up0: np.ndarray,
    g0_mps2: np.ndarray,
    up1: np.ndarray,
    rocker: tuple[np.ndarray, np.ndarray, int] | None = None,
) -> _Strapdown:
    """Strapdown of k strides padded to a common length m (padded intervals have dt = 0).

    ``acc_mps2``, ``gyr_rads`` (3, k, m); ``dt_s`` (k, m - 1); ``up0``/``up1`` (3, k) unit
    gravity directions (sensor frame) at the start / end mid-stance; ``g0_mps2`` (k,) local
    gravity magnitude at the start; ``rocker`` the heel-rocker windows ``(lo, hi, width)``
    (stride-local sample indices [lo, hi), hi the foot-flat sample, width >= max(hi - lo)) for
    :func:`_heel_pivot` (NaN pivots when omitted).
    """
    q = _attitude(
        _level_quat(up0), _rotvec_to_quat(0.5 * (gyr_rads[..., 1:] + gyr_rads[..., :-1]) * dt_s)
    )
    k, m = dt_s.shape[0], dt_s.shape[1] + 1
    elapsed = np.zeros((k, m))
    np.cumsum(dt_s, axis=1, out=elapsed[:, 1:])
    total = elapsed[:, -1:]
    frac = elapsed / np.where(total > 0, total, 1.0)
    # tilt correction: gravity measured at the end, seen through the integrated attitude, must
    # point up; the tilt error is removed linearly in time (rotation about a level axis)
    g_end = _qrotate(q[:, :, -1], up1)
    axis = np.stack([g_end[1], -g_end[0], np.zeros(k)])  # g_end x z
    sin_tilt = np.linalg.norm(axis, axis=0)
    tilt = np.arctan2(sin_tilt, g_end[2])
    axis /= np.where(sin_tilt > 0, sin_tilt, 1.0)
    q = _qmul(_rotvec_to_quat(axis[:, :, None] * (tilt[:, None] * frac)), q)
    # heading change: the end attitude relative to the level frame of the end mid-stance
    rel = _qmul(q[:, :, -1], _level_quat(up1) * np.array([1.0, -1.0, -1.0, -1.0])[:, None])
    heading = 2.0 * np.arctan2(rel[3], rel[0])
    heading = (heading + np.pi) % (2 * np.pi) - np.pi
    # velocity from zero; drift removal in proportion to the accumulated error intensity
    a = _qrotate(q, acc_mps2)
    a[2] -= g0_mps2[:, None]
    v = _cumtrapz(a, dt_s)
    residual = v[:, :, -1].copy()
    intensity = _cumtrapz(DRIFT_FLOOR_MPS2**2 + np.einsum("ikm,ikm->km", a, a), dt_s)
    weight = intensity / np.where(intensity[:, -1:] > 0, intensity[:, -1:], 1.0)
    v -= residual[:, :, None] * weight
    removed = residual * _cumtrapz(weight, dt_s)[:, -1]
    pivot = np.full((3, k), np.nan) if rocker is None else _heel_pivot(q, v, gyr_rads, *rocker)
    return _Strapdown(_cumtrapz(v, dt_s), v, residual, removed, heading, pivot)


def _heel_pivot(
    q: np.ndarray, v: np.ndarray, gyr_rads: np.ndarray, lo: np.ndarray, hi: np.ndarray, width: int
) -> np.ndarray:
    """Sensor position relative to the heel-rocker pivot (3, k), sensor frame (m); NaN if none.

    Within the window [lo, hi) of each stride (initial contact to foot-flat, ``hi`` the foot-flat
    sample) the foot rotates about its heel, so the sensor velocity in the sensor frame is
    v = w x rho with rho = sensor - pivot, constant in the sensor frame. The velocity is taken
    relative to the one at foot-flat (the rest that follows anchors it, so only ~0.1 s of
    integration error enters) and rotated into the sensor frame; rho solves the least-squares
    normal equations N rho = c with N = sum(|w|^2 I - w w^T), c = sum(v x w), with a ridge of
    ``ROCKER_RIDGE`` trace(N) that sends an unobservable direction (a pure pitch rotation does not
    see the lateral offset) to 0. A stride's estimate is kept when the window has >= 3 samples, a
    peak rate >= ``ROCKER_MIN_DPS`` and the rotation explains at least ``ROCKER_MIN_FIT`` of the
    velocity's energy (1 - residual / sum |v|^2).
    """
    k = len(lo)
    j = lo[:, None] + np.arange(width)[None, :]
    inside = j < hi[:, None]
    j = np.minimum(j, hi[:, None])

    def take(x: np.ndarray) -> np.ndarray:
        return np.take_along_axis(x, np.broadcast_to(j, (len(x), k, width)), axis=2)

    vf = v[:, np.arange(k), hi]
    qc = take(q) * np.array([1.0, -1.0, -1.0, -1.0])[:, None, None]
    vs = _qrotate(qc, take(v) - vf[:, :, None]) * inside
    w = take(gyr_rads) * inside
    ww = np.einsum("ikw,ikw->k", w, w)
    n_mat = ww[:, None, None] * np.eye(3) - np.einsum("ikw,jkw->kij", w, w)
    c = _cross(vs, w).sum(axis=2).T  # (k, 3)
    vv = np.einsum("ikw,ikw->k", vs, vs)
    ridge = ROCKER_RIDGE * np.trace(n_mat, axis1=1, axis2=2) + 1e-12
    rho = np.linalg.solve(n_mat + ridge[:, None, None] * np.eye(3), c[:, :, None])[:, :, 0]
    resid = vv - 2.0 * np.einsum("ki,ki->k", rho, c) + np.einsum("ki,kij,kj->k", rho, n_mat, rho)
    fit = 1.0 - resid / np.where(vv > 0, vv, np.inf)
    peak = np.sqrt(np.max(np.einsum("ikw,ikw->kw", w, w), axis=1, initial=0.0))
    ok = (inside.sum(axis=1) >= 3) & (peak >= np.deg2rad(ROCKER_MIN_DPS)) & (fit >= ROCKER_MIN_FIT)
    return np.where(ok[None, :], rho.T, np.nan)


@dataclass(frozen=True)
class StrideTrajectories:
    """Per-stride results of :func:`integrate_strides` (k strides).

    - ``displacement_m`` (k, 3): end minus start position in the stride's level frame (z up,
      x/y heading that of the sensor at the start), after the velocity drift removal;
    - ``clearance_m`` (k,): highest z of the sensor above its start position;
    - ``residual_velocity_mps`` (k, 3): velocity at the end mid-stance *before* the drift
      removal (the error the ZUPT corrects);
    - ``drift_removed_m`` (k, 3): displacement taken away by the drift removal;
    - ``duration_s`` (k,): stride time;
    - ``heading_change_rad`` (k,): turn of the foot over the stride (positive = to the left about
      the vertical): the level frame of a stride starting where this one ends is this one's turned
      by it, so contiguous strides chain into a path;
    - ``start_up`` / ``end_up`` (k, 3): unit gravity direction (up) in the sensor frame at the
      start / end mid-stance (they define the level frames);
    - ``pivot_offset_m`` (k, 3): the sensor's position relative to the pivot of the stride's heel
      rocker, in the sensor frame (m), NaN where the stride has no usable heel rocker (see
      :func:`heel_lever_arm`).
    """

    displacement_m: np.ndarray
    clearance_m: np.ndarray
    residual_velocity_mps: np.ndarray
    drift_removed_m: np.ndarray
    duration_s: np.ndarray
    heading_change_rad: np.ndarray
    start_up: np.ndarray
    end_up: np.ndarray
    pivot_offset_m: np.ndarray

    @property
    def length_m(self) -> np.ndarray:
        """Horizontal stride length (m)."""
        return np.hypot(self.displacement_m[:, 0], self.displacement_m[:, 1])

    @property
    def uncertainty_m(self) -> np.ndarray:
        """Horizontal displacement removed by the drift correction (m)."""
        return np.hypot(self.drift_removed_m[:, 0], self.drift_removed_m[:, 1])

    def point_displacement_m(self, offset_m: np.ndarray) -> np.ndarray:
        """Displacement (k, 3) of the point of the foot at ``offset_m`` (3,) from the sensor.

        ``offset_m`` in the sensor frame (m), e.g. the heel from :func:`heel_lever_arm`. In the
        stride's level frame the point is at L0 r at the start and Rz(dpsi) L1 r at the end (L0,
        L1 the levelling rotations of the two mid-stances, dpsi the heading change), so its
        displacement is the sensor's plus Rz(dpsi) L1 r - L0 r: for a foot flat at both ends
        (L0 = L1) the horizontal part of the added term is (Rz(dpsi) - I) r_h, zero for a stride
        without turn and of length 2 |r_h| sin(|dpsi| / 2). Contiguous strides chain as the sensor
        displacements do (the added terms telescope).
        """
        r = np.asarray(offset_m, dtype=np.float64).reshape(3, 1)
        k = len(self.heading_change_rad)
        start = _qrotate(_level_quat(self.start_up.T), np.broadcast_to(r, (3, k)))
        end = _qrotate(_level_quat(self.end_up.T), np.broadcast_to(r, (3, k)))
        c, s = np.cos(self.heading_change_rad), np.sin(self.heading_change_rad)
        turned = np.stack([c * end[0] - s * end[1], s * end[0] + c * end[1], end[2]])
        return self.displacement_m + (turned - start).T


@dataclass(frozen=True)
class HeelLever:
    """The sensor-to-heel lever arm of a recording, estimated by :func:`heel_lever_arm`.

    ``offset_m`` (3,) heel minus sensor in the sensor frame (m), or None when it could not be
    estimated (then strides are measured at the sensor); ``n_strides`` the strides whose heel
    rocker went into the estimate; ``horizontal_m`` / ``vertical_m`` the offset's horizontal and
    vertical parts with the foot flat (NaN when there is none); ``note`` how it was obtained or
    why not.
    """

    offset_m: np.ndarray | None
    n_strides: int
    horizontal_m: float
    vertical_m: float
    note: str


def heel_lever_arm(traj: StrideTrajectories, use: np.ndarray | None = None) -> HeelLever:
    """Sensor-to-heel lever arm from the heel rockers of a recording's strides (IMU data only).

    Per stride, :attr:`StrideTrajectories.pivot_offset_m` is the sensor's position relative to
    the point the foot pivots about between initial contact and foot-flat (Perry's heel rocker);
    the recording's lever arm is minus the component-wise median over the strides ``use`` (bool
    (k,), default all) that have one. It is returned only when at least ``MIN_LEVER_STRIDES``
    strides contribute and, with the foot flat (median start attitude), its horizontal length is
    within [``LEVER_MIN_M``, ``LEVER_MAX_M``] and its vertical part at most
    ``LEVER_MAX_VERTICAL_M`` with the heel below the sensor: the pivot is the heel's contact with
    the floor, so it lies below a shoe-mounted sensor by the sensor's height above the sole; a
    sensor on the heel needs no correction; a longer arm than a shoe, or a pivot under the floor,
    means the rotation did not happen about the heel (the simulator's foot, which pitches about
    the sensor itself at the end of its swing, gives a "pivot" 20-26 cm below the sensor and is
    measured at the sensor). Otherwise ``offset_m`` is None and the note says why.
    """
    pivots = traj.pivot_offset_m
    sel = np.isfinite(pivots).all(axis=1)
    if use is not None:
        sel &= np.asarray(use, dtype=bool)
    n = int(sel.sum())
    if n < MIN_LEVER_STRIDES:
        note = f"sensor: {n} heel rockers (< {MIN_LEVER_STRIDES}) to estimate the heel from"
        return HeelLever(None, n, np.nan, np.nan, note)
    offset = -np.median(pivots[sel], axis=0)
    up = _unit(np.median(traj.start_up[sel], axis=0)[None])
    flat = _qrotate(_level_quat(up.T), offset[:, None])[:, 0]
    horizontal, vertical = float(np.hypot(flat[0], flat[1])), float(flat[2])
    if not (LEVER_MIN_M <= horizontal <= LEVER_MAX_M and -LEVER_MAX_VERTICAL_M <= vertical <= 0):
        note = (
            f"sensor: the heel-rocker lever arm ({100 * horizontal:.1f} cm horizontal, "
            f"{100 * vertical:+.1f} cm vertical, {n} strides) is outside the plausible "
            f"{100 * LEVER_MIN_M:.0f}-{100 * LEVER_MAX_M:.0f} cm horizontal, "
            f"0 to -{100 * LEVER_MAX_VERTICAL_M:.0f} cm vertical"
        )
        return HeelLever(None, n, horizontal, vertical, note)
    note = (
        f"heel: lever arm {100 * horizontal:.1f} cm horizontal, {100 * vertical:+.1f} cm "
        f"vertical, median of {n} heel rockers"
    )
    return HeelLever(offset, n, horizontal, vertical, note)


def _rest_mean(acc_g: np.ndarray, idx: np.ndarray, half: int, rest: np.ndarray) -> np.ndarray:
    """Mean specific force (g) of the rest samples within +-half of each index (itself always)."""
    offsets = np.arange(-half, half + 1)
    j = np.clip(idx[:, None] + offsets[None, :], 0, len(acc_g) - 1)
    a = acc_g[j].astype(np.float64)
    use = (rest[j] | (offsets == 0)[None, :]) & np.isfinite(a).all(axis=2)
    a = np.where(use[..., None], a, 0.0)
    return a.sum(axis=1) / np.maximum(use.sum(axis=1), 1)[:, None]


def _unit(f: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(f, axis=1)
    out = f / np.where(n > 0, n, 1.0)[:, None]
    out[~(n > 0)] = (0.0, 0.0, 1.0)
    return out


def integrate_strides(
    t_ns: np.ndarray,
    acc_g: np.ndarray,
    gyro_dps: np.ndarray,
    strides: np.ndarray,
    rate_hz: float,
    *,
    rest: np.ndarray | None = None,
) -> StrideTrajectories:
    """Zero-velocity-aided strapdown integration of every stride (Foxlin 2005; Kanzler 2015).

    ``strides`` (k, 2) sample indices [start, end] (mid-stances, end inclusive) as returned by
    :func:`segment_strides`; ``t_ns`` int64 ns, ``acc_g`` (n, 3) g, ``gyro_dps`` (n, 3) deg/s,
    ``rate_hz`` the nominal rate (Hz); ``rest`` the :func:`zero_velocity_mask` (computed when
    omitted), which selects the samples within ``ORIENT_WINDOW_S`` of each end averaged for the
    attitude there and the local gravity.

    Per stride (see the module docstring): levelled initial attitude; exact quaternion
    propagation of the gyroscope (one vectorised step per sample index, over all strides); tilt
    correction at the end mid-stance; gravity-free acceleration integrated to velocity from zero;
    the end residual removed in proportion to the accumulated error intensity; position. Strides
    are processed in batches of similar length; no Python loop runs per sample.
    """
    t_ns, acc_g, gyro_dps = _check_inputs(t_ns, acc_g, gyro_dps, rate_hz)
    strides = np.asarray(strides, dtype=np.int64).reshape(-1, 2)
    k = len(strides)
    disp, removed, resid = np.zeros((k, 3)), np.zeros((k, 3)), np.zeros((k, 3))
    clear, heading, pivot = np.zeros(k), np.zeros(k), np.full((k, 3), np.nan)
    dur = (t_ns[strides[:, 1]] - t_ns[strides[:, 0]]) / NS if k else np.zeros(0)
    if k == 0:
        return StrideTrajectories(disp, clear, resid, removed, dur, heading, disp, disp, pivot)
    if rest is None:
        rest = zero_velocity_mask(acc_g, gyro_dps, rate_hz)
    half = max(1, round(ORIENT_WINDOW_S * rate_hz))
    f0 = _rest_mean(acc_g, strides[:, 0], half, rest)
    g0 = np.linalg.norm(f0, axis=1) * G_MPS2
    up0 = _unit(f0)
    up1 = _unit(_rest_mean(acc_g, strides[:, 1], half, rest))
    rocker_lo, rocker_hi, width = _rocker_windows(acc_g, strides, rest, rate_hz)
    count = strides[:, 1] - strides[:, 0] + 1
    order = np.argsort(count, kind="stable")
    i = 0
    while i < k:
        j = i + 1  # sorted by length: the batch [i, j) is as wide as its last stride
        while j < k and (j + 1 - i) * count[order[j]] <= _BATCH_CELLS:
            j += 1
        sel = order[i:j]
        start, end = strides[sel, 0], strides[sel, 1]
        idx = np.minimum(start[:, None] + np.arange(count[order[j - 1]])[None, :], end[:, None])
        dt = np.diff(t_ns[idx], axis=1) / NS  # padding repeats the last sample: dt = 0
        sd = _strapdown(
            np.moveaxis(acc_g[idx], -1, 0).astype(np.float64) * G_MPS2,
            np.deg2rad(np.moveaxis(gyro_dps[idx], -1, 0).astype(np.float64)),
            dt,
            up0[sel].T,
            g0[sel],
            up1[sel].T,
            (rocker_lo[sel] - start, rocker_hi[sel] - start, width),
        )
        disp[sel] = sd.position_m[:, :, -1].T
        clear[sel] = sd.position_m[2].max(axis=1)
        resid[sel], removed[sel] = sd.residual_mps.T, sd.removed_m.T
        heading[sel], pivot[sel] = sd.heading_rad, sd.pivot_m.T
        i = j
    return StrideTrajectories(disp, clear, resid, removed, dur, heading, up0, up1, pivot)


def _rocker_windows(
    acc_g: np.ndarray, strides: np.ndarray, rest: np.ndarray, rate_hz: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Heel-rocker window [lo, hi) of each stride (global sample indices) and its widest width.

    ``hi`` is foot-flat: the first sample of the rest run holding the stride's end (the end
    itself when it is not at rest). Initial contact is the impact, the largest specific-force
    magnitude within ``ROCKER_SEARCH_S`` before foot-flat (inside the stride); the window starts
    ``ROCKER_SKIP_S`` after it (the impact sample itself is not a rotation about the heel).
    """
    start, end = strides[:, 0], strides[:, 1]
    r0, r1 = _runs(rest)
    run = np.searchsorted(r0, end, side="right") - 1
    at_rest = (run >= 0) & rest[end] & (r1[np.maximum(run, 0)] > end) if len(r0) else rest[end]
    flat = np.where(at_rest, r0[np.maximum(run, 0)] if len(r0) else end, end)
    flat = np.maximum(flat, start)
    width = max(3, round(ROCKER_SEARCH_S * rate_hz))
    lo = np.maximum(start, flat - width)
    idx = np.minimum(lo[:, None] + np.arange(width)[None, :], len(acc_g) - 1)
    mag = np.where(idx < flat[:, None], _norm(acc_g)[idx], -1.0)
    contact = lo + np.argmax(mag, axis=1)
    rocker_lo = np.minimum(contact + max(1, round(ROCKER_SKIP_S * rate_hz)), flat)
    return rocker_lo, flat, width


def strapdown_stride(
    t_s: np.ndarray, acc_g: np.ndarray, gyro_dps: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Trajectory of one stride from mid-stance to mid-stance (first and last sample at rest).

    ``t_s`` (m,) seconds, ``acc_g`` (m, 3) g, ``gyro_dps`` (m, 3) deg/s. Returns ``(position_m,
    velocity_mps)``, both (m, 3) in the level frame (z up, heading of the sensor at the start),
    after the velocity drift removal (zero velocity at both ends). The attitude at the ends comes
    from the first and last samples' specific force alone. Same method as
    :func:`integrate_strides`.
    """
    t_s = np.asarray(t_s, dtype=np.float64)
    acc = np.asarray(acc_g, dtype=np.float64)
    ends = acc[[0, -1]]
    sd = _strapdown(
        acc.T[:, None, :] * G_MPS2,
        np.deg2rad(np.asarray(gyro_dps, dtype=np.float64)).T[:, None, :],
        np.diff(t_s)[None],
        _unit(ends[:1]).T,
        np.linalg.norm(ends[:1], axis=1) * G_MPS2,
        _unit(ends[1:]).T,
    )
    return sd.position_m[:, 0].T, sd.velocity_mps[:, 0].T


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def _frame(
    t: np.ndarray, end_t: np.ndarray, foot: str, values: dict[str, np.ndarray]
) -> pd.DataFrame:
    n = len(t)
    return pd.DataFrame(
        {
            "t": t.astype(np.int64),
            "end_t": end_t.astype(np.int64),
            "foot": pd.array([foot] * n, dtype="string"),
            **{c: values[c].astype(np.float64) for c in STRIDE_COLUMNS[3:-1]},
            "source": pd.array(["foot_imu"] * n, dtype="string"),
        }
    )


def _empty(foot: str) -> pd.DataFrame:
    none = np.empty(0)
    return _frame(none, none, foot, dict.fromkeys(STRIDE_COLUMNS[3:-1], none))


def foot_strides(
    t_ns: np.ndarray,
    acc_g: np.ndarray,
    gyro_dps: np.ndarray,
    rate_hz: float,
    *,
    foot: str = "unknown",
    reference: str = "heel",
) -> pd.DataFrame:
    """Every stride of a foot-worn IMU recording with its length, time, speed and clearance.

    Inputs: ``t_ns`` (n,) int64 ns, sorted (gaps allowed: never integrated across a gap >
    ``GAP_S``), ``acc_g`` (n, 3) specific force in g, ``gyro_dps`` (n, 3) angular rate in deg/s,
    in psoas' foot frame (x forward, y left, z up; any fixed mounting works, see the module
    docstring), ``rate_hz`` the nominal sample rate (Hz), ``foot`` the label copied to the output.
    A whole day is fine: everything is vectorised (a 100 Hz day takes about a second).

    One row per stride, columns :data:`STRIDE_COLUMNS`: ``t`` / ``end_t`` int64 ns of the start
    and end mid-stance (zero-velocity samples); ``foot``; ``stride_length_m`` horizontal
    displacement of the sensor (m); ``stride_time_s`` (s); ``speed_mps`` = length / time (m/s);
    ``cadence_spm`` = 120 / stride time (steps of both feet per minute); ``clearance_m`` highest
    sensor position above its start height (m); ``uncertainty_m`` the horizontal displacement
    the velocity drift removal took away (m): the size of the correction the end-of-stride ZUPT
    needed, so a stride whose integration drifted more is less certain; ``source`` =
    "foot_imu". An empty frame with these columns when there is no gait.

    ``reference``: "heel" (default) reports the heel's displacement, as stride length is
    defined clinically and measured by motion capture (the heel marker), whenever the sensor-to-
    heel lever arm can be estimated from this recording's heel rockers (:func:`heel_lever_arm`);
    "sensor" reports the sensor's. The two differ only in turns: the heel term is
    (Rz(dpsi) - I) r_h for a heading change dpsi and a horizontal lever arm r_h (0.17 m for a
    166 deg turn and r_h = 8.5 cm). The frame's ``attrs`` record what was done:
    ``attrs["reference"]`` ("heel" or "sensor"), ``attrs["heel_lever"]`` (the
    :class:`HeelLever`, also when "sensor" was asked for) and ``attrs["heel_lever_note"]``.
    Clearance is always the sensor's.
    """
    if reference not in ("heel", "sensor"):
        raise ValueError(f"reference={reference!r} must be 'heel' or 'sensor'")
    t_ns, acc_g, gyro_dps = _check_inputs(t_ns, acc_g, gyro_dps, rate_hz)
    finite = np.isfinite(acc_g).all(axis=1) & np.isfinite(gyro_dps).all(axis=1)
    gyro_norm = _norm(gyro_dps)
    activity = _activity(gyro_norm, rate_hz)
    rest = _rest(acc_g, activity, rate_hz)
    strides = _segment(t_ns, finite, gyro_norm, activity, rest, rate_hz)
    if len(strides) == 0:
        return _with_lever(_empty(foot), "sensor", _NO_LEVER)
    traj = integrate_strides(t_ns, acc_g, gyro_dps, strides, rate_hz, rest=rest)
    length, dur, unc = traj.length_m, traj.duration_s, traj.uncertainty_m
    ok = (
        np.isfinite(length)
        & (length >= MIN_STRIDE_LENGTH_M)
        & (length <= MAX_SPEED_MPS * dur)
        & (unc <= MAX_DRIFT_FRACTION * length)
    )  # plausibility is judged at the sensor, whatever is reported
    lever = heel_lever_arm(traj, ok)
    used = "heel" if reference == "heel" and lever.offset_m is not None else "sensor"
    if used == "heel":
        heel = traj.point_displacement_m(lever.offset_m)
        length = np.hypot(heel[:, 0], heel[:, 1])
    s = strides[ok]
    values = {
        "stride_length_m": length[ok],
        "stride_time_s": dur[ok],
        "speed_mps": length[ok] / dur[ok],
        "cadence_spm": 120.0 / dur[ok],
        "clearance_m": traj.clearance_m[ok],
        "uncertainty_m": unc[ok],
    }
    return _with_lever(_frame(t_ns[s[:, 0]], t_ns[s[:, 1]], foot, values), used, lever)


_NO_LEVER: Final = HeelLever(None, 0, np.nan, np.nan, "sensor: no strides")


def _with_lever(frame: pd.DataFrame, used: str, lever: HeelLever) -> pd.DataFrame:
    frame.attrs.update(reference=used, heel_lever=lever, heel_lever_note=lever.note)
    return frame
