"""GENEActiv ``.bin`` import (Activinsights' text format).

The file is text: a header of ``key:value`` lines in sections (``Device Identity``, ...,
``Calibration Data`` with per-axis ``gain``/``offset``, ``Memory Status``), then pages of ten
lines each: ``Recorded Data``, serial code, ``Sequence Number``, ``Page Time``
(``YYYY-MM-DD hh:mm:ss:mmm``, device local time), ``Unassigned``, ``Temperature`` (deg C),
``Battery voltage``, ``Device Status``, ``Measurement Frequency`` (Hz) and 3600 hexadecimal
characters: 300 samples of 12 hex digits (x, y, z as signed 12-bit values, then 10 bits of light,
the button and a reserved bit). Acceleration in g is ``(raw * 100 - offset) / gain``.

Pages are collected ``CHUNK_PAGES`` at a time and the hex of all of them is decoded at once with
numpy (a lookup table over the bytes): a Python loop runs per page header only (10 short lines for
300 samples), never per sample. Written here because the existing readers (scikit-digital-health,
GGIR's GENEAread) are compiled or R code that load the whole file and stop at the first bad page.

Times: sample ``j`` of a page is at ``Page Time + j / frequency`` (as scikit-digital-health). Page
times are the device's local clock; the header's ``Time Zone:GMT +hh:mm`` says its UTC offset, and
psoas stores UTC, so the offset is subtracted (without a usable Time Zone line the clock is read in
``options.tz``). Samples are numbered by page position (``page * 300 + j``) so a damaged page,
which is skipped and reported, is a seq jump the store records as a gap. Temperature is one
``temperature_c`` metric row per page when the schema knows that metric.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sensors.errors import ImportFormatError
from sensors.importers.axivity import TEMPERATURE_METRIC, _clock_offset_ns
from sensors.importers.base import Batch, ImportOptions, ProgressCallback
from sensors.store import DeviceInfo, RecordingInfo

log = logging.getLogger(__name__)

MAGIC = b"Device Identity"
PAGE_SAMPLES = 300
PAGE_HEX = PAGE_SAMPLES * 12
PAGE_LINES = 10
CHUNK_PAGES = 2_000
HEADER_LIMIT = 64 * 1024
READ_BUFFER_BYTES = 1 << 20
MAX_LINE_BYTES = 64 * 1024
"""Longest line read: a data page's hex line is 3,600 characters (300 samples x 12), so a longer
line is damage, refused before a file without line breaks is held in memory whole."""
_MAX_LISTED = 10
_TZ = re.compile(r"GMT\s*([+-])\s*(\d{1,2}):(\d{2})")
_PAGE_TIME = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{2}):(\d{2}):(\d{3})")

_HEX = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789ABCDEF"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"abcdef"):
    _HEX[_c] = 10 + _i
# two hex digits at once: a little-endian uint16 of two characters -> their byte value, or -1
# when either is not a hex digit (half the lookups of one table per digit)
_first, _second = _HEX[np.arange(65536) & 0xFF], _HEX[np.arange(65536) >> 8]
_HEX2 = np.where(
    (_first == 255) | (_second == 255), -1, _first.astype(np.int16) * 16 + _second
).astype(np.int16)


@dataclass
class Decisions:
    """What the importer detected or decided, reported to the user."""

    device: str = ""
    clock: str = ""
    bad_pages: str = ""
    temperature: str = ""


@dataclass
class BadPage:
    index: int  # 0 = first page
    offset: int  # byte offset of its "Recorded Data" line
    reason: str


@dataclass
class GeneactivHeader:
    fields: dict[str, str]
    gain: tuple[float, float, float]
    offset: tuple[float, float, float]
    rate_hz: float | None
    utc_offset_ns: int | None
    serial: str
    end: int  # byte offset of the first page


@dataclass
class _Page:
    index: int
    offset: int
    lines: list[bytes] = field(default_factory=list)


def parse_header(path: Path, data: bytes) -> GeneactivHeader:
    """The header fields of a GENEActiv file whose first bytes are ``data``."""
    if not data.startswith(MAGIC):
        raise ImportFormatError(
            f"{path}: byte 0: not a GENEActiv .bin file (it does not start with "
            f"'Device Identity'); import the .bin file GENEActiv PC software extracted"
        )
    end = data.find(b"Recorded Data")
    if end < 0:
        raise ImportFormatError(
            f"{path}: byte {len(data)}: the GENEActiv header does not end (no 'Recorded Data' "
            f"page follows it); the file is truncated or not a GENEActiv file"
        )
    fields: dict[str, str] = {}
    for line in data[:end].decode("latin-1").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), value.strip())

    def number(key: str) -> float:
        text = fields.get(key)
        try:
            value = float(text) if text is not None else float("nan")
        except ValueError:
            value = float("nan")
        if not np.isfinite(value):
            where = data.find(key.encode("latin-1"), 0, end)
            raise ImportFormatError(
                f"{path}: byte {max(where, 0)}: GENEActiv header field {key!r} is missing or "
                f"not a number ({text!r}); the calibration is needed to convert to g"
            )
        return value

    gain = (number("x gain"), number("y gain"), number("z gain"))
    offset = (number("x offset"), number("y offset"), number("z offset"))
    if 0.0 in gain:
        where = data.find(b"gain", 0, end)
        raise ImportFormatError(f"{path}: byte {where}: a calibration gain is 0; header damaged")
    rate = re.match(r"\s*([0-9.]+)", fields.get("measurement frequency", ""))
    tz = _TZ.search(fields.get("time zone", ""))
    utc_offset = None
    if tz:
        sign = -1 if tz.group(1) == "-" else 1
        utc_offset = sign * (int(tz.group(2)) * 3600 + int(tz.group(3)) * 60) * 1_000_000_000
    serial = re.sub(r"[^A-Za-z0-9]", "", fields.get("device unique serial code", ""))
    return GeneactivHeader(
        fields=fields,
        gain=gain,
        offset=offset,
        rate_hz=float(rate.group(1)) if rate else None,
        utc_offset_ns=utc_offset,
        serial=serial[:40],
        end=end,
    )


class GeneactivImporter:
    name = "geneactiv-bin"
    suffixes = (".bin",)

    def __init__(self) -> None:
        self.decisions = Decisions()
        self.bad_pages: list[BadPage] = []

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.startswith(MAGIC)

    def read(
        self, path: Path, options: ImportOptions, progress: ProgressCallback
    ) -> Iterator[Batch]:
        decisions = Decisions()
        self.decisions = decisions
        bad: list[BadPage] = []
        self.bad_pages = bad
        size = path.stat().st_size
        # a 1 MiB buffer: iterating the file's lines then costs half what it does with 8 KiB
        with path.open("rb", buffering=READ_BUFFER_BYTES) as handle:
            header = parse_header(path, handle.read(HEADER_LIMIT))
            device_id = options.device_id or f"geneactiv-{header.serial or 'unknown'}"
            decisions.device = (
                f"GENEActiv {header.fields.get('device model', '')}, serial {header.serial}, "
                f"calibration gain {header.gain}, offset {header.offset}"
            )
            decisions.temperature = f"stored as metric {TEMPERATURE_METRIC}, one row per page"
            handle.seek(header.end)
            recording: RecordingInfo | None = None
            offset_ns = header.utc_offset_ns
            if offset_ns is not None:
                decisions.clock = (
                    f"page times read as local time at UTC{offset_ns / 3.6e12:+g} h "
                    f"(the header's Time Zone)"
                )
            last_t: list[int | None] = [None]
            pages: list[_Page] = []
            position = header.end
            index = 0
            current: _Page | None = None
            for line in iter(lambda: handle.readline(MAX_LINE_BYTES), b""):
                if len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"):
                    raise ImportFormatError(
                        f"{path}: byte {position}: a line longer than {MAX_LINE_BYTES:,} bytes; "
                        f"GENEActiv lines are at most 3,600 characters, so the file is damaged "
                        f"or not a GENEActiv .bin; copy it from the device again"
                    )
                if line.startswith(b"Recorded Data"):
                    current = _Page(index, position)
                    pages.append(current)
                    index += 1
                elif current is not None:
                    current.lines.append(line)
                position += len(line)
                if len(pages) > CHUNK_PAGES:
                    chunk, pages = pages[:-1], pages[-1:]
                    out = self._chunk(path, chunk, header, options, offset_ns, last_t, bad)
                    progress(position, size)
                    if out is not None:
                        samples, temperature, offset_ns = out
                        if recording is None:
                            recording = _recording(path, options, device_id, header)
                        yield Batch(recording, samples, temperature)
            out = self._chunk(path, pages, header, options, offset_ns, last_t, bad)
            progress(size, size)
            if out is not None:
                samples, temperature, offset_ns = out
                if recording is None:
                    recording = _recording(path, options, device_id, header)
                yield Batch(recording, samples, temperature)
            if not decisions.clock and offset_ns is not None:
                decisions.clock = f"page times read as local time in {options.tz}"
        if bad:
            listed = ", ".join(f"#{b.index} at byte {b.offset} ({b.reason})" for b in bad[:10])
            more = f" and {len(bad) - _MAX_LISTED} more" if len(bad) > _MAX_LISTED else ""
            decisions.bad_pages = f"{len(bad)} page(s) skipped: {listed}{more}"
            log.warning("%s: %s", path, decisions.bad_pages)
        if recording is None:
            raise ImportFormatError(
                f"{path}: byte {header.end}: no readable data page in the file"
                + (f" ({decisions.bad_pages})" if bad else "")
                + "; the recording is empty or damaged"
            )

    def _chunk(
        self,
        path: Path,
        pages: list[_Page],
        header: GeneactivHeader,
        options: ImportOptions,
        offset_ns: int | None,
        last_t: list[int | None],
        bad: list[BadPage],
    ) -> tuple[pd.DataFrame, pd.DataFrame, int] | None:
        """Decode a run of pages: samples, temperature rows and the UTC offset used."""
        good: list[_Page] = []
        starts: list[int] = []
        rates: list[float] = []
        temps: list[float] = []
        hexes: list[bytes] = []
        for page in pages:
            parsed = _page_fields(page)
            if isinstance(parsed, str):
                bad.append(BadPage(page.index, page.offset, parsed))
                continue
            start, rate, temp, hex_text = parsed
            good.append(page)
            starts.append(start)
            rates.append(rate)
            temps.append(temp)
            hexes.append(hex_text)
        if not good:
            return None
        # a sample is 12 hex digits = 6 bytes: x (12 bits), y, z, then light, button, reserved
        octets = _HEX2[np.frombuffer(b"".join(hexes), dtype="<u2")]
        octets = octets.reshape(len(good), PAGE_SAMPLES, 6)
        invalid = (octets < 0).any(axis=(1, 2))
        if invalid.any():
            for i in np.flatnonzero(invalid):
                bad.append(BadPage(good[i].index, good[i].offset, "not hexadecimal data"))
            keep = ~invalid
            octets = octets[keep]
            good = [p for p, k in zip(good, keep, strict=True) if k]
            starts = [s for s, k in zip(starts, keep, strict=True) if k]
            rates = [r for r, k in zip(rates, keep, strict=True) if k]
            temps = [t for t, k in zip(temps, keep, strict=True) if k]
            if not good:
                return None
        start = np.asarray(starts, dtype=np.int64)
        if offset_ns is None:
            offset_ns = _clock_offset_ns(int(start[0]), options.tz)
        start -= offset_ns
        rate = np.asarray(rates)
        j = np.arange(PAGE_SAMPLES)
        t = start[:, None] + np.rint(j[None, :] * (1e9 / rate[:, None])).astype(np.int64)
        t = t.ravel()
        step = np.flatnonzero(np.diff(t) < 0)
        prev = last_t[0]
        if len(step) or (prev is not None and t[0] < prev):
            page = good[int(step[0]) // PAGE_SAMPLES + 1] if len(step) else good[0]
            raise ImportFormatError(
                f"{path}: byte {page.offset}: page #{page.index} has a Page Time before the page "
                f"preceding it; the file is damaged or the device clock was changed"
            )
        last_t[0] = int(t[-1])
        seq = np.asarray([p.index for p in good], dtype=np.int64)[:, None] * PAGE_SAMPLES + j
        frame = {"t": t, "seq": seq.ravel()}
        # x, y, z: 12-bit two's complement in octets 0-1.5, 1.5-3, 3-4.5
        o = octets.reshape(-1, 6)
        raw = np.empty((len(o), 3), dtype=np.int16)
        raw[:, 0] = (o[:, 0] << 4) | (o[:, 1] >> 4)
        raw[:, 1] = ((o[:, 1] & 0x0F) << 8) | o[:, 2]
        raw[:, 2] = (o[:, 3] << 4) | (o[:, 4] >> 4)
        raw = np.where(raw > 2047, raw - 4096, raw)
        acc = raw * 100.0  # (raw * 100 - offset) / gain, in place
        acc -= np.asarray(header.offset)
        acc /= np.asarray(header.gain)
        acc = acc.astype(np.float32)
        for k, name in enumerate(("ax", "ay", "az")):
            frame[name] = acc[:, k]
        temperature = pd.DataFrame(
            {"t": start, "metric": TEMPERATURE_METRIC, "value": np.asarray(temps)}
        )
        return pd.DataFrame(frame), temperature, offset_ns


def _page_fields(page: _Page) -> tuple[int, float, float, bytes] | str:
    """(start ns as naive UTC, rate Hz, temperature deg C, hex data) of a page, or why not."""
    fields: dict[bytes, bytes] = {}
    data = b""
    for line in page.lines:
        key, sep, value = line.partition(b":")
        stripped = line.strip()
        if sep and len(stripped) < 200:
            fields[key.strip().lower()] = value.strip()
        elif len(stripped) >= PAGE_HEX:
            data = stripped
    if len(data) != PAGE_HEX:
        return f"data is {len(data)} hex digits, expected {PAGE_HEX}"
    match = _PAGE_TIME.fullmatch(fields.get(b"page time", b"").decode("latin-1"))
    if not match:
        return "no valid Page Time"
    year, month, day, hour, minute, second, ms = (int(x) for x in match.groups())
    try:
        stamp = pd.Timestamp(year, month, day, hour, minute, second)
        start = int(stamp.value) + ms * 1_000_000  # OverflowError past 2262 (int64 ns)
    except (ValueError, OverflowError):
        return "no valid Page Time"
    try:
        rate = float(fields.get(b"measurement frequency", b"").split()[0])
        temp = float(fields.get(b"temperature", b"nan"))
    except (ValueError, IndexError):
        return "no valid Measurement Frequency or Temperature"
    if not (0.1 <= rate <= 10_000.0) or not np.isfinite(temp):
        return "no valid Measurement Frequency or Temperature"
    return start, rate, temp, data


def _recording(
    path: Path, options: ImportOptions, device_id: str, header: GeneactivHeader
) -> RecordingInfo:
    return RecordingInfo(
        DeviceInfo(device_id, tz=options.tz, placement=options.placement),
        source=str(path),
        placement=options.placement,
        sensor_height_m=options.sensor_height_m,
        rate_hz=header.rate_hz,
    )
