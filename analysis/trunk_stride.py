"""Gait and stride length from one lower-back (L3-L5) IMU: bouts, initial contacts, pendulum model.

:func:`trunk_strides` turns a recording of a lower-back accelerometer into one row per stride:
its start (the initial contact that begins it), stride time, cadence and, when the height of the
sensor above the floor is known, stride length and speed from the inverted-pendulum model of
Zijlstra & Hof (2003). The building blocks are public pure functions of numpy arrays, in the order
the pipeline calls them.

Frame and units: times are int64 ns; accelerations in g (1 g = 9.80665 m/s^2); the sensor's x
axis runs along the trunk and reads about +1 g when the wearer is upright (psoas' lower-back
frame, the Mobilise-D ``LowerBack`` frame and ``sensors.simulate``'s ``lower_back`` placement).
The vertical is the direction of the low-passed acceleration, so the sensor's tilt on the back
and the other axes' signs do not matter. ``gyro_dps`` is optional: it is used only to find turns
(step 9), whose strides get no length; without it everything else is the same.

Method
------
1. **Gap-free regions.** The timestamps are cut wherever two samples are more than
   ``MAX_GAP_S`` (0.1 s) apart; nothing is filtered, smoothed or integrated across a cut. Only
   stretches whose acceleration magnitude moves (standard deviation over ``ACTIVITY_WINDOW_S``
   above ``ACTIVITY_STD_G``, plus ``REGION_MARGIN_S`` on each side) are analysed further; each is
   linearly resampled onto a uniform grid at ``rate_hz`` (missing samples shorter than the gap
   limit are bridged). A region longer than ``PIECE_S`` (10 min) is analysed in pieces with
   ``PIECE_CONTEXT_S`` of context on both sides, each stride taken from the piece that owns its
   start, so memory stays bounded whatever the region's length (lengths agree with a
   whole-region analysis within 1 %, without bias).
2. **Vertical acceleration** (:func:`vertical_acceleration_g`). Gravity is the zero-phase
   Butterworth low-pass (0.25 Hz, :func:`analysis.signal.gravity`) of the acceleration; the
   vertical specific force is the projection on its direction and the upward acceleration of
   the trunk is that minus the gravity estimate's magnitude (which also absorbs the sensor's
   scale and offset errors along the vertical).
3. **Gait bouts** (:func:`gait_bouts`). Windows of ``WINDOW_S`` (5 s) every ``HOP_S`` (0.5 s):
   the unbiased autocorrelation of the vertical acceleration (Moe-Nilssen & Helbostad 2004) must
   show a step peak at a lag of 0.25-1.25 s (48-240 steps/min) and a stride peak at twice that
   lag, both at least ``MIN_REGULARITY``, with a trough of at least 2 x ``MIN_REGULARITY`` before
   the step peak (a periodic signal, not a slow drift), and the window's RMS must reach
   ``MIN_RMS_G``. The step time is the first lag that qualifies (the stride lag of asymmetric
   gait also qualifies, the smaller one is the step). Samples covered by periodic windows form the
   bouts; pauses shorter than ``MAX_BREAK_S`` (3 s) do not end a bout (Kluge et al. 2021), and a
   bout is split where the local step time jumps by more than ``STEP_TOLERANCE``.
4. **Initial contacts** (:func:`initial_contacts`), after McCamley et al. (2012) with the
   adaptive scale of Pham et al. (2017): McCamley integrate the vertical acceleration and
   differentiate it with a Gaussian continuous wavelet (``gaus1``); the initial contacts are the
   minima. Differentiating an integral with a first-derivative-of-Gaussian kernel is the same as
   smoothing the acceleration itself with the Gaussian (with the sign flipped), so here the
   initial contacts are the maxima of the Gaussian-smoothed upward acceleration (no wavelet
   library needed). The Gaussian's width follows the bout's step time T (Pham et al. 2017 adapt
   the scale to the dominant frequency): ``gaus1``'s centre frequency is 0.2 cycles per unit of
   scale, so the scale matching the step frequency is 0.2 fs T and the kernel's standard
   deviation is that over sqrt 2, i.e. ``SIGMA_PER_STEP`` = 0.2 / sqrt 2 = 0.141 step times. A
   contact must be 0.6 T after the previous one. The detected instant is where the trunk is
   pushed upward hardest, which is at heel strike in the simulator and typically a few
   hundredths of a second after it in real gait (a constant shift that cancels in step times).
5. **Steps and strides.** A step (between consecutive contacts) is kept if its duration is within
   ``STEP_TOLERANCE`` (40 %) of the local step time and the smoothed signal rises at least
   ``MIN_STEP_SWING_G`` from the step's trough to both contacts. Runs of at least
   ``MIN_BOUT_STEPS`` (3) consecutive kept steps, i.e. two consecutive strides (the minimum
   walking bout of the Mobilise-D consensus, Kluge et al. 2021), give the strides: every pair of
   consecutive kept steps is one stride (so strides of the two feet overlap, like the reference
   systems report them). A stride never spans a gap (steps are only formed inside a region).
6. **Vertical displacement per step** (:func:`step_vertical_displacement_m`): the upward
   acceleration between two contacts is integrated twice (trapezoid rule) with the boundary
   conditions of steady gait -- the trunk ends the step with the vertical velocity and at the
   height it started with -- imposed by removing the linear trend of the velocity and then of
   the position over the step (drift removal per step instead of a high-pass filter, whose gain
   at slow step frequencies would shrink the excursion). h = max - min of the position (m).
7. **Step length** (:func:`pendulum_step_length_m`): the inverted pendulum of length l = the
   sensor's height above the floor (m) that rises by h over half a step covers
   ``2 sqrt(2 l h - h^2)`` (Zijlstra & Hof 2003), times the correction factor K. Stride length =
   sum of its two step lengths; speed = stride length / stride time; cadence = 120 / stride time
   (two steps), in steps/min.
8. **Running.** The pendulum describes walking only. Walking keeps a foot on the ground, so the
   trunk's vertical specific force stays well above zero (the pendulum reaches free fall at
   mid-stance only at a Froude number v^2 / (g l) of 1; people change to running near 0.5,
   Alexander 1989); running has a flight phase in which the trunk is in free fall. A step in
   which the (10 ms Gaussian-smoothed) vertical specific force stays below ``FLIGHT_G`` for at
   least ``FLIGHT_MIN_S`` and which lasts at most 60 / ``RUNNING_MIN_CADENCE_SPM`` s (0.43 s) is
   a running step; the start ``t`` of its strides is moved back to the end of the free fall
   before the contact (the foot lands there; the acceleration peak comes at mid-stance), while
   stride times stay peak to peak (sharper than the flight ends). A stride with a running step
   keeps its stride time and cadence but gets NaN stride length, speed and uncertainty. (In
   ``sensors.simulate``, running is rendered from the stride time and stance fraction alone, so
   its trunk signal does not depend on stride length at all: no trunk method could recover it.)

9. **Turns** (:func:`yaw_rate_dps`, :func:`detect_turns`, only with ``gyro_dps``). The
   pendulum describes steady straight walking: in a turn the feet pivot and shuffle while the
   trunk keeps rising and falling as in straight walking, so its excursion no longer measures
   forward progression. The yaw rate is the angular velocity projected on the vertical (the
   gravity direction of step 2); turns are found after El-Gohary et al. (2014) with the
   thresholds of the Mobilise-D turn detection (yaw rate low-passed at 0.5 Hz, peak >= 15
   deg/s, edges where it falls below 5 deg/s, same-direction turns < 0.05 s apart merged,
   duration 0.5-10 s, angle >= 45 deg). A stride that overlaps a turn keeps its time and
   cadence but gets NaN length, speed and uncertainty, so the mean over a walk is that of its
   strides outside turns. Measured on the Mobilise-D HA001 recording against the INDIP
   reference (tests/test_trunk_stride.py), stride by stride on the same strides: the pendulum
   overestimates the reference's turning strides by +54 % on average (0.3-1.3 m strides given
   0.55-1.5 m), its Test11 straight strides by +18 % and its Test5 straight walks by +6 %.
   Filtering was ruled out as the cause there: with the reference's own contacts, a 20 Hz or
   5 Hz low-pass before the per-step integration, or the Mobilise-D SlZijlstra chain (0.1 Hz
   high-pass of the acceleration, 1 Hz high-pass of the velocity), change the bouts' pendulum
   means by at most 7 points and not toward the reference: the excursion h is real, not an
   integration artefact. The bout means still differ from the reference's because the strides
   differ: the reference includes slow turning, starting and stopping strides (0.2-0.6 m, up to
   2.7 s long) that this module either does not find (irregular steps fail step 5) or now
   leaves without a length.

Output ``uncertainty_m`` is the absolute difference between the stride's two step lengths (m):
how much the stride length would change if either step were counted twice. It is zero for
perfectly symmetric steps and grows with step-to-step inconsistency (asymmetry, turns, a missed
or misplaced contact). It does not include the model's systematic error, which is the spread of
the correction factor between people (Zijlstra & Hof 2003). ``foot`` is ``"unknown"``: the left
and right contacts are not told apart.

Constants and their sources
---------------------------
- ``PENDULUM_CORRECTION`` K = 1.25: Zijlstra & Hof (2003) found that the pendulum step length
  underestimates the real one (the model ignores the double-support phase and the foot) and
  proposed this mean correction factor. It is not fitted to any data here. The simulator
  (``sensors.simulate``) renders the *uncorrected* pendulum (its CoM rises h = l - sqrt(l^2 -
  (step/2)^2)), so for simulated data K = 1 is the right value: pass ``correction=1.0``.
- ``MAX_GAP_S`` = 0.1 s: project rule (never integrate across a gap).
- ``STEP_TIME_RANGE_S`` = 0.25-1.25 s: 48-240 steps/min, beyond slow walking and sprinting.
- ``MIN_REGULARITY`` = 0.25: about 4 standard errors (1/sqrt(N)) of the autocorrelation of
  white noise over a 5 s window sampled at 50 Hz (N = 250), so noise alone does not pass.
- ``MIN_RMS_G`` = 0.01 g and ``MIN_STEP_SWING_G`` = 0.02 g: the vertical acceleration of the
  smallest gait this module is meant to measure, 0.3 m steps at 60 steps/min, by the corrected
  pendulum (l = 0.95 m: h = 7.6 mm, fundamental amplitude h/2 (2 pi / 1 s)^2 = 0.015 g, RMS
  0.011 g, trough-to-peak 0.031 g, 0.021 g after the step-time smoothing). ``ACTIVITY_STD_G`` =
  0.01 g is the same floor on the acceleration magnitude, used only to skip still periods.
- ``STEP_TOLERANCE`` = 0.4 and the contact spacing 0.6 T: a step may deviate from the local
  step time by 40 %; a missed contact (a "step" of 2 T) or a spurious one (about T / 2) falls
  outside.
- ``FLIGHT_G`` = 0.1 g, ``FLIGHT_MIN_S`` = 0.03 s: free fall within 0.1 g for at least 30 ms
  (the simulator's running spends ~90 ms per step at 0 g). ``RUNNING_MIN_CADENCE_SPM`` = 140
  steps/min: running cadence is rarely below 150 steps/min and walking cadence rarely above 130;
  the simulator walks at <= 126 and runs at >= 150 steps/min. The cadence condition keeps the
  simulator's fastest walks, whose uncorrected pendulum can reach free fall at mid-stance
  (Froude number near 1, e.g. with ``stride_scale`` 1.1), counted as walking.
- ``TURN_LOWPASS_HZ`` = 0.5 Hz, ``TURN_PEAK_DPS`` = 15 deg/s, ``TURN_EDGE_DPS`` = 5 deg/s,
  ``TURN_MERGE_S`` = 0.05 s, ``TURN_DURATION_S`` = 0.5-10 s, ``TURN_MIN_ANGLE_DEG`` = 45 deg:
  the turn detection of El-Gohary et al. (2014) as parametrised in the Mobilise-D pipeline (the
  defaults documented for mobgap's ``TdElGohary``); not fitted to any data here. The 0.5 Hz
  low-pass removes the pelvis' yaw oscillation of straight walking (about +-25 deg/s at the
  stride frequency, ~0.9 Hz on HA001). ``sensors.simulate`` does not turn during gait, so its
  walking strides all keep their length.

References
----------
- Zijlstra W, Hof AL (2003). Assessment of spatio-temporal gait parameters from trunk
  accelerations during human walking. Gait Posture 18(2):1-10.
- McCamley J, Donati M, Grimpampi E, Mazzà C (2012). An enhanced estimate of initial contact and
  final contact instants of time using lower trunk inertial sensor data. Gait Posture 36:316-318.
- Pham MH, Elshehabi M, Haertner L, et al. (2017). Validation of a step detection algorithm
  during straight walking and turning in patients with Parkinson's disease and older adults
  using an inertial measurement unit at the lower back. Front Neurol 8:457.
- Moe-Nilssen R, Helbostad JL (2004). Estimation of gait cycle characteristics by trunk
  accelerometry. J Biomech 37:121-126.
- Kluge F, Del Din S, Cereatti A, et al. (2021). Consensus based framework for digital mobility
  monitoring. PLoS One 16(8):e0256541.
- El-Gohary M, Pearson S, McNames J, et al. (2014). Continuous monitoring of turning in
  patients with movement disability. Sensors 14(1):356-369.
- Micó-Amigo ME, Bonci T, Paraschiv-Ionescu A, et al. (2023). Assessing real-world gait with
  digital technology? Validation, insights and recommendations from the Mobilise-D consortium.
  J NeuroEng Rehabil 20:78.
- Alexander RMcN (1989). Optimization and gaits in the locomotion of vertebrates. Physiol Rev
  69:1199-1227.

Everything is vectorised over samples; Python loops run per analysed region and per bout only.
Written from the papers and mobgap's documented parameters; no code was taken from mobgap or
other packages.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft as spfft
from scipy import signal as sps
from scipy.ndimage import gaussian_filter1d, maximum_filter1d

from analysis.signal import Axes, as_axes, gravity, low_pass, rows

__all__ = [
    "PENDULUM_CORRECTION",
    "SOURCE",
    "detect_turns",
    "gait_bouts",
    "initial_contacts",
    "pendulum_step_length_m",
    "step_vertical_displacement_m",
    "trunk_strides",
    "vertical_acceleration_g",
    "yaw_rate_dps",
]

NS: Final = 1_000_000_000
G_MPS2: Final = 9.80665
SOURCE: Final = "lower_back_pendulum"

PENDULUM_CORRECTION: Final = 1.25
"""Zijlstra & Hof (2003) correction factor K of the pendulum step length (dimensionless)."""
MAX_GAP_S: Final = 0.1
"""Samples further apart than this (s) are a gap: nothing is integrated across it."""
GRAVITY_CUTOFF_HZ: Final = 0.25
ACTIVITY_WINDOW_S: Final = 1.0
ACTIVITY_STD_G: Final = 0.01
REGION_MARGIN_S: Final = 3.0
ACTIVITY_BLOCK: Final = 1 << 19
"""Windows per block of the activity search (about 1.5 h at 100 Hz)."""
PIECE_S: Final = 600.0
"""A movement region longer than this (s) is analysed in pieces of this length, each with
``PIECE_CONTEXT_S`` of the region on both sides; a stride is taken from the piece whose own
span holds its start. Memory then stays bounded (about 120 bytes a sample of a piece) whatever
a region's length, e.g. an afternoon on the feet."""
PIECE_CONTEXT_S: Final = 30.0
WINDOW_S: Final = 5.0
HOP_S: Final = 0.5
STEP_TIME_RANGE_S: Final = (0.25, 1.25)
MIN_REGULARITY: Final = 0.25
STRIDE_LAG_SLACK_S: Final = 0.05
MAX_BREAK_S: Final = 3.0
MIN_RMS_G: Final = 0.01
SIGMA_PER_STEP: Final = 0.2 / math.sqrt(2.0)
MIN_CONTACT_SPACING: Final = 0.6
STEP_TOLERANCE: Final = 0.4
MIN_STEP_SWING_G: Final = 0.02
MIN_BOUT_STEPS: Final = 3
FLIGHT_G: Final = 0.1
FLIGHT_MIN_S: Final = 0.03
FLIGHT_SMOOTH_S: Final = 0.01
RUNNING_MIN_CADENCE_SPM: Final = 140.0
TURN_LOWPASS_HZ: Final = 0.5
"""El-Gohary et al. (2014) / Mobilise-D turn detection: low-pass of the yaw rate (Hz)."""
TURN_PEAK_DPS: Final = 15.0
"""A turn's smoothed yaw rate peaks at least this high (deg/s)."""
TURN_EDGE_DPS: Final = 5.0
"""A turn starts and ends where the smoothed yaw rate falls below this (deg/s)."""
TURN_MERGE_S: Final = 0.05
"""Turns in the same direction less than this apart (s) are one turn."""
TURN_DURATION_S: Final = (0.5, 10.0)
"""Allowed duration of a turn (s)."""
TURN_MIN_ANGLE_DEG: Final = 45.0
"""Smallest turn angle (deg)."""

