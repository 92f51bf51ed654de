"""Cohort benchmark: ``run_cohort`` on 1 and on 2 Dask worker processes, same 20 participant-days.

Run it with ``./run bench cohort`` (or ``.venv/bin/python benchmarks/cohort.py``; ``--quick`` for a
4-participant smoke run). ``--write-doc`` rewrites the section of ``docs/benchmarks.md`` between
``<!-- cohort-figures:start -->`` and ``<!-- cohort-figures:end -->``.

**Cohort.** 20 participants with one whole local day each (24 h, thigh, a different simulated
person and weekday per participant, zones Europe/Berlin, America/New_York and UTC): 16 hand in a
CSV of Unix-nanosecond times and acceleration in g at ``--rate`` Hz (default 100), 4 an Axivity
CWA file at 25 Hz written by the cohort test's ``write_cwa``. It is generated once into
``.benchmarks/cohort-input`` (not timed) and reused while its settings are unchanged.

**Runs.** ``analysis.cohort.run_cohort(root, out, workers=N)`` for N = 1, then N = 2, each in a
fresh interpreter (this script with the hidden ``--phase`` option) and into a fresh output folder,
so both import and analyse everything. The wall clock covers the whole call: planning, starting
the LocalCluster (reported separately: from the call to the cluster's "dashboard" event), the
tasks, stopping the cluster and writing the summary. Memory is the peak of the summed resident
set size of the driver and all its child processes (the Dask workers), sampled every 0.2 s.
The two outputs must hold the same ``daily_summary``, ``sitting_bouts`` and ``strides`` rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.csv as pacsv

try:  # run as a module or as a script
    from benchmarks.run import figures_markdown, machine_info, met, publish
except ModuleNotFoundError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks.run import figures_markdown, machine_info, met, publish

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "benchmarks.md"
START_MARKER = "<!-- cohort-figures:start -->"
END_MARKER = "<!-- cohort-figures:end -->"
INPUT_DIR = REPO / ".benchmarks" / "cohort-input"
SETTINGS_FILE = ".cohort-settings.json"  # written last: the input is complete and reusable

FIRST_DAY = dt.date(2026, 3, 2)  # a Monday; no DST change in these zones that week
ZONES = ("Europe/Berlin", "America/New_York", "UTC")
CWA_EVERY = 5  # participants 5, 10, 15, 20 hand in a CWA file
CWA_RATE_HZ = 25.0  # what the test's write_cwa encodes
WORKERS = (1, 2)
TARGET_SPEEDUP = 1.7  # issue 9
MEMORY_POLL_S = 0.2


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


# -- the cohort ----------------------------------------------------------------------------------
def cohort_settings(quick: bool, rate_hz: float) -> dict[str, Any]:
    if quick:
        return {"participants": 4, "csv_rate_hz": 12.5, "cwa_every": 4, "version": 1}
    return {"participants": 20, "csv_rate_hz": rate_hz, "cwa_every": CWA_EVERY, "version": 1}


def _write_csv(path: Path, samples: pd.DataFrame) -> None:
    """The CSV the cohort test writes (``timestamp`` in Unix ns, ``ax ay az`` in g), at the
    samples' own rate."""
    table = pa.Table.from_pandas(
        samples[["t", "ax", "ay", "az"]].rename(columns={"t": "timestamp"}), preserve_index=False
    )
    pacsv.write_csv(table, path)


