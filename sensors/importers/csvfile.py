"""Generic CSV import of raw accelerometer (and optional gyroscope) samples.

The file needs a header row, a time column (``t``, ``time`` or ``timestamp``; ISO 8601 text or Unix
seconds / milliseconds / microseconds / nanoseconds, detected from the magnitude), and three
accelerometer columns under any common name. Units are detected from the first block of data:
the median acceleration magnitude is about 1 in g and about 9.81 in m/s^2; rotation rates above
20 are taken as deg/s, smaller ones during movement as rad/s. ``--acc-unit`` / ``--gyro-unit``
override both. The file is read in blocks (pandas' C parser), so memory stays constant however
large it is; every error names the file and the line.
"""

from __future__ import annotations

import csv
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sensors.errors import ImportFormatError
from sensors.importers.base import Batch, ImportOptions, ProgressCallback
from sensors.importers.csv_presets import CsvPreset, preset_for
from sensors.schema import STANDARD_GRAVITY_MPS2
from sensors.store import DeviceInfo, RecordingInfo

BLOCK_ROWS = 200_000

TIME_NAMES = ("t", "time", "timestamp")
_AXES = ("x", "y", "z")
ACC_NAMES = {
    axis: (
        f"a{axis}",
        f"acc_{axis}",
        f"acc{axis}",
        f"accel_{axis}",
        f"accel{axis}",
        f"acceleration_{axis}",
        f"accelerometer_{axis}",
        f"accelerometeracceleration{axis}",
        f"{axis}_acc",
    )
    for axis in _AXES
}
GYRO_NAMES = {
    axis: (
        f"g{axis}",
        f"gyr_{axis}",
        f"gyro_{axis}",
        f"gyr{axis}",
        f"gyro{axis}",
        f"gyroscope_{axis}",
        f"rotation_rate_{axis}",
        f"gyrorotation{axis}",
        f"motionrotationrate{axis}",
        f"{axis}_gyro",
    )
    for axis in _AXES
}
SEQ_NAMES = ("seq", "sample", "sample_number", "counter")

ACC_UNITS = {"g": 1.0, "mps2": 1.0 / STANDARD_GRAVITY_MPS2}
GYRO_UNITS = {"dps": 1.0, "rads": float(np.degrees(1.0))}
_UNIX_SCALES = (  # (upper bound of a plausible value, ns per unit, name)
    (1e11, 1e9, "Unix seconds"),
    (1e14, 1e6, "Unix milliseconds"),
    (1e17, 1e3, "Unix microseconds"),
    (1e20, 1.0, "Unix nanoseconds"),
)
_LINE = re.compile(r"line (\d+)")
_MAX_TIME_NS = 7.0e18
"""About the year 2191: later (or before 1748) is a broken value, not a time."""
_UTC_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


@dataclass(frozen=True)
class _Layout:
    """Which columns hold what, and the units decided for them."""

    time: str
    acc: tuple[str, str, str]
    gyro: tuple[str, str, str] | None
    seq: str | None
    delimiter: str
    preset: CsvPreset | None = None


@dataclass
class Decisions:
    """What the importer detected, reported to the user."""

    preset: str = ""
    time_format: str = ""
    acc_unit: str = ""
    gyro_unit: str = ""