_NUMERIC: Final = ("stride_length_m", "stride_time_s", "cadence_spm", "speed_mps", "uncertainty_m")


# --------------------------------------------------------------------------------------------
# Pure building blocks
# --------------------------------------------------------------------------------------------


def vertical_acceleration_g(acc_g: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Upward acceleration of the trunk and vertical specific force, both in g.

    ``acc_g`` (n, 3) is one gap-free stretch sampled uniformly at ``rate_hz`` (Hz). Gravity is
    its 0.25 Hz zero-phase low-pass (:func:`analysis.signal.gravity`); the vertical specific
    force f_v is the projection of the acceleration on gravity's direction (g, +1 at rest) and
    the upward acceleration is f_v minus the gravity estimate's magnitude (g, 0 on average).
    Returns ``(a_up_g, f_v_g)``, float64 arrays of length n.
    """
    acc = np.asarray(acc_g, dtype=np.float64)
    grav = gravity(acc, rate_hz, cutoff_hz=GRAVITY_CUTOFF_HZ)
    gnorm = np.sqrt(np.einsum("ij,ij->i", grav, grav))
    f_v = np.einsum("ij,ij->i", acc, grav) / np.maximum(gnorm, 1e-9)
    return f_v - gnorm, f_v


def yaw_rate_dps(acc_g: np.ndarray, gyro_dps: np.ndarray, rate_hz: float) -> np.ndarray:
    """Rotation rate of the trunk about the vertical (deg/s, positive counter-clockwise from above).

    ``acc_g`` (n, 3, g) and ``gyro_dps`` (n, 3, deg/s) are one gap-free stretch sampled uniformly
    at ``rate_hz`` (Hz), in the same sensor frame. The vertical is the direction of gravity, the
    0.25 Hz low-pass of the acceleration (as in :func:`vertical_acceleration_g`); the yaw rate is
    the angular velocity's projection on it, so the sensor's tilt on the back does not matter.
    """
    acc = np.asarray(acc_g, dtype=np.float64)
    grav = gravity(acc, rate_hz, cutoff_hz=GRAVITY_CUTOFF_HZ)
    gnorm = np.sqrt(np.einsum("ij,ij->i", grav, grav))
    gyro = np.asarray(gyro_dps, dtype=np.float64)
    return np.einsum("ij,ij->i", gyro, grav) / np.maximum(gnorm, 1e-9)


def detect_turns(yaw_dps: np.ndarray, rate_hz: float) -> np.ndarray:
    """Turns of the trunk in the yaw rate ``yaw_dps`` (deg/s) sampled uniformly at ``rate_hz``.

    After El-Gohary et al. (2014) with the thresholds of the Mobilise-D turn detection: the yaw
    rate is low-passed (zero-phase 4th-order Butterworth, ``TURN_LOWPASS_HZ`` = 0.5 Hz); a turn is
    a stretch where its magnitude stays at or above ``TURN_EDGE_DPS`` (5 deg/s) and that peaks at
    ``TURN_PEAK_DPS`` (15 deg/s) or more (stretches touching the array's ends are cut there);
    stretches turning the same way less than ``TURN_MERGE_S`` apart are merged; the turn angle is
    the integral of the unfiltered yaw rate over the stretch, and only turns lasting
    ``TURN_DURATION_S`` (0.5-10 s) and turning at least ``TURN_MIN_ANGLE_DEG`` (45 deg) are kept.
    Returns an int64 array (k, 2) of [start, end) sample indices, sorted and disjoint.
    """
    yaw = np.asarray(yaw_dps, dtype=np.float64)
    n = len(yaw)
    none = np.zeros((0, 2), np.int64)
    if n < 2 or not rate_hz / 2 > TURN_LOWPASS_HZ:
        return none
    smooth = low_pass(yaw, rate_hz, cutoff_hz=TURN_LOWPASS_HZ, order=4)
    above = np.abs(smooth) >= TURN_EDGE_DPS
    edges = np.diff(np.concatenate([[0], above.view(np.int8), [0]]))
    a, b = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if not len(a):
        return none
    peak = np.maximum.reduceat(np.abs(smooth), a)
    # reduceat runs to the next start: the stretch [a, b) holds the maximum of [a, next a)
    # only because everything between b and the next a is below the edge threshold
    keep = peak >= TURN_PEAK_DPS
    a, b = a[keep], b[keep]
    if not len(a):
        return none
    sign = np.sign(smooth[a])
    merge = np.concatenate(
        [[False], (a[1:] - b[:-1] < TURN_MERGE_S * rate_hz) & (sign[1:] == sign[:-1])]
    )
    first = np.flatnonzero(~merge)
    a = a[first]
    b = np.maximum.reduceat(b, first)
    cum = np.concatenate([[0.0], np.cumsum(yaw) / rate_hz])
    angle = cum[b] - cum[a]
    dur = (b - a) / rate_hz
    ok = (
        (dur >= TURN_DURATION_S[0])
        & (dur <= TURN_DURATION_S[1])
        & (np.abs(angle) >= TURN_MIN_ANGLE_DEG)
    )
    return np.column_stack([a[ok], b[ok]]).astype(np.int64)


def _window_step_times(a_up_g: np.ndarray, rate_hz: float) -> tuple[np.ndarray, int, np.ndarray]:
    """Start (samples) and length of the analysis windows and their step time (s, NaN: no gait)."""
    n = len(a_up_g)
    w = min(n, round(WINDOW_S * rate_hz))
    hop = max(1, round(HOP_S * rate_hz))
    lo = max(2, round(STEP_TIME_RANGE_S[0] * rate_hz))
    hi = min(round(STEP_TIME_RANGE_S[1] * rate_hz), (w - 1) // 2 - 1)
    if hi <= lo + 2:
        return np.zeros(0, np.int64), w, np.zeros(0)
    starts = np.arange(0, n - w + 1, hop)
    if starts[-1] != n - w:
        starts = np.append(starts, n - w)
    x = sliding_window_view(a_up_g, w)[starts]
    x = x - x.mean(axis=1, keepdims=True)
    rms = np.sqrt(np.mean(x * x, axis=1))
    nfft = spfft.next_fast_len(2 * w, real=True)
    spec = spfft.rfft(x, nfft, axis=1)
    acf = spfft.irfft(spec.real**2 + spec.imag**2, nfft, axis=1)[:, : 2 * hi + 2]
    lags = np.arange(acf.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        acf = acf / acf[:, :1] * (w / (w - lags))  # unbiased, 1 at lag 0
    r = acf[:, lo : hi + 1]
    # stride peak: the best value within +-STRIDE_LAG_SLACK of twice the lag (step times vary)
    slack = max(1, round(STRIDE_LAG_SLACK_S * rate_hz))
    r_stride = maximum_filter1d(acf, 2 * slack + 1, axis=1, mode="nearest")
    r_stride = r_stride[:, 2 * lo : 2 * hi + 2 : 2]
    peak = (r >= acf[:, lo - 1 : hi]) & (r >= acf[:, lo + 1 : hi + 2])
    dip = np.minimum.accumulate(acf[:, 1 : hi + 1], axis=1)[:, lo - 1 :]
    step_peak = peak & (r >= MIN_REGULARITY) & (dip <= r - 2 * MIN_REGULARITY)
    first = np.argmax(step_peak, axis=1)
    rows = np.arange(len(starts))
    ok = step_peak[rows, first] & (r_stride[rows, first] >= MIN_REGULARITY) & (rms >= MIN_RMS_G)
    return starts, w, np.where(ok, (lo + first) / rate_hz, np.nan)


def _fill_short_breaks(mask: np.ndarray, max_len: int) -> None:
    """Set (in place) runs of False shorter than ``max_len`` samples between two runs of True."""
    edges = np.diff(np.concatenate([[0], mask.view(np.int8), [0]]))
    ends = np.flatnonzero(edges == -1)[:-1]
    starts = np.flatnonzero(edges == 1)[1:]
    for a, b in zip(
        ends[starts - ends < max_len].tolist(),
        starts[starts - ends < max_len].tolist(),
        strict=True,
    ):
        mask[a:b] = True


def gait_bouts(a_up_g: np.ndarray, rate_hz: float) -> tuple[pd.DataFrame, np.ndarray]:
    """Periodic (gait) stretches of the upward trunk acceleration ``a_up_g`` (g) at ``rate_hz``.

    Windows of ``WINDOW_S`` s every ``HOP_S`` s whose unbiased autocorrelation has a step peak
    (lag 0.25-1.25 s, after a trough) and a stride peak (twice the lag), both >=
    ``MIN_REGULARITY``, and whose RMS is >= ``MIN_RMS_G`` are gait (Moe-Nilssen & Helbostad
    2004). The samples they cover form the bouts; pauses shorter than ``MAX_BREAK_S`` (3 s) do
    not end a bout (Kluge et al. 2021); a bout is split where the local step time (that of the
    nearest gait window) jumps by more than ``STEP_TOLERANCE``. Returns ``(bouts,
    step_time_s)``: a frame with one row per bout, ``start``, ``end`` (sample indices, end
    exclusive) and ``step_time_s`` (its median step time, s), and the local step time per
    sample (s, NaN outside bouts).
    """
    a = np.asarray(a_up_g, dtype=np.float64)
    n = len(a)
    local = np.full(n, np.nan)
    empty = pd.DataFrame(
        {"start": np.zeros(0, np.int64), "end": np.zeros(0, np.int64), "step_time_s": []}
    )
    if n < 2:
        return empty, local
    starts, w, per = _window_step_times(a, rate_hz)
    good = np.isfinite(per)
    if not good.any():
        return empty, local
    cover = np.zeros(n + 1, np.int64)
    np.add.at(cover, starts[good], 1)
    np.add.at(cover, starts[good] + w, -1)
    mask = np.cumsum(cover[:-1]) > 0
    _fill_short_breaks(mask, round(MAX_BREAK_S * rate_hz))
    centres = starts[good] + w / 2.0
    nearest = np.clip(np.searchsorted(centres, np.arange(n)), 1, max(1, len(centres) - 1))
    if len(centres) > 1:
        left_closer = np.arange(n) - centres[nearest - 1] < centres[nearest] - np.arange(n)
        nearest = np.where(left_closer, nearest - 1, nearest)
    else:
        nearest = np.zeros(n, np.int64)
    local = np.where(mask, per[good][nearest], np.nan)
    jump = np.abs(np.diff(np.log(local))) > math.log1p(STEP_TOLERANCE)
    edges = np.diff(np.concatenate([[0], mask.view(np.int8), [0]]))
    cut = np.zeros(n + 1, bool)
    cut[np.flatnonzero(edges != 0)] = True
    cut[1:n][jump] = True
    bounds = np.flatnonzero(cut)
    rows = [
        (s, e, float(np.median(local[s:e])))
        for s, e in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
        if mask[s]
    ]
    out = pd.DataFrame(rows, columns=["start", "end", "step_time_s"]).astype(
        {"start": np.int64, "end": np.int64, "step_time_s": np.float64}
    )
    return out, local


def _smoothed(a_up_g: np.ndarray, rate_hz: float, bouts: pd.DataFrame) -> np.ndarray:
    """Upward acceleration smoothed per bout by the Gaussian of its step time (NaN outside)."""
    n = len(a_up_g)
    out = np.full(n, np.nan)
    for s, e, step in bouts[["start", "end", "step_time_s"]].itertuples(index=False):
        sigma = SIGMA_PER_STEP * step * rate_hz
        pad = int(4 * sigma) + 1
        lo, hi = max(0, s - pad), min(n, e + pad)
        out[s:e] = gaussian_filter1d(a_up_g[lo:hi], sigma, mode="nearest")[s - lo : e - lo]
    return out


def initial_contacts(a_up_g: np.ndarray, rate_hz: float, bouts: pd.DataFrame) -> np.ndarray:
    """Initial contacts inside ``bouts`` (from :func:`gait_bouts`) as sorted sample positions.

    McCamley et al. (2012): minima of the first-derivative-of-Gaussian wavelet transform of the
    integrated vertical acceleration, which are the maxima of the Gaussian-smoothed upward
    acceleration ``a_up_g`` (g) at ``rate_hz`` (Hz). The Gaussian's standard deviation is
    ``SIGMA_PER_STEP`` x the bout's step time (the ``gaus1`` scale of the step frequency, as
    Pham et al. 2017 adapt it); contacts are at least ``MIN_CONTACT_SPACING`` step times apart.
    Positions are fractional (float, in samples): the vertex of the parabola through each peak
    sample and its two neighbours.
    """
    a = np.asarray(a_up_g, dtype=np.float64)
    smooth = _smoothed(a, rate_hz, bouts)
    return _contacts(smooth, rate_hz, bouts)


def _contacts(smooth: np.ndarray, rate_hz: float, bouts: pd.DataFrame) -> np.ndarray:
    found = []
    for s, e, step in bouts[["start", "end", "step_time_s"]].itertuples(index=False):
        dist = max(1, int(MIN_CONTACT_SPACING * step * rate_hz))
        y = smooth[s:e]
        peaks, _ = sps.find_peaks(y, distance=dist)
        # sub-sample position: vertex of the parabola through the peak and its neighbours
        left, mid, right = y[peaks - 1], y[peaks], y[peaks + 1]
        curv = left - 2.0 * mid + right
        shift = np.divide(0.5 * (left - right), curv, out=np.zeros(len(peaks)), where=curv < 0)
        found.append(s + peaks + np.clip(shift, -0.5, 0.5))
    return np.concatenate(found) if found else np.zeros(0)


def step_vertical_displacement_m(
    a_up_g: np.ndarray, ic_idx: np.ndarray, rate_hz: float
) -> np.ndarray:
    """Vertical excursion h (m) of the trunk during each step between consecutive contacts.

    ``a_up_g`` is the upward acceleration (g) sampled uniformly at ``rate_hz`` (Hz); ``ic_idx``
    are the initial contacts as increasing, possibly fractional, sample positions (at least one
    sample apart, inside the array). For each step the acceleration is integrated twice with the
    trapezoid rule; the linear trend of the velocity and then of the position between the two
    contacts is removed (steady gait: the trunk ends the step with the vertical velocity and at
    the height it started with; values at fractional positions are interpolated linearly), and
    h is the position's max - min over the step. Returns len(ic_idx) - 1 values.
    """
    ic = np.asarray(ic_idx, dtype=np.float64)
    a = np.asarray(a_up_g, dtype=np.float64) * G_MPS2
    if len(ic) < 2:
        return np.zeros(0)
    if np.any(np.diff(ic) < 1.0) or ic[0] < 0 or ic[-1] > len(a) - 1:
        raise ValueError("initial contacts must increase by >= 1 sample and lie inside a_up_g")
    dt = 1.0 / rate_hz
    i0 = np.floor(ic[:-1]).astype(np.int64)
    i1 = np.ceil(ic[1:]).astype(np.int64)
    f0 = ic[:-1] - i0  # contact position within the step's samples (samples)
    span = np.diff(ic)  # step duration (samples)
    size = i1 - i0 + 1
    first = np.cumsum(size) - size
    step = np.repeat(np.arange(len(span)), size)
    offs = np.arange(int(size.sum())) - first[step]
    frac = (offs - f0[step]) / span[step]  # 0 at the first contact, 1 at the next
    v = _integrate(a[i0[step] + offs], offs, dt)
    v0, v1 = _at(v, first, f0), _at(v, first, f0 + span)
    v -= v0[step] + (v1 - v0)[step] * frac
    z = _integrate(v, offs, dt)
    z0, z1 = _at(z, first, f0), _at(z, first, f0 + span)
    z -= z0[step] + (z1 - z0)[step] * frac
    z[(frac < 0) | (frac > 1)] = 0.0  # outside the contacts: the boundary value, 0
    return np.maximum.reduceat(z, first) - np.minimum.reduceat(z, first)


def _at(x: np.ndarray, first: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Linear interpolation of the per-step arrays ``x`` at local positions ``pos`` (samples)."""
    lo = np.floor(pos).astype(np.int64)
    w = pos - lo
    nxt = np.minimum(lo + 1, np.append(first[1:] - first[:-1], len(x) - first[-1]) - 1)
    return x[first + lo] * (1.0 - w) + x[first + nxt] * w


def _integrate(x: np.ndarray, offs: np.ndarray, dt: float) -> np.ndarray:
    """Cumulative trapezoid integral of ``x`` restarting at 0 where ``offs`` == 0."""
    inc = np.empty_like(x)
    inc[0] = 0.0
    inc[1:] = 0.5 * (x[1:] + x[:-1]) * dt
    start = offs == 0
    inc[start] = 0.0
    c = np.cumsum(inc)
    first = np.flatnonzero(start)
    return c - np.repeat(c[first], np.diff(np.append(first, len(x))))


def pendulum_step_length_m(
    h_m: np.ndarray, sensor_height_m: float, correction: float = PENDULUM_CORRECTION
) -> np.ndarray:
    """Step length (m) of the inverted pendulum (Zijlstra & Hof 2003).

    An inverted pendulum of length ``sensor_height_m`` (l, m: the sensor's height above the
    floor when standing) whose top rises and falls by ``h_m`` (h, m) during a step travels
    ``2 sqrt(2 l h - h^2)`` forward; the result is multiplied by ``correction`` (K,
    dimensionless, default :data:`PENDULUM_CORRECTION` = 1.25 of Zijlstra & Hof 2003; 1.0 for
    the uncorrected model that ``sensors.simulate`` renders). h is clipped to [0, l].
    """
    if not sensor_height_m > 0:
        raise ValueError(f"sensor_height_m={sensor_height_m} must be a positive height in m")
    h = np.clip(np.asarray(h_m, dtype=np.float64), 0.0, sensor_height_m)
    return correction * 2.0 * np.sqrt(2.0 * sensor_height_m * h - h * h)


# --------------------------------------------------------------------------------------------
# Recording-level entry point
# --------------------------------------------------------------------------------------------


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "t": pd.Series(dtype="int64"),
            "foot": pd.Series(dtype="string"),
            **{c: pd.Series(dtype="float64") for c in _NUMERIC},
            "source": pd.Series(dtype="string"),
        }
    )


