"""Atheris (libFuzzer) over every decoder and importer, on demand.

    ./run fuzz                      # every target, 60 s each
    ./run fuzz fit -runs=100000     # one target, any libFuzzer option
    ./run fuzz all -max_total_time=120
    ./run fuzz fit test-artifacts/fuzz/fit/crash-1a2b...   # replay a saved input
    ./run fuzz list

Each target runs in its own process (libFuzzer ends the process when it stops) with coverage
feedback from the instrumented ``sensors`` package and garmin-fit-sdk. Its working folder is
``test-artifacts/fuzz/TARGET/`` (``$PSOAS_FUZZ_OUT/TARGET/`` if set): ``seeds/`` (rebuilt every
run from the real recordings and the tests' generators, see ``fuzz/targets.py``), ``corpus/``
(what libFuzzer found interesting; kept between runs), ``fuzz.log`` and the inputs of findings,
``crash-*`` (an untyped exception), ``timeout-*`` or ``oom-*``. The exit status is 1 when any
target had a finding.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = Path(os.environ.get("PSOAS_FUZZ_OUT", REPO / "test-artifacts" / "fuzz"))
DEFAULT_SECONDS = 60
INSTRUMENTED = ["sensors", "garmin_fit_sdk", "fuzz"]
ARTIFACT_KINDS = ("crash-", "timeout-", "oom-", "leak-", "slow-unit-")


@dataclass
class Stats:
    """What one target's run did, read from libFuzzer's output."""

    target: str
    returncode: int
    executions: int | None = None
    exec_per_s: int | None = None
    coverage: int | None = None
    features: int | None = None
    corpus: int | None = None
    seconds: float = 0.0
    artifacts: tuple[str, ...] = ()

    @property
    def findings(self) -> int:
        return len([a for a in self.artifacts if not a.startswith("slow-unit-")]) or (
            1 if self.returncode != 0 else 0
        )

    def line(self) -> str:
        def show(value: int | None) -> str:
            return "?" if value is None else f"{value:,}"

        rate = show(self.exec_per_s)
        if self.exec_per_s == 0 and self.executions:  # libFuzzer ran for less than a second
            rate = f">{self.executions:,}"

        found = f" ({', '.join(self.artifacts)})" if self.artifacts else ""
        return (
            f"{self.target:18s} {show(self.executions):>10s} execs  {rate:>6s}"
            f" exec/s  cov {show(self.coverage):>6s}  ft {show(self.features):>6s}"
            f"  corpus {show(self.corpus):>5s}  {self.seconds:6.1f} s"
            f"  findings {self.findings}{found}"
        )


def parse(target: str, returncode: int, log: str, seconds: float) -> Stats:
    """The figures of a libFuzzer log (``-print_final_stats=1`` output and status lines)."""
    stats = Stats(target, returncode, seconds=seconds)

    def stat(name: str) -> int | None:
        found = re.findall(rf"stat::{name}:\s*(\d+)", log)
        return int(found[-1]) if found else None

    stats.executions = stat("number_of_executed_units")
    stats.exec_per_s = stat("average_exec_per_sec")
    status = re.findall(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)", log, re.M)
    if status:
        runs, cov, ft, corp = (int(v) for v in status[-1])
        stats.coverage, stats.features, stats.corpus = cov, ft, corp
        if stats.executions is None:
            stats.executions = runs
    return stats


def _has(args: list[str], option: str) -> bool:
    return any(a.startswith(f"-{option}=") for a in args)


def run_target(name: str, args: list[str]) -> Stats:
    """Fuzz one target in a child process with libFuzzer ``args`` and report its figures."""
    from fuzz.targets import TARGETS

    target = TARGETS[name]
    work = OUT / name
    seeds, corpus = work / "seeds", work / "corpus"
    for folder in (seeds, corpus):
        folder.mkdir(parents=True, exist_ok=True)
    for old in seeds.iterdir():
        old.unlink()
    for i, seed in enumerate(target.seeds()):
        (seeds / f"seed-{i:02d}").write_bytes(seed)
    replay = [a for a in args if not a.startswith("-")]
    options = [a for a in args if a.startswith("-")]
    if not replay and not _has(options, "runs") and not _has(options, "max_total_time"):
        options.append(f"-max_total_time={DEFAULT_SECONDS}")
    if not _has(options, "timeout"):
        options.append("-timeout=30")
    if not _has(options, "artifact_prefix"):
        options.append(f"-artifact_prefix={work}/")
    options.append("-print_final_stats=1")
    before = {p.name for p in work.iterdir()}
    command = [sys.executable, "-m", "fuzz.harness", "--child", name, *options]
    command += replay or [str(corpus), str(seeds)]
    log_path = work / "fuzz.log"
    start = time.monotonic()
    with log_path.open("w") as log:
        done = subprocess.run(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - start
    stats = parse(name, done.returncode, log_path.read_text(errors="replace"), seconds)
    stats.artifacts = tuple(
        sorted(
            p.name
            for p in work.iterdir()
            if p.name not in before and p.name.startswith(ARTIFACT_KINDS)
        )
    )
    print(stats.line(), flush=True)
    if stats.findings:
        print(f"    see {log_path}", flush=True)
    return stats


def child(name: str, argv: list[str]) -> None:
    """Inside the child process: instrument the decoders, then hand over to libFuzzer."""
    import atheris

    logging.disable(logging.CRITICAL)  # skipped CWA blocks and GENEActiv pages are logged
    with atheris.instrument_imports(include=INSTRUMENTED):
        from fuzz.targets import TARGETS, check

    target = TARGETS[name]
    atheris.Setup([sys.argv[0], *argv], lambda data: check(target, data))
    atheris.Fuzz()


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        child(argv[1], argv[2:])
        return 0
    from fuzz.targets import TARGETS

    which = "all"
    if argv and not argv[0].startswith("-"):
        which, argv = argv[0], argv[1:]
    if which == "list":
        for target in TARGETS.values():
            print(f"{target.name:18s} {target.about}")
        return 0
    if which != "all" and which not in TARGETS:
        print(f"unknown target {which!r}; targets: all, {', '.join(TARGETS)}", file=sys.stderr)
        return 2
    names = list(TARGETS) if which == "all" else [which]
    print(f"fuzzing {len(names)} target(s); logs and findings under {OUT}", flush=True)
    results = [run_target(name, argv) for name in names]
    bad = [r for r in results if r.findings]
    total = sum(r.executions or 0 for r in results)
    print(f"{total:,} executions in all; {len(bad)} target(s) with findings", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
