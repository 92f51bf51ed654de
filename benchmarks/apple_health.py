"""Apple Health import benchmark: MB/s of ``export.xml`` into a fresh store.

Run it with ``.venv/bin/python benchmarks/apple_health.py`` (a ~500 MB export) or ``--quick``
(~20 MB); ``--size-mb N`` picks another size. The export is generated (not timed) by
``tests/apple_health_export.py`` in a temporary folder, then:

- ``bare iterparse``: one ``xml.etree.ElementTree.iterparse`` pass over the file with start and
  end events that does nothing but clear each top-level element (and the root): the floor for any
  Python importer built on the standard library's parser. It also brings the file into the page
  cache, so both passes read it warm.
- ``import``: ``sensors.importers.run.import_file`` into a fresh ``Store`` (hashing, parsing,
  unit conversion, the overlap rule, parquet parts, fsyncs and the catalog commit included).

Peak memory is the peak resident set size during the import minus the RSS just before it
(``benchmarks.run.MemoryProbe``). Prints one JSON object; :func:`bench_apple_health` returns it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make sensors, tests and benchmarks importable
    sys.path.insert(0, str(REPO))

from benchmarks.run import MemoryProbe  # noqa: E402
from sensors.importers import ImportOptions, import_file  # noqa: E402
from sensors.store import Store  # noqa: E402
from tests.apple_health_export import write_export  # noqa: E402

DEFAULT_SIZE_MB = 500
QUICK_SIZE_MB = 20
TOP_LEVEL = frozenset(("Record", "Workout", "ActivitySummary", "Correlation", "ExportDate", "Me"))


def bare_iterparse_s(path: Path) -> float:
    """Seconds of an iterparse pass that only clears elements (start and end events)."""
    start = time.perf_counter()
    root = None
    depth = 0
    for event, element in ET.iterparse(path, events=("start", "end")):
        if event == "start":
            depth += 1
            if root is None:
                root = element
            continue
        depth -= 1
        if depth == 1 and element.tag in TOP_LEVEL:
            element.clear()
            root.clear()
    return time.perf_counter() - start


def bench_apple_health(size_mb: int, work: Path) -> dict[str, Any]:
    """Generate a ``size_mb`` MB export in ``work``, time a bare parse and the import."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / "export.xml"
    start = time.perf_counter()
    truth = write_export(path, target_bytes=size_mb * 1_000_000, seed=1)
    generate_s = time.perf_counter() - start
    megabytes = truth.xml_bytes / 1e6
    bare_s = bare_iterparse_s(path)

    home = work / "store"
    probe = MemoryProbe()
    probe.reset_peak()
    start = time.perf_counter()
    with Store.open(home) as store:
        report = import_file(store, path, ImportOptions(tz="UTC"))
    import_s = time.perf_counter() - start
    peak = probe.peak_over_baseline()
    if report.result.new_metric_rows != truth.kept_rows:
        raise AssertionError(
            f"imported {report.result.new_metric_rows} rows, the export holds {truth.kept_rows}"
        )
    import_mb_s = megabytes / import_s
    bare_mb_s = megabytes / bare_s
    return {
        "benchmark": "apple_health_import",
        "xml_mb": round(megabytes, 1),
        "days": truth.days,
        "generate_s": round(generate_s, 2),
        "import_s": round(import_s, 2),
        "import_mb_s": round(import_mb_s, 1),
        "rows": report.result.new_metric_rows,
        "parts": report.result.parts,
        "peak_rss_growth_mb": round(peak / 1e6, 1),
        "peak_reset_per_phase": probe.resettable,
        "bare_iterparse_s": round(bare_s, 2),
        "bare_iterparse_mb_s": round(bare_mb_s, 1),
        "ratio_to_bare_iterparse": round(import_mb_s / bare_mb_s, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"a {QUICK_SIZE_MB} MB export")
    parser.add_argument("--size-mb", type=int, default=None, help="size of export.xml in MB")
    parser.add_argument("--work", type=Path, default=None, help="folder to use (kept)")
    args = parser.parse_args(argv)
    size_mb = args.size_mb or (QUICK_SIZE_MB if args.quick else DEFAULT_SIZE_MB)
    if args.work is not None:
        result = bench_apple_health(size_mb, args.work)
    else:
        work = Path(tempfile.mkdtemp(prefix="psoas-bench-health-"))
        try:
            result = bench_apple_health(size_mb, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
