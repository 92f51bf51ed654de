"""Apple Health exports (``export.zip`` or its ``export.xml``): gait, steps, stand hours, workouts.

The format. The Health app's "Export All Health Data" writes ``export.zip`` holding
``apple_health_export/export.xml`` (plus ``export_cda.xml``, workout routes as GPX, ECGs). The
XML has an internal DTD, then ``<HealthData>`` with ``<ExportDate>``, ``<Me>`` and then, in one
flat list, ``<Record>`` elements (one sample each: ``type``, ``sourceName``, ``device``, ``unit``,
``value``, ``creationDate``, ``startDate``, ``endDate``, optional ``<MetadataEntry>`` children),
``<Correlation>`` (blood pressure, food: copies of top-level records, per the DTD's own note),
``<Workout>`` and ``<ActivitySummary>``. Times read ``2026-03-29 01:30:00 +0100``: local time where
the sample was taken, with its UTC offset; psoas stores the exact instant in UTC.

Reading. Real exports reach several GB, so the file is streamed: 1 MiB at a time from the file,
or from the zip member through ``zipfile`` (decompressed as it is read, never extracted), into
expat (``xml.parsers.expat``, the parser underneath ``ElementTree.iterparse``) with start and end
handlers. No element objects are built at all, so there is nothing to clear, and every error can
name its line (``CurrentLineNumber``), which ``iterparse`` cannot. The internal DTD is skipped
before parsing (its line breaks are kept, so line numbers stay right): psoas does not need it and
the one iOS 16 wrote is broken. Control characters that XML 1.0 forbids (iOS 16 wrote U+000B into
some values) are read as spaces.

What is kept (units converted; Apple writes the user's units: count, m, cm, mm, km, mi, ft, in,
yd, m/s, km/hr, mi/hr, ft/s, ms, s, min, count/min, count/s; any other unit is refused, naming
the line):

===========================================  ========================================  =========
Record type                                  metric                                    t
===========================================  ========================================  =========
``StepCount``                                ``steps`` (count in [start, end])         endDate
``DistanceWalkingRunning``                   ``distance_walking_m`` (m in [start, end])  endDate
``WalkingStepLength``                        ``step_length_m``, ``stride_length_m``    startDate
``RunningStrideLength``                      ``step_length_m``, ``stride_length_m``    startDate
``WalkingSpeed``, ``RunningSpeed``           ``speed_mps``                             startDate
``RunningGroundContactTime``                 ``stance_time_ms``                        startDate
``RunningVerticalOscillation``               ``vertical_oscillation_mm``               startDate
``HeartRate``                                ``heart_rate_bpm``                        startDate
``AppleStandHour`` (category)                ``stand_hour`` (1 stood, 0 idle)          startDate
``Workout``                                  ``workout_s``, ``workout_activity``,      startDate
                                             ``workout_distance_m``
===========================================  ========================================  =========

``stride_length_m`` is always 2 x the step length. HealthKit defines ``RunningStrideLength`` as
"the distance covered by a single step while running": despite its name it is a step length (a
stride, in psoas and in gait analysis, is a full cycle of two steps), and its values (about 1 m
at an easy run) confirm it. Workout distance is the sum of the workout's own ``Distance*``
statistics (iOS 16+; those inside a ``WorkoutActivity`` repeat them and are not added again) or,
in older exports, its ``totalDistance``. ``workout_activity`` codes are ``WORKOUT_ACTIVITIES``
(those of ``sensors.schema.ACTIVITY_TYPES`` where one exists, 100 for hiking, 0 for the rest).
Records nested in a ``Correlation`` are copies and are skipped; every other type is skipped and
counted in the decisions.

Cadence. HealthKit has no running-cadence type. ``cadence_spm`` is derived only from measured
steps over measured time: a step record of a watch source lasting 10 s to 5 min that lies inside
a running, walking or hiking workout of the same source gives steps / minutes at its startDate.
Workouts come after the records in the file; cadence is therefore computed at the end, from the
step records that are kept anyway for the overlap rule below.

Sources. Each ``sourceName`` is its own device, ``apple-health-<name>``: a source whose name or
``device`` says Watch is a wrist-worn ``watch``, one that says iPhone a ``phone``, any other an
``app``. Local days are cut in ``--tz`` (the offsets in the file are only used to get UTC right).

Overlap. When the watch and the phone counted the same walk, the Health app counts the watch
(its default source priority). psoas applies the same rule to the additive metrics (``steps``,
``distance_walking_m``): sources are ranked watch, phone, app (ties by first appearance), and a
record of a lower-ranked source keeps only the fraction of its value that falls outside the time
covered by higher-ranked sources' records of the same type (the value is taken as spread evenly
over its interval); a record covered entirely is dropped. Summing ``steps`` over all of an
export's devices therefore never counts a step twice. Speeds, lengths and heart rate keep every
source. See :func:`deduplicate_overlaps`.

Memory. The steps and distances must be seen whole before any can be resolved (records are not
ordered by source), so they are held in numpy arrays: 24 bytes per step or distance record (start,
end, value); the generated 1 GB export of the tests has about 160,000 of them (4 MB), and while
the overlaps are resolved a few copies exist at once. Workouts are a short list. Every other row
is converted per block of 16,384 records and spilled to a temporary file per source and month (17
bytes a row, deleted afterwards); at the end each source is emitted month by month, in time
order, in batches of at most 200,000 rows. Besides keeping memory flat (a 1 GB export peaks at
the same RSS as a 50 MB one), this gives the store one part per device and day, not one per record
type and day.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import re
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

import numpy as np
import pandas as pd

from sensors.errors import ImportFormatError
from sensors.importers.base import Batch, ImportOptions, ProgressCallback
from sensors.store import DeviceInfo, RecordingInfo

READ_BYTES = 1 << 20
"""Bytes fed to the parser at a time (and the granularity of progress reports)."""
BATCH_ROWS = 200_000
"""Most rows in one yielded batch."""
CONVERT_ROWS = 16_384
"""Records collected as Python objects before they are converted to numpy and spilled (larger
blocks are barely faster and cost ~40 MB more at the peak)."""
CADENCE_MIN_S = 10.0
CADENCE_MAX_S = 300.0
NS_PER_S = 1_000_000_000

_FIX = (
    "re-export it from the Health app (profile picture → Export All Health Data) and import "
    "the new export.zip"
)
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    OSError,
    ValueError,
    NotImplementedError,
    IndexError,
    RuntimeError,
)
"""What zipfile raises on a damaged, encrypted, nameless or too-new member (found by atheris)."""
_Q = "HKQuantityTypeIdentifier"
_STAND_TYPE = "HKCategoryTypeIdentifierAppleStandHour"
_STAND_VALUES = {
    "HKCategoryValueAppleStandHourStood": 1.0,
    "HKCategoryValueAppleStandHourIdle": 0.0,
}

METRICS = (
    "steps",
    "distance_walking_m",
    "step_length_m",
    "stride_length_m",
    "speed_mps",
    "stance_time_ms",
    "vertical_oscillation_mm",
    "heart_rate_bpm",
    "stand_hour",
    "cadence_spm",
    "workout_s",
    "workout_distance_m",
    "workout_activity",
)
"""Every metric this importer writes; rows carry the index into this tuple until emitted."""
_CODE = {name: code for code, name in enumerate(METRICS)}
_METRIC_NAMES = np.array(METRICS, dtype=object)

WORKOUT_ACTIVITIES: dict[str, int] = {
    "HKWorkoutActivityTypeRunning": 1,
    "HKWorkoutActivityTypeCycling": 2,
    "HKWorkoutActivityTypeHandCycling": 2,
    "HKWorkoutActivityTypeElliptical": 4,
    "HKWorkoutActivityTypeStairClimbing": 4,
    "HKWorkoutActivityTypeStairs": 4,
    "HKWorkoutActivityTypeSwimming": 5,
    "HKWorkoutActivityTypeWalking": 6,
    "HKWorkoutActivityTypeHiking": 100,
}
"""``workout_activity`` codes; every other workout type is 0 (other)."""
FOOT_WORKOUTS = frozenset(
    ("HKWorkoutActivityTypeRunning", "HKWorkoutActivityTypeWalking", "HKWorkoutActivityTypeHiking")
)
"""Workouts inside which a watch's step records give ``cadence_spm``."""

