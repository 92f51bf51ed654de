"""Cohorts on Dask: ``psoas import`` + ``psoas analyze`` for many participants at once.

A cohort is a folder ``ROOT`` with one sub-folder of raw files per participant (any format
:mod:`sensors.importers` reads) and an optional ``ROOT/participants.csv`` (columns
``participant, placement, tz, sensor_height_m``). Each participant gets an ordinary psoas store
in ``OUT/_stores/<participant>``; the work is split into tasks on a ``dask.distributed`` cluster:

1. ``import``: every file of the participant through :func:`sensors.importers.import_file` (the
   function ``psoas import`` runs) with the participant's placement, zone and sensor height;
2. ``analyze``: one task per participant-day, running :func:`analysis.pipeline.analyze_device_day`
   with :func:`analysis.pipeline.sitting_settings` for every device with data that day (exactly
   what ``psoas analyze`` runs per day). A participant's days run one after the other, in order,
   because a day's streak alerts continue the previous day's posture; participants run in
   parallel;
3. ``finish``: the rest of :func:`analysis.pipeline.analyze` (midnight bouts linked, combined
   days, weekly strides), then the participant's tables are written as hive-partitioned Parquet,
   ``OUT/<table>/participant=<id>/part-<day>.parquet`` for ``sitting_bouts``, ``strides`` and
   ``daily_summary`` (temp file + rename), and its row of ``OUT/cohort_summary.parquet``.

Every task opens the store itself and can run again (the store makes import and per-day writes
idempotent), so a task Dask re-runs after losing a worker does no harm. A task that fails returns
its error instead of raising: it is listed in ``OUT/failures.csv`` (participant, stage, day, file,
error) and the participant's other days, and the other participants, go on.

Checkpoints: a task writes a done-marker after its outputs
(``OUT/_done/<participant>/{import,day-<day>,finish}.json``). Dask keeps no results across runs,
so this small on-disk bookkeeping is ours: the import marker holds the files' names, sizes and
modification times (the run imports again only when they changed) and each day marker the time
its analysis started (new data committed after that makes the day due again, the rule
``psoas analyze`` uses). An import that fails on a damaged file is remembered against those
files and reported again without being retried until the participant's files change; every
other failed task is retried by the next run.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import math
import os
import re
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.combine import COMBINED
from analysis.pipeline import (
    analyze_device_day,
    combine_day,
    link_midnight_bouts,
    sitting_settings,
    update_weekly_strides,
)
from sensors.errors import ImportFormatError, PsoasError, StoreError, UsageError
from sensors.importers import ImportOptions, expand_paths, import_file
from sensors.importers.base import SENSOR_HEIGHT_RANGE_M
from sensors.schema import DERIVED_TABLES, PLACEMENTS
from sensors.store import Store
from sensors.store.home import make_private_dir
from sensors.timeutil import system_tz, zone

log = logging.getLogger(__name__)

PARTICIPANTS_FILE = "participants.csv"
PARTICIPANT_COLUMNS = ("participant", "placement", "tz", "sensor_height_m")
OUTPUT_TABLES = ("sitting_bouts", "strides", "daily_summary")
"""The tables written per participant-day under ``OUT/<table>/participant=<id>/``."""
STORES_DIR = "_stores"
DONE_DIR = "_done"
SUMMARY_FILE = "cohort_summary"
FAILURES_FILE = "failures.csv"
FAILURE_COLUMNS = ("participant", "stage", "day", "file", "error")
DEFAULT_PLACEMENT = "unknown"
"""Placement of a participant participants.csv does not describe (``psoas import``'s default)."""
_PARTICIPANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_NOT_A_FORMAT = "not a format psoas can import"
_SUMMARY_DTYPES = {
    "participant": "string",
    "status": "string",
    "devices": "int64",
    "days_analysed": "int64",
    "mean_sitting_h_per_day": "float64",
    "mean_longest_streak_min": "float64",
    "breaks_per_sitting_hour": "float64",
    "strides": "int64",
    "failed_days": "int64",
}


# -- the plan --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Participant:
    """One participant: their folder of raw files and how the sensor was worn.

    ``tz`` is the IANA zone their local days are cut in; ``sensor_height_m`` (m) is the standing
    height of a lower-back sensor above the floor, or None.
    """

    participant: str
    folder: Path
    files: tuple[Path, ...]
    placement: str = DEFAULT_PLACEMENT
    tz: str = "UTC"
    sensor_height_m: float | None = None

    def options(self) -> ImportOptions:
        """What ``psoas import --placement --tz --sensor-height`` would be given."""
        return ImportOptions(
            placement=self.placement, tz=self.tz, sensor_height_m=self.sensor_height_m
        )

    def settings(self) -> dict[str, Any]:
        return {"placement": self.placement, "tz": self.tz, "sensor_height_m": self.sensor_height_m}

    def fingerprint(self) -> list[list[Any]]:
        """(path under the folder, size in bytes, modification time in ns) of every file."""
        rows = []
        for path in self.files:
            info = path.stat()
            rows.append([path.relative_to(self.folder).as_posix(), info.st_size, info.st_mtime_ns])
        return rows


@dataclass
class Failure:
    """A task that did not complete, as listed in ``OUT/failures.csv``."""

    participant: str
    stage: str  # import, analyze or finish
    day: str = ""
    file: str = ""
    error: str = ""


@dataclass
class _Work:
    """What a run still has to do for one participant (decided from the done-markers)."""

    participant: Participant
    needs_import: bool
    days: dict[str, list[str]] = field(default_factory=dict)  # day -> device ids (known so far)
    due_days: list[str] = field(default_factory=list)
    needs_finish: bool = False
    remembered: list[Failure] = field(default_factory=list)  # a damaged file, files unchanged

    @property
    def idle(self) -> bool:
        return not (self.needs_import or self.due_days or self.needs_finish)


@dataclass
class CohortPlan:
    """The participants of ``root`` and what is left to do for each."""

    root: Path
    out: Path
    work: list[_Work]

    @property
    def participants(self) -> list[Participant]:
        return [w.participant for w in self.work]

    @property
    def nothing_to_do(self) -> bool:
        return all(w.idle for w in self.work)

    def task_count(self) -> int:
        """Tasks known now (a participant's days are known only after its import)."""
        return sum(int(w.needs_import) + len(w.due_days) + int(w.needs_finish) for w in self.work)


@dataclass
class CohortEvent:
    """Something for the user to see: ``kind`` is plan, cluster, task, failure or done."""

    kind: str
    message: str
    done: int = 0
    total: int = 0


CohortProgress = Callable[[CohortEvent], None]


@dataclass
class CohortReport:
    """What a run did."""

    participants: int
    tasks_run: int
    nothing_to_do: bool
    failures: list[Failure]
    summary: pd.DataFrame
    dashboard_link: str | None = None
    seconds: float = 0.0


def read_participants(root: Path) -> dict[str, dict[str, Any]]:
    """The settings ``ROOT/participants.csv`` gives each participant (empty if no file).

    Every problem is a :class:`UsageError` naming the file, the line and the column.
    """
    path = root / PARTICIPANTS_FILE
    if not path.exists():
        return {}
    rows: dict[str, dict[str, Any]] = {}
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise UsageError(
                f"{path}: line 1: empty; write the header {','.join(PARTICIPANT_COLUMNS)}"
            )
        names = [h.strip() for h in header]
        for number, name in enumerate(names, start=1):
            if name not in PARTICIPANT_COLUMNS:
                raise UsageError(
                    f"{path}: line 1, column {number} ({name!r}): unknown column; "
                    f"use {', '.join(PARTICIPANT_COLUMNS)}"
                )
        if len(set(names)) != len(names):
            raise UsageError(f"{path}: line 1: a column is named twice ({','.join(names)})")
        if "participant" not in names:
            raise UsageError(f"{path}: line 1: no 'participant' column (header: {','.join(names)})")
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                raise UsageError(
                    f"{path}: line {line}: {len(row)} fields where the header has {len(names)}"
                )
            values = dict(zip(names, (cell.strip() for cell in row), strict=True))
            pid = values["participant"]

            def bad(column: str, what: str, line: int = line) -> UsageError:
                return UsageError(f"{path}: line {line}, column {column!r}: {what}")

            if not _PARTICIPANT_ID.match(pid):
                raise bad(
                    "participant",
                    f"{pid!r} is not a usable participant id; use 1-64 letters, digits, '.', '_' "
                    f"or '-', starting with a letter or digit (the folder name under {root})",
                )
            if pid in rows:
                raise bad("participant", f"{pid!r} is listed twice")
            if not (root / pid).is_dir():
                raise bad("participant", f"there is no folder {root / pid} for {pid!r}")
            settings: dict[str, Any] = {}
            placement = values.get("placement", "")
            if placement:
                if placement not in PLACEMENTS:
                    raise bad("placement", f"{placement!r}; use one of {', '.join(PLACEMENTS)}")
                settings["placement"] = placement
            tz = values.get("tz", "")
            if tz:
                try:
                    zone(tz)
                except UsageError as exc:
                    raise bad("tz", str(exc)) from None
                settings["tz"] = tz
            height = values.get("sensor_height_m", "")
            if height:
                try:
                    metres = float(height)
                except ValueError:
                    metres = math.nan
                lo, hi = SENSOR_HEIGHT_RANGE_M
                if not lo <= metres <= hi:
                    raise bad(
                        "sensor_height_m",
                        f"{height!r}; give the sensor's height above the ground in metres "
                        f"({lo}-{hi}), or leave it empty",
                    )
                settings["sensor_height_m"] = metres
            rows[pid] = settings
    return rows


def plan_cohort(root: Path, out: Path, *, default_tz: str | None = None) -> CohortPlan:
    """Find the participants of ``root``, check ``participants.csv`` and decide, from the
    done-markers under ``out``, what is left to do. Nothing is written."""
    root, out = Path(root).absolute(), Path(out).absolute()
    if not root.is_dir():
        raise UsageError(
            f"{root}: no such folder; give the cohort folder (one folder per participant)"
        )
    if out == root or root.is_relative_to(out):
        raise UsageError(f"--out {out}: choose a folder outside the cohort folder {root}")
    settings = read_participants(root)
    tz = default_tz or system_tz()
    work: list[_Work] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name.startswith((".", "_")) or folder == out:
            continue
        if out.is_relative_to(folder):
            raise UsageError(
                f"--out {out}: choose a folder outside the participant folder {folder}"
            )
        pid = folder.name
        if not _PARTICIPANT_ID.match(pid):
            raise UsageError(
                f"{folder}: {pid!r} is not a usable participant id; rename the folder to 1-64 "
                f"letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        files = tuple(path for path, _ in expand_paths([folder]))
        given = settings.get(pid, {})
        participant = Participant(
            participant=pid,
            folder=folder,
            files=files,
            placement=given.get("placement", DEFAULT_PLACEMENT),
            tz=given.get("tz", tz),
            sensor_height_m=given.get("sensor_height_m"),
        )
        work.append(_plan_participant(participant, out))
    if not work:
        raise UsageError(
            f"{root}: no participant folders; put each participant's files in ROOT/<id>/"
        )
    return CohortPlan(root, out, work)


def _plan_participant(participant: Participant, out: Path) -> _Work:
    done = _done_dir(out, participant.participant)
    marker = _read_json(done / "import.json")
    if marker is not None and marker.get("settings") != participant.settings():
        raise UsageError(
            f"{participant.participant}: placement/tz/sensor height changed since {out} was "
            f"written ({marker.get('settings')} -> {participant.settings()}); the store keeps what "
            f"it was imported with: delete {out / STORES_DIR / participant.participant} and {done} "
            f"to import this participant again"
        )
    if marker is None or marker.get("fingerprint") != participant.fingerprint():
        return _Work(participant, needs_import=True)
    if marker.get("status") == "failed":
        remembered = [Failure(**f) for f in marker.get("failures", [])]
        return _Work(participant, needs_import=False, remembered=remembered)
    days = {day: list(devices) for day, devices in marker.get("days", {}).items()}
    due = [day for day in sorted(days) if not (done / _day_marker(day)).exists()]
    finish = _read_json(done / "finish.json")
    needs_finish = bool(due) or finish is None or finish.get("days") != sorted(days)
    return _Work(participant, False, days, due, needs_finish)


# -- the tasks (they run on Dask workers) -------------------------------------------------------
@dataclass
class ImportOutcome:
    participant: str
    ok: bool
    days: dict[str, list[str]] = field(default_factory=dict)
    due_days: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    files: int = 0
    seconds: float = 0.0


@dataclass
class DayOutcome:
    participant: str
    day: str
    failure: Failure | None = None
    seconds: float = 0.0


@dataclass
class FinishOutcome:
    participant: str
    summary: dict[str, Any] | None = None
    failure: Failure | None = None
    seconds: float = 0.0


def import_participant(participant: Participant, out: str) -> ImportOutcome:
    """Import every file of ``participant`` into their store and mark the days that are due.

    A damaged file fails the participant's import (their other files are still stored, but the
    participant is not analysed from part of their data); the failure is remembered against the
    files, so it is reported again, not retried, until the files change.
    """
    started = time.monotonic()
    pid = participant.participant
    done = _done_dir(Path(out), pid)
    fingerprint = participant.fingerprint()  # what is imported (a file changed later: again)
    failures: list[Failure] = []
    imported = 0
    try:
        with Store.open(_store_dir(Path(out), pid)) as store:
            for path in participant.files:
                try:
                    import_file(store, path, participant.options())
                    imported += 1
                except StoreError:
                    raise
                except PsoasError as exc:  # the file's content: the same again next time
                    if isinstance(exc, ImportFormatError) and _NOT_A_FORMAT in str(exc):
                        log.info("%s: skipped, %s", path, _NOT_A_FORMAT)
                        continue
                    failures.append(Failure(pid, "import", file=str(path), error=str(exc)))
            if not failures and imported == 0:
                failures.append(
                    Failure(
                        pid,
                        "import",
                        file=str(participant.folder),
                        error=f"{participant.folder}: no file psoas can import in this folder",
                    )
                )
            days = _store_days(store)
            due = [] if failures else _due_days(store, done, days)
    except PsoasError as exc:  # the store: retried by the next run, nothing is remembered
        return ImportOutcome(
            pid, False, failures=[Failure(pid, "import", error=str(exc))], seconds=_since(started)
        )
    except Exception as exc:
        log.exception("%s: import failed", pid)
        return ImportOutcome(
            pid,
            False,
            failures=[Failure(pid, "import", error=_describe(exc))],
            seconds=_since(started),
        )
    marker: dict[str, Any] = {
        "settings": participant.settings(),
        "fingerprint": fingerprint,
        "status": "failed" if failures else "ok",
        "days": days,
        "failures": [asdict(f) for f in failures],
    }
    for day in due:  # a day's marker goes before the import's: a crash leaves the day due
        (done / _day_marker(day)).unlink(missing_ok=True)
    if due or failures:
        (done / "finish.json").unlink(missing_ok=True)
    _write_json(done / "import.json", marker)
    return ImportOutcome(
        pid, not failures, days, due, failures, files=imported, seconds=_since(started)
    )


def analyze_participant_day(participant: str, out: str, day: str, devices: list[str]) -> DayOutcome:
    """Run ``psoas analyze``'s per-day analysis for every device of ``participant`` on ``day``."""
    started_s = time.monotonic()
    started_ns = time.time_ns()
    done = _done_dir(Path(out), participant)
    (done / "finish.json").unlink(missing_ok=True)  # the store changes: the outputs are stale
    try:
        with Store.open(_store_dir(Path(out), participant)) as store:
            settings = sitting_settings(store)
            for device_id in sorted(devices):
                analyze_device_day(store, device_id, day, settings)
    except Exception as exc:
        if not isinstance(exc, PsoasError):
            log.exception("%s %s: analysis failed", participant, day)
        failure = Failure(participant, "analyze", day=day, error=_describe(exc))
        return DayOutcome(participant, day, failure, _since(started_s))
    _write_json(done / _day_marker(day), {"started_ns": started_ns, "devices": sorted(devices)})
    return DayOutcome(participant, day, None, _since(started_s))


def finish_participant(
    participant: str, out: str, days: list[str], failed_days: list[str]
) -> FinishOutcome:
    """The rest of ``psoas analyze`` (midnight bouts, combined days, weekly strides), then the
    participant's Parquet parts and summary row."""
    started = time.monotonic()
    out_dir = Path(out)
    try:
        with Store.open(_store_dir(out_dir, participant)) as store:
            settings = sitting_settings(store)
            for device_id in store.devices()["device_id"]:
                link_midnight_bouts(store, device_id)
            for day in sorted(days):
                combine_day(store, day, settings)
            if days:
                link_midnight_bouts(store, COMBINED)
                update_weekly_strides(store)
            tables = {name: store.read_table(name) for name in OUTPUT_TABLES}
        _write_parts(out_dir, participant, tables, days)
        summary = participant_summary(participant, tables, failed_days)
    except Exception as exc:
        if not isinstance(exc, PsoasError):
            log.exception("%s: finishing failed", participant)
        failure = Failure(participant, "finish", error=_describe(exc))
        return FinishOutcome(participant, None, failure, _since(started))
    marker = {"days": sorted(days), "failed_days": sorted(failed_days), "summary": summary}
    _write_json(_done_dir(out_dir, participant) / "finish.json", marker)
    return FinishOutcome(participant, summary, None, _since(started))


def participant_summary(
    participant: str, tables: dict[str, pd.DataFrame], failed_days: Sequence[str] = ()
) -> dict[str, Any]:
    """One row of the cohort summary from a participant's derived tables.

    A day counts once: the ``combined`` timeline when two or more devices were worn, else the
    device that recorded longest that day. Sitting and the longest streak are means over days;
    breaks per sitting hour are pooled (all breaks over all sitting hours); strides counts every
    stride row of the participant's devices.
    """
    daily = tables["daily_summary"]
    devices = daily.loc[daily["device_id"] != COMBINED, "device_id"].nunique()
    if len(daily):
        rank = (daily["device_id"] == COMBINED).astype(int) * 1e12 + daily["recorded_s"].fillna(0)
        chosen = daily.assign(_rank=rank.to_numpy()).sort_values(["day", "_rank"])
        per_day = chosen.groupby("day", sort=True).tail(1)
    else:
        per_day = daily
    sitting_h = float(per_day["sitting_s"].sum()) / 3600.0
    strides = tables["strides"]
    return {
        "participant": participant,
        "status": "ok" if not failed_days else "some days failed",
        "devices": int(devices),
        "days_analysed": len(per_day),
        "mean_sitting_h_per_day": float(per_day["sitting_s"].mean() / 3600.0)
        if len(per_day)
        else math.nan,
        "mean_longest_streak_min": float(per_day["longest_bout_s"].mean() / 60.0)
        if len(per_day)
        else math.nan,
        "breaks_per_sitting_hour": float(per_day["breaks"].sum()) / sitting_h
        if sitting_h > 0
        else math.nan,
        "strides": int((strides["device_id"] != COMBINED).sum()),
        "failed_days": len(failed_days),
    }


# -- running it -----------------------------------------------------------------------------------
def run_cohort(
    root: Path,
    out: Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    on_event: CohortProgress = lambda event: None,
    default_tz: str | None = None,
) -> CohortReport:
    """Import and analyse every participant of ``root`` into ``out`` on a Dask cluster.

    ``scheduler`` is the address of a running Dask scheduler (``tcp://host:8786``) whose workers
    see ``root`` and ``out`` at the same paths; without it a local cluster of ``workers`` processes
    (default: one per CPU) with one thread each runs the tasks. Failed tasks are in the report and
    in ``out/failures.csv``; the rest completes.
    """
    began = time.monotonic()
    plan = plan_cohort(root, out, default_tz=default_tz)
    out = plan.out
    make_private_dir(out)  # health data: 0700, like a store
    remembered = [f for w in plan.work for f in w.remembered]
    if plan.nothing_to_do:
        on_event(
            CohortEvent(
                "done",
                f"nothing to do: all {len(plan.work)} participants are up to date in {out}"
                + (f" ({len(remembered)} remembered failure(s))" if remembered else ""),
            )
        )
        summary = _write_summary(out, plan, {}, remembered)
        _write_failures(out, remembered)
        return CohortReport(len(plan.work), 0, True, remembered, summary, None, _since(began))
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers}: give at least 1")
    on_event(
        CohortEvent(
            "plan",
            f"{len(plan.work)} participants, {sum(not w.idle for w in plan.work)} with work to do",
        )
    )
    with _client(scheduler, workers) as client:
        link = client.dashboard_link
        on_event(CohortEvent("cluster", f"Dask dashboard: {link}"))
        failures, summaries, ran = _run_tasks(client, plan, on_event)
    failures = remembered + failures
    summary = _write_summary(out, plan, summaries, failures)
    _write_failures(out, failures)
    seconds = _since(began)
    on_event(
        CohortEvent(
            "done",
            f"{ran} task(s) in {seconds:.1f} s; {len(failures)} failure(s)"
            + (f", listed in {out / FAILURES_FILE}" if failures else ""),
        )
    )
    return CohortReport(len(plan.work), ran, False, failures, summary, link, seconds)


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise UsageError(
            "psoas cohort runs on Dask: install it with pip install 'psoas[cohort]' "
            "(or pip install 'dask[distributed]')"
        ) from exc
    if scheduler is not None:
        if workers is not None:
            raise UsageError(
                "--workers starts a local cluster; with --scheduler the cluster is yours"
            )
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise UsageError(
                f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc}); start one "
                f"with `dask scheduler` and workers with `dask worker {scheduler}`"
            ) from exc
        with client:
            yield client
        return
    n = workers or os.cpu_count() or 1
    with (
        _quiet("distributed"),
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Only errors from logger ``name`` (the in-process scheduler reports every connection)."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _run_tasks(
    client: Any, plan: CohortPlan, on_event: CohortProgress
) -> tuple[list[Failure], dict[str, dict[str, Any]], int]:
    """Submit the tasks, chaining each participant's days in order, until all have run."""
    from distributed import as_completed

    out = str(plan.out)
    run_id = uuid.uuid4().hex[:8]
    failures: list[Failure] = []
    summaries: dict[str, dict[str, Any]] = {}
    pending: dict[Any, tuple[str, _Work, str]] = {}  # future -> (stage, work, day)
    failed_days: dict[str, list[str]] = {}
    queue = as_completed()
    total = plan.task_count()
    done = 0

    def submit(stage: str, work: _Work, day: str = "") -> None:
        pid = work.participant.participant
        key = f"{stage}-{pid}-{day or 'all'}-{run_id}"
        if stage == "import":
            future = client.submit(import_participant, work.participant, out, key=key)
        elif stage == "analyze":
            devices = work.days[day]
            future = client.submit(analyze_participant_day, pid, out, day, devices, key=key)
        else:
            days = sorted(work.days)
            future = client.submit(
                finish_participant, pid, out, days, failed_days.get(pid, []), key=key
            )
        pending[future] = (stage, work, day)
        queue.add(future)

    def next_step(work: _Work) -> None:
        """Submit the participant's next due day, or its finish when no day is left."""
        if work.due_days:
            submit("analyze", work, work.due_days.pop(0))
        elif work.needs_finish:
            work.needs_finish = False
            submit("finish", work)

    for work in plan.work:
        if work.needs_import:
            submit("import", work)
        elif not work.idle:
            next_step(work)

    for future in queue:
        stage, work, day = pending.pop(future)
        pid = work.participant.participant
        done += 1
        try:
            outcome = future.result()
        except Exception as exc:  # the task itself never raises: a worker died, or similar
            outcome = None
            lost = Failure(
                pid, stage, day=day, error=f"the task did not complete: {_describe(exc)}"
            )
        finally:
            future.release()
        new: list[Failure] = []
        if outcome is None:
            new.append(lost)
        elif isinstance(outcome, ImportOutcome):
            new.extend(outcome.failures)
        elif outcome.failure is not None:
            new.append(outcome.failure)
        if stage == "import":
            if new:
                summaries[pid] = _empty_summary(pid, "import failed")
            else:
                work.days, work.due_days = outcome.days, list(outcome.due_days)
                work.needs_finish = True
                total += len(work.due_days) + 1
                next_step(work)
        elif stage == "analyze":
            if new:
                failed_days.setdefault(pid, []).append(day)
            next_step(work)
        elif new:
            summaries[pid] = _empty_summary(pid, "finish failed")
        else:
            summaries[pid] = outcome.summary
        failures.extend(new)
        label = f"{stage} {pid}" + (f" {day}" if day else "")
        for failure in new:
            where = f" {failure.file}" if failure.file not in failure.error else ""
            on_event(CohortEvent("failure", f"{label} failed{where}: {failure.error}", done, total))
        on_event(CohortEvent("task", label, done, total))
    return failures, summaries, done


