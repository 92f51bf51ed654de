"""Realistic Apple Health exports (``export.xml`` / ``export.zip``) with the truth they hold.

Used by ``tests/test_apple_health.py`` and ``benchmarks/apple_health.py``. The files follow the
schema of real exports (HealthKit Export Version 13): the XML declaration, the internal DTD
subset, ``<HealthData locale>``, ``<ExportDate>``, ``<Me>``, then the ``Record`` elements grouped
by type (each type's records in time order, the watch's and the phone's interleaved), top-level
copies of blood-pressure records plus the ``Correlation`` holding them, the ``Workout`` elements
and one ``ActivitySummary`` per day. Timestamps are local to where the wearer was, with the
offset (``2026-03-29 01:30:00 +0100``): a home zone with its daylight-saving changes and trips to
another zone.

A day of data is planned from ``(seed, day)`` alone (wake and sleep times, when the watch was on
the charger, walks, a workout), so every type's pass over the days sees the same plan without
keeping any of it: the file is written type by type, streamed to disk, and the truth is summed
up as it goes (only the list of workouts and one step total per day grow with the file).

Sizes: ``write_export(path, days=5)`` writes five days (about 4 MB); ``target_bytes=N`` picks
the number of days from a sample of 16 days (leaving ~6 % spare) and tops the file up to exactly
``N`` bytes with basal-energy records, a type psoas ignores, and a few bytes of whitespace.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, ClassVar
from zoneinfo import ZoneInfo

import numpy as np

WATCH = "Anna’s Apple Watch"
PHONE = "Anna’s iPhone"
SOURCE_KINDS = {WATCH: "watch", PHONE: "phone"}
WATCH_VERSION = "10.1"
PHONE_VERSION = "17.3.1"
WATCH_DEVICE = (
    "&lt;&lt;HKDevice: 0x2836a0f50&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, "
    "hardware:Watch6,2, software:10.1, creation date:2023-10-02 14:06:40 +0000&gt;"
)
PHONE_DEVICE = (
    "&lt;&lt;HKDevice: 0x2813c4b40&gt;, name:iPhone, manufacturer:Apple Inc., model:iPhone, "
    "hardware:iPhone14,2, software:17.3.1, creation date:2024-01-24 07:51:12 +0000&gt;"
)
_DEVICES = {WATCH: (WATCH_VERSION, WATCH_DEVICE), PHONE: (PHONE_VERSION, PHONE_DEVICE)}

Q = "HKQuantityTypeIdentifier"
STEPS = Q + "StepCount"
DISTANCE = Q + "DistanceWalkingRunning"
HEART_RATE = Q + "HeartRate"
WALKING_SPEED = Q + "WalkingSpeed"
WALKING_STEP_LENGTH = Q + "WalkingStepLength"
RUNNING_SPEED = Q + "RunningSpeed"
RUNNING_STRIDE_LENGTH = Q + "RunningStrideLength"
GROUND_CONTACT = Q + "RunningGroundContactTime"
VERTICAL_OSCILLATION = Q + "RunningVerticalOscillation"
RUNNING_POWER = Q + "RunningPower"
ACTIVE_ENERGY = Q + "ActiveEnergyBurned"
BASAL_ENERGY = Q + "BasalEnergyBurned"
SYSTOLIC = Q + "BloodPressureSystolic"
DIASTOLIC = Q + "BloodPressureDiastolic"
STAND_HOUR = "HKCategoryTypeIdentifierAppleStandHour"
STOOD = "HKCategoryValueAppleStandHourStood"
IDLE = "HKCategoryValueAppleStandHourIdle"

FOOT_WORKOUTS = ("HKWorkoutActivityTypeRunning", "HKWorkoutActivityTypeWalking")
WORKOUTS = {  # activity: (minutes low, minutes high, cadence spm)
    "HKWorkoutActivityTypeRunning": (25, 50, 168.0),
    "HKWorkoutActivityTypeWalking": (30, 60, 114.0),
    "HKWorkoutActivityTypeHiking": (90, 150, 100.0),
    "HKWorkoutActivityTypeCycling": (40, 80, 0.0),
    "HKWorkoutActivityTypeYoga": (30, 60, 0.0),
}
WORKOUT_WEEK = (
    "HKWorkoutActivityTypeRunning",
    None,
    "HKWorkoutActivityTypeWalking",
    "HKWorkoutActivityTypeRunning",
    "HKWorkoutActivityTypeCycling",
    None,
    "HKWorkoutActivityTypeHiking",
    "HKWorkoutActivityTypeYoga",
)
"""The workout of day ``index`` is ``WORKOUT_WEEK[index % 8]`` (a cycle of eight days)."""
STEP_WORKOUTS = frozenset(("HKWorkoutActivityTypeHiking", *FOOT_WORKOUTS))
"""Workouts during which the watch writes step records (cycling and yoga have none)."""
CADENCE_MIN_S = 10.0
CADENCE_MAX_S = 300.0

UNITS = {
    "metric": {
        "distance": ("km", 1e-3),
        "step_length": ("cm", 100.0),
        "speed": ("km/hr", 3.6),
        "stride": ("m", 1.0),
        "oscillation": ("cm", 100.0),
    },
    "imperial": {
        "distance": ("mi", 1 / 1609.344),
        "step_length": ("in", 1 / 0.0254),
        "speed": ("mi/hr", 1 / 0.44704),
        "stride": ("ft", 1 / 0.3048),
        "oscillation": ("in", 1 / 0.0254),
    },
}
"""Per unit system: quantity -> (Apple unit, factor from SI metres or m/s to that unit)."""

DTD = """<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|\
Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Me EMPTY>
<!ATTLIST Me
  HKCharacteristicTypeIdentifierDateOfBirth                 CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBiologicalSex               CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBloodType                   CDATA #REQUIRED
  HKCharacteristicTypeIdentifierFitzpatrickSkinType         CDATA #REQUIRED
  HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!-- Note: Any Records that appear as children of a correlation also appear as top-level records \
