"""Long, valid Axivity ``.cwa`` and GENEActiv ``.bin`` files built from the short real samples.

The real recordings in ``../shared/data/skdh_io`` last seconds to minutes; a decode benchmark
needs days. The builders here repeat a sample's data (its 512-byte CWA data blocks, or its
300-sample GENEActiv pages) as often as needed and rewrite every field that makes a file
consistent, so both psoas and scikit-digital-health read the result as one long, gap-free
recording:

- CWA (:func:`build_cwa`): the 1024-byte ``MD`` header is copied (its sample-rate code and
  logging start/end times updated); data block ``k`` is source block ``k % m`` (of the ``m``
  source blocks whose tag, checksum and sample count are good) with a new sequence id ``k``, the
  header's session id, the 15-bit device id (top bit clear: no fractional timestamp), the sample
  rate code, and a device clock + ``timestampOffset`` pair placing its first sample at exactly
  ``start + k * count / rate``; its checksum word is recomputed so the block's 256 little-endian
  16-bit words sum to zero.
- GENEActiv (:func:`build_geneactiv_bin`): the text header is copied with ``Measurement
  Frequency``, ``Start Time`` and ``Number of Pages`` updated; page ``k`` is source page
  ``k % m`` with ``Sequence Number: k``, ``Measurement Frequency`` and a ``Page Time`` of exactly
  ``start + k * 300 / rate`` (whole milliseconds, so the rate must divide 300,000).

The sample values are the sample's own (relabelled to the new rate when it differs), so they are
real sensor data, just periodic. Files are written a bounded number of blocks/pages at a time:
memory does not grow with the file. Times are naive device-local clock values; read them in UTC.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "data" / "skdh_io"
AX3_SAMPLE = SAMPLES / "ax3_sample.cwa"
AX6_SAMPLE = SAMPLES / "ax6_sample.cwa"
GENEACTIV_SAMPLE = SAMPLES / "gnactv_sample.bin"

DEFAULT_START = dt.datetime(2026, 1, 5)  # naive device clock, a Monday

CWA_HEADER_BYTES = 1024
CWA_BLOCK_BYTES = 512
CWA_WRITE_BLOCKS = 20_000  # blocks generated and written at a time (10 MB)
GENEACTIV_PAGE_SAMPLES = 300
GENEACTIV_PAGE_LINES = 10
GENEACTIV_WRITE_PAGES = 5_000  # pages generated and written at a time (about 19 MB)


@dataclass(frozen=True)
class BuiltFile:
    """What a builder wrote: enough for a reader's output to be checked against it."""

    path: Path
    size_bytes: int
    units: int  # data blocks (CWA) or pages (GENEActiv)
    samples: int
    rate_hz: float
    axes: int  # 3 (accelerometer) or 6 (accelerometer and gyroscope)
    first_time_s: float  # first sample, naive device clock as unix seconds
    last_time_s: float  # last sample, same clock

    @property
    def duration_s(self) -> float:
        return self.samples / self.rate_hz


def _unix_s(when: dt.datetime) -> int:
    """A naive datetime read as UTC, in whole unix seconds."""
    return int(when.replace(tzinfo=dt.UTC).timestamp())


def _units_for(duration_s: float | None, units: int | None, per_unit_s: float) -> int:
    if (duration_s is None) == (units is None):
        raise ValueError("give exactly one of duration_s and the block/page count")
    n = units if units is not None else math.ceil(duration_s / per_unit_s - 1e-9)
    if n < 1:
        raise ValueError("the file would hold no data")
    return n


# -- CWA -----------------------------------------------------------------------------------------
def cwa_rate_hz(code: int) -> float:
    """Sample rate (Hz) of a CWA rate code (its low nibble), as the format defines it."""
    return 3200.0 / (1 << (15 - (code & 0x0F)))


def _cwa_rate_code(rate_hz: int, old_code: int) -> int:
    """``old_code`` with the low nibble giving ``rate_hz`` (the range bits are kept)."""
    for nibble in range(16):
        if cwa_rate_hz(nibble) == rate_hz:
            return (old_code & 0xF0) | nibble
    raise ValueError(f"{rate_hz} Hz is not a CWA sample rate (3200 / 2^n)")


def pack_cwa_clock(unix_s: np.ndarray) -> np.ndarray:
    """CWA packed device clock values (``YYYYYYMM MMDDDDDh hhhhmmmm mmssssss``) of unix seconds."""
    seconds = np.asarray(unix_s, dtype=np.int64)
    when = seconds.astype("datetime64[s]")
    months = when.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (when.astype("datetime64[D]") - months.astype("datetime64[D]")).astype(np.int64) + 1
    of_day = seconds % 86_400
    hour, minute, second = of_day // 3600, (of_day // 60) % 60, of_day % 60
    if ((year < 2000) | (year > 2063)).any():
        raise ValueError("CWA clocks hold the years 2000-2063 only")
    packed = (
        ((year - 2000) << 26) | (month << 22) | (day << 17) | (hour << 12) | (minute << 6) | second
    )
    return packed.astype(np.uint32)


