from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analysis.coverage import recorded_seconds
from analysis.pipeline import analyze
from analysis.signal import bin_means
from dashboard.figures import coverage_figure, day_acceleration_figure
from sensors.store import DeviceInfo, RecordingInfo
from tests.conftest import T0_NS, imu_frame

DAY_NS = 86_400 * 10**9


def test_recorded_seconds_skips_pauses():
    t = np.concatenate([np.arange(100), 1000 + np.arange(100)]) * 10**8  # 10 Hz, one long pause
    assert recorded_seconds(t) == pytest.approx(20.0)


def test_analyze_summarises_each_device_day_with_gaps(store):
    rec = RecordingInfo(DeviceInfo("d", tz="UTC", placement="thigh"), source="t")
    day1 = imu_frame(3600, rate_hz=1.0).drop(index=range(100, 130))
    day2 = imu_frame(1800, seq0=3600, t0_ns=T0_NS + DAY_NS, rate_hz=1.0)
    with store.ingest() as tx:
        tx.add_samples(rec, day1)
        tx.add_samples(rec, day2)
    report = analyze(store)
    assert report.device_days == [("d", "2026-01-01"), ("d", "2026-01-02")]
    summary = store.read_table("daily_summary")
    assert summary["samples"].tolist() == [3570, 1800]
    assert summary["gap_count"].tolist() == [1, 0]
    assert summary["missing_samples"].tolist() == [30, 0]
    assert summary["placement"].tolist() == ["thigh", "thigh"]
    # the day preview the dashboard draws: 30 s means of the stored samples, per day
    preview = store.read_table("day_preview", {"device_id": "d", "day": "2026-01-01"})
    samples = store.read_samples("d", day="2026-01-01")
    expected = bin_means(samples, ["ax", "ay", "az"], 30.0)
    np.testing.assert_array_equal(preview["t"].to_numpy(), expected["t"].to_numpy())
    np.testing.assert_allclose(preview[["ax", "ay", "az"]], expected[["ax", "ay", "az"]])


def test_analyze_only_revisits_days_with_new_data(store):
    rec = RecordingInfo(DeviceInfo("d", tz="UTC"), source="t")
    with store.ingest() as tx:
        tx.add_samples(rec, imu_frame(100, rate_hz=1.0))
    assert len(analyze(store).device_days) == 1
    assert analyze(store).device_days == []
    with store.ingest() as tx:
        tx.add_samples(rec, imu_frame(100, seq0=100, t0_ns=T0_NS + 3 * DAY_NS, rate_hz=1.0))
    assert analyze(store).device_days == [("d", "2026-01-04")]
    assert len(analyze(store, since=dt.date(2026, 1, 1)).device_days) == 2


def test_bin_means_bins_by_seconds():
    frame = imu_frame(1000, rate_hz=100.0, gyro=False)
    binned = bin_means(frame, ["ax"], 1.0)
    assert len(binned) == 10
    assert binned["ax"].iloc[0] == pytest.approx(frame["ax"].iloc[:100].mean(), rel=1e-6)
    # bins without samples are absent; each row carries its first sample's time
    gapped = frame.drop(index=range(200, 400))
    binned = bin_means(gapped, ["ax"], 1.0)
    assert len(binned) == 8 and binned["t"].iloc[2] == gapped["t"].iloc[200]
    assert binned["ax"].iloc[2] == pytest.approx(frame["ax"].iloc[400:500].mean(), rel=1e-6)


def test_figures_draw_real_data_and_empty_days():
    frame = imu_frame(6000, rate_hz=10.0, gyro=False)
    fig = day_acceleration_figure(frame, "Europe/Berlin", bin_s=60)
    assert [trace.name for trace in fig.data] == ["ax", "ay", "az"]
    assert len(fig.data[0].x) == 10
    empty = day_acceleration_figure(frame.iloc[:0], "UTC")
    assert "no samples" in empty.layout.annotations[0].text
    summary = pd.DataFrame(
        {"device_id": ["a", "a"], "day": ["2026-01-01", "2026-01-02"], "recorded_s": [3600, 7200]}
    )
    assert list(coverage_figure(summary).data[0].y) == [1.0, 2.0]
