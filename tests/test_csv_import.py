from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sensors.errors import ImportFormatError
from sensors.importers import ImportOptions, import_file
from sensors.importers.csv_presets import SENSOR_LOGGER, SENSORLOG
from sensors.schema import STANDARD_GRAVITY_MPS2
from tests.conftest import REPO, T0_NS, catalog_dump, imu_frame, tree_snapshot


def write_csv(path: Path, frame: pd.DataFrame, *, time: str = "t", names=None, **time_fmt):
    """Write canonical samples under other column names/units, as devices export them."""
    names = names or {}
    out = pd.DataFrame({time: _format_time(frame["t"], **time_fmt)})
    for col in ("ax", "ay", "az", "gx", "gy", "gz"):
        if col in frame.columns:
            out[names.get(col, col)] = frame[col].astype("float64") * time_fmt.get(
                "scale_" + col[0], 1.0
            )
    out.to_csv(path, index=False)
    return path


def _format_time(t: pd.Series, unit: str = "s", **_: object) -> pd.Series:
    if unit == "s":
        return t / 1e9
    if unit == "ms":
        return t // 1_000_000
    if unit == "iso":
        return pd.to_datetime(t, unit="ns", utc=True).dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raise AssertionError(unit)


@pytest.mark.parametrize(
    ("time_name", "unit", "expected_format"),
    [
        ("t", "s", "Unix seconds"),
        ("timestamp", "ms", "Unix milliseconds"),
        ("time", "iso", "ISO 8601"),
    ],
)
def test_time_formats_are_detected(store, tmp_path, time_name, unit, expected_format):
    frame = imu_frame(2000, gyro=False)
    path = write_csv(tmp_path / "a.csv", frame, time=time_name, unit=unit)
    report = import_file(store, path, ImportOptions(device_id="a", tz="UTC"))
    assert report.decisions["time_format"] == expected_format
    back = store.read_samples("a")
    np.testing.assert_array_equal(back["t"].to_numpy(), frame["t"].to_numpy())


def test_naive_iso_times_are_local_to_the_given_zone(store, tmp_path):
    path = tmp_path / "local.csv"
    path.write_text("time,ax,ay,az\n2026-07-01 09:00:00,1,0,0\n2026-07-01 09:00:01,1,0,0\n")
    import_file(store, path, ImportOptions(device_id="loc", tz="Europe/Berlin"))
    t = store.read_samples("loc")["t"].tolist()
    assert t[0] == pd.Timestamp("2026-07-01 07:00:00Z").value  # CEST = UTC+2


def test_units_detected_from_gravity_and_gyro_range(store, tmp_path):
    frame = imu_frame(3000)
    path = write_csv(
        tmp_path / "phone.csv",
        frame,
        names={
            "ax": "accelerometerAccelerationX",
            "ay": "acc_y",
            "az": "Accel_Z",
            "gx": "gyro_x",
            "gy": "gyr_y",
            "gz": "gyroscope_z",
        },
        scale_a=STANDARD_GRAVITY_MPS2,
        scale_g=np.radians(1.0),
    )
    report = import_file(store, path, ImportOptions(device_id="p", tz="UTC"))
    assert report.decisions["acc_unit"] == "mps2"
    assert report.decisions["gyro_unit"] == "rads"
    back = store.read_samples("p")
    np.testing.assert_allclose(back["ax"], frame["ax"], rtol=1e-5)
    np.testing.assert_allclose(back["gz"], frame["gz"], rtol=1e-4, atol=1e-3)


def test_unit_overrides_win(store, tmp_path):
    frame = imu_frame(500, gyro=False)
    path = write_csv(tmp_path / "g.csv", frame)
    report = import_file(store, path, ImportOptions(device_id="g", tz="UTC", acc_unit="mps2"))
    assert report.decisions["acc_unit"] == "mps2"
    back = store.read_samples("g")
    np.testing.assert_allclose(back["ax"], frame["ax"] / STANDARD_GRAVITY_MPS2, rtol=1e-5)


