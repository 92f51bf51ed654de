"""Column layouts of phone apps' CSV exports, recognised from the header row.

A generic CSV needs psoas' own column names (``t``, ``ax``, ...); the apps people actually record
with write their own. A preset names the app's columns, the time format and the units, so that
such a file imports as it is. Each preset keeps one sample header (the first line of a real
export) in ``sample_header``: the tests import a file with exactly that header, and
docs/import-formats.md shows it.

- **Sensor Logger** (Android/iOS, tszheichoi): one CSV per sensor. ``TotalAcceleration.csv``
  holds acceleration including gravity; ``Accelerometer.csv`` is the same header but gravity
  removed, which no posture analysis can use. Columns ``time`` (Unix ns), ``seconds_elapsed``,
  then ``z, y, x`` in that order. The unit is detected from the magnitude (m/s^2 in current
  versions).
- **SensorLog** (iOS, Bernd Thomas): one wide CSV per recording. ``loggingTime(txt)`` is the
  phone's wall clock with its UTC offset; ``accelerometerAcceleration{X,Y,Z}(G)`` is raw
  acceleration in g (gravity included); ``gyroRotation{X,Y,Z}(rad/s)`` the raw gyroscope
  (or ``motionRotationRate{X,Y,Z}(rad/s)`` when only Core Motion was logged).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CsvPreset:
    """How one app's CSV export is laid out."""

    name: str
    app: str
    sample_header: str
    required: tuple[str, ...]
    """Column names (exact) that identify the app's header."""
    time: str
    time_ns_per_unit: float | None
    """Nanoseconds per unit of a numeric time column, or None for text times with offsets."""
    acc: tuple[str, str, str]
    gyro_options: tuple[tuple[str, str, str], ...] = ()
    """Gyroscope column triples, first present wins."""
    acc_unit: str | None = None
    """"g" or "mps2"; None = detect from the magnitude."""
    gyro_unit: str | None = None
    gravity_free_hint: str = ""
    """What to tell the user when the file turns out to hold acceleration without gravity."""

    def matches(self, names: Sequence[str]) -> bool:
        present = set(names)
        return all(name in present for name in self.required)

    def gyro(self, names: Sequence[str]) -> tuple[str, str, str] | None:
        present = set(names)
        return next((g for g in self.gyro_options if set(g) <= present), None)


SENSOR_LOGGER = CsvPreset(
    name="sensor-logger",
    app="Sensor Logger (TotalAcceleration.csv)",
    sample_header="time,seconds_elapsed,z,y,x",
    required=("time", "seconds_elapsed", "z", "y", "x"),
    time="time",
    time_ns_per_unit=1.0,
    acc=("x", "y", "z"),
    gravity_free_hint=(
        "Sensor Logger's Accelerometer.csv has gravity removed; import its "
        "TotalAcceleration.csv instead"
    ),
)

SENSORLOG = CsvPreset(
    name="sensorlog",
    app="SensorLog (iOS)",
    sample_header=(
        "loggingTime(txt),loggingSample(N),accelerometerTimestamp_sinceReboot(s),"
        "accelerometerAccelerationX(G),accelerometerAccelerationY(G),"
        "accelerometerAccelerationZ(G),gyroTimestamp_sinceReboot(s),gyroRotationX(rad/s),"
        "gyroRotationY(rad/s),gyroRotationZ(rad/s)"
    ),
    required=(
        "loggingTime(txt)",
        "accelerometerAccelerationX(G)",
        "accelerometerAccelerationY(G)",
        "accelerometerAccelerationZ(G)",
    ),
    time="loggingTime(txt)",
    time_ns_per_unit=None,
    acc=(
        "accelerometerAccelerationX(G)",
        "accelerometerAccelerationY(G)",
        "accelerometerAccelerationZ(G)",
    ),
    gyro_options=(
        ("gyroRotationX(rad/s)", "gyroRotationY(rad/s)", "gyroRotationZ(rad/s)"),
        ("motionRotationRateX(rad/s)", "motionRotationRateY(rad/s)", "motionRotationRateZ(rad/s)"),
    ),
    acc_unit="g",
    gyro_unit="rads",
)

PRESETS: tuple[CsvPreset, ...] = (SENSOR_LOGGER, SENSORLOG)


def preset_for(names: Sequence[str]) -> CsvPreset | None:
    """The preset whose identifying columns are all in the header ``names``, if any."""
    return next((p for p in PRESETS if p.matches(names)), None)
