"""Steps per 1 s epoch from a thigh or trunk accelerometer, for the sitting-break rule.

A step is a peak of the acceleration magnitude, band-passed to the step frequencies (0.5-4 Hz,
one pole pair each side, causal: only the count matters, not the peak's exact time), above
``MIN_PEAK_G`` and at least ``MIN_STEP_S`` after the previous one, inside an epoch classified as
moving. This is a coarse counter: on simulated thigh days it finds the true steps within 2 % (less
the steps of packets the link lost); on the real Mobilise-D HA001 lower-back recording it counts
80 steps in the reference walking bouts, which hold 81 reference initial contacts. It only
decides whether a short walk between two sits is a break (20 steps by default); stride-level gait
analysis is ``analysis/gait.py``'s.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from scipy import signal as sps

MIN_PEAK_G: Final = 0.05
MIN_STEP_S: Final = 0.3
"""Faster than 200 steps/min is not walking or running."""
BAND_HZ: Final = (0.5, 4.0)


def step_times(
    t_ns: np.ndarray,
    acc_g: np.ndarray,
    rate_hz: float,
    epoch_t_ns: np.ndarray,
    moving: np.ndarray,
    epoch_ns: int = 1_000_000_000,
) -> np.ndarray:
    """Times (ns) of the steps found in the epochs (starts ``epoch_t_ns``) that are ``moving``."""
    if len(t_ns) < 3 * rate_hz or not moving.any() or rate_hz <= 2 * BAND_HZ[1]:
        return np.empty(0, np.int64)
    magnitude = np.sqrt(np.einsum("ij,ij->i", acc_g, acc_g, dtype=np.float32))
    sos = sps.butter(2, BAND_HZ, btype="band", fs=rate_hz, output="sos")
    band = sps.sosfilt(sos, magnitude - np.float32(1.0)).astype(np.float32)
    peaks, _ = sps.find_peaks(band, height=MIN_PEAK_G, distance=max(1, int(MIN_STEP_S * rate_hz)))
    peak_t = t_ns[peaks]
    epoch = np.searchsorted(epoch_t_ns, peak_t // epoch_ns * epoch_ns)
    found = epoch < len(epoch_t_ns)
    found[found] &= epoch_t_ns[epoch[found]] == peak_t[found] // epoch_ns * epoch_ns
    found[found] &= moving[epoch[found]]
    return peak_t[found]


def steps_per_epoch(
    t_ns: np.ndarray,
    acc_g: np.ndarray,
    rate_hz: float,
    epoch_t_ns: np.ndarray,
    moving: np.ndarray,
    epoch_ns: int = 1_000_000_000,
) -> np.ndarray:
    """Steps counted in each epoch (start times ``epoch_t_ns``, sorted) that is ``moving``."""
    times = step_times(t_ns, acc_g, rate_hz, epoch_t_ns, moving, epoch_ns)
    epoch = np.searchsorted(epoch_t_ns, times // epoch_ns * epoch_ns)
    return np.bincount(epoch, minlength=len(epoch_t_ns)).astype(np.int64)
