"""The virtual wearable's offline log: IMU batches in ``seq`` order (pure; no Bluetooth).

A real logger keeps what it sampled in flash as fixed-size records and answers "how many samples
from seq N", "send everything from seq N" and "delete through seq N" (docs/ble-imu-profile.md).
:class:`RecordStore` is that log: a list of :class:`~sensors.ble.profiles.imu.ImuBatch` with
strictly increasing, non-overlapping ``seq`` ranges (a device-side gap is simply a jump), plus
prefix sums so counting is O(log n). Iteration looks each batch up by ``seq`` afresh, so appending
(live logging) or deleting while a SEND iterates is safe.

Splitting a batch keeps its samples bit for bit; the first sample time of a later part is
``t0 + k * period`` rounded down to a whole microsecond (the batch header's resolution), which is
exact whenever the sample period is a whole number of microseconds (25, 50, 100, 200 Hz, ...).
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd

from sensors.ble.profiles.imu import ImuBatch, batches_to_frame

__all__ = ["RecordStore", "slice_batch", "split_batch"]


def slice_batch(batch: ImuBatch, start: int, stop: int | None = None) -> ImuBatch:
    """Samples ``start:stop`` of ``batch`` as a batch of their own (same ranges and flags)."""
    stop = batch.count if stop is None else min(stop, batch.count)
    if not 0 <= start < stop:
        raise ValueError(f"empty slice {start}:{stop} of a batch of {batch.count} samples")
    if start == 0 and stop == batch.count:
        return batch
    return dataclasses.replace(
        batch,
        first_seq=batch.first_seq + start,
        t0_us=batch.t0_us + (start * batch.period_ns) // 1000,
        raw=np.ascontiguousarray(batch.raw[start:stop]),
    )


def split_batch(batch: ImuBatch, max_samples: int) -> list[ImuBatch]:
    """``batch`` cut into parts of at most ``max_samples`` samples, in seq order."""
    if max_samples < 1:
        raise ValueError(f"max_samples={max_samples} must be at least 1")
    if batch.count <= max_samples:
        return [batch]
    return [slice_batch(batch, i, i + max_samples) for i in range(0, batch.count, max_samples)]


class RecordStore:
    """The device's offline log of IMU batches, in ``seq`` order."""

    def __init__(self, batches: Iterable[ImuBatch] = ()) -> None:
        self._batches: list[ImuBatch] = []
        self._firsts: list[int] = []
        self._cum: list[int] = []  # samples in batches[0..i] inclusive
        self.add(batches)

    # -- content ---------------------------------------------------------------------------

    def add(self, batches: Iterable[ImuBatch]) -> None:
        """Append batches; each must start after the last stored seq (gaps are allowed)."""
        for batch in batches:
            if batch.count < 1:
                raise ValueError("a stored batch holds at least one sample")
            if self._batches and batch.first_seq <= self._batches[-1].last_seq:
                raise ValueError(
                    f"batch seq {batch.first_seq}-{batch.last_seq} does not come after the "
                    f"last stored seq {self._batches[-1].last_seq}"
                )
            if batch.live:
                batch = dataclasses.replace(batch, live=False)
            self._batches.append(batch)
            self._firsts.append(batch.first_seq)
            self._cum.append((self._cum[-1] if self._cum else 0) + batch.count)

    def __len__(self) -> int:
        """Number of stored batches."""
        return len(self._batches)

    @property
    def samples(self) -> int:
        """Number of stored samples."""
        return self._cum[-1] if self._cum else 0

    @property
    def first_seq(self) -> int | None:
        return self._batches[0].first_seq if self._batches else None

    @property
    def last_seq(self) -> int | None:
        return self._batches[-1].last_seq if self._batches else None

    @property
    def batches(self) -> list[ImuBatch]:
        """A copy of the stored batches (seq order)."""
        return list(self._batches)

    def _index_from(self, seq: int) -> int:
        """Index of the first batch holding a sample with ``seq`` or later (may be len)."""
        i = bisect.bisect_right(self._firsts, seq) - 1
        if i >= 0 and self._batches[i].last_seq >= seq:
            return i
        return i + 1

    def count_from(self, seq: int) -> int:
        """Stored samples with ``seq`` or later."""
        i = self._index_from(seq)
        if i >= len(self._batches):
            return 0
        batch = self._batches[i]
        before = self._cum[i - 1] if i else 0
        skip = max(0, seq - batch.first_seq)
        return self.samples - before - skip

    def iter_from(self, seq: int, *, through: int | None = None) -> Iterator[ImuBatch]:
        """Stored batches with samples in ``seq..through`` (clipped to that range), in order.

        Each step looks the next batch up by seq, so the store may change while iterating:
        batches appended later are included (unless past ``through``), deleted ones skipped.
        """
        nxt = seq
        while through is None or nxt <= through:
            i = self._index_from(nxt)
            if i >= len(self._batches):
                return
            batch = self._batches[i]
            if through is not None and batch.first_seq > through:
                return
            start = max(0, nxt - batch.first_seq)
            stop = (
                batch.count if through is None else min(batch.count, through - batch.first_seq + 1)
            )
            part = slice_batch(batch, start, stop)
            nxt = part.last_seq + 1
            yield part

    def delete_through(self, seq: int) -> int:
        """Delete every stored sample with ``seq`` or earlier; returns how many were deleted."""
        i = self._index_from(seq + 1)  # first batch that keeps something
        deleted = self._cum[i - 1] if i else 0
        keep = self._batches[i:]
        if keep and keep[0].first_seq <= seq:
            skip = seq - keep[0].first_seq + 1
            keep[0] = slice_batch(keep[0], skip)
            deleted += skip
        if deleted:
            self._batches, self._firsts, self._cum = [], [], []
            self.add(keep)
        return deleted

    def to_frame(self) -> pd.DataFrame:
        """The canonical frame of everything stored, exactly as a decoder reconstructs it."""
        return batches_to_frame(self._batches)
