"""Storage benchmark: ingest and read-back of a week of 100 Hz six-axis IMU samples.

Run it with ``./run bench`` (7 local days at 100 Hz, 60,480,000 rows, a few minutes) or
``./run bench --quick`` (1 day at 25 Hz, a smoke run). ``--write-doc`` records the figures in
``docs/benchmarks.md`` between the ``<!-- figures:start -->`` and ``<!-- figures:end -->`` markers.

Phases, each in a fresh interpreter (this script with the hidden ``--phase`` option) so that the
peak memory it reports is its own:

- ``ingest``: for each day, generate the day's samples (not timed), then time
  ``with store.ingest() as tx: tx.add_samples(recording, frame)`` (fsyncs and catalog commit
  included).
- ``read``: time ``store.read_samples(device, day=d)`` for every day, first right after the ingest
  ("cold-ish": the page cache still holds the files) and then twice more ("warm").
- ``iter``: iterate the whole week with ``store.iter_sample_days`` (one day in memory at a time).
- ``peer-write`` / ``peer-read``: the same day frames written with plain
  ``pyarrow.parquet.write_table`` (one file per day, default options, no fsync) and read with
  ``pandas.read_parquet``: the peer the psoas figures are reported against.

Peak memory is the peak resident set size (RSS) minus the RSS right after the imports, divided by
the bytes of one day's raw arrays (``t`` and ``seq`` int64 plus six float32 signals: 40 bytes a
row, 345.6 MB for a 100 Hz day). The generator's day arrays count: they ARE the day's raw arrays.
On Linux the peak is reset per step (``/proc/self/clear_refs``); elsewhere it is the phase's peak.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import math
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from sensors.store import DeviceInfo, RecordingInfo, Store
from sensors.timeutil import day_bounds_ns

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"
START_MARKER = "<!-- figures:start -->"
END_MARKER = "<!-- figures:end -->"

TZ = "Europe/Berlin"
FIRST_DAY = dt.date(2026, 1, 5)  # a Monday, far from a DST change: every local day is 24 h
DEVICE_ID = "bench-imu"
NS_PER_S = 1_000_000_000
SIGNALS = ("ax", "ay", "az", "gx", "gy", "gz")
ROW_BYTES = 8 + 8 + 4 * len(SIGNALS)  # t, seq (int64) + six float32 signals
CHUNK_S = 600  # the generator computes its signals 10 minutes at a time

# Targets of the storage issue.
TARGET_INGEST_ROWS_S = 5_000_000
TARGET_READ_DAY_S = 0.5
TARGET_PEAK_RATIO = 1.5

PHASES = ("ingest", "read", "iter", "peer-write", "peer-read")
READ_PASSES = ("cold", "warm", "warm")


# -- data ----------------------------------------------------------------------------------------
def day_frame(index: int, rate_hz: int, seed: int = 0) -> tuple[dt.date, pd.DataFrame]:
    """Day ``index`` (0-based from ``FIRST_DAY``) of canonical thigh-worn IMU samples.

    ``t`` is int64 UTC ns at ``rate_hz`` covering the whole local day in ``TZ``; ``seq`` is int64
    and contiguous across days; ``ax ay az`` (g) and ``gx gy gz`` (deg/s) are float32: gravity
    projected through a slowly changing thigh tilt (sitting/standing), walking bouts (1.9 Hz steps)
    and Gaussian sensor noise, quantized to a 16-bit sensor's LSB (1/2048 g at +-16 g,
    1/16.4 deg/s at +-2000 deg/s). Deterministic for a given (``index``, ``rate_hz``, ``seed``).

    Only the returned arrays are day-sized: the signals are computed ``CHUNK_S`` seconds at a time
    straight into them, and the frame wraps them without a copy.
    """
    if NS_PER_S % rate_hz:
        raise ValueError(f"rate {rate_hz} Hz does not give a whole number of nanoseconds")
    day = FIRST_DAY + dt.timedelta(days=index)
    start_ns, end_ns = day_bounds_ns(day, TZ)
    period_ns = NS_PER_S // rate_hz
    n = (end_ns - start_ns) // period_ns
    t = np.arange(n, dtype=np.int64)
    t *= period_ns
    t += start_ns
    seq = np.arange(index * n, (index + 1) * n, dtype=np.int64)
    out = {name: np.empty(n, dtype=np.float32) for name in SIGNALS}
    rng = np.random.default_rng([seed, index])
    phase = rng.uniform(0.0, 2.0 * math.pi, 6)
    step = CHUNK_S * rate_hz
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        _fill_chunk(out, lo, hi, rate_hz, phase, rng)
    return day, pd.DataFrame({"t": t, "seq": seq, **out}, copy=False)


def _fill_chunk(
    out: dict[str, np.ndarray],
    lo: int,
    hi: int,
    rate_hz: int,
    phase: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Write rows ``[lo, hi)`` of the day's six signals into ``out`` (g and deg/s)."""
    s = np.arange(lo, hi, dtype=np.float64) / rate_hz  # seconds since local midnight
    w1, w2 = 2 * math.pi / 1500, 2 * math.pi / 170
    tilt = 0.75 + 0.6 * np.sin(w1 * s + phase[0]) + 0.2 * np.sin(w2 * s + phase[1])  # rad
    tilt_rate = np.degrees(
        0.6 * w1 * np.cos(w1 * s + phase[0]) + 0.2 * w2 * np.cos(w2 * s + phase[1])
    )
    walking = np.clip(3.0 * np.sin(2 * math.pi / 2400 * s + phase[2]) - 2.0, 0.0, 1.0)
    steps = walking * np.sin(2 * math.pi * 1.9 * s + phase[3])
    sway = walking * np.sin(2 * math.pi * 0.95 * s + phase[4])
    drift = 0.05 * np.sin(2 * math.pi / 900 * s + phase[5])
    signal = {
        "ax": np.cos(tilt) + 0.35 * steps,
        "ay": drift + 0.15 * sway,
        "az": np.sin(tilt) + 0.2 * steps,
        "gx": 30.0 * sway,
        "gy": tilt_rate + 90.0 * steps,
        "gz": 15.0 * sway,
    }
    for name, clean in signal.items():
        gyro = name.startswith("g")
        noise_sd, lsb_per_unit = (0.5, 16.4) if gyro else (0.01, 2048.0)
        dest = out[name][lo:hi]
        rng.standard_normal(hi - lo, dtype=np.float32, out=dest)
        dest *= noise_sd
        dest += clean
        dest *= lsb_per_unit
        np.rint(dest, out=dest)
        dest /= lsb_per_unit