def _activity(axes: Axes, n: int, rate_hz: float) -> np.ndarray:
    """Per sample (bool): the SD of the acceleration magnitude over the centred
    ``ACTIVITY_WINDOW_S`` window is above ``ACTIVITY_STD_G``. Computed ``ACTIVITY_BLOCK``
    windows at a time, so that no whole-day float64 array is held (peak memory)."""
    w = min(n, max(2, round(ACTIVITY_WINDOW_S * rate_hz)))
    windows = n - w + 1  # windows [s, s + w)
    moving = np.empty(windows, bool)
    for s0 in range(0, windows, ACTIVITY_BLOCK):
        s1 = min(s0 + ACTIVITY_BLOCK, windows)
        x = sum(np.square(axis[s0 : s1 + w - 1], dtype=np.float64) for axis in axes)
        x = np.sqrt(x) - 1.0
        c1 = np.concatenate([[0.0], np.cumsum(x)])
        c2 = np.concatenate([[0.0], np.cumsum(x * x)])
        mean = (c1[w:] - c1[:-w]) / w
        moving[s0:s1] = (c2[w:] - c2[:-w]) / w - mean * mean > ACTIVITY_STD_G**2
    active = np.empty(n, bool)
    half = w // 2
    active[half : half + windows] = moving  # centred windows
    active[:half] = moving[0]
    active[half + windows :] = moving[-1]
    return active