def build_cohort(root: Path, settings: dict[str, Any]) -> float:
    """Simulate and write the cohort into ``root`` unless it holds these settings already;
    returns the seconds spent (0 when reused)."""
    marker = root / SETTINGS_FILE
    if marker.exists() and json.loads(marker.read_text()) == settings:
        _progress(f"reusing the cohort in {root}")
        return 0.0
    from sensors.simulate import simulate_day
    from tests.test_cohort import write_cwa

    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    started = time.perf_counter()
    rows = ["participant,placement,tz,sensor_height_m"]
    for index in range(settings["participants"]):
        pid = f"P{index + 1:02d}"
        tz = ZONES[index % len(ZONES)]
        day = FIRST_DAY + dt.timedelta(days=index % 5)
        cwa = (index + 1) % settings["cwa_every"] == 0
        rate = CWA_RATE_HZ if cwa else float(settings["csv_rate_hz"])
        rec = simulate_day(day, placement="thigh", rate_hz=rate, tz=tz, seed=100 + index)
        folder = root / pid
        folder.mkdir()
        if cwa:
            write_cwa(folder / f"{pid.lower()}.cwa", [rec.samples], 200 + index, tz)
        else:
            _write_csv(folder / "thigh.csv", rec.samples)
        rows.append(f"{pid},thigh,{tz},")
        _progress(
            f"{pid}: {day} in {tz}, {len(rec.samples):,} samples at {rate:g} Hz "
            f"({'CWA' if cwa else 'CSV'})"
        )
        del rec
    (root / "participants.csv").write_text("\n".join(rows) + "\n")
    marker.write_text(json.dumps(settings))
    return time.perf_counter() - started


def input_bytes(root: Path) -> tuple[int, int]:
    """(CSV bytes, CWA bytes) of the cohort's raw files."""
    sizes = {".csv": 0, ".cwa": 0}
    for path in root.rglob("*"):
        if path.suffix in sizes and path.parent != root:
            sizes[path.suffix] += path.stat().st_size
    return sizes[".csv"], sizes[".cwa"]


# -- one run (in its own interpreter) --------------------------------------------------------------
class TreeMemory:
    """Peak summed RSS of this process and all its descendants, sampled in a thread."""

    def __init__(self) -> None:
        self._proc = psutil.Process()
        self._stop = threading.Event()
        self.peak = 0
        self.peak_child = 0
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            total, child_max = self._proc.memory_info().rss, 0
            for child in self._proc.children(recursive=True):
                try:
                    rss = child.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                child_max = max(child_max, rss)
            self.peak = max(self.peak, total)
            self.peak_child = max(self.peak_child, child_max)
            self._stop.wait(MEMORY_POLL_S)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_once(root: Path, out: Path, workers: int) -> dict[str, Any]:
    """``run_cohort(root, out, workers=workers)``, timed, with its events' times."""
    from analysis.cohort import run_cohort

    marks: dict[str, float] = {}
    started = 0.0

    def on_event(event: Any) -> None:
        now = time.perf_counter() - started
        if event.kind == "cluster":
            marks["cluster"] = now
        elif event.kind == "task":
            marks.setdefault("first_task", now)
            marks["last_task"] = now

    load_start = os.getloadavg()[0]
    with TreeMemory() as memory:
        started = time.perf_counter()
        report = run_cohort(root, out, workers=workers, on_event=on_event)
        seconds = time.perf_counter() - started
    return {
        "workers": workers,
        "seconds": seconds,
        "cluster_s": marks.get("cluster", float("nan")),
        "last_task_s": marks.get("last_task", float("nan")),
        "tasks": report.tasks_run,
        "failures": [f.error for f in report.failures],
        "statuses": sorted(set(report.summary["status"].astype(str))),
        "cpu_s": sum(_cpu_seconds()),
        "cpu_sys_s": _cpu_seconds()[1],
        "peak_rss": memory.peak,
        "peak_child_rss": memory.peak_child,
        "load": [load_start, os.getloadavg()[0]],
    }