def day_frames(days: int, rate_hz: int, seed: int = 0) -> Iterator[tuple[dt.date, pd.DataFrame]]:
    """Yield ``(local day, samples)`` for ``days`` consecutive days, one day in memory at a time.

    The caller must drop its reference to a day's frame before asking for the next one, or two
    days are alive while the next one is generated.
    """
    for index in range(days):
        yield day_frame(index, rate_hz, seed)


def fingerprint(frame: pd.DataFrame) -> list[float]:
    """Rows, first/last ``seq`` and ``t``, and the float64 sums of ``az`` and ``gz``."""
    seq = frame["seq"].to_numpy()
    t = frame["t"].to_numpy()
    return [
        len(frame),
        int(seq[0]),
        int(seq[-1]),
        int(t[0]),
        int(t[-1]),
        float(np.sum(frame["az"].to_numpy(), dtype=np.float64)),
        float(np.sum(frame["gz"].to_numpy(), dtype=np.float64)),
    ]


# -- memory --------------------------------------------------------------------------------------
class MemoryProbe:
    """Peak RSS over a baseline taken at construction (right after the imports), in bytes."""

    def __init__(self) -> None:
        gc.collect()
        self._proc = psutil.Process()
        self.baseline = self._proc.memory_info().rss
        self.resettable = self.reset_peak()

    def reset_peak(self) -> bool:
        """Reset the peak RSS (Linux ``VmHWM``) to the current RSS; False where unsupported."""
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
            return True
        except OSError:
            return False

    def peak(self) -> int:
        """Peak RSS since the last reset (or since the process started), in bytes."""
        try:
            with open("/proc/self/status") as handle:
                for line in handle:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return maxrss if sys.platform == "darwin" else maxrss * 1024

    def peak_over_baseline(self) -> int:
        """Peak RSS minus the baseline, in bytes."""
        return self.peak() - self.baseline