def _regions(t_ns: np.ndarray, axes: Axes, rate_hz: float) -> list[tuple[int, int]]:
    """Gap-free sample ranges [a, b) around movement (acceleration magnitude SD > floor)."""
    n = len(t_ns)
    brk = np.concatenate(  # gaps, a block at a time: no int64 diff of the whole day
        [
            np.flatnonzero(np.diff(t_ns[a : a + ACTIVITY_BLOCK + 1]) > MAX_GAP_S * NS) + a + 1
            for a in range(0, n - 1, ACTIVITY_BLOCK)
        ]
        or [np.empty(0, np.int64)]
    )
    seg_start = np.concatenate([[0], brk])
    seg_end = np.concatenate([brk, [n]])
    active = _activity(axes, n, rate_hz)
    rises = np.flatnonzero(active[1:] & ~active[:-1]) + 1  # bool masks: no int copy of the day
    falls = np.flatnonzero(active[:-1] & ~active[1:]) + 1
    rises = np.concatenate([[0], rises]) if active[0] else rises
    falls = np.concatenate([falls, [n]]) if active[-1] else falls
    margin = round(REGION_MARGIN_S * rate_hz)
    a_start = np.maximum(rises - margin, 0)
    a_end = np.minimum(falls + margin, n)
    if not len(a_start):
        return []
    new = np.concatenate([[True], a_start[1:] > a_end[:-1]])
    starts = a_start[new]
    ends = np.maximum.reduceat(a_end, np.flatnonzero(new))
    regions: list[tuple[int, int]] = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        k0 = int(np.searchsorted(seg_end, s, side="right"))
        k1 = int(np.searchsorted(seg_start, e, side="left"))
        for k in range(k0, k1):
            a, b = max(s, int(seg_start[k])), min(e, int(seg_end[k]))
            if b - a >= 2:
                regions.append((a, b))
    return regions


