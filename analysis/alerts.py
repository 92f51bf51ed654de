"""Sitting-streak alerts on live sample batches, with bounded memory.

:class:`LiveSittingAlerts` takes the raw samples the collector commits, batch by batch, turns the
complete 1 s epochs into postures (:mod:`analysis.posture`) and feeds them to the same
:class:`~analysis.sitting.BoutTracker` that ``psoas analyze`` runs over a whole day, so a live
alert fires exactly where the after-the-fact analysis marks it: at bout start + threshold. It
keeps only the samples of the epoch still being filled and the tracker's open run.

Live differences, by necessity: no auto-calibration and no non-wear (both need an hour or more
of data); the orientation is the one the last analysis learned for the device (else the default
frame). The after-sync analysis recomputes everything with both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import posture, signal
from analysis.posture import Orientation
from analysis.sitting import EPOCH_NS, Alert, AlertRules, BoutRules, BoutTracker


class LiveSittingAlerts:
    """Incremental streak alerts for one device worn at ``placement``."""

    def __init__(
        self,
        placement: str,
        bout_rules: BoutRules | None = None,
        alert_rules: AlertRules | None = None,
        orientation: Orientation | None = None,
    ) -> None:
        self.placement = placement
        self.orientation = orientation or Orientation()
        self.tracker = BoutTracker(bout_rules or BoutRules(), alert_rules or AlertRules())
        self._carry = pd.DataFrame(columns=["t", "ax", "ay", "az"])
        self._last_t: int | None = None

    def feed(self, samples: pd.DataFrame) -> list[Alert]:
        """Take the next committed samples (``t`` ns, ``ax ay az`` g); return new alerts.

        Samples older than those already seen (a re-sent batch) are ignored.
        """
        frame = samples[["t", "ax", "ay", "az"]]
        if self._last_t is not None:
            frame = frame[frame["t"].to_numpy() > self._last_t]
        if frame.empty:
            return []
        self._last_t = int(frame["t"].iloc[-1])
        frame = pd.concat([self._carry, frame], ignore_index=True) if len(self._carry) else frame
        t = frame["t"].to_numpy(np.int64)
        open_epoch = t[-1] // EPOCH_NS  # still being filled: wait for its last samples
        complete = t // EPOCH_NS < open_epoch
        self._carry = frame[~complete].reset_index(drop=True)
        if not complete.any():
            return []
        acc = frame[["ax", "ay", "az"]].to_numpy(np.float32)[complete]
        epochs = signal.epoch_table(t[complete], acc, epoch_s=1.0)
        codes = posture.classify(epochs, self.placement, self.orientation)
        return self.tracker.feed(epochs["t"].to_numpy(np.int64), codes)

    def current_streak(self) -> tuple[int, int] | None:
        """The sitting streak in progress, ``(start, reached)`` UTC ns, or None."""
        return self.tracker.current_streak()
