"""Several devices, one person: precedence thigh > lower back > watch > wrist, and the watch's
own activity log as a posture source."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from analysis.combine import COMBINED, combine, day_codes, watch_runs
from analysis.pipeline import analyze
from analysis.posture import MOVING, NO_DATA, NON_WEAR, SEDENTARY, SITTING, STANDING
from sensors.importers import ImportOptions, import_file
from sensors.simulate import simulate_day
from sensors.store import DeviceInfo, RecordingInfo
from sensors.timeutil import day_bounds_ns
from tests.conftest import shared_file

DAY = dt.date(2026, 3, 10)
ZONE = "Europe/Berlin"


def test_the_best_ranked_device_with_data_decides_each_second():
    thigh = np.array([SITTING, NO_DATA, NON_WEAR, STANDING, NON_WEAR], np.int8)
    wrist = np.array([MOVING, SEDENTARY, SEDENTARY, MOVING, NON_WEAR], np.int8)
    codes, decided_by = combine([(3, wrist), (0, thigh)])
    assert codes.tolist() == [SITTING, SEDENTARY, SEDENTARY, STANDING, NON_WEAR]
    assert decided_by.tolist() == [1, 0, 0, 1, -1]


def test_watch_activity_records_cover_the_time_since_the_previous_record():
    t0 = pd.Timestamp("2026-03-10T08:00Z").value
    minute = 60 * 10**9
    activity = pd.DataFrame({"t": [t0, t0 + 10 * minute, t0 + 12 * minute], "value": [8, 8, 6]})
    runs = watch_runs(activity, t0 - 60 * minute, t0 + 60 * minute)
    codes = day_codes(runs, t0 - 60 * minute, t0 + 60 * minute)
    assert (codes[: 59 * 60] == NO_DATA).all()  # before the first record's minute
    assert (codes[59 * 60 : 70 * 60] == SEDENTARY).all()
    assert (codes[70 * 60 : 72 * 60] == MOVING).all() and (codes[72 * 60 :] == NO_DATA).all()


def _add(store, device: DeviceInfo, samples: pd.DataFrame) -> None:
    with store.ingest() as tx:
        tx.add_samples(RecordingInfo(device, "sim"), samples)


def test_thigh_decides_where_it_was_worn_and_the_wrist_fills_in(store):
    thigh = simulate_day(DAY, placement="thigh", rate_hz=25.0, seed=4, tz=ZONE).samples
    wrist = simulate_day(DAY, placement="wrist", rate_hz=25.0, seed=4, tz=ZONE).samples
    start, _ = day_bounds_ns(DAY, ZONE)
    hour = 3600 * 10**9
    worn = (thigh["t"] >= start + 8 * hour) & (thigh["t"] < start + 18 * hour)
    _add(store, DeviceInfo("thigh-imu", tz=ZONE, placement="thigh"), thigh[worn])
    _add(store, DeviceInfo("wrist-imu", tz=ZONE, placement="wrist"), wrist)
    report = analyze(store)
    assert (COMBINED, DAY.isoformat()) in report.device_days

    combined = store.read_table("daily_summary", {"device_id": COMBINED}).iloc[0]
    assert "thigh-imu" in combined["posture_method"] and "wrist-imu" in combined["posture_method"]
    runs = store.read_table("posture_runs", {"device_id": COMBINED})
    thigh_runs = store.read_table("posture_runs", {"device_id": "thigh-imu"})
    in_thigh_hours = runs[(runs["start"] >= start + 8 * hour) & (runs["end"] <= start + 18 * hour)]
    # while the thigh was worn the person's postures are the thigh's (never the wrist's label)
    assert "sedentary" not in set(in_thigh_hours["posture"])
    assert set(in_thigh_hours["posture"]) <= set(thigh_runs["posture"])
    thigh_sitting = store.read_table("daily_summary", {"device_id": "thigh-imu"})["sitting_s"]
    assert combined["sitting_s"] >= thigh_sitting.iloc[0]  # the wrist adds the other hours
    bouts = store.read_table("sitting_bouts", {"device_id": COMBINED})
    outside = bouts[(bouts["end"] <= start + 8 * hour) | (bouts["start"] >= start + 18 * hour)]
    assert len(outside) and set(outside["posture"]) == {"sedentary"}


def test_a_watch_monitoring_file_gives_sedentary_bouts(store):
    import_file(store, shared_file("fit/MonitoringFile.fit"), ImportOptions(tz="UTC"))
    analyze(store)
    summary = store.read_table("daily_summary")
    assert len(summary) >= 1
    assert summary["posture_method"].str.startswith("watch activity_type").all()
    bouts = store.read_table("sitting_bouts")
    assert len(bouts) > 0 and set(bouts["posture"]) == {"sedentary"}
    assert summary["sitting_s"].sum() == bouts["sitting_s"].sum()