def cwa_fix_checksums(blocks: np.ndarray) -> None:
    """Rewrite the last word of each 512-byte block so its 256 16-bit words sum to zero."""
    words = blocks.view("<u2")
    total = words[:, :255].sum(axis=1, dtype=np.uint64) & 0xFFFF
    words[:, 255] = ((0x10000 - total) & 0xFFFF).astype(np.uint16)


def cwa_source_blocks(source: Path) -> tuple[bytes, np.ndarray]:
    """The header of ``source`` and its good, full data blocks as an (m, 512) uint8 array."""
    data = source.read_bytes()
    header = data[:CWA_HEADER_BYTES]
    if header[:2] != b"MD":
        raise ValueError(f"{source} is not a CWA file")
    whole = (len(data) - CWA_HEADER_BYTES) // CWA_BLOCK_BYTES
    blocks = np.frombuffer(
        data, dtype=np.uint8, count=whole * CWA_BLOCK_BYTES, offset=CWA_HEADER_BYTES
    ).reshape(whole, CWA_BLOCK_BYTES)
    words = blocks.view("<u2")
    checksum_ok = (words.sum(axis=1, dtype=np.uint64) & 0xFFFF) == 0
    tagged = (blocks[:, 0] == ord("A")) & (blocks[:, 1] == ord("X"))
    count = words[:, 14].astype(np.int64)
    good = checksum_ok & tagged
    if not good.any():
        raise ValueError(f"{source} has no good data block")
    full = good & (count == count[good].max())
    return header, blocks[full].copy()


def build_cwa(
    dest: Path,
    source: Path = AX3_SAMPLE,
    *,
    duration_s: float | None = None,
    blocks: int | None = None,
    rate_hz: int | None = None,
    start: dt.datetime = DEFAULT_START,
) -> BuiltFile:
    """Write a CWA file of ``blocks`` data blocks (or enough for ``duration_s``) to ``dest``.

    ``rate_hz`` (default: the source's) must be one of the format's rates with a whole number
    of samples per second (25, 50, 100, ... 3200 Hz) so every block start is a whole sample
    index from a whole second. Sample ``i`` is at ``start + i / rate_hz`` exactly.
    """
    header, source_blocks = cwa_source_blocks(source)
    template = source_blocks[0]
    count = int(template[28]) | (int(template[29]) << 8)
    rate = rate_hz if rate_hz is not None else cwa_rate_hz(int(template[24]))
    if rate != int(rate):
        raise ValueError(f"{rate} Hz has no whole number of samples per second")
    rate = int(rate)
    n = _units_for(duration_s, blocks, count / rate)
    rate_code = _cwa_rate_code(rate, int(template[24]))
    axes = int(template[25]) >> 4
    start_s = _unix_s(start)
    end_s = start_s + (n * count - 1) // rate

    head = bytearray(header)
    head[36] = _cwa_rate_code(rate, head[36])
    head[13:17] = int(pack_cwa_clock(np.array([start_s]))[0]).to_bytes(4, "little")
    head[17:21] = int(pack_cwa_clock(np.array([end_s + 1]))[0]).to_bytes(4, "little")
    session = bytes(head[7:11])
    device_id = int.from_bytes(head[5:7], "little") & 0x7FFF

    with dest.open("wb") as out:
        out.write(bytes(head))
        for lo in range(0, n, CWA_WRITE_BLOCKS):
            k = np.arange(lo, min(lo + CWA_WRITE_BLOCKS, n), dtype=np.int64)
            chunk = source_blocks[k % len(source_blocks)]
            first_sample = k * count
            clock = start_s + first_sample // rate  # the whole second at or before the block
            offset = (clock - start_s) * rate - first_sample  # in (-rate, 0]: sample of `clock`
            chunk[:, 4:6] = np.frombuffer(device_id.to_bytes(2, "little"), dtype=np.uint8)
            chunk[:, 6:10] = np.frombuffer(session, dtype=np.uint8)
            chunk[:, 10:14] = k.astype("<u4").view(np.uint8).reshape(-1, 4)
            chunk[:, 14:18] = pack_cwa_clock(clock).astype("<u4").view(np.uint8).reshape(-1, 4)
            chunk[:, 24] = rate_code
            chunk[:, 26:28] = (offset & 0xFFFF).astype("<u2").view(np.uint8).reshape(-1, 2)
            cwa_fix_checksums(chunk)
            out.write(chunk.tobytes())
    samples = n * count
    return BuiltFile(
        path=dest,
        size_bytes=dest.stat().st_size,
        units=n,
        samples=samples,
        rate_hz=float(rate),
        axes=3 if axes == 3 else 6,
        first_time_s=float(start_s),
        last_time_s=start_s + (samples - 1) / rate,
    )