def test_gravity_free_acceleration_asks_for_a_unit(store, tmp_path):
    frame = imu_frame(500, gyro=False).assign(ax=np.float32(0.0))
    path = write_csv(tmp_path / "nog.csv", frame)
    with pytest.raises(ImportFormatError, match="--acc-unit"):
        import_file(store, path, ImportOptions(tz="UTC"))


def test_importing_same_csv_twice_stores_it_once(store, tmp_path, home):
    path = write_csv(tmp_path / "twice.csv", imu_frame(4000))
    first = import_file(store, path, ImportOptions(tz="UTC"))
    before = (tree_snapshot(home), catalog_dump(home))
    second = import_file(store, path, ImportOptions(tz="UTC"))
    assert not first.already_imported and second.already_imported
    assert (tree_snapshot(home), catalog_dump(home)) == before
    assert len(store.read_samples("twice")) == 4000


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda line: line.rstrip("\n") + ",99\n", "line 1234: expected 7 fields, found 8"),
        (lambda line: ",".join(line.split(",")[:4]) + "\n", "line 1234: column 'gx': missing"),
        (lambda line: line.replace(",", ",abc", 2), "line 1234: column 'ax': 'abc"),
        (lambda line: "not-a-time" + line[line.index(",") :], "line 1234: time 'not-a-time'"),
    ],
    ids=["extra-field", "missing-field", "text-in-number", "bad-time"],
)
def test_malformed_line_1234_fails_naming_it_and_store_is_unchanged(
    store, tmp_path, home, breakage, message
):
    import_file(store, write_csv(tmp_path / "good.csv", imu_frame(300, seq0=0)), ImportOptions())
    lines = write_csv(tmp_path / "x.csv", imu_frame(5000)).read_text().splitlines(True)
    lines[1233] = breakage(lines[1233])  # line 1234 of the file (line 1 is the header)
    bad = tmp_path / "bad.csv"
    bad.write_text("".join(lines))
    before = (tree_snapshot(home), catalog_dump(home))
    with pytest.raises(ImportFormatError) as failure:
        import_file(store, bad, ImportOptions())
    assert str(bad) in str(failure.value) and message in str(failure.value)
    assert (tree_snapshot(home), catalog_dump(home)) == before


def test_malformed_line_in_a_later_block_is_named_and_nothing_is_stored(store, tmp_path, home):
    lines = write_csv(tmp_path / "x.csv", imu_frame(450_000)).read_text().splitlines(True)
    lines[420_000] = lines[420_000].replace(",", ",x", 1)  # third block of 200,000 rows
    bad = tmp_path / "late.csv"
    bad.write_text("".join(lines))
    before = (tree_snapshot(home), catalog_dump(home))
    with pytest.raises(ImportFormatError, match="line 420001"):
        import_file(store, bad, ImportOptions())
    assert (tree_snapshot(home), catalog_dump(home)) == before


def test_time_going_backwards_is_named(store, tmp_path):
    lines = write_csv(tmp_path / "x.csv", imu_frame(2000)).read_text().splitlines(True)
    lines[1500], lines[1501] = lines[1501], lines[1500]
    bad = tmp_path / "back.csv"
    bad.write_text("".join(lines))
    with pytest.raises(ImportFormatError, match="line 1502: time goes backwards"):
        import_file(store, bad, ImportOptions())


def test_missing_time_column_is_explained(store, tmp_path):
    path = tmp_path / "nt.csv"
    path.write_text("when,ax,ay,az\n1,1,0,0\n")
    with pytest.raises(ImportFormatError, match="line 1: no time column"):
        import_file(store, path, ImportOptions())


def test_relative_clock_is_not_taken_for_unix_time(store, tmp_path):
    path = tmp_path / "rel.csv"
    path.write_text("t,ax,ay,az\n0.00,1,0,0\n0.01,1,0,0\n")
    with pytest.raises(ImportFormatError, match="seconds since the recording started"):
        import_file(store, path, ImportOptions())


