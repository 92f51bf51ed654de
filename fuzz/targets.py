"""The fuzz targets: one per decoder and importer, shared by the hypothesis tests and atheris.

A target takes bytes, hands them to its decoder the way psoas would get them (a file the import
driver reads, sniffs and validates, or a Bluetooth payload) and lets only the project's typed
errors pass: a :class:`sensors.errors.PsoasError` for the importers (the file is refused with a
message naming where), a :class:`ProfileDecodeError` for the Bluetooth decoders (the collector
counts and skips the payload). Anything else escaping a target is a finding.

The importer targets go through :func:`sensors.importers.run.dry_run_file`: the importer the
file's content selects, every batch validated against the data contract, no store (the store's
all-or-nothing behaviour is the hypothesis tests' business, not the decoders').

Seeds are built at run time from the real recordings in ``../shared/data`` (FIT, CWA,
GENEActiv; each cut to at most :data:`SEED_CAP` bytes) and from the tests' generators (CSV,
Apple Health), so no binary is committed.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import io
import re
import shutil
import tempfile
import traceback
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sensors.ble.profiles import ProfileDecodeError, imu, rsc
from sensors.errors import PsoasError
from sensors.importers import ImportOptions
from sensors.importers.run import dry_run_file
from sensors.schema import STANDARD_GRAVITY_MPS2

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SEED_CAP = 64 * 1024
"""Seeds cut from real files keep at most their first 64 KiB."""


# -- the text files of the hypothesis test (tests/test_importer_fuzz.py) -------------------------


def _generic_csv(path: Path) -> Path:
    from tests.conftest import imu_frame

    frame = imu_frame(600)
    frame.assign(t=frame["t"] / 1e9).to_csv(path, index=False)
    return path


def _sensor_logger_csv(path: Path) -> Path:
    from tests.conftest import imu_frame

    frame = imu_frame(600, gyro=False)
    pd.DataFrame(
        {
            "time": frame["t"],
            "seconds_elapsed": (frame["t"] - frame["t"].iloc[0]) / 1e9,
            **{a: frame["a" + a] * STANDARD_GRAVITY_MPS2 for a in "zyx"},
        }
    ).to_csv(path, index=False)
    return path


def _apple_health(path: Path) -> Path:
    from tests.apple_health_export import write_export

    write_export(path, days=1, seed=3)
    return path


TEXT_FILES: dict[str, Callable[[Path], Path]] = {
    "generic.csv": _generic_csv,
    "TotalAcceleration.csv": _sensor_logger_csv,
    "export.xml": _apple_health,
    "export.zip": _apple_health,
}
"""The text files the hypothesis test mutates: file name -> writer of the original."""


def _slim_export(full_xml: bytes, per_kind: int = 3) -> bytes:
    """A small but complete export: the header and the first ``per_kind`` top-level elements
    of each kind (record type, workout, summary) of a generated one-day export."""
    text = full_xml.decode()
    start = text.index("\n <ExportDate")
    body_start = text.index("\n", text.index("\n <Me ", start) + 1) + 1
    head, body = text[:body_start], text[body_start:]
    end = body.rindex("</HealthData>")
    chunks = re.split(r"(?m)^(?= <[A-Z])", body[:end])
    kept: dict[str, int] = {}
    out = [head]
    for chunk in chunks:
        if not chunk.strip():
            continue
        kind = re.match(r' <(\w+)(?:[^>]*?type="([^"]+)")?', chunk)
        key = kind.group(0) if kind is None else f"{kind.group(1)}:{kind.group(2)}"
        if kept.get(key, 0) < per_kind:
            kept[key] = kept.get(key, 0) + 1
            out.append(chunk)
    out.append(body[end:])
    return "".join(out).encode()


def _zipped_export(xml: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("apple_health_export/export.xml", xml)
    return buf.getvalue()


# -- running inputs ---------------------------------------------------------------------------

_WORK: Path | None = None


def _workdir() -> Path:
    """One private temporary folder per process for the files the importer targets write."""
    global _WORK
    if _WORK is None:
        _WORK = Path(tempfile.mkdtemp(prefix="psoas-fuzz-"))
        atexit.register(shutil.rmtree, _WORK, ignore_errors=True)
    return _WORK


def _import_bytes(filename: str, data: bytes) -> None:
    path = _workdir() / filename
    path.write_bytes(data)
    try:
        dry_run_file(path, ImportOptions(tz="UTC"))
    finally:
        path.unlink(missing_ok=True)


def _fit_framed(body: bytes) -> bytes:
    """``body`` (FIT records) framed as a whole FIT file with a right data size and right CRCs,
    so that the records reach the decoder instead of stopping at the integrity check."""
    from garmin_fit_sdk.crc_calculator import CrcCalculator

    header = bytearray(b"\x0e\x20\x54\x08" + len(body).to_bytes(4, "little") + b".FIT")
    header += CrcCalculator.calculate_crc(header, 0, 12).to_bytes(2, "little")
    whole = bytes(header) + body
    return whole + CrcCalculator.calculate_crc(whole, 0, len(whole)).to_bytes(2, "little")


def _fit_body(data: bytes) -> bytes:
    size = data[0]
    end = size + int.from_bytes(data[4:8], "little")
    return data[size:end]


def _imu_batch(data: bytes) -> None:
    imu.batch_to_frame(imu.decode_batch(data))


def _imu_control(data: bytes) -> None:
    # the RACP requests a device decodes, the responses and Device Time the collector decodes
    for decode in (imu.decode_racp_request, imu.decode_racp_response, imu.decode_device_time):
        with contextlib.suppress(ProfileDecodeError):
            decode(data)


# -- seeds ------------------------------------------------------------------------------------


def _shared(*relative: str) -> list[bytes]:
    """The first SEED_CAP bytes of each named real file (missing files are left out)."""
    out = []
    for name in relative:
        path = SHARED_DATA / name
        if path.exists():
            out.append(path.read_bytes()[:SEED_CAP])
    return out


_FIT_FILES = (
    "fit/garmin-fenix-5-walk.fit",
    "fit/garmin-fenix-5-run.fit",
    "fit/MonitoringFile.fit",
    "fit/activity-small-fenix2-run.fit",
    "fit/invalid/activity-filecrc.fit",
    "fit/invalid/activity-settings-corruptheader.fit",
    "fit/invalid/activity-unexpected-eof.fit",
)


def _fit_seeds() -> list[bytes]:
    return _shared(*_FIT_FILES)


def _fit_body_seeds() -> list[bytes]:
    bodies = []
    for name in _FIT_FILES[:3]:
        path = SHARED_DATA / name
        if path.exists():
            bodies.append(_fit_body(path.read_bytes())[:SEED_CAP])
    return bodies


def _text_seed(name: str) -> list[bytes]:
    folder = _workdir() / "seeds"
    folder.mkdir(exist_ok=True)
    data = TEXT_FILES[name](folder / name).read_bytes()
    return [data]


@functools.cache  # the zip target's seed is the first of these: the export is built once
def _apple_xml_seeds() -> list[bytes]:
    folder = _workdir() / "seeds"
    folder.mkdir(exist_ok=True)
    full = _apple_health(folder / "export.xml").read_bytes()
    return [_slim_export(full, 3), _slim_export(full, 1)]


def _apple_zip_seeds() -> list[bytes]:
    return [_zipped_export(xml) for xml in _apple_xml_seeds()[:1]]


def _imu_batch_seeds() -> list[bytes]:
    from tests.conftest import imu_frame

    out = []
    for gyro in (True, False):
        frame = imu_frame(40, gyro=gyro)
        batches = imu.frame_to_batches(
            frame,
            acc_range_g=8,
            gyro_range_dps=2000 if gyro else 0,
            rate_hz=100.0,
            max_samples=20,
        )
        out += [imu.encode_batch(b) for b in batches]
    return out


def _imu_config_seeds() -> list[bytes]:
    return [
        imu.encode_config(imu.ImuConfig(1, True, 100.0, 8, 2000, "thigh", 20)),
        imu.encode_config(imu.ImuConfig(1, False, 50.0, 4, 0, "wrist", 40)),
    ]


def _imu_control_seeds() -> list[bytes]:
    return [
        imu.encode_racp_request(imu.RacpOp.SEND, 0),
        imu.encode_racp_response(
            imu.RacpResponse(imu.RacpOp.REPORT_COUNT, imu.RacpStatus.SUCCESS, 1, 2)
        ),
        imu.encode_device_time(1_767_225_600_000_000),
    ]


def _rsc_measurement_seeds() -> list[bytes]:
    return [
        rsc.encode_rsc_measurement(rsc.RscMeasurement(3.2, 170, 1.1, 1234.5, True)),
        rsc.encode_rsc_measurement(rsc.RscMeasurement(1.4, 110, None, None, False)),
    ]


def _rsc_feature_seeds() -> list[bytes]:
    return [rsc.encode_rsc_feature(sorted(rsc.FEATURE_BITS)), rsc.encode_rsc_feature([])]


# -- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One decoder or importer under fuzzing."""

    name: str
    run: Callable[[bytes], object]
    """Feeds the bytes to the decoder; raises only ``typed`` errors on bad input."""
    typed: tuple[type[BaseException], ...]
    seeds: Callable[[], list[bytes]]
    about: str = ""