# -- outputs -------------------------------------------------------------------------------------
def _write_parts(
    out: Path, participant: str, tables: dict[str, pd.DataFrame], days: Sequence[str]
) -> None:
    """``OUT/<table>/participant=<id>/part-<day>.parquet`` for each day with analysed rows;
    the parts of days without rows (any more) are removed."""
    analysed = set(tables["daily_summary"]["day"].astype(str))
    for name, frame in tables.items():
        folder = out / name / f"participant={participant}"
        folder.mkdir(parents=True, exist_ok=True)
        schema = _arrow_schema(name)
        by_day = {str(day): rows for day, rows in frame.groupby("day", sort=True)}
        for day in sorted(set(days) | analysed):
            path = folder / f"part-{day}.parquet"
            if day not in analysed:
                path.unlink(missing_ok=True)
                continue
            rows = by_day.get(day, frame.iloc[:0])
            table = pa.Table.from_pandas(
                rows.reset_index(drop=True), schema=schema, preserve_index=False
            )
            _atomic(path, lambda tmp, table=table: pq.write_table(table, tmp))


def _arrow_schema(table: str) -> pa.Schema:
    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
    }
    return pa.schema([(c, types[d]) for c, d in DERIVED_TABLES[table].items()])


def _empty_summary(participant: str, status: str) -> dict[str, Any]:
    return {
        "participant": participant,
        "status": status,
        "devices": 0,
        "days_analysed": 0,
        "mean_sitting_h_per_day": math.nan,
        "mean_longest_streak_min": math.nan,
        "breaks_per_sitting_hour": math.nan,
        "strides": 0,
        "failed_days": 0,
    }