in this document. -->
<!ELEMENT Correlation ((MetadataEntry|Record)*)>
<!ATTLIST Correlation
  type          CDATA #REQUIRED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT Workout ((MetadataEntry|WorkoutEvent|WorkoutRoute|WorkoutStatistics|WorkoutActivity)*)>
<!ATTLIST Workout
  workoutActivityType   CDATA #REQUIRED
  duration              CDATA #IMPLIED
  durationUnit          CDATA #IMPLIED
  totalDistance         CDATA #IMPLIED
  totalDistanceUnit     CDATA #IMPLIED
  totalEnergyBurned     CDATA #IMPLIED
  totalEnergyBurnedUnit CDATA #IMPLIED
  sourceName            CDATA #REQUIRED
  sourceVersion         CDATA #IMPLIED
  device                CDATA #IMPLIED
  creationDate          CDATA #IMPLIED
  startDate             CDATA #REQUIRED
  endDate               CDATA #REQUIRED
>
<!ELEMENT WorkoutActivity ((MetadataEntry|WorkoutEvent|WorkoutStatistics)*)>
<!ATTLIST WorkoutActivity
  uuid          CDATA #REQUIRED
  startDate     CDATA #REQUIRED
  endDate       CDATA #IMPLIED
  duration      CDATA #IMPLIED
  durationUnit  CDATA #IMPLIED
>
<!ELEMENT WorkoutEvent (MetadataEntry*)>
<!ATTLIST WorkoutEvent
  type          CDATA #REQUIRED
  date          CDATA #REQUIRED
  duration      CDATA #IMPLIED
  durationUnit  CDATA #IMPLIED
>
<!ELEMENT WorkoutStatistics EMPTY>
<!ATTLIST WorkoutStatistics
  type          CDATA #REQUIRED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
  average       CDATA #IMPLIED
  minimum       CDATA #IMPLIED
  maximum       CDATA #IMPLIED
  sum           CDATA #IMPLIED
  unit          CDATA #IMPLIED
>
<!ELEMENT WorkoutRoute ((MetadataEntry|FileReference)*)>
<!ATTLIST WorkoutRoute
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT FileReference EMPTY>
<!ATTLIST FileReference
  path CDATA #REQUIRED
>
<!ELEMENT ActivitySummary EMPTY>
<!ATTLIST ActivitySummary
  dateComponents           CDATA #IMPLIED
  activeEnergyBurned       CDATA #IMPLIED
  activeEnergyBurnedGoal   CDATA #IMPLIED
  activeEnergyBurnedUnit   CDATA #IMPLIED
  appleMoveTime            CDATA #IMPLIED
  appleMoveTimeGoal        CDATA #IMPLIED
  appleExerciseTime        CDATA #IMPLIED
  appleExerciseTimeGoal    CDATA #IMPLIED
  appleStandHours          CDATA #IMPLIED
  appleStandHoursGoal      CDATA #IMPLIED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
<!ELEMENT VisionPrescription ((RightEye|LeftEye|Attachment|MetadataEntry)*)>
<!ATTLIST VisionPrescription
  type             CDATA #REQUIRED
  dateIssued       CDATA #REQUIRED
  expirationDate   CDATA #IMPLIED
  brand            CDATA #IMPLIED
>
]>
"""

BROKEN_DTD = DTD.replace(
    "  brand            CDATA #IMPLIED\n>\n]>", "  brand            CDATA #IMPLIED\n]>"
)
"""The DTD as iOS 16 wrote it (HealthKit Export Version 12): an ATTLIST that is never closed,
which strict XML parsers refuse with "syntax error" inside the DOCTYPE."""

CDA = """<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="CDA.xsl"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <realmCode code="US"/>
 <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
 <title>Health Data Export</title>
</ClinicalDocument>
"""


# -- timestamps ----------------------------------------------------------------------------------
def format_date(moment: dt.datetime) -> str:
    """Apple's timestamp form of an aware datetime: ``2026-03-29 01:30:00 +0100``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S %z")


def utc_ns(text: str) -> int:
    """UTC nanoseconds of an Apple timestamp (the test's own, slow but obvious, reading)."""
    moment = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
    return int(moment.timestamp()) * 1_000_000_000


class _Clock:
    """UTC seconds -> Apple's local timestamp text in a zone, vectorised with cached pieces."""

    _HMS: ClassVar[list[str]] = [
        f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)
    ]

    def __init__(self) -> None:
        self._transitions: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._days: dict[int, str] = {}
        self._offsets: dict[int, str] = {}

    def midnight(self, day: dt.date, zone: str) -> int:
        """UTC seconds of local midnight starting ``day`` in ``zone``."""
        return int(dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone)).timestamp())

    def offsets(self, utc_s: np.ndarray, zone: str) -> np.ndarray:
        """The zone's UTC offset (s) at each instant."""
        at, offset = self._table(zone)
        return offset[np.searchsorted(at, utc_s, side="right") - 1]

    def stamps(self, utc_s: np.ndarray, zone: str) -> list[str]:
        """``YYYY-MM-DD HH:MM:SS ±HHMM`` of each instant, local to ``zone``."""
        offset = self.offsets(utc_s, zone)
        local = utc_s + offset
        day, second = np.divmod(local, 86_400)
        for d in np.unique(day).tolist():
            if d not in self._days:
                self._days[d] = (dt.date(1970, 1, 1) + dt.timedelta(days=d)).isoformat() + " "
        for o in np.unique(offset).tolist():
            if o not in self._offsets:
                sign, mag = ("-", -o) if o < 0 else ("+", o)
                self._offsets[o] = f" {sign}{mag // 3600:02d}{mag % 3600 // 60:02d}"
        days, hms, offs = self._days, self._HMS, self._offsets
        return [
            days[d] + hms[s] + offs[o]
            for d, s, o in zip(day.tolist(), second.tolist(), offset.tolist(), strict=True)
        ]

    def _table(self, zone: str) -> tuple[np.ndarray, np.ndarray]:
        """Instants (UTC s) at which the zone's offset changes, 2000-2040, found hour-exact."""
        if zone not in self._transitions:
            tz = ZoneInfo(zone)

            def offset_at(s: int) -> int:
                when = dt.datetime.fromtimestamp(s, dt.UTC).astimezone(tz)
                return int(when.utcoffset().total_seconds())

            start = int(dt.datetime(2000, 1, 1, tzinfo=dt.UTC).timestamp())
            at, offset = [start], [offset_at(start)]
            for day_s in range(start + 86_400, start + 41 * 365 * 86_400, 86_400):
                if offset_at(day_s) != offset[-1]:
                    hour = next(
                        h
                        for h in range(day_s - 86_400, day_s + 1, 3600)
                        if offset_at(h) != offset[-1]
                    )
                    at.append(hour)
                    offset.append(offset_at(hour))
            self._transitions[zone] = (np.array(at, np.int64), np.array(offset, np.int64))
        return self._transitions[zone]