def _cpu_seconds() -> tuple[float, float]:
    """(user, system) CPU seconds of this process and its reaped children (the workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + children.ru_utime, own.ru_stime + children.ru_stime


def spawn_run(root: Path, out: Path, workers: int, result: Path) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--phase",
        "run",
        "--root",
        str(root),
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--result",
        str(result),
    ]
    print(f"run_cohort with {workers} worker(s) ...", file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True)
    return json.loads(result.read_text())


# -- checking the outputs --------------------------------------------------------------------------
def canonical(out: Path, table: str) -> pd.DataFrame:
    from analysis.cohort import read_output
    from sensors.schema import DERIVED_TABLES

    columns = ["participant", *DERIVED_TABLES[table]]
    frame = read_output(out, table)[columns]
    order = ["participant", "device_id", "day"]
    order += [c for c in ("start", "t") if c in frame.columns][:1]
    return frame.sort_values(order, kind="stable", ignore_index=True)


def compare_outputs(one: Path, two: Path) -> dict[str, int]:
    """Rows per table; raise SystemExit when the two runs' tables differ."""
    from analysis.cohort import OUTPUT_TABLES

    rows = {}
    for table in OUTPUT_TABLES:
        a, b = canonical(one, table), canonical(two, table)
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        except AssertionError as exc:
            raise SystemExit(f"{table}: the 1-worker and 2-worker outputs differ: {exc}") from None
        rows[table] = len(a)
    return rows


# -- the report ----------------------------------------------------------------------------------
def render(fig: dict[str, Any], machine: dict[str, str], command: str) -> str:
    one, two = fig["runs"]
    speedup = one["seconds"] / two["seconds"]
    work_speedup = (one["seconds"] - one["cluster_s"]) / (two["seconds"] - two["cluster_s"])
    settings = fig["settings"]
    n = settings["participants"]
    cwa = n // settings["cwa_every"]
    csv_mb, cwa_mb = fig["input_bytes"]
    rows = [
        (
            f"1 worker: `run_cohort` wall clock ({one['tasks']} tasks)",
            f"{one['seconds']:.1f} s (plan + cluster start {one['cluster_s']:.1f} s; "
            f"last task done at {one['last_task_s']:.1f} s)",
            "report",
            "",
        ),
        (
            f"2 workers: `run_cohort` wall clock ({two['tasks']} tasks)",
            f"{two['seconds']:.1f} s (plan + cluster start {two['cluster_s']:.1f} s; "
            f"last task done at {two['last_task_s']:.1f} s)",
            "report",
            "",
        ),
        (
            "Speed-up 1 -> 2 workers (wall clock, cluster start included)",
            f"{speedup:.2f}x (without the cluster start: {work_speedup:.2f}x)",
            f"≥ {TARGET_SPEEDUP:g}x",
            met(speedup >= TARGET_SPEEDUP),
        ),
        (
            "CPU time, driver + workers (user + system; share of the wall clock)",
            f"1 worker: {one['cpu_s']:.0f} s, {one['cpu_sys_s']:.0f} s of it system "
            f"({one['cpu_s'] / one['seconds']:.2f} cores busy); 2 workers: {two['cpu_s']:.0f} s, "
            f"{two['cpu_sys_s']:.0f} s system ({two['cpu_s'] / two['seconds']:.2f} cores busy)",
            "report",
            "",
        ),
        (
            "Same outputs on 1 and 2 workers",
            ", ".join(f"`{t}` {r:,} rows" for t, r in fig["rows"].items()) + ": identical",
            "identical",
            met(True),
        ),
        (
            "Peak memory, driver + workers (largest single worker)",
            f"1 worker: {one['peak_rss'] / 2**30:.2f} GiB "
            f"({one['peak_child_rss'] / 2**30:.2f} GiB); 2 workers: "
            f"{two['peak_rss'] / 2**30:.2f} GiB ({two['peak_child_rss'] / 2**30:.2f} GiB)",
            "report",
            "",
        ),
    ]
    intro = (
        f"{n} participants x 1 whole local day (24 h, thigh): {n - cwa} CSV files at "
        f"{settings['csv_rate_hz']:g} Hz ({csv_mb / 1e9:.2f} GB) and {cwa} Axivity CWA files at "
        f"{CWA_RATE_HZ:g} Hz ({cwa_mb / 1e6:.0f} MB); each run imports and analyses all of them "
        "into a fresh output folder, in a fresh interpreter."
    )
    lines = figures_markdown(command, intro, machine, rows)
    cores = os.cpu_count() or 1
    lines += [
        "",
        f"The 1-minute load average was {fig['background_load']:.2f} before the benchmark, "
        f"{one['load'][0]:.2f} / {one['load'][1]:.2f} before / after the 1-worker run and "
        f"{two['load'][0]:.2f} / {two['load'][1]:.2f} around the 2-worker run, on {cores} cores"
        + (
            " (the machine is shared: other jobs were running, so the timings are noisy)."
            if fig["background_load"] > 0.5
            else "."
        ),
    ]
    if fig["built_s"]:
        lines[-1] += f" Generating the cohort took {fig['built_s']:.0f} s (not timed)."
    if speedup < TARGET_SPEEDUP:
        busy = two["cpu_s"] / two["seconds"]
        lines += [
            "",
            f"**Speed-up target missed** ({speedup:.2f}x). The 2-worker run kept {busy:.2f} of "
            f"the {cores} cores busy on average (its CPU time over its wall clock)"
            + (
                ", where an ideal split of the same work would keep both busy: the 2 workers do "
                "not get 2 cores."
                if busy < 0.9 * len(WORKERS)
                else ": it got both cores, so the loss is in the work, not in waiting."
            )
            + " The workers share the cores with the driver process, which hosts the Dask "
            "scheduler and "
            f"the nannies, hands out the {two['tasks']} tasks and collects their results; with "
            "1 worker that overhead runs on the otherwise idle second core. The work itself "
            f"also grows ({one['cpu_s']:.0f} s -> {two['cpu_s']:.0f} s of CPU): two workers "
            "likely compete for memory bandwidth, the page cache and the disk, and a large share "
            "of the CPU time is system time (reading the CSV files, writing and fsyncing the "
            "stores)."
            + (
                " Above all, this machine is shared: other jobs kept the load average above the "
                "core count during the runs, so the workers got only part of the cores and the "
                "speed-up varies widely from run to run; rerun it on an idle machine to judge "
                "the target."
                if max(fig["background_load"], *one["load"], *two["load"]) > cores
                and busy < 0.9 * len(WORKERS)
                else ""
            ),
        ]
    return "\n".join(lines) + "\n"


