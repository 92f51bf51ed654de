"""Importer benchmark: CWA and GENEActiv decoding, psoas against scikit-digital-health.

Run it with ``./run bench importers`` (``.venv/bin/python benchmarks/importers.py``: a week of
AX3, two days of AX6 and a week of GENEActiv, all at 100 Hz, a few minutes) or ``--quick`` (one
hour of each). ``--write-doc`` records the figures in ``docs/benchmarks.md`` between the
``<!-- importer-figures:start -->`` and ``<!-- importer-figures:end -->`` markers.

**Input.** For each format a long, valid file is built from the real sample of
``../shared/data/skdh_io`` by :mod:`benchmarks.cwa_files` (its data blocks or pages repeated with
consistent sequence numbers, clocks and checksums): AX3 ``.cwa`` (packed 3 x 10-bit
accelerometer, 120 samples a block) 7 days at 100 Hz, AX6 ``.cwa`` (16-bit accelerometer and
gyroscope, 40 samples a block) 2 days at 100 Hz, GENEActiv ``.bin`` (hexadecimal text pages of
300 samples) 7 days at 100 Hz.

**Readers.** Each run is a fresh interpreter (this script with the hidden ``--phase`` option)
that imports its reader, decodes the real sample file once (untimed warm-up: lazy imports, first
allocations), resets its peak RSS and then times one full decode of the long file:

- ``psoas``: ``AxivityImporter().read`` / ``GeneactivImporter().read`` with every batch consumed
  (the work of ``psoas import`` minus hashing the file and writing the store);
- ``skdh``: ``skdh.io.ReadCwa().predict(file=...)`` / ``ReadBin().predict(file=...)`` of
  scikit-digital-health (a compiled Fortran / C reader that fills whole-file arrays).

Each reader runs ``--runs`` times (default 3, alternating which reader goes first); the best time
is reported, with the largest peak RSS. The file stays in the page cache between runs (the runs
measure decoding, not the disk). Before any ratio is reported the two readers' outputs are
compared: same number of samples (and the builder's), the first and last ``COMPARE_SAMPLES``
samples' acceleration (and gyroscope) within 5e-5 plus the float32 spacing of the value, and the
first and last sample times within 1 ms (GENEActiv: psoas' UTC times are moved back to the
device clock skdh returns). A disagreement stops the benchmark without a ratio.

When ``benchmarks/apple_health.py`` exists, its ``bench_apple_health(size_mb, work)`` runs last
and adds an Apple Health ``export.xml`` import row (MB/s) to the table (``--apple-health-mb``).
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

try:  # run as a module (python -m benchmarks.importers) or as a script
    from benchmarks.cwa_files import (
        AX3_SAMPLE,
        AX6_SAMPLE,
        GENEACTIV_SAMPLE,
        BuiltFile,
        build_cwa,
        build_geneactiv_bin,
    )
    from benchmarks.run import MemoryProbe, figures_markdown, machine_info, met, publish
except ImportError:  # pragma: no cover - depends on how it is started
    from cwa_files import (  # type: ignore[no-redef]
        AX3_SAMPLE,
        AX6_SAMPLE,
        GENEACTIV_SAMPLE,
        BuiltFile,
        build_cwa,
        build_geneactiv_bin,
    )
    from run import (  # type: ignore[no-redef]
        MemoryProbe,
        figures_markdown,
        machine_info,
        met,
        publish,
    )

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"
START_MARKER = "<!-- importer-figures:start -->"
END_MARKER = "<!-- importer-figures:end -->"

READERS = ("psoas", "skdh")
RUNS = 3
COMPARE_SAMPLES = 1_000  # first and last samples compared between the readers
ACCEL_TOLERANCE = 5e-5  # g (and deg/s), plus the float32 spacing of the value
TIME_TOLERANCE_S = 1e-3
HOUR_S = 3600
DAY_S = 86_400
# size (MB) of the Apple Health export when benchmarks/apple_health.py exists but names none
APPLE_HEALTH_MB = 500
APPLE_HEALTH_QUICK_MB = 20


@dataclass(frozen=True)
class Format:
    """One benchmarked file format: how its long file is built and which readers read it."""

    key: str
    label: str
    suffix: str
    source: Path
    rate_hz: int
    full_s: int
    quick_s: int

    @property
    def reader_name(self) -> str:
        """scikit-digital-health's reader class of the format."""
        return "ReadBin" if self.suffix == ".bin" else "ReadCwa"

    def build(self, dest: Path, duration_s: int) -> BuiltFile:
        if self.suffix == ".bin":
            return build_geneactiv_bin(
                dest, self.source, duration_s=duration_s, rate_hz=self.rate_hz
            )
        return build_cwa(dest, self.source, duration_s=duration_s, rate_hz=self.rate_hz)