class CsvImporter:
    name = "csv"
    suffixes = (".csv", ".tsv", ".txt")

    def sniff(self, path: Path, head: bytes) -> bool:
        # The generic fallback for text tables: format-specific importers come first in the
        # registry, and read() explains precisely what a .csv file lacks.
        return path.suffix.lower() in self.suffixes

    def read(
        self, path: Path, options: ImportOptions, progress: ProgressCallback
    ) -> Iterator[Batch]:
        layout = _layout(path)
        size = path.stat().st_size
        decisions = Decisions()
        self.decisions = decisions
        recording: RecordingInfo | None = None
        time_scale: tuple[float, str] | None = None
        acc_factor = gyro_factor = 1.0
        lines_before = 1  # the header
        last_t: int | None = None
        with path.open("rb") as handle:
            try:  # pandas reads the first rows here already
                blocks = pd.read_csv(
                    handle,
                    sep=layout.delimiter,
                    index_col=False,
                    chunksize=BLOCK_ROWS,
                    skip_blank_lines=False,
                    encoding="utf-8-sig",
                    low_memory=False,
                )
            except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
                raise _parser_error(path, exc) from exc
            while True:
                try:
                    with warnings.catch_warnings():
                        # pandas only warns when a row has more fields than the header
                        warnings.simplefilter("error", pd.errors.ParserWarning)
                        block = next(blocks)
                except StopIteration:
                    break
                except pd.errors.ParserWarning as exc:
                    raise _field_count_error(path, layout) from exc
                except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
                    raise _parser_error(path, exc) from exc
                if block.empty:
                    continue
                if time_scale is None:
                    _check_columns(path, block, layout)
                    decisions.preset = layout.preset.app if layout.preset else ""
                    time_scale = _detect_time(path, block[layout.time], lines_before, layout)
                    decisions.time_format = time_scale[1]
                    acc_factor, gyro_factor = _detect_units(path, block, layout, options)
                    decisions.acc_unit = _unit_name(ACC_UNITS, acc_factor)
                    decisions.gyro_unit = _unit_name(GYRO_UNITS, gyro_factor) if layout.gyro else ""
                frame = _canonical_block(
                    path, block, layout, time_scale, acc_factor, gyro_factor, options, lines_before
                )
                t = frame["t"].to_numpy()
                if last_t is not None and t[0] < last_t:
                    raise _line_error(path, lines_before + 1, "time goes backwards")
                step = np.flatnonzero(np.diff(t) < 0)
                if len(step):
                    raise _line_error(path, lines_before + 2 + int(step[0]), "time goes backwards")
                last_t = int(t[-1])
                if recording is None:
                    recording = _recording(path, options, t)
                lines_before += len(block)
                progress(min(handle.tell(), size), size)
                yield Batch(recording, samples=frame)
        if recording is None:
            raise ImportFormatError(f"{path}: the file has a header but no data rows")


def _norm(name: str) -> str:
    return name.strip().strip('"').lower().replace(" ", "_").replace("-", "_")


def _layout(path: Path) -> _Layout:
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as text:
            head = text.read(64 * 1024)
    except UnicodeDecodeError as exc:
        raise ImportFormatError(
            f"{path}: byte {exc.start}: not UTF-8 text; is this really a CSV file?"
        ) from exc
    first = head.splitlines()[0] if head else ""
    if not first:
        raise ImportFormatError(f"{path}: line 1: empty; a CSV import needs a header row")
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    names = next(csv.reader([first], delimiter=delimiter))
    preset = preset_for([n.strip() for n in names])
    if preset is not None:
        return _Layout(
            time=preset.time,
            acc=preset.acc,
            gyro=preset.gyro([n.strip() for n in names]),
            seq=None,
            delimiter=delimiter,
            preset=preset,
        )
    by_norm = {_norm(n): n for n in names}

    def find(candidates: tuple[str, ...]) -> str | None:
        return next((by_norm[c] for c in candidates if c in by_norm), None)

    time = find(TIME_NAMES)
    if time is None:
        raise ImportFormatError(
            f"{path}: line 1: no time column; name it one of {', '.join(TIME_NAMES)} "
            f"(header is: {first.strip()[:200]})"
        )
    acc = [find(ACC_NAMES[a]) for a in _AXES]
    if None in acc:
        raise ImportFormatError(
            f"{path}: line 1: no accelerometer x/y/z columns found; name them ax, ay, az "
            f"(or acc_x, accel_x, ...) (header is: {first.strip()[:200]})"
        )
    gyro = [find(GYRO_NAMES[a]) for a in _AXES]
    return _Layout(
        time=time,
        acc=tuple(acc),  # type: ignore[arg-type]
        gyro=tuple(gyro) if None not in gyro else None,  # type: ignore[arg-type]
        seq=find(SEQ_NAMES),
        delimiter=delimiter,
    )


def _parser_error(path: Path, exc: Exception) -> ImportFormatError:
    text = str(exc).strip()
    if "EOF inside string" in text:
        at, line = _unclosed_quote(path)
        return ImportFormatError(
            f"{path}: line {line} (byte {at}): a quoted field starts here and is never closed; "
            "fix or delete that line and import again"
        )
    fields = _FIELDS.search(text)
    if fields:
        expected, line, found = fields.groups()
        return _line_error(path, int(line), f"expected {expected} fields, found {found}")
    match = _LINE.search(text)
    where = f"line {match.group(1)}" if match else "while parsing"
    return ImportFormatError(f"{path}: {where}: {text}; fix the file and import again")