# -- command line --------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="psoas cohort benchmark: run_cohort on 1 and 2 Dask workers."
    )
    parser.add_argument(
        "--rate", type=float, default=100.0, help="sample rate of the CSV files, Hz (default 100)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 4 participants, CSV at 12.5 Hz"
    )
    parser.add_argument(
        "--write-doc",
        action="store_true",
        help=f"rewrite the figures between the markers of {DOC.relative_to(REPO)}",
    )
    parser.add_argument("--keep", action="store_true", help="keep the output folders")
    parser.add_argument("--phase", choices=("run",), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rate <= 0:
        parser.error("--rate must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.phase:
        args.result.write_text(json.dumps(run_once(args.root, args.out, args.workers)))
        return 0
    settings = cohort_settings(args.quick, args.rate)
    root = INPUT_DIR.with_name(INPUT_DIR.name + "-quick") if args.quick else INPUT_DIR
    background_load = os.getloadavg()[0]
    built_s = build_cohort(root, settings)
    work = Path(tempfile.mkdtemp(prefix="cohort-runs-", dir=REPO / ".benchmarks"))
    try:
        machine = machine_info(work)
        runs = [spawn_run(root, work / f"out-{n}", n, work / f"run-{n}.json") for n in WORKERS]
        for run in runs:
            if run["failures"] or run["statuses"] != ["ok"]:
                raise SystemExit(
                    f"{run['workers']} worker(s): {run['failures'] or run['statuses']}"
                )
        rows = compare_outputs(work / "out-1", work / "out-2")
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    figures = {
        "settings": settings,
        "runs": runs,
        "rows": rows,
        "input_bytes": input_bytes(root),
        "built_s": built_s,
        "background_load": background_load,
    }
    command = "./run bench cohort" + (" --quick" if args.quick else "")
    if not args.quick and args.rate != 100.0:
        command += f" --rate {args.rate:g}"
    publish(render(figures, machine, command), args.write_doc, DOC, (START_MARKER, END_MARKER))
    return 0


if __name__ == "__main__":
    sys.exit(main())