LENGTH_M = {
    "m": 1.0,
    "cm": 0.01,
    "mm": 0.001,
    "km": 1000.0,
    "mi": 1609.344,
    "ft": 0.3048,
    "in": 0.0254,
    "yd": 0.9144,
}
SPEED_MPS = {"m/s": 1.0, "km/hr": 1 / 3.6, "mi/hr": 0.44704, "ft/s": 0.3048}
TIME_MS = {"ms": 1.0, "s": 1000.0, "min": 60_000.0}
TIME_S = {"ms": 0.001, "s": 1.0, "min": 60.0, "hr": 3600.0, "d": 86_400.0}
COUNT = {"count": 1.0}
RATE_BPM = {"count/min": 1.0, "count/s": 60.0}

_ADDITIVE, _SAMPLE, _STAND = 0, 1, 2
_RULES: dict[str, tuple[int, int, dict[str, float]]] = {
    _Q + "StepCount": (_ADDITIVE, _CODE["steps"], COUNT),
    _Q + "DistanceWalkingRunning": (_ADDITIVE, _CODE["distance_walking_m"], LENGTH_M),
    _Q + "WalkingStepLength": (_SAMPLE, _CODE["step_length_m"], LENGTH_M),
    _Q + "RunningStrideLength": (_SAMPLE, _CODE["step_length_m"], LENGTH_M),
    _Q + "WalkingSpeed": (_SAMPLE, _CODE["speed_mps"], SPEED_MPS),
    _Q + "RunningSpeed": (_SAMPLE, _CODE["speed_mps"], SPEED_MPS),
    _Q + "RunningGroundContactTime": (_SAMPLE, _CODE["stance_time_ms"], TIME_MS),
    _Q + "RunningVerticalOscillation": (
        _SAMPLE,
        _CODE["vertical_oscillation_mm"],
        {unit: factor * 1000.0 for unit, factor in LENGTH_M.items()},
    ),
    _Q + "HeartRate": (_SAMPLE, _CODE["heart_rate_bpm"], RATE_BPM),
    _STAND_TYPE: (_STAND, _CODE["stand_hour"], {}),
}
"""Record type -> (how it is kept, metric code, unit -> factor to the metric's unit)."""

_SOURCE_RANK = {"watch": 0, "phone": 1, "app": 2}
_ROW = np.dtype([("t", "<i8"), ("m", "u1"), ("v", "<f8")])
"""A spilled metric row: 17 bytes."""


