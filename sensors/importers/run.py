"""Importing files into the store: pick the importer, skip files already imported, commit whole.

Each file is one all-or-nothing ingest: a file that fails half-way leaves the store exactly as it
was, and the error names the file and where in it the problem is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sensors.errors import ImportFormatError
from sensors.importers.base import Importer, ImportOptions, ProgressCallback
from sensors.importers.registry import IMPORTERS
from sensors.store import IngestResult, Store

_HEAD_BYTES = 4096


@dataclass
class FileReport:
    """What importing one file did."""

    path: Path
    importer: str
    sha256: str
    already_imported: bool = False
    result: IngestResult = field(default_factory=IngestResult)
    decisions: dict[str, str] = field(default_factory=dict)


def file_sha256(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """SHA-256 of a file's content, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def importer_for(path: Path) -> Importer:
    """The registered importer that reads ``path``, or an error listing the known formats."""
    if not path.exists():
        raise ImportFormatError(f"{path}: no such file")
    if not path.is_file():
        raise ImportFormatError(f"{path}: not a regular file")
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES)
    for importer in IMPORTERS:
        if importer.sniff(path, head):
            return importer
    known = ", ".join(f"{i.name} ({' '.join(i.suffixes)})" for i in IMPORTERS)
    raise ImportFormatError(f"{path}: not a format psoas can import; known formats: {known}")


def import_file(
    store: Store,
    path: Path,
    options: ImportOptions,
    progress: ProgressCallback = lambda done, total: None,
) -> FileReport:
    """Import one file into ``store`` as one all-or-nothing ingest."""
    importer = importer_for(path)
    sha = file_sha256(path)
    report = FileReport(path, importer.name, sha)
    if store.imported_file(sha) is not None:
        report.already_imported = True
        return report
    next_seq: dict[str, int] = {}
    with store.ingest() as tx:
        last_recording = None
        for batch in importer.read(path, options, progress):
            if batch.samples is not None:
                samples = _numbered(
                    store, batch.samples, batch.recording.device.device_id, next_seq
                )
                tx.add_samples(batch.recording, samples)
            if batch.metrics is not None:
                tx.add_metrics(batch.recording, batch.metrics)
            last_recording = batch.recording
        tx.record_file(sha, str(path), last_recording)
    report.result = tx.result
    report.decisions = {k: v for k, v in vars(getattr(importer, "decisions", {})).items() if v}
    return report


def _numbered(
    store: Store, samples: pd.DataFrame, device_id: str, next_seq: dict[str, int]
) -> pd.DataFrame:
    """Give samples without a device counter seq numbers after the device's stored cursor."""
    if "seq" in samples.columns:
        return samples
    if device_id not in next_seq:
        cursor = store.cursor(device_id)
        next_seq[device_id] = 0 if cursor is None else cursor + 1
    start = next_seq[device_id]
    next_seq[device_id] = start + len(samples)
    return samples.assign(seq=pd.RangeIndex(start, start + len(samples)).to_numpy())