FORMATS = {
    f.key: f
    for f in (
        Format(
            key="ax3",
            label="Axivity AX3 `.cwa` (packed accelerometer)",
            suffix=".cwa",
            source=AX3_SAMPLE,
            rate_hz=100,
            full_s=7 * DAY_S,
            quick_s=HOUR_S,
        ),
        Format(
            key="ax6",
            label="Axivity AX6 `.cwa` (accelerometer + gyroscope)",
            suffix=".cwa",
            source=AX6_SAMPLE,
            rate_hz=100,
            full_s=2 * DAY_S,
            quick_s=HOUR_S,
        ),
        Format(
            key="geneactiv",
            label="GENEActiv `.bin`",
            suffix=".bin",
            source=GENEACTIV_SAMPLE,
            rate_hz=100,
            full_s=7 * DAY_S,
            quick_s=HOUR_S,
        ),
    )
}


# -- one timed decode (runs in its own interpreter) ----------------------------------------------
def _psoas_reader(fmt: Format) -> Callable[[Path], dict[str, Any]]:
    """A function decoding a file with psoas' importer, returning what the check needs."""
    import pandas as pd

    from sensors.importers.axivity import AxivityImporter
    from sensors.importers.base import ImportOptions
    from sensors.importers.geneactiv import GeneactivImporter, parse_header

    options = ImportOptions(tz="UTC")

    def read(path: Path) -> dict[str, Any]:
        importer = GeneactivImporter() if fmt.suffix == ".bin" else AxivityImporter()
        count, head, tail = 0, None, None
        for batch in importer.read(path, options, lambda _done, _total: None):
            frame = batch.samples
            if frame is None or frame.empty:
                continue
            count += len(frame)
            # small copies: a view would keep the whole batch alive (and count in the peak RSS)
            if head is None:
                head = frame.iloc[:COMPARE_SAMPLES].copy()
            if len(frame) >= COMPARE_SAMPLES or tail is None:
                tail = frame.iloc[-COMPARE_SAMPLES:].copy()
            else:
                tail = pd.concat([tail, frame]).iloc[-COMPARE_SAMPLES:].copy()
        skipped = len(getattr(importer, "bad_blocks", []) or getattr(importer, "bad_pages", []))
        # psoas stores UTC; skdh returns the device clock: move GENEActiv back to the clock
        offset_s = 0.0
        if fmt.suffix == ".bin":
            with path.open("rb") as handle:
                utc_offset_ns = parse_header(path, handle.read(64 * 1024)).utc_offset_ns
            offset_s = (utc_offset_ns or 0) / 1e9
        out: dict[str, Any] = {"samples": count, "skipped": skipped}
        for name, part in (("head", head), ("tail", tail)):
            if part is None:
                out[name] = None
                continue
            out[name] = {
                "time": (part["t"].to_numpy() / 1e9 + offset_s).tolist(),
                "accel": part[["ax", "ay", "az"]].to_numpy(np.float64).tolist(),
            }
            if "gx" in part:
                out[name]["gyro"] = part[["gx", "gy", "gz"]].to_numpy(np.float64).tolist()
        return out

    return read


def _skdh_reader(fmt: Format) -> Callable[[Path], dict[str, Any]]:
    """A function decoding a file with scikit-digital-health's reader."""
    from skdh.io import ReadBin, ReadCwa

    def read(path: Path) -> dict[str, Any]:
        reader = ReadBin() if fmt.suffix == ".bin" else ReadCwa()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "timestamps are naive": they are, on purpose
            data = reader.predict(file=str(path))
        out: dict[str, Any] = {"samples": len(data["time"]), "skipped": 0}
        parts = (("head", slice(0, COMPARE_SAMPLES)), ("tail", slice(-COMPARE_SAMPLES, None)))
        for name, part in parts:
            out[name] = {
                "time": data["time"][part].tolist(),
                "accel": data["accel"][part].tolist(),
            }
            if "gyro" in data:
                out[name]["gyro"] = data["gyro"][part].tolist()
        return out

    return read