# -- hand-made elements (for tests that need exact records) ---------------------------------------
def record_xml(
    type_: str,
    source: str,
    start: str,
    end: str,
    value: str,
    unit: str | None = None,
    *,
    creation: str | None = None,
    metadata: Iterable[tuple[str, str]] = (),
    indent: str = " ",
) -> str:
    """One ``<Record>`` element as Apple writes it (one line, or with ``MetadataEntry`` lines)."""
    version, device = _DEVICES.get(source, (None, None))
    attrs = f'type="{type_}" sourceName="{source}"'
    if version:
        attrs += f' sourceVersion="{version}" device="{device}"'
    if unit is not None:
        attrs += f' unit="{unit}"'
    attrs += f' creationDate="{creation or end}" startDate="{start}" endDate="{end}"'
    attrs += f' value="{value}"'
    entries = [f'{indent} <MetadataEntry key="{k}" value="{v}"/>\n' for k, v in metadata]
    if not entries:
        return f"{indent}<Record {attrs}/>\n"
    return f"{indent}<Record {attrs}>\n{''.join(entries)}{indent}</Record>\n"


def workout_xml(
    activity: str,
    source: str,
    start: str,
    end: str,
    duration_min: float,
    *,
    distance: tuple[float, str] | None = None,
    old_style: bool = False,
    route: str | None = None,
    zone: str = "Europe/Berlin",
) -> str:
    """One ``<Workout>``: the iOS 16+ form (``WorkoutStatistics``, also inside a
    ``WorkoutActivity``) or, with ``old_style``, ``totalDistance`` attributes on the workout."""
    version, device = _DEVICES.get(source, (WATCH_VERSION, WATCH_DEVICE))
    head = f' <Workout workoutActivityType="{activity}" duration="{duration_min!r}"'
    head += ' durationUnit="min"'
    if old_style and distance is not None:
        head += f' totalDistance="{distance[0]!r}" totalDistanceUnit="{distance[1]}"'
    if old_style:
        head += ' totalEnergyBurned="312.4" totalEnergyBurnedUnit="kcal"'
    head += f' sourceName="{source}" sourceVersion="{version}" device="{device}"'
    head += f' creationDate="{end}" startDate="{start}" endDate="{end}">\n'
    body = [
        '  <MetadataEntry key="HKIndoorWorkout" value="0"/>\n',
        f'  <MetadataEntry key="HKTimeZone" value="{zone}"/>\n',
        f'  <WorkoutEvent type="HKWorkoutEventTypeSegment" date="{start}" duration="5.1"'
        ' durationUnit="min"/>\n',
        f'  <WorkoutEvent type="HKWorkoutEventTypePause" date="{start}"/>\n',
        f'  <WorkoutEvent type="HKWorkoutEventTypeResume" date="{start}"/>\n',
    ]
    stats = [
        f'  <WorkoutStatistics type="{Q}ActiveEnergyBurned" startDate="{start}" endDate="{end}"'
        ' sum="312.4" unit="kcal"/>\n',
        f'  <WorkoutStatistics type="{Q}HeartRate" startDate="{start}" endDate="{end}"'
        ' average="148" minimum="102" maximum="171" unit="count/min"/>\n',
    ]
    if distance is not None:
        kind = "DistanceCycling" if "Cycling" in activity else "DistanceWalkingRunning"
        stats.append(
            f'  <WorkoutStatistics type="{Q}{kind}" startDate="{start}" endDate="{end}"'
            f' sum="{distance[0]!r}" unit="{distance[1]}"/>\n'
        )
    if not old_style:
        body.append(
            f'  <WorkoutActivity uuid="4B7B1B8E-2F0B-4C21-9A55-0C1A3F2E6D10" startDate="{start}"'
            f' endDate="{end}" duration="{duration_min!r}" durationUnit="min">\n'
        )
        body.extend(" " + s for s in stats)
        body.append("  </WorkoutActivity>\n")
        body.extend(stats)
    if route:
        body.append(
            f'  <WorkoutRoute sourceName="{source}" sourceVersion="{version}"'
            f' creationDate="{end}" startDate="{start}" endDate="{end}">\n'
            '   <MetadataEntry key="HKMetadataKeySyncVersion" value="2"/>\n'
            f'   <FileReference path="/workout-routes/{route}"/>\n'
            "  </WorkoutRoute>\n"
        )
    return head + "".join(body) + " </Workout>\n"