def _file(filename: str) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        _import_bytes(filename, data)

    run.__name__ = f"import_{filename.replace('.', '_')}"
    return run


_IMPORT = (PsoasError,)
_DECODE = (ProfileDecodeError,)

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("fit", _file("mutated.fit"), _IMPORT, _fit_seeds, "FIT file as is"),
        Target(
            "fit_records",
            lambda data: _import_bytes("mutated.fit", _fit_framed(data)),
            _IMPORT,
            _fit_body_seeds,
            "FIT records framed with a right header, size and CRCs",
        ),
        Target(
            "cwa",
            _file("mutated.cwa"),
            _IMPORT,
            lambda: _shared("skdh_io/ax3_sample.cwa", "skdh_io/ax6_sample.cwa"),
            "Axivity CWA file (AX3, AX6)",
        ),
        Target(
            "geneactiv",
            _file("mutated.bin"),
            _IMPORT,
            lambda: _shared("skdh_io/gnactv_sample.bin"),
            "GENEActiv BIN file",
        ),
        Target(
            "csv",
            _file("generic.csv"),
            _IMPORT,
            lambda: _text_seed("generic.csv"),
            "generic CSV",
        ),
        Target(
            "csv_sensor_logger",
            _file("TotalAcceleration.csv"),
            _IMPORT,
            lambda: _text_seed("TotalAcceleration.csv"),
            "Sensor Logger CSV preset",
        ),
        Target(
            "apple_health_xml",
            _file("export.xml"),
            _IMPORT,
            _apple_xml_seeds,
            "Apple Health export.xml",
        ),
        Target(
            "apple_health_zip",
            _file("export.zip"),
            _IMPORT,
            _apple_zip_seeds,
            "Apple Health export.zip",
        ),
        Target("imu_batch", _imu_batch, _DECODE, _imu_batch_seeds, "IMU Data notification"),
        Target("imu_config", imu.decode_config, _DECODE, _imu_config_seeds, "IMU Config"),
        Target("imu_control", _imu_control, _DECODE, _imu_control_seeds, "RACP and Device Time"),
        Target(
            "rsc_measurement",
            rsc.decode_rsc_measurement,
            _DECODE,
            _rsc_measurement_seeds,
            "RSC Measurement",
        ),
        Target("rsc_feature", rsc.decode_rsc_feature, _DECODE, _rsc_feature_seeds, "RSC Feature"),
    )
}


