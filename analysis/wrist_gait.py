"""Gait (steps and cadence, never stride length) from one wrist accelerometer.

A wrist sees two things while its wearer walks or runs: the arm swing, one full swing cycle per
stride (two steps), and the body's bounce and heel-strike impacts at every step. Arm movements
while sitting, standing or gesturing are neither periodic for long nor accompanied by a stride
of the whole wrist motion, and must not become steps. :func:`wrist_strides` turns a recording
into one row per detected stride of the ``strides`` table (:mod:`analysis.stride`): its start,
stride time and cadence, ``stride_length_m`` always NaN (a wrist cannot measure how far a foot
travelled; psoas never invents a length) and source ``"wrist_cadence"``. A gyroscope, if the
device has one, is not used.

Units: times int64 ns; accelerations in g (1 g = 9.80665 m/s^2), sensor frame (any orientation:
everything below is invariant to how the device sits on the wrist); cadence in steps/min =
120 / stride time (s).

Method
------
1. **Gap-free segments.** Samples with a non-finite acceleration are dropped; the timestamps are
   cut wherever two samples are more than ``MAX_GAP_PERIODS`` (2.5) nominal sample periods
   apart (one lost sample is bridged, two or more are a gap).
   Nothing is filtered or windowed across a cut, so no stride spans a gap. Samples inside a
   segment are taken as uniform at ``rate_hz``.
2. **Signals.** The acceleration magnitude and the three axes, each band-passed to
   ``BAND_HZ`` (0.4-5 Hz, second-order Butterworth run forward and backward): the arm swing
   (0.5-2 Hz), the steps (1-3.5 Hz) and their first harmonics; gravity and slow posture
   changes are removed. Long segments are filtered in blocks with ``PAD_S`` of overlap on each
   side (the filter's transients decay within about a second, so the blocks give the same
   values as one pass to float precision), so memory stays bounded.
3. **Windows** (:func:`gait_windows`). Windows of ``WINDOW_S`` (5 s) every ``HOP_S`` (1 s).
   In each, the unbiased, normalised autocorrelation (Moe-Nilssen & Helbostad 2004) of the
   band-passed 3-axis vector, R_v (the sum of the three axes' autocorrelations over the sum of
   their variances: invariant to the sensor's orientation), and of the band-passed magnitude,
   R_m. The wrist's whole motion repeats once per stride, so the *cycle* period T is the first
   dominant peak of R_v at a lag of ``STRIDE_RANGE_S`` (0.5-2 s): the smallest-lag local
   maximum that reaches ``DOMINANT_FRACTION`` (0.8) of the highest one in the range (the
   multiples of a period are as high as the period itself). T is refined to a fraction of a
   sample by a parabola through the peak. A window is periodic when R_v(T) and R_m(T) (the
   magnitude repeats with the same cycle: the stride harmonic is consistent) both reach
   ``MIN_REGULARITY`` and the band-passed vector's RMS reaches ``MIN_RMS_G``; whether it is
   gait depends on step 4.
4. **Stride or step?** With an arm swing, T is the stride and the step time is T / 2. Without
   one (hands in pockets, carrying something), the wrist moves with the trunk and repeats every
   step, so T may be a step. The harmonic structure of the magnitude tells: over one cycle T,
   R_m(T / 2) is (power of the even harmonics of 1/T - power of the odd ones) / total. When the
   forearm hangs (walking), gravity is perpendicular to the swing's tangential acceleration,
   the arm swing barely reaches the magnitude and the steps dominate it: even harmonics,
   R_m(T / 2) > 0, T is the stride. Odd harmonics dominate (R_m(T / 2) < 0) when T is a step of
   a wrist without arm swing, but also when running: the forearm is then near horizontal, the
   swing's tangential acceleration lies along gravity and puts the stride frequency into the
   magnitude (``sensors.simulate``'s running wrist: R_m(T / 2) about -0.85). The two are told
   apart by what T would mean: a stride shorter than ``STEP_MODE_MAX_S`` (0.8 s, above 150
   steps/min) is running, and running shakes the wrist hard (flight phases and landings at
   every step); so T is read as a step only when R_m(T / 2) < 0, T < ``STEP_MODE_MAX_S`` and the
   magnitude's RMS stays below ``RUN_MIN_RMS_G``. Such a window's cycles are steps. A walking
   stride (T >= ``STEP_MODE_MAX_S``) must show its two steps: R_m(T / 2) >=
   ``MIN_STEP_REGULARITY``. This is what rejects a wrist that waves or wanders periodically
   while its wearer sits or stands (no bounce at twice the cycle frequency): on four simulated
   days, 23-36 such windows a day reach R_v(T) of up to 0.87 at cycles of 1.3-2 s, but their
   R_m(T / 2) stays below about 0.25 (never in three consecutive windows), while walking
   windows give 0.55-0.9. A periodic window that is neither is not gait.
5. **Bouts.** Runs of at least ``MIN_BOUT_WINDOWS`` (3) consecutive gait windows of one
   segment, with the same reading of T (stride or step) and step times of neighbours within
   ``PERIOD_TOLERANCE`` (15 %) of each other, are bouts (a bout that changes pace abruptly, as
   from running to walking, is split). A bout covers its windows, from the first one's start
   to the last one's end.
6. **Cycles.** In each bout the 3-axis acceleration is band-passed narrowly around the bout's
   cycle frequency f = 1 / median T (f / ``CYCLE_BAND_FACTOR`` to f x ``CYCLE_BAND_FACTOR``,
   order ``CYCLE_BAND_ORDER``) and projected on its principal axis (recomputed every
   ``AXIS_BLOCK_S``, sign kept continuous), which gives one near-sinusoidal oscillation per
   cycle whatever the orientation of the device. Its maxima (at least 0.6 T apart, refined by a
   parabola) start the cycles. A cycle is kept when its duration is within ``CYCLE_TOLERANCE``
   (25 %) of the local T (of the nearest window) and the RMS of the broad-band vector over the
   cycle reaches ``MIN_CYCLE_RMS_FRACTION`` of the bout's median cycle (filter ringing after the
   wearer stops is not gait) and ``MIN_RMS_G``, and it is not within one cycle of the first or
   last sample of its segment (where the filters' edge effects shift the maxima by a few percent
   of a cycle). Runs of consecutive kept cycles with at least ``MIN_BOUT_STRIDES`` (4) strides
   are the output.
7. **Strides.** An arm-swing cycle is one stride: ``t`` is the swing maximum that starts it (a
   fixed phase of the stride, not the heel strike) and ``stride_time_s`` its duration. Step
   cycles are paired into strides (every other step starts one, so no step is counted twice).
   ``cadence_spm`` = 120 / stride time. Strides outside ``STRIDE_RANGE_S`` are dropped, so the
   cadence always lies within 60-240 steps/min.

Constants and their sources
---------------------------
- ``MAX_GAP_PERIODS`` = 2.5: project rule: an interval of more than two sample periods is a
  gap; the half period is room for timestamp jitter, so a single lost sample (an interval of
  two periods give or take the jitter) never is one and two lost samples always are.
- ``BAND_HZ`` = 0.4-5 Hz: the slowest stride of walking (2 s, 0.5 Hz) and the fastest step of
  running (3.5 Hz, 210 steps/min) lie inside, with room for the filter's roll-off; step
  counters typically band-pass about 0.5-3 Hz, which this widens to those bounds.
- ``WINDOW_S`` = 5 s, ``HOP_S`` = 1 s: two strides of the slowest walking plus margin, the
  window of the Moe-Nilssen & Helbostad autocorrelation; the hop sets the bouts' resolution.
- ``STRIDE_RANGE_S`` = 0.5-2 s: 60-240 steps/min, from the slowest walking to sprinting.
- ``DOMINANT_FRACTION`` = 0.8: a multiple of the period, or a harmonic, of a periodic signal
  reaches about the period's own height; 0.8 leaves room for stride-to-stride variability.
- ``MIN_REGULARITY`` = 0.5: the band-passed 5 s window has about 2 x 4.6 Hz x 5 s = 46
  independent values, so the autocorrelation of noise has a standard error of about 0.15;
  0.5 is more than 3 standard errors (steady gait is far more regular: the simulated walks
  and runs give 0.95-1).
- ``MIN_STEP_REGULARITY`` = 0.25: the lower-back module's regularity floor
  (:mod:`analysis.trunk_stride`, about 4 standard errors of white noise in a 5 s window at
  50 Hz); half of ``MIN_REGULARITY`` because the arm swing adds odd harmonics that lower the
  step peak of the magnitude (the simulated walks give 0.55-0.9).
- ``MIN_RMS_G`` = 0.05 g: only keeps a still wrist, whose noise can look periodic after
  normalisation, out; the regularity and step checks do the separating. A swinging arm is
  partly hidden from an accelerometer (a free pendulum at its natural frequency, about 0.6 Hz
  for a 0.6 m arm, feels no tangential force), so the floor stays low: the slowest simulated
  walks (0.9 m/s) give 0.2 g, a still wrist a few mg.
- ``RUN_MIN_RMS_G`` = 0.25 g: running's flight phases take the body's vertical specific force
  from about 0 g to 2-3 g at every step, an RMS of several tenths of a g anywhere on the body
  (wrist cut-points for vigorous activity are of the order of 0.4 g ENMO, Hildebrand et al.
  2014); slow walking without arm swing bounces the wrist by much less (its trunk's vertical
  acceleration is about 0.1 g RMS).
- ``STEP_MODE_MAX_S`` = 0.8 s: 150 steps/min if T were a stride; walking cadence rarely
  exceeds 130 steps/min and running is rarely below 150 (the simulator runs at 150-200).
- ``PERIOD_TOLERANCE`` = 15 %: about the step-to-step change of steady gait over a second
  (stride time variability is a few percent); a change of gait or pace splits the bout.
- ``MIN_BOUT_WINDOWS`` = 3 (7 s of data), ``MIN_BOUT_STRIDES`` = 4: a walking bout is at least
  two consecutive strides in the Mobilise-D consensus (Kluge et al. 2021); a wrist, which sees
  much more non-gait motion than the trunk, asks for twice that.
- ``CYCLE_BAND_FACTOR`` = 1.6, ``CYCLE_BAND_ORDER`` = 4: the narrow band passes the cycle
  frequency of a bout whose pace varies by the tolerances above and removes its harmonics; the
  fourth order attenuates the step component at 2 f (1.25 times the upper edge) by about 30 dB
  forward and backward, so a bounce stronger than a weak arm swing (little swing, firm steps)
  does not put a second maximum into each stride.
- ``CYCLE_TOLERANCE`` = 25 %, ``MIN_CYCLE_RMS_FRACTION`` = 0.5: a missed cycle (2 T) or a
  spurious one (T / 2) falls outside; the arm swing of one bout changes little from one stride
  to the next, the ringing of the narrow-band filter after the last stride halves within a
  cycle or two.
- ``PAD_S`` = 10 s, ``AXIS_BLOCK_S`` = 30 s: filter padding (transients of the 0.4 Hz edge
  decay in about 1 s); the swing axis is re-estimated every 30 s of a long walk.

Validation against ``sensors.simulate``'s wrist (tests/test_wrist_gait.py): see the figures
there. The simulator always swings the arm, so the step reading of T (step 4) is only tested
on a synthetic trunk-like signal. Written from the papers above; no code was taken from other
packages (no maintained Python package detects gait from a wrist without a trained model).

References
----------
- Moe-Nilssen R, Helbostad JL (2004). Estimation of gait cycle characteristics by trunk
  accelerometry. J Biomech 37:121-126.
- Kluge F, Del Din S, Cereatti A, et al. (2021). Consensus based framework for digital mobility
  monitoring. PLoS One 16(8):e0256541.
- Hildebrand M, van Hees VT, Hansen BH, Ekelund U (2014). Age group comparability of raw
  accelerometer output from wrist- and hip-worn monitors. Med Sci Sports Exerc 46:1816-1824.

Everything is vectorised over samples and windows; Python loops run per gap-free segment, per
block of windows, per bout and per 30 s axis block only.
"""

