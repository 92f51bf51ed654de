"""``psoas export``: any table to CSV or Parquet, to a file (written atomically) or stdout.

Raw samples are streamed one device-day at a time, so exporting a month never loads the month.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sensors.errors import UsageError
from sensors.schema import DERIVED_TABLES, EXPORT_TABLES, IMU_COLUMNS
from sensors.store import Store

FORMATS = ("csv", "parquet")


def table_frames(store: Store, table: str, device: str | None) -> Iterator[pd.DataFrame]:
    """The rows of ``table`` as a stream of frames (one per device-day for raw and metrics)."""
    if table not in EXPORT_TABLES:
        raise UsageError(f"unknown table {table!r}; choose one of {', '.join(EXPORT_TABLES)}")
    devices = list(store.devices()["device_id"])
    if device is not None:
        if device not in devices:
            raise UsageError(f"no device {device!r} in the store; `psoas status` lists them")
        devices = [device]
    if table == "raw":
        for dev in devices:
            for day in store.days(dev):
                frame = store.read_samples(dev, day=day)
                for col in IMU_COLUMNS:
                    if col not in frame.columns:
                        frame[col] = pd.Series(float("nan"), index=frame.index, dtype="float32")
                yield frame[list(IMU_COLUMNS)].assign(device_id=dev)[["device_id", *IMU_COLUMNS]]
    elif table == "metrics":
        for dev in devices:
            for day in store.days(dev, kind="metrics"):
                frame = store.read_metrics(dev, day=day)
                yield frame.assign(device_id=dev)[["t", "device_id", "metric", "value"]]
    else:
        where = {"device_id": device} if device and "device_id" in DERIVED_TABLES[table] else None
        yield store.read_table(table, where)


def export(store: Store, table: str, fmt: str, out: str, device: str | None = None) -> int:
    """Write ``table`` as ``fmt`` to path ``out`` ('-' = stdout); return the number of rows."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; choose csv or parquet")
    frames = table_frames(store, table, device)
    return write_output(out, store.home, lambda sink: _write(frames, fmt, sink, table))


def _check_outside_store(out: str, home: Path) -> None:
    """Refuse an output path inside the store: writing there could replace the store's own
    files (``--out HOME/catalog.sqlite`` would destroy it)."""
    if out == "-":
        return
    target, root = Path(out).resolve(), Path(home).resolve()
    if target == root or root in target.parents:
        raise UsageError(
            f"--out {out} is inside the store {home}; write exports outside it (the store's "
            f"files are psoas' own)"
        )


def write_output(out: str, home: Path, write: Callable[[BinaryIO], int]) -> int:
    """Run ``write`` on stdout (``out`` '-') or on file ``out``, which then holds all of the
    output or, when ``write`` fails, stays as it was; returns what ``write`` returns. ``out``
    inside the store ``home`` is refused before anything is written."""
    _check_outside_store(out, home)
    if out == "-":
        return write(sys.stdout.buffer)
    target = Path(out)
    tmp = target.with_name(f".{target.name}.partial")
    try:
        with open(tmp, "wb") as handle:
            result = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return result


def _write(frames: Iterator[pd.DataFrame], fmt: str, sink: BinaryIO, table: str) -> int:
    rows = 0
    writer: pq.ParquetWriter | None = None
    first = True
    for frame in frames:
        if fmt == "csv":
            sink.write(frame.to_csv(index=False, header=first, lineterminator="\n").encode())
        else:
            arrow = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(sink, arrow.schema, compression="zstd")
            writer.write_table(arrow.cast(writer.schema))
        rows += len(frame)
        first = False
    if fmt == "csv" and first:
        header = _empty_columns(table)
        sink.write((",".join(header) + "\n").encode())
    if fmt == "parquet":
        if writer is None:
            empty = pd.DataFrame({c: [] for c in _empty_columns(table)})
            writer = pq.ParquetWriter(sink, pa.Table.from_pandas(empty).schema)
        writer.close()
    sink.flush()
    return rows


def _empty_columns(table: str) -> list[str]:
    if table == "raw":
        return ["device_id", *IMU_COLUMNS]
    if table == "metrics":
        return ["t", "device_id", "metric", "value"]
    return list(DERIVED_TABLES[table])