# -- phases (each runs in its own interpreter) ---------------------------------------------------
def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _recording(rate_hz: int) -> RecordingInfo:
    device = DeviceInfo(DEVICE_ID, tz=TZ, placement="thigh")
    return RecordingInfo(device, source="benchmark", rate_hz=float(rate_hz), recording_id="bench")


def _write_days(
    mem: MemoryProbe, days: int, rate_hz: int, write: Callable[[dt.date, pd.DataFrame], None]
) -> dict[str, Any]:
    """Generate each day (not timed) and time ``write(day, frame)`` on it."""
    frames = day_frames(days, rate_hz)
    per_day = []
    for _ in range(days):
        mem.reset_peak()
        day, frame = next(frames)
        generate_peak = mem.peak_over_baseline()
        rows, prints = len(frame), fingerprint(frame)
        mem.reset_peak()
        start = time.perf_counter()
        write(day, frame)
        seconds = time.perf_counter() - start
        peak = mem.peak_over_baseline()
        del frame  # before the next day is generated
        per_day.append(
            {
                "day": day.isoformat(),
                "rows": rows,
                "seconds": seconds,
                "generate_peak": generate_peak,
                "peak": peak,
                "fingerprint": prints,
            }
        )
        _progress(f"{day}: {rows:,} rows in {seconds:.2f} s, peak +{peak / 1e6:,.0f} MB")
    return {"days": per_day, "arrow_max_memory": pa.default_memory_pool().max_memory()}


def _read_days(
    mem: MemoryProbe, days: list[str], read: Callable[[str], pd.DataFrame]
) -> dict[str, Any]:
    """Time ``read(day)`` for every day, once cold-ish and then warm; check what comes back."""
    reads = []
    for pass_name in READ_PASSES:
        for day in days:
            mem.reset_peak()
            start = time.perf_counter()
            frame = read(day)
            seconds = time.perf_counter() - start
            peak = mem.peak_over_baseline()
            reads.append(
                {
                    "pass": pass_name,
                    "day": day,
                    "rows": len(frame),
                    "seconds": seconds,
                    "peak": peak,
                    "fingerprint": fingerprint(frame),
                }
            )
            del frame
        _progress(f"{pass_name} pass over {len(days)} day(s) done")
    return {"reads": reads}


def phase_ingest(work: Path, days: int, rate_hz: int, mem: MemoryProbe) -> dict[str, Any]:
    """psoas ingest, one transaction per day."""
    recording = _recording(rate_hz)
    with Store.open(work / "psoas") as store:

        def write(_day: dt.date, frame: pd.DataFrame) -> None:
            with store.ingest() as tx:
                tx.add_samples(recording, frame)

        result = _write_days(mem, days, rate_hz, write)
    result["bytes_on_disk"] = sum(
        p.stat().st_size for p in (work / "psoas" / "raw").rglob("*.parquet")
    )
    return result


def phase_read(work: Path, mem: MemoryProbe) -> dict[str, Any]:
    """psoas ``read_samples(device, day=d)`` for every day."""
    with Store.open(work / "psoas") as store:
        return _read_days(
            mem, store.days(DEVICE_ID), lambda d: store.read_samples(DEVICE_ID, day=d)
        )