from __future__ import annotations

import itertools
import math
from typing import Final

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft as spfft
from scipy import signal as sps

from analysis.stride import conform, empty_strides

__all__ = ["SOURCE", "gait_windows", "wrist_strides"]

NS: Final = 1_000_000_000
SOURCE: Final = "wrist_cadence"

MAX_GAP_PERIODS: Final = 2.5
"""Samples more than this many nominal periods apart are a gap (2 periods + jitter margin)."""
BAND_HZ: Final = (0.4, 5.0)
"""Band (Hz) of the arm swing (0.5-2 Hz) and of the steps (1-3.5 Hz)."""
WINDOW_S: Final = 5.0
"""Autocorrelation window (s): two of the slowest strides plus margin."""
HOP_S: Final = 1.0
"""Window step (s)."""
STRIDE_RANGE_S: Final = (0.5, 2.0)
"""Stride (cycle) times searched (s): 60-240 steps/min."""
DOMINANT_FRACTION: Final = 0.8
"""The first autocorrelation peak reaching this share of the highest is the period."""
MIN_REGULARITY: Final = 0.5
"""Minimum autocorrelation at the cycle period (> 3 standard errors of band-passed noise)."""
MIN_STEP_REGULARITY: Final = 0.25
"""Minimum magnitude autocorrelation at half a walking stride: the two steps in it."""
MIN_RMS_G: Final = 0.05
"""Minimum RMS (g) of the band-passed 3-axis acceleration (keeps a still wrist out)."""
RUN_MIN_RMS_G: Final = 0.25
"""Magnitude RMS (g) above which a short odd-harmonic cycle is a running stride."""
STEP_MODE_MAX_S: Final = 0.8
"""A cycle shorter than this (s) with odd harmonics and little energy is a step, not a stride."""
PERIOD_TOLERANCE: Final = 0.15
"""Relative step-time change between neighbouring windows that splits a bout."""
MIN_BOUT_WINDOWS: Final = 3
"""Consecutive gait windows needed for a bout."""
MIN_BOUT_STRIDES: Final = 4
"""Consecutive strides needed for output (twice the Mobilise-D minimum of Kluge et al. 2021)."""
CYCLE_BAND_FACTOR: Final = 1.6
"""The cycle band runs from f / factor to f x factor around the bout's cycle frequency f."""
CYCLE_BAND_ORDER: Final = 4
"""Butterworth order of the cycle band (steep enough to remove the step harmonic at 2 f)."""
CYCLE_TOLERANCE: Final = 0.25
"""A cycle's duration may differ by this share from the local cycle period."""
MIN_CYCLE_RMS_FRACTION: Final = 0.5
"""A cycle's broad-band RMS must reach this share of its bout's median cycle."""
PAD_S: Final = 10.0
"""Filter padding (s) at the ends of a block."""
AXIS_BLOCK_S: Final = 30.0
"""The swing axis is re-estimated every this many seconds (s)."""
_BLOCK_WINDOWS: Final = 2048  # windows whose autocorrelations are computed at once


