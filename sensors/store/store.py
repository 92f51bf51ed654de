"""The store: raw Parquet parts partitioned by device and local day, and the SQLite catalog.

Write path (see DESIGN.md, "The store"): an :class:`Ingest` writes each part to a temporary file,
fsyncs and renames it, and only on :meth:`Ingest.commit` records every part, cursor, gap, device,
recording and imported-file hash in ONE catalog transaction. That transaction is the commit point:
an ingest that fails or is killed leaves files without catalog rows, which :meth:`Store.open`
removes, so the store is exactly as it was. Samples whose ``seq`` falls in a range that is already
stored are dropped, which makes re-ingesting the same data a no-op (exactly-once).

Writers hold an exclusive ``flock`` on ``<home>/lock`` while they write; opening the store removes
debris only when it can take that lock, so it never deletes the files of a live writer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import itertools
import os
import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sensors.errors import SchemaError, StoreBusyError, StoreError, UsageError
from sensors.schema import (
    DERIVED_TABLES,
    IMU_COLUMNS,
    PLACEMENTS,
    empty_table,
    validate_imu,
    validate_metrics,
)
from sensors.store import catalog
from sensors.store.home import TMP_PREFIX, make_private_dir, resolve_home
from sensors.store.parts import (
    read_imu_parts,
    read_parts,
    write_part_atomically,
)
from sensors.timeutil import split_by_local_day, zone

RAW_DIR = "raw"
METRICS_DIR = "metrics"
CATALOG_FILE = "catalog.sqlite"
LOCK_FILE = "lock"
_DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _now_ns() -> int:
    return time.time_ns()


@dataclass(frozen=True)
class DeviceInfo:
    """A device as the catalog knows it. ``tz`` is the IANA zone its local days are cut in."""

    device_id: str
    tz: str
    placement: str = "unknown"
    kind: str = "imu"
    name: str | None = None

    def __post_init__(self) -> None:
        if not _DEVICE_ID.match(self.device_id):
            raise UsageError(
                f"device id {self.device_id!r} is not usable: use 1-64 letters, digits, '.', '_' "
                f"or '-', starting with a letter or digit"
            )
        if self.placement not in PLACEMENTS:
            raise UsageError(
                f"placement {self.placement!r} is unknown; use one of {', '.join(PLACEMENTS)}"
            )
        zone(self.tz)


@dataclass(frozen=True)
class RecordingInfo:
    """One import or sync session of a device: where the data came from and how it was worn."""

    device: DeviceInfo
    source: str
    placement: str | None = None
    sensor_height_m: float | None = None
    rate_hz: float | None = None
    clock_offset_ns: int | None = None
    """Host time minus device time (ns) estimated at connection, for devices with a clock."""
    recording_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])

    @property
    def worn_at(self) -> str:
        return self.placement or self.device.placement


@dataclass
class IngestResult:
    """What an ingest changed, for the user's report."""

    new_samples: int = 0
    duplicate_samples: int = 0
    new_metric_rows: int = 0
    parts: int = 0
    gaps: int = 0
    missing_samples: int = 0
    devices: set[str] = field(default_factory=set)
    days: set[str] = field(default_factory=set)


@dataclass
class _PendingPart:
    path: Path
    kind: str
    device_id: str
    day: str
    recording_id: str
    first_seq: int | None
    last_seq: int | None
    first_t: int
    last_t: int
    rows: int
    bytes: int


