"""``psoas cohort run``: the psoas pipeline over a folder of participants, on Dask.

The work is :func:`analysis.cohort.run_cohort`'s; this module parses the options, shows the
Dask dashboard link and the progress (a bar on a terminal, one line per participant finished
otherwise), lists what failed, and exits non-zero when anything did.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from psoas import console
from psoas.console import err
from sensors.errors import PsoasError

if TYPE_CHECKING:
    import pandas as pd
    from rich.progress import Progress, TaskID

    from analysis.cohort import CohortEvent

cohort_app = typer.Typer(
    help="Cohorts: import and analyse a folder of participants on a Dask cluster.",
    no_args_is_help=True,
)


@cohort_app.command("run")
def run(
    root: Annotated[
        Path,
        typer.Argument(
            help="Cohort folder: ROOT/<participant>/<raw files>, optional ROOT/participants.csv."
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Output folder (Parquet tables, stores, checkpoints).")
    ],
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (its workers "
            "must see ROOT and --out at the same paths). Default: a local cluster.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", help="Worker processes of the local cluster (default: one per CPU)."
        ),
    ] = None,
) -> None:
    """Import and analyse every participant on Dask; a re-run skips what is done.

    The same work as psoas import + psoas analyze per participant, one task per participant-day.
    """
    from analysis.cohort import run_cohort

    with _Reporter() as reporter:
        report = run_cohort(root, out, scheduler=scheduler, workers=workers, on_event=reporter)
    if not report.nothing_to_do:
        _print_summary(report.summary)
    if report.failures:
        err.print(f"[bold red]{len(report.failures)} failure(s):[/]")
        for f in report.failures:  # whole lines: an error names a file and a byte or line
            where = f"{f.participant} {f.stage}" + (f" {f.day}" if f.day else "")
            err.print(f"  {where}: {f.error}", highlight=False, markup=False)
        raise PsoasError(
            f"{len(report.failures)} task(s) failed (listed above and in "
            f"{Path(out) / 'failures.csv'}); the others completed"
        )


class _Reporter:
    """Shows the run's events: a progress bar on a terminal, plain lines in a log."""

    def __init__(self) -> None:
        self._stack: AbstractContextManager[Progress] | None = None
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> _Reporter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stack is not None:
            self._stack.__exit__(*exc)

    def __call__(self, event: CohortEvent) -> None:
        if event.kind in ("plan", "cluster", "done"):
            self._stop()
            err.print(event.message, highlight=False)
            return
        if event.kind == "failure":
            err.print(event.message, style="red", markup=False, highlight=False)
            return
        if err.is_terminal:
            if self._progress is None:
                self._stack = console.count_progress("cohort")
                self._progress = self._stack.__enter__()
                self._task = self._progress.add_task("cohort", total=event.total)
            assert self._task is not None
            self._progress.update(
                self._task, completed=event.done, total=event.total, description=event.message
            )
        elif event.message.startswith("finish ") or event.done == event.total:
            err.print(f"{event.done}/{event.total} tasks done ({event.message})", highlight=False)

    def _stop(self) -> None:
        if self._stack is not None:
            self._stack.__exit__(None, None, None)
            self._stack = self._progress = None
            self._task = None


def _print_summary(summary: pd.DataFrame) -> None:
    table = Table(
        "participant",
        "status",
        "days",
        "sitting h/day",
        "longest streak min",
        "breaks/sitting h",
        "strides",
        "failed days",
        title="cohort summary",
    )
    for row in summary.itertuples():
        table.add_row(
            row.participant,
            row.status,
            str(row.days_analysed),
            _num(row.mean_sitting_h_per_day, 2),
            _num(row.mean_longest_streak_min, 1),
            _num(row.breaks_per_sitting_hour, 2),
            f"{row.strides:,}",
            str(row.failed_days),
        )
    console.out.print(table)


def _num(value: float, digits: int) -> str:
    return "-" if value != value else f"{value:.{digits}f}"
