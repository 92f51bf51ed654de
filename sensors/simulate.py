"""Physically plausible synthetic raw IMU days with known ground truth.

The simulator writes what a body-worn IMU would record over one local calendar day (local
midnight to the next local midnight, DST-safe) together with the truth behind it: the activity
timeline, the sitting bouts, every stride of both feet and the packets the link dropped. Later
accuracy figures (sitting detection, ZUPT stride length, inverted-pendulum stride length) are
measured against this truth, so the signal is built *from* the truth by kinematics, never the
other way round. Everything is vectorised with numpy (loops run per activity segment, per
posture epoch or per stride, never per sample); a 200 Hz day (17.3 M samples) renders in a few
seconds. Same arguments and seed give bit-identical samples.

Written here rather than taken from a library: no maintained Python package simulates full
days of raw IMU data with a posture/gait ground truth (imusim is unmaintained Python 2, gait
simulators model single strides).

Conventions
-----------
World (heading) frame: X forward (walking direction), Y to the person's left, Z up.

Accelerometer: *specific force* f = a - g in g (1 g = 9.80665 m/s^2). A sensor at rest reads
+1 g on an axis that points **up** (the reaction to gravity); at-rest magnitude is 1 g.

Gyroscope: angular velocity of the sensor, expressed in the sensor frame, deg/s, right-hand rule.

Sensor axes (as worn; the person standing upright):

- ``thigh`` (front of the mid-thigh of ``side`` leg): x along the thigh pointing **up toward the
  hip**, y to the person's right, z anterior (out of the front of the thigh). Standing reads
  (+1, 0, 0) g, so the thigh's *standing axis* is +x and thigh inclination is the angle between
  the (low-passed) acceleration and +x. Sitting (thigh horizontal) reads about (0, 0, +1) g,
  side-lying (0, +-1, 0) g, prone (0, 0, -1) g. Hip flexion (knee forward) is a positive
  rotation about +y, so ``gy`` = d(flexion)/dt.
- ``lower_back`` (L3-L5) and ``chest`` (sternum): x up along the spine, y right, z anterior.
  Standing reads (+1, 0, 0); reclined by r it reads (cos r, 0, sin r); side-lying (0, +-1, 0).
- ``wrist`` (back of the ``side`` wrist): x along the forearm toward the elbow, y completes the
  frame, z out of the back of the wrist; the model's neutral pose hangs the arm with the back
  of the wrist facing forward (y then points to the person's right). Arm hanging reads
  (+1, 0, 0); typing (forearm horizontal, palm down) about (0, 0, +1).
- ``foot`` (top of the ``side`` shoe): x forward toward the toes, y left, z up. Flat reads
  (0, 0, +1); a toes-down pitch is a positive rotation about +y.

Kinematic model
---------------
Each body segment's orientation is R = Rz(heading) Ry(pitch) Rx(roll) Rz(axial) in the world
frame (segment axes: X forward, Y left, Z along the segment when standing); the sensor axes are a
fixed signed permutation of the segment axes (above). Slow posture (plateaus per posture epoch,
fidgeting, wander, sit-to-stand ramps) is a zero-slope cubic Hermite spline per angle, so angle,
rate and angular acceleration are exact; gait adds analytic oscillations driven by the stride
phase of the truth strides. Linear accelerations are given in the heading frame and rotated into
the sensor frame; the thigh and wrist add the lever-arm (tangential and centripetal) terms of the
pitch rotation about the hip / shoulder.

- Gait: heel strikes alternate between the feet. Step time tau_k = T0/2 (1 + 0.02 N); step
  length l_k = stride_scale * v0 * T0/2 (1 + 0.02 N) + stride_offset_m / 2, where v0 is the pace
  of the walking/running segment and T0 its natural stride time (walking
  T0 = 1.2 - (v0 - 1)/3 s, running T0 = 0.74 - 0.03 (v0 - 2.5) s, clipped). A truth stride of a
  foot runs from its heel strike to its next one: stride_length_m = the distance that foot moved,
  stride_time_s the time between, speed_mps = stride_length_m / stride_time_s exactly and
  cadence_spm = 120 / stride_time_s. ``stride_scale`` thus scales stride length at the same stride
  frequency (speed follows).
- Foot: stance is exactly flat and at rest (1 g on z, zero rotation) apart from a heel-strike
  impact (a Ricker wavelet, which changes neither velocity nor position); each swing moves the
  foot forward by exactly its stride length with a minimum-jerk profile, lifts it with
  64 h s^3 (1 - s)^3 and pitches it toes-down then toes-up, so a zero-velocity-update integrator
  recovers the stride length from the signal.
- Centre of mass while walking: vertical excursion per step h = l - sqrt(l^2 - (step/2K)^2)
  (the inverted pendulum, l = ``sensor_height_m`` for the lower back, else the leg length; the
  trunk rises less than the plain pendulum predicts because of double support, and Zijlstra &
  Hof (2003) found real steps K = 1.25 times the plain pendulum's estimate: the simulated trunk
  follows that, ``TRUNK_PENDULUM_CORRECTION``), as
  z = h (1 - cos(2 pi step_phase)) / 2, lowest at heel strike. Running: half-sine vertical force
  during stance, free fall (0 g) in flight.
- Sitting bouts contain fidgeting (posture shifts every 1-8 min, leg crossing, knee bouncing)
  that never brings the thigh near vertical; lying (sleep) is side-lying or prone (supine would
  read like sitting on a thigh sensor and is left out so the truth stays identifiable).

Adherence model (:func:`simulate_weeks`): see its docstring.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
from numpy.polynomial import Polynomial

from sensors.errors import UsageError
from sensors.schema import IMU_COLUMNS, STANDARD_GRAVITY_MPS2
from sensors.timeutil import day_bounds_ns, zone

__all__ = [
    "ACTIVITIES",
    "SIM_PLACEMENTS",
    "GroundTruth",
    "SensorErrors",
    "SimulatedRecording",
    "natural_stride_time_s",
    "simulate_day",
    "simulate_weeks",
    "workday_plan",
]

ACTIVITIES: Final = ("sitting", "standing", "walking", "running", "lying", "transition")
"""Activity labels of :attr:`GroundTruth.activities`."""
SIM_PLACEMENTS: Final = ("thigh", "lower_back", "wrist", "foot", "chest")
"""Placements the simulator can render."""

_log = logging.getLogger(__name__)

NS: Final = 1_000_000_000
G: Final = STANDARD_GRAVITY_MPS2
_H: Final = 3600.0
_M: Final = 60.0
_DEG: Final = math.pi / 180.0
_CHUNK: Final = 1 << 20  # samples rendered at once (bounds memory; fixed, so output is stable)
TRUNK_PENDULUM_CORRECTION: Final = 1.25
"""Real steps are this many times the plain inverted pendulum's estimate (Zijlstra & Hof 2003)."""
_ACC_RANGE_G: Final = 16.0
_GYRO_RANGE_DPS: Final = 2000.0


# --------------------------------------------------------------------------------------------
# Public data classes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SensorErrors:
    """Per-device error model applied to the ideal signal.

    measured_acc = scale * true_acc + bias_g + N(0, noise_g) (g, per axis);
    measured_gyro = true_gyro + gyro_bias_dps + N(0, gyro_noise_dps) (deg/s, per axis).
    Sampling instants are nominal + N(0, jitter_s) (s, clipped to +-0.45 sample periods, so the
    timestamps stay strictly increasing); the signal is evaluated at the jittered instants and
    those instants are the reported ``t``. Readings saturate at +-16 g and +-2000 deg/s.
    """

    noise_g: float = 0.004
    gyro_noise_dps: float = 0.3
    bias_g: tuple[float, float, float] = (0.01, -0.008, 0.012)
    scale: tuple[float, float, float] = (1.01, 0.995, 1.005)
    gyro_bias_dps: tuple[float, float, float] = (0.4, -0.3, 0.2)
    jitter_s: float = 0.0005

    @classmethod
    def ideal(cls) -> SensorErrors:
        """No noise, bias, scale error or jitter: the exact kinematic signal."""
        return cls(0.0, 0.0, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), 0.0)


@dataclass
class GroundTruth:
    """What really happened during a simulated day. All times are int64 ns UTC.

    - ``activities``: ``start, end, activity, speed_mps`` covering the day without gaps;
      ``activity`` in :data:`ACTIVITIES`; ``speed_mps`` is the nominal speed of a walking/running
      segment (0 otherwise).
    - ``sitting_bouts``: ``start, end, duration_s, posture`` - maximal runs of sitting
      (fidgeting included; a sit-to-stand transition ends a bout).
    - ``strides``: ``t, foot, stride_length_m, stride_time_s, speed_mps, cadence_spm`` - every
      full stride of both feet (``t`` = heel strike starting the stride; gait initiation and
      termination half-steps are not strides).
    - ``lost_packets``: ``first_missing_seq, missing_count`` - one row per packet the simulated
      link dropped.
    """

    activities: pd.DataFrame
    sitting_bouts: pd.DataFrame
    strides: pd.DataFrame
    lost_packets: pd.DataFrame


@dataclass
class SimulatedRecording:
    """One simulated device-day.

    ``samples`` is a canonical IMU frame (``t`` int64 ns UTC, ``seq`` int64, ``ax ay az`` float32
    g, ``gx gy gz`` float32 deg/s) that passes :func:`sensors.schema.validate_imu` unchanged.
    ``sensor_height_m`` is the standing height of a lower-back sensor above the floor (m), used by
    the inverted-pendulum gait model, or ``None``.
    """

    device_id: str
    placement: str
    rate_hz: float
    tz: str
    sensor_height_m: float | None
    samples: pd.DataFrame
    truth: GroundTruth
    day: dt.date | None = None
    seed: int = 0