class _SeqRanges:
    """The sorted, disjoint ``[first, last]`` seq ranges already stored for one device."""

    def __init__(self, firsts: list[int], lasts: list[int], last_t: list[int]) -> None:
        order = np.argsort(np.asarray(firsts, dtype=np.int64), kind="stable")
        self.firsts = np.asarray(firsts, dtype=np.int64)[order]
        self.lasts = np.asarray(lasts, dtype=np.int64)[order]
        self.last_t = np.asarray(last_t, dtype=np.int64)[order]

    def preceding(self, seq: np.ndarray) -> np.ndarray:
        """Index of the stored range starting at or before each seq (-1 if none)."""
        return np.searchsorted(self.firsts, seq, side="right") - 1

    def covered(self, seq: np.ndarray) -> np.ndarray:
        """Which of the sorted ``seq`` fall inside a stored range (one bool per sample).

        A binary search per stored range finds its rows, so no per-sample index array is built.
        """
        inside = np.zeros(len(seq), dtype=bool)
        lo = np.searchsorted(seq, self.firsts, side="left")
        hi = np.searchsorted(seq, self.lasts, side="right")
        hit = lo < hi
        for a, b in zip(lo[hit].tolist(), hi[hit].tolist(), strict=True):
            inside[a:b] = True
        return inside

    def cuts(self, seq: np.ndarray) -> list[int]:
        """Positions in the sorted ``seq`` where a stored range starts (0 < position < len)."""
        at = np.searchsorted(seq, self.firsts, side="left")
        return np.unique(at[(at > 0) & (at < len(seq))]).tolist()

    def add(self, first: int, last: int, last_t: int) -> None:
        pos = int(np.searchsorted(self.firsts, first))
        self.firsts = np.insert(self.firsts, pos, first)
        self.lasts = np.insert(self.lasts, pos, last)
        self.last_t = np.insert(self.last_t, pos, last_t)

    def cursor(self) -> tuple[int, int] | None:
        """(last stored seq, its time) of the highest range, or None when nothing is stored."""
        if len(self.lasts) == 0:
            return None
        return int(self.lasts[-1]), int(self.last_t[-1])