def run_phase(reader: str, fmt: Format, path: Path) -> dict[str, Any]:
    """Warm ``reader`` up on the real sample, then time one decode of ``path`` (this process)."""
    read = _psoas_reader(fmt) if reader == "psoas" else _skdh_reader(fmt)
    read(fmt.source)  # untimed warm-up: lazy imports and first allocations
    gc.collect()
    mem = MemoryProbe()  # baseline: the interpreter with the reader imported and warmed up
    start = time.perf_counter()
    result = read(path)
    seconds = time.perf_counter() - start
    result.update(
        seconds=seconds,
        peak_rss=mem.peak(),
        peak_over_baseline=mem.peak_over_baseline(),
        baseline_rss=mem.baseline,
        peak_resettable=mem.resettable,
    )
    return result


def spawn_phase(reader: str, fmt: Format, path: Path, work: Path, run: int) -> dict[str, Any]:
    """Run :func:`run_phase` in a fresh interpreter and return its measurements."""
    out = work / f"{fmt.key}-{reader}-{run}.json"
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--phase",
        reader,
        "--format",
        fmt.key,
        "--file",
        str(path),
        "--result",
        str(out),
    ]
    subprocess.run(cmd, check=True)
    result = json.loads(out.read_text())
    print(
        f"  {fmt.key} {reader} run {run + 1}: {result['samples']:,} samples in "
        f"{result['seconds']:.2f} s, peak RSS {result['peak_rss'] / 1e6:,.0f} MB",
        file=sys.stderr,
        flush=True,
    )
    return result


# -- agreement -----------------------------------------------------------------------------------
def disagreements(built: BuiltFile, psoas: dict[str, Any], skdh: dict[str, Any]) -> list[str]:
    """Why the two readers' outputs (and the builder's) disagree; empty when they agree."""
    problems = []
    if not psoas["samples"] == skdh["samples"] == built.samples:
        problems.append(
            f"sample counts: psoas {psoas['samples']:,}, skdh {skdh['samples']:,}, "
            f"file {built.samples:,}"
        )
    if psoas["skipped"]:
        problems.append(f"psoas skipped {psoas['skipped']} block(s) or page(s)")
    for part in ("head", "tail"):
        mine, theirs = psoas.get(part), skdh.get(part)
        if mine is None or theirs is None:
            problems.append(f"{part}: a reader returned no samples")
            continue
        for key in ("accel", "gyro"):
            if (key in mine) != (key in theirs):
                problems.append(f"{part}: only one reader returned {key}")
                continue
            if key not in mine:
                continue
            got, want = np.asarray(mine[key]), np.asarray(theirs[key])
            if got.shape != want.shape:
                problems.append(f"{part} {key}: shapes {got.shape} and {want.shape}")
                continue
            spacing = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
            error = np.abs(got - want)
            if not (error <= ACCEL_TOLERANCE + spacing).all():
                problems.append(f"{part} {key}: max difference {error.max():.3g}")
        got_t, want_t = np.asarray(mine["time"]), np.asarray(theirs["time"])
        edge = 0 if part == "head" else -1
        if len(got_t) and len(want_t):
            if abs(got_t[edge] - want_t[edge]) > TIME_TOLERANCE_S:
                problems.append(
                    f"{part} time: psoas {got_t[edge]:.6f} s, skdh {want_t[edge]:.6f} s"
                )
            expected = built.first_time_s if part == "head" else built.last_time_s
            if abs(want_t[edge] - expected) > TIME_TOLERANCE_S:
                problems.append(f"{part} time: skdh {want_t[edge]:.6f} s, file {expected:.6f} s")
    return problems