def phase_iter(work: Path, mem: MemoryProbe) -> dict[str, Any]:
    """psoas ``iter_sample_days`` over the whole week, dropping each day before the next."""
    with Store.open(work / "psoas") as store:
        mem.reset_peak()
        prints = []
        start = time.perf_counter()
        for _day, frame in store.iter_sample_days(DEVICE_ID):
            prints.append(fingerprint(frame))
            del frame
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "peak": mem.peak_over_baseline(), "fingerprints": prints}


def phase_peer_write(work: Path, days: int, rate_hz: int, mem: MemoryProbe) -> dict[str, Any]:
    """Plain ``pq.write_table`` (default options, no fsync) of the same frames, one file a day."""
    peer = work / "peer"
    peer.mkdir()

    def write(day: dt.date, frame: pd.DataFrame) -> None:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), peer / f"{day}.parquet")

    result = _write_days(mem, days, rate_hz, write)
    result["bytes_on_disk"] = sum(p.stat().st_size for p in peer.glob("*.parquet"))
    return result


def phase_peer_read(work: Path, mem: MemoryProbe) -> dict[str, Any]:
    """``pandas.read_parquet`` of each day's peer file."""
    peer = work / "peer"
    days = sorted(p.stem for p in peer.glob("*.parquet"))
    return _read_days(mem, days, lambda d: pd.read_parquet(peer / f"{d}.parquet"))


def run_phase(name: str, work: Path, days: int, rate_hz: int) -> dict[str, Any]:
    """Run phase ``name`` in this process and return its raw measurements."""
    mem = MemoryProbe()
    if name == "ingest":
        result = phase_ingest(work, days, rate_hz, mem)
    elif name == "read":
        result = phase_read(work, mem)
    elif name == "iter":
        result = phase_iter(work, mem)
    elif name == "peer-write":
        result = phase_peer_write(work, days, rate_hz, mem)
    elif name == "peer-read":
        result = phase_peer_read(work, mem)
    else:
        raise ValueError(f"unknown phase {name!r}")
    result["baseline_rss"] = mem.baseline
    result["peak_resettable"] = mem.resettable
    return result


def spawn_phase(
    name: str, work: Path, days: int, rate_hz: float, script: Path = Path(__file__)
) -> dict[str, Any]:
    """Run phase ``name`` of benchmark ``script`` in a fresh interpreter; its measurements."""
    out = work / f"{name}.json"
    cmd = [
        sys.executable,
        str(script.resolve()),
        "--phase",
        name,
        "--work",
        str(work),
        "--days",
        str(days),
        "--rate",
        repr(rate_hz),
        "--result",
        str(out),
    ]
    print(f"{name} ...", file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True)
    return json.loads(out.read_text())


