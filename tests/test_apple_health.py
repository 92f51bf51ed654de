"""The Apple Health importer, against generated exports with the real schema and a real store."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensors.errors import ImportFormatError
from sensors.importers import ImportOptions, import_file
from sensors.importers.apple_health import (
    AppleHealthImporter,
    deduplicate_overlaps,
    parse_apple_dates,
)
from sensors.store import Store
from tests import apple_health_export as ah
from tests.conftest import REPO, catalog_dump, tree_snapshot

WATCH_ID = "apple-health-annas-apple-watch"
PHONE_ID = "apple-health-annas-iphone"
DEVICE_OF = {ah.WATCH: WATCH_ID, ah.PHONE: PHONE_ID}
TO_SI = {  # the test's own reading of Apple's units
    "count": 1.0,
    "count/min": 1.0,
    "ms": 1.0,
    "m": 1.0,
    "cm": 0.01,
    "km": 1000.0,
    "in": 0.0254,
    "ft": 0.3048,
    "mi": 1609.344,
    "km/hr": 1000 / 3600,
    "mi/hr": 1609.344 / 3600,
}
ACTIVITY_CODES = {
    "HKWorkoutActivityTypeRunning": 1,
    "HKWorkoutActivityTypeCycling": 2,
    "HKWorkoutActivityTypeWalking": 6,
    "HKWorkoutActivityTypeHiking": 100,
    "HKWorkoutActivityTypeYoga": 0,
}


def import_export(store: Store, path: Path, **options) -> dict[str, str]:
    options.setdefault("tz", "UTC")
    return import_file(store, path, ImportOptions(**options)).decisions


def metric(store: Store, device_id: str, name: str) -> pd.DataFrame:
    frame = store.read_metrics(device_id)
    return frame[frame["metric"] == name].reset_index(drop=True)


def total(store: Store, device_id: str, name: str) -> tuple[int, float]:
    rows = metric(store, device_id, name)
    return len(rows), float(rows["value"].sum())


def expected(truth: ah.ExportTruth, type_: str, source: str, factor: float = 1.0):
    counted = truth.records[(type_, source)]
    return counted.count, counted.total * TO_SI[counted.unit] * factor


def assert_totals(actual: tuple[int, float], wanted: tuple[int, float], what: str) -> None:
    assert actual[0] == wanted[0], f"{what}: {actual[0]} rows, expected {wanted[0]}"
    assert actual[1] == pytest.approx(wanted[1], rel=1e-9), what


# -- 1. content ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("suffix", "units"), [("xml", "metric"), ("zip", "imperial")])
def test_every_kept_metric_equals_the_generators_truth(store, tmp_path, suffix, units):
    truth = ah.write_export(tmp_path / f"export.{suffix}", days=8, seed=3, units=units)
    decisions = import_export(store, truth.path)

    for source, device in DEVICE_OF.items():
        assert total(store, device, "steps")[1] == pytest.approx(truth.steps_kept[source])
        assert total(store, device, "distance_walking_m")[1] == pytest.approx(
            truth.distance_kept_m[source]
        )
    hr = expected(truth, ah.HEART_RATE, ah.WATCH)
    assert_totals(total(store, WATCH_ID, "heart_rate_bpm"), hr, "heart rate")
    walking_step = expected(truth, ah.WALKING_STEP_LENGTH, ah.PHONE)
    assert_totals(total(store, PHONE_ID, "step_length_m"), walking_step, "walking step length")
    assert_totals(
        total(store, PHONE_ID, "stride_length_m"),
        expected(truth, ah.WALKING_STEP_LENGTH, ah.PHONE, 2.0),
        "walking stride length",
    )
    running_step = expected(truth, ah.RUNNING_STRIDE_LENGTH, ah.WATCH)
    assert_totals(total(store, WATCH_ID, "step_length_m"), running_step, "running step length")
    assert_totals(
        total(store, WATCH_ID, "stride_length_m"),
        expected(truth, ah.RUNNING_STRIDE_LENGTH, ah.WATCH, 2.0),
        "running stride length",
    )
    assert_totals(
        total(store, PHONE_ID, "speed_mps"), expected(truth, ah.WALKING_SPEED, ah.PHONE), "walk"
    )
    assert_totals(
        total(store, WATCH_ID, "speed_mps"), expected(truth, ah.RUNNING_SPEED, ah.WATCH), "run"
    )
    assert_totals(
        total(store, WATCH_ID, "stance_time_ms"),
        expected(truth, ah.GROUND_CONTACT, ah.WATCH),
        "ground contact",
    )
    assert_totals(
        total(store, WATCH_ID, "vertical_oscillation_mm"),
        expected(truth, ah.VERTICAL_OSCILLATION, ah.WATCH, 1000.0),
        "vertical oscillation",
    )
    stood, idle = truth.stand[(ah.WATCH, ah.STOOD)], truth.stand[(ah.WATCH, ah.IDLE)]
    assert total(store, WATCH_ID, "stand_hour") == (stood + idle, stood)
    cadence = truth.cadence[ah.WATCH]
    assert cadence.count > 20
    assert_totals(total(store, WATCH_ID, "cadence_spm"), (cadence.count, cadence.total), "cadence")

    workouts = sorted(truth.workouts, key=lambda w: w.start_ns)
    duration = metric(store, WATCH_ID, "workout_s")
    assert duration["t"].tolist() == [w.start_ns for w in workouts]
    np.testing.assert_allclose(duration["value"], [w.duration_s for w in workouts], rtol=1e-12)
    activity = metric(store, WATCH_ID, "workout_activity")
    assert activity["value"].tolist() == [ACTIVITY_CODES[w.activity] for w in workouts]
    distance = metric(store, WATCH_ID, "workout_distance_m")
    with_distance = [w for w in workouts if w.distance_m is not None]
    assert distance["t"].tolist() == [w.start_ns for w in with_distance]
    np.testing.assert_allclose(distance["value"], [w.distance_m for w in with_distance], rtol=1e-9)

    rows = sum(len(store.read_metrics(d)) for d in DEVICE_OF.values())
    assert rows == truth.kept_rows
    assert f"ActiveEnergyBurned {truth.skipped[ah.ACTIVE_ENERGY]}" in decisions["skipped"]
    assert "Correlation 1" in decisions["skipped"]


def test_steps_per_day_are_the_deduplicated_truth(store, tmp_path):
    truth = ah.write_export(tmp_path / "export.xml", days=6, seed=11)
    import_export(store, truth.path)
    steps = pd.concat([metric(store, d, "steps") for d in DEVICE_OF.values()])
    day = steps["t"] // (86_400 * 10**9)
    per_day = steps.groupby(day)["value"].sum()
    want = {(d - dt.date(1970, 1, 1)).days: v for d, v in truth.steps_kept_by_utc_day.items()}
    assert sorted(per_day.index) == sorted(want)
    for d, value in want.items():
        assert per_day[d] == pytest.approx(value, rel=1e-9)


def test_times_are_exact_across_offsets_and_the_dst_change(store, tmp_path):
    stamps = [
        "2026-03-29 01:30:00 +0100",  # Berlin, half an hour before the clocks go forward
        "2026-03-29 03:30:00 +0200",  # Berlin, an hour of real time later
        "2026-01-15 09:00:00 -0500",  # New York in winter
        "2026-10-25 02:30:00 +0200",  # Berlin, the first 02:30 of the day summer time ends
        "2026-10-25 02:30:00 +0100",  # ... and the second one, an hour later
    ]
    records = [
        ah.record_xml(ah.HEART_RATE, ah.WATCH, s, s, str(60 + i), "count/min")
        for i, s in enumerate(stamps)
    ]
    records.append(
        ah.record_xml(ah.STEPS, ah.WATCH, stamps[0], "2026-03-29 03:05:00 +0200", "700", "count")
    )
    path = ah.write_document(tmp_path / "export.xml", records)
    decisions = import_export(store, path)

    hr = metric(store, WATCH_ID, "heart_rate_bpm").sort_values("value")
    assert hr["t"].tolist() == [ah.utc_ns(s) for s in stamps]
    assert hr["t"].tolist()[:2] == [
        pd.Timestamp("2026-03-29 00:30:00Z").value,
        pd.Timestamp("2026-03-29 01:30:00Z").value,
    ]
    assert hr["t"].iloc[4] - hr["t"].iloc[3] == 3600 * 10**9
    steps = metric(store, WATCH_ID, "steps")
    assert steps["t"].tolist() == [pd.Timestamp("2026-03-29 01:05:00Z").value]
    assert "-0500, +0100, +0200" in decisions["time_zone"]


# -- 2. overlap ----------------------------------------------------------------------------------
def test_phone_steps_overlapping_the_watch_are_not_counted_twice(store, tmp_path):
    def steps(source: str, start: str, end: str, value: int) -> str:
        day = "2026-02-03 "
        return ah.record_xml(
            ah.STEPS, source, f"{day}{start} +0100", f"{day}{end} +0100", str(value), "count"
        )

    records = [  # the phone's records come first, as they may in a real export
        steps(ah.PHONE, "08:05:00", "08:15:00", 500),  # half covered by the watch: 250 count
        steps(ah.PHONE, "09:00:00", "09:10:00", 300),  # watch off: all count
        steps(ah.PHONE, "10:00:00", "10:04:00", 200),  # inside the watch's record: none count
        steps(ah.WATCH, "08:00:00", "08:10:00", 600),
        steps(ah.WATCH, "09:58:00", "10:06:00", 400),
    ]
    path = ah.write_document(tmp_path / "export.xml", records)
    decisions = import_export(store, path)

    phone = metric(store, PHONE_ID, "steps")
    assert phone["value"].tolist() == [250.0, 300.0]  # the covered record is dropped
    assert phone["t"].tolist() == [
        pd.Timestamp("2026-02-03 07:15Z").value,
        pd.Timestamp("2026-02-03 08:10Z").value,
    ]
    both = total(store, WATCH_ID, "steps")[1] + total(store, PHONE_ID, "steps")[1]
    assert both == 600 + 400 + 250 + 300
    assert "2 step records" in decisions["overlap"]
    assert "450 steps not counted twice" in decisions["overlap"]


def test_generated_walks_sum_to_the_watch_plus_the_phones_own_steps(store, tmp_path):
    truth = ah.write_export(tmp_path / "export.xml", days=10, seed=5)
    decisions = import_export(store, truth.path)
    written = {s: truth.records[(ah.STEPS, s)].total for s in DEVICE_OF}
    stored = {s: total(store, d, "steps")[1] for s, d in DEVICE_OF.items()}
    assert stored[ah.WATCH] == written[ah.WATCH]
    assert truth.phone_steps_removed > 0.3 * written[ah.PHONE]  # the walks really overlap
    assert stored[ah.PHONE] == pytest.approx(written[ah.PHONE] - truth.phone_steps_removed)
    assert f"{truth.phone_records_reduced} step records" in decisions["overlap"]


# -- 3. sources ----------------------------------------------------------------------------------
def test_each_source_is_its_own_device(store, tmp_path):
    truth = ah.write_export(tmp_path / "export.zip", days=2, seed=1)
    decisions = import_export(store, truth.path, tz="Europe/Berlin")
    devices = store.devices().set_index("device_id")
    assert sorted(devices.index) == sorted(DEVICE_OF.values())
    assert devices.loc[WATCH_ID, ["kind", "placement", "name", "tz"]].tolist() == [
        "watch",
        "wrist",
        ah.WATCH,
        "Europe/Berlin",
    ]
    assert devices.loc[PHONE_ID, ["kind", "placement", "name"]].tolist() == [
        "phone",
        "unknown",
        ah.PHONE,
    ]
    sources = set(store.recordings()["source"])
    assert sources == {f"Apple Health export export.zip ({s})" for s in DEVICE_OF}
    assert (
        "Anna’s Apple Watch (watch, device apple-health-annas-apple-watch" in decisions["sources"]
    )


def test_one_device_id_for_a_one_source_export(store, tmp_path):
    record = ah.record_xml(
        ah.HEART_RATE,
        ah.WATCH,
        "2026-02-03 08:00:00 +0100",
        "2026-02-03 08:00:00 +0100",
        "70",
        "count/min",
    )
    path = ah.write_document(tmp_path / "export.xml", [record])
    import_export(store, path, device_id="my-watch")
    assert store.devices()["device_id"].tolist() == ["my-watch"]


def test_one_device_id_for_several_sources_is_refused(store, tmp_path):
    truth = ah.write_export(tmp_path / "export.xml", days=1)
    with pytest.raises(ImportFormatError, match=r"2 sources .* without --device"):
        import_export(store, truth.path, device_id="my-watch")
    assert store.devices().empty


# -- 4. bad input --------------------------------------------------------------------------------
GOOD = ah.record_xml(
    ah.STEPS, ah.WATCH, "2026-02-03 08:00:00 +0100", "2026-02-03 08:10:00 +0100", "812", "count"
)


def _with_bad_record(record: str) -> list[str]:
    return [GOOD, GOOD.replace("08:", "09:"), record, GOOD.replace("08:", "10:")]


def _bad_record(**changes: str) -> str:
    fields = {
        "type_": ah.WALKING_SPEED,
        "source": ah.PHONE,
        "start": "2026-02-03 11:00:00 +0100",
        "end": "2026-02-03 11:05:00 +0100",
        "value": "4.8",
        "unit": "km/hr",
    }
    fields.update(changes)
    return ah.record_xml(**fields)


def _line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


@pytest.mark.parametrize(
    ("record", "marker", "message"),
    [
        (_bad_record(unit="furlong/fortnight"), "furlong", "unit 'furlong/fortnight'"),
        (_bad_record(value="4,8"), "4,8", "value '4,8', not a number"),
        (_bad_record(value="-3"), 'value="-3"', "not a finite, non-negative number"),
        (_bad_record(start="2026-02-30 11:00:00 +0100"), "02-30", "startDate '2026-02-30"),
        (_bad_record(start="2026-02-03T11:00:00Z"), "T11", "not a time like"),
        (
            _bad_record(type_=ah.STEPS, end="2026-02-03 10:00:00 +0100", unit="count", value="5"),
            'endDate="2026-02-03 10:00:00',
            "ends (2026-02-03 10:00:00 +0100) before it starts",
        ),
        (_bad_record(type_=ah.STAND_HOUR, unit=None, value="sometimes"), "sometimes", "stood"),
        (_bad_record().replace(f' sourceName="{ah.PHONE}"', ""), "11:05", "no sourceName"),
    ],
    ids=["unit", "comma", "negative", "feb-30", "iso", "backwards", "category", "no-source"],
)
def test_a_bad_record_is_refused_naming_its_line(home, tmp_path, record, marker, message):
    path = ah.write_document(tmp_path / "export.xml", _with_bad_record(record))
    line = _line_of(path, marker)
    _refused_and_unchanged(home, tmp_path, path, [f"export.xml: line {line}:", message])


def test_truncated_xml_is_refused_naming_the_line(home, tmp_path):
    truth = ah.write_export(tmp_path / "full.xml", days=2)
    data = truth.path.read_bytes()
    cut = tmp_path / "export.xml"
    cut.write_bytes(data[: len(data) * 2 // 3])
    last_line = cut.read_bytes().count(b"\n") + 1
    _refused_and_unchanged(
        home, tmp_path, cut, [f"line {last_line}, column", "not well-formed", "re-export"]
    )


def test_a_damaged_zip_member_is_refused(home, tmp_path):
    truth = ah.write_export(tmp_path / "export.zip", days=2)
    data = bytearray(truth.path.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the deflated export.xml
    truth.path.write_bytes(bytes(data))
    _refused_and_unchanged(
        home, tmp_path, truth.path, ["export.zip (apple_health_export/export.xml)"]
    )


def test_a_truncated_zip_is_refused(home, tmp_path):
    truth = ah.write_export(tmp_path / "full.zip", days=2)
    cut = tmp_path / "export.zip"
    cut.write_bytes(truth.path.read_bytes()[:50_000])
    _refused_and_unchanged(home, tmp_path, cut, ["not a readable zip file", "incomplete"])


def test_a_zip_without_export_xml_is_refused(home, tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("apple_health_export/export_cda.xml", ah.CDA)
    _refused_and_unchanged(home, tmp_path, path, ["not a format psoas can import", "apple-health"])
    with pytest.raises(ImportFormatError, match=r"without export\.xml"):
        list(AppleHealthImporter().read(path, ImportOptions(), lambda done, size: None))


def test_a_text_file_named_zip_is_refused(home, tmp_path):
    path = tmp_path / "export.zip"
    path.write_text("this is not a zip file\n")
    _refused_and_unchanged(home, tmp_path, path, ["not a format psoas can import"])


def test_another_xml_document_is_refused(home, tmp_path):
    path = tmp_path / "export.xml"
    path.write_text('<?xml version="1.0"?>\n<HealthDataX>\n <HealthData/>\n</HealthDataX>\n')
    _refused_and_unchanged(home, tmp_path, path, ["line 2: the document is a <HealthDataX>"])


def _refused_and_unchanged(home: Path, tmp_path: Path, path: Path, expected: list[str]) -> None:
    """Import a good export, then ``path``: it must fail with ``expected`` and change nothing."""
    (tmp_path / "good").mkdir(exist_ok=True)
    good = ah.write_document(tmp_path / "good" / "export.xml", [GOOD])
    with Store.open(home) as store:
        import_export(store, good)
    before = tree_snapshot(home), catalog_dump(home)
    with Store.open(home) as store, pytest.raises(ImportFormatError) as caught:
        import_export(store, path)
    message = str(caught.value)
    assert str(path) in message
    for text in expected:
        assert text in message, message
    assert (tree_snapshot(home), catalog_dump(home)) == before


# -- robustness ----------------------------------------------------------------------------------
def test_the_broken_ios16_dtd_and_control_characters_are_read(store, tmp_path):
    record = GOOD.replace(
        "/>", '>\n  <MetadataEntry key="HKExternalUUID" value="a\x0bb"/>\n </Record>'
    )
    path = ah.write_document(tmp_path / "export.xml", [record], dtd=ah.BROKEN_DTD)
    bad = tmp_path / "strict.xml"
    bad.write_bytes(path.read_bytes())
    with pytest.raises(ET.ParseError):  # what other tools meet
        ET.parse(bad)
    import_export(store, path)
    assert total(store, WATCH_ID, "steps") == (1, 812.0)


def test_records_copied_into_a_correlation_are_counted_once(store, tmp_path):
    stamp = "2026-02-03 08:10:00 +0100"
    correlation = (
        f' <Correlation type="HKCorrelationTypeIdentifierFood" sourceName="{ah.WATCH}"'
        f' creationDate="{stamp}" startDate="{stamp}" endDate="{stamp}">\n'
        f"  {GOOD.strip()}\n </Correlation>\n"
    )
    path = ah.write_document(tmp_path / "export.xml", [GOOD, correlation])
    decisions = import_export(store, path)
    assert total(store, WATCH_ID, "steps") == (1, 812.0)
    assert "Correlation 1" in decisions["skipped"]


def test_an_export_in_another_language_is_found_in_its_zip(store, tmp_path):
    xml = ah.write_document(tmp_path / "export.xml", [GOOD])
    path = tmp_path / "导出.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("apple_health_export/export_cda.xml", ah.CDA)
        archive.write(xml, "apple_health_export/导出.xml")
    import_export(store, path)
    assert total(store, WATCH_ID, "steps") == (1, 812.0)


def test_sniff_reads_content_not_names(tmp_path):
    importer = AppleHealthImporter()
    truth = ah.write_export(tmp_path / "export.zip", days=1)
    xml = ah.write_document(tmp_path / "renamed.txt", [GOOD])
    assert importer.sniff(truth.path, truth.path.read_bytes()[:4096])
    assert importer.sniff(xml, xml.read_bytes()[:4096])
    other = tmp_path / "other.xml"
    other.write_text('<?xml version="1.0"?>\n<gpx version="1.1"/>\n')
    assert not importer.sniff(other, other.read_bytes())


def test_progress_reports_bytes_of_the_file(store, tmp_path):
    truth = ah.write_export(tmp_path / "export.zip", days=30)
    calls: list[tuple[int, int]] = []
    import_file(store, truth.path, ImportOptions(tz="UTC"), lambda d, n: calls.append((d, n)))
    size = truth.path.stat().st_size
    assert calls[0] == (0, size) and calls[-1] == (size, size)
    assert all(n == size for _, n in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len(calls) <= truth.xml_bytes // (1 << 20) + 4


# -- 5. idempotence ------------------------------------------------------------------------------
def test_importing_the_same_export_twice_stores_it_once(store, tmp_path):
    truth = ah.write_export(tmp_path / "export.zip", days=2)
    first = import_file(store, truth.path, ImportOptions(tz="UTC"))
    second = import_file(store, truth.path, ImportOptions(tz="UTC"))
    assert first.result.new_metric_rows == truth.kept_rows
    assert second.already_imported
    assert sum(len(store.read_metrics(d)) for d in DEVICE_OF.values()) == truth.kept_rows


# -- 6. the pure parts ---------------------------------------------------------------------------
def brute_force(start, end, value, priority) -> list[float]:
    """Each non-priority record's value times its share outside the priority intervals, by
    walking through the pieces of the record that priority intervals cover."""
    spans = [(s, e) for s, e, p in zip(start, end, priority, strict=True) if p]
    out = []
    for s, e, v, p in zip(start, end, value, priority, strict=True):
        if p:
            out.append(v)
        elif e == s:
            out.append(0.0 if any(a <= s < b for a, b in spans) else v)
        else:
            pieces = sorted((max(s, a), min(e, b)) for a, b in spans if max(s, a) < min(e, b))
            covered, reach = 0, s
            for a, b in pieces:
                a = max(a, reach)
                if b > a:
                    covered += b - a
                    reach = b
            out.append(v * (1 - covered / (e - s)))
    return out


records = st.lists(
    st.tuples(st.integers(0, 60), st.integers(0, 25), st.floats(0, 1000), st.booleans()),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(records)
def test_deduplicate_overlaps_matches_brute_force(rows):
    start = np.array([r[0] for r in rows], np.int64)
    end = start + np.array([r[1] for r in rows], np.int64)
    value = np.array([r[2] for r in rows])
    priority = np.array([r[3] for r in rows], bool)
    got = deduplicate_overlaps(start, end, value, priority)
    np.testing.assert_allclose(got, brute_force(start, end, value, priority), atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(dt.datetime(1971, 1, 1), dt.datetime(2100, 12, 31)),
    st.integers(-14 * 4, 14 * 4).map(lambda q: dt.timezone(dt.timedelta(minutes=15 * q))),
)
def test_parse_apple_dates_matches_strptime(moment, zone):
    text = ah.format_date(moment.replace(microsecond=0, tzinfo=zone))
    utc, offset, bad = parse_apple_dates([text, "2026-02-29 10:00:00 +0100", None])
    assert utc[0] == ah.utc_ns(text)
    assert offset[0] == zone.utcoffset(None).total_seconds() // 60
    assert bad.tolist() == [1, 2]  # 2026 is no leap year; a missing date is no date


# -- 7. a 1 GB export in constant memory ---------------------------------------------------------
MEASURE = """
import json, resource, sys, time
from pathlib import Path
import psutil
from sensors.importers import ImportOptions, import_file
from sensors.store import Store