def test_seq_column_is_used_and_its_jumps_are_gaps(store, tmp_path):
    frame = imu_frame(1000, gyro=False).drop(index=range(100, 110))
    out = pd.DataFrame(
        {
            "t": frame["t"] / 1e9,
            "seq": frame["seq"],
            "ax": frame["ax"],
            "ay": frame["ay"],
            "az": frame["az"],
        }
    )
    path = tmp_path / "seq.csv"
    out.to_csv(path, index=False)
    report = import_file(store, path, ImportOptions(device_id="s", tz="UTC"))
    assert report.result.gaps == 1 and report.result.missing_samples == 10
    assert store.read_samples("s")["seq"].tolist() == frame["seq"].tolist()


def test_second_file_of_a_device_continues_its_seq(store, tmp_path):
    a = write_csv(tmp_path / "a.csv", imu_frame(100, gyro=False))
    b = write_csv(tmp_path / "b.csv", imu_frame(100, gyro=False, t0_ns=T0_NS + 60 * 10**9))
    for path in (a, b):
        import_file(store, path, ImportOptions(device_id="dev", tz="UTC"))
    assert store.read_samples("dev")["seq"].tolist() == list(range(200))


def test_an_earlier_file_imported_later_reads_back_in_time_order(store, tmp_path):
    frame = imu_frame(4000, gyro=False)
    early = write_csv(tmp_path / "early.csv", frame.iloc[:2000])
    late = write_csv(tmp_path / "late.csv", frame.iloc[2000:])
    for path in (late, early):  # the later file first: it gets the lower seq numbers
        import_file(store, path, ImportOptions(device_id="dev", tz="UTC"))
    back = store.read_samples("dev")
    np.testing.assert_array_equal(back["t"].to_numpy(), frame["t"].to_numpy())
    assert sorted(back["seq"]) == list(range(4000))
    window = store.read_samples("dev", start_ns=int(frame["t"].iloc[1500]))
    np.testing.assert_array_equal(window["t"].to_numpy(), frame["t"].to_numpy()[1500:])


def test_sensor_height_and_placement_are_stored_with_the_recording(store, tmp_path):
    path = write_csv(tmp_path / "lb.csv", imu_frame(100))
    import_file(
        store,
        path,
        ImportOptions(device_id="lb", tz="UTC", placement="lower_back", sensor_height_m=0.98),
    )
    rec = store.recordings("lb").iloc[0]
    assert rec["placement"] == "lower_back" and rec["sensor_height_m"] == pytest.approx(0.98)
    assert rec["rate_hz"] == pytest.approx(100.0)


PEAK_RSS_SCRIPT = """
import sys, threading, time
from pathlib import Path
import psutil
from sensors.importers import ImportOptions, import_file
from sensors.importers.csv_presets import SENSOR_LOGGER, SENSORLOG
from sensors.store import Store

proc = psutil.Process()
store = Store.open(Path(sys.argv[2]))
base = peak = proc.memory_info().rss


def watch():
    global peak
    while True:
        peak = max(peak, proc.memory_info().rss)
        time.sleep(0.002)


threading.Thread(target=watch, daemon=True).start()
import_file(store, Path(sys.argv[1]), ImportOptions(tz="UTC"))
time.sleep(0.01)
print((peak - base) / 2**20)
"""