# -- the machine ---------------------------------------------------------------------------------
def machine_info(directory: Path) -> dict[str, str]:
    """Where the figures come from: OS, CPU, cores, RAM, versions and the disk of ``directory``."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, subprocess.SubprocessError, IndexError):
        text = Path("/proc/cpuinfo").read_text()
        found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
        if found:
            cpu = found.group(1).strip()
    disk = "?"
    with contextlib.suppress(OSError, subprocess.SubprocessError, IndexError):
        df = subprocess.run(
            ["df", "-hT", str(directory)], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        fields = df[-1].split()
        disk = f"{fields[0]} ({fields[1]}, {fields[2]}, {fields[4]} free)"
    return {
        "date": dt.date.today().isoformat(),
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": f"{psutil.cpu_count(logical=False) or '?'} physical / "
        f"{psutil.cpu_count(logical=True)} logical",
        "ram": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
        "disk": disk,
    }


# -- the report ----------------------------------------------------------------------------------
def _check_fingerprints(written: list[list[float]], read: list[list[float]], what: str) -> None:
    """Fail loudly when a read-back day differs from what was written (rows, seq, t, sums)."""
    if len(written) != len(read) or any(
        not np.allclose(w, r, rtol=1e-12, atol=0) for w, r in zip(written, read, strict=False)
    ):
        raise SystemExit(f"{what}: the data read back differs from the data written")


def _seconds(reads: list[dict[str, Any]], pass_name: str) -> list[float]:
    return [r["seconds"] for r in reads if r["pass"] == pass_name]


def summarize(results: dict[str, dict[str, Any]], days: int, rate_hz: int) -> dict[str, Any]:
    """Turn the phases' raw measurements into the reported figures (and check the read-backs)."""
    ingest, peer_write = results["ingest"], results["peer-write"]
    written = [d["fingerprint"] for d in ingest["days"]]
    for phase in ("read", "peer-read"):
        for pass_name in ("cold", "warm"):
            got = [r["fingerprint"] for r in results[phase]["reads"] if r["pass"] == pass_name]
            _check_fingerprints(written, got[: len(written)], f"{phase} ({pass_name})")
    _check_fingerprints(written, results["iter"]["fingerprints"], "iter_sample_days")

    rows = sum(d["rows"] for d in ingest["days"])
    day_bytes = max(d["rows"] for d in ingest["days"]) * ROW_BYTES
    ingest_s = sum(d["seconds"] for d in ingest["days"])
    peer_write_s = sum(d["seconds"] for d in peer_write["days"])
    reads, peer_reads = results["read"]["reads"], results["peer-read"]["reads"]
    cold, warm = _seconds(reads, "cold"), _seconds(reads, "warm")
    peer_cold, peer_warm = _seconds(peer_reads, "cold"), _seconds(peer_reads, "warm")
    return {
        "days": days,
        "rate_hz": rate_hz,
        "rows": rows,
        "day_bytes": day_bytes,
        "ingest_s": ingest_s,
        "ingest_rows_s": rows / ingest_s,
        "ingest_peak": max(d["peak"] for d in ingest["days"]) / day_bytes,
        "generate_peak": max(d["generate_peak"] for d in ingest["days"]) / day_bytes,
        "read_cold_median_s": statistics.median(cold),
        "read_cold_max_s": max(cold),
        "read_warm_median_s": statistics.median(warm),
        "read_warm_max_s": max(warm),
        "read_rows_s": rows / len(cold) / statistics.median(warm),
        "read_peak": max(r["peak"] for r in reads) / day_bytes,
        "iter_s": results["iter"]["seconds"],
        "iter_peak": results["iter"]["peak"] / day_bytes,
        "peer_write_s": peer_write_s,
        "peer_write_peak": max(d["peak"] for d in peer_write["days"]) / day_bytes,
        "peer_read_cold_median_s": statistics.median(peer_cold),
        "peer_read_warm_median_s": statistics.median(peer_warm),
        "peer_read_peak": max(r["peak"] for r in peer_reads) / day_bytes,
        "ingest_vs_peer": ingest_s / peer_write_s,
        "read_cold_vs_peer": statistics.median(cold) / statistics.median(peer_cold),
        "read_warm_vs_peer": statistics.median(warm) / statistics.median(peer_warm),
        "psoas_bytes": ingest["bytes_on_disk"],
        "peer_bytes": peer_write["bytes_on_disk"],
        "peak_resettable": all(r["peak_resettable"] for r in results.values()),
    }