# -- GENEActiv -----------------------------------------------------------------------------------
def _replace_field(lines: list[bytes], key: bytes, value: str) -> None:
    """Set the value of the first ``key:value`` line of ``lines`` (the key must be there)."""
    for i, line in enumerate(lines):
        if line.split(b":", 1)[0].strip().lower() == key.lower():
            lines[i] = key + b":" + value.encode("ascii")
            return
    raise ValueError(f"the GENEActiv header has no {key.decode()!r} line")


def _page_times(start_ms: int, first: int, stop: int, page_ms: int) -> list[bytes]:
    """``Page Time`` values (``YYYY-MM-DD hh:mm:ss:mmm``) of pages ``first .. stop - 1``."""
    stamps = (start_ms + np.arange(first, stop, dtype=np.int64) * page_ms).astype("datetime64[ms]")
    text = np.datetime_as_string(stamps, unit="ms")
    return [s.replace("T", " ").replace(".", ":").encode("ascii") for s in text]


def build_geneactiv_bin(
    dest: Path,
    source: Path = GENEACTIV_SAMPLE,
    *,
    duration_s: float | None = None,
    pages: int | None = None,
    rate_hz: int = 100,
    start: dt.datetime = DEFAULT_START,
) -> BuiltFile:
    """Write a GENEActiv ``.bin`` of ``pages`` pages (or enough for ``duration_s``) to ``dest``.

    Sample ``j`` of page ``k`` is at ``start + (300 k + j) / rate_hz``; ``rate_hz`` must make a
    page last a whole number of milliseconds (100 Hz: 3 s).
    """
    data = source.read_bytes()
    newline = b"\r\n" if b"\r\n" in data[:4096] else b"\n"
    first_page = data.find(b"Recorded Data")
    if not data.startswith(b"Device Identity") or first_page < 0:
        raise ValueError(f"{source} is not a GENEActiv .bin file")
    page_ms = GENEACTIV_PAGE_SAMPLES * 1000 / rate_hz
    if page_ms != int(page_ms):
        raise ValueError(f"at {rate_hz} Hz a page does not last a whole number of milliseconds")
    page_ms = int(page_ms)
    n = _units_for(duration_s, pages, page_ms / 1000)

    header = data[:first_page].split(newline)  # ends with b"" (the header's last newline)
    start_ms = _unix_s(start) * 1000
    start_text = _page_times(start_ms, 0, 1, page_ms)[0].decode("ascii")
    _replace_field(header, b"Measurement Frequency", f"{rate_hz} Hz")
    _replace_field(header, b"Start Time", start_text)
    _replace_field(header, b"Number of Pages", str(n))

    lines = data[first_page:].split(newline)
    source_pages = [
        lines[i : i + GENEACTIV_PAGE_LINES]
        for i in range(0, len(lines) - GENEACTIV_PAGE_LINES + 1, GENEACTIV_PAGE_LINES)
    ]
    for page in source_pages:
        if page[0] != b"Recorded Data" or len(page[9].strip()) != GENEACTIV_PAGE_SAMPLES * 12:
            raise ValueError(f"{source}: a page is not the 10 lines this builder expects")
    # per source page: the lines before Sequence Number, between it and Page Time, after it
    parts = []
    for page in source_pages:
        fixed = list(page)
        _replace_field(fixed, b"Measurement Frequency", f"{rate_hz:.1f}")
        parts.append(
            (
                newline.join(fixed[:2]) + newline + b"Sequence Number:",
                newline + b"Page Time:",
                newline + newline.join(fixed[4:]) + newline,
            )
        )

    with dest.open("wb") as out:
        out.write(newline.join(header))
        for lo in range(0, n, GENEACTIV_WRITE_PAGES):
            hi = min(lo + GENEACTIV_WRITE_PAGES, n)
            times = _page_times(start_ms, lo, hi, page_ms)
            text = []
            for k, stamp in zip(range(lo, hi), times, strict=True):
                before, middle, after = parts[k % len(parts)]
                text += [before, str(k).encode("ascii"), middle, stamp, after]
            out.write(b"".join(text))
    samples = n * GENEACTIV_PAGE_SAMPLES
    return BuiltFile(
        path=dest,
        size_bytes=dest.stat().st_size,
        units=n,
        samples=samples,
        rate_hz=float(rate_hz),
        axes=3,
        first_time_s=start_ms / 1000,
        last_time_s=start_ms / 1000 + (samples - 1) / rate_hz,
    )