@dataclass
class Decisions:
    """What the importer found in the export, reported to the user."""

    export: str = ""
    sources: str = ""
    kept: str = ""
    skipped: str = ""
    overlap: str = ""
    cadence: str = ""
    time_zone: str = ""


class AppleHealthImporter:
    name = "apple-health"
    suffixes = (".xml", ".zip")

    def __init__(self) -> None:
        self.decisions: Decisions | None = None

    def sniff(self, path: Path, head: bytes) -> bool:
        if head.startswith(b"PK\x03\x04"):
            try:
                return _export_member(path) is not None
            except _ZIP_ERRORS:
                # A damaged, encrypted or too new zip named like an export:
                # claim it, so the user hears why it fails.
                return path.suffix.lower() == ".zip"
        return b"<HealthData" in head or b"<!DOCTYPE HealthData" in head

    def read(
        self, path: Path, options: ImportOptions, progress: ProgressCallback
    ) -> Iterator[Batch]:
        decisions = Decisions()
        self.decisions = decisions
        with contextlib.ExitStack() as stack:
            raw = stack.enter_context(path.open("rb"))
            size = path.stat().st_size
            stream, where = _open_stream(path, raw, stack)
            spill = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="psoas-health-")))
            reader = _ExportReader(where, spill)
            progress(0, size)
            _parse(reader, stream, raw, size, progress, where)
            progress(size, size)
            reader.finish()
            yield from reader.batches(path, options, decisions)


# -- opening ------------------------------------------------------------------------------------
def _export_member(path: Path) -> str | None:
    """The export's XML inside a zip: ``export.xml`` in any folder, else (the name depends on the
    phone's language) an XML file whose start names ``HealthData``."""
    with zipfile.ZipFile(path) as archive:
        names = [i.filename for i in archive.infolist() if not i.is_dir()]
        for name in names:
            if name.rsplit("/", 1)[-1] == "export.xml":
                return name
        for name in names:
            base = name.rsplit("/", 1)[-1]
            if base.endswith(".xml") and base != "export_cda.xml" and name.count("/") <= 1:
                with archive.open(name) as member:
                    if b"HealthData" in member.read(2048):
                        return name
    return None


def _open_stream(path: Path, raw: IO[bytes], stack: contextlib.ExitStack) -> tuple[IO[bytes], str]:
    """The XML byte stream (the file, or the zip member) and how errors name it."""
    head = raw.read(4)
    raw.seek(0)
    if head != b"PK\x03\x04":
        return raw, str(path)
    try:
        member = _export_member(path)
        if member is None:
            raise ImportFormatError(
                f"{path}: a zip file without export.xml: not an Apple Health export (psoas reads "
                f"zip files only as Apple Health exports); {_FIX}"
            )
        archive = stack.enter_context(zipfile.ZipFile(raw))
        return stack.enter_context(archive.open(member)), f"{path} ({member})"
    except _ZIP_ERRORS as exc:
        raise ImportFormatError(
            f"{path}: not a readable zip file ({exc}); the download or copy is probably "
            f"incomplete: {_FIX}"
        ) from exc


_DOCTYPE_END = re.compile(rb"\]\s*>")
_VERSION = re.compile(rb"HealthKit Export Version: *(\d+)")
_CONTROL_TO_SPACE = bytes(32 if (b < 32 and b not in (9, 10, 13)) else b for b in range(256))


def _without_dtd(head: bytes) -> bytes:
    """``head`` with the internal DTD subset blanked out, its line breaks kept."""
    start = head.find(b"<!DOCTYPE")
    if start < 0 or head.find(b"<HealthData", 0, start) >= 0:
        return head
    bracket = head.find(b"[", start)
    close = head.find(b">", start)
    if bracket < 0 or bracket > close:
        return head  # no internal subset
    end = _DOCTYPE_END.search(head, bracket)
    if end is None:
        return head  # longer than the first block: let expat read it
    return head[:start] + b"\n" * head.count(b"\n", start, end.end()) + head[end.end() :]


def _parse(
    reader: _ExportReader,
    stream: IO[bytes],
    raw: IO[bytes],
    size: int,
    progress: ProgressCallback,
    where: str,
) -> None:
    """Feed the whole stream to the reader's parser, converting every failure to one error."""
    parser = reader.parser
    first = True
    try:
        while True:
            block = stream.read(READ_BYTES)
            if first:
                found = _VERSION.search(block, 0, 4096)
                reader.version = found.group(1).decode() if found else ""
                block, first = _without_dtd(block), False
            parser.Parse(block.translate(_CONTROL_TO_SPACE), not block)
            if not block:
                break
            reader.convert_if_full()
            progress(min(raw.tell(), size), size)
    except expat.ExpatError as exc:
        column = (exc.offset or 0) + 1
        raise ImportFormatError(
            f"{where}: line {exc.lineno}, column {column}: the XML is not well-formed "
            f"({expat.ErrorString(exc.code)}); the export is damaged or incomplete: {_FIX}"
        ) from exc
    except (LookupError, ValueError) as exc:
        # expat: the XML declaration names an unknown or a multi-byte encoding
        if not isinstance(exc, LookupError) and "encoding" not in str(exc):
            raise
        raise ImportFormatError(
            f"{where}: byte 0: the XML declaration names an encoding that cannot be read "
            f"({exc}); the export is damaged: {_FIX}"
        ) from exc
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ImportFormatError(
            f"{where}: the zip file is damaged near line {parser.CurrentLineNumber} of the "
            f"export ({exc}); the download or copy is probably incomplete: {_FIX}"
        ) from exc
    except OSError as exc:
        raise ImportFormatError(f"{where}: cannot read the file: {exc}") from exc
    if reader.root is None:
        raise ImportFormatError(f"{where}: the file is empty: {_FIX}")


