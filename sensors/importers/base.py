"""The importer contract: one small protocol, one module per file format, one registry line each.

An importer answers two questions: can it read this file (:meth:`Importer.sniff`), and what does
the file hold (:meth:`Importer.read`, an iterator of :class:`Batch` so that large files stream in
constant memory). Storing, de-duplication and atomicity are the driver's job (``run.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd

from sensors.store import RecordingInfo

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes read so far, file size in bytes)."""


SENSOR_HEIGHT_RANGE_M = (0.2, 2.0)
"""Plausible heights of a sensor above the ground (m), for ``sensor_height_m``."""


@dataclass(frozen=True)
class ImportOptions:
    """What the user told ``psoas import`` about the files (None = detect or default)."""

    device_id: str | None = None
    placement: str = "unknown"
    tz: str = "UTC"
    sensor_height_m: float | None = None
    acc_unit: str | None = None  # "g" or "mps2"
    gyro_unit: str | None = None  # "dps" or "rads"


@dataclass
class Batch:
    """Part of a file's content for one recording.

    ``samples`` follow the IMU contract, except that ``seq`` may be absent when the file has no
    sample counter: the driver then numbers the samples after the device's stored cursor.
    """

    recording: RecordingInfo
    samples: pd.DataFrame | None = None
    metrics: pd.DataFrame | None = None


class Importer(Protocol):
    """One file format."""

    name: str
    suffixes: tuple[str, ...]
    # optional: ``max_file_bytes`` (int), the largest file the format reads, refused before it is
    # hashed or read, with ``too_big`` (str) saying why and what to do

    def sniff(self, path: Path, head: bytes) -> bool:
        """True if this importer reads ``path``, whose first bytes are ``head``."""
        ...

    def read(
        self, path: Path, options: ImportOptions, progress: ProgressCallback
    ) -> Iterator[Batch]:
        """The file's content, batch by batch; raise ImportFormatError naming where it broke."""
        ...
