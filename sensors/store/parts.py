"""Parquet parts: atomic writes (temp file, fsync, rename) and fast reads.

Encoding choices, measured in benchmarks/: ``t`` and ``seq`` use DELTA_BINARY_PACKED (regular
sampling makes them shrink to almost nothing); the float32 signals are noisy, so dictionary
encoding only costs time and LZ4 is kept as a cheap, fast compression.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sensors.schema import IMU_COLUMNS, IMU_DTYPES
from sensors.store.home import write_atomically

_DELTA_COLUMNS = ("t", "seq")


def write_part_atomically(path: Path, table: pa.Table) -> int:
    """Write ``table`` to ``path`` so that ``path`` either does not exist or holds all of it.

    The data goes to a temporary file in the same directory, is fsynced, renamed onto ``path`` and
    the directory is fsynced. Returns the size of the file in bytes. The caller records the part in
    the catalog afterwards: until then the file is debris that the next open removes.
    """
    encodings = {c: "DELTA_BINARY_PACKED" for c in _DELTA_COLUMNS if c in table.column_names}
    write_atomically(
        path,
        lambda handle: pq.write_table(
            table,
            handle,
            compression="lz4",
            use_dictionary=[c for c in table.column_names if c == "metric"],
            column_encoding=encodings or None,
            row_group_size=1 << 20,
            write_statistics=["t"] if "t" in table.column_names else False,
        ),
    )
    return path.stat().st_size


def read_parts(paths: list[Path], columns: list[str] | None = None) -> pa.Table | None:
    """Read and concatenate parts in the given order; ``None`` when ``paths`` is empty."""
    if not paths:
        return None
    tables = [pq.read_table(p, columns=columns, use_threads=True) for p in paths]
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def read_imu_parts(paths: list[Path], columns: list[str] | None = None) -> pd.DataFrame | None:
    """Read IMU parts, in order, straight into one preallocated numpy array per column.

    One column of one row group is decoded and copied into place at a time, so the peak is the
    result plus a few MB, not the result twice (a whole many-chunk Arrow table, then the
    consolidated copy ``to_pandas`` makes of it). Columns a part lacks (gyroscope) are NaN for
    its rows. ``None`` when ``paths`` is empty.
    """
    if not paths:
        return None
    files = [pq.ParquetFile(p) for p in paths]
    present = {name for f in files for name in f.schema_arrow.names}
    names = [c for c in (columns or IMU_COLUMNS) if c in present]
    out = {c: np.empty(sum(f.metadata.num_rows for f in files), IMU_DTYPES[c]) for c in names}
    pos = 0
    for f in files:
        for i in range(f.num_row_groups):
            rows = f.metadata.row_group(i).num_rows
            for c in names:
                if c not in f.schema_arrow.names:
                    out[c][pos : pos + rows] = np.nan
                    continue
                at = pos
                for chunk in f.read_row_group(i, columns=[c]).column(0).chunks:
                    out[c][at : at + len(chunk)] = chunk.to_numpy(zero_copy_only=True)
                    at += len(chunk)
            pos += rows
    return pd.DataFrame(out, copy=False)