def met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def render(fig: dict[str, Any], machine: dict[str, str], command: str) -> str:
    """The figures as Markdown: a heading, the machine, the table and the notes."""
    mb = fig["day_bytes"] / 1e6
    rows = [
        (
            "Ingest (`add_samples` + commit, one day per transaction)",
            f"{fig['ingest_rows_s'] / 1e6:.2f} M rows/s ({fig['ingest_s']:.1f} s in all)",
            "≥ 5 M rows/s",
            met(fig["ingest_rows_s"] >= TARGET_INGEST_ROWS_S),
        ),
        (
            "Ingest peak memory (generated day + ingest)",
            f"{fig['ingest_peak']:.2f}x one day (generated day alone: {fig['generate_peak']:.2f}x)",
            "< 1.5x",
            met(fig["ingest_peak"] < TARGET_PEAK_RATIO),
        ),
        (
            "Read one day, cold-ish (first read after ingest)",
            f"median {fig['read_cold_median_s']:.3f} s, max {fig['read_cold_max_s']:.3f} s",
            "< 0.5 s",
            met(fig["read_cold_max_s"] < TARGET_READ_DAY_S),
        ),
        (
            "Read one day, warm",
            f"median {fig['read_warm_median_s']:.3f} s, max {fig['read_warm_max_s']:.3f} s "
            f"({fig['read_rows_s'] / 1e6:.1f} M rows/s)",
            "< 0.5 s",
            met(fig["read_warm_max_s"] < TARGET_READ_DAY_S),
        ),
        (
            "Read one day, peak memory",
            f"{fig['read_peak']:.2f}x one day",
            "< 1.5x",
            met(fig["read_peak"] < TARGET_PEAK_RATIO),
        ),
        (
            f"`iter_sample_days` over all {fig['days']} day(s), peak memory",
            f"{fig['iter_peak']:.2f}x one day ({fig['iter_s']:.1f} s in all)",
            "< 1.5x",
            met(fig["iter_peak"] < TARGET_PEAK_RATIO),
        ),
        (
            "Ingest vs plain `pyarrow.parquet.write_table`",
            f"psoas takes {fig['ingest_vs_peer']:.2f}x the time "
            f"(peer {fig['peer_write_s']:.1f} s; psoas adds fsync + catalog commit)",
            "report",
            "",
        ),
        (
            "Read one day vs `pandas.read_parquet`",
            f"psoas takes {fig['read_warm_vs_peer']:.2f}x the time warm, "
            f"{fig['read_cold_vs_peer']:.2f}x cold-ish "
            f"(peer median {fig['peer_read_warm_median_s']:.3f} s warm)",
            "report",
            "",
        ),
        (
            "Peer peak memory (write / read one day)",
            f"{fig['peer_write_peak']:.2f}x / {fig['peer_read_peak']:.2f}x one day",
            "report",
            "",
        ),
        (
            "Bytes on disk (psoas parts / peer files)",
            f"{fig['psoas_bytes'] / 1e6:,.0f} MB / {fig['peer_bytes'] / 1e6:,.0f} MB "
            f"(raw arrays: {fig['rows'] * ROW_BYTES / 1e6:,.0f} MB)",
            "report",
            "",
        ),
    ]
    intro = (
        f"{fig['days']} local day(s) x {fig['rate_hz']} Hz x 6 axes = {fig['rows']:,} rows; "
        f"one day's raw arrays = {mb:,.1f} MB (the unit of the memory ratios)."
    )
    lines = figures_markdown(command, intro, machine, rows)
    if not fig["peak_resettable"]:
        lines += ["", "Peaks are per phase (this OS cannot reset the peak RSS per step)."]
    return "\n".join(lines) + "\n"


def write_doc(
    figures: str, doc: Path = DOC, markers: tuple[str, str] = (START_MARKER, END_MARKER)
) -> None:
    """Replace the text between the ``markers`` of ``doc`` with ``figures``."""
    start_marker, end_marker = markers
    text = doc.read_text()
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < start:
        raise SystemExit(f"{doc} lacks the {start_marker} ... {end_marker} markers")
    head, tail = text[: start + len(start_marker)], text[end:]
    doc.write_text(f"{head}\n{figures}{tail}")


def publish(
    report: str, write: bool, doc: Path = DOC, markers: tuple[str, str] = (START_MARKER, END_MARKER)
) -> None:
    """Print a benchmark's ``report``; with ``write`` (``--write-doc``), also put it between the
    ``markers`` of ``doc``."""
    print(report)
    if write:
        write_doc(report, doc, markers)
        print(f"figures written to {doc}", file=sys.stderr)


