from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sensors.errors import SchemaError, StoreBusyError, UsageError
from sensors.schema import DERIVED_TABLES
from sensors.store import DeviceInfo, RecordingInfo, Store
from sensors.timeutil import day_bounds_ns, parse_day
from tests.conftest import T0_NS, catalog_dump, imu_frame, tree_snapshot


def test_ingest_then_read_back_exactly(store, recording):
    frame = imu_frame(5000)
    with store.ingest() as tx:
        assert tx.add_samples(recording, frame) == 5000
    back = store.read_samples("imu1")
    pd.testing.assert_frame_equal(back, frame)
    assert back["t"].dtype == "int64" and back["ax"].dtype == "float32"


def test_reingesting_same_seq_range_is_a_noop(store, recording, home):
    frame = imu_frame(3000)
    with store.ingest() as tx:
        tx.add_samples(recording, frame)
    before = (tree_snapshot(home), catalog_dump(home))
    with store.ingest() as tx:
        assert tx.add_samples(recording, frame) == 0
    assert tx.result.duplicate_samples == 3000
    assert tree_snapshot(home) == before[0]
    # only the device's last-sync time may change
    assert [s for s in catalog_dump(home) if "devices" not in s] == [
        s for s in before[1] if "devices" not in s
    ]


def test_overlapping_batches_store_each_sample_once(store, recording):
    with store.ingest() as tx:
        tx.add_samples(recording, imu_frame(1000, seq0=0).iloc[200:700])
    # a later batch overlapping on both sides of the stored range
    full = imu_frame(1000, seq0=0)
    with store.ingest() as tx:
        tx.add_samples(recording, full)
    assert tx.result.new_samples == 500
    back = store.read_samples("imu1")
    pd.testing.assert_frame_equal(back, full)


def test_seq_jumps_are_recorded_as_gaps_not_filled(store, recording):
    frame = imu_frame(1000)
    holed = frame.drop(index=range(400, 425)).reset_index(drop=True)
    with store.ingest() as tx:
        tx.add_samples(recording, holed)
    gaps = store.read_table("gaps")
    assert gaps[["first_missing_seq", "missing_count"]].values.tolist() == [[400, 25]]
    assert len(store.read_samples("imu1")) == 975


def test_gap_between_cursor_and_next_batch_is_recorded(store, recording):
    with store.ingest() as tx:
        tx.add_samples(recording, imu_frame(100, seq0=0))
    with store.ingest() as tx:
        tx.add_samples(recording, imu_frame(100, seq0=150, t0_ns=T0_NS + 1_500_000_000))
    gaps = store.read_table("gaps")
    assert gaps[["first_missing_seq", "missing_count"]].values.tolist() == [[100, 50]]
    assert store.cursor("imu1") == 249


def test_failed_ingest_leaves_store_exactly_as_it_was(store, recording, home):
    with store.ingest() as tx:
        tx.add_samples(recording, imu_frame(1000))
    before = (tree_snapshot(home), catalog_dump(home))
    bad = imu_frame(1000, seq0=5000, t0_ns=T0_NS + 86_400 * 10**9)  # another day: new dirs
    bad.loc[900, "az"] = np.nan
    with pytest.raises(SchemaError), store.ingest() as tx:
        tx.add_samples(recording, imu_frame(800, seq0=2000, t0_ns=T0_NS + 40 * 86_400 * 10**9))
        tx.add_samples(recording, bad)
    assert tree_snapshot(home) == before[0]
    assert catalog_dump(home) == before[1]


def test_parts_are_partitioned_by_local_day(store, home):
    rec = RecordingInfo(DeviceInfo("imu2", tz="America/New_York"), source="test")
    # 2026-01-01 00:00 UTC is 2025-12-31 19:00 in New York: 8 hours at 1 Hz span two local days
    with store.ingest() as tx:
        tx.add_samples(rec, imu_frame(8 * 3600, rate_hz=1.0))
    assert store.days("imu2") == ["2025-12-31", "2026-01-01"]
    parts = sorted(p.relative_to(home).as_posix() for p in (home / "raw").rglob("*.parquet"))
    assert parts == [
        "raw/device=imu2/date=2025-12-31/part-0-17999.parquet",
        "raw/device=imu2/date=2026-01-01/part-18000-28799.parquet",
    ]
    start, end = day_bounds_ns(parse_day("2026-01-01"), "America/New_York")
    day = store.read_samples("imu2", day="2026-01-01")
    assert day["t"].min() >= start and day["t"].max() < end and len(day) == 3 * 3600


