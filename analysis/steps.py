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


def steps_per_epoch(
    t_ns: np.ndarray,
    acc_g: np.ndarray,
    rate_hz: float,
    epoch_t_ns: np.ndarray,
    moving: np.ndarray,
    epoch_ns: int = 1_000_000_000,
) -> np.ndarray:
    """Steps counted in each epoch (start times ``epoch_t_ns``, sorted) that is ``moving``."""
    counts = np.zeros(len(epoch_t_ns), np.int64)
    if len(t_ns) < 3 * rate_hz or not moving.any() or rate_hz <= 2 * BAND_HZ[1]:
        return counts
    magnitude = np.sqrt(np.einsum("ij,ij->i", acc_g, acc_g, dtype=np.float32))
    sos = sps.butter(2, BAND_HZ, btype="band", fs=rate_hz, output="sos")
    band = sps.sosfilt(sos, magnitude - np.float32(1.0)).astype(np.float32)
    peaks, _ = sps.find_peaks(band, height=MIN_PEAK_G, distance=max(1, int(MIN_STEP_S * rate_hz)))
    epoch_of_peak = np.searchsorted(epoch_t_ns, t_ns[peaks] // epoch_ns * epoch_ns)
    valid = epoch_of_peak < len(epoch_t_ns)
    epoch_of_peak = epoch_of_peak[valid]
    exact = epoch_t_ns[epoch_of_peak] == t_ns[peaks][valid] // epoch_ns * epoch_ns
    np.add.at(counts, epoch_of_peak[exact], 1)
    counts[~moving] = 0
    return counts