# -- the reader ---------------------------------------------------------------------------------
@dataclass
class _Source:
    index: int
    name: str
    kind: str
    records: int = 0


@dataclass
class _Intervals:
    """One source's step or distance records: (start ns, end ns, value), 24 bytes each."""

    chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.chunks:
            empty = np.zeros(0, np.int64)
            return empty, empty, np.zeros(0)
        parts = list(zip(*self.chunks, strict=True))
        self.chunks = []
        return tuple(np.concatenate(p) for p in parts)  # type: ignore[return-value]


class _ExportReader:
    """Parser state: handlers for expat, pending rows, spilled rows, and the end of file."""

    def __init__(self, where: str, spill: Path) -> None:
        self.where = where
        self.spill = spill
        self.root: str | None = None
        self.export_date = ""
        self.version = ""
        self.sources: dict[str, _Source] = {}
        self.kept: dict[str, int] = {}
        self.skipped: dict[str, int] = {}
        self.offsets: set[int] = set()
        self.samples: list[tuple[int, Any, int, float, int]] = []
        self.additive: list[tuple[int, int, Any, Any, float, int]] = []
        self.intervals: dict[tuple[int, int], _Intervals] = {}
        self.workouts: list[tuple[int, str, Any, Any, float, float, int]] = []
        self.spilled: dict[int, set[int]] = {}
        self.overlap = ""
        self.cadence_rows = 0
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler, self.parser.EndElementHandler = self._handlers()

    # -- handlers (the hot path: one call per element) -----------------------------------------
    def _handlers(self) -> tuple[Callable[[str, dict[str, str]], None], Callable[[str], None]]:
        parser = self.parser
        rules = _RULES.get
        sources = self.sources
        skipped = self.skipped
        kept = self.kept
        samples = self.samples.append
        additive = self.additive.append
        stand_values = _STAND_VALUES.get
        other = self._other_start
        register = self._register
        fail = self._record_error
        depth = 0
        workout: list[Any] | None = None

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal depth, workout
            depth += 1
            if name != "Record" or depth != 2:
                if depth <= 3:
                    workout = other(name, attrs, depth, workout)
                return
            type_ = attrs.get("type")
            rule = rules(type_)  # type: ignore[arg-type]
            if rule is None:
                if type_ is None:
                    fail(attrs, "has no type attribute")
                skipped[type_] = skipped.get(type_, 0) + 1  # type: ignore[index]
                return
            source = sources.get(attrs.get("sourceName"))  # type: ignore[arg-type]
            if source is None:
                source = register(attrs)
            kept[type_] = kept.get(type_, 0) + 1  # type: ignore[index]
            mode, code, factors = rule
            if mode == _STAND:
                value = stand_values(attrs.get("value"))  # type: ignore[arg-type]
                if value is None:
                    fail(attrs, f"has value {attrs.get('value')!r}, not stood or idle")
                samples(
                    (source.index, attrs.get("startDate"), code, value, parser.CurrentLineNumber)
                )
                return
            factor = factors.get(attrs.get("unit"))  # type: ignore[arg-type]
            if factor is None:
                fail(attrs, _unit_problem(attrs.get("unit"), factors))
            try:
                value = float(attrs["value"]) * factor
            except (KeyError, ValueError):
                fail(attrs, f"has value {attrs.get('value')!r}, not a number")
            if mode == _SAMPLE:
                samples(
                    (source.index, attrs.get("startDate"), code, value, parser.CurrentLineNumber)
                )
            else:
                additive(
                    (
                        source.index,
                        code,
                        attrs.get("startDate"),
                        attrs.get("endDate"),
                        value,
                        parser.CurrentLineNumber,
                    )
                )

        def end(name: str) -> None:
            nonlocal depth, workout
            depth -= 1
            if depth == 1 and workout is not None and name == "Workout":
                self.workouts.append(tuple(workout))  # type: ignore[arg-type]
                workout = None

        return start, end

    def _other_start(
        self, name: str, attrs: dict[str, str], depth: int, workout: list[Any] | None
    ) -> list[Any] | None:
        """Every element but a top-level Record, down to a workout's children."""
        if depth == 1:
            if name != "HealthData":
                raise ImportFormatError(
                    f"{self.where}: line {self.parser.CurrentLineNumber}: the document is a "
                    f"<{name}>, not an Apple Health export (<HealthData>); export.xml is the "
                    f"file to import: {_FIX}"
                )
            self.root = name
        elif depth == 2:
            if name == "Workout":
                return self._workout_start(attrs)
            if name == "ExportDate":
                self.export_date = attrs.get("value", "")
            elif name != "Me":
                self.skipped[name] = self.skipped.get(name, 0) + 1
        elif workout is not None and name == "WorkoutStatistics":
            self._workout_statistic(attrs, workout)
        return workout

    def _register(self, attrs: dict[str, str]) -> _Source:
        name = attrs.get("sourceName")
        if name is None:
            self._record_error(attrs, "has no sourceName attribute")
        assert name is not None
        device = attrs.get("device", "")
        if "Watch" in name or "Watch" in device:
            kind = "watch"
        elif "iPhone" in name or "iPhone" in device:
            kind = "phone"
        else:
            kind = "app"
        source = _Source(len(self.sources), name, kind)
        self.sources[name] = source
        return source

    def _record_error(self, attrs: dict[str, str], problem: str) -> None:
        type_ = attrs.get("type", "?")
        raise ImportFormatError(
            f"{self.where}: line {self.parser.CurrentLineNumber}: a {_short(type_)} record "
            f"{problem}; the export is damaged: {_FIX}"
        )

    def _line_error(self, line: int, what: str, problem: str) -> ImportFormatError:
        return ImportFormatError(f"{self.where}: line {line}: {what} {problem}; {_FIX}")

    # -- workouts --------------------------------------------------------------------------------
    def _workout_start(self, attrs: dict[str, str]) -> list[Any]:
        line = self.parser.CurrentLineNumber
        source = self.sources.get(attrs.get("sourceName", "")) or self._register(attrs)
        activity = attrs.get("workoutActivityType", "")
        duration_s = np.nan
        if "duration" in attrs:
            unit = attrs.get("durationUnit", "min")
            if unit not in TIME_S:
                raise self._line_error(line, "a workout", _unit_problem(unit, TIME_S))
            duration_s = (
                self._number(attrs["duration"], line, "a workout's duration") * TIME_S[unit]
            )
        total_m = np.nan
        if "totalDistance" in attrs:
            unit = attrs.get("totalDistanceUnit", "")
            if unit not in LENGTH_M:
                raise self._line_error(
                    line, "a workout's totalDistance", _unit_problem(unit, LENGTH_M)
                )
            total_m = (
                self._number(attrs["totalDistance"], line, "a workout's distance") * LENGTH_M[unit]
            )
        key = _short(activity)
        self.kept["Workout " + key] = self.kept.get("Workout " + key, 0) + 1
        # [source, activity, start, end, duration s, distance m (old form), statistics m, line]
        return [
            source.index,
            activity,
            attrs.get("startDate"),
            attrs.get("endDate"),
            duration_s,
            total_m,
            np.nan,
            line,
        ]

    def _workout_statistic(self, attrs: dict[str, str], workout: list[Any]) -> None:
        """A workout-level statistic: its Distance* sums make the workout's distance."""
        if not attrs.get("type", "").startswith(_Q + "Distance") or "sum" not in attrs:
            return
        line = self.parser.CurrentLineNumber
        unit = attrs.get("unit", "")
        if unit not in LENGTH_M:
            raise self._line_error(line, "a workout statistic", _unit_problem(unit, LENGTH_M))
        metres = self._number(attrs["sum"], line, "a workout statistic") * LENGTH_M[unit]
        workout[6] = metres if np.isnan(workout[6]) else workout[6] + metres

    def _number(self, text: str, line: int, what: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = np.nan
        if not np.isfinite(value) or value < 0:
            raise self._line_error(line, what, f"is {text!r}, not a number")
        return value

    # -- converting pending records ------------------------------------------------------------
    def convert_if_full(self) -> None:
        if len(self.samples) >= CONVERT_ROWS:
            self._convert_samples()
        if len(self.additive) >= CONVERT_ROWS:
            self._convert_additive()

    def _convert_samples(self) -> None:
        if not self.samples:
            return
        source, start, code, value, line = zip(*self.samples, strict=True)
        self.samples.clear()
        lines = np.array(line, np.int64)
        t = self._dates(start, lines, "startDate")
        values = np.array(value, np.float64)
        self._check_values(values, lines, code)
        codes = np.array(code, np.uint8)
        sources = np.array(source, np.int64)
        self._count_records(sources)
        step = codes == _CODE["step_length_m"]
        if step.any():  # every step length also gives a stride length
            t = np.concatenate([t, t[step]])
            values = np.concatenate([values, 2.0 * values[step]])
            codes = np.concatenate(
                [codes, np.full(int(step.sum()), _CODE["stride_length_m"], np.uint8)]
            )
            sources = np.concatenate([sources, sources[step]])
        self._spill(sources, t, codes, values)

    def _convert_additive(self) -> None:
        if not self.additive:
            return
        source, code, start, end, value, line = zip(*self.additive, strict=True)
        self.additive.clear()
        lines = np.array(line, np.int64)
        start_ns = self._dates(start, lines, "startDate")
        end_ns = self._dates(end, lines, "endDate")
        backwards = np.flatnonzero(end_ns < start_ns)
        if len(backwards):
            i = int(backwards[0])
            raise self._line_error(
                int(lines[i]), "a record", f"ends ({end[i]}) before it starts ({start[i]})"
            )
        values = np.array(value, np.float64)
        self._check_values(values, lines, code)
        sources = np.array(source, np.int64)
        self._count_records(sources)
        key = sources * len(METRICS) + np.array(code, np.int64)
        for k in np.unique(key).tolist():
            mask = key == k
            group = self.intervals.setdefault(divmod(k, len(METRICS)), _Intervals())
            group.chunks.append((start_ns[mask], end_ns[mask], values[mask]))

    def _count_records(self, sources: np.ndarray) -> None:
        counts = np.bincount(sources, minlength=len(self.sources))
        for source in self.sources.values():
            source.records += int(counts[source.index])

    def _dates(self, texts: Sequence[Any], lines: np.ndarray, attribute: str) -> np.ndarray:
        utc_ns, offset_min, bad = parse_apple_dates(texts)
        if len(bad):
            i = int(bad[0])
            text = texts[i]
            problem = (
                f"has no {attribute}"
                if text is None
                else f"has {attribute} {text!r}, not a time like 2026-03-29 01:30:00 +0100"
            )
            raise self._line_error(int(lines[i]), "a record", problem)
        self.offsets.update(np.unique(offset_min).tolist())
        return utc_ns

    def _check_values(self, values: np.ndarray, lines: np.ndarray, codes: Sequence[int]) -> None:
        bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
        if len(bad):
            i = int(bad[0])
            raise self._line_error(
                int(lines[i]),
                f"a record ({METRICS[codes[i]]})",
                f"has value {values[i]!r}: not a finite, non-negative number",
            )

    def _spill(
        self, sources: np.ndarray, t: np.ndarray, codes: np.ndarray, values: np.ndarray
    ) -> None:
        """Append rows to one file per source and (UTC) month."""
        if len(t) == 0:
            return
        rows = np.empty(len(t), _ROW)
        rows["t"], rows["m"], rows["v"] = t, codes, values
        month = t.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64) + 50_000
        key = sources.astype(np.int64) * 100_000 + month  # months from 2197 BC: never negative
        order = np.argsort(key, kind="stable")
        key = key[order]
        cuts = [0, *(np.flatnonzero(np.diff(key)) + 1).tolist(), len(key)]
        for lo, hi in itertools.pairwise(cuts):
            source, m = divmod(int(key[lo]), 100_000)
            self.spilled.setdefault(source, set()).add(m)
            with (self.spill / f"{source}-{m}.bin").open("ab") as handle:
                rows[order[lo:hi]].tofile(handle)

    # -- the end of the file ---------------------------------------------------------------------
    def finish(self) -> None:
        """Resolve what needed the whole file: overlaps, cadence, workouts."""
        self._convert_samples()
        self._convert_additive()
        workouts = self._workout_arrays()
        self._cadence(workouts)
        self._deduplicate("steps")
        self._deduplicate("distance_walking_m")
        self._spill_workouts(workouts)

    def _workout_arrays(self) -> dict[str, np.ndarray]:
        if not self.workouts:
            empty = np.zeros(0, np.int64)
            return {
                k: empty
                for k in ("source", "start", "end", "activity", "duration", "metres", "foot")
            }
        source, activity, start, end, duration, total_m, stats_m, line = zip(
            *self.workouts, strict=True
        )
        lines = np.array(line, np.int64)
        start_ns = self._dates(start, lines, "startDate")
        end_ns = self._dates(end, lines, "endDate")
        duration_s = np.array(duration, np.float64)
        missing = np.isnan(duration_s)
        duration_s[missing] = (end_ns[missing] - start_ns[missing]) / NS_PER_S
        stats = np.array(stats_m, np.float64)
        metres = np.where(np.isnan(stats), np.array(total_m, np.float64), stats)
        return {
            "source": np.array(source, np.int64),
            "start": start_ns,
            "end": end_ns,
            "activity": np.array([WORKOUT_ACTIVITIES.get(a, 0) for a in activity], np.float64),
            "duration": duration_s,
            "metres": metres,
            "foot": np.array([a in FOOT_WORKOUTS for a in activity], bool),
        }

    def _cadence(self, workouts: dict[str, np.ndarray]) -> None:
        """Steps per minute of watch step records (10 s - 5 min) inside foot workouts."""
        for source in self.sources.values():
            group = self.intervals.get((source.index, _CODE["steps"]))
            mine = workouts["foot"] & (workouts["source"] == source.index)
            if source.kind != "watch" or group is None or not mine.any():
                continue
            start, end, steps = group.arrays()
            group.chunks = [(start, end, steps)]
            order = np.argsort(workouts["start"][mine])
            w_start = workouts["start"][mine][order]
            w_end = np.maximum.accumulate(workouts["end"][mine][order])
            duration_s = (end - start) / NS_PER_S
            i = np.searchsorted(w_start, start, side="right") - 1
            inside = (i >= 0) & (end <= w_end[np.maximum(i, 0)])
            use = inside & (duration_s >= CADENCE_MIN_S) & (duration_s <= CADENCE_MAX_S)
            n = int(use.sum())
            self.cadence_rows += n
            self._spill(
                np.full(n, source.index),
                start[use],
                np.full(n, _CODE["cadence_spm"], np.uint8),
                steps[use] * 60.0 / duration_s[use],
            )

    def _deduplicate(self, metric: str) -> None:
        """Apply the source priority to an additive metric and spill its rows (t = end)."""
        code = _CODE[metric]
        ranked = sorted(
            (s for s in self.sources.values() if (s.index, code) in self.intervals),
            key=lambda s: (_SOURCE_RANK[s.kind], s.index),
        )
        higher_start: list[np.ndarray] = []
        higher_end: list[np.ndarray] = []
        reduced = dropped = 0
        removed = 0.0
        for source in ranked:
            start, end, value = self.intervals.pop((source.index, code)).arrays()
            if higher_start:
                a, b = _merge(np.concatenate(higher_start), np.concatenate(higher_end))
                fraction = _covered_fraction(start, end, a, b)
            else:
                fraction = np.zeros(len(start))
            higher_start.append(start)
            higher_end.append(end)
            keep = fraction < 1.0
            kept_value = value * (1.0 - fraction)
            reduced += int(np.count_nonzero(fraction > 0))
            dropped += int(np.count_nonzero(~keep))
            removed += float((value - kept_value).sum())
            n = int(keep.sum())
            self._spill(
                np.full(n, source.index), end[keep], np.full(n, code, np.uint8), kept_value[keep]
            )
        if metric == "steps" and reduced:
            self.overlap = (
                f"{reduced} step records of lower-priority sources (phone, apps) overlapped "
                f"higher-priority ones (watch first): {removed:,.0f} steps not counted twice, "
                f"{dropped} records covered entirely and dropped"
            )

    def _spill_workouts(self, w: dict[str, np.ndarray]) -> None:
        n = len(w["start"])
        if n == 0:
            return
        has_distance = ~np.isnan(w["metres"])
        k = int(has_distance.sum())
        self._spill(
            np.concatenate([w["source"], w["source"], w["source"][has_distance]]),
            np.concatenate([w["start"], w["start"], w["start"][has_distance]]),
            np.concatenate(
                [
                    np.full(n, _CODE["workout_s"], np.uint8),
                    np.full(n, _CODE["workout_activity"], np.uint8),
                    np.full(k, _CODE["workout_distance_m"], np.uint8),
                ]
            ),
            np.concatenate([w["duration"], w["activity"], w["metres"][has_distance]]),
        )

    # -- emitting --------------------------------------------------------------------------------
    def batches(self, path: Path, options: ImportOptions, decisions: Decisions) -> Iterator[Batch]:
        devices = self._devices(path, options)
        self._decide(decisions, devices, options)
        for source in self.sources.values():
            device = devices[source.name]
            recording = RecordingInfo(
                device,
                source=f"Apple Health export {path.name} ({source.name})",
                placement=device.placement,
            )
            for month in sorted(self.spilled.get(source.index, ())):
                chunk = self.spill / f"{source.index}-{month}.bin"
                rows = np.fromfile(chunk, dtype=_ROW)
                chunk.unlink()
                rows = rows[np.argsort(rows["t"], kind="stable")]
                for lo in range(0, len(rows), BATCH_ROWS):
                    part = rows[lo : lo + BATCH_ROWS]
                    frame = pd.DataFrame(
                        {
                            "t": part["t"].copy(),
                            "metric": _METRIC_NAMES[part["m"]],
                            "value": part["v"].copy(),
                        }
                    )
                    yield Batch(recording, metrics=frame)

    def _devices(self, path: Path, options: ImportOptions) -> dict[str, DeviceInfo]:
        sources = list(self.sources.values())
        if options.device_id is not None and len(sources) > 1:
            names = ", ".join(s.name for s in sources)
            raise ImportFormatError(
                f"{self.where}: this export holds {len(sources)} sources ({names}); psoas keeps "
                f"each as its own device (apple-health-<source>), so one --device cannot name "
                f"them: import it without --device"
            )
        devices: dict[str, DeviceInfo] = {}
        used: set[str] = set()
        for source in sources:
            placement = "wrist" if source.kind == "watch" else "unknown"
            if options.device_id is not None:
                device_id = options.device_id
                if options.placement != "unknown":
                    placement = options.placement
            else:
                device_id = _device_id(source.name, used)
            used.add(device_id)
            devices[source.name] = DeviceInfo(
                device_id, tz=options.tz, placement=placement, kind=source.kind, name=source.name
            )
        return devices

    def _decide(
        self, decisions: Decisions, devices: dict[str, DeviceInfo], options: ImportOptions
    ) -> None:
        decisions.export = f"Apple Health export of {self.export_date or 'an unknown date'}"
        if self.version:
            decisions.export += f" (HealthKit Export Version {self.version})"
        decisions.sources = "; ".join(
            f"{name} ({d.kind}, device {d.device_id}, {self.sources[name].records:,} records)"
            for name, d in devices.items()
        )
        decisions.kept = ", ".join(f"{_short(k)} {v}" for k, v in sorted(self.kept.items()))
        decisions.skipped = ", ".join(f"{_short(k)} {v}" for k, v in sorted(self.skipped.items()))
        decisions.overlap = self.overlap
        if self.cadence_rows:
            decisions.cadence = (
                f"{self.cadence_rows} cadence values from watch step records of 10 s - 5 min "
                f"inside running, walking and hiking workouts"
            )
        offsets = ", ".join(_offset_text(m) for m in sorted(self.offsets))
        decisions.time_zone = (
            f"times carry their own UTC offsets ({offsets or 'none'}) and are stored exactly; "
            f"local days are cut in {options.tz}"
            + (" (pass --tz to cut them in your zone)" if options.tz == "UTC" else "")
        )


