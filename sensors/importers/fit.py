"""Garmin FIT files: activities (runs, walks) and all-day monitoring logs, as device metrics.

Decoding is Garmin's own ``garmin-fit-sdk`` (the reference decoder: profile, scale/offset,
component and sub-field expansion, accumulated fields); this module only checks the file whole
before anything is stored, and turns the decoded messages into psoas' long-format metrics.

Checks. The header (size 12 or 14, ``.FIT`` at bytes 8..11, header CRC), the data size against
the file size, and the file CRC are checked first, so that a damaged file is rejected with the byte
offset of the problem; then every error the SDK reports while decoding rejects the whole file too.
Nothing is ever imported from a file that is not intact: a watch file with a bad CRC has to be
exported again, not guessed at.

Activity files (``record`` messages), one metric row per record and field, with units converted:

- ``speed_mps``: ``enhanced_speed`` else ``speed`` (m/s); ``distance_m``; ``heart_rate_bpm``.
- ``cadence_spm``: FIT running (and walking) cadence counts the strides of one foot per minute,
  with ``fractional_cadence`` for the fraction, so steps per minute = 2 x (cadence + fraction).
  Cadence of non-foot sports (cycling rpm, swimming strokes) is not stored.
- ``step_length_m`` = ``step_length`` / 1000 (FIT: mm) and ``stride_length_m`` = 2 x that.
- ``stance_time_ms``, ``vertical_oscillation_mm`` as recorded.
- ``stride_length_derived_m``: for a moving record (speed >= 0.5 m/s, cadence >= 30 steps/min)
  of a foot sport that has no ``step_length``, speed x 120 / cadence_spm (metres per stride of
  two steps). It is derived, not measured, and is kept under its own name so that nobody takes it
  for the watch's measurement.

Monitoring files (``monitoring`` messages; all-day logs):

- Times: most monitoring messages carry only ``timestamp_16``, the low 16 bits of the time, which
  the SDK leaves unexpanded. Each is expanded against the last full timestamp seen before it in
  file order (any message's ``timestamp``, or the previous expanded time), as the FIT protocol
  defines: ``t = last + ((timestamp_16 - last) mod 2**16)``. The times must never go backwards.
- ``activity_type`` (the FIT code; see ``sensors.schema.ACTIVITY_TYPES``) and ``intensity``.
- ``steps``: ``cycles`` is a running total per activity type that restarts each day (at every
  ``monitoring_info`` message). The FIT profile gives ``cycles`` a scale of 2 and defines its
  sub-field ``steps`` (for walking and running) on the same raw value with scale 1, so the SDK's
  ``cycles`` counts strides and steps = 2 x cycles; the daily summary messages of a real vivofit
  (``steps`` 3142 for ``cycles`` 1571) confirm it. Each row stores the steps since the previous
  row of the same activity type. Daily summary messages (with ``duration_min``) repeat the totals
  and are not stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from garmin_fit_sdk import Decoder, Profile, Stream
from garmin_fit_sdk.crc_calculator import CrcCalculator

from sensors.errors import ImportFormatError
from sensors.importers.base import Batch, ImportOptions, ProgressCallback
from sensors.store import DeviceInfo, RecordingInfo

FIT_EPOCH_S = 631_065_600
"""The FIT epoch (1989-12-31T00:00:00Z) in Unix seconds."""
_MIN_ABSOLUTE_FIT_S = 0x10000000
"""FIT times below this are seconds since the device powered on, not UTC."""

_MESG_FILE_ID = 0
_MESG_SESSION = 18
_MESG_RECORD = 20
_MESG_MONITORING = 55
_MESG_MONITORING_INFO = 103

FOOT_SPORTS = frozenset({"running", "walking", "hiking", "mountaineering", "snowshoeing"})
"""Sports whose FIT cadence counts strides of one foot per minute."""
STEP_ACTIVITIES = frozenset({"walking", "running"})
"""Monitoring activity types whose ``cycles`` are strides (the profile's ``steps`` sub-field)."""
MOVING_SPEED_MPS = 0.5
MOVING_CADENCE_SPM = 30.0

_ACTIVITY_CODES: dict[str, int] = {
    name: code for code, name in Profile["types"]["activity_type"].items()
}
MAX_FIT_BYTES = 64 * 1024 * 1024
"""Largest FIT file psoas decodes. A watch's activity or monitoring file is at most a few MB;
the FIT SDK decodes a whole file into Python objects (about 22x its size in memory, 1.2 s per
MB), so a larger file is refused before it is read."""
_FIX = "re-export it from the watch (or copy it again from the device), then import it again"
_AT_BYTE = re.compile(r"at byte:?\s*(\d+)")


@dataclass
class Decisions:
    """What the importer found in the file, reported to the user."""

    file_type: str = ""
    device: str = ""
    sport: str = ""
    stride_length: str = ""
    skipped: str = ""


class FitImporter:
    name = "fit"
    suffixes = (".fit",)
    max_file_bytes = MAX_FIT_BYTES
    too_big = (
        "a watch's activity or monitoring file is a few MB, so this is not one FIT recording; "
        "export the activities one by one from the watch or Garmin Connect and import those"
    )

    def sniff(self, path: Path, head: bytes) -> bool:
        return len(head) >= 12 and head[0] in (12, 14) and head[8:12] == b".FIT"

    def read(
        self, path: Path, options: ImportOptions, progress: ProgressCallback
    ) -> Iterator[Batch]:
        data = path.read_bytes()
        size = len(data)
        progress(0, size)
        decisions = Decisions()
        self.decisions = decisions
        _check_whole_file(path, data)
        ordered = _decode(path, data)
        progress(size, size)

        file_id = next((m for n, m in ordered if n == _MESG_FILE_ID), {})
        device_id = options.device_id or _device_id(path, file_id)
        decisions.file_type = str(file_id.get("type", "unknown"))
        decisions.device = _device_name(file_id)
        device = DeviceInfo(
            device_id,
            tz=options.tz,
            placement="wrist" if options.placement == "unknown" else options.placement,
            kind="watch",
            name=decisions.device or None,
        )
        _expand_times(path, ordered)
        sessions = [m for n, m in ordered if n == _MESG_SESSION]
        sports = _sports(sessions)
        decisions.sport = ", ".join(f"{s}/{sub}" if sub else s for _, s, sub in sports)

        frames = []
        records = [m for n, m in ordered if n == _MESG_RECORD]
        if records:
            frame, derived, measured = _record_metrics(path, records, sports)
            frames.append(frame)
            if measured:
                decisions.stride_length = f"measured by the watch ({measured} records)"
            if derived:
                decisions.stride_length = (
                    decisions.stride_length + "; " if measured else ""
                ) + f"derived from speed x 120 / cadence ({derived} records)"
        if any(n == _MESG_MONITORING for n, _ in ordered):
            frame, summaries = _monitoring_metrics(path, ordered)
            frames.append(frame)
            if summaries:
                decisions.skipped = f"{summaries} daily summary messages (totals of the rows)"
        if not frames or all(f.empty for f in frames):
            raise ImportFormatError(
                f"{path}: a valid FIT file ({decisions.file_type}) without activity records or "
                f"monitoring data; psoas imports activity and monitoring files"
            )
        metrics = pd.concat(frames, ignore_index=True)
        source = f"FIT {decisions.file_type} file {path.name}"
        if decisions.sport:
            source += f" (sport {decisions.sport})"
        recording = RecordingInfo(device, source=source, placement=device.placement)
        yield Batch(recording, metrics=metrics)


def _check_whole_file(path: Path, data: bytes) -> None:
    """Reject a file whose header, size or CRCs are wrong, naming the byte offset."""
    size = len(data)
    if size < 14:
        raise ImportFormatError(
            f"{path}: byte {size}: the file ends after {size} bytes, before the end of the FIT "
            f"header; the file is truncated: {_FIX}"
        )
    header_size = data[0]
    if header_size not in (12, 14) or data[8:12] != b".FIT":
        raise ImportFormatError(
            f"{path}: byte 0: not a FIT header (header size {header_size}, type "
            f"{data[8:12]!r}); the header is corrupt: {_FIX}"
        )
    data_size = int.from_bytes(data[4:8], "little")
    if header_size == 14:
        stored = int.from_bytes(data[12:14], "little")
        if stored != 0 and stored != CrcCalculator.calculate_crc(data, 0, 12):
            raise ImportFormatError(
                f"{path}: byte 12: the header CRC does not match the header; the header is "
                f"corrupt: {_FIX}"
            )
    end = header_size + data_size
    if end + 2 > size:
        raise ImportFormatError(
            f"{path}: byte {size}: the header says the FIT data ends at byte {end + 2}, but the "
            f"file has only {size} bytes; the file is truncated (or its header's data size is "
            f"corrupt): {_FIX}"
        )
    stored = int.from_bytes(data[end : end + 2], "little")
    if stored != CrcCalculator.calculate_crc(data, 0, end):
        raise ImportFormatError(
            f"{path}: byte {end}: the file CRC does not match the content (bytes 0-{end - 1}); "
            f"the file is damaged: {_FIX}"
        )


def _decode(path: Path, data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """All messages in file order as (global message number, fields), or ImportFormatError."""
    stream = Stream.from_byte_array(bytearray(data))
    decoder = Decoder(stream)
    if not decoder.is_fit() or not decoder.check_integrity():
        raise ImportFormatError(
            f"{path}: byte 0: garmin-fit-sdk does not accept the file as an intact FIT file; {_FIX}"
        )
    ordered: list[tuple[int, dict[str, Any]]] = []
    stream = Stream.from_byte_array(bytearray(data))
    decoder = Decoder(stream)
    try:
        _, errors = decoder.read(
            convert_datetimes_to_dates=False,
            mesg_listener=lambda num, mesg: ordered.append((num, mesg)),
        )
    except Exception as exc:  # the SDK collects errors, but never let one escape unexplained
        errors = [exc]
    if errors:
        error = errors[0]
        text = str(error)
        found = _AT_BYTE.search(text)
        offset = int(found.group(1)) if found else stream.position()
        what = (
            _AT_BYTE.sub("", text).replace("FIT Runtime Error", "").strip(" ,:")
            or type(error).__name__
        )
        if "not a fit file" in text.lower() and offset >= _first_file_end(data):
            what = (
                f"{len(data) - offset} bytes after the end of the FIT data that the header "
                f"announces are not a FIT file (the header's data size is corrupt, or the file "
                f"has junk appended)"
            )
        elif "longer than the number of bytes remaining" in text:
            what = "a message runs past the end of the file (the file is truncated)"
        raise ImportFormatError(f"{path}: byte {offset}: {what}; {_FIX}")
    return ordered


def _first_file_end(data: bytes) -> int:
    return data[0] + int.from_bytes(data[4:8], "little") + 2


def _device_name(file_id: dict[str, Any]) -> str:
    manufacturer = file_id.get("manufacturer")
    product = file_id.get("garmin_product") or file_id.get("product")
    return " ".join(str(p) for p in (manufacturer, product) if p is not None)


def _device_id(path: Path, file_id: dict[str, Any]) -> str:
    """``<manufacturer>-<product>-<serial>`` from the file_id message, e.g. garmin-fenix5-39..."""
    parts = [
        file_id.get("manufacturer"),
        file_id.get("garmin_product") or file_id.get("product"),
        file_id.get("serial_number"),
    ]
    if parts[2] is None:
        raise ImportFormatError(
            f"{path}: the FIT file_id message has no serial number to name the device by; "
            f"pass --device-id"
        )
    text = "-".join(str(p) for p in parts if p is not None).lower()
    text = re.sub(r"[^a-z0-9._-]+", "-", text).strip("-._")[:64]
    return text or "fit-device"


def _to_ns(fit_s: int) -> int:
    return (int(fit_s) + FIT_EPOCH_S) * 1_000_000_000


def _expand_times(path: Path, ordered: list[tuple[int, dict[str, Any]]]) -> None:
    """Give every message with a time a ``_t`` (UTC ns), expanding ``timestamp_16``."""
    last: int | None = None
    for num, mesg in ordered:
        if isinstance(mesg.get("timestamp"), int):
            last = mesg["timestamp"]
        elif isinstance(mesg.get("timestamp_16"), int) and last is not None:
            last = last + ((mesg["timestamp_16"] - last) & 0xFFFF)
        else:
            continue
        if num in (_MESG_RECORD, _MESG_MONITORING) and last < _MIN_ABSOLUTE_FIT_S:
            raise ImportFormatError(
                f"{path}: message {num} has a time relative to the device's power-on "
                f"({last} s), not a UTC time: the watch's clock was not set; set it and record "
                f"again"
            )
        mesg["_t"] = _to_ns(last)


def _sports(sessions: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    """(start ns, sport, sub-sport) per session, in time order."""
    out = []
    for s in sessions:
        start = s.get("start_time", s.get("timestamp"))
        t = _to_ns(start) if isinstance(start, int) else 0
        sport, sub = s.get("sport"), s.get("sub_sport")
        out.append((t, str(sport) if sport is not None else "generic", str(sub or "")))
    return sorted(out)


def _sport_at(sports: list[tuple[int, str, str]], t: int) -> str:
    sport = sports[0][1] if sports else "generic"
    for start, name, _ in sports:
        if start <= t:
            sport = name
    return sport


def _record_metrics(
    path: Path, records: list[dict[str, Any]], sports: list[tuple[int, str, str]]
) -> tuple[pd.DataFrame, int, int]:
    """Long-format metrics of the activity records; also the derived and measured counts."""
    ts: list[int] = []
    names: list[str] = []
    values: list[float] = []
    derived = measured = 0

    def add(t: int, name: str, value: float) -> None:
        ts.append(t)
        names.append(name)
        values.append(float(value))

    for mesg in records:
        t = mesg.get("_t")
        if t is None:
            continue
        speed = mesg.get("enhanced_speed")
        if speed is None:
            speed = mesg.get("speed")
        if speed is not None:
            add(t, "speed_mps", speed)
        for field, name in (
            ("distance", "distance_m"),
            ("heart_rate", "heart_rate_bpm"),
            ("stance_time", "stance_time_ms"),
            ("vertical_oscillation", "vertical_oscillation_mm"),
        ):
            if isinstance(mesg.get(field), (int, float)):
                add(t, name, mesg[field])
        foot = _sport_at(sports, t) in FOOT_SPORTS or mesg.get("activity_type") in STEP_ACTIVITIES
        cadence_spm = None
        if foot and isinstance(mesg.get("cadence"), (int, float)):
            cadence_spm = 2.0 * (mesg["cadence"] + (mesg.get("fractional_cadence") or 0.0))
            add(t, "cadence_spm", cadence_spm)
        step = mesg.get("step_length")
        if isinstance(step, (int, float)):
            add(t, "step_length_m", step / 1000.0)
            add(t, "stride_length_m", 2.0 * step / 1000.0)
            measured += 1
        elif (
            cadence_spm is not None
            and speed is not None
            and speed >= MOVING_SPEED_MPS
            and cadence_spm >= MOVING_CADENCE_SPM
        ):
            add(t, "stride_length_derived_m", speed * 120.0 / cadence_spm)
            derived += 1
    frame = pd.DataFrame({"t": np.asarray(ts, dtype=np.int64), "metric": names, "value": values})
    return frame, derived, measured


def _monitoring_metrics(
    path: Path, ordered: list[tuple[int, dict[str, Any]]]
) -> tuple[pd.DataFrame, int]:
    """Long-format metrics of the monitoring messages; also the number of daily summaries."""
    ts: list[int] = []
    names: list[str] = []
    values: list[float] = []
    totals: dict[str, float] = {}
    summaries = 0
    previous_t: int | None = None
    for num, mesg in ordered:
        if num == _MESG_MONITORING_INFO:
            totals.clear()  # a new day: the running totals restart
            continue
        if num != _MESG_MONITORING:
            continue
        if "duration_min" in mesg:
            summaries += 1
            continue
        t = mesg.get("_t")
        if t is None:
            raise ImportFormatError(
                f"{path}: a monitoring message has only a 16-bit time and no full timestamp "
                f"precedes it, so its time is unknown; {_FIX}"
            )
        if previous_t is not None and t < previous_t:
            raise ImportFormatError(
                f"{path}: monitoring times go backwards ({t} ns after {previous_t} ns); {_FIX}"
            )
        previous_t = t
        activity = mesg.get("activity_type")
        if isinstance(activity, str) and activity in _ACTIVITY_CODES:
            ts.append(t)
            names.append("activity_type")
            values.append(float(_ACTIVITY_CODES[activity]))
        elif isinstance(activity, int):
            ts.append(t)
            names.append("activity_type")
            values.append(float(activity))
        if isinstance(mesg.get("intensity"), (int, float)):
            ts.append(t)
            names.append("intensity")
            values.append(float(mesg["intensity"]))
        if isinstance(mesg.get("heart_rate"), (int, float)):
            ts.append(t)
            names.append("heart_rate_bpm")
            values.append(float(mesg["heart_rate"]))
        cycles = mesg.get("cycles")
        if activity in STEP_ACTIVITIES and isinstance(cycles, (int, float)):
            steps = 2.0 * cycles
            before = totals.get(activity, 0.0)
            delta = steps - before if steps >= before else steps  # lower: the device restarted
            totals[activity] = steps
            ts.append(t)
            names.append("steps")
            values.append(delta)
    frame = pd.DataFrame({"t": np.asarray(ts, dtype=np.int64), "metric": names, "value": values})
    return frame, summaries
