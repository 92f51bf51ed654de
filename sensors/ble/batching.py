"""Ordering, de-duplication and sanity checks for IMU batches arriving over Bluetooth.

Notifications can arrive twice, out of order, or from a peer that lies. The collector feeds every
decoded batch to a :class:`BatchBuffer`, which releases them in ``seq`` order, exactly once:

- a batch whose samples were all released before is a duplicate and is dropped (counted);
- a batch that only partly overlaps what was released is trimmed to its new samples;
- a hole in ``seq`` is held open for ``reorder_window_s`` (a late notification may fill it);
  after that, or on a ``final`` release, the hole is accepted as a device-side gap (the store
  records it; nothing is invented). With ``hold_holes`` (what the collector uses, in a sync and
  while streaming live) a hole is never accepted on a timer: :meth:`BatchBuffer.hole_age_s`
  tells when the window has passed, the collector asks the wearable again, and only a hole the
  wearable does not have is given up (:meth:`BatchBuffer.accept_hole`);
- a batch whose sample period is far from the device's announced rate is rejected (counted and
  logged) rather than corrupting the store;
- the device's clock may jump (an RTC resync). ``seq`` says how much time passed: a batch
  stamped earlier than ``seq`` and the rate allow (time running backwards, or overlapping earlier
  samples) is re-anchored onto the previous sample by ``seq`` and rate, and the same shift
  applies to the rest of that clock segment (so its spacing stays bit for bit); a later forward
  jump (a pause in sampling or the clock set forward) first takes the shift back, so stored
  time returns to the device clock. A forward jump alone is kept as stamped: with ``seq``
  contiguous it cannot be told apart from a device that paused sampling. Every jump is listed in
  :attr:`BufferCounters.clock_jumps`. Stored ``t`` therefore never runs backwards.

Pure logic: no Bluetooth, no store; the clock is injectable so tests control time.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sensors.ble.profiles.imu import ImuBatch

_log = logging.getLogger(__name__)

DEFAULT_REORDER_WINDOW_S = 2.0
PERIOD_TOLERANCE = 0.2
"""A batch's sample period may differ from the announced rate by at most this fraction."""


@dataclass
class BufferCounters:
    """What the buffer dropped or rejected, for the user's report and the logs."""

    duplicate_batches: int = 0
    trimmed_samples: int = 0
    rejected_batches: int = 0
    accepted_holes: int = 0
    reasons: list[str] = field(default_factory=list)
    clock_jumps: list[ClockJump] = field(default_factory=list)


@dataclass(frozen=True)
class ClockJump:
    """A jump of the device clock seen at ``seq``: ``jump_ns`` is how far the batch's stamp lies
    from where ``seq`` and the rate put it (negative: backwards); ``shift_ns`` is what psoas adds
    to the device's stamps from there on (0: kept as stamped)."""

    seq: int
    jump_ns: int
    shift_ns: int