def _short(type_: str) -> str:
    for prefix in (_Q, "HKCategoryTypeIdentifier", "HKWorkoutActivityType"):
        if type_.startswith(prefix):
            return type_[len(prefix) :]
    return type_


def _unit_problem(unit: str | None, factors: dict[str, float]) -> str:
    if unit is None:
        return "has no unit attribute"
    return f"has unit {unit!r}, which psoas does not know (known: {', '.join(factors)})"


def _offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _device_id(source_name: str, used: set[str]) -> str:
    """``apple-health-`` and the source's name as ASCII letters, digits and dashes."""
    ascii_name = unicodedata.normalize("NFKD", source_name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"['’`]", "", ascii_name.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:40].strip("-")
    if not slug:
        slug = "source-" + hashlib.sha1(source_name.encode()).hexdigest()[:8]
    base = candidate = f"apple-health-{slug}"
    n = 2
    while candidate in used:
        candidate = f"{base}-{n}"
        n += 1
    return candidate


# -- timestamps ---------------------------------------------------------------------------------
_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 21, 22, 23, 24])
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def parse_apple_dates(texts: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apple's ``YYYY-MM-DD HH:MM:SS ±HHMM`` texts -> (UTC ns int64, offsets in minutes, the
    indices of texts that are not such a time). Vectorised: no per-text Python work."""
    n = len(texts)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    chars = np.array(texts, dtype="U26").view(np.uint32).reshape(n, 26).astype(np.int64)
    d = chars - ord("0")
    ok = ((d[:, _DIGITS] >= 0) & (d[:, _DIGITS] <= 9)).all(axis=1)
    ok &= (chars[:, 4] == ord("-")) & (chars[:, 7] == ord("-")) & (chars[:, 10] == ord(" "))
    ok &= (chars[:, 13] == ord(":")) & (chars[:, 16] == ord(":")) & (chars[:, 19] == ord(" "))
    ok &= ((chars[:, 20] == ord("+")) | (chars[:, 20] == ord("-"))) & (chars[:, 25] == 0)
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month = d[:, 5] * 10 + d[:, 6]
    day = d[:, 8] * 10 + d[:, 9]
    hour, minute, second = (
        d[:, 11] * 10 + d[:, 12],
        d[:, 14] * 10 + d[:, 15],
        d[:, 17] * 10 + d[:, 18],
    )
    sign = np.where(chars[:, 20] == ord("-"), -1, 1)
    offset_min = sign * ((d[:, 21] * 10 + d[:, 22]) * 60 + d[:, 23] * 10 + d[:, 24])
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_ok = (month >= 1) & (month <= 12)
    days_in_month = _DAYS_IN_MONTH[np.where(month_ok, month, 1)] + ((month == 2) & leap)
    ok &= month_ok & (day >= 1) & (day <= days_in_month)
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59) & (np.abs(offset_min) <= 14 * 60)
    ok &= (d[:, 23] * 10 + d[:, 24]) <= 59
    # days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil)
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    days = era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468
    seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60
    return seconds * NS_PER_S, offset_min, np.flatnonzero(~ok)


# -- overlaps -----------------------------------------------------------------------------------
def deduplicate_overlaps(
    start_ns: np.ndarray, end_ns: np.ndarray, value: np.ndarray, is_priority: np.ndarray
) -> np.ndarray:
    """Values of additive records after the source-priority rule, in the input order.

    Priority records keep their value. Every other record keeps the fraction of its value that
    lies outside the union of the priority records' intervals ``[start, end)`` (its value taken
    as spread evenly over its interval); a zero-length record is dropped (0) if its instant lies
    inside a priority interval. Requires ``end_ns >= start_ns``. Vectorised: the priority
    intervals are sorted and merged, and each record's covered length is found with two binary
    searches into the merged intervals' cumulative length.
    """
    start_ns = np.asarray(start_ns, np.int64)
    end_ns = np.asarray(end_ns, np.int64)
    out = np.asarray(value, np.float64).copy()
    is_priority = np.asarray(is_priority, bool)
    a, b = _merge(start_ns[is_priority], end_ns[is_priority])
    other = ~is_priority
    out[other] *= 1.0 - _covered_fraction(start_ns[other], end_ns[other], a, b)
    return out


def _merge(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The union of intervals [start, end) as sorted, disjoint intervals."""
    keep = end > start
    start, end = start[keep], end[keep]
    if len(start) == 0:
        return start, end
    order = np.argsort(start, kind="stable")
    start, end = start[order], np.maximum.accumulate(end[order])
    begins = np.ones(len(start), bool)
    begins[1:] = start[1:] > end[:-1]
    first = np.flatnonzero(begins)
    last = np.append(first[1:] - 1, len(start) - 1)
    return start[first], end[last]


def _covered_fraction(
    start: np.ndarray, end: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Fraction of each [start, end) covered by the disjoint sorted intervals [a, b)."""
    fraction = np.zeros(len(start))
    if len(a) == 0 or len(start) == 0:
        return fraction
    before = np.concatenate([[0], np.cumsum(b - a)])  # covered length before interval i

    def covered_until(x: np.ndarray) -> np.ndarray:
        i = np.searchsorted(a, x, side="right") - 1
        j = np.maximum(i, 0)
        inside = np.clip(np.minimum(x, b[j]) - a[j], 0, None)
        return np.where(i >= 0, before[j] + inside, 0)

    length = end - start
    positive = length > 0
    covered = covered_until(end[positive]) - covered_until(start[positive])
    fraction[positive] = covered / length[positive]
    point = ~positive
    if point.any():
        i = np.searchsorted(a, start[point], side="right") - 1
        j = np.maximum(i, 0)
        fraction[point] = ((i >= 0) & (start[point] < b[j])).astype(np.float64)
    return fraction