def _peak_rss_mb_importing(path: Path, home: Path) -> float:
    """Peak resident memory growth (MiB) of a fresh process importing ``path``, sampled."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_SCRIPT, str(path), str(home)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


def test_import_streams_in_constant_memory(tmp_path):
    """Peak memory is the same for a file 8x larger: the file is never held whole."""
    small = write_csv(tmp_path / "small.csv", imu_frame(400_000))
    large = tmp_path / "large.csv"
    frames = [
        imu_frame(400_000, seq0=i * 400_000, t0_ns=T0_NS + i * 4000 * 10**9) for i in range(8)
    ]
    write_csv(large, pd.concat(frames, ignore_index=True))
    del frames
    grow_small = _peak_rss_mb_importing(small, tmp_path / "s1")
    grow_large = _peak_rss_mb_importing(large, tmp_path / "s2")
    size_mb = large.stat().st_size / 2**20
    assert size_mb > 200
    print(
        f"peak RSS growth: {grow_small:.0f} MB (small), {grow_large:.0f} MB ({size_mb:.0f} MB file)"
    )
    assert grow_large < grow_small + 40, (grow_small, grow_large, size_mb)


def _sensor_logger_file(path: Path, frame: pd.DataFrame) -> Path:
    """A Sensor Logger TotalAcceleration.csv: Unix ns, seconds elapsed, then z, y, x in m/s^2."""
    out = pd.DataFrame(
        {
            "time": frame["t"],
            "seconds_elapsed": (frame["t"] - frame["t"].iloc[0]) / 1e9,
            **{axis: frame["a" + axis].astype("float64") * STANDARD_GRAVITY_MPS2 for axis in "zyx"},
        }
    )
    out.to_csv(path, index=False)
    return path


def test_sensor_logger_preset_maps_its_reversed_axes(store, tmp_path):
    frame = imu_frame(3000, gyro=False)
    path = _sensor_logger_file(tmp_path / "TotalAcceleration.csv", frame)
    assert path.read_text().splitlines()[0] == SENSOR_LOGGER.sample_header
    report = import_file(store, path, ImportOptions(device_id="phone", tz="UTC"))
    assert report.decisions["preset"] == SENSOR_LOGGER.app
    assert report.decisions["acc_unit"] == "mps2"
    back = store.read_samples("phone")
    np.testing.assert_array_equal(back["t"], frame["t"])
    for axis in ("ax", "ay", "az"):  # x is the last column of the file, still x in psoas
        np.testing.assert_allclose(back[axis], frame[axis], rtol=1e-5, atol=1e-6)


def test_sensor_logger_gravity_free_file_names_the_right_file(store, tmp_path, home):
    frame = imu_frame(3000, gyro=False).assign(ax=np.float32(0.0))
    frame[["ax", "ay", "az"]] *= 0.05
    path = _sensor_logger_file(tmp_path / "Accelerometer.csv", frame)
    before = tree_snapshot(home)
    with pytest.raises(ImportFormatError, match=r"TotalAcceleration\.csv"):
        import_file(store, path, ImportOptions(tz="UTC"))
    assert tree_snapshot(home) == before


def test_sensorlog_preset_reads_offsets_across_a_dst_change_and_units(store, tmp_path):
    # 2026-03-29 01:59:59 +0100 is followed by 03:00:00 +0200 one second later (Europe/Berlin)
    rows = [
        SENSORLOG.sample_header,
        "2026-03-29 01:59:58.500 +0100,1,1000.1,0.01,-0.02,0.99,1000.1,0.10,0.00,-0.05",
        "2026-03-29 01:59:59.500 +0100,2,1001.1,0.02,-0.01,1.01,1001.1,0.20,0.01,-0.04",
        "2026-03-29 03:00:00.500 +0200,3,1002.1,0.03,0.00,1.00,1002.1,0.30,0.02,-0.03",
    ]
    path = tmp_path / "sensorlog.csv"
    path.write_text("\n".join(rows) + "\n")
    report = import_file(store, path, ImportOptions(device_id="iphone", tz="Europe/Berlin"))
    assert report.decisions["preset"] == SENSORLOG.app
    back = store.read_samples("iphone")
    first = pd.Timestamp("2026-03-29T00:59:58.5Z").value
    assert back["t"].tolist() == [first, first + 1_000_000_000, first + 2_000_000_000]
    np.testing.assert_allclose(back["ax"], [0.01, 0.02, 0.03], rtol=1e-6)  # already in g
    np.testing.assert_allclose(back["gx"], np.degrees([0.10, 0.20, 0.30]), rtol=1e-5)  # rad/s