def test_dst_day_is_23_hours(store):
    rec = RecordingInfo(DeviceInfo("imu3", tz="Europe/Berlin"), source="test")
    start, end = day_bounds_ns(parse_day("2026-03-29"), "Europe/Berlin")
    assert (end - start) == 23 * 3600 * 10**9
    n = 25 * 3600  # 1 Hz from local midnight for 25 h
    with store.ingest() as tx:
        tx.add_samples(rec, imu_frame(n, t0_ns=start, rate_hz=1.0, gyro=False))
    assert len(store.read_samples("imu3", day="2026-03-29")) == 23 * 3600


def test_read_by_time_range(store, recording):
    with store.ingest() as tx:
        tx.add_samples(recording, imu_frame(10_000))
    start, end = T0_NS + 10 * 10**9, T0_NS + 20 * 10**9  # 100 Hz -> 1000 samples
    part = store.read_samples("imu1", start_ns=start, end_ns=end)
    assert len(part) == 1000 and part["t"].iloc[0] == start


def test_home_is_private(store, home, recording):
    with store.ingest() as tx:
        tx.add_samples(recording, imu_frame(10))
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for path in home.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path


def test_open_removes_debris_but_keeps_committed_parts(home, recording):
    with Store.open(home) as store, store.ingest() as tx:
        tx.add_samples(recording, imu_frame(100))
    day_dir = next((home / "raw").rglob("date=*"))
    (day_dir / ".tmp-deadbeef.parquet").write_bytes(b"half written")
    orphan = home / "raw" / "device=ghost" / "date=2026-01-01"
    orphan.mkdir(parents=True)
    pq.write_table(pq.read_table(next(day_dir.glob("part-*"))), orphan / "part-0-99.parquet")
    with Store.open(home) as store:
        assert len(store.read_samples("imu1")) == 100
    assert not (day_dir / ".tmp-deadbeef.parquet").exists()
    assert not (home / "raw" / "device=ghost").exists()


def test_writer_lock_blocks_second_writer(home, recording):
    with Store.open(home) as a, Store.open(home) as b, a.ingest() as tx:
        tx.add_samples(recording, imu_frame(10))
        busy = pytest.raises(StoreBusyError, match="another psoas process")
        with busy, b._writer_lock(wait_s=0.2):
            pass


def test_device_time_zone_cannot_silently_change(store, recording):
    with store.ingest() as tx:
        tx.add_samples(recording, imu_frame(10))
    other = RecordingInfo(DeviceInfo("imu1", tz="Asia/Tokyo"), source="test")
    changed_tz = pytest.raises(UsageError, match="stored with time zone Europe/Berlin")
    with changed_tz, store.ingest() as tx:
        tx.add_samples(other, imu_frame(10, seq0=10))


def test_metrics_round_trip(store):
    rec = RecordingInfo(DeviceInfo("watch", tz="UTC", kind="watch"), source="test")
    metrics = pd.DataFrame(
        {
            "t": T0_NS + np.arange(6) * 10**9,
            "metric": ["speed_mps", "cadence_spm"] * 3,
            "value": [3.1, 170.0, 3.2, 172.0, 3.0, 171.0],
        }
    )
    with store.ingest() as tx:
        tx.add_metrics(rec, metrics)
    back = store.read_metrics("watch")
    assert back["value"].tolist() == metrics["value"].tolist()
    assert back["metric"].tolist() == metrics["metric"].tolist()


def test_derived_tables_replace_atomically(store):
    rows = pd.DataFrame(
        {
            "device_id": ["a", "a"],
            "day": ["2026-01-01", "2026-01-01"],
            "start": [1, 5],
            "end": [3, 9],
            "duration_s": [2.0, 4.0],
            "sitting_s": [2.0, 4.0],
            "posture": ["sitting", "sitting"],
            "placement": ["thigh", "thigh"],
            "ended_by": ["break", "end_of_data"],
            "bout_start": [1, 5],
            "bout_end": [3, 9],
        }
    )
    store.replace_derived("sitting_bouts", rows, where={"device_id": "a"})
    store.replace_derived("sitting_bouts", rows.iloc[:1], where={"device_id": "a"})
    back = store.read_table("sitting_bouts")
    assert back["start"].tolist() == [1] and back["duration_s"].dtype == "float64"


def test_several_derived_tables_are_replaced_all_or_nothing(store):
    runs = pd.DataFrame(
        {"device_id": ["a"], "day": ["2026-01-01"], "start": [1], "end": [2], "posture": ["lying"]}
    )
    store.replace_derived("posture_runs", runs)
    broken = pd.DataFrame({"device_id": ["a"]})  # misses columns: the whole change is refused
    with pytest.raises(SchemaError, match="missing column"):
        store.replace_derived_tables(
            [("posture_runs", runs.assign(posture="sitting"), None), ("alerts", broken, None)]
        )
    assert store.read_table("posture_runs")["posture"].tolist() == ["lying"]