def _check_columns(path: Path, block: pd.DataFrame, layout: _Layout) -> None:
    """The columns the header names are the ones pandas parsed (a quote or stray byte in the
    header can make the two readings differ)."""
    named = [layout.time, *layout.acc, *(layout.gyro or ()), *([layout.seq] if layout.seq else [])]
    missing = [c for c in named if c not in block.columns]
    if missing:
        raise _line_error(path, 1, f"the header's columns {missing} cannot be read as columns")


def _unclosed_quote(path: Path) -> tuple[int, int]:
    """(byte offset, line) of the quote that opens the field left open at the end of the file
    (error path: reads the file once more, 1 MiB at a time)."""
    opened = line = opened_line = 0
    inside = False
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            for match in re.finditer(rb'["\n]', chunk):
                if match.group() == b"\n":
                    line += 1
                    continue
                inside = not inside
                if inside:
                    opened, opened_line = offset + match.start(), line
            offset += len(chunk)
    return opened, opened_line + 1


def _field_count_error(path: Path, layout: _Layout) -> ImportFormatError:
    """Find the first line whose field count differs from the header's (slow, error path)."""
    with path.open("r", encoding="utf-8-sig", newline="") as text:
        rows = csv.reader(text, delimiter=layout.delimiter)
        expected = len(next(rows))
        for number, row in enumerate(rows, start=2):
            if row and len(row) != expected:
                return _line_error(path, number, f"expected {expected} fields, found {len(row)}")
    return ImportFormatError(f"{path}: a line has more fields than the header")


def _line_error(path: Path, line: int, what: str) -> ImportFormatError:
    return ImportFormatError(
        f"{path}: line {line}: {what}; fix or delete that line and import again"
    )


def _detect_time(
    path: Path, column: pd.Series, lines_before: int, layout: _Layout
) -> tuple[float, str]:
    """(ns per unit, description) for numeric times, or (0, 'ISO 8601') for text."""
    if layout.preset is not None:
        ns_per_unit = layout.preset.time_ns_per_unit
        if ns_per_unit is None:
            return 0.0, "ISO 8601"
        return ns_per_unit, next(name for _, ns, name in _UNIX_SCALES if ns == ns_per_unit)
    numeric = pd.to_numeric(column, errors="coerce")
    if numeric.notna().mean() > 0.5:  # mostly numbers: a few bad lines are reported later
        magnitude = float(np.nanmedian(np.abs(numeric.to_numpy(dtype="float64"))))
        for bound, ns_per_unit, name in _UNIX_SCALES:
            if magnitude < bound:
                if magnitude < 1e8:  # before 1973 in seconds: a relative clock, not Unix time
                    raise ImportFormatError(
                        f"{path}: line {lines_before + 1}: time {column.iloc[0]!r} looks like "
                        f"seconds since the recording started, not Unix time; convert the "
                        f"{column.name!r} column to Unix time or ISO 8601"
                    )
                return ns_per_unit, name
    return 0.0, "ISO 8601"


def _detect_units(
    path: Path, block: pd.DataFrame, layout: _Layout, options: ImportOptions
) -> tuple[float, float]:
    acc = block[list(layout.acc)].apply(pd.to_numeric, errors="coerce").to_numpy("float64")
    magnitude = np.sqrt(np.nansum(acc**2, axis=1))
    preset = layout.preset
    acc_unit = options.acc_unit or (preset.acc_unit if preset else None)
    if acc_unit:
        acc_factor = ACC_UNITS[acc_unit]
    else:
        median = float(np.nanmedian(magnitude))
        if 0.5 <= median <= 2.0:
            acc_factor = ACC_UNITS["g"]
        elif 5.0 <= median <= 20.0:
            acc_factor = ACC_UNITS["mps2"]
        elif median < 0.3 and preset is not None and preset.gravity_free_hint:
            raise ImportFormatError(
                f"{path}: the median acceleration magnitude is {median:.3g}: this is "
                f"acceleration without gravity; {preset.gravity_free_hint}"
            )
        else:
            raise ImportFormatError(
                f"{path}: cannot tell the accelerometer unit: the median magnitude is "
                f"{median:.3g}, neither about 1 (g) nor about 9.81 (m/s^2); the file may hold "
                f"acceleration without gravity. Pass --acc-unit g or --acc-unit mps2"
            )
    gyro_factor = 1.0
    if layout.gyro is not None:
        gyro_unit = options.gyro_unit or (preset.gyro_unit if preset else None)
        if gyro_unit:
            gyro_factor = GYRO_UNITS[gyro_unit]
        else:
            gyro = block[list(layout.gyro)].apply(pd.to_numeric, errors="coerce")
            peak = float(np.nanpercentile(np.abs(gyro.to_numpy("float64")), 99.9))
            moving = float(np.nanstd(magnitude * acc_factor)) > 0.05
            gyro_factor = GYRO_UNITS["rads"] if (moving and 0.3 < peak < 20.0) else 1.0
    return acc_factor, gyro_factor