def _write_summary(
    out: Path, plan: CohortPlan, summaries: dict[str, dict[str, Any]], failures: list[Failure]
) -> pd.DataFrame:
    """``OUT/cohort_summary.parquet`` and ``.csv``: one row per participant of the plan."""
    failed = {f.participant for f in failures if f.stage == "import"}
    rows = []
    for participant in plan.participants:
        pid = participant.participant
        row = summaries.get(pid)
        if row is None:
            marker = _read_json(_done_dir(out, pid) / "finish.json")
            if pid in failed:
                row = _empty_summary(pid, "import failed")
            elif marker is not None:
                row = marker["summary"]
            else:
                row = _empty_summary(pid, "not analysed")
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(_SUMMARY_DTYPES)).astype(_SUMMARY_DTYPES)
    _atomic(out / f"{SUMMARY_FILE}.parquet", lambda tmp: frame.to_parquet(tmp, index=False))
    _atomic(out / f"{SUMMARY_FILE}.csv", lambda tmp: frame.to_csv(tmp, index=False))
    return frame


def _write_failures(out: Path, failures: list[Failure]) -> None:
    frame = pd.DataFrame([asdict(f) for f in failures], columns=list(FAILURE_COLUMNS))
    _atomic(out / FAILURES_FILE, lambda tmp: frame.to_csv(tmp, index=False))


