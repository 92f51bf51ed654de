"""``psoas demo``: a simulated wearer's workday(s) into a fresh store, analysed and reported.

The simulated thigh IMU's samples are committed in one-hour batches, the way an after-workday
sync commits them, so the demo exercises the same store path as real data.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path

import numpy as np
from rich.table import Table

from analysis.pipeline import analyze
from psoas.console import count_progress, err, human_duration, out
from sensors.errors import UsageError
from sensors.simulate import SimulatedRecording, simulate_day
from sensors.store import DeviceInfo, RecordingInfo, Store
from sensors.store.store import CATALOG_FILE

DEMO_DEVICE = "demo-thigh-imu"
DEMO_RATE_HZ = 50.0
BATCH_S = 3600


def fresh_home(home: Path) -> None:
    """Empty ``home`` for the demo, refusing to delete anything that is not a psoas store."""
    if not home.exists():
        return
    if (home / CATALOG_FILE).exists():
        shutil.rmtree(home)
    elif any(home.iterdir()):
        raise UsageError(
            f"{home} exists and is not a psoas store; the demo needs a fresh folder — "
            f"pass --home to choose another"
        )


def demo_days(n: int, today: dt.date | None = None) -> list[dt.date]:
    """The last ``n`` days before today, ending on the most recent weekday (a workday)."""
    end = (today or dt.date.today()) - dt.timedelta(days=1)
    while end.weekday() >= 5:
        end -= dt.timedelta(days=1)
    return [end - dt.timedelta(days=i) for i in range(n - 1, -1, -1)]


def ingest_recording(store: Store, sim: SimulatedRecording, source: str) -> None:
    """Commit a simulated recording in one-hour batches, as a sync would."""
    device = DeviceInfo(sim.device_id, tz=sim.tz, placement=sim.placement, name="virtual IMU")
    recording = RecordingInfo(
        device, source=source, sensor_height_m=sim.sensor_height_m, rate_hz=sim.rate_hz
    )
    t = sim.samples["t"].to_numpy()
    edges = np.searchsorted(t, np.arange(t[0], t[-1] + BATCH_S * 10**9, BATCH_S * 10**9))
    bounds = [*edges.tolist(), len(t)]
    for lo, hi in itertools.pairwise(bounds):
        if hi > lo:
            with store.ingest() as tx:
                tx.add_samples(recording, sim.samples.iloc[lo:hi])


def run_demo(
    home: Path, *, days: int, tz: str, seed: int, dashboard: bool, port: int = 8050
) -> None:
    fresh_home(home)
    store = Store.open(home)
    truths: list[tuple[str, SimulatedRecording]] = []
    with count_progress("simulating and syncing") as progress:
        task = progress.add_task("simulating and syncing", total=days)
        for i, day in enumerate(demo_days(days)):
            progress.update(task, description=f"simulating and syncing {day}")
            sim = simulate_day(
                day,
                placement="thigh",
                rate_hz=DEMO_RATE_HZ,
                tz=tz,
                seed=seed + i,
                device_id=DEMO_DEVICE,
                packet_loss=0.0005,
                seq_start=_next_seq(store),
            )
            ingest_recording(store, sim, source=f"simulator seed {seed + i}")
            truths.append((day.isoformat(), sim))
            progress.advance(task)
    analyze(store)
    _report(store, truths)
    store.close()
    out.print(
        f"\nstore: {home}   try: psoas --home {home} status  |  "
        f"psoas --home {home} export raw --format csv --out -"
    )
    if dashboard:
        from dashboard.app import HOST, serve

        out.print(f"dashboard: http://{HOST}:{port}/  (Ctrl-C stops it)")
        serve(home, port=port)


def _next_seq(store: Store) -> int:
    cursor = store.cursor(DEMO_DEVICE)
    return 0 if cursor is None else cursor + 1


def _report(store: Store, truths: list[tuple[str, SimulatedRecording]]) -> None:
    summary = store.read_table("daily_summary", {"device_id": DEMO_DEVICE})
    table = Table(
        "day",
        "samples stored",
        "recorded",
        "gaps (lost samples)",
        "sitting (truth)",
        "longest sitting bout (truth)",
        "strides (truth)",
        title=f"psoas demo — {DEMO_DEVICE}, thigh, {DEMO_RATE_HZ:.0f} Hz",
    )
    by_day = {row.day: row for row in summary.itertuples()}
    for day, sim in truths:
        row = by_day[day]
        bouts = sim.truth.sitting_bouts
        table.add_row(
            day,
            f"{row.samples:,}",
            human_duration(row.recorded_s),
            f"{row.gap_count} ({row.missing_samples:,})",
            human_duration(float(bouts["duration_s"].sum())),
            human_duration(float(bouts["duration_s"].max()) if len(bouts) else 0.0),
            f"{len(sim.truth.strides):,}",
        )
    out.print(table)
    err.print(
        "(truth) columns come from the simulator; sitting detection and stride length are "
        "computed by later analysis stages."
    )