def days_rate_command(base: str, args: argparse.Namespace) -> str:
    """The command that repeats a days/rate benchmark run (``days_rate_arguments``), as its
    doc section names it: ``base``, plus ``--quick`` or the days and rate that differ."""
    if args.quick:
        return f"{base} --quick"
    if (args.days, args.rate) != (7, 100):
        return f"{base} --days {args.days} --rate {args.rate:g}"
    return base


def figures_markdown(
    command: str, intro: str, machine: dict[str, str], rows: list[tuple[str, str, str, str]]
) -> list[str]:
    """A figures section: heading, what was measured, the machine, and the table of figures."""
    table = ["| Benchmark | Figure | Target | Met |", "|---|---|---|---|"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return [
        f"### Latest figures: `{command}`",
        "",
        intro,
        "",
        f"Machine ({machine['date']}): {machine['platform']}; {machine['cpu']}; "
        f"{machine['cores']} cores; {machine['ram']} RAM; Python {machine['python']}, "
        f"numpy {machine['numpy']}, pandas {machine['pandas']}, pyarrow {machine['pyarrow']}; "
        f"disk {machine['disk']}.",
        "",
        *table,
    ]


# -- command line --------------------------------------------------------------------------------
def days_rate_arguments(
    description: str, phases: tuple[str, ...], doc: Path, rate_type: type = int
) -> argparse.ArgumentParser:
    """The command line the day-based benchmarks share: days, rate, working directory, quick
    runs, writing the doc, and the hidden options of a phase run in its own process."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--days", type=int, default=7, help="local days (default 7)")
    parser.add_argument("--rate", type=rate_type, default=100, help="sample rate, Hz (default 100)")
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=None,
        help="where to create the working directory (default: the system temp dir); "
        "the working directory is removed afterwards unless --keep",
    )
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 1 day at 25 Hz (overrides --days/--rate)"
    )
    parser.add_argument(
        "--write-doc",
        action="store_true",
        help=f"rewrite the figures between the markers of {doc.relative_to(REPO)}",
    )
    parser.add_argument("--phase", choices=phases, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return parser


def parse_days_rate(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse, apply ``--quick`` (1 day at 25 Hz) and check the sizes."""
    args = parser.parse_args(argv)
    if args.quick:
        args.days, args.rate = 1, type(args.rate)(25)
    if args.days < 1 or args.rate <= 0:
        parser.error("--days must be at least 1 and --rate positive")
    return args


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = days_rate_arguments(
        "psoas storage benchmark: ingest and read-back of days of 6-axis IMU samples.",
        PHASES,
        DOC,
    )
    return parse_days_rate(parser, argv)


def run_phases(
    args: argparse.Namespace,
    script: Path,
    phases: tuple[str, ...],
    run_one: Callable[[str, Path, int, float], dict[str, Any]],
    prefix: str,
) -> tuple[dict[str, str], dict[str, dict[str, Any]]] | None:
    """The day-based benchmarks' driver. In a phase process (``--phase``) run that phase with
    ``run_one`` and write its result: returns None. Otherwise make the working directory, run
    every phase of ``script`` in a fresh interpreter, remove the directory unless ``--keep``:
    returns (machine, results by phase)."""
    if args.phase:
        args.result.write_text(json.dumps(run_one(args.phase, args.work, args.days, args.rate)))
        return None
    if args.out_dir is not None:
        args.out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=prefix, dir=args.out_dir))
    try:
        machine = machine_info(work)
        results = {p: spawn_phase(p, work, args.days, args.rate, script) for p in phases}
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return machine, results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ran = run_phases(args, Path(__file__), PHASES, run_phase, "psoas-bench-")
    if ran is None:
        return 0
    machine, results = ran
    figures = summarize(results, args.days, args.rate)
    report = render(figures, machine, days_rate_command("./run bench", args))
    publish(report, args.write_doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