# --------------------------------------------------------------------------------------------
# Random streams: one independent stream per purpose, so truth never depends on rendering
# --------------------------------------------------------------------------------------------

_PURPOSE = {
    "person": 1,
    "plan": 2,
    "gait": 3,
    "motion": 4,
    "posture": 5,
    "noise": 6,
    "jitter": 7,
    "packets": 8,
    "weeks": 9,
}


def _rng(seed: int, purpose: str, *keys: int) -> np.random.Generator:
    entropy = [int(seed) & 0xFFFF_FFFF_FFFF_FFFF, _PURPOSE[purpose], *(int(k) for k in keys)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


@dataclass(frozen=True)
class _Person:
    walk_speed_mps: float
    run_speed_mps: float
    leg_length_m: float
    walk_swing_frac: float
    run_swing_frac: float
    cross_legs_p: float


def _person(seed: int) -> _Person:
    rng = _rng(seed, "person")
    return _Person(
        walk_speed_mps=float(rng.uniform(1.22, 1.42)),
        run_speed_mps=float(rng.uniform(2.7, 3.4)),
        leg_length_m=float(rng.uniform(0.88, 1.02)),
        walk_swing_frac=float(rng.uniform(0.38, 0.40)),
        run_swing_frac=float(rng.uniform(0.60, 0.64)),
        cross_legs_p=float(rng.uniform(0.1, 0.4)),
    )


def natural_stride_time_s(speed_mps: float, activity: str) -> float:
    """The simulated person's natural stride time (s) at pace ``speed_mps`` (m/s).

    Walking: 1.2 - (v - 1)/3 clipped to [0.95, 1.3] s; running: 0.74 - 0.03 (v - 2.5) clipped
    to [0.6, 0.8] s. ``stride_scale``/``stride_offset_m`` change stride length, not this.
    """
    if activity == "running":
        return float(np.clip(0.74 - 0.03 * (speed_mps - 2.5), 0.6, 0.8))
    return float(np.clip(1.2 - (speed_mps - 1.0) / 3.0, 0.95, 1.3))


# --------------------------------------------------------------------------------------------
# The day plan (activity timeline)
# --------------------------------------------------------------------------------------------


@dataclass
class _Seg:
    activity: str
    start: float  # wall-clock s since local midnight while planning; s since day start after
    end: float
    pace: float = 0.0  # base pace v0 (m/s) of walking/running
    tag: str = ""


class _Builder:
    """Appends segments at a wall-clock cursor (s since local midnight)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.segs: list[_Seg] = []
        self.t = 0.0

    def u(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def add(self, activity: str, dur: float, pace: float = 0.0, tag: str = "") -> None:
        if dur <= 0:
            return
        if dur < 5.0 and self.segs:  # too short to be its own segment: lengthen the previous
            self.segs[-1].end += dur
        else:
            self.segs.append(_Seg(activity, self.t, self.t + dur, pace, tag))
        self.t += dur

    def until(self, activity: str, t_end: float, pace: float = 0.0, tag: str = "") -> None:
        self.add(activity, t_end - self.t, pace, tag)


def _paces(
    person: _Person, rng: np.random.Generator, pace_scale: float = 1.0
) -> dict[str, Callable[[], float]]:
    v = person.walk_speed_mps * pace_scale

    def walk(lo: float, hi: float) -> Callable[[], float]:
        return lambda: float(np.clip(v * rng.uniform(lo, hi), 0.9, 1.7))

    return {
        "slow": walk(0.75, 0.88),
        "normal": walk(0.93, 1.04),
        "brisk": walk(1.03, 1.12),
        "run": lambda: float(person.run_speed_mps * pace_scale * rng.uniform(0.95, 1.05)),
    }


def _mix(b: _Builder, until: float, pace: Callable[[], float]) -> None:
    """Standing with short walks (moving around at home, chores) until ``until``."""
    while b.t < until - 60.0:
        b.add("standing", min(b.u(2, 7) * _M, until - b.t))
        if b.t < until - 40.0:
            b.add("walking", min(b.u(20, 80), until - b.t), pace())
    b.until("standing", until)


def _desk_block(b: _Builder, dur: float) -> None:
    if dur > 30 * _M and b.rng.random() < 0.35:  # broken by a short stand (phone, colleague)
        first = dur * b.u(0.3, 0.7)
        b.add("sitting", first, tag="desk")
        stand = b.u(30, 90)
        b.add("standing", stand)
        b.add("sitting", dur - first - stand, tag="desk")
    else:
        b.add("sitting", dur, tag="desk")


def _desk(b: _Builder, end: float, scale: float, pace: dict, meeting_p: float) -> None:
    """Desk work from the cursor until about ``end``: sitting blocks of 45-120 min x scale."""
    meeting = False
    coffee = False
    while end - b.t > 60.0:
        rem = end - b.t
        block = b.u(45, 120) * _M * scale
        if rem < block + 25 * _M * max(scale, 0.4):
            block = min(rem, max(block, 120 * _M * scale))
        _desk_block(b, block)
        rem = end - b.t
        if rem <= 60.0:
            break
        r, r2, r3 = b.rng.random(), b.rng.random(), b.rng.random()
        if not meeting and r < meeting_p and rem > 45 * _M:
            meeting = True
            b.add("walking", b.u(40, 120), pace["slow"]())
            b.add("standing", b.u(20, 90))
            if r2 < 0.3:  # a stand-up meeting
                b.add("standing", b.u(10, 20) * _M)
            else:
                b.add("sitting", min(b.u(30, 60) * _M, rem - 8 * _M), tag="meeting")
            b.add("walking", b.u(40, 120), pace["slow"]())
        elif not coffee and rem > 30 * _M:  # coffee break in the kitchen
            coffee = True
            b.add("walking", b.u(30, 90), pace["slow"]())
            b.add("standing", b.u(8, 15) * _M)
            b.add("walking", b.u(30, 90), pace["slow"]())
        else:  # a short break
            b.add("walking", b.u(30, 120), pace["slow"]())
            b.add("standing", b.u(1, 4) * _M)
            b.add("walking", b.u(30, 120), pace["slow"]())
        long_block = block > 90 * _M * scale
        if (r3 < 0.7 or long_block) and end - b.t > 25 * _M:  # a while at the sit-stand desk
            b.add("standing", b.u(20, 40) * _M)


def _evening(b: _Builder, bed: float, pace: dict, sit_lo: float, sit_hi: float) -> None:
    pre_bed = bed - b.u(10, 20) * _M
    while b.t < pre_bed - 10 * _M:
        b.add("sitting", min(b.u(sit_lo, sit_hi) * _M, pre_bed - b.t), tag="evening")
        if b.t >= pre_bed - 5 * _M:
            break
        b.add("standing", b.u(10, 20) * _M)
        if b.rng.random() < 0.5:
            b.add("walking", b.u(20, 90), pace["slow"]())
    b.until("standing", max(bed, b.t + 60.0))


def _run_block(b: _Builder, pace: dict, lo_min: float, hi_min: float) -> None:
    b.add("standing", b.u(3, 6) * _M)
    b.add("running", b.u(lo_min, hi_min) * _M, pace["run"]())
    b.add("walking", b.u(3, 6) * _M, pace["slow"]())
    b.add("standing", b.u(10, 20) * _M)


def _workday_segments(
    b: _Builder, person: _Person, run: bool, sitting_scale: float, pace: dict
) -> None:
    wake = b.u(6.5, 7.5) * _H
    b.until("lying", wake, tag="sleep")
    b.add("sitting", b.u(30, 120), tag="bed")
    routine_end = b.t + b.u(45, 75) * _M
    breakfast = False
    while b.t < routine_end - 3 * _M:
        b.add("standing", b.u(2, 7) * _M)
        b.add("walking", b.u(20, 80), pace["slow"]())
        if not breakfast and b.t > wake + 15 * _M:
            b.add("sitting", b.u(10, 20) * _M, tag="meal")
            breakfast = True
    b.add("standing", b.u(1, 3) * _M)
    b.add("walking", b.u(10, 20) * _M, pace["brisk"]())  # commute
    b.add("standing", b.u(1, 4) * _M)
    arrive = b.t
    lunch = b.u(12.0, 12.75) * _H
    _desk(b, lunch, sitting_scale, pace, meeting_p=0.6)
    b.add("walking", b.u(2, 5) * _M, pace["slow"]())
    b.add("standing", b.u(3, 8) * _M)
    b.add("sitting", b.u(15, 25) * _M, tag="meal")
    b.add("walking", b.u(15, 30) * _M, pace["normal"]())  # lunch walk
    b.add("standing", b.u(5, 10) * _M)  # coffee
    leave = min(max(arrive + b.u(7.75, 8.75) * _H, 16.0 * _H), 18.0 * _H)  # an 8-9 h day
    flex_sit, flex_stand = b.u(45, 60) * _M, b.u(30, 40) * _M
    _desk(b, leave - flex_sit - flex_stand, sitting_scale, pace, meeting_p=0.4)
    b.add("standing", b.u(1, 3) * _M)
    b.add("sitting", flex_sit, tag="flex_sit")
    b.add("standing", flex_stand, tag="flex_stand")
    b.add("walking", b.u(10, 20) * _M, pace["brisk"]())  # commute home
    b.add("standing", b.u(3, 10) * _M)
    if run:
        _run_block(b, pace, 25, 45)
    elif b.rng.random() < 0.5:  # an evening walk instead
        b.add("walking", b.u(20, 45) * _M, pace["normal"]())
        b.add("standing", b.u(2, 5) * _M)
    b.add("standing", b.u(20, 40) * _M)  # cooking
    b.add("sitting", b.u(20, 30) * _M, tag="meal")
    b.add("standing", b.u(10, 20) * _M)
    _mix(b, b.t + b.u(30, 50) * _M, pace["slow"])  # chores
    _evening(b, b.u(22.5, 23.5) * _H, pace, 15, 25)


def _weekend_segments(b: _Builder, person: _Person, run: bool, pace: dict) -> None:
    wake = b.u(7.25, 9.0) * _H
    b.until("lying", wake, tag="sleep")
    b.add("sitting", b.u(60, 240), tag="bed")
    _mix(b, b.t + b.u(20, 40) * _M, pace["slow"])
    b.add("sitting", b.u(20, 40) * _M, tag="meal")
    lunch = b.u(12.0, 12.75) * _H
    if b.rng.random() < 0.5:  # errands
        b.add("walking", b.u(10, 20) * _M, pace["brisk"]())
        _mix(b, b.t + b.u(30, 60) * _M, pace["slow"])
        b.add("walking", b.u(10, 20) * _M, pace["brisk"]())
    else:  # a long walk
        b.add("walking", b.u(45, 90) * _M, pace["normal"]())
    _mix(b, max(lunch, b.t + 10 * _M), pace["slow"])
    b.add("standing", b.u(15, 30) * _M)
    b.add("sitting", b.u(20, 35) * _M, tag="meal")
    b.add("standing", b.u(5, 10) * _M)
    b.add("sitting", b.u(45, 75) * _M, tag="flex_sit")
    b.add("standing", b.u(30, 40) * _M, tag="flex_stand")
    if run:
        _run_block(b, pace, 30, 50)
    else:
        b.add("walking", b.u(20, 60) * _M, pace["normal"]())
    _mix(b, max(b.u(18.25, 18.75) * _H, b.t + 10 * _M), pace["slow"])
    b.add("standing", b.u(20, 40) * _M)
    b.add("sitting", b.u(20, 35) * _M, tag="meal")
    _evening(b, b.u(22.75, 23.9) * _H, pace, 20, 45)


_GROUP = {
    "sitting": "sit",
    "lying": "lie",
    "standing": "up",
    "walking": "up",
    "running": "up",
}


@dataclass
class _Plan:
    day: dt.date
    tz: str
    day_start_ns: int
    day_end_ns: int
    segs: list[_Seg]  # times in s since day_start_ns (UTC)
    bounds_ns: np.ndarray  # len(segs) + 1 boundaries, int64 UTC ns
    speed: np.ndarray  # nominal speed per segment (m/s)
    sitting_offset_applied_min: float
    person: _Person

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "start": self.bounds_ns[:-1].astype(np.int64),
                "end": self.bounds_ns[1:].astype(np.int64),
                "activity": pd.array([s.activity for s in self.segs], dtype="string"),
                "speed_mps": self.speed.astype(np.float64),
            }
        )


def _wallclock_to_ns(day: dt.date, tz: str, seconds: np.ndarray) -> np.ndarray:
    """UTC ns of wall-clock ``seconds`` after local midnight of ``day`` (DST-aware)."""
    z = zone(tz)
    epoch_day = (day - dt.date(1970, 1, 1)).days
    naive_ns = epoch_day * 86_400 * NS + np.round(seconds * NS).astype(np.int64)
    out = np.empty(len(seconds), dtype=np.int64)
    midnight = dt.datetime.combine(day, dt.time())
    for i, s in enumerate(seconds):
        wall = midnight + dt.timedelta(seconds=float(s))
        off = wall.replace(tzinfo=z).utcoffset()
        assert off is not None
        out[i] = naive_ns[i] - int(off.total_seconds()) * NS
    return np.maximum.accumulate(out)


def _is_weekend(day: dt.date) -> bool:
    return day.weekday() >= 5


def _build_plan(
    day: dt.date,
    *,
    seed: int,
    tz: str,
    evening_run: bool | None,
    weekend: bool | None,
    sitting_scale: float,
    sitting_offset_min: float,
    stride_scale: float,
    stride_offset_m: float,
    pace_scale: float = 1.0,
) -> _Plan:
    person = _person(seed)
    rng = _rng(seed, "plan", day.toordinal())
    weekend = _is_weekend(day) if weekend is None else weekend
    run_draw = rng.random()
    run = (run_draw < (0.5 if weekend else 0.4)) if evening_run is None else bool(evening_run)
    b = _Builder(rng)
    pace = _paces(person, rng, pace_scale)
    if weekend:
        _weekend_segments(b, person, run, pace)
    else:
        _workday_segments(b, person, run, sitting_scale, pace)
    if b.t < 24 * _H - 5:
        b.until("lying", 24 * _H, tag="sleep")
    segs = [s for s in b.segs if s.start < 24 * _H]
    segs[-1].end = 24 * _H

    # the known sitting offset: move the boundary between the flex sitting and standing blocks
    applied = 0.0
    for i, s in enumerate(segs[:-1]):
        if s.tag == "flex_sit" and segs[i + 1].tag == "flex_stand":
            nxt = segs[i + 1]
            want = sitting_offset_min * _M
            delta = float(np.clip(want, -(s.end - s.start - 60.0), nxt.end - nxt.start - 60.0))
            s.end += delta
            nxt.start += delta
            applied = delta / _M
            if abs(delta - want) > 1e-9:
                _log.warning(
                    "%s: sitting offset %.1f min clipped to %.1f min", day, want / _M, applied
                )
            break

    # merge neighbours of the same activity
    merged: list[_Seg] = []
    for s in segs:
        if merged and merged[-1].activity == s.activity:
            m = merged[-1]
            d0, d1 = m.end - m.start, s.end - s.start
            m.pace = (m.pace * d0 + s.pace * d1) / (d0 + d1)
            m.end = s.end
        else:
            merged.append(_Seg(s.activity, s.start, s.end, s.pace, s.tag))

    # posture transitions between sitting, lying and upright
    final: list[_Seg] = []
    for i, s in enumerate(merged):
        final.append(s)
        if i + 1 < len(merged):
            nxt = merged[i + 1]
            g0, g1 = _GROUP[s.activity], _GROUP[nxt.activity]
            if g0 != g1:
                d = float(rng.uniform(2.0, 4.0) if "lie" in (g0, g1) else rng.uniform(1.0, 2.0))
                s.end -= d / 2
                nxt.start += d / 2
                final.append(_Seg("transition", s.end, nxt.start))

    wall = np.array([s.start for s in final] + [final[-1].end])
    bounds = _wallclock_to_ns(day, tz, wall)
    day_start, day_end = day_bounds_ns(day, tz)
    bounds[0], bounds[-1] = day_start, day_end
    bounds = np.clip(bounds, day_start, day_end)
    rel = (bounds - day_start) / NS
    speed = np.zeros(len(final))
    for i, s in enumerate(final):
        s.start, s.end = float(rel[i]), float(rel[i + 1])
        if s.activity in ("walking", "running"):
            t0 = natural_stride_time_s(s.pace, s.activity)
            speed[i] = stride_scale * s.pace + stride_offset_m / t0
    return _Plan(day, tz, day_start, day_end, final, bounds, speed, applied, person)


def workday_plan(
    day: dt.date | str,
    *,
    seed: int,
    evening_run: bool | None = None,
    tz: str = "Europe/Berlin",
    sitting_scale: float = 1.0,
    sitting_offset_min: float = 0.0,
    stride_scale: float = 1.0,
    stride_offset_m: float = 0.0,
    weekend: bool | None = None,
) -> pd.DataFrame:
    """The activity timeline of one local day (the truth activities of :func:`simulate_day`).

    Columns ``start, end`` (int64 UTC ns, contiguous from local midnight to the next local
    midnight), ``activity`` (:data:`ACTIVITIES`), ``speed_mps`` (nominal m/s of walking/running,
    else 0). Mon-Fri are workdays (sleep until 6:30-7:30, morning routine, 10-20 min walking
    commute, desk blocks of 45-120 min x ``sitting_scale`` with fidgeting, breaks and a meeting,
    lunch with a 15-30 min walk, afternoon desk, commute, optional evening run of 25-45 min,
    evening sitting, bed at 22:30-23:30); Sat/Sun (or ``weekend=True``) have less sitting.
    ``evening_run=None`` draws a run from the seed (40 % of workdays, 50 % of weekend days).
    ``sitting_offset_min`` (minutes, may be negative) is added exactly to the day's sitting by
    moving the end of the late-afternoon sitting block (clipped to keep 1 min of it and of the
    standing block that follows). The same ``seed`` is the same person on every day.
    """
    day = _as_date(day)
    plan = _build_plan(
        day,
        seed=seed,
        tz=tz,
        evening_run=evening_run,
        weekend=weekend,
        sitting_scale=sitting_scale,
        sitting_offset_min=sitting_offset_min,
        stride_scale=stride_scale,
        stride_offset_m=stride_offset_m,
    )
    return plan.frame()


def _as_date(day: dt.date | str) -> dt.date:
    if isinstance(day, str):
        try:
            return dt.date.fromisoformat(day)
        except ValueError as exc:
            raise UsageError(f"not a day: {day!r}; write it as YYYY-MM-DD") from exc
    if isinstance(day, dt.datetime):
        return day.date()
    return day


# --------------------------------------------------------------------------------------------
# Gait (truth strides and the step table the signal is built from)
# --------------------------------------------------------------------------------------------


@dataclass
class _Gait:
    running: bool
    a: float  # segment start, s since day start
    b: float  # segment end
    hs: np.ndarray  # heel strikes of steps 0..K (K = the termination step, feet together)
    foot: np.ndarray  # 0 = left, 1 = right, per step
    land: np.ndarray  # landing position of each step along the path (m)
    swing: np.ndarray  # swing duration of each step (s)
    tau: float  # nominal step time (s)
    stride_time: float  # nominal stride time (s)
    h: np.ndarray  # CoM vertical excursion of step interval k (between hs[k] and hs[k+1]), m
    step_len: np.ndarray  # step length of interval k (m)

    def side_steps(self, side: int) -> np.ndarray:
        return np.flatnonzero(self.foot == side)


def _make_gait(
    seg: _Seg,
    rng: np.random.Generator,
    person: _Person,
    stride_scale: float,
    stride_offset_m: float,
    leg_length: float,
) -> _Gait | None:
    running = seg.activity == "running"
    v0 = seg.pace
    t0 = natural_stride_time_s(v0, seg.activity)
    tau = t0 / 2
    swing_frac = person.run_swing_frac if running else person.walk_swing_frac
    swing_nom = swing_frac * t0
    dur = seg.end - seg.start
    m = int(dur / tau) + 8
    taus = tau * (1.0 + 0.02 * rng.standard_normal(m))
    lens = stride_scale * v0 * tau * (1.0 + 0.02 * rng.standard_normal(m)) + stride_offset_m / 2
    swings = swing_nom * (1.0 + 0.02 * rng.standard_normal(m))
    first_foot = int(rng.integers(2))
    start_gap = swing_nom * 1.05 + 0.05 * float(rng.random())
    hs = seg.start + start_gap + np.concatenate([[0.0], np.cumsum(taus[:-1])])
    # regular steps 0..K-1 must leave room for the termination step K
    last_ok = seg.end - 0.15
    k_total = int(np.searchsorted(hs, last_ok, side="right"))  # steps with hs <= last_ok
    if k_total < 4:
        return None
    big_k = k_total - 1  # index of the termination step
    hs = hs[: big_k + 1].copy()
    lens = np.maximum(lens[: big_k + 1], 0.05)
    lens[big_k] = 0.0  # termination: the trailing foot comes alongside
    land = np.cumsum(lens)
    foot = (first_foot + np.arange(big_k + 1)) % 2
    swing = np.minimum(swings[: big_k + 1], 0.9 * np.diff(hs, prepend=seg.start) * 2)
    swing[0] = min(swing[0], hs[0] - seg.start - 0.01)
    step_len = lens[1:]  # interval k (hs[k] -> hs[k+1]) vaults over the step landing at k+1
    half = np.minimum(step_len / (2 * TRUNK_PENDULUM_CORRECTION), 0.95 * leg_length)
    h = leg_length - np.sqrt(leg_length**2 - half**2)
    return _Gait(running, seg.start, seg.end, hs, foot, land, swing, tau, t0, h, step_len)


def _gait_strides(g: _Gait, day_start_ns: int) -> pd.DataFrame:
    k_term = len(g.hs) - 1
    k = np.arange(0, k_term - 2)  # strides hs[k] -> hs[k+2], both regular steps
    length = g.land[k + 2] - g.land[k]
    time_ns = np.round(g.hs * NS).astype(np.int64)
    t_start = day_start_ns + time_ns[k]
    stride_time = (time_ns[k + 2] - time_ns[k]) / NS
    return pd.DataFrame(
        {
            "t": t_start.astype(np.int64),
            "foot": np.where(g.foot[k] == 0, "left", "right"),
            "stride_length_m": length,
            "stride_time_s": stride_time,
            "speed_mps": length / stride_time,
            "cadence_spm": 120.0 / stride_time,
        }
    )


# --------------------------------------------------------------------------------------------
# Posture knots (slow channels) per placement
# --------------------------------------------------------------------------------------------

# Level ranges per placement and (activity, kind): (pitch, roll, axial) in degrees as (lo, hi).
# Pitch is the segment's rotation about its left axis: negative tilts the segment's long axis
# backward (thigh flexion, trunk recline, forearm raised forward); for the foot positive = toes
# down. Lying axial/roll angles come from the sleep posture (see _lying_level).
_R = tuple[float, float]
_LEVELS: dict[str, dict[tuple[str, str], tuple[_R, _R, _R]]] = {
    "thigh": {
        ("standing", "normal"): ((-8, 3), (-3, 3), (-8, 8)),
        ("standing", "shift"): ((-18, -5), (-6, 6), (-15, 15)),
        ("sitting", "normal"): ((-98, -78), (-6, 6), (-12, 12)),
        ("sitting", "crossed"): ((-105, -85), (-8, 8), (20, 35)),
        ("sitting", "lean"): ((-82, -70), (-5, 5), (-10, 10)),
    },
    "lower_back": {
        ("standing", "normal"): ((-3, 6), (-3, 3), (-5, 5)),
        ("standing", "shift"): ((-2, 8), (-6, 6), (-8, 8)),
        ("sitting", "normal"): ((-30, -12), (-5, 5), (-8, 8)),
        ("sitting", "crossed"): ((-28, -12), (-8, 8), (-10, 10)),
        ("sitting", "lean"): ((-16, -10), (-4, 4), (-6, 6)),
    },
    "chest": {
        ("standing", "normal"): ((-3, 8), (-3, 3), (-5, 5)),
        ("standing", "shift"): ((-2, 10), (-6, 6), (-8, 8)),
        ("sitting", "normal"): ((-28, -10), (-5, 5), (-8, 8)),
        ("sitting", "crossed"): ((-25, -10), (-8, 8), (-10, 10)),
        ("sitting", "lean"): ((-14, -8), (-4, 4), (-6, 6)),
    },
    "wrist": {
        ("standing", "normal"): ((-15, 5), (-10, 10), (-40, 40)),
        ("standing", "shift"): ((-100, -60), (-15, 15), (-60, 30)),
        ("sitting", "normal"): ((-100, -75), (-15, 15), (-30, 30)),
        ("sitting", "crossed"): ((-70, -40), (-20, 20), (-90, -30)),
        ("sitting", "lean"): ((-130, -100), (-20, 20), (-60, 60)),
    },
    "foot": {
        ("standing", "normal"): ((-0.3, 0.3), (-0.3, 0.3), (-3, 3)),
        ("standing", "shift"): ((-0.5, 0.5), (-0.5, 0.5), (-8, 8)),
        ("sitting", "normal"): ((-3, 3), (-2, 2), (-10, 10)),
        ("sitting", "crossed"): ((15, 35), (-20, 20), (-20, 20)),
        ("sitting", "lean"): ((-25, -10), (-5, 5), (-10, 10)),
    },
}
# Gait plateau (pitch deg) for walking / running.
_GAIT_PITCH: dict[str, tuple[float, float]] = {
    "thigh": (-8.0, -18.0),
    "lower_back": (3.0, 8.0),
    "chest": (4.0, 10.0),
    "wrist": (-5.0, -80.0),
    "foot": (0.0, 0.0),
}
# Wander: amplitude (pitch, roll, axial) in degrees and knot spacing (lo, hi) in s.
_WANDER: dict[str, dict[str, tuple[tuple[float, float, float], _R]]] = {
    "thigh": {"sitting": ((1.5, 1.2, 3), (2, 8)), "standing": ((1.2, 1, 3), (1, 4))},
    "lower_back": {"sitting": ((1.5, 1.2, 2), (2, 8)), "standing": ((1.2, 1, 2), (1, 4))},
    "chest": {"sitting": ((1.5, 1.2, 2), (2, 8)), "standing": ((1.2, 1, 2), (1, 4))},
    "wrist": {"sitting": ((8, 8, 15), (0.4, 3)), "standing": ((10, 8, 20), (0.5, 3))},
    "foot": {"sitting": ((2, 1.5, 2), (3, 10)), "standing": ((0.0, 0.0, 1), (2, 8))},
}
_WANDER_LYING: Final = ((1.2, 1.0, 2.0), (20.0, 120.0))
_YAW_STEP_DEG: Final = {"sitting": 4.0, "standing": 12.0, "lying": 2.0}
_LEVER_M: Final = {"thigh": 0.2, "wrist": 0.6, "lower_back": 0.0, "chest": 0.0, "foot": 0.0}


def _lying_level(placement: str, posture: str, rng: np.random.Generator) -> np.ndarray:
    """Segment (pitch, roll, axial) in degrees for a sleep posture ('left', 'right', 'prone')."""
    side = {"left": 90.0, "right": -90.0, "prone": 180.0}[posture]
    u = rng.uniform
    if placement == "foot":
        if posture == "prone":
            return np.array([u(150, 175), u(-10, 10), u(-10, 10)])
        return np.array([u(20, 45), -side + u(-15, 15), u(-10, 10)])
    if placement == "wrist":
        return np.array([-90 + u(-40, 40), u(-30, 30), side + u(-60, 60)])
    spread = 12.0 if placement == "thigh" else 6.0
    return np.array([-90 + u(-spread, spread), u(-5, 5), side + u(-15, 15)])


@dataclass
class _Knots:
    """Zero-slope cubic Hermite knots shared by the slow channels (pitch, roll, axial, yaw), rad."""

    t: np.ndarray
    v: np.ndarray  # (n, 4)

    def prepare(self) -> None:
        order = np.argsort(self.t, kind="stable")
        t, v = self.t[order], self.v[order]
        keep = np.concatenate([[True], np.diff(t) > 1e-3])
        self.t, self.v = t[keep], v[keep]
        self.dt = np.diff(self.t)
        self.dv = np.diff(self.v, axis=0)

    def evaluate(self, ts: np.ndarray) -> dict[str, np.ndarray]:
        k = np.clip(np.searchsorted(self.t, ts, side="right") - 1, 0, len(self.t) - 2)
        dt_k = self.dt[k]
        u = np.clip((ts - self.t[k]) / dt_k, 0.0, 1.0)
        h = u * u * (3.0 - 2.0 * u)
        dh = 6.0 * u * (1.0 - u) / dt_k
        ddh = (6.0 - 12.0 * u) / (dt_k * dt_k)
        inside = (ts >= self.t[0]) & (ts <= self.t[-1])
        ddh = np.where(inside, ddh, 0.0)
        out: dict[str, np.ndarray] = {}
        for j, name in enumerate(("th", "ph", "al")):
            p0, dp = self.v[k, j], self.dv[k, j]
            out[name] = p0 + dp * h
            out["d" + name] = dp * dh
        out["ddth"] = self.dv[k, 0] * ddh
        out["dps"] = self.dv[k, 3] * dh
        return out


def _epochs(
    a: float, b: float, lo: float, hi: float, rng: np.random.Generator
) -> list[tuple[float, float]]:
    """Split [a, b] into epochs of U(lo, hi) s (the last one absorbs a short remainder)."""
    n = int((b - a) / lo) + 2
    cuts = a + np.cumsum(rng.uniform(lo, hi, n))
    cuts = cuts[cuts < b - lo / 2]
    edges = np.concatenate([[a], cuts, [b]])
    return list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))


@dataclass
class _Motion:
    """Placement-independent description of how the person moved (epochs, fidgets, sleep)."""

    epochs: list[list[tuple[float, float, str, float]]]  # per segment: (start, end, kind, ramp)
    jiggles: list[tuple[float, float, float]]  # knee bouncing: (start, end, frequency Hz)
    via: dict[int, float]  # transition index -> forward-lean fraction (for trunk sensors)


def _motion(plan: _Plan, seed: int) -> _Motion:
    rng = _rng(seed, "motion", plan.day.toordinal())
    person = plan.person
    epochs: list[list[tuple[float, float, str, float]]] = []
    jiggles: list[tuple[float, float, float]] = []
    via: dict[int, float] = {}
    segs = plan.segs
    posture = str(rng.choice(["left", "right", "prone"], p=[0.4, 0.4, 0.2]))
    for i, s in enumerate(segs):
        prev_tr = i == 0 or segs[i - 1].activity == "transition"
        ramp0 = 0.0 if prev_tr else min(0.5, (s.end - s.start) / 4)
        a = s.start
        if s.activity == "transition":
            epochs.append([])
            via[i] = float(rng.uniform(0.35, 0.5))
            continue
        if s.activity in ("walking", "running"):
            epochs.append([(a, s.end, "gait", ramp0)])
            continue
        if s.activity == "lying":
            spans = _epochs(a, s.end, 15 * _M, 120 * _M, rng)
            out = []
            for j, (e0, e1) in enumerate(spans):
                if j > 0:
                    choices = [p for p in ("left", "right", "prone") if p != posture]
                    posture = str(rng.choice(choices, p=[0.7, 0.3] if posture == "prone" else None))
                out.append((e0, e1, posture, ramp0 if j == 0 else float(rng.uniform(2, 5))))
            epochs.append(out)
            continue
        lo, hi = (60.0, 480.0) if s.activity == "sitting" else (20.0, 180.0)
        spans = _epochs(a, s.end, lo, hi, rng)
        out = []
        for j, (e0, e1) in enumerate(spans):
            r = rng.random()
            if s.activity == "sitting":
                kind = "crossed" if r < person.cross_legs_p else "lean" if r > 0.88 else "normal"
                ramp = float(rng.uniform(1.0, 3.0))
            else:
                kind = "shift" if r < 0.3 else "normal"
                ramp = float(rng.uniform(0.8, 2.0))
            out.append((e0, e1, kind, ramp0 if j == 0 else min(ramp, (e1 - e0) / 3)))
        epochs.append(out)
        if s.activity == "sitting":
            n_j = rng.poisson((s.end - s.start) / (10 * _M))
            for t0 in np.sort(rng.uniform(s.start + 20, max(s.end - 60, s.start + 21), n_j)):
                d = float(rng.uniform(5, 40))
                if t0 + d < s.end - 10:
                    jiggles.append((float(t0), float(t0 + d), float(rng.uniform(3.0, 5.5))))
    return _Motion(epochs, jiggles, via)


def _knots(placement: str, plan: _Plan, motion: _Motion, rng: np.random.Generator) -> _Knots:
    times: list[np.ndarray] = []
    values: list[np.ndarray] = []
    yaw = 0.0
    levels = _LEVELS[placement]
    segs = plan.segs
    for i, s in enumerate(segs):
        if s.activity == "transition":
            if i in motion.via and placement in ("lower_back", "chest"):
                g0 = _GROUP.get(segs[i - 1].activity) if i > 0 else None
                g1 = _GROUP.get(segs[i + 1].activity) if i + 1 < len(segs) else None
                if {g0, g1} == {"sit", "up"}:
                    frac = motion.via[i]
                    if g0 == "up":
                        frac = 1.0 - frac
                    lean = float(rng.uniform(25, 40))
                    t_via = s.start + frac * (s.end - s.start)
                    times.append(np.array([t_via]))
                    values.append(np.array([[lean * _DEG, 0.0, 0.0, yaw * _DEG]]))
            continue
        for e0, e1, kind, ramp in motion.epochs[i]:
            if kind == "gait":
                running = s.activity == "running"
                lvl = np.array([_GAIT_PITCH[placement][running], 0.0, 0.0])
                amp, (sp_lo, sp_hi) = (0.0, 0.0, 0.0), (1e9, 1e9)
                yaw_step = 0.0
            elif s.activity == "lying":
                lvl = _lying_level(placement, kind, rng)
                amp, (sp_lo, sp_hi) = _WANDER_LYING
                yaw_step = _YAW_STEP_DEG["lying"]
            else:
                rngs = levels[(s.activity, kind)]
                lvl = np.array([rng.uniform(lo, hi) for lo, hi in rngs])
                if placement != "foot" and kind == "crossed" and rng.random() < 0.5:
                    lvl[2] = -lvl[2]  # the other leg on top
                amp, (sp_lo, sp_hi) = _WANDER[placement][s.activity]
                yaw_step = _YAW_STEP_DEG[s.activity]
            if values:  # turn the short way: keep the axial angle unwrapped
                prev = float(values[-1][-1, 2]) / _DEG
                lvl[2] = prev + (lvl[2] - prev + 180.0) % 360.0 - 180.0
            t_first = e0 + ramp
            span = e1 - t_first
            if span <= 0.01:
                t_first = e0 + 0.5 * (e1 - e0)
                span = e1 - t_first
            n_w = int(span / sp_lo) + 2 if sp_lo < 1e8 else 0
            inner = t_first + np.cumsum(rng.uniform(sp_lo, sp_hi, n_w)) if n_w else np.empty(0)
            inner = inner[inner < e1 - sp_lo / 2] if n_w else inner
            kt = np.concatenate([[t_first], inner, [e1]])
            n = len(kt)
            ang = lvl[None, :] + rng.standard_normal((n, 3)) * np.asarray(amp)[None, :] * 0.6
            if placement == "thigh" and s.activity == "sitting":  # never toward vertical
                ang[:, 0] = np.minimum(ang[:, 0], -66.0)
            yaw_walk = yaw + np.cumsum(rng.standard_normal(n) * yaw_step)
            yaw = float(yaw_walk[-1])
            times.append(kt)
            values.append(np.column_stack([ang * _DEG, yaw_walk * _DEG]))
    k = _Knots(np.concatenate(times), np.concatenate(values))
    k.prepare()
    return k


# --------------------------------------------------------------------------------------------
# Events: additive fast components (gait, transitions, jiggling), evaluated on sample slices
# --------------------------------------------------------------------------------------------

_Channels = dict[str, np.ndarray]  # angles th ph al (rad), their rates, ddth, dps; fwd lat up (g)


def _smoothstep(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3 - 2 * u), 6 * u * (1 - u)


def _ricker(x: np.ndarray) -> np.ndarray:
    """Mexican-hat pulse of peak 1 at x = 0 (x in widths): zero net velocity and position change."""
    x2 = x * x
    return (1.0 - x2) * np.exp(-0.5 * x2)


class _Phase:
    """Piecewise-linear phase through event times (value i at times[i]), extrapolated."""

    def __init__(self, times: np.ndarray, period: float) -> None:
        ext = 1000.0
        self.t = np.concatenate([[times[0] - ext * period], times, [times[-1] + ext * period]])
        self.v = np.concatenate(
            [[-ext], np.arange(len(times), dtype=float), [len(times) - 1 + ext]]
        )
        self.rate = 1.0 / np.diff(self.t)

    def __call__(self, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k = np.clip(np.searchsorted(self.t, ts, side="right") - 1, 0, len(self.t) - 2)
        rate = self.rate[k]
        return self.v[k] + (ts - self.t[k]) * rate, rate, k - 1


# Foot swing shape polynomials over s in [0, 1].
_S = Polynomial([0, 1])
_X_SHAPE: Final = 10 * _S**3 - 15 * _S**4 + 6 * _S**5
_Z_SHAPE: Final = 64 * _S**3 * (1 - _S) ** 3
_P_RAW = _S**2 * (1 - _S) ** 2 * (0.6 - _S)
_P_SHAPE: Final = _P_RAW / float(np.max(_P_RAW(np.linspace(0, 1, 2001))))
_SHAPES: Final = {
    name: (p, p.deriv(1), p.deriv(2))
    for name, p in (("x", _X_SHAPE), ("z", _Z_SHAPE), ("p", _P_SHAPE))
}


@dataclass
class _GaitEvent:
    g: _Gait
    placement: str
    side: int
    sigma: float  # impact pulse width (s)
    run_swing: float = 0.62  # swing share of the stride while running

    def __post_init__(self) -> None:
        g = self.g
        self.step_phase = _Phase(g.hs, g.tau)
        own = g.side_steps(self.side)
        self.own = own
        self.stride_phase = _Phase(g.hs[own], g.stride_time) if len(own) >= 2 else None

    @property
    def t0(self) -> float:
        return self.g.a

    @property
    def t1(self) -> float:
        return self.g.b

    def envelope(self, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        g = self.g
        hs0, hs_l1, hs_l = g.hs[0], g.hs[-2], g.hs[-1]
        up, dup = _smoothstep((ts - g.a) / (hs0 - g.a))
        dn, ddn = _smoothstep((hs_l - ts) / (hs_l - hs_l1))
        env = up * dn
        denv = dup / (hs0 - g.a) * dn - up * ddn / (hs_l - hs_l1)
        return env, denv

    def apply(self, ts: np.ndarray, c: _Channels) -> None:
        if self.placement == "foot":
            self._foot(ts, c)
            return
        g = self.g
        run = g.running
        env, denv = self.envelope(ts)
        psi, dpsi, k = self.step_phase(ts)
        two_pi = 2 * math.pi
        w_step = two_pi * dpsi
        # centre of mass (heading frame, g)
        if run:
            frac = np.mod(psi, 1.0)
            c_st = min(0.95, 2 * (1 - self.run_swing))
            peak = math.pi / (2 * c_st)
            f_up = np.where(frac < c_st, peak * np.sin(math.pi * np.minimum(frac / c_st, 1)), 0.0)
            au = f_up - 1.0
        else:
            kk = np.clip(k, 0, len(g.h) - 1)
            h = np.where((k >= 0) & (k < len(g.h)), g.h[kk], 0.0)
            au = h / 2 * w_step**2 * np.cos(two_pi * psi) / G
        a_fwd = (0.25 if run else 0.1) * np.sin(two_pi * psi)
        # heel-strike impacts: the nearest heel strike
        near = np.clip(np.rint(psi).astype(np.int64), 0, len(g.hs) - 1)
        dt_hs = ts - g.hs[near]
        ipsi = g.foot[near] == self.side
        base = {"thigh": (0.8, 0.25), "wrist": (0.15, 0.15)}.get(self.placement, (0.5, 0.5))
        imp = np.where(ipsi, base[0], base[1]) * (3.0 if run else 1.0)
        au = au + imp * _ricker(dt_hs / self.sigma)
        c["up"] += env * au
        c["fwd"] -= env * a_fwd
        if self.stride_phase is None:
            return
        phi, dphi, _ = self.stride_phase(ts)
        w = two_pi * dphi
        c["lat"] += env * (0.1 if run else 0.05) * np.sin(two_pi * phi)
        p = self.placement
        if p == "thigh":
            amp, peak_phase = (32.0, 0.88) if run else (20.0, 0.9)
            self._osc(c, "th", env, denv, -amp * _DEG, phi - peak_phase, w)
            self._osc(c, "ph", env, denv, 3.0 * _DEG, phi - 0.25, w)
            self._osc(c, "al", env, denv, 5.0 * _DEG, phi - 0.1, w)
        elif p == "wrist":
            amp = 25.0 if run else 18.0
            self._osc(c, "th", env, denv, -amp * _DEG, phi - 0.4, w)
            self._osc(c, "al", env, denv, 8.0 * _DEG, phi - 0.3, w)
        else:  # trunk: pitch at step frequency, roll and yaw at stride frequency
            self._osc(c, "th", env, denv, (3.0 if run else 2.0) * _DEG, psi - 0.1, w_step)
            self._osc(c, "ph", env, denv, (5.0 if run else 3.0) * _DEG, phi - 0.25, w)
            yaw_amp = (6.0 if run else 4.0) * _DEG
            arg = two_pi * phi
            c["dps"] += yaw_amp * (denv * np.sin(arg) + env * w * np.cos(arg))

    @staticmethod
    def _osc(
        c: _Channels,
        name: str,
        env: np.ndarray,
        denv: np.ndarray,
        amp: float,
        cycles: np.ndarray,
        w: np.ndarray,
    ) -> None:
        """Add env * amp * cos(2 pi cycles) to channel ``name`` with its exact derivatives."""
        arg = 2 * math.pi * cycles
        cs, sn = np.cos(arg), np.sin(arg)
        c[name] += env * amp * cs
        c["d" + name] += amp * (denv * cs - env * w * sn)
        if name == "th":
            c["ddth"] += -env * amp * w * w * cs

    def _foot(self, ts: np.ndarray, c: _Channels) -> None:
        g = self.g
        own = self.own
        hs = g.hs[own]
        sw = g.swing[own]
        prev_land = np.concatenate([[0.0], g.land[own][:-1]])
        disp = g.land[own] - prev_land
        height = 0.25 if g.running else 0.12
        pitch = (55.0 if g.running else 40.0) * _DEG
        j = np.clip(np.searchsorted(hs, ts, side="left"), 0, len(hs) - 1)
        start = hs[j] - sw[j]
        s = (ts - start) / sw[j]
        in_sw = (s >= 0.0) & (s <= 1.0)
        s = np.clip(s, 0.0, 1.0)
        x2 = _SHAPES["x"][2]
        z2 = _SHAPES["z"][2]
        p, p1, p2 = _SHAPES["p"]
        inv = 1.0 / sw[j]
        m = in_sw.astype(float)
        c["fwd"] += m * disp[j] * x2(s) * inv * inv / G
        c["up"] += m * height * z2(s) * inv * inv / G
        c["th"] += m * pitch * p(s)
        c["dth"] += m * pitch * p1(s) * inv
        c["ddth"] += m * pitch * p2(s) * inv * inv
        # heel-strike impact on the own foot (nearest own heel strike)
        jn = np.clip(np.searchsorted(hs, ts), 0, len(hs) - 1)
        jp = np.clip(jn - 1, 0, len(hs) - 1)
        dn, dp_ = ts - hs[jn], ts - hs[jp]
        dt_hs = np.where(np.abs(dn) < np.abs(dp_), dn, dp_)
        c["up"] += (4.0 if g.running else 1.5) * _ricker(dt_hs / self.sigma)


@dataclass
class _TransitionEvent:
    """Vertical centre-of-mass move during a posture transition (minimum-jerk)."""

    t0: float
    t1: float
    dz: float  # m, positive up

    def apply(self, ts: np.ndarray, c: _Channels) -> None:
        d = self.t1 - self.t0
        s = np.clip((ts - self.t0) / d, 0, 1)
        acc = self.dz * (60 * s - 180 * s**2 + 120 * s**3) / (d * d)
        c["up"] += acc / G


@dataclass
class _JiggleEvent:
    """Knee bouncing while seated: a small pitch oscillation with a sin^2 envelope."""

    t0: float
    t1: float
    freq: float
    amp: float  # rad

    def apply(self, ts: np.ndarray, c: _Channels) -> None:
        d = self.t1 - self.t0
        u = np.clip((ts - self.t0) / d, 0, 1)
        env = np.sin(math.pi * u) ** 2
        denv = math.pi / d * np.sin(2 * math.pi * u)
        w = 2 * math.pi * self.freq
        arg = w * (ts - self.t0)
        sn, cs = np.sin(arg), np.cos(arg)
        c["th"] += self.amp * env * sn
        c["dth"] += self.amp * (denv * sn + env * w * cs)
        c["ddth"] += -self.amp * env * w * w * sn


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def _compose(c: _Channels, lever_m: float) -> tuple[np.ndarray, ...]:
    """Specific force (g) and angular velocity (rad/s) in the segment frame."""
    st, ct = np.sin(c["th"]), np.cos(c["th"])
    sp, cp = np.sin(c["ph"]), np.cos(c["ph"])
    sa, ca = np.sin(c["al"]), np.cos(c["al"])
    vx, vy, vz = c["fwd"], c["lat"], c["up"] + 1.0
    # Ry(theta)^T
    v1x = ct * vx - st * vz
    v1z = st * vx + ct * vz
    if lever_m:
        v1x = v1x - lever_m * c["ddth"] / G
        v1z = v1z + lever_m * c["dth"] ** 2 / G
    # Rx(phi)^T
    v2y = cp * vy + sp * v1z
    v2z = -sp * vy + cp * v1z
    # Rz(alpha)^T
    fx = ca * v1x + sa * v2y
    fy = -sa * v1x + ca * v2y
    fz = v2z
    # angular velocity
    dps = c["dps"]
    u1x, u1y, u1z = -st * dps, c["dth"], ct * dps
    u2x = u1x + c["dph"]
    u2y = cp * u1y + sp * u1z
    u2z = -sp * u1y + cp * u1z
    wx = ca * u2x + sa * u2y
    wy = -sa * u2x + ca * u2y
    wz = u2z + c["dal"]
    return fx, fy, fz, wx, wy, wz


def _to_sensor(placement: str, f: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    fx, fy, fz, wx, wy, wz = f
    if placement == "foot":
        return fx, fy, fz, wx, wy, wz
    # sensor x = segment Z (up along the segment), y = -Y (right), z = X (anterior)
    return fz, -fy, fx, wz, -wy, wx


def _sample_times(
    day_start: int, day_end: int, rate_hz: float, jitter_s: float, rng: np.random.Generator
) -> np.ndarray:
    period_ns = NS / rate_hz
    span = day_end - day_start
    n = math.ceil(span / period_ns - 1e-9)
    if float(period_ns).is_integer():
        t = np.arange(n, dtype=np.int64) * int(period_ns)
    else:
        t = np.round(np.arange(n, dtype=np.float64) * period_ns).astype(np.int64)
    t = t[t < span]
    if jitter_s > 0:
        lim = np.float32(0.45 * period_ns)
        j = rng.standard_normal(len(t), dtype=np.float32)
        j *= np.float32(jitter_s * NS)
        np.clip(j, -lim, lim, out=j)
        t += j.astype(np.int64)
        t[0] = max(t[0], 0)
        t[-1] = min(t[-1], span - 1)
    t += day_start
    return t


def _sample_count(day: dt.date, tz: str, rate_hz: float) -> int:
    """How many samples a device at ``rate_hz`` takes during local ``day`` (lost ones included)."""
    start, end = day_bounds_ns(day, tz)
    period_ns = NS / rate_hz
    n = math.ceil((end - start) / period_ns - 1e-9)
    while n > 0 and round((n - 1) * period_ns) >= end - start:
        n -= 1
    return n


def _events(
    placement: str,
    plan: _Plan,
    gaits: list[tuple[int, _Gait]],
    motion: _Motion,
    side: int,
    rate_hz: float,
) -> list:
    sigma = max(0.012, 0.6 / rate_hz)
    out: list = []
    for _, g in gaits:
        out.append(_GaitEvent(g, placement, side, sigma, plan.person.run_swing_frac))
    if placement != "foot":
        segs = plan.segs
        for i, s in enumerate(segs):
            if s.activity != "transition" or i == 0 or i + 1 >= len(segs):
                continue
            g0, g1 = _GROUP[segs[i - 1].activity], _GROUP[segs[i + 1].activity]
            height = {"lie": 0.0, "sit": 0.0, "up": 0.4}
            if g0 == "lie" or g1 == "lie":
                height = {"lie": 0.0, "sit": 0.15, "up": 0.4}
            dz = height[g1] - height[g0]
            if dz:
                out.append(_TransitionEvent(s.start, s.end, dz))
    jig_amp = {"thigh": 1.0, "foot": 5.0, "lower_back": 0.15, "chest": 0.1, "wrist": 0.0}
    if jig_amp[placement]:
        for t0, t1, f in motion.jiggles:
            out.append(_JiggleEvent(t0, t1, f, jig_amp[placement] * _DEG))
    out.sort(key=lambda e: e.t0)
    return out


def _render(
    t_ns: np.ndarray,
    day_start: int,
    placement: str,
    knots: _Knots,
    events: list,
    errors: SensorErrors,
    rng: np.random.Generator,
) -> list[np.ndarray]:
    n = len(t_ns)
    out = [np.empty(n, dtype=np.float32) for _ in range(6)]
    ev_t0 = np.array([e.t0 for e in events]) if events else np.empty(0)
    ev_t1 = np.array([e.t1 for e in events]) if events else np.empty(0)
    scale = np.asarray(errors.scale, dtype=np.float64)
    bias = np.asarray(errors.bias_g, dtype=np.float64)
    gbias = np.asarray(errors.gyro_bias_dps, dtype=np.float64)
    lever = _LEVER_M[placement]
    rad2deg = 180.0 / math.pi
    for i0 in range(0, n, _CHUNK):
        i1 = min(n, i0 + _CHUNK)
        ts = (t_ns[i0:i1] - day_start) / NS
        c = knots.evaluate(ts)
        m = i1 - i0
        for name in ("fwd", "lat", "up"):
            c[name] = np.zeros(m)
        sel = np.flatnonzero((ev_t0 < ts[-1]) & (ev_t1 > ts[0])) if m else []
        for e_idx in sel:
            e = events[e_idx]
            j0, j1 = np.searchsorted(ts, [e.t0, e.t1])
            if j1 > j0:
                view = {k: v[j0:j1] for k, v in c.items()}
                e.apply(ts[j0:j1], view)
        c32 = {k: v.astype(np.float32) for k, v in c.items()}
        sig = _to_sensor(placement, _compose(c32, lever))
        for axis in range(3):
            acc = out[axis][i0:i1]
            np.multiply(sig[axis], np.float32(scale[axis]), out=acc)
            acc += np.float32(bias[axis])
            if errors.noise_g:
                acc += np.float32(errors.noise_g) * rng.standard_normal(m, dtype=np.float32)
            np.clip(acc, -_ACC_RANGE_G, _ACC_RANGE_G, out=acc)
            gyr = out[3 + axis][i0:i1]
            np.multiply(sig[3 + axis], np.float32(rad2deg), out=gyr)
            gyr += np.float32(gbias[axis])
            if errors.gyro_noise_dps:
                gyr += np.float32(errors.gyro_noise_dps) * rng.standard_normal(m, dtype=np.float32)
            np.clip(gyr, -_GYRO_RANGE_DPS, _GYRO_RANGE_DPS, out=gyr)
    return out


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def _sitting_bouts(activities: pd.DataFrame) -> pd.DataFrame:
    sit = (activities["activity"] == "sitting").to_numpy()
    start = activities["start"].to_numpy()
    end = activities["end"].to_numpy()
    edges = np.diff(np.concatenate([[0], sit.astype(np.int8), [0]]))
    first = np.flatnonzero(edges == 1)
    last = np.flatnonzero(edges == -1) - 1
    s, e = start[first], end[last]
    return pd.DataFrame(
        {
            "start": s.astype(np.int64),
            "end": e.astype(np.int64),
            "duration_s": (e - s) / NS,
            "posture": pd.array(["sitting"] * len(s), dtype="string"),
        }
    )


def _empty_strides() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "t": pd.Series(dtype="int64"),
            "foot": pd.Series(dtype="string"),
            **{
                c: pd.Series(dtype="float64")
                for c in ("stride_length_m", "stride_time_s", "speed_mps", "cadence_spm")
            },
        }
    )


def _check_args(placement: str, rate_hz: float, packet_loss: float, packet_size: int) -> None:
    if placement not in SIM_PLACEMENTS:
        raise UsageError(
            f"cannot simulate placement {placement!r}; choose one of {', '.join(SIM_PLACEMENTS)}"
        )
    if not (1.0 <= rate_hz <= 1000.0):
        raise UsageError(f"rate_hz={rate_hz} is out of range; use 25-200 Hz (1-1000 accepted)")
    if not (0.0 <= packet_loss < 1.0):
        raise UsageError(f"packet_loss={packet_loss} must be a probability in [0, 1)")
    if packet_size < 1:
        raise UsageError(f"packet_size={packet_size} must be at least 1 sample")


def simulate_day(
    day: dt.date | str,
    *,
    placement: str = "thigh",
    rate_hz: float = 50.0,
    tz: str = "Europe/Berlin",
    seed: int = 0,
    device_id: str | None = None,
    errors: SensorErrors = SensorErrors(),
    packet_loss: float = 0.0,
    packet_size: int = 25,
    evening_run: bool | None = None,
    stride_scale: float = 1.0,
    sitting_scale: float = 1.0,
    sensor_height_m: float | None = None,
    seq_start: int = 0,
    stride_offset_m: float = 0.0,
    sitting_offset_min: float = 0.0,
    side: str = "left",
    weekend: bool | None = None,
    truth_only: bool = False,
    pace_scale: float = 1.0,
) -> SimulatedRecording:
    """Simulate one local day of raw IMU data at ``placement`` with its ground truth.

    The day runs from local midnight to the next local midnight in ``tz`` (23 h or 25 h on DST
    days). ``rate_hz`` is the nominal sample rate (Hz). ``seed`` picks the person (same seed =
    same person on every day) and the day's events. ``packet_loss`` is the probability (0-1)
    that a packet of ``packet_size`` consecutive samples (aligned at ``seq_start``) is dropped;
    dropped rows are absent from ``samples`` and listed in ``truth.lost_packets``; ``seq`` counts
    every sample taken, from ``seq_start``. ``stride_scale`` multiplies stride length at the same
    stride frequency, ``stride_offset_m`` (m) is added to every stride; ``sitting_scale`` scales
    the desk-block lengths and ``sitting_offset_min`` (min) is added exactly to the day's sitting
    (see :func:`workday_plan`). ``sensor_height_m`` is the pendulum length (m) of the lower-back
    CoM model (default: the person's leg length, 0.88-1.02 m). ``side`` is the leg/arm the
    sensor is on (thigh, wrist, foot). ``truth_only=True`` skips rendering: ``samples`` is then
    an empty canonical frame (fast, for planning and tests of the truth model). ``pace_scale``
    multiplies every walking and running pace (walking clipped to 0.9-1.7 m/s) with the
    person's natural stride time at that pace: pace changes, stride length follows the pace,
    nothing else does.
    """
    day = _as_date(day)
    _check_args(placement, rate_hz, packet_loss, packet_size)
    if side not in ("left", "right"):
        raise UsageError(f"side={side!r}; use 'left' or 'right'")
    if not (stride_scale > 0 and sitting_scale > 0 and pace_scale > 0):
        raise UsageError("stride_scale, sitting_scale and pace_scale must be positive factors")
    if seq_start < 0:
        raise UsageError(f"seq_start={seq_start} must not be negative")
    side_i = 0 if side == "left" else 1
    plan = _build_plan(
        day,
        seed=seed,
        tz=tz,
        evening_run=evening_run,
        weekend=weekend,
        sitting_scale=sitting_scale,
        sitting_offset_min=sitting_offset_min,
        stride_scale=stride_scale,
        stride_offset_m=stride_offset_m,
        pace_scale=pace_scale,
    )
    person = plan.person
    leg = person.leg_length_m
    height = sensor_height_m
    if placement == "lower_back":
        height = leg if sensor_height_m is None else float(sensor_height_m)
        leg = height
    activities = plan.frame()

    gait_rng = _rng(seed, "gait", day.toordinal())
    gaits: list[tuple[int, _Gait]] = []
    for i, s in enumerate(plan.segs):
        if s.activity in ("walking", "running"):
            g = _make_gait(s, gait_rng, person, stride_scale, stride_offset_m, leg)
            if g is not None:
                gaits.append((i, g))
    strides = [_gait_strides(g, plan.day_start_ns) for _, g in gaits]
    stride_frame = pd.concat(strides, ignore_index=True) if strides else _empty_strides()
    stride_frame = stride_frame.sort_values(["t", "foot"], kind="stable", ignore_index=True)
    stride_frame["foot"] = stride_frame["foot"].astype("string")

    place_i = SIM_PLACEMENTS.index(placement)
    n = _sample_count(day, tz, rate_hz)
    n_pk = -(-n // packet_size)
    drop = np.zeros(n_pk, dtype=bool)
    if packet_loss > 0:
        drop = _rng(seed, "packets", day.toordinal(), place_i).random(n_pk) < packet_loss
    lost_idx = np.flatnonzero(drop)
    lost = pd.DataFrame(
        {
            "first_missing_seq": (seq_start + lost_idx * packet_size).astype(np.int64),
            "missing_count": np.minimum(packet_size, n - lost_idx * packet_size).astype(np.int64),
        }
    )
    truth = GroundTruth(activities, _sitting_bouts(activities), stride_frame, lost)
    device = device_id or f"sim-{placement}-{seed}"

    if truth_only:
        samples = pd.DataFrame({c: pd.Series(dtype=d) for c, d in _IMU_DTYPES.items()})
        return SimulatedRecording(
            device, placement, float(rate_hz), tz, height, samples, truth, day=day, seed=seed
        )

    t_ns = _sample_times(
        plan.day_start_ns,
        plan.day_end_ns,
        rate_hz,
        errors.jitter_s,
        _rng(seed, "jitter", day.toordinal(), place_i),
    )
    seq = np.arange(seq_start, seq_start + n, dtype=np.int64)
    motion = _motion(plan, seed)
    knots = _knots(placement, plan, motion, _rng(seed, "posture", day.toordinal(), place_i))
    events = _events(placement, plan, gaits, motion, side_i, rate_hz)
    noise_rng = _rng(seed, "noise", day.toordinal(), place_i)
    sig = _render(t_ns, plan.day_start_ns, placement, knots, events, errors, noise_rng)
    cols: dict[str, np.ndarray] = {"t": t_ns, "seq": seq}
    cols.update(zip(IMU_COLUMNS[2:], sig, strict=True))
    if lost_idx.size:
        keep = np.repeat(~drop, packet_size)[:n]
        cols = {k: v[keep] for k, v in cols.items()}
    samples = pd.DataFrame(cols, copy=False)
    return SimulatedRecording(
        device, placement, float(rate_hz), tz, height, samples, truth, day=day, seed=seed
    )


_IMU_DTYPES: Final = {"t": "int64", "seq": "int64", **dict.fromkeys(IMU_COLUMNS[2:], "float32")}


def simulate_weeks(
    start_day: dt.date | str,
    weeks: int,
    *,
    placement: str = "thigh",
    rate_hz: float = 25.0,
    tz: str = "Europe/Berlin",
    seed: int = 0,
    adherence_effect_stride_m: float = 0.03,
    adherence_effect_sitting_min: float = -20.0,
    **day_kwargs: object,
) -> tuple[Iterator[SimulatedRecording], pd.DataFrame]:
    """Simulate ``weeks`` x 7 consecutive days of one person with a psoas-routine log.

    Returns a lazy iterator of :class:`SimulatedRecording` (one day is rendered per ``next``,
    so long spans never sit in memory at once) and the routine log truth, one row per day:
    ``day`` (YYYY-MM-DD), ``routine_done`` (bool: the 10-minute daily mobility routine),
    ``strength_session`` (bool), ``routine_minutes`` (float, 0 when not done), plus the model's
    ``week`` (0-based), ``adherence_week`` (adherence of that day's week), ``stride_offset_m``
    and ``sitting_offset_min`` (what was applied to that day).

    The exact model: week w has a target adherence p_w = clip(p0 + 0.3 N, 0.05, 1) (p0 ~ U(0.3,
    0.8) per seed); each day's routine is done with probability p_w; a week's *adherence
    fraction* a_w is the share of its 7 days with ``routine_done``. Every day of week w + 1 gets
    ``stride_offset_m = adherence_effect_stride_m * a_w`` metres added to every stride (at the
    same stride frequency, so speed rises by offset / stride time) and
    ``sitting_offset_min = adherence_effect_sitting_min * a_w`` minutes of sitting (exactly, see
    :func:`workday_plan`). Week 0 has no offsets. The same seed with other effect sizes gives
    the same days, strides and stride times, so the effect can be checked exactly; from the
    truth alone, raw weekly means of walking strides also move by 2-8 mm with the mix of walking
    paces, so compare weeks at comparable pace (stride time), where the offset is recovered to
    about 1 mm. Strength sessions (2-3 a week when the week's
    target adherence is above 0.5, else 0-1) are logged but do not change the signal.
    ``day_kwargs`` go to :func:`simulate_day` (e.g. ``errors``, ``packet_loss``,
    ``truth_only``); a ``stride_offset_m``/``sitting_offset_min`` there is added to the
    adherence offsets. All days are the same device (``device_id`` and person): ``seq`` runs on
    from one day to the next (starting at ``seq_start``, default 0), as a real device's counter
    does.
    """
    start = _as_date(start_day)
    if weeks < 1:
        raise UsageError(f"weeks={weeks}; simulate at least one week")
    rng = _rng(seed, "weeks", start.toordinal())
    p0 = float(rng.uniform(0.3, 0.8))
    rows = []
    prev_adherence: float | None = None
    for w in range(weeks):
        p_w = float(np.clip(p0 + 0.3 * rng.standard_normal(), 0.05, 1.0))
        done = rng.random(7) < p_w
        minutes = np.where(done, np.clip(rng.normal(10.0, 1.5, 7), 6.0, 16.0), 0.0)
        n_strength = int(rng.integers(2, 4)) if p_w > 0.5 else int(rng.integers(0, 2))
        strength = np.zeros(7, dtype=bool)
        strength[rng.choice(7, size=n_strength, replace=False)] = True
        a_w = float(done.mean())
        for d in range(7):
            rows.append(
                {
                    "day": (start + dt.timedelta(days=7 * w + d)).isoformat(),
                    "routine_done": bool(done[d]),
                    "strength_session": bool(strength[d]),
                    "routine_minutes": float(minutes[d]),
                    "week": w,
                    "adherence_week": a_w,
                    "stride_offset_m": (
                        0.0
                        if prev_adherence is None
                        else adherence_effect_stride_m * prev_adherence
                    ),
                    "sitting_offset_min": (
                        0.0
                        if prev_adherence is None
                        else adherence_effect_sitting_min * prev_adherence
                    ),
                }
            )
        prev_adherence = a_w
    log = pd.DataFrame(rows).astype(
        {
            "day": "string",
            "routine_done": "bool",
            "strength_session": "bool",
            "routine_minutes": "float64",
            "week": "int64",
        }
    )
    kwargs = dict(day_kwargs)
    extra_stride = float(kwargs.pop("stride_offset_m", 0.0))  # type: ignore[arg-type]
    extra_sit = float(kwargs.pop("sitting_offset_min", 0.0))  # type: ignore[arg-type]
    _check_args(
        placement,
        rate_hz,
        float(kwargs.get("packet_loss", 0.0)),  # type: ignore[arg-type]
        int(kwargs.get("packet_size", 25)),  # type: ignore[arg-type]
    )
    days = [
        (
            dt.date.fromisoformat(r["day"]),
            r["stride_offset_m"] + extra_stride,
            r["sitting_offset_min"] + extra_sit,
        )
        for r in rows
    ]

    seq = int(kwargs.pop("seq_start", 0))  # type: ignore[call-overload]

    def generate() -> Iterator[SimulatedRecording]:
        nonlocal seq
        for day, stride_off, sit_off in days:
            rec = simulate_day(
                day,
                placement=placement,
                rate_hz=rate_hz,
                tz=tz,
                seed=seed,
                stride_offset_m=stride_off,
                sitting_offset_min=sit_off,
                seq_start=seq,
                **kwargs,  # type: ignore[arg-type]
            )
            seq += _sample_count(day, tz, rate_hz)
            yield rec

    return generate(), log
