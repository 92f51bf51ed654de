"""``psoas cohort run`` on a real Dask LocalCluster of worker processes.

A 20-participant x 3-day cohort is built from the simulator (thigh, 2 h of each day, so the file
stays fast): most participants have one CSV file (12.5 Hz), four have an Axivity CWA file
(25 Hz, written block by block from the simulated samples), and one also has a CWA file cut off
inside its header. The cohort's per-day tables must equal what ``psoas import`` + ``psoas
analyze`` give for each participant on their own (in-process for most, the real commands for one).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from analysis.cohort import (
    OUTPUT_TABLES,
    read_output,
    read_participants,
    run_cohort,
)
from analysis.pipeline import analyze
from benchmarks.cwa_files import cwa_fix_checksums, pack_cwa_clock
from sensors.errors import UsageError
from sensors.importers import ImportOptions, expand_paths, import_file
from sensors.schema import DERIVED_TABLES
from sensors.simulate import simulate_day
from sensors.store import Store
from sensors.timeutil import system_tz

pytest.importorskip("distributed")

PSOAS = str(Path(sys.executable).with_name("psoas"))
DAYS = ("2026-03-02", "2026-03-03", "2026-03-04")  # Monday to Wednesday, no DST change
SIM_TZ = "Europe/Berlin"
SIM_RATE_HZ = 25.0
POOL_SEEDS = (11, 12, 13)
POOL_HOURS = (8, 12)  # local hours of each simulated day kept in the pool
WINDOW_S = 2 * 3600
PARTICIPANTS = [f"P{i:02d}" for i in range(1, 21)]
CWA = {"P03", "P08", "P13", "P18"}
CORRUPT = "P20"
CLI_REFERENCE = "P03"  # analysed for reference with the real `psoas import` + `psoas analyze`
TZS = ("Europe/Berlin", "America/New_York", "UTC")
NOT_LISTED = "P19"  # no row in participants.csv: the defaults apply
NO_TZ = "P17"  # a row with an empty tz cell: the default zone (this machine's) applies
CWA_SAMPLES_PER_BLOCK = 80  # 3 axes of signed 16-bit values in the 480 data bytes
CWA_ACC_SCALE = 2048  # counts per g: the block's light word says 1 << (8 + 3)


# -- the cohort --------------------------------------------------------------------------------
def _pool() -> dict[tuple[int, str], pd.DataFrame]:
    """Simulated thigh samples (t, ax, ay, az) of the morning of each day, per seed."""
    pool = {}
    zone = ZoneInfo(SIM_TZ)
    for seed in POOL_SEEDS:
        for day in DAYS:
            rec = simulate_day(day, placement="thigh", rate_hz=SIM_RATE_HZ, tz=SIM_TZ, seed=seed)
            date = dt.date.fromisoformat(day)
            lo, hi = (
                int(dt.datetime.combine(date, dt.time(h), tzinfo=zone).timestamp() * 1e9)
                for h in POOL_HOURS
            )
            t = rec.samples["t"].to_numpy()
            keep = (t >= lo) & (t < hi)
            pool[seed, day] = rec.samples.loc[keep, ["t", "ax", "ay", "az"]].reset_index(drop=True)
    return pool


def _window(pool: dict, index: int, day: str) -> pd.DataFrame:
    """Participant ``index``'s 2 h of ``day``: a seed and a start that differ between people."""
    samples = pool[POOL_SEEDS[index % len(POOL_SEEDS)], day]
    start = int(samples["t"].iloc[0]) + (index % 7) * 20 * 60 * 10**9  # 08:00 to 10:00
    t = samples["t"].to_numpy()
    return samples[(t >= start) & (t < start + WINDOW_S * 10**9)].reset_index(drop=True)


def write_csv(path: Path, frames: list[pd.DataFrame]) -> None:
    """A CSV of Unix-nanosecond times and acceleration in g at 12.5 Hz (every other sample)."""
    frame = pd.concat([f.iloc[::2] for f in frames], ignore_index=True)
    pacsv.write_csv(pa.Table.from_pandas(frame.rename(columns={"t": "timestamp"})), path)


