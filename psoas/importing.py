"""``psoas import``: expand the paths, import (or dry-run) each file, show progress and a summary.

Each file is its own all-or-nothing ingest. With one file a failure is the command's error;
with several, the others still import, every failure is listed in the summary, and the command
exits non-zero at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.table import Table

from psoas import console
from psoas.console import err, local_time
from sensors.errors import ImportFormatError, PsoasError
from sensors.importers import FileReport, ImportOptions, dry_run_file, expand_paths, import_file
from sensors.store import Store


def import_paths(
    store: Store | None, paths: Sequence[Path], options: ImportOptions, *, dry_run: bool = False
) -> list[FileReport]:
    """Import (or with ``dry_run`` check) every file; ``store`` may be None only for a dry run."""
    files = expand_paths(paths)
    if not files:
        raise ImportFormatError("no files to import in " + ", ".join(map(str, paths)))
    reports: list[FileReport] = []
    failures: list[tuple[Path, str]] = []
    skipped: list[tuple[Path, str]] = []
    for path, named in files:
        try:
            report = _one(store, path, options, dry_run)
        except ImportFormatError as exc:
            if not named and "not a format psoas can import" in str(exc):
                skipped.append((path, "not a format psoas can import"))
                continue
            if len(files) == 1:
                raise
            failures.append((path, str(exc)))
            err.print(f"[red]{path}: not imported[/]: {exc}", highlight=False)
            continue
        except PsoasError as exc:
            if len(files) == 1:
                raise
            failures.append((path, str(exc)))
            err.print(f"[red]{path}: not imported[/]: {exc}", highlight=False)
            continue
        reports.append(report)
        _print_file(report, dry_run)
    if len(files) > 1 or dry_run:
        _print_summary(reports, failures, skipped, options.tz, dry_run)
    if failures:
        raise ImportFormatError(
            f"{len(failures)} of {len(files)} files were not imported (listed above); "
            f"the others were{' checked' if dry_run else ''}"
        )
    return reports


def _one(store: Store | None, path: Path, options: ImportOptions, dry_run: bool) -> FileReport:
    with console.byte_progress(path.name) as progress:
        verb = "checking" if dry_run else "importing"
        task = progress.add_task(f"{verb} {path.name}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        if dry_run:
            return dry_run_file(path, options, store, advance)
        assert store is not None
        return import_file(store, path, options, advance)


def _print_file(report: FileReport, dry_run: bool) -> None:
    if report.already_imported:
        err.print(f"{report.path}: already imported, nothing to do")
        return
    r = report.result
    detected = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in report.decisions.items())
    verb = "would import" if dry_run else "imported"
    err.print(
        f"{report.path}: {verb} {r.new_samples:,} samples, {r.new_metric_rows:,} metric rows "
        f"for device {', '.join(sorted(r.devices))}"
        + (f" over {len(r.days)} day(s)" if not dry_run else "")
        + (f" ({detected})" if detected else "")
        + (f"; {r.gaps} gap(s), {r.missing_samples:,} samples missing" if r.gaps else ""),
        highlight=False,
    )


def _print_summary(
    reports: list[FileReport],
    failures: list[tuple[Path, str]],
    skipped: list[tuple[Path, str]],
    tz: str,
    dry_run: bool,
) -> None:
    title = "dry run: nothing was written" if dry_run else "import summary"
    table = Table(
        "file", "format", "device", "samples", "metric rows", "from", "to", "status", title=title
    )
    for r in reports:
        status = "already imported" if r.already_imported else ("ok" if dry_run else "imported")
        table.add_row(
            r.path.name,
            r.importer,
            ", ".join(sorted(r.result.devices)) or "-",
            f"{r.result.new_samples:,}",
            f"{r.result.new_metric_rows:,}",
            local_time(r.first_t, tz),
            local_time(r.last_t, tz),
            status,
        )
    for path, why in failures:
        table.add_row(path.name, "-", "-", "-", "-", "-", "-", f"failed: {why[:80]}")
    for path, why in skipped:
        table.add_row(path.name, "-", "-", "-", "-", "-", "-", f"skipped: {why}")
    console.out.print(table)