# --------------------------------------------------------------------------------------------
# Input and segments
# --------------------------------------------------------------------------------------------


def _clean(
    t_ns: np.ndarray, acc_g: np.ndarray, rate_hz: float
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Validated ``t``, finite acceleration rows and the gap-free segments [a, b) among them."""
    t = np.asarray(t_ns)
    acc = np.asarray(acc_g)
    if t.ndim != 1:
        raise ValueError(f"t_ns must be one-dimensional, got shape {t.shape}")
    if acc.ndim != 2 or acc.shape[1] != 3 or len(acc) != len(t):
        raise ValueError(f"acc_g must have shape ({len(t)}, 3), got {acc.shape}")
    if not (math.isfinite(rate_hz) and rate_hz > 0):
        raise ValueError(f"rate_hz={rate_hz} must be a positive sample rate in Hz")
    t = t.astype(np.int64, copy=False)
    chunk = 1 << 20  # the checks run in chunks: no full-length temporaries
    bad = [
        np.flatnonzero(~np.isfinite(acc[i : i + chunk]).all(axis=1)) + i
        for i in range(0, len(t), chunk)
    ]
    for i in range(0, max(0, len(t) - 1), chunk):
        if np.any(np.diff(t[i : i + chunk + 1]) <= 0):
            raise ValueError("t_ns must be strictly increasing")
    drop = np.concatenate(bad) if bad else np.zeros(0, np.int64)
    if len(drop):
        keep = np.ones(len(t), bool)
        keep[drop] = False
        t, acc = t[keep], acc[keep]
    if len(t) == 0:
        return t, acc, []
    gap = MAX_GAP_PERIODS * NS / rate_hz
    cut = (
        np.concatenate(
            [
                np.flatnonzero(np.diff(t[i : i + chunk + 1]) > gap) + i + 1
                for i in range(0, len(t) - 1, chunk)
            ]
        )
        if len(t) > 1
        else np.zeros(0, np.int64)
    )
    starts = np.concatenate([[0], cut]).tolist()
    ends = np.concatenate([cut, [len(t)]]).tolist()
    return t, acc, list(zip(starts, ends, strict=True))


def _usable(rate_hz: float) -> bool:
    """Whether ``rate_hz`` (Hz) resolves the band (its upper edge below Nyquist)."""
    return rate_hz > 2.0 * BAND_HZ[1] * 1.05


def _band(x: np.ndarray, rate_hz: float, band: tuple[float, float], order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth band-pass of ``x`` (m,) or (m, k) along axis 0."""
    sos = sps.butter(order, band, btype="band", fs=rate_hz, output="sos")
    padlen = min(3 * (2 * len(sos) + 1), len(x) - 1)
    return sps.sosfiltfilt(sos, x, axis=0, padlen=padlen)


def _magnitude(acc: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->i", acc, acc, dtype=np.float64))


# --------------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------------


def _autocorr(x: np.ndarray, size: int, hop: int, nwin: int, maxlag: int) -> np.ndarray:
    """Raw autocorrelation sums (nwin, maxlag + 1) of the windows of ``x`` (float32)."""
    nfft = spfft.next_fast_len(size + maxlag + 1, real=True)
    view = sliding_window_view(x, size)[::hop][:nwin]
    frames = view - view.mean(axis=1, keepdims=True)
    spec = spfft.rfft(frames, nfft, axis=1)
    power = spec.real**2 + spec.imag**2
    return spfft.irfft(power, nfft, axis=1)[:, : maxlag + 1]


def _first_dominant_peak(r: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Lag (samples, fractional) and height of the first dominant peak of each row of ``r``
    within lags ``lo``..``hi`` (NaN where there is no positive local maximum)."""
    seg = r[:, lo - 1 : hi + 2]
    mid = seg[:, 1:-1]
    peak = (mid > seg[:, :-2]) & (mid >= seg[:, 2:]) & (mid > 0)
    top = np.where(peak, mid, -np.inf).max(axis=1, initial=-np.inf)
    ok = peak & (mid >= DOMINANT_FRACTION * top[:, None])
    has = ok.any(axis=1)
    i = np.argmax(ok, axis=1)
    rows = np.arange(len(r))
    y0, ym, yp = mid[rows, i], seg[rows, i], seg[rows, i + 2]
    den = ym - 2.0 * y0 + yp
    safe = np.where(den < 0, den, -1.0)
    d = np.clip(np.where(den < 0, 0.5 * (ym - yp) / safe, 0.0), -0.5, 0.5)
    lag = np.where(has, lo + i + d, np.nan)
    height = np.where(has, y0 - 0.25 * (ym - yp) * d, np.nan)
    return lag, height


def _at_lag(r: np.ndarray, lag: np.ndarray) -> np.ndarray:
    """``r`` linearly interpolated at the fractional ``lag`` of each row (NaN lag -> NaN)."""
    ok = np.isfinite(lag)
    lag = np.where(ok, lag, 0.0)
    i = np.clip(np.floor(lag).astype(np.int64), 0, r.shape[1] - 2)
    f = lag - i
    rows = np.arange(len(r))
    return np.where(ok, r[rows, i] * (1.0 - f) + r[rows, i + 1] * f, np.nan)


def _scaled32(x: np.ndarray) -> tuple[np.ndarray, float]:
    """``x`` / s as float32 and s, its largest absolute value (1 if zero or not finite), so the
    float32 autocorrelation sums cannot overflow whatever the input's scale."""
    top = float(np.max(np.abs(x))) if x.size else 0.0
    scale = top if math.isfinite(top) and top > 0 else 1.0
    return (x / scale).astype(np.float32), scale


def _segment_windows(acc: np.ndarray, rate_hz: float) -> dict[str, np.ndarray]:
    """Window features of one gap-free segment ``acc`` (m, 3) g; windows start every hop."""
    size = round(WINDOW_S * rate_hz)
    hop = max(1, round(HOP_S * rate_hz))
    lo = math.ceil(STRIDE_RANGE_S[0] * rate_hz)
    hi = math.floor(STRIDE_RANGE_S[1] * rate_hz)
    maxlag = hi + 1
    m = len(acc)
    nwin = (m - size) // hop + 1 if m >= size else 0
    names = ("start", "cycle", "r_vector", "r_mag", "r_half", "rms_vector", "rms_mag")
    out: dict[str, list[np.ndarray]] = {k: [] for k in names}
    pad = round(PAD_S * rate_hz)
    lags = np.arange(maxlag + 1)
    unbias = size / (size - lags)
    for w0 in range(0, nwin, _BLOCK_WINDOWS):
        w1 = min(nwin, w0 + _BLOCK_WINDOWS)
        a, b = w0 * hop, (w1 - 1) * hop + size  # samples the windows cover
        pa, pb = max(0, a - pad), min(m, b + pad)
        block = acc[pa:pb].astype(np.float64)
        mag, mag_scale = _scaled32(_band(_magnitude(block), rate_hz, BAND_HZ)[a - pa : b - pa])
        vec, vec_scale = _scaled32(_band(block, rate_hz, BAND_HZ)[a - pa : b - pa])
        del block
        n = w1 - w0
        r_mag = _autocorr(mag, size, hop, n, maxlag)
        r_vec = sum(
            _autocorr(np.ascontiguousarray(vec[:, k]), size, hop, n, maxlag) for k in range(3)
        )
        rms_mag = mag_scale * np.sqrt(np.maximum(r_mag[:, 0], 0.0) / size)
        rms_vec = vec_scale * np.sqrt(np.maximum(r_vec[:, 0], 0.0) / size)
        with np.errstate(invalid="ignore", divide="ignore"):
            r_mag = r_mag / r_mag[:, :1] * unbias
            r_vec = r_vec / r_vec[:, :1] * unbias
        cycle, r_vector = _first_dominant_peak(np.nan_to_num(r_vec, nan=0.0), lo, hi)
        out["start"].append(a + np.arange(n, dtype=np.int64) * hop)
        out["cycle"].append(cycle / rate_hz)
        out["r_vector"].append(r_vector)
        out["r_mag"].append(_at_lag(r_mag, cycle))
        out["r_half"].append(_at_lag(r_mag, cycle / 2.0))
        out["rms_mag"].append(rms_mag)
        out["rms_vector"].append(rms_vec)
    if not nwin:
        return {k: np.zeros(0, np.int64 if k == "start" else np.float64) for k in names}
    return {k: np.concatenate(v) for k, v in out.items()}


def _classify(w: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per window: gait (bool) and whether its cycle is a step rather than a stride (bool)."""
    with np.errstate(invalid="ignore"):
        periodic = (
            (w["r_vector"] >= MIN_REGULARITY)
            & (w["r_mag"] >= MIN_REGULARITY)
            & (w["rms_vector"] >= MIN_RMS_G)
        )
        short = w["cycle"] < STEP_MODE_MAX_S
        step_cycle = short & (w["r_half"] < 0) & (w["rms_mag"] < RUN_MIN_RMS_G)
        walking_steps = w["r_half"] >= MIN_STEP_REGULARITY
    gait = periodic & np.isfinite(w["cycle"]) & (short | walking_steps)
    return gait, step_cycle


def _windows(
    acc: np.ndarray, segments: list[tuple[int, int]], rate_hz: float
) -> dict[str, np.ndarray]:
    """Window features of all segments; ``start`` is a sample index into ``acc``."""
    parts = []
    for k, (a, b) in enumerate(segments):
        w = _segment_windows(acc[a:b], rate_hz)
        w["start"] = w["start"] + a
        w["segment"] = np.full(len(w["start"]), k, np.int64)
        parts.append(w)
    if not parts:
        parts = [_segment_windows(acc[:0], rate_hz)]
        parts[0]["segment"] = np.zeros(0, np.int64)
    w = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    w["gait"], w["step_cycle"] = _classify(w)
    w["step_time"] = np.where(w["step_cycle"], w["cycle"], w["cycle"] / 2.0)
    return w


def gait_windows(t_ns: np.ndarray, acc_g: np.ndarray, rate_hz: float) -> pd.DataFrame:
    """The analysis windows of a wrist recording (see the module docstring, steps 1-4).

    ``t_ns`` int64 ns, strictly increasing (gaps allowed); ``acc_g`` (n, 3) in g, any
    orientation; ``rate_hz`` the nominal sample rate (Hz). One row per window of ``WINDOW_S``
    (every ``HOP_S`` inside each gap-free segment): ``t`` (int64 ns, window start), ``cycle_s``
    (s, the period of the wrist's whole motion, NaN without one), ``step_time_s`` (s),
    ``r_vector`` and ``r_mag`` (autocorrelations of the 3-axis vector and of the magnitude at
    that period), ``r_half`` (of the magnitude at half of it), ``rms_vector_g`` and
    ``rms_mag_g`` (g, band-passed RMS), ``gait`` (bool) and ``step_cycle`` (bool: the cycle is a
    step, no arm swing). Empty when the rate is too low for the band (<= 10.5 Hz).
    """
    t, acc, segments = _clean(t_ns, acc_g, rate_hz)
    if not _usable(rate_hz):
        segments = []
    with np.errstate(all="ignore"):
        w = _windows(acc, segments, rate_hz)
    return pd.DataFrame(
        {
            "t": t[w["start"]] if len(w["start"]) else np.zeros(0, np.int64),
            "cycle_s": w["cycle"],
            "step_time_s": w["step_time"],
            "r_vector": w["r_vector"],
            "r_mag": w["r_mag"],
            "r_half": w["r_half"],
            "rms_vector_g": w["rms_vector"],
            "rms_mag_g": w["rms_mag"],
            "gait": w["gait"].astype(bool),
            "step_cycle": w["step_cycle"].astype(bool),
        }
    )


# --------------------------------------------------------------------------------------------
# Bouts and cycles
# --------------------------------------------------------------------------------------------


def _bouts(w: dict[str, np.ndarray], hop: int) -> list[np.ndarray]:
    """Window indices of each bout (runs of consistent gait windows, at least the minimum)."""
    n = len(w["start"])
    if n == 0:
        return []
    gait = w["gait"]
    with np.errstate(invalid="ignore", divide="ignore"):
        jump = np.abs(np.diff(np.log(w["step_time"]))) > math.log1p(PERIOD_TOLERANCE)
    joined = (
        gait[1:]
        & gait[:-1]
        & (np.diff(w["start"]) == hop)
        & (w["segment"][1:] == w["segment"][:-1])
        & (w["step_cycle"][1:] == w["step_cycle"][:-1])
        & ~jump
    )
    # a run starts at every gait window not joined to the one before and ends at the last
    # gait window not joined to the one after
    first = np.flatnonzero(gait & ~np.concatenate([[False], joined]))
    last = np.flatnonzero(gait & ~np.concatenate([joined, [False]]))
    long = last - first + 1 >= MIN_BOUT_WINDOWS
    return [np.arange(i, j + 1) for i, j in zip(first[long], last[long], strict=True)]


def _principal_projection(
    x: np.ndarray, size: int, prev: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """``x`` (m, 3) projected on its principal axis, re-estimated every ``size`` samples with
    the sign kept continuous from ``prev`` (the axis before, or None); also the last axis."""
    m = len(x)
    out = np.empty(m)
    edges = [*range(0, m, size), m]
    if len(edges) > 2 and edges[-1] - edges[-2] < size // 2:
        del edges[-2]  # a short tail joins the block before it
    axis = prev
    for s0, s1 in itertools.pairwise(edges):
        piece = x[s0:s1]
        new = np.linalg.eigh(piece.T @ piece)[1][:, -1]
        if axis is not None and float(new @ axis) < 0:
            new = -new
        axis = new
        out[s0:s1] = piece @ axis
    return out, axis


def _bout_cycles(
    acc: np.ndarray, a: int, b: int, seg: tuple[int, int], rate_hz: float, cycle_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Cycle maxima of the samples [a, b) of the segment ``seg`` of ``acc``.

    Returns their fractional sample positions and the cumulative broad-band energy (g^2
    samples) from ``a`` up to each (for the cycles' RMS). Processed in blocks of at most
    2^18 samples with ``PAD_S`` padding, so memory is bounded for any bout length.
    """
    block = 1 << 18
    pad = round(PAD_S * rate_hz)
    f = 1.0 / cycle_s
    band = (f / CYCLE_BAND_FACTOR, min(f * CYCLE_BAND_FACTOR, 0.45 * rate_hz))
    distance = max(1, int(0.6 * cycle_s / (1.0 + PERIOD_TOLERANCE) * rate_hz))
    axis_len = max(4, round(AXIS_BLOCK_S * rate_hz))
    axis: np.ndarray | None = None
    total = 0.0
    positions, energies = [], []
    for c0 in range(a, b, block):
        c1 = min(b, c0 + block)
        pa, pb = max(seg[0], c0 - pad), min(seg[1], c1 + pad)
        if pb - pa < 8:
            continue
        x = acc[pa:pb].astype(np.float64)
        narrow = _band(x, rate_hz, band, CYCLE_BAND_ORDER)
        broad = _band(x, rate_hz, BAND_HZ)[c0 - pa : c1 - pa]
        del x
        proj, axis = _principal_projection(narrow, axis_len, axis)
        peaks, _ = sps.find_peaks(proj, height=0.0, distance=distance)
        peaks = peaks[(peaks >= 1) & (peaks < len(proj) - 1)]
        peaks = peaks[(peaks + pa >= c0) & (peaks + pa < c1)]
        ym, y0, yp = proj[peaks - 1], proj[peaks], proj[peaks + 1]
        den = ym - 2.0 * y0 + yp
        d = np.clip(
            np.where(den < 0, 0.5 * (ym - yp) / np.where(den < 0, den, -1.0), 0.0), -0.5, 0.5
        )
        pos = peaks + pa + d
        energy = np.einsum("ij,ij->i", broad, broad)
        cum = np.concatenate([[0.0], np.cumsum(energy)])
        inside = np.clip(pos - c0, 0.0, c1 - c0)
        k = np.floor(inside).astype(np.int64)
        frac = inside - k
        k1 = np.minimum(k + 1, len(cum) - 1)
        positions.append(pos)
        energies.append(total + cum[k] + frac * (cum[k1] - cum[k]))
        total += float(cum[-1])
    if not positions:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(positions), np.concatenate(energies)


def _time_at(t: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Timestamps (int64 ns) at fractional sample positions ``pos``, linear between samples."""
    i = np.clip(np.floor(pos).astype(np.int64), 0, max(0, len(t) - 2))
    frac = pos - i
    step = t[np.minimum(i + 1, len(t) - 1)] - t[i]
    return t[i] + np.round(frac * step).astype(np.int64)


def _runs(ok: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of the runs of True in ``ok``."""
    edges = np.diff(np.concatenate([[0], ok.astype(np.int8), [0]]))
    return list(
        zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True)
    )


def _bout_strides(
    t: np.ndarray,
    acc: np.ndarray,
    w: dict[str, np.ndarray],
    idx: np.ndarray,
    seg: tuple[int, int],
    rate_hz: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Start (ns) and end (ns) of the strides of one bout (window indices ``idx``)."""
    size = round(WINDOW_S * rate_hz)
    a, b = int(w["start"][idx[0]]), int(w["start"][idx[-1]]) + size
    cycles = w["cycle"][idx]
    pos, cum = _bout_cycles(acc, a, b, seg, rate_hz, float(np.median(cycles)))
    none = np.zeros(0, np.int64)
    if len(pos) < 2:
        return none, none
    span = np.diff(pos)
    local = np.interp((pos[:-1] + pos[1:]) / 2.0, w["start"][idx] + size / 2.0, cycles)
    fits = np.abs(np.log(span / rate_hz / local)) <= math.log1p(CYCLE_TOLERANCE)
    rms = np.sqrt(np.maximum(np.diff(cum), 0.0) / span)
    if not fits.any():
        return none, none
    floor = max(MIN_RMS_G, MIN_CYCLE_RMS_FRACTION * float(np.median(rms[fits])))
    edge = float(np.median(cycles)) * rate_hz  # the filters' edge effects at a segment's ends
    clear = (pos[:-1] >= seg[0] + edge) & (pos[1:] <= seg[1] - 1 - edge)
    ok = fits & (rms >= floor) & clear
    per_stride = 2 if w["step_cycle"][idx[0]] else 1
    starts, ends = [], []
    for i0, i1 in _runs(ok):
        first = np.arange(i0, i1 - per_stride + 1, per_stride)
        if len(first) >= MIN_BOUT_STRIDES:
            starts.append(first)
            ends.append(first + per_stride)
    if not starts:
        return none, none
    return _time_at(t, pos[np.concatenate(starts)]), _time_at(t, pos[np.concatenate(ends)])


def wrist_strides(t_ns: np.ndarray, acc_g: np.ndarray, rate_hz: float) -> pd.DataFrame:
    """Strides of walking and running seen by a wrist accelerometer, one row per stride.

    ``t_ns`` int64 ns, strictly increasing (gaps allowed: samples more than
    ``MAX_GAP_PERIODS`` nominal periods apart split the recording and no stride spans the gap);
    ``acc_g`` (n, 3) in g, any orientation on the wrist (rows with a non-finite value are
    dropped, i.e. become gaps); ``rate_hz`` the nominal sample rate (Hz; at 10.5 Hz or below
    nothing is found). A whole day is processed in blocks, so memory stays bounded (tens of MB).

    Returns the ``strides`` table layout (:func:`analysis.stride.conform`): ``t`` (int64 ns, the
    start of the stride: the arm-swing maximum that begins it, or the step that begins it when
    the arm does not swing), ``stride_time_s`` (s), ``cadence_spm`` (steps/min = 120 / stride
    time, within 60-240), ``stride_length_m`` NaN (a wrist cannot measure it), ``speed_mps``
    and ``uncertainty_m`` NaN, ``foot`` "unknown", ``source`` ``"wrist_cadence"``. Consecutive
    rows of a walk follow each other without overlap. Raises ``ValueError`` for mismatched
    shapes, non-increasing times or a non-positive rate. See the module docstring.
    """
    t, acc, segments = _clean(t_ns, acc_g, rate_hz)
    if not _usable(rate_hz) or len(t) < 2:
        return empty_strides()
    starts, ends = [], []
    with np.errstate(all="ignore"):  # absurd values (overflow) give NaN features: no gait
        w = _windows(acc, segments, rate_hz)
        hop = max(1, round(HOP_S * rate_hz))
        for idx in _bouts(w, hop):
            seg = segments[int(w["segment"][idx[0]])]
            s, e = _bout_strides(t, acc, w, idx, seg, rate_hz)
            starts.append(s)
            ends.append(e)
    if not starts:
        return empty_strides()
    start = np.concatenate(starts)
    stride_s = (np.concatenate(ends) - start) / NS
    keep = (stride_s >= STRIDE_RANGE_S[0]) & (stride_s <= STRIDE_RANGE_S[1])
    if not keep.any():
        return empty_strides()
    start, stride_s = start[keep], stride_s[keep]
    return conform(
        pd.DataFrame(
            {
                "t": start,
                "stride_time_s": stride_s,
                "cadence_spm": 120.0 / stride_s,
                "stride_length_m": np.nan,
                "source": SOURCE,
            }
        )
    )