def _unit_name(units: dict[str, float], factor: float) -> str:
    return next(name for name, f in units.items() if f == factor)


def _canonical_block(
    path: Path,
    block: pd.DataFrame,
    layout: _Layout,
    time_scale: tuple[float, str],
    acc_factor: float,
    gyro_factor: float,
    options: ImportOptions,
    lines_before: int,
) -> pd.DataFrame:
    def numeric(name: str) -> np.ndarray:
        column = block[name]
        values = pd.to_numeric(column, errors="coerce").to_numpy("float64")
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raw = column.iloc[row]
            what = "missing" if pd.isna(raw) else f"{str(raw)[:40]!r} is not a number"
            raise _line_error(path, lines_before + 1 + row, f"column {name!r}: {what}")
        return values

    out: dict[str, np.ndarray] = {
        "t": _times(path, block[layout.time], time_scale, options, lines_before)
    }
    if layout.seq:
        out["seq"] = numeric(layout.seq).astype("int64")
    for name, col in zip(("ax", "ay", "az"), layout.acc, strict=True):
        out[name] = (numeric(col) * acc_factor).astype("float32")
    if layout.gyro:
        for name, col in zip(("gx", "gy", "gz"), layout.gyro, strict=True):
            out[name] = (numeric(col) * gyro_factor).astype("float32")
    return pd.DataFrame(out, copy=False)


def _times(
    path: Path,
    column: pd.Series,
    time_scale: tuple[float, str],
    options: ImportOptions,
    lines_before: int,
) -> np.ndarray:
    ns_per_unit, _ = time_scale
    if ns_per_unit:
        values = pd.to_numeric(column, errors="coerce").to_numpy("float64")
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise _line_error(
                path, lines_before + 1 + row, f"time {column.iloc[row]!r} is not a number"
            )
        far = ~(np.abs(values) < _MAX_TIME_NS / ns_per_unit)  # no overflow on 1e300
        if far.any():
            row = int(np.flatnonzero(far)[0])
            raise _line_error(
                path, lines_before + 1 + row, f"time {column.iloc[row]!r} is out of range"
            )
        if column.dtype.kind in "iu":
            return column.to_numpy("int64") * int(ns_per_unit)
        # float64 cannot hold Unix seconds to the nanosecond: round to the microsecond, the
        # finest resolution sensor clocks write as decimals
        return np.round(values * (ns_per_unit / 1e3)).astype("int64") * 1000
    text = column.astype("string")
    # Times with a UTC offset (or Z) are exact even when the offset changes inside the file (a
    # daylight-saving change); only times without one are read in the device's zone.
    has_offset = bool(_UTC_OFFSET.search(str(text.iloc[0]).strip()))
    try:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=has_offset)
    except ValueError as exc:  # pandas refuses times with and without an offset mixed
        raise _line_error(
            path, lines_before + 1, f"times mix UTC offsets and local times ({exc})"
        ) from exc
    bad = parsed.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise _line_error(
            path, lines_before + 1 + row, f"time {text.iloc[row]!r} is not ISO 8601 or Unix time"
        )
    if parsed.dt.tz is None:
        parsed = parsed.dt.tz_localize(options.tz, ambiguous="NaT", nonexistent="NaT")
        bad = parsed.isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise _line_error(
                path,
                lines_before + 1 + row,
                f"local time {text.iloc[row]!r} does not exist or is ambiguous in {options.tz} "
                f"(a daylight-saving change); write times with a UTC offset",
            )
    return parsed.dt.tz_convert("UTC").astype("datetime64[ns, UTC]").to_numpy("int64")


def _recording(path: Path, options: ImportOptions, t: np.ndarray) -> RecordingInfo:
    device_id = options.device_id or _device_id_from(path)
    rate = None
    if len(t) > 1:
        step = float(np.median(np.diff(t)))
        rate = 1e9 / step if step > 0 else None
    device = DeviceInfo(device_id, tz=options.tz, placement=options.placement)
    return RecordingInfo(
        device,
        source=str(path),
        placement=options.placement,
        sensor_height_m=options.sensor_height_m,
        rate_hz=rate,
    )


def _device_id_from(path: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem).strip("-._") or "csv"
    return stem[:64]
