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


class StepBand:
    """The band-passed acceleration magnitude (g), fed block by block.

    The filter state is carried from block to block, so blocks give exactly the samples the
    whole recording would (a day never has to be held as one (n, 3) array).
    """

    def __init__(self, rate_hz: float) -> None:
        self.usable = rate_hz > 2 * BAND_HZ[1]
        self._sos = (
            sps.butter(2, BAND_HZ, btype="band", fs=rate_hz, output="sos") if self.usable else None
        )
        self._state: np.ndarray | None = None

    def feed(self, acc_g: np.ndarray) -> np.ndarray:
        """Band-passed magnitude (float32) of the next samples ``acc_g`` (m, 3) in g."""
        magnitude = np.sqrt(np.einsum("ij,ij->i", acc_g, acc_g, dtype=np.float32)) - 1.0
        if self._sos is None:
            return np.zeros(len(magnitude), np.float32)
        if self._state is None:
            self._state = np.zeros((self._sos.shape[0], 2))
        band, self._state = sps.sosfilt(self._sos, magnitude, zi=self._state)
        return band.astype(np.float32)


class PeakFinder:
    """Candidate step peaks (sample indices) of a band-passed magnitude fed block by block.

    Each stretch is searched with at least twice the minimum step distance of context on both
    sides (the same peaks as one search over the whole band in practice), so only the last
    block and a few samples before it are ever held: a day's band is never one array.
    """

    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz
        self.distance = max(1, int(MIN_STEP_S * rate_hz))
        self._band = np.empty(0, np.float32)
        self._start = 0  # sample index of self._band[0]
        self._done = 0  # candidates before this sample index are final
        self._found: list[np.ndarray] = []

    def feed(self, band: np.ndarray) -> None:
        """The next samples of the band (g)."""
        self._band = np.concatenate([self._band, band])
        self._search(final=False)

    def finish(self) -> np.ndarray:
        """Sample indices (int64, increasing) of every candidate peak fed."""
        self._search(final=True)
        return np.concatenate(self._found) if self._found else np.empty(0, np.int64)

    def step_times(
        self,
        t_ns: np.ndarray,
        epoch_t_ns: np.ndarray,
        moving: np.ndarray,
        epoch_ns: int = 1_000_000_000,
    ) -> np.ndarray:
        """Times (ns) of the candidates fed (samples ``t_ns``) that fall in ``moving`` epochs
        (starts ``epoch_t_ns``); none for a recording under 3 s or without movement."""
        if len(t_ns) < 3 * self.rate_hz or not moving.any():
            return np.empty(0, np.int64)
        return in_moving_epochs(t_ns[self.finish()], epoch_t_ns, moving, epoch_ns)

    def _search(self, final: bool) -> None:
        context = 2 * self.distance
        end = self._start + len(self._band)
        upto = end if final else end - context
        if upto <= self._done:
            return
        lo = max(self._start, self._done - context)
        peaks, _ = sps.find_peaks(
            self._band[lo - self._start :], height=MIN_PEAK_G, distance=self.distance
        )
        peaks = peaks.astype(np.int64) + lo
        self._found.append(peaks[(peaks >= self._done) & (peaks < upto)])
        self._done = upto
        keep = max(self._start, upto - context)
        self._band = self._band[keep - self._start :]
        self._start = keep


def in_moving_epochs(
    peak_t: np.ndarray,
    epoch_t_ns: np.ndarray,
    moving: np.ndarray,
    epoch_ns: int = 1_000_000_000,
) -> np.ndarray:
    """The times ``peak_t`` (ns) that fall in an epoch (starts ``epoch_t_ns``) that is moving."""
    epoch = np.searchsorted(epoch_t_ns, peak_t // epoch_ns * epoch_ns)
    keep = epoch < len(epoch_t_ns)
    keep[keep] &= epoch_t_ns[epoch[keep]] == peak_t[keep] // epoch_ns * epoch_ns
    keep[keep] &= moving[epoch[keep]]
    return peak_t[keep]


def peak_times(
    t_ns: np.ndarray,
    band: np.ndarray,
    rate_hz: float,
    epoch_t_ns: np.ndarray,
    moving: np.ndarray,
    epoch_ns: int = 1_000_000_000,
    chunk: int = 1 << 20,
) -> np.ndarray:
    """Times (ns) of the step peaks of ``band`` that fall in ``moving`` epochs (the band
    searched ``chunk`` samples at a time by :class:`PeakFinder`)."""
    finder = PeakFinder(rate_hz)
    for a in range(0, len(band), chunk):
        finder.feed(band[a : a + chunk])
    return finder.step_times(t_ns, epoch_t_ns, moving, epoch_ns)


def step_times(
    t_ns: np.ndarray,
    acc_g: np.ndarray,
    rate_hz: float,
    epoch_t_ns: np.ndarray,
    moving: np.ndarray,
    epoch_ns: int = 1_000_000_000,
) -> np.ndarray:
    """Times (ns) of the steps found in the epochs (starts ``epoch_t_ns``) that are ``moving``."""
    band = StepBand(rate_hz)
    if not band.usable:
        return np.empty(0, np.int64)
    return peak_times(t_ns, band.feed(acc_g), rate_hz, epoch_t_ns, moving, epoch_ns)


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
    return count_per_epoch(times, epoch_t_ns, epoch_ns)


def count_per_epoch(
    times_ns: np.ndarray, epoch_t_ns: np.ndarray, epoch_ns: int = 1_000_000_000
) -> np.ndarray:
    """How many of ``times_ns`` (each inside one of the epochs) fall in each epoch."""
    epoch = np.searchsorted(epoch_t_ns, times_ns // epoch_ns * epoch_ns)
    return np.bincount(epoch, minlength=len(epoch_t_ns)).astype(np.int64)