class Store:
    """A psoas store rooted at ``home``. Open it with :meth:`Store.open`."""

    def __init__(self, home: Path, conn: sqlite3.Connection) -> None:
        self.home = home
        self._conn = conn
        self._lock_path = home / LOCK_FILE

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, home: str | os.PathLike[str] | None = None) -> Store:
        """Open (creating if needed) the store and remove debris left by an interrupted write."""
        root = resolve_home(home)
        if root.exists() and not root.is_dir():
            raise StoreError(f"{root} is a file, not a store directory; choose another --home")
        make_private_dir(root)
        store = cls(root, catalog.connect(root / CATALOG_FILE))
        with contextlib.suppress(StoreBusyError), store._writer_lock(wait_s=0):
            store._remove_debris()
        return store

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _writer_lock(self, wait_s: float = 60.0) -> Iterator[None]:
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                        raise StoreBusyError(
                            f"the store {self.home} is being written by another psoas process "
                            f"(pid {holder}); wait for it to finish and try again"
                        ) from None
                    time.sleep(0.05)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _remove_debris(self) -> list[Path]:
        """Delete part files that no catalog row names (and temp files); return what went."""
        known = {row[0] for row in self._conn.execute("SELECT path FROM parts")}
        removed: list[Path] = []
        for top in (RAW_DIR, METRICS_DIR):
            base = self.home / top
            if not base.exists():
                continue
            for path in sorted(base.rglob("*"), reverse=True):
                if path.is_dir():
                    with contextlib.suppress(OSError):
                        path.rmdir()  # only succeeds when empty
                    continue
                rel = path.relative_to(self.home).as_posix()
                if path.name.startswith(TMP_PREFIX) or rel not in known:
                    path.unlink(missing_ok=True)
                    removed.append(path)
        return removed

    # -- writing ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def ingest(self) -> Iterator[Ingest]:
        """All-or-nothing ingest: commits on normal exit, else leaves the store as it was."""
        with self._writer_lock():
            tx = Ingest(self)
            try:
                yield tx
                tx.commit()
            except BaseException:
                tx.rollback()
                raise

    def replace_derived(
        self, table: str, frame: pd.DataFrame, where: Mapping[str, Any] | None = None
    ) -> None:
        """Replace the rows of derived ``table`` selected by ``where`` with ``frame``, atomically.

        ``where`` maps a column to a value (equality) or to a ``(low, high)`` pair (half-open
        range); with no ``where`` the whole table is replaced.
        """
        self.replace_derived_tables([(table, frame, where)])

    def replace_derived_tables(
        self, changes: Sequence[tuple[str, pd.DataFrame, Mapping[str, Any] | None]]
    ) -> None:
        """Several :meth:`replace_derived` in one transaction: all of them or none."""
        statements = []
        for table, frame, where in changes:
            clause, params = _where_sql(where or {}, _derived_columns(table))
            statements.append(
                (f'DELETE FROM "{table}"{clause}', params, *_insert_sql(table, frame))
            )
        self._write_derived(statements)

    def append_derived(self, table: str, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` to derived ``table`` in one transaction (the routine log
        is append-only: an edit is a new version of its entry, the old one stays)."""
        self._write_derived([(None, (), *_insert_sql(table, frame))])

    def _write_derived(self, statements: list[tuple[str | None, tuple, str, pd.DataFrame]]) -> None:
        with self._writer_lock():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for delete, params, insert, rows in statements:
                    if delete is not None:
                        self._conn.execute(delete, params)
                    self._conn.executemany(insert, rows.itertuples(index=False, name=None))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    # -- reading ---------------------------------------------------------------------------------
    def device(self, device_id: str) -> DeviceInfo | None:
        row = self._conn.execute(
            "SELECT device_id, tz, placement, kind, name FROM devices WHERE device_id = ?",
            (device_id,),
        ).fetchone()
        return DeviceInfo(*row) if row else None

    def devices(self) -> pd.DataFrame:
        return self._query("SELECT * FROM devices ORDER BY device_id")

    def recordings(self, device_id: str | None = None) -> pd.DataFrame:
        sql = "SELECT * FROM recordings"
        params: tuple[Any, ...] = ()
        if device_id is not None:
            sql += " WHERE device_id = ?"
            params = (device_id,)
        return self._query(sql + " ORDER BY first_t", params)

    def days(self, device_id: str, kind: str = "raw") -> list[str]:
        """The local days (YYYY-MM-DD) for which ``device_id`` has data of ``kind``."""
        rows = self._conn.execute(
            "SELECT DISTINCT day FROM parts WHERE device_id = ? AND kind = ? ORDER BY day",
            (device_id, kind),
        )
        return [r[0] for r in rows]

    def changed_days(self, device_id: str, since_ns: int) -> list[str]:
        """Local days of ``device_id`` that received data committed at or after ``since_ns``."""
        rows = self._conn.execute(
            "SELECT DISTINCT day FROM parts WHERE device_id = ? AND created_ns >= ? ORDER BY day",
            (device_id, since_ns),
        )
        return [r[0] for r in rows]

    def get_meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._writer_lock():
            self._conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def gaps(
        self, device_id: str, start_ns: int | None = None, end_ns: int | None = None
    ) -> pd.DataFrame:
        """Recorded device-side gaps of ``device_id`` overlapping ``[start_ns, end_ns)``."""
        where: dict[str, Any] = {"device_id": device_id}
        frame = self.read_table("gaps", where)
        if start_ns is not None:
            frame = frame[frame["end"] >= start_ns]
        if end_ns is not None:
            frame = frame[frame["start"] < end_ns]
        return frame.reset_index(drop=True)

    def cursor(self, device_id: str) -> int | None:
        """The last persisted seq of ``device_id`` (the sync cursor), or None."""
        row = self._conn.execute(
            "SELECT last_seq FROM cursors WHERE device_id = ?", (device_id,)
        ).fetchone()
        return None if row is None else int(row[0])

    def cursor_time(self, device_id: str) -> int | None:
        """``t`` of the stored sample at the sync cursor (the highest stored seq), or None."""
        row = self._conn.execute(
            "SELECT last_t FROM parts WHERE device_id = ? AND kind = 'raw'"
            " ORDER BY first_seq DESC LIMIT 1",  # disjoint ranges: the index gives the last
            (device_id,),
        ).fetchone()
        return None if row is None else int(row[0])

    def imported_file(self, sha256: str) -> dict[str, Any] | None:
        """The catalog row of an already-imported file with this content hash, or None."""
        cur = self._conn.execute("SELECT * FROM imported_files WHERE sha256 = ?", (sha256,))
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cur.description], row, strict=True))

    def read_samples(
        self,
        device_id: str,
        *,
        day: str | dt.date | None = None,
        start_ns: int | None = None,
        end_ns: int | None = None,
        columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """Raw IMU samples of one device, in time order, with the canonical dtypes.

        Time order, not seq order: files imported without a device counter get seq numbers in
        the order they were imported, so an earlier file imported later has the higher seq.

        Select a local ``day`` (in the device's zone) and/or a half-open UTC range
        ``[start_ns, end_ns)``. Gyroscope columns are present when any part has them (NaN where a
        part has none).
        """
        return self._read_kind("raw", device_id, day, start_ns, end_ns, columns)

    def iter_sample_days(self, device_id: str) -> Iterator[tuple[str, pd.DataFrame]]:
        """(day, samples) for each local day of ``device_id``: one day in memory at a time."""
        for day in self.days(device_id):
            yield day, self.read_samples(device_id, day=day)

    def read_metrics(
        self,
        device_id: str,
        *,
        day: str | dt.date | None = None,
        start_ns: int | None = None,
        end_ns: int | None = None,
    ) -> pd.DataFrame:
        """Device metrics (long format ``t, metric, value``) of one device, sorted by time."""
        frame = self._read_kind("metrics", device_id, day, start_ns, end_ns, None)
        return frame.sort_values("t", kind="stable", ignore_index=True)

    def read_table(
        self, table: str, where: Mapping[str, Any] | None = None, *, every: int = 1
    ) -> pd.DataFrame:
        """A derived table (sensors/schema.py ``DERIVED_TABLES``) with its canonical dtypes;
        ``every`` > 1 keeps one stored row in ``every`` (a thinned sample for display)."""
        columns = _derived_columns(table)
        clause, params = _where_sql(where or {}, columns)
        if every > 1:
            clause += (" AND" if clause else " WHERE") + f" rowid % {int(every)} = 0"
        order = next((c for c in ("t", "start", "day", "week") if c in columns), columns[0])
        frame = self._query(f'SELECT * FROM "{table}"{clause} ORDER BY "{order}"', params)
        if frame.empty:
            return empty_table(table)
        return frame[list(columns)].astype(DERIVED_TABLES[table])

    def status(self) -> dict[str, Any]:
        """Devices, recordings, days, last sync and store size, for ``psoas status``."""
        per_device = self._query(
            """
            SELECT d.device_id, d.kind, d.placement, d.tz, d.last_sync_ns,
                   (SELECT COUNT(*) FROM recordings r WHERE r.device_id = d.device_id)
                       AS recordings,
                   (SELECT COUNT(DISTINCT day) FROM parts p WHERE p.device_id = d.device_id)
                       AS days,
                   (SELECT COALESCE(SUM(rows), 0) FROM parts p
                       WHERE p.device_id = d.device_id AND p.kind = 'raw') AS samples,
                   (SELECT COALESCE(SUM(rows), 0) FROM parts p
                       WHERE p.device_id = d.device_id AND p.kind = 'metrics') AS metric_rows,
                   (SELECT MIN(first_t) FROM parts p WHERE p.device_id = d.device_id) AS first_t,
                   (SELECT MAX(last_t) FROM parts p WHERE p.device_id = d.device_id) AS last_t,
                   (SELECT last_seq FROM cursors c WHERE c.device_id = d.device_id) AS cursor
            FROM devices d ORDER BY d.device_id
            """
        )
        return {
            "home": str(self.home),
            "size_bytes": store_size_on_disk(self.home),
            "devices": per_device,
        }

    # -- internals -------------------------------------------------------------------------------
    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> pd.DataFrame:
        cur = self._conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=names)

    def _read_kind(
        self,
        kind: str,
        device_id: str,
        day: str | dt.date | None,
        start_ns: int | None,
        end_ns: int | None,
        columns: list[str] | None,
    ) -> pd.DataFrame:
        sql = "SELECT path FROM parts WHERE device_id = ? AND kind = ?"
        params: list[Any] = [device_id, kind]
        if day is not None:
            sql += " AND day = ?"
            params.append(str(day))
        if start_ns is not None:
            sql += " AND last_t >= ?"
            params.append(start_ns)
        if end_ns is not None:
            sql += " AND first_t < ?"
            params.append(end_ns)
        order = "first_t, first_seq" if kind == "raw" else "first_t"
        paths = [self.home / r[0] for r in self._conn.execute(f"{sql} ORDER BY {order}", params)]
        try:
            if kind == "raw":
                frame = read_imu_parts(paths, columns)
            else:
                table = read_parts(paths, columns)
                frame = None if table is None else table.to_pandas()
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(
                f"cannot read a part of device {device_id} in {self.home}: {exc}; the store is "
                f"damaged — restore it from a backup or re-import the device's files"
            ) from exc
        if frame is None:
            return _empty_kind(kind, columns)
        if kind == "metrics":
            frame["metric"] = frame["metric"].astype("string")
        t = frame["t"].to_numpy()
        if kind == "raw" and len(t) > 1 and (np.diff(t) < 0).any():  # parts overlapping in time
            frame = frame.iloc[np.argsort(t, kind="stable")].reset_index(drop=True)
            t = frame["t"].to_numpy()
        mask = np.ones(len(frame), dtype=bool)
        if start_ns is not None:
            mask &= t >= start_ns
        if end_ns is not None:
            mask &= t < end_ns
        if not mask.all():
            frame = frame[mask].reset_index(drop=True)
        return frame


class Ingest:
    """One all-or-nothing write to the store; get it from :meth:`Store.ingest`."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._conn = store._conn
        self._parts: list[_PendingPart] = []
        self._created_dirs: list[Path] = []
        self._ranges: dict[str, _SeqRanges] = {}
        self._recordings: dict[str, RecordingInfo] = {}
        self._gaps: list[tuple[str, int, int, int, int, str]] = []
        self._files: list[tuple[str, str, str]] = []
        self.result = IngestResult()

    def add_samples(self, recording: RecordingInfo, frame: pd.DataFrame) -> int:
        """Stage IMU samples of ``recording``; returns how many were new (not already stored).

        Seq jumps (device-side losses) become rows of the ``gaps`` table; they are never filled.
        """
        device = self._device(recording)
        where = f"{recording.source} (device {device.device_id})"
        frame = validate_imu(frame, where=where)
        if frame.empty:
            return 0
        ranges = self._seq_ranges(device.device_id)
        seq = frame["seq"].to_numpy()
        t = frame["t"].to_numpy()
        self._record_gaps(device.device_id, ranges, seq, t)
        keep = ~ranges.covered(seq)
        self.result.duplicate_samples += int((~keep).sum())
        if not keep.any():
            return 0
        if not keep.all():
            frame = frame[keep].reset_index(drop=True)
            seq, t = seq[keep], t[keep]
        # A part's seq range must not straddle a stored range: group rows by the stored range
        # that precedes them, then cut each group at local midnight.
        bounds = [0, *ranges.cuts(seq), len(seq)]
        for lo, hi in itertools.pairwise(bounds):
            for day, a, b in split_by_local_day(t[lo:hi], device.tz):
                self._write_raw_part(recording, day, frame.iloc[lo + a : lo + b])
        self.result.new_samples += len(seq)
        return len(seq)

    def add_metrics(self, recording: RecordingInfo, frame: pd.DataFrame) -> int:
        """Stage long-format device metrics of ``recording``; returns the number of rows."""
        device = self._device(recording)
        frame = validate_metrics(frame, where=f"{recording.source} (device {device.device_id})")
        if frame.empty:
            return 0
        frame = frame.sort_values("t", kind="stable", ignore_index=True)
        t = frame["t"].to_numpy()
        for day, a, b in split_by_local_day(t, device.tz):
            chunk = frame.iloc[a:b]
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            name = f"part-{int(t[a])}-{uuid.uuid4().hex[:8]}.parquet"
            self._write_part(recording, "metrics", day, name, table, None, None, t[a], t[b - 1])
        self.result.new_metric_rows += len(frame)
        return len(frame)

    def add_gap(
        self,
        device_id: str,
        start_ns: int,
        end_ns: int,
        first_missing_seq: int,
        missing_count: int,
        reason: str,
    ) -> None:
        """Record a stretch the device itself lost (never filled in)."""
        self._gaps.append((device_id, start_ns, end_ns, first_missing_seq, missing_count, reason))
        self.result.gaps += 1
        self.result.missing_samples += missing_count

    def record_file(self, sha256: str, path: str, recording: RecordingInfo | None) -> None:
        """Remember an imported file's content hash so importing it again is a no-op."""
        self._files.append((sha256, path, recording.recording_id if recording else ""))

    def commit(self) -> None:
        """Record everything staged in one catalog transaction (the commit point)."""
        if not (self._parts or self._gaps or self._files):
            return  # nothing new: a true no-op, the catalog is not touched
        now = _now_ns()
        conn = self._conn
        touched = {p.device_id for p in self._parts if p.kind == "raw"}
        conn.execute("BEGIN IMMEDIATE")
        try:
            for rec in self._recordings.values():
                dev = rec.device
                mine = [p for p in self._parts if p.recording_id == rec.recording_id]
                if not mine:
                    continue
                conn.execute(
                    "INSERT INTO devices (device_id, name, kind, tz, placement, created_ns,"
                    " last_sync_ns) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(device_id) DO UPDATE SET last_sync_ns = excluded.last_sync_ns",
                    (dev.device_id, dev.name, dev.kind, dev.tz, dev.placement, now, now),
                )
                raw = [p for p in mine if p.kind == "raw"]
                first_t = min((p.first_t for p in mine), default=None)
                last_t = max((p.last_t for p in mine), default=None)
                conn.execute(
                    "INSERT INTO recordings (recording_id, device_id, source, placement, tz,"
                    " sensor_height_m, rate_hz, clock_offset_ns, created_ns, first_t, last_t,"
                    " samples, metric_rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(recording_id) DO UPDATE SET"
                    " first_t = MIN(COALESCE(first_t, excluded.first_t), excluded.first_t),"
                    " last_t = MAX(COALESCE(last_t, excluded.last_t), excluded.last_t),"
                    " samples = samples + excluded.samples,"
                    " metric_rows = metric_rows + excluded.metric_rows",
                    (
                        rec.recording_id,
                        dev.device_id,
                        rec.source,
                        rec.worn_at,
                        dev.tz,
                        rec.sensor_height_m,
                        rec.rate_hz,
                        rec.clock_offset_ns,
                        now,
                        first_t,
                        last_t,
                        sum(p.rows for p in raw),
                        sum(p.rows for p in mine if p.kind == "metrics"),
                    ),
                )
            conn.executemany(
                "INSERT INTO parts (path, kind, device_id, day, recording_id, first_seq, last_seq,"
                " first_t, last_t, rows, bytes, created_ns)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        p.path.relative_to(self._store.home).as_posix(),
                        p.kind,
                        p.device_id,
                        p.day,
                        p.recording_id,
                        p.first_seq,
                        p.last_seq,
                        p.first_t,
                        p.last_t,
                        p.rows,
                        p.bytes,
                        now,
                    )
                    for p in self._parts
                ],
            )
            for device_id in sorted(touched):
                cursor = self._ranges[device_id].cursor()
                if cursor is not None:
                    conn.execute(
                        "INSERT INTO cursors (device_id, last_seq, updated_ns) VALUES (?, ?, ?)"
                        " ON CONFLICT(device_id) DO UPDATE SET last_seq = excluded.last_seq,"
                        " updated_ns = excluded.updated_ns",
                        (device_id, cursor[0], now),
                    )
            conn.executemany(
                'INSERT INTO gaps (device_id, start, "end", first_missing_seq, missing_count,'
                " reason) VALUES (?, ?, ?, ?, ?, ?)",
                self._gaps,
            )
            conn.executemany(
                "INSERT OR IGNORE INTO imported_files (sha256, path, recording_id, imported_ns)"
                " VALUES (?, ?, ?, ?)",
                [(*f, now) for f in self._files],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._parts.clear()
        self._created_dirs.clear()

    def rollback(self) -> None:
        """Delete every file this ingest wrote and every directory it created."""
        for part in self._parts:
            part.path.unlink(missing_ok=True)
        for directory in sorted(self._created_dirs, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                directory.rmdir()
        self._parts.clear()
        self._created_dirs.clear()

    # -- internals -------------------------------------------------------------------------------
    def _device(self, recording: RecordingInfo) -> DeviceInfo:
        known = self._store.device(recording.device.device_id)
        if known is not None and known.tz != recording.device.tz:
            raise UsageError(
                f"device {known.device_id} is stored with time zone {known.tz}, not "
                f"{recording.device.tz}; pass --tz {known.tz} or import under another --device"
            )
        self._recordings.setdefault(recording.recording_id, recording)
        self.result.devices.add(recording.device.device_id)
        return recording.device

    def _seq_ranges(self, device_id: str) -> _SeqRanges:
        if device_id not in self._ranges:
            rows = self._conn.execute(
                "SELECT first_seq, last_seq, last_t FROM parts"
                " WHERE device_id = ? AND kind = 'raw'",
                (device_id,),
            ).fetchall()
            self._ranges[device_id] = _SeqRanges(
                [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
            )
        return self._ranges[device_id]

    def _record_gaps(
        self, device_id: str, ranges: _SeqRanges, seq: np.ndarray, t: np.ndarray
    ) -> None:
        """Seq jumps inside the batch, or between the stored cursor and the batch, are gaps."""
        cursor = ranges.cursor()
        if cursor is not None and seq[0] > cursor[0] + 1:
            self.add_gap(
                device_id,
                cursor[1],
                int(t[0]),
                cursor[0] + 1,
                int(seq[0]) - cursor[0] - 1,
                "device did not deliver",
            )
        if int(seq[-1]) - int(seq[0]) == len(seq) - 1:
            return  # seq strictly increases, so first-to-last equal to the count means no jump
        jumps = np.flatnonzero(np.diff(seq) > 1)
        if len(jumps) == 0:
            return
        first_missing = seq[jumps] + 1
        new = ~ranges.covered(first_missing)
        for j in jumps[new]:
            self.add_gap(
                device_id,
                int(t[j]),
                int(t[j + 1]),
                int(seq[j]) + 1,
                int(seq[j + 1] - seq[j]) - 1,
                "device did not deliver",
            )

    def _write_raw_part(self, recording: RecordingInfo, day: dt.date, chunk: pd.DataFrame) -> None:
        seq = chunk["seq"].to_numpy()
        t = chunk["t"].to_numpy()
        first, last = int(seq[0]), int(seq[-1])
        cols = [c for c in IMU_COLUMNS if c in chunk.columns]
        table = pa.Table.from_arrays([pa.array(chunk[c].to_numpy()) for c in cols], names=cols)
        name = f"part-{first}-{last}.parquet"
        self._write_part(recording, "raw", day, name, table, first, last, t[0], t[-1])
        self._seq_ranges(recording.device.device_id).add(first, last, int(t[-1]))

    def _write_part(
        self,
        recording: RecordingInfo,
        kind: str,
        day: dt.date,
        name: str,
        table: pa.Table,
        first_seq: int | None,
        last_seq: int | None,
        first_t: int,
        last_t: int,
    ) -> None:
        device_id = recording.device.device_id
        top = RAW_DIR if kind == "raw" else METRICS_DIR
        directory = self._store.home / top / f"device={device_id}" / f"date={day.isoformat()}"
        self._created_dirs.extend(make_private_dir(directory))
        path = directory / name
        if path.exists():
            raise StoreError(
                f"{path} exists but the catalog does not list it; run any psoas command once "
                f"with no other psoas running to clean up, then retry"
            )
        size = write_part_atomically(path, table)
        self._parts.append(
            _PendingPart(
                path,
                kind,
                device_id,
                day.isoformat(),
                recording.recording_id,
                first_seq,
                last_seq,
                int(first_t),
                int(last_t),
                table.num_rows,
                size,
            )
        )
        self.result.parts += 1
        self.result.days.add(day.isoformat())


def _empty_kind(kind: str, columns: list[str] | None) -> pd.DataFrame:
    if kind == "metrics":
        return pd.DataFrame(
            {"t": pd.Series(dtype="int64"), "metric": pd.Series(dtype="string"), "value": []}
        ).astype({"value": "float64"})
    names = columns or ["t", "seq", "ax", "ay", "az"]
    dtypes = {"t": "int64", "seq": "int64"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, "float32")) for c in names})


def _derived_columns(table: str) -> tuple[str, ...]:
    if table not in DERIVED_TABLES:
        raise UsageError(f"unknown table {table!r}; known tables: {', '.join(DERIVED_TABLES)}")
    return tuple(DERIVED_TABLES[table])


def _insert_sql(table: str, frame: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """``INSERT`` of derived ``table``'s canonical columns and ``frame``'s rows (NaN as NULL)."""
    columns = list(_derived_columns(table))
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(f"table {table}: missing column(s) {', '.join(missing)}")
    rows = frame[columns].astype(object).where(frame[columns].notna(), None)
    quoted = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    return f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', rows


def _where_sql(where: Mapping[str, Any], columns: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
    terms, params = [], []
    for col, value in where.items():
        if col not in columns:
            raise UsageError(f"no column {col!r} to select on")
        if isinstance(value, tuple):
            terms.append(f'"{col}" >= ? AND "{col}" < ?')
            params.extend(value)
        else:
            terms.append(f'"{col}" = ?')
            params.append(value)
    return (" WHERE " + " AND ".join(terms) if terms else ""), tuple(params)


def store_size_on_disk(home: Path) -> int:
    """Bytes used by every file under ``home``."""
    return sum(p.stat().st_size for p in home.rglob("*") if p.is_file())


def store_exists(home: Path) -> bool:
    """True if ``home`` holds a psoas store (its catalog)."""
    return (home / CATALOG_FILE).exists()


def remove_store(home: Path) -> None:
    """Delete a whole store directory (used for the demo's fresh home)."""
    if (home / CATALOG_FILE).exists():
        shutil.rmtree(home)