def test_opening_a_version_1_store_drops_only_recomputable_tables(tmp_path):
    home = tmp_path / "old"
    with Store.open(home) as store:
        store.set_meta("analyzed_until_ns:a", "5")
        store.set_meta("keep", "me")
    conn = sqlite3.connect(home / "catalog.sqlite")
    conn.execute('DROP TABLE "sitting_bouts"')
    conn.execute('CREATE TABLE "sitting_bouts" (device_id TEXT, start INTEGER)')  # old columns
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()
    with Store.open(home) as store:
        assert store.read_table("sitting_bouts").columns.tolist() == list(
            DERIVED_TABLES["sitting_bouts"]
        )
        assert store.get_meta("analyzed_until_ns:a") is None
        assert store.get_meta("keep") == "me"


def test_opening_a_version_4_store_keeps_results_and_migrates_the_routine_log(tmp_path):
    home = tmp_path / "v4"
    with Store.open(home) as store:
        store.set_meta("analyzed_until_ns:a", "5")
        runs = pd.DataFrame(
            {"device_id": ["a"], "day": ["2026-01-01"], "start": [1], "end": [2], "posture": ["x"]}
        )
        store.replace_derived("posture_runs", runs)
    conn = sqlite3.connect(home / "catalog.sqlite")
    conn.execute('DROP TABLE "routine_log"')
    conn.execute(
        'CREATE TABLE "routine_log" (t INTEGER, day TEXT, activity TEXT, minutes REAL,'
        " pain_0_10 REAL, note TEXT)"
    )
    conn.execute(
        "INSERT INTO routine_log VALUES (7, '2026-01-02', 'couch stretch', 4.0, 3.0, 'ok'),"
        " (8, '2026-01-03', NULL, NULL, 5.0, NULL)"
    )
    conn.execute("PRAGMA user_version=4")
    conn.commit()
    conn.close()
    with Store.open(home) as store:
        # analysis results of a version 4 store are still valid: nothing to recompute
        assert store.get_meta("analyzed_until_ns:a") == "5"
        assert store.read_table("posture_runs")["posture"].tolist() == ["x"]
        log = store.read_table("routine_log")
    assert log.columns.tolist() == list(DERIVED_TABLES["routine_log"])
    assert log["t"].tolist() == [7, 8] and log["day"].tolist() == ["2026-01-02", "2026-01-03"]
    assert log["item"].tolist() == ["couch stretch", ""]
    assert log["minutes"].iloc[0] == 4.0 and log["value"].tolist() == [3.0, 5.0]
    assert log["note"].tolist() == ["ok", ""] and set(log["kind"]) == {"note"}
    assert log["entry_id"].is_unique and not log["deleted"].any()


def test_derived_rows_are_appended_all_or_nothing(store):
    row = {c: [None] for c in DERIVED_TABLES["routine_log"]}
    row.update(entry_id=["e1"], version=[1], t=[1], day=["2026-01-01"], deleted=[False])
    first = pd.DataFrame(row)
    store.append_derived("routine_log", first)
    store.append_derived("routine_log", first.assign(version=2, t=2))
    assert store.read_table("routine_log")["version"].tolist() == [1, 2]
    with pytest.raises(SchemaError, match="missing column"):
        store.append_derived("routine_log", first.drop(columns=["note"]))
    assert len(store.read_table("routine_log")) == 2


def test_unknown_derived_table_is_a_usage_error(store):
    with pytest.raises(UsageError, match="unknown table"):
        store.read_table("nope")


def test_store_home_must_be_a_directory(tmp_path: Path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(Exception, match="is a file"):
        Store.open(path)


def test_day_mixing_parts_with_and_without_gyro_reads_nan_for_missing_gyro(store, recording):
    with store.ingest() as tx:
        tx.add_samples(recording, imu_frame(100, gyro=False))
        tx.add_samples(recording, imu_frame(100, seq0=100, t0_ns=T0_NS + 10**9))
    back = store.read_samples("imu1")
    assert len(back) == 200 and back["gx"].dtype == "float32"
    assert back["gx"].iloc[:100].isna().all() and back["gx"].iloc[100:].notna().all()


def test_a_derived_table_read_can_be_thinned_for_display(store):
    rows = pd.DataFrame(
        {"device_id": "a", "day": "2026-01-01", "start": range(90), "end": range(1, 91)}
    ).assign(posture="sitting")
    store.replace_derived("posture_runs", rows)
    every = store.read_table("posture_runs", {"device_id": "a"}, every=3)
    assert len(every) == 30 and set(every["start"]) <= set(rows["start"])
    assert store.read_table("posture_runs", every=1)["start"].tolist() == list(range(90))