def header(export_date: str = "2026-03-01 10:00:00 +0100", *, dtd: str = DTD) -> str:
    """Everything before the first record."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        + dtd
        + '<HealthData locale="en_US">\n'
        + f' <ExportDate value="{export_date}"/>\n'
        + ' <Me HKCharacteristicTypeIdentifierDateOfBirth="1984-06-02"'
        ' HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"'
        ' HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet"'
        ' HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet"'
        ' HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>\n'
    )


FOOTER = "</HealthData>\n"


def write_document(path: Path, elements: Iterable[str], *, dtd: str = DTD) -> Path:
    """An export holding exactly ``elements``; ``export.zip`` if ``path`` ends in ``.zip``."""
    with _Sink(path) as sink:
        sink.write(header(dtd=dtd))
        for element in elements:
            sink.write(element)
        sink.write(FOOTER)
    return path


class _Sink:
    """Where the XML goes: a plain file, or ``apple_health_export/export.xml`` inside a zip
    (streamed, deflated), next to ``export_cda.xml`` and the workout routes."""

    def __init__(self, path: Path, routes: Iterable[str] = ()) -> None:
        self.path = path
        self.bytes = 0
        self._routes = list(routes)
        self._zip: zipfile.ZipFile | None = None
        self._out: BinaryIO

    def __enter__(self) -> _Sink:
        if self.path.suffix == ".zip":
            self._zip = zipfile.ZipFile(self.path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
            member = zipfile.ZipInfo("apple_health_export/export.xml", (2026, 3, 1, 10, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            self._out = self._zip.open(member, "w", force_zip64=True)  # type: ignore[assignment]
        else:
            self._out = self.path.open("wb", buffering=1 << 20)
        return self

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        self._out.write(data)
        self.bytes += len(data)

    def add_route(self, name: str) -> None:
        self._routes.append(name)

    def __exit__(self, *exc: object) -> None:
        self._out.close()
        if self._zip is not None:
            self._zip.writestr("apple_health_export/export_cda.xml", CDA)
            for name in self._routes:
                self._zip.writestr(f"apple_health_export/workout-routes/{name}", _GPX)
            self._zip.close()


_GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="Apple Health Export" xmlns="http://www.topografix.com/GPX/1/1">
 <trk><name>Route</name><trkseg>
  <trkpt lon="13.376" lat="52.518"><ele>34.1</ele><time>2026-03-27T06:31:02Z</time></trkpt>
 </trkseg></trk>
</gpx>
"""


# -- the truth -----------------------------------------------------------------------------------
@dataclass
class Totals:
    """Count and sum of values as written (in the record's ``unit``)."""

    count: int = 0
    total: float = 0.0
    unit: str = ""

    def add(self, values: Iterable[float], unit: str = "") -> None:
        for v in values:
            self.count += 1
            self.total += v
        self.unit = unit or self.unit


@dataclass(frozen=True)
class WorkoutTruth:
    source: str
    activity: str
    start_ns: int
    duration_s: float
    distance_m: float | None


@dataclass
class ExportTruth:
    """What an export holds, in Apple's terms, summed up while it was written."""

    path: Path
    xml_bytes: int = 0
    days: int = 0
    records: dict[tuple[str, str], Totals] = field(default_factory=lambda: defaultdict(Totals))
    """(type, sourceName) -> count and sum of the values as written, unit as written."""
    stand: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    """(sourceName, HKCategoryValueAppleStandHour...) -> hours."""
    skipped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """Record types psoas ignores (and other elements) -> count."""
    steps_kept: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    """sourceName -> steps after the watch-over-phone rule."""
    steps_kept_by_utc_day: dict[dt.date, float] = field(default_factory=lambda: defaultdict(float))
    """UTC day of the record's end -> steps of all sources after the watch-over-phone rule."""
    distance_kept_m: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    phone_records_reduced: int = 0
    phone_steps_removed: float = 0.0
    phone_records_dropped: int = 0
    """Phone step and distance records entirely covered by the watch (psoas drops them)."""
    cadence: dict[str, Totals] = field(default_factory=lambda: defaultdict(Totals))
    """sourceName -> steps per minute of the watch's step records inside foot workouts."""
    workouts: list[WorkoutTruth] = field(default_factory=list)
    offsets: set[str] = field(default_factory=set)

    @property
    def kept_rows(self) -> int:
        """Metric rows psoas should store (see the importer's mapping)."""
        per_record = {
            STEPS: 1,
            DISTANCE: 1,
            HEART_RATE: 1,
            WALKING_SPEED: 1,
            RUNNING_SPEED: 1,
            GROUND_CONTACT: 1,
            VERTICAL_OSCILLATION: 1,
            WALKING_STEP_LENGTH: 2,
            RUNNING_STRIDE_LENGTH: 2,
        }
        rows = sum(per_record.get(t, 0) * c.count for (t, _), c in self.records.items())
        rows -= self.phone_records_dropped
        rows += sum(self.stand.values()) + sum(c.count for c in self.cadence.values())
        rows += sum(2 + (w.distance_m is not None) for w in self.workouts)
        return rows


# -- planning a day ------------------------------------------------------------------------------
@dataclass
class _Bout:
    start: int  # UTC s
    end: int
    cadence_spm: float
    step_m: float
    phone: tuple[int, int] | None  # when the phone was carried during the bout
    workout: str | None = None


@dataclass
class _Plan:
    index: int
    day: dt.date
    zone: str
    midnight: int
    wake: int
    sleep: int
    worn: list[tuple[int, int]]
    bouts: list[_Bout]