class BatchBuffer:
    """Releases batches in seq order, each sample once; see the module docstring."""

    def __init__(
        self,
        next_seq: int | None,
        *,
        expected_period_ns: int | None = None,
        reorder_window_s: float = DEFAULT_REORDER_WINDOW_S,
        hold_holes: bool = False,
        clock: Callable[[], float] = time.monotonic,
        last_t_ns: int | None = None,
        counters: BufferCounters | None = None,
    ) -> None:
        """``last_t_ns`` is the stored time of seq ``next_seq - 1`` (the store's cursor), so a
        clock jump right at the resume point is seen; ``counters`` may be shared across
        buffers (one per connection) to sum them."""
        self.next_seq = next_seq
        self.hold_holes = hold_holes
        """True: a hole is never accepted on a timer (the collector asks the wearable again,
        see :meth:`accept_hole`), in a sync and while streaming live. False: a hole is
        accepted once it is ``reorder_window_s`` old."""
        self.expected_period_ns = expected_period_ns
        self.reorder_window_s = reorder_window_s
        self._clock = clock
        self._pending: dict[int, ImuBatch] = {}
        self._hole_since: float | None = None
        self._last_t_ns = last_t_ns if next_seq is not None else None
        self._last_seq = None if next_seq is None else next_seq - 1
        self._shift_us = 0  # added to the device's stamps in the current clock segment
        self.counters = counters if counters is not None else BufferCounters()

    @property
    def pending_samples(self) -> int:
        return sum(b.count for b in self._pending.values())

    def add(self, batch: ImuBatch) -> None:
        """Take a decoded batch (any order, possibly a duplicate)."""
        if self.next_seq is not None and batch.last_seq < self.next_seq:
            self.counters.duplicate_batches += 1
            return
        if batch.first_seq in self._pending:
            self.counters.duplicate_batches += 1
            return
        if self.expected_period_ns and not _period_ok(batch.period_ns, self.expected_period_ns):
            self._reject(
                batch,
                f"sample period {batch.period_ns} ns, the device announced "
                f"{self.expected_period_ns} ns",
            )
            return
        self._pending[batch.first_seq] = batch

    def release(self, *, final: bool = False) -> list[ImuBatch]:
        """Batches ready to commit, in seq order. ``final`` accepts every remaining hole."""
        out: list[ImuBatch] = []
        for first in sorted(self._pending):
            batch = self._pending[first]
            if self.next_seq is None:
                # nothing stored yet: the earliest batch may still be on its way
                if not final and not self._hole_expired():
                    break
            elif first > self.next_seq:
                if not final and (self.hold_holes or not self._hole_expired()):
                    break
                self.counters.accepted_holes += 1
            self._hole_since = None
            del self._pending[first]
            batch = self._trim(batch)
            if batch is None:
                continue
            batch = self._on_timeline(batch)
            out.append(batch)
            self.next_seq = batch.last_seq + 1
            self._last_seq = batch.last_seq
            self._last_t_ns = batch.t0_us * 1000 + (batch.count - 1) * batch.period_ns
        if self._pending and self._hole_since is None:
            self._hole_since = self._clock()
        return out

    def hole(self) -> int | None:
        """First missing seq when batches wait behind a hole, else None."""
        return self.next_seq if self._pending and self.next_seq is not None else None

    def hole_age_s(self) -> float:
        """Seconds the current hole has been waiting (0 when there is none)."""
        if self.hole() is None or self._hole_since is None:
            return 0.0
        return self._clock() - self._hole_since

    def after_hole(self) -> int | None:
        """First seq waiting behind the current hole, else None."""
        return min(self._pending) if self.hole() is not None else None

    def accept_hole(self) -> None:
        """Give up on the current hole (the wearable does not have those samples)."""
        if self._pending and self.next_seq is not None:
            self.counters.accepted_holes += 1
            self.next_seq = min(self._pending)

    def _hole_expired(self) -> bool:
        if self._hole_since is None:
            self._hole_since = self._clock()
            return False
        return self._clock() - self._hole_since >= self.reorder_window_s

    def _on_timeline(self, batch: ImuBatch) -> ImuBatch:
        """``batch`` with the current clock-segment shift, after checking for a clock jump."""
        if self._last_t_ns is None or self._last_seq is None:
            return batch
        period = self.expected_period_ns or batch.period_ns
        expected_ns = self._last_t_ns + (batch.first_seq - self._last_seq) * period
        deviation = (batch.t0_us + self._shift_us) * 1000 - expected_ns
        backwards = deviation < -period
        if backwards or deviation > period:
            if backwards or self._shift_us:
                # re-anchor on the previous sample by seq and rate (ceil to a whole µs), or
                # give back as much of an earlier shift as this forward jump allows
                self._shift_us = max(0, -((batch.t0_us * 1000 - expected_ns) // 1000))
            jump = ClockJump(batch.first_seq, deviation, self._shift_us * 1000)
            self.counters.clock_jumps.append(jump)
            log = _log.warning if backwards else _log.info
            log(
                "device time jumps %+.3f s at seq %d (%s); stored time is shifted %+.3f s",
                deviation / 1e9,
                batch.first_seq,
                "backwards: re-anchored by seq and rate"
                if backwards
                else "forward with no seq missing: paused sampling or the clock set forward",
                jump.shift_ns / 1e9,
            )
        if self._shift_us:
            batch = dataclasses.replace(batch, t0_us=batch.t0_us + self._shift_us)
        return batch

    def _trim(self, batch: ImuBatch) -> ImuBatch | None:
        """Drop the samples of ``batch`` that were already released."""
        if self.next_seq is None or batch.first_seq >= self.next_seq:
            return batch
        skip = self.next_seq - batch.first_seq
        if skip >= batch.count:
            self.counters.duplicate_batches += 1
            return None
        self.counters.trimmed_samples += skip
        return ImuBatch(
            first_seq=batch.first_seq + skip,
            t0_us=batch.t0_us + (skip * batch.period_ns) // 1000,
            period_ns=batch.period_ns,
            live=batch.live,
            acc_range_g=batch.acc_range_g,
            gyro_range_dps=batch.gyro_range_dps,
            raw=np.ascontiguousarray(batch.raw[skip:]),
        )

    def _reject(self, batch: ImuBatch, why: str) -> None:
        self.counters.rejected_batches += 1
        message = f"rejected batch seq {batch.first_seq}-{batch.last_seq}: {why}"
        self.counters.reasons.append(message)
        _log.warning(message)


def _period_ok(period_ns: int, expected_ns: int) -> bool:
    return abs(period_ns - expected_ns) <= PERIOD_TOLERANCE * expected_ns
