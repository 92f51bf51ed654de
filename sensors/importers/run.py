"""Importing files into the store: pick the importer, skip files already imported, commit whole.

Each file is one all-or-nothing ingest: a file that fails half-way leaves the store exactly as it
was, and the error names the file and where in it the problem is.
"""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sensors.errors import ImportFormatError
from sensors.importers.base import Importer, ImportOptions, ProgressCallback
from sensors.importers.registry import IMPORTERS
from sensors.schema import validate_imu, validate_metrics
from sensors.store import IngestResult, Store

_HEAD_BYTES = 4096


@dataclass
class FileReport:
    """What importing one file did (or, for a dry run, would do)."""

    path: Path
    importer: str
    sha256: str
    already_imported: bool = False
    result: IngestResult = field(default_factory=IngestResult)
    decisions: dict[str, str] = field(default_factory=dict)
    first_t: int | None = None
    last_t: int | None = None

    def saw(self, frame: pd.DataFrame | None) -> None:
        """Widen the file's time span (UTC ns) by the rows of ``frame``."""
        if frame is None or frame.empty:
            return
        t = frame["t"].to_numpy()
        lo, hi = int(t.min()), int(t.max())
        self.first_t = lo if self.first_t is None else min(self.first_t, lo)
        self.last_t = hi if self.last_t is None else max(self.last_t, hi)


def expand_paths(paths: Sequence[Path]) -> list[tuple[Path, bool]]:
    """The files to import: each named file, every file under a named folder (recursively, in
    name order, hidden files left out) and every match of a glob pattern.

    Returns ``(path, named)`` pairs: a file the user named must be importable, a file found in
    a folder of an unknown format is only skipped.
    """
    found: dict[Path, bool] = {}
    for path in paths:
        text = str(path)
        if not path.exists() and any(ch in text for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True))
            if not matches:
                raise ImportFormatError(f"{text}: no file matches this pattern")
            for match in matches:
                if match.is_file():
                    found.setdefault(match, True)
        elif path.is_dir():
            for file in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in file.relative_to(path).parts)
                if file.is_file() and not hidden:
                    found.setdefault(file, False)
        else:
            found[path] = True
    return list(found.items())


def dry_run_file(
    path: Path,
    options: ImportOptions,
    store: Store | None = None,
    progress: ProgressCallback = lambda done, total: None,
) -> FileReport:
    """Read and validate ``path`` as an import would, without writing anything."""
    importer = importer_for(path)
    sha = file_sha256(path)
    report = FileReport(path, importer.name, sha)
    if store is not None and store.imported_file(sha) is not None:
        report.already_imported = True
        return report
    for batch in importer.read(path, options, progress):
        where = f"{path} (device {batch.recording.device.device_id})"
        report.result.devices.add(batch.recording.device.device_id)
        if batch.samples is not None:
            samples = batch.samples
            if "seq" not in samples.columns:
                samples = samples.assign(seq=range(len(samples)))
            report.result.new_samples += len(validate_imu(samples, where=where))
            report.saw(samples)
        if batch.metrics is not None:
            report.result.new_metric_rows += len(validate_metrics(batch.metrics, where=where))
            report.saw(batch.metrics)
    report.decisions = _decisions(importer)
    return report


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
            limit = getattr(importer, "max_file_bytes", None)
            if limit is not None and (size := path.stat().st_size) > limit:
                raise ImportFormatError(
                    f"{path}: byte {limit}: the file is {size / 2**20:,.0f} MiB, more than the "
                    f"{limit // 2**20} MiB psoas reads as {importer.name}; {importer.too_big}"
                )
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
            report.saw(batch.samples)
            report.saw(batch.metrics)
            last_recording = batch.recording
        tx.record_file(sha, str(path), last_recording)
    report.result = tx.result
    report.decisions = _decisions(importer)
    return report


def _decisions(importer: Importer) -> dict[str, str]:
    """What the importer detected or decided about the last file, for the user's report."""
    decisions = getattr(importer, "decisions", None)
    if decisions is None:
        return {}
    items = decisions.items() if isinstance(decisions, dict) else vars(decisions).items()
    return {k: str(v) for k, v in items if v}


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