def _plan(
    seed: int, index: int, first_day: dt.date, zones: tuple[str, str], clock: _Clock
) -> _Plan:
    rng = np.random.default_rng([seed, index, 0])
    day = first_day + dt.timedelta(days=index)
    zone = zones[1] if index % 30 in (1, 2) else zones[0]
    midnight = clock.midnight(day, zone)
    hours = 3600
    wake = midnight + int(rng.uniform(6.5, 7.5) * hours)
    sleep = midnight + int(rng.uniform(22.0, 23.5) * hours)
    charge = midnight + int(rng.uniform(18.5, 19.5) * hours)
    charged = charge + int(rng.uniform(25, 55) * 60)
    worn = [(wake + 300, charge), (charged, sleep)]
    bouts: list[_Bout] = []
    activity = WORKOUT_WEEK[index % len(WORKOUT_WEEK)]
    if activity is not None:
        lo, hi, cadence = WORKOUTS[activity]
        start = wake + int(rng.uniform(0.5, 2.0) * hours)
        end = start + int(rng.uniform(lo, hi) * 60)
        phone = (start, end) if rng.random() < 0.5 else None
        step_m = 1.05 if "Running" in activity else 0.72
        bouts.append(_Bout(start, end, cadence, step_m, phone, activity))
    busy = [(b.start - 600, b.end + 600) for b in bouts]
    for _ in range(int(rng.integers(6, 14))):
        start = int(rng.uniform(wake + 1800, sleep - 3600))
        end = start + int(rng.uniform(3, 25) * 60)
        if any(start < b and a < end for a, b in busy):
            continue
        busy.append((start - 300, end + 300))
        r = rng.random()
        if r < 0.8:  # the phone notices the walk a little earlier or later than the watch
            phone = (start - int(rng.integers(0, 120)), end + int(rng.integers(0, 120)))
        elif r < 0.92:
            phone = (start + (end - start) // 3, end)
        else:
            phone = None
        bouts.append(_Bout(start, end, rng.uniform(100, 122), rng.uniform(0.66, 0.78), phone))
    bouts.sort(key=lambda b: b.start)
    return _Plan(index, day, zone, midnight, wake, sleep, worn, bouts)


def _tiles(
    rng: np.random.Generator, start: int, end: int, lo: int, hi: int, gap: int = 0
) -> list[tuple[int, int]]:
    """Intervals in [start, end) with lengths in [lo, hi] s (the last may be shorter), one after
    the other with pauses of up to ``gap`` s between them."""
    out, t = [], start
    while t < end:
        e = min(end, t + int(rng.integers(lo, hi + 1)))
        out.append((t, e))
        t = e + int(rng.integers(0, gap + 1))
    return out


def _clip(a: int, b: int, intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(max(a, x), min(b, y)) for x, y in intervals if max(a, x) < min(b, y)]


@dataclass
class _Steps:
    """One source's step records of a day (UTC s) and the distance (m) walked in each."""

    start: np.ndarray
    end: np.ndarray
    steps: np.ndarray
    metres: np.ndarray
    in_workout: np.ndarray  # bool: inside a foot workout of this source


def _movement(seed: int, plan: _Plan) -> dict[str, _Steps]:
    """The watch's and the phone's step records of a day (the same in every pass)."""
    rng = np.random.default_rng([seed, plan.index, 1])
    rows: dict[str, list[tuple[int, int, int, float, bool]]] = {WATCH: [], PHONE: []}
    for bout in plan.bouts:
        if bout.cadence_spm <= 0:
            continue
        in_workout = bout.workout in STEP_WORKOUTS
        lo, hi = (20, 150) if in_workout else (60, 420)
        for a, b in _clip(bout.start, bout.end, plan.worn):
            for s, e in _tiles(rng, a, b, lo, hi, gap=20):
                n = max(1, round(bout.cadence_spm * (e - s) / 60 * rng.uniform(0.93, 1.07)))
                rows[WATCH].append((s, e, n, n * bout.step_m, in_workout))
        if bout.phone is not None:
            for s, e in _tiles(rng, bout.phone[0], bout.phone[1], 90, 600):
                n = max(1, round(bout.cadence_spm * (e - s) / 60 * rng.uniform(0.9, 1.1)))
                rows[PHONE].append((s, e, n, n * bout.step_m * rng.uniform(0.95, 1.05), False))
    out = {}
    for source, r in rows.items():
        cols = list(zip(*r, strict=True)) if r else [(), (), (), (), ()]
        out[source] = _Steps(
            np.array(cols[0], np.int64),
            np.array(cols[1], np.int64),
            np.array(cols[2], np.float64),
            np.array(cols[3], np.float64),
            np.array(cols[4], bool),
        )
    return out


def _covered_s(start: np.ndarray, end: np.ndarray, by_start: np.ndarray, by_end: np.ndarray):
    """Seconds of each [start, end) covered by the (non-overlapping) intervals ``by``:
    brute force over all pairs."""
    if len(by_start) == 0 or len(start) == 0:
        return np.zeros(len(start))
    lo = np.maximum(start[:, None], by_start[None, :])
    hi = np.minimum(end[:, None], by_end[None, :])
    return np.clip(hi - lo, 0, None).sum(axis=1).astype(np.float64)


# -- writing -------------------------------------------------------------------------------------
class _Writer:
    """Writes the record types one after the other, day by day, and sums up the truth."""

    def __init__(
        self,
        sink: _Sink,
        truth: ExportTruth,
        seed: int,
        first_day: dt.date,
        days: int,
        zones: tuple[str, str],
        units: str,
        workout_style: str,
    ) -> None:
        self.sink, self.truth, self.seed = sink, truth, seed
        self.first_day, self.days, self.zones = first_day, days, zones
        self.units_name = units
        self.units = UNITS[units]
        self.workout_style = workout_style
        self.clock = _Clock()

    def plans(self) -> Iterator[_Plan]:
        for index in range(self.days):
            yield _plan(self.seed, index, self.first_day, self.zones, self.clock)

    # one formatted line per record, all of one type and source
    def lines(
        self,
        plan: _Plan,
        type_: str,
        source: str,
        unit: str | None,
        start: np.ndarray,
        end: np.ndarray,
        values: list[str],
        metadata: str = "",
    ) -> list[str]:
        version, device = _DEVICES[source]
        unit_attr = f' unit="{unit}"' if unit is not None else ""
        prefix = (
            f' <Record type="{type_}" sourceName="{source}" sourceVersion="{version}"'
            f' device="{device}"{unit_attr} creationDate="'
        )
        close = f'">\n{metadata} </Record>\n' if metadata else '"/>\n'
        starts = self.clock.stamps(start, plan.zone)
        ends = self.clock.stamps(end, plan.zone)
        created = self.clock.stamps(end + 7, plan.zone)
        self.truth.offsets.update({s[-5:] for s in starts[:1] + starts[-1:]})
        return [
            f'{prefix}{c}" startDate="{s}" endDate="{e}" value="{v}{close}'
            for c, s, e, v in zip(created, starts, ends, values, strict=True)
        ]

    def emit(self, per_day: list[str]) -> None:
        self.sink.write("".join(per_day))

    def count(self, type_: str, source: str, unit: str, values: list[str]) -> None:
        self.truth.records[(type_, source)].add(map(float, values), unit)

    # -- the types -------------------------------------------------------------------------------
    def heart_rate(self) -> None:
        meta = '  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="{}"/>\n'
        for plan in self.plans():
            rng = np.random.default_rng([self.seed, plan.index, 2])
            times: list[np.ndarray] = []
            for a, b in plan.worn:
                times.append(np.arange(a + int(rng.integers(0, 300)), b, 330, dtype=np.int64))
            for bout in plan.bouts:
                if bout.workout is not None:
                    times.append(np.arange(bout.start, bout.end, 5, dtype=np.int64))
            t = np.sort(np.concatenate(times)) if times else np.zeros(0, np.int64)
            bpm = np.round(rng.normal(72, 8, len(t))).astype(int)
            values = [str(v) for v in bpm.tolist()]
            self.count(HEART_RATE, WATCH, "count/min", values)
            lines = self.lines(plan, HEART_RATE, WATCH, "count/min", t, t, values, meta.format(0))
            self.emit(lines)

    def steps_and_distance(self, distance: bool) -> None:
        unit, per_m = ("count", 1.0) if not distance else self.units["distance"]
        type_ = DISTANCE if distance else STEPS
        for plan in self.plans():
            moves = _movement(self.seed, plan)
            watch, phone = moves[WATCH], moves[PHONE]
            texts = {}
            values = {}
            for source, m in moves.items():
                if distance:
                    texts[source] = [f"{v:.5f}" for v in (m.metres * per_m).tolist()]
                    values[source] = np.array([float(v) / per_m for v in texts[source]])
                else:
                    texts[source] = [str(int(v)) for v in m.steps.tolist()]
                    values[source] = m.steps.copy()
                self.count(type_, source, unit, texts[source])
            covered = _covered_s(phone.start, phone.end, watch.start, watch.end)
            length = (phone.end - phone.start).astype(np.float64)
            kept_phone = values[PHONE] * (1.0 - covered / length)
            dropped = int(np.count_nonzero(covered >= length))
            self.truth.phone_records_dropped += dropped
            if distance:
                self.truth.distance_kept_m[WATCH] += float(values[WATCH].sum())
                self.truth.distance_kept_m[PHONE] += float(kept_phone.sum())
            else:
                self._step_truth(plan, watch, values[WATCH], phone, kept_phone, covered)
            order = np.argsort(np.concatenate([watch.start, phone.start]), kind="stable")
            lines = self.lines(plan, type_, WATCH, unit, watch.start, watch.end, texts[WATCH])
            lines += self.lines(plan, type_, PHONE, unit, phone.start, phone.end, texts[PHONE])
            self.emit([lines[i] for i in order.tolist()])

    def _step_truth(
        self,
        plan: _Plan,
        watch: _Steps,
        watch_steps: np.ndarray,
        phone: _Steps,
        kept_phone: np.ndarray,
        covered: np.ndarray,
    ) -> None:
        truth = self.truth
        truth.steps_kept[WATCH] += float(watch_steps.sum())
        truth.steps_kept[PHONE] += float(kept_phone.sum())
        reduced = covered > 0
        truth.phone_records_reduced += int(reduced.sum())
        truth.phone_steps_removed += float((phone.steps - kept_phone).sum())
        for end, value in zip(
            np.concatenate([watch.end, phone.end]).tolist(),
            np.concatenate([watch_steps, kept_phone]).tolist(),
            strict=True,
        ):
            truth.steps_kept_by_utc_day[dt.date(1970, 1, 1) + dt.timedelta(days=end // 86_400)] += (
                value
            )
        duration = (watch.end - watch.start).astype(np.float64)
        cadence = watch.in_workout & (duration >= CADENCE_MIN_S) & (duration <= CADENCE_MAX_S)
        truth.cadence[WATCH].add((watch_steps[cadence] * 60.0 / duration[cadence]).tolist())

    def walking_days(self) -> Iterator[tuple[_Plan, np.ndarray, np.ndarray, np.ndarray]]:
        """The phone's walking speed (m/s) and step length (m), one of each per 3-8 min of a
        carried walk: (plan, start, end, speed, step length) per day."""
        for plan in self.plans():
            rng = np.random.default_rng([self.seed, plan.index, 3])
            rows = []
            for bout in plan.bouts:
                if bout.phone is None or bout.workout is not None:
                    continue
                for s, e in _tiles(rng, bout.phone[0], bout.phone[1], 180, 480):
                    if e - s >= 60:
                        step_m = bout.step_m * rng.uniform(0.97, 1.03)
                        rows.append((s, e, step_m * bout.cadence_spm / 60, step_m))
            cols = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
            yield (
                plan,
                np.array(cols[0], np.int64),
                np.array(cols[1], np.int64),
                np.array(cols[2], np.float64),
                np.array(cols[3], np.float64),
            )

    def running_days(self) -> Iterator[tuple[_Plan, np.ndarray, np.ndarray, np.ndarray]]:
        """Running dynamics every 10 s of a running workout: (plan, start, step m, speed m/s)."""
        for plan in self.plans():
            rng = np.random.default_rng([self.seed, plan.index, 4])
            for bout in plan.bouts:
                if bout.workout == "HKWorkoutActivityTypeRunning":
                    t = np.arange(bout.start, bout.end - 10, 10, dtype=np.int64)
                    step = bout.step_m * rng.uniform(0.95, 1.05, len(t))
                    yield plan, t, step, step * bout.cadence_spm / 60

    def write_quantity(
        self,
        type_: str,
        source: str,
        unit: str,
        days: Iterable[tuple[_Plan, np.ndarray, np.ndarray, list[str]]],
    ) -> None:
        for plan, start, end, text in days:
            self.count(type_, source, unit, text)
            self.emit(self.lines(plan, type_, source, unit, start, end, text))

    def stand_hours(self) -> None:
        for plan in self.plans():
            rng = np.random.default_rng([self.seed, plan.index, 5])
            first = -(-plan.worn[0][0] // 3600) * 3600
            start = np.arange(first, plan.worn[-1][1] - 3600, 3600, dtype=np.int64)
            stood = rng.random(len(start)) < 0.7
            values = [STOOD if s else IDLE for s in stood.tolist()]
            for v in values:
                self.truth.stand[(WATCH, v)] += 1
            self.emit(self.lines(plan, STAND_HOUR, WATCH, None, start, start + 3600, values))

    def energy(self, type_: str, every_s: int, stream: int, per_day: int | None = None) -> None:
        """An ignored type: active energy while the watch is worn, basal energy all day."""
        for plan in self.plans():
            rng = np.random.default_rng([self.seed, plan.index, stream])
            if per_day is not None:
                step = 86_400 / max(per_day, 1)
                t = (plan.midnight + np.arange(per_day) * step).astype(np.int64)
            else:
                t = np.concatenate(
                    [np.arange(a, b - every_s, every_s, dtype=np.int64) for a, b in plan.worn]
                )
            kcal = rng.uniform(0.2, 9.9, len(t))
            text = [f"{v:.3f}" for v in kcal.tolist()]
            self.truth.skipped[type_] += len(t)
            self.emit(self.lines(plan, type_, WATCH, "kcal", t, t + every_s, text))

    def blood_pressure(self) -> list[str]:
        """Top-level systolic/diastolic records; returns the Correlations holding copies."""
        correlations = []
        for plan in self.plans():
            if plan.index % 7 != 3:
                continue
            t = np.array([plan.wake + 900], np.int64)
            sys_line = self.lines(plan, SYSTOLIC, PHONE, "mmHg", t, t, ["118"])[0]
            dia_line = self.lines(plan, DIASTOLIC, PHONE, "mmHg", t, t, ["76"])[0]
            self.truth.skipped[SYSTOLIC] += 1
            self.truth.skipped[DIASTOLIC] += 1
            self.emit([sys_line, dia_line])
            stamp = self.clock.stamps(t, plan.zone)[0]
            correlations.append(
                f' <Correlation type="HKCorrelationTypeIdentifierBloodPressure"'
                f' sourceName="{PHONE}" sourceVersion="{PHONE_VERSION}" creationDate="{stamp}"'
                f' startDate="{stamp}" endDate="{stamp}">\n'
                f"  {sys_line.strip()}\n  {dia_line.strip()}\n </Correlation>\n"
            )
        return correlations

    def workouts(self) -> None:
        distance_unit, per_m = self.units["distance"]
        for plan in self.plans():
            moves = None
            for bout in plan.bouts:
                if bout.workout is None:
                    continue
                if moves is None:
                    moves = _movement(self.seed, plan)
                watch = moves[WATCH]
                inside = (watch.start >= bout.start) & (watch.end <= bout.end)
                metres = float(watch.metres[inside].sum())
                if "Cycling" in bout.workout:
                    metres = (bout.end - bout.start) * 6.5
                pause_s = 60 if plan.index % 2 else 0
                duration_min = (bout.end - bout.start - pause_s) / 60
                start, end = self.clock.stamps(np.array([bout.start, bout.end]), plan.zone)
                old = self.workout_style == "old" or (
                    self.workout_style == "mixed" and plan.index % 2 == 1
                )
                has_distance = metres > 0
                distance = (round(metres * per_m, 6), distance_unit) if has_distance else None
                route = f"route_{plan.day.isoformat()}_{bout.start % 86_400}.gpx"
                self.sink.write(
                    workout_xml(
                        bout.workout,
                        WATCH,
                        start,
                        end,
                        duration_min,
                        distance=distance,
                        old_style=old,
                        route=route if has_distance else None,
                        zone=plan.zone,
                    )
                )
                if has_distance and self.sink.path.suffix == ".zip" and self.days <= 60:
                    self.sink.add_route(route)
                self.truth.workouts.append(
                    WorkoutTruth(
                        WATCH,
                        bout.workout,
                        bout.start * 1_000_000_000,
                        duration_min * 60,
                        distance[0] / per_m if distance else None,
                    )
                )

    def activity_summaries(self) -> None:
        for plan in self.plans():
            self.sink.write(_summary(plan.day))
        self.truth.skipped["ActivitySummary"] += self.days


def _summary(day: dt.date) -> str:
    return (
        f' <ActivitySummary dateComponents="{day.isoformat()}" activeEnergyBurned="512.381"'
        ' activeEnergyBurnedGoal="500" activeEnergyBurnedUnit="kcal" appleMoveTime="0"'
        ' appleMoveTimeGoal="0" appleExerciseTime="34" appleExerciseTimeGoal="30"'
        ' appleStandHours="11" appleStandHoursGoal="12"/>\n'
    )


def write_export(
    path: Path,
    *,
    days: int | None = None,
    target_bytes: int | None = None,
    seed: int = 0,
    first_day: dt.date = dt.date(2026, 3, 26),
    zone: str = "Europe/Berlin",
    trip_zone: str = "America/New_York",
    units: str = "metric",
    workout_style: str = "mixed",
    dtd: str = DTD,
) -> ExportTruth:
    """Write an export to ``path`` (``.xml``, or ``.zip`` holding ``apple_health_export/``).

    Give ``days`` (the export covers ``first_day`` and the days after it) or ``target_bytes``
    (``export.xml`` gets that size, within about a kilobyte; the days end at ``first_day`` plus
    however many days fit). Days 1 and 2 of every 30 are spent in ``trip_zone``.
    """
    if (days is None) == (target_bytes is None):
        raise ValueError("give exactly one of days= and target_bytes=")
    zones = (zone, trip_zone)
    if target_bytes is not None:
        days = _days_for(target_bytes, seed, first_day, zones, units, workout_style)
    assert days is not None
    truth = ExportTruth(path, days=days)
    export_date = format_date(
        dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time(10), ZoneInfo(zone))
    )
    with _Sink(path) as sink:
        w = _Writer(sink, truth, seed, first_day, days, zones, units, workout_style)
        sink.write(header(export_date, dtd=dtd))
        _write_body(w, target_bytes)
        sink.write(FOOTER)
        truth.xml_bytes = sink.bytes
    return truth


def _write_body(w: _Writer, target_bytes: int | None) -> None:
    """The record types in export order, then correlations, workouts and activity summaries.

    ``target_bytes``: None writes basal energy at its usual density; a number fills the file up
    to that size with basal-energy records (0 or less: none at all, for size estimates).
    """
    w.heart_rate()
    w.steps_and_distance(distance=False)
    w.steps_and_distance(distance=True)
    w.energy(ACTIVE_ENERGY, 90, stream=6)
    w.stand_hours()
    speed_unit, speed_per = w.units["speed"]
    length_unit, length_per = w.units["step_length"]
    w.write_quantity(
        WALKING_SPEED,
        PHONE,
        speed_unit,
        (
            (p, s, e, [f"{v * speed_per:.4f}" for v in mps.tolist()])
            for p, s, e, mps, _ in w.walking_days()
        ),
    )
    w.write_quantity(
        WALKING_STEP_LENGTH,
        PHONE,
        length_unit,
        (
            (p, s, e, [f"{v * length_per:.1f}" for v in m.tolist()])
            for p, s, e, _, m in w.walking_days()
        ),
    )
    stride_unit, stride_per = w.units["stride"]
    osc_unit, osc_per = w.units["oscillation"]
    running = (
        (RUNNING_SPEED, speed_unit, lambda step, mps: [f"{v * speed_per:.3f}" for v in mps]),
        (
            RUNNING_STRIDE_LENGTH,
            stride_unit,
            lambda step, mps: [f"{v * stride_per:.2f}" for v in step],
        ),
        (GROUND_CONTACT, "ms", lambda step, mps: [str(int(300 - 50 * v)) for v in step]),
        (
            VERTICAL_OSCILLATION,
            osc_unit,
            lambda step, mps: [f"{(0.06 + 0.02 * v) * osc_per:.1f}" for v in step],
        ),
    )
    for type_, unit, text in running:
        w.write_quantity(
            type_,
            WATCH,
            unit,
            (
                (p, t, t + 10, text(step.tolist(), mps.tolist()))
                for p, t, step, mps in w.running_days()
            ),
        )
    for plan, t, _, mps in w.running_days():  # a type psoas ignores
        w.truth.skipped[RUNNING_POWER] += len(t)
        power = [f"{180 + 60 * v:.0f}" for v in mps.tolist()]
        w.emit(w.lines(plan, RUNNING_POWER, WATCH, "W", t, t + 10, power))
    correlations = w.blood_pressure()
    if target_bytes is None:
        w.energy(BASAL_ENERGY, 900, stream=7, per_day=96)
    else:
        tail = sum(len(c.encode()) for c in correlations) + _tail_bytes(w)
        _fill(w, target_bytes - w.sink.bytes - tail - len(FOOTER))
    for c in correlations:
        w.sink.write(c)
    w.truth.skipped["Correlation"] += len(correlations)
    w.workouts()
    w.activity_summaries()


def _tail_bytes(w: _Writer) -> int:
    """Bytes the workouts and activity summaries will take (written to a counter, not a file)."""
    counter = _Counter(w.sink.path)
    probe = _Writer(
        counter,
        ExportTruth(w.sink.path),
        w.seed,
        w.first_day,
        w.days,
        w.zones,
        w.units_name,
        w.workout_style,
    )
    probe.workouts()
    probe.activity_summaries()
    return counter.bytes


class _Counter(_Sink):
    """A sink that only counts."""

    def write(self, text: str) -> None:
        self.bytes += len(text.encode("utf-8"))

    def add_route(self, name: str) -> None:
        pass


def _fill(w: _Writer, budget: int) -> None:
    """Basal-energy records (ignored by psoas) that bring the file to its target size; the last
    few bytes are whitespace between elements."""
    if budget <= 0:
        return
    first = next(w.plans())
    t0 = np.array([first.midnight], np.int64)
    one = len(w.lines(first, BASAL_ENERGY, WATCH, "kcal", t0, t0, ["1.000"])[0].encode())
    records = budget // one
    for plan in w.plans():
        n = records // w.days + (1 if plan.index < records % w.days else 0)
        if n == 0:
            continue
        t = plan.midnight + np.arange(n, dtype=np.int64) * (86_400 // n)
        rng = np.random.default_rng([w.seed, plan.index, 7])
        text = [f"{v:.3f}" for v in rng.uniform(1.0, 9.9, n).tolist()]
        w.truth.skipped[BASAL_ENERGY] += n
        w.emit(w.lines(plan, BASAL_ENERGY, WATCH, "kcal", t, t + 60, text))
    rest = budget - records * one
    if rest > 0:
        w.sink.write(" " * (rest - 1) + "\n")


def _days_for(
    target_bytes: int, seed: int, first_day: dt.date, zones: tuple[str, str], units: str, style: str
) -> int:
    """How many days fit in ``target_bytes``, leaving ~6 % for the basal-energy filler."""
    sample_days = 16
    counter = _Counter(Path("sample.xml"))
    w = _Writer(
        counter, ExportTruth(counter.path), seed, first_day, sample_days, zones, units, style
    )
    _write_body(w, target_bytes=0)
    per_day = counter.bytes / sample_days
    return max(1, int(target_bytes * 0.94 / per_day))