# -- the report ----------------------------------------------------------------------------------
def summarize(built: BuiltFile, runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Best time, largest peak RSS and throughput of each reader, and the skdh / psoas ratio."""
    figures: dict[str, Any] = {
        "size_bytes": built.size_bytes,
        "samples": built.samples,
        "duration_s": built.duration_s,
        "rate_hz": built.rate_hz,
    }
    for reader, results in runs.items():
        best = min(r["seconds"] for r in results)
        figures[reader] = {
            "seconds": best,
            "all_seconds": [r["seconds"] for r in results],
            "mb_s": built.size_bytes / 1e6 / best,
            "samples_s": built.samples / best,
            "peak_rss": max(r["peak_rss"] for r in results),
            "peak_over_baseline": max(r["peak_over_baseline"] for r in results),
            "peak_resettable": all(r["peak_resettable"] for r in results),
        }
    figures["ratio"] = figures["skdh"]["seconds"] / figures["psoas"]["seconds"]
    return figures


def _duration(seconds: float) -> str:
    if seconds >= DAY_S and seconds % DAY_S == 0:
        days = int(seconds // DAY_S)
        return f"{days} day" + ("s" if days > 1 else "")
    if seconds >= HOUR_S and seconds % HOUR_S == 0:
        hours = int(seconds // HOUR_S)
        return f"{hours} hour" + ("s" if hours > 1 else "")
    return f"{seconds:g} s"


def _reader_figure(fig: dict[str, Any]) -> str:
    runs = ", ".join(f"{s:.2f}" for s in fig["all_seconds"])
    return (
        f"{fig['mb_s']:,.0f} MB/s, {fig['samples_s'] / 1e6:.1f} M samples/s "
        f"({fig['seconds']:.2f} s; runs {runs} s); peak RSS {fig['peak_rss'] / 1e6:,.0f} MB "
        f"(+{fig['peak_over_baseline'] / 1e6:,.0f} MB for the decode)"
    )


def format_rows(fmt: Format, fig: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The table rows of one format: each reader, then the ratio."""
    what = (
        f"{fmt.label}, {_duration(fig['duration_s'])} at {fig['rate_hz']:g} Hz "
        f"({fig['size_bytes'] / 1e6:,.0f} MB, {fig['samples']:,} samples)"
    )
    ratio = fig["ratio"]
    verdict = f"psoas is {ratio:.2f}x faster" if ratio >= 1 else f"psoas is {1 / ratio:.2f}x slower"
    return [
        (f"{what}: psoas", _reader_figure(fig["psoas"]), "report", ""),
        (f"{what}: skdh `{fmt.reader_name}`", _reader_figure(fig["skdh"]), "report", ""),
        (
            f"{fmt.label}: skdh time / psoas time",
            f"{ratio:.2f} ({verdict})",
            "> 1 (faster than skdh)",
            met(ratio > 1),
        ),
    ]


def apple_health_row(result: dict[str, Any], size_mb: int) -> tuple[str, str, str, str]:
    """A table row from ``bench_apple_health``'s result (its keys as of this writing; any other
    result is listed key by key)."""
    if "import_mb_s" not in result:
        figure = ", ".join(f"{key} {value}" for key, value in result.items())
        return (f"Apple Health `export.xml` ({size_mb} MB)", figure, "report", "")
    label = f"Apple Health `export.xml` ({result.get('xml_mb', size_mb)} MB"
    if "rows" in result:
        label += f", {result['rows']:,} rows"
    label += "): `import_file` into a fresh store"
    figure = f"{result['import_mb_s']} MB/s ({result.get('import_s', '?')} s)"
    if "peak_rss_growth_mb" in result:
        figure += f"; peak RSS +{result['peak_rss_growth_mb']} MB"
    if "bare_iterparse_mb_s" in result:
        figure += (
            f"; a bare `ElementTree.iterparse` pass: {result['bare_iterparse_mb_s']} MB/s "
            f"(the import runs at {result.get('ratio_to_bare_iterparse', '?')}x its speed)"
        )
    return (label, figure, "report", "")


def render(
    formats: list[Format],
    figures: dict[str, dict[str, Any]],
    machine: dict[str, str],
    command: str,
    runs: int,
    extra_rows: list[tuple[str, str, str, str]],
) -> str:
    """The figures as Markdown: heading, input, machine, table and notes."""
    import skdh

    rows = [row for fmt in formats for row in format_rows(fmt, figures[fmt.key])]
    rows += extra_rows
    intro = (
        "Long files built from the real samples of `../shared/data/skdh_io` "
        "(`benchmarks/cwa_files.py`); each reader decodes the whole file in a fresh interpreter, "
        f"best of {runs} runs, file in the page cache; scikit-digital-health "
        f"{skdh.__version__}. MB/s = file bytes / decode seconds. Both readers' outputs were "
        "checked equal (sample counts, first and last samples, times) before the ratios."
    )
    lines = figures_markdown(command, intro, machine, rows)
    if not all(figures[f.key][r]["peak_resettable"] for f in formats for r in READERS):
        lines += ["", "Peak RSS includes the warm-up (this OS cannot reset the peak RSS)."]
    return "\n".join(lines) + "\n"


# -- command line --------------------------------------------------------------------------------
def _load_apple_health() -> Any | None:
    """The ``benchmarks/apple_health.py`` module (``bench_apple_health``) when it exists."""
    try:
        from benchmarks import apple_health  # type: ignore[attr-defined]
    except ImportError:
        try:
            import apple_health  # type: ignore[import-not-found,no-redef]
        except ImportError:
            return None
    return apple_health if hasattr(apple_health, "bench_apple_health") else None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="psoas importer benchmark: CWA and GENEActiv decoding against "
        "scikit-digital-health."
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: one hour of each format")
    parser.add_argument(
        "--formats",
        default=",".join(FORMATS),
        help=f"comma-separated formats to run (default: {','.join(FORMATS)})",
    )
    parser.add_argument("--runs", type=int, default=RUNS, help=f"runs per reader (default {RUNS})")
    parser.add_argument(
        "--apple-health-mb",
        type=int,
        default=None,
        help="size (MB) of the Apple Health export benchmarked when benchmarks/apple_health.py "
        "exists (default: that module's default size, or its quick size with --quick; 0: skip)",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=None,
        help="where to create the working directory (default: the system temp dir); "
        "it is removed afterwards unless --keep",
    )
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    parser.add_argument(
        "--write-doc",
        action="store_true",
        help=f"rewrite the figures between the markers of {DOC.relative_to(REPO)}",
    )
    parser.add_argument("--phase", choices=READERS, help=argparse.SUPPRESS)
    parser.add_argument("--format", choices=list(FORMATS), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.format_list = [name.strip() for name in args.formats.split(",") if name.strip()]
    unknown = [name for name in args.format_list if name not in FORMATS]
    if unknown or not args.format_list:
        parser.error(f"unknown format(s) {unknown}; choose from {', '.join(FORMATS)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def bench_format(fmt: Format, work: Path, quick: bool, runs: int) -> dict[str, Any]:
    """Build the format's long file, time both readers on it, check they agree."""
    duration_s = fmt.quick_s if quick else fmt.full_s
    path = work / f"{fmt.key}{fmt.suffix}"
    print(f"{fmt.key}: building {_duration(duration_s)} at {fmt.rate_hz} Hz ...", file=sys.stderr)
    start = time.perf_counter()
    built = fmt.build(path, duration_s)
    print(
        f"  {built.size_bytes / 1e6:,.0f} MB, {built.samples:,} samples "
        f"in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    results: dict[str, list[dict[str, Any]]] = {reader: [] for reader in READERS}
    for run in range(runs):
        order = READERS if run % 2 == 0 else READERS[::-1]
        for reader in order:
            results[reader].append(spawn_phase(reader, fmt, path, work, run))
    problems = []
    for mine, theirs in zip(results["psoas"], results["skdh"], strict=True):
        problems += disagreements(built, mine, theirs)
    if problems:
        raise SystemExit(
            f"{fmt.key}: psoas and skdh disagree on {path}, no ratio reported:\n  "
            + "\n  ".join(sorted(set(problems)))
        )
    path.unlink()
    return summarize(built, results)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.phase:
        result = run_phase(args.phase, FORMATS[args.format], args.file)
        args.result.write_text(json.dumps(result))
        return 0

    formats = [FORMATS[name] for name in args.format_list]
    if args.out_dir is not None:
        args.out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="psoas-bench-importers-", dir=args.out_dir))
    extra_rows: list[tuple[str, str, str, str]] = []
    try:
        machine = machine_info(work)
        figures = {fmt.key: bench_format(fmt, work, args.quick, args.runs) for fmt in formats}
        apple_health = _load_apple_health()
        size_mb = args.apple_health_mb
        if apple_health is not None and size_mb is None:
            default = "QUICK_SIZE_MB" if args.quick else "DEFAULT_SIZE_MB"
            fallback = APPLE_HEALTH_QUICK_MB if args.quick else APPLE_HEALTH_MB
            size_mb = int(getattr(apple_health, default, fallback))
        if apple_health is not None and size_mb:
            print(f"apple health: a {size_mb} MB export ...", file=sys.stderr)
            result = apple_health.bench_apple_health(size_mb, work / "apple-health")
            extra_rows.append(apple_health_row(result, size_mb))
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    command = "./run bench importers" + (" --quick" if args.quick else "")
    if args.format_list != list(FORMATS):
        command += f" --formats {','.join(args.format_list)}"
    if args.runs != RUNS:
        command += f" --runs {args.runs}"
    report = render(formats, figures, machine, command, args.runs, extra_rows)
    publish(report, args.write_doc, DOC, (START_MARKER, END_MARKER))
    return 0


if __name__ == "__main__":
    sys.exit(main())