# -- classification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """An input that made a target raise something other than its typed errors."""

    target: str
    data: bytes
    error: str
    where: str


def is_typed(target: Target, exc: BaseException) -> bool:
    """True if ``exc`` is one of the errors ``target`` may raise on bad input."""
    return isinstance(exc, target.typed)


def check(target: Target, data: bytes) -> None:
    """Run ``target`` on ``data``: return for a decoded input or a typed error, re-raise
    anything else (atheris then reports it as a crash and saves the input)."""
    try:
        target.run(data)
    except Exception as exc:
        if not is_typed(target, exc):
            raise


def findings(target: Target, inputs: Iterable[bytes]) -> list[Finding]:
    """The inputs of ``inputs`` that make ``target`` raise an untyped error."""
    out = []
    for data in inputs:
        try:
            check(target, data)
        except Exception as exc:
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{Path(frame.filename).name}:{frame.lineno} ({frame.name})"
            out.append(Finding(target.name, data, f"{type(exc).__name__}: {exc}", where))
    return out


def mutations(data: bytes, count: int, seed: int = 0) -> list[bytes]:
    """``count`` cheap deterministic mutations of ``data``: truncations, bit flips, a byte run
    overwritten with 0x00 / 0xFF, random bytes spliced in."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        buf = bytearray(data)
        pos = int(rng.integers(0, max(1, len(buf))))
        kind = i % 4
        if kind == 0:
            del buf[pos:]
        elif kind == 1 and buf:
            buf[pos] ^= 1 << int(rng.integers(0, 8))
        elif kind == 2:
            run = int(rng.integers(1, 9))
            buf[pos : pos + run] = bytes([0xFF if rng.integers(0, 2) else 0x00]) * run
        else:
            noise = rng.integers(0, 256, int(rng.integers(1, 33)), dtype=np.uint8).tobytes()
            buf[pos:pos] = noise
        out.append(bytes(buf))
    return out