def write_cwa(path: Path, frames: list[pd.DataFrame], device: int, tz: str) -> None:
    """An Axivity CWA file holding ``frames`` (25 Hz windows, hours apart) as unpacked 16-bit
    blocks; the device clock keeps local time in ``tz``, as Axivity devices do."""
    rate = int(SIM_RATE_HZ)
    header = bytearray(1024)
    header[0:2] = b"MD"
    header[2:4] = (1024 - 4).to_bytes(2, "little")
    header[4] = 0x17  # AX3
    header[5:7] = device.to_bytes(2, "little")
    header[7:11] = (4242).to_bytes(4, "little")  # session id
    header[11:13] = b"\xff\xff"  # no upper device id
    header[36] = 0x08  # 25 Hz
    blocks = []
    index = 0
    for frame in frames:
        n = len(frame) // CWA_SAMPLES_PER_BLOCK * CWA_SAMPLES_PER_BLOCK
        first_ns = int(frame["t"].iloc[0])
        local = dt.datetime.fromtimestamp(first_ns // 10**9, tz=ZoneInfo(tz))
        start_s = first_ns // 10**9 + int(local.utcoffset().total_seconds())  # device clock
        acc = frame[["ax", "ay", "az"]].to_numpy(np.float64)[:n] * CWA_ACC_SCALE
        values = np.clip(np.rint(acc), -32768, 32767).astype("<i2")
        count = n // CWA_SAMPLES_PER_BLOCK
        block = np.zeros((count, 512), dtype=np.uint8)
        k = np.arange(count, dtype=np.int64)
        first_sample = k * CWA_SAMPLES_PER_BLOCK
        clock = start_s + first_sample // rate
        stamp_offset = (clock - start_s) * rate - first_sample  # in (-rate, 0]

        def put(at: int, values: np.ndarray, dtype: str, block: np.ndarray = block) -> None:
            width = np.dtype(dtype).itemsize
            block[:, at : at + width] = (
                np.asarray(values).astype(dtype).reshape(-1, 1).view(np.uint8).reshape(-1, width)
            )

        block[:, 0:2] = np.frombuffer(b"AX", dtype=np.uint8)
        put(2, np.full(count, 508), "<u2")
        put(4, np.full(count, device), "<u2")
        put(6, np.full(count, 4242), "<u4")
        put(10, index + k, "<u4")
        put(14, pack_cwa_clock(clock), "<u4")
        put(18, np.full(count, 3 << 13), "<u2")  # accelerometer scale 1 << (8 + 3)
        put(20, np.full(count, 250), "<u2")  # temperature, about 25 deg C
        block[:, 23] = 200  # battery
        block[:, 24] = 0x08  # 25 Hz
        block[:, 25] = 0x32  # 3 axes, unpacked 16-bit
        put(26, stamp_offset & 0xFFFF, "<u2")
        put(28, np.full(count, CWA_SAMPLES_PER_BLOCK), "<u2")
        block[:, 30:510] = values.reshape(count, -1).view(np.uint8)
        cwa_fix_checksums(block)
        blocks.append(block)
        index += count
    path.write_bytes(bytes(header) + b"".join(b.tobytes() for b in blocks))


def settings_of(index: int, pid: str) -> dict[str, object]:
    """placement, tz and sensor height of participant ``pid`` (what participants.csv says)."""
    if pid == NOT_LISTED:
        return {"placement": "unknown", "tz": system_tz(), "sensor_height_m": None}
    tz = SIM_TZ if pid in CWA else system_tz() if pid == NO_TZ else TZS[index % len(TZS)]
    return {"placement": "thigh", "tz": tz, "sensor_height_m": 0.55 if index % 2 else None}


def build_cohort(root: Path, pool: dict) -> None:
    rows = ["participant,placement,tz,sensor_height_m"]
    for index, pid in enumerate(PARTICIPANTS):
        folder = root / pid
        folder.mkdir(parents=True)
        frames = [_window(pool, index, day) for day in DAYS]
        given = settings_of(index, pid)
        if pid in CWA:
            write_cwa(folder / f"{pid.lower()}.cwa", frames, 100 + index, str(given["tz"]))
        else:
            write_csv(folder / "thigh.csv", frames)
        if pid == CORRUPT:
            whole = folder / "whole.cwa"
            write_cwa(whole, frames[:1], 100 + index, str(given["tz"]))
            (folder / "broken.cwa").write_bytes(whole.read_bytes()[:700])
            whole.unlink()
        if pid != NOT_LISTED:
            height = given["sensor_height_m"]
            tz = "" if pid == NO_TZ else given["tz"]
            rows.append(f"{pid},{given['placement']},{tz},{'' if height is None else height}")
    (root / "participants.csv").write_text("\n".join(rows) + "\n")


def cohort_cli(root: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PSOAS, "cohort", "run", str(root), "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def reference(job: tuple[str, str, str, str, float | None]) -> str:
    """``psoas import`` + ``psoas analyze`` of one participant, in-process, in its own store."""
    folder, home, placement, tz, height = job
    options = ImportOptions(placement=placement, tz=tz, sensor_height_m=height)
    with Store.open(home) as store:
        for path, _ in expand_paths([Path(folder)]):
            import_file(store, path, options)
        analyze(store)
    return home


@pytest.fixture(scope="module")
def pool() -> dict[tuple[int, str], pd.DataFrame]:
    started = time.monotonic()
    samples = _pool()
    print(f"simulated {len(samples)} mornings in {time.monotonic() - started:.1f} s")
    return samples


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a running cluster of 2 worker processes (``--scheduler``)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory, pool: dict) -> dict[str, object]:
    """The cohort, one CLI run over it, and every participant's reference store."""
    base = tmp_path_factory.mktemp("cohort")
    root, out, refs = base / "root", base / "out", base / "reference"
    started = time.monotonic()
    build_cohort(root, pool)
    built_s = time.monotonic() - started
    started = time.monotonic()
    done = cohort_cli(root, out, "--workers", "2")
    run_s = time.monotonic() - started
    print(f"cohort built in {built_s:.1f} s, `psoas cohort run` took {run_s:.1f} s")
    print(done.stderr[-3000:])

    started = time.monotonic()
    jobs = []
    for index, pid in enumerate(PARTICIPANTS):
        if pid in (CORRUPT, CLI_REFERENCE):
            continue
        given = settings_of(index, pid)
        jobs.append(
            (
                str(root / pid),
                str(refs / pid),
                str(given["placement"]),
                str(given["tz"]),
                given["sensor_height_m"],
            )
        )
    spawn = multiprocessing.get_context("spawn")  # no fork of a process that may run Dask
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as workers:
        list(workers.map(reference, jobs))
    given = settings_of(PARTICIPANTS.index(CLI_REFERENCE), CLI_REFERENCE)
    home = ["--home", str(refs / CLI_REFERENCE)]
    for args in (
        ["import", str(root / CLI_REFERENCE), "--placement", "thigh", "--tz", str(given["tz"])],
        ["analyze"],
    ):
        step = subprocess.run([PSOAS, *home, *args], capture_output=True, text=True, timeout=300)
        assert step.returncode == 0, step.stderr
    print(f"reference stores built in {time.monotonic() - started:.1f} s")
    return {"root": root, "out": out, "refs": refs, "run": done, "seconds": run_s}


def _canonical(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    columns = DERIVED_TABLES[table]
    order = ["device_id", "day", next(c for c in ("start", "t", "day") if c in columns)]
    frame = frame[list(columns)].astype(columns)
    return frame.sort_values(order, kind="stable", ignore_index=True)


# -- the tests -------------------------------------------------------------------------------------
def test_cohort_matches_psoas_import_and_analyze_per_participant(cohort):
    out, refs = cohort["out"], cohort["refs"]
    run = cohort["run"]
    assert run.returncode != 0, "the corrupt participant must make the command fail"
    assert "Dask dashboard: http" in run.stderr
    assert "tasks done" in run.stderr
    compared = 0
    for table in OUTPUT_TABLES:
        cohort_rows = read_output(out, table)
        if table == "daily_summary":
            assert set(cohort_rows["participant"]) == set(PARTICIPANTS) - {CORRUPT}
        for pid in PARTICIPANTS:
            if pid == CORRUPT:
                continue
            with Store.open(refs / pid) as store:
                want = _canonical(store.read_table(table), table)
            got = _canonical(cohort_rows[cohort_rows["participant"] == pid], table)
            if table == "daily_summary":
                assert sorted(set(got["day"])) == list(DAYS), pid
            pd.testing.assert_frame_equal(got, want, obj=f"{table} of {pid}")
            compared += len(want)
            # one part per participant-day, holding that day's rows only
            folder = out / table / f"participant={pid}"
            assert sorted(p.name for p in folder.iterdir()) == [f"part-{d}.parquet" for d in DAYS]
            for day in DAYS:
                part = pd.read_parquet(folder / f"part-{day}.parquet")
                assert set(part["day"]) <= {day}
    print(f"{compared} rows equal to psoas import + psoas analyze")
    bouts = read_output(out, "sitting_bouts")
    strides = read_output(out, "strides")
    assert len(bouts) > 100 and len(strides) > 100, "the cohort must sit and walk"


def test_corrupt_participant_is_reported_and_the_others_complete(cohort):
    out = cohort["out"]
    failures = pd.read_csv(out / "failures.csv", keep_default_na=False)
    print(failures.to_string())
    assert failures["participant"].tolist() == [CORRUPT]
    row = failures.iloc[0]
    assert row["stage"] == "import"
    assert row["file"].endswith(f"{CORRUPT}/broken.cwa")
    assert "byte 700" in row["error"] and "broken.cwa" in row["error"]
    assert "broken.cwa" in cohort["run"].stderr
    summary = pd.read_parquet(out / "cohort_summary.parquet")
    print(summary.to_string())
    assert summary["participant"].tolist() == PARTICIPANTS
    assert (pd.read_csv(out / "cohort_summary.csv")["participant"] == summary["participant"]).all()
    ok = summary[summary["participant"] != CORRUPT]
    assert (ok["status"] == "ok").all()
    assert (ok["days_analysed"] == len(DAYS)).all()
    assert (ok["failed_days"] == 0).all()
    thigh = ok[ok["participant"] != NOT_LISTED]
    assert (thigh["mean_sitting_h_per_day"] > 0).all()
    assert (thigh["mean_longest_streak_min"] > 0).all()
    assert (ok["strides"] > 0).sum() >= len(thigh) // 2
    bad = summary[summary["participant"] == CORRUPT].iloc[0]
    assert bad["status"] == "import failed" and bad["days_analysed"] == 0


def test_rerun_skips_every_finished_task(cohort):
    root, out = cohort["root"], cohort["out"]
    parts = {p: p.stat().st_mtime_ns for p in out.glob("*/participant=*/*.parquet")}
    markers = {p: p.stat().st_mtime_ns for p in (out / "_done").rglob("*.json")}
    started = time.monotonic()
    again = cohort_cli(root, out, "--workers", "2")
    seconds = time.monotonic() - started
    print(f"re-run took {seconds:.1f} s:\n{again.stderr}")
    assert "nothing to do" in again.stderr
    assert "Dask dashboard" not in again.stderr  # no cluster was started
    assert again.returncode != 0  # the damaged file is still there, and reported again
    assert "broken.cwa" in again.stderr
    assert {p: p.stat().st_mtime_ns for p in out.glob("*/participant=*/*.parquet")} == parts
    assert {p: p.stat().st_mtime_ns for p in (out / "_done").rglob("*.json")} == markers
    assert pd.read_csv(out / "failures.csv")["participant"].tolist() == [CORRUPT]
    assert len(pd.read_parquet(out / "cohort_summary.parquet")) == len(PARTICIPANTS)
    assert seconds < 20


def test_interrupted_run_resumes_on_a_scheduler_address(cohort, scheduler):
    """A day whose marker is missing (as after a crash) runs again, then its participant's
    finish; the rest is skipped. The work goes to an existing cluster by its address."""
    root, out = cohort["root"], cohort["out"]
    before = read_output(out, "daily_summary")
    (out / "_done" / "P05" / f"day-{DAYS[1]}.json").unlink()
    events = []
    started = time.monotonic()
    report = run_cohort(root, out, scheduler=scheduler, on_event=events.append)
    print(f"resumed in {time.monotonic() - started:.1f} s")
    print("\n".join(e.message for e in events))
    assert report.tasks_run == 2  # the day and the participant's finish
    assert [f.participant for f in report.failures] == [CORRUPT]
    assert report.dashboard_link is not None
    tasks = [e.message for e in events if e.kind == "task"]
    assert tasks == [f"analyze P05 {DAYS[1]}", "finish P05"]
    after = read_output(out, "daily_summary")
    pd.testing.assert_frame_equal(
        _canonical(after, "daily_summary"), _canonical(before, "daily_summary")
    )


def test_new_files_import_again_and_only_their_days_run(pool, scheduler, tmp_path):
    """A participant's new file (more of one day, and a new day) re-runs their import, those
    two days and their finish - and gives what psoas import + psoas analyze give after it."""
    root, out = tmp_path / "root", tmp_path / "out"
    (root / "A1" / "more").mkdir(parents=True)
    (root / "participants.csv").write_text("participant,placement,tz\nA1,thigh,UTC\n")
    write_csv(root / "A1" / "thigh.csv", [_window(pool, 1, day) for day in DAYS[:2]])
    first = run_cohort(root, out, scheduler=scheduler)
    assert first.tasks_run == 1 + 2 + 1 and not first.failures

    afternoon = _window(pool, 1, DAYS[1]).assign(t=lambda f: f["t"] + 4 * 3600 * 10**9)
    write_csv(root / "A1" / "more" / "thigh.csv", [afternoon, _window(pool, 1, DAYS[2])])
    events = []
    second = run_cohort(root, out, scheduler=scheduler, on_event=events.append)
    tasks = [e.message for e in events if e.kind == "task"]
    assert tasks == ["import A1", f"analyze A1 {DAYS[1]}", f"analyze A1 {DAYS[2]}", "finish A1"]
    assert not second.failures

    options = ImportOptions(placement="thigh", tz="UTC")
    with Store.open(tmp_path / "reference") as store:
        import_file(store, root / "A1" / "thigh.csv", options)
        analyze(store)
        import_file(store, root / "A1" / "more" / "thigh.csv", options)
        analyze(store)
        want = {table: _canonical(store.read_table(table), table) for table in OUTPUT_TABLES}
    for table in OUTPUT_TABLES:
        got = read_output(out, table).drop(columns="participant")
        pd.testing.assert_frame_equal(_canonical(got, table), want[table], obj=table)
    assert sorted(want["daily_summary"]["day"]) == list(DAYS)
    assert second.summary["days_analysed"].tolist() == [len(DAYS)]


def _write_participants(root: Path, text: str) -> Path:
    for pid in ("A1", "A2"):
        (root / pid).mkdir(parents=True, exist_ok=True)
    (root / "participants.csv").write_text(text)
    return root


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("participant,placement\nA1,thigh\nA2,hip\n", "line 3, column 'placement'"),
        ("participant,tz\nA1,Mars/Olympus\n", "line 2, column 'tz'"),
        ("participant,sensor_height_m\nA1,95\n", "line 2, column 'sensor_height_m'"),
        ("participant,placement\nA1,thigh\nA1,thigh\n", "line 3, column 'participant'"),
        ("participant,placement\nA3,thigh\n", "line 2, column 'participant'"),
        ("participant,colour\nA1,red\n", "line 1, column 2 ('colour')"),
        ("placement\nthigh\n", "line 1: no 'participant' column"),
        ("participant,placement\nA1,thigh,extra\n", "line 2: 3 fields"),
    ],
)
def test_participants_csv_errors_name_file_line_and_column(tmp_path, text, where):
    root = _write_participants(tmp_path / "root", text)
    with pytest.raises(UsageError) as caught:
        read_participants(root)
    message = str(caught.value)
    print(message)
    assert message.startswith(f"{root / 'participants.csv'}: {where}")


def test_participants_csv_defaults_and_values(tmp_path):
    root = _write_participants(
        tmp_path / "root",
        "participant,placement,tz,sensor_height_m\nA1,lower_back,UTC,0.98\n\nA2,,,\n",
    )
    assert read_participants(root) == {
        "A1": {"placement": "lower_back", "tz": "UTC", "sensor_height_m": 0.98},
        "A2": {},
    }