def read_output(out: Path, table: str) -> pd.DataFrame:
    """A cohort output table with its ``participant`` column (the hive partition)."""
    frame = pd.read_parquet(Path(out) / table, partitioning="hive")
    frame["participant"] = frame["participant"].astype("string")
    return frame


# -- small helpers ---------------------------------------------------------------------------------
def _store_dir(out: Path, participant: str) -> Path:
    return out / STORES_DIR / participant


def _done_dir(out: Path, participant: str) -> Path:
    return out / DONE_DIR / participant


def _day_marker(day: str) -> str:
    return f"day-{day}.json"


def _store_days(store: Store) -> dict[str, list[str]]:
    """Every local day with raw samples or metrics -> the devices with data that day."""
    days: dict[str, set[str]] = {}
    for device_id in store.devices()["device_id"]:
        for kind in ("raw", "metrics"):
            for day in store.days(device_id, kind):
                days.setdefault(day, set()).add(str(device_id))
    return {day: sorted(devices) for day, devices in sorted(days.items())}


def _due_days(store: Store, done: Path, days: dict[str, list[str]]) -> list[str]:
    """Days without a done-marker, or with data committed after their analysis started."""
    due = []
    for day, devices in days.items():
        marker = _read_json(done / _day_marker(day))
        if marker is None or marker.get("devices") != devices:
            due.append(day)
            continue
        since = int(marker["started_ns"])
        if any(day in store.changed_days(device_id, since) for device_id in devices):
            due.append(day)
    return due


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        log.warning("%s: unreadable done-marker, the task runs again", path)
        return None


def _write_json(path: Path, value: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic(path, lambda tmp: tmp.write_text(json.dumps(value, indent=1, default=_json_default)))


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` through a hidden temp file in its folder, fsync it, rename it in place."""
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        write(tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, PsoasError):
        return str(exc)
    where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    at = f" (at {where[0].filename}:{where[0].lineno})" if where else ""
    return f"{type(exc).__name__}: {exc}{at}"


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)
