"""Parquet parts: atomic writes (temp file, fsync, rename) and fast reads.

Encoding choices, measured in benchmarks/: ``t`` and ``seq`` use DELTA_BINARY_PACKED (regular
sampling makes them shrink to almost nothing); the float32 signals are noisy, so dictionary
encoding only costs time and LZ4 is kept as a cheap, fast compression.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sensors.store.home import FILE_MODE, fsync_dir

TMP_PREFIX = ".tmp-"
_DELTA_COLUMNS = ("t", "seq")


def write_part_atomically(path: Path, table: pa.Table) -> int:
    """Write ``table`` to ``path`` so that ``path`` either does not exist or holds all of it.

    The data goes to a temporary file in the same directory, is fsynced, renamed onto ``path`` and
    the directory is fsynced. Returns the size of the file in bytes. The caller records the part in
    the catalog afterwards: until then the file is debris that the next open removes.
    """
    tmp = path.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex}.parquet")
    encodings = {c: "DELTA_BINARY_PACKED" for c in _DELTA_COLUMNS if c in table.column_names}
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            pq.write_table(
                table,
                handle,
                compression="lz4",
                use_dictionary=[c for c in table.column_names if c == "metric"],
                column_encoding=encodings or None,
                row_group_size=1 << 20,
                write_statistics=["t"] if "t" in table.column_names else False,
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path.stat().st_size


def read_parts(paths: list[Path], columns: list[str] | None = None) -> pa.Table | None:
    """Read and concatenate parts in the given order; ``None`` when ``paths`` is empty."""
    if not paths:
        return None
    tables = [pq.read_table(p, columns=columns, use_threads=True) for p in paths]
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]