def vm_hwm():  # this address space's own peak; ru_maxrss survives exec and can be the parent's
    try:
        with open("/proc/self/status") as status:
            return next(int(x.split()[1]) * 1024 for x in status if x.startswith("VmHWM:"))
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


path, home = Path(sys.argv[1]), Path(sys.argv[2])
baseline = psutil.Process().memory_info().rss
start = time.perf_counter()
with Store.open(home) as store:
    report = import_file(store, path, ImportOptions(tz="UTC"))
seconds = time.perf_counter() - start
peak = vm_hwm()
maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
with Store.open(home) as store:
    steps = sum(
        float(f.loc[f["metric"] == "steps", "value"].sum())
        for f in (store.read_metrics(d) for d in sorted(report.result.devices))
    )
print(json.dumps({
    "seconds": seconds, "peak_rss": peak, "ru_maxrss": maxrss, "baseline_rss": baseline,
    "rows": report.result.new_metric_rows, "parts": report.result.parts, "steps": steps,
}))
"""


def _import_in_subprocess(path: Path, home: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), str(home)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=500,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_1_gb_export_imports_in_constant_memory(tmp_path):
    figures = {}
    for name, size in (("50MB", 50_000_000), ("1GB", 1_000_000_000)):
        path = tmp_path / f"{name}.xml"
        truth = ah.write_export(path, target_bytes=size, seed=7)
        assert abs(path.stat().st_size - size) <= 0.05 * size
        measured = _import_in_subprocess(path, tmp_path / f"store-{name}")
        assert measured["rows"] == truth.kept_rows
        assert measured["steps"] == pytest.approx(sum(truth.steps_kept.values()), rel=1e-9)
        measured["mb_per_s"] = size / 1e6 / measured["seconds"]
        figures[name] = measured
        path.unlink()
    small, large = figures["50MB"], figures["1GB"]
    report = ", ".join(
        f"{name}: {f['seconds']:.1f} s, {f['mb_per_s']:.0f} MB/s, peak RSS "
        f"{f['peak_rss'] / 1e6:.0f} MB (after imports {f['baseline_rss'] / 1e6:.0f} MB, "
        f"ru_maxrss {f['ru_maxrss'] / 1e6:.0f} MB; "
        f"{f['rows']:,} rows, {f['parts']:,} parts)"
        for name, f in figures.items()
    )
    print(f"\nApple Health import: {report}")
    # Only the steps and distances grow with the file: 24 bytes a record, ~160,000 records
    # (4 MB) in this 1 GB export, a few copies while the overlaps are resolved; all else is
    # bounded by the block and batch sizes. 50 MB leaves room for allocator noise.
    margin = 50e6
    assert large["peak_rss"] <= small["peak_rss"] + margin, report