def _pieces(a: int, b: int, rate_hz: float, piece_s: float) -> list[tuple[int, int, int, int]]:
    """(start, end, own start, own end) sample ranges that cover region [a, b) in pieces of
    ``piece_s`` (own span), each read with ``PIECE_CONTEXT_S`` more on both sides."""
    context = round(PIECE_CONTEXT_S * rate_hz)
    size = max(1, round(piece_s * rate_hz)) if math.isfinite(piece_s) else b - a
    if b - a <= size + 2 * context:
        return [(a, b, a, b)]
    return [
        (max(a, own - context), min(b, own + size + context), own, min(b, own + size))
        for own in range(a, b, size)
    ]


def _region_strides(
    t_ns: np.ndarray,
    acc_g: np.ndarray,
    gyro_dps: np.ndarray | None,
    rate_hz: float,
    sensor_height_m: float | None,
    correction: float,
) -> pd.DataFrame | None:
    """Strides of one gap-free region (``t_ns`` sorted, no interval above ``MAX_GAP_S``)."""
    period_ns = NS / rate_hz
    m = int((t_ns[-1] - t_ns[0]) // period_ns) + 1
    if m < 2 * STEP_TIME_RANGE_S[1] * rate_hz + 4:
        return None
    grid = t_ns[0] + np.round(np.arange(m) * period_ns).astype(np.int64)
    rel_t = (t_ns - t_ns[0]).astype(np.float64)
    rel_g = (grid - t_ns[0]).astype(np.float64)
    acc = np.column_stack([np.interp(rel_g, rel_t, acc_g[:, k]) for k in range(3)])
    a_up, f_v = vertical_acceleration_g(acc, rate_hz)
    bouts, local = gait_bouts(a_up, rate_hz)
    if bouts.empty:
        return None
    smooth = _smoothed(a_up, rate_hz, bouts)
    ic = _contacts(smooth, rate_hz, bouts)
    if len(ic) < MIN_BOUT_STEPS + 1:
        return None
    dur = np.diff(ic) / rate_hz
    at = np.round(ic).astype(np.int64)  # nearest samples of the contacts
    expected = local[at[:-1]]
    trough = np.minimum.reduceat(smooth[: at[-1] + 1], at[:-1])
    rise = np.minimum(smooth[at[:-1]], smooth[at[1:]]) - trough
    bout_end = bouts["end"].to_numpy()
    same_bout = np.searchsorted(bout_end, at[:-1], side="right") == np.searchsorted(
        bout_end, at[1:], side="right"
    )
    valid = (
        same_bout
        & (np.abs(dur - expected) <= STEP_TOLERANCE * expected)
        & (rise >= MIN_STEP_SWING_G)
    )
    # runs of at least MIN_BOUT_STEPS consecutive valid steps
    edges = np.diff(np.concatenate([[0], valid.view(np.int8), [0]]))
    r0, r1 = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    long_run = (r1 - r0) >= MIN_BOUT_STEPS
    keep = np.zeros(len(valid) + 1, np.int64)
    np.add.at(keep, r0[long_run], 1)
    np.add.at(keep, r1[long_run], -1)
    kept = np.cumsum(keep[:-1]) > 0
    k = np.flatnonzero(kept[:-1] & kept[1:] & valid[:-1] & valid[1:])
    if not len(k):
        return None
    # running: free fall of the trunk during a step
    sigma = max(0.5, FLIGHT_SMOOTH_S * rate_hz)
    f_smooth = gaussian_filter1d(f_v, sigma)
    low = f_smooth < FLIGHT_G
    flight_s = np.add.reduceat(low[: at[-1]].astype(np.int64), at[:-1]) / rate_hz
    running = (flight_s >= FLIGHT_MIN_S) & (dur <= 60.0 / RUNNING_MIN_CADENCE_SPM)
    run = running[k] | running[k + 1]
    start = ic
    if running.any():
        start = _end_of_flight(ic, at, running, low, f_smooth, expected * rate_hz)
    if sensor_height_m is None:
        s1 = s2 = np.full(len(k), np.nan)
    else:
        h = step_vertical_displacement_m(a_up, ic, rate_hz)
        steps = pendulum_step_length_m(h, sensor_height_m, correction)
        s1, s2 = steps[k], steps[k + 1]
    no_length = run
    if gyro_dps is not None and sensor_height_m is not None:
        # turns: the pendulum describes straight walking only (see the module docstring)
        gyro = np.column_stack([np.interp(rel_g, rel_t, gyro_dps[:, j]) for j in range(3)])
        turn = detect_turns(yaw_rate_dps(acc, gyro, rate_hz), rate_hz)
        # a stride [ic[k], ic[k + 2]] overlaps a turn [a, b) if a < its end and b > its start
        began = np.searchsorted(turn[:, 0], ic[k + 2], side="left")
        ended = np.searchsorted(turn[:, 1], ic[k], side="right")
        no_length = run | (began > ended)
    length = np.where(no_length, np.nan, s1 + s2)
    stride_time = (ic[k + 2] - ic[k]) / rate_hz
    return pd.DataFrame(
        {
            "t": t_ns[0] + np.round(start[k] * period_ns).astype(np.int64),
            "stride_length_m": length,
            "stride_time_s": stride_time,
            "cadence_spm": 120.0 / stride_time,
            "speed_mps": length / stride_time,
            "uncertainty_m": np.where(no_length, np.nan, np.abs(s1 - s2)),
        }
    )


def _end_of_flight(
    ic: np.ndarray,
    at: np.ndarray,
    running: np.ndarray,
    low: np.ndarray,
    f_smooth: np.ndarray,
    step_samples: np.ndarray,
) -> np.ndarray:
    """Contacts next to running steps moved back to the end of the preceding free fall.

    The acceleration peak of a running step comes at mid-stance; the foot touches the ground where
    the free fall ends, i.e. where the vertical specific force rises through ``FLIGHT_G`` (linear
    interpolation between samples). Only moved if that lies within half a step before the peak.
    """
    near_run = np.zeros(len(ic), bool)
    near_run[:-1] |= running
    near_run[1:] |= running
    idx = np.arange(len(low))
    last_low = np.maximum.accumulate(np.where(low, idx, -1))
    j = last_low[at]
    half = 0.5 * np.append(step_samples, step_samples[-1])
    move = near_run & (j >= 0) & (at - j <= half) & (j + 1 < len(low))
    j1 = np.minimum(j + 1, len(low) - 1)
    rise = f_smooth[j1] - f_smooth[j]
    frac = np.clip(
        np.divide(FLIGHT_G - f_smooth[j], rise, out=np.ones(len(j)), where=rise > 0), 0, 1
    )
    return np.where(move, j + frac, ic)


def trunk_strides(
    t_ns: np.ndarray,
    acc_g: np.ndarray,
    gyro_dps: np.ndarray | None,
    rate_hz: float,
    sensor_height_m: float | None,
    *,
    correction: float = PENDULUM_CORRECTION,
    piece_s: float = PIECE_S,
) -> pd.DataFrame:
    """Strides of a lower-back IMU recording, one row per stride (two consecutive steps).

    ``t_ns`` int64 ns, sorted (gaps allowed: nothing is integrated across an interval longer
    than ``MAX_GAP_S`` = 0.1 s, so a gap drops only the strides that span it); ``acc_g`` (n, 3)
    in g with x along the trunk (+1 g upright); ``gyro_dps`` (n, 3) deg/s in the same
    frame or None (used only to find turns); either may also be given as its three columns
    (a day's store columns: only the movement regions are copied);
    ``rate_hz`` the nominal sample rate (Hz); ``sensor_height_m`` the sensor's height above the
    floor when standing (m), the pendulum length, or None. ``correction`` is the pendulum's
    correction factor K (default 1.25, Zijlstra & Hof 2003; 1.0 for ``sensors.simulate`` data).
    ``piece_s`` (s): long movement regions are analysed in pieces this long (``inf``: whole).

    Columns: ``t`` (int64 ns, the initial contact that starts the stride), ``foot``
    (``"unknown"``), ``stride_length_m`` (m), ``stride_time_s`` (s), ``cadence_spm`` (steps/min
    = 120 / stride time), ``speed_mps`` (m/s = stride length / stride time), ``uncertainty_m``
    (m, |difference of the stride's two step lengths|), ``source`` (``"lower_back_pendulum"``).
    Without ``sensor_height_m``, for running strides (flight phase) and for strides overlapping
    a turn (found only with ``gyro_dps``) stride length, speed and uncertainty are NaN; stride
    time and cadence are always given. See the module docstring.
    """
    t = np.asarray(t_ns, dtype=np.int64)
    axes = as_axes(acc_g, len(t), "acc_g")
    gyro_axes = None if gyro_dps is None else as_axes(gyro_dps, len(t), "gyro_dps")
    if not rate_hz > 0:
        raise ValueError(f"rate_hz={rate_hz} must be positive")
    if sensor_height_m is not None and not sensor_height_m > 0:
        raise ValueError(f"sensor_height_m={sensor_height_m} must be a positive height in m")
    if len(t) > 1 and np.any(t[1:] <= t[:-1]):  # a bool per sample, no int64 diff of the day
        raise ValueError("t_ns must be strictly increasing")
    if len(t) < 2:
        return _empty()
    parts = []
    for region in _regions(t, axes, rate_hz):
        for a, b, own_a, own_b in _pieces(*region, rate_hz, piece_s):
            gyro = None if gyro_axes is None else rows(gyro_axes, a, b)
            part = _region_strides(
                t[a:b], rows(axes, a, b), gyro, rate_hz, sensor_height_m, correction
            )
            if part is None:
                continue
            starts = part["t"].to_numpy()
            own = np.ones(len(part), bool)
            if own_a > region[0]:
                own &= starts >= t[own_a]
            if own_b < region[1]:
                own &= starts < t[own_b]
            parts.append(part[own])
    if not parts:
        return _empty()
    out = pd.concat(parts, ignore_index=True)
    out.insert(1, "foot", pd.array(["unknown"] * len(out), dtype="string"))
    out["source"] = pd.array([SOURCE] * len(out), dtype="string")
    return out
