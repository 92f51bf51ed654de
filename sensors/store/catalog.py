"""The SQLite catalog: devices, recordings, parts, cursors, imported files, gaps, derived tables.

A Parquet part exists for psoas only once its row is committed here; that commit is the store's
commit point. The database runs in WAL mode with ``synchronous=FULL`` so a commit survives a crash.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sensors.errors import StoreError
from sensors.schema import DERIVED_TABLES
from sensors.store.home import FILE_MODE

SCHEMA_VERSION = 6
"""1: first store; 2: sitting analysis (bouts, posture runs, alerts, sitting daily summary);
3: trunk sit-to-stand transitions; 4: strides per source and pace-adjusted weekly strides;
5: the versioned routine log (entries, edits as new versions); 6: day previews (30 s means of
the raw acceleration, for the dashboard) and device-day indexes on the derived tables."""

ANALYSIS_CHANGED_IN = 4
"""The last schema version that changed the columns of :data:`ANALYSIS_TABLES`: stores older
than it drop them on upgrade (a full re-analysis); newer ones keep their results."""

ANALYSIS_TABLES = (
    "sitting_bouts",
    "posture_runs",
    "transitions",
    "alerts",
    "daily_summary",
    "strides",
    "weekly_stride",
    "day_preview",
)
"""Derived tables that ``psoas analyze`` recomputes from the raw data: an upgrade that changes
their columns drops them and asks for a full re-analysis. ``gaps`` (from ingest) and
``routine_log`` (the user's own entries) are never dropped."""

_SQL_TYPES = {"int64": "INTEGER", "float64": "REAL", "string": "TEXT", "bool": "INTEGER"}

CATALOG_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY,
    name TEXT,
    kind TEXT NOT NULL,
    tz TEXT NOT NULL,
    placement TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    last_sync_ns INTEGER
);
CREATE TABLE IF NOT EXISTS recordings (
    recording_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(device_id),
    source TEXT NOT NULL,
    placement TEXT NOT NULL,
    tz TEXT NOT NULL,
    sensor_height_m REAL,
    rate_hz REAL,
    clock_offset_ns INTEGER,
    created_ns INTEGER NOT NULL,
    first_t INTEGER,
    last_t INTEGER,
    samples INTEGER NOT NULL DEFAULT 0,
    metric_rows INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS parts (
    path TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('raw', 'metrics')),
    device_id TEXT NOT NULL,
    day TEXT NOT NULL,
    recording_id TEXT NOT NULL,
    first_seq INTEGER,
    last_seq INTEGER,
    first_t INTEGER NOT NULL,
    last_t INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    created_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS parts_by_device_day ON parts (device_id, kind, day);
CREATE INDEX IF NOT EXISTS parts_by_device_seq ON parts (device_id, kind, first_seq);
CREATE TABLE IF NOT EXISTS cursors (
    device_id TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS imported_files (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    recording_id TEXT,
    imported_ns INTEGER NOT NULL
);
"""


def derived_table_sql(name: str) -> str:
    """``CREATE TABLE`` for a derived table from its canonical columns (sensors/schema.py)."""
    columns = ", ".join(f'"{c}" {_SQL_TYPES[d]}' for c, d in DERIVED_TABLES[name].items())
    return f'CREATE TABLE IF NOT EXISTS "{name}" ({columns});'


def _migrate_routine_log(conn: sqlite3.Connection) -> None:
    """Bring a routine log of schema < 5 (``t, day, activity, minutes, pain_0_10, note``) into
    the versioned layout: each old row becomes a ``note`` entry that keeps every value (inside the
    upgrade's transaction, so nothing the user logged is lost)."""
    columns = [row[1] for row in conn.execute('PRAGMA table_info("routine_log")')]
    if "activity" not in columns:
        return
    conn.execute('ALTER TABLE "routine_log" RENAME TO "routine_log_v4"')
    conn.execute(derived_table_sql("routine_log"))
    conn.execute(
        'INSERT INTO "routine_log" (entry_id, version, t, day, program, kind, item, side, sets,'
        " reps, seconds, minutes, value, result, note, deleted, origin)"
        " SELECT 'legacy-' || rowid, 1, t, day, '', 'note', COALESCE(activity, ''), '', NULL,"
        " NULL, NULL, minutes, pain_0_10, '', COALESCE(note, ''), 0, 'migrated'"
        ' FROM "routine_log_v4"'
    )
    conn.execute('DROP TABLE "routine_log_v4"')


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed, mode 0600) the catalog at ``path`` and bring its schema up."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    try:
        conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"the store at {path.parent} was written by a newer psoas (catalog schema "
                f"{version}); upgrade psoas to read it"
            )
        if version < SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            for statement in CATALOG_TABLES.split(";"):
                if statement.strip():
                    conn.execute(statement)
            if 1 <= version < ANALYSIS_CHANGED_IN:  # recomputed by the next `psoas analyze`
                for name in ANALYSIS_TABLES:
                    conn.execute(f'DROP TABLE IF EXISTS "{name}"')
                conn.execute("DELETE FROM meta WHERE key LIKE 'analyzed_until_ns:%'")
            if 1 <= version < 5:
                _migrate_routine_log(conn)
            for name in DERIVED_TABLES:
                conn.execute(derived_table_sql(name))
                if {"device_id", "day"} <= set(DERIVED_TABLES[name]):
                    conn.execute(  # device-day reads (analysis, dashboard) without a full scan
                        f'CREATE INDEX IF NOT EXISTS "{name}_by_device_day" '
                        f'ON "{name}" (device_id, day)'
                    )
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise StoreError(
            f"the catalog {path} cannot be read ({exc}); restore it from a backup or move the "
            f"store aside and re-import"
        ) from exc
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.chmod(side, FILE_MODE)
    return conn
