"""``psoas demo``: simulated workday(s) synced over a virtual Bluetooth link, analysed, reported.

For each day a virtual wearable (a bumble GATT server holding the day's offline records, on one
controller of an in-process bumble ``LocalLink``) is synced by the real collector (bleak with the
bumble backend, on a second controller): real HCI/ATT/GATT packets, the same code path as a USB
dongle or the OS stack. Then the analysis runs and the dashboard opens on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

from rich.table import Table

from analysis.pipeline import analyze
from psoas.console import count_progress, err, human_duration, out
from sensors.ble.adapters import parse_adapter
from sensors.ble.collector import ImuCollector, SessionReport, choose, scan
from sensors.ble.wearable import WearableOptions, wearable_from_simulation
from sensors.errors import UsageError
from sensors.simulate import SimulatedRecording, simulate_day
from sensors.store import Store
from sensors.store.store import CATALOG_FILE

ProgressFn = Callable[[str, int, int], None]

DEMO_WEARABLE = "psoas-demo-imu"
DEMO_LINK = "bumble:link:psoas-demo"
DEMO_RATE_HZ = 50.0
DEMO_PACKET_LOSS = 0.0005
"""Share of the wearable's 25-sample packets the simulated device itself lost (become gaps)."""


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


async def sync_over_bluetooth(
    store: Store, sim: SimulatedRecording, progress: ProgressFn | None = None
) -> SessionReport:
    """Load ``sim`` into a virtual wearable and sync it with the collector over the virtual link."""
    wearable = wearable_from_simulation(
        sim,
        WearableOptions(
            kind="imu",
            name=DEMO_WEARABLE,
            placement=sim.placement,
            rate_hz=sim.rate_hz,
            clock_offset_s=0.0,  # the stored day then matches the simulated day exactly
        ),
    )
    await wearable.start(DEMO_LINK)
    try:
        adapter = parse_adapter(DEMO_LINK)
        await adapter.open()
        try:
            found = choose(await scan(adapter, 3.0), DEMO_WEARABLE)
            collector = ImuCollector(store, adapter, found, tz=sim.tz, progress=progress)
            return await collector.run()
        finally:
            await adapter.close()
    finally:
        await wearable.stop()


def run_demo(
    home: Path, *, days: int, tz: str, seed: int, dashboard: bool, port: int = 8050
) -> None:
    fresh_home(home)
    store = Store.open(home)
    truths: list[tuple[str, SimulatedRecording]] = []
    reports: list[SessionReport] = []
    with count_progress("syncing") as progress:
        task = progress.add_task("syncing", total=None)
        for i, day in enumerate(demo_days(days)):
            progress.update(task, description=f"simulating {day}", completed=0, total=None)
            sim = simulate_day(
                day,
                placement="thigh",
                rate_hz=DEMO_RATE_HZ,
                tz=tz,
                seed=seed + i,
                packet_loss=DEMO_PACKET_LOSS,
                seq_start=_next_seq(store, reports),
            )

            def show(_device: str, done: int, total: int, day: dt.date = day) -> None:
                progress.update(
                    task, description=f"syncing {day} over Bluetooth", completed=done, total=total
                )

            reports.append(asyncio.run(sync_over_bluetooth(store, sim, show)))
            truths.append((day.isoformat(), sim))
    analyze(store)
    _report(store, reports[-1].device_id, truths)
    for r in reports:
        err.print(
            f"synced {r.samples:,} samples over Bluetooth in {r.commits} commits; "
            f"{r.gaps} gaps recorded; clock offset {(r.clock_offset_ns or 0) / 1e9:+.3f} s"
        )
    store.close()
    out.print(
        f"\nstore: {home}   try: psoas --home {home} status  |  "
        f"psoas --home {home} export raw --format csv --out -"
    )
    if dashboard:
        from dashboard.app import HOST, serve

        out.print(f"dashboard: http://{HOST}:{port}/  (Ctrl-C stops it)")
        serve(home, port=port)


def _next_seq(store: Store, reports: list[SessionReport]) -> int:
    """The wearable's seq continues across days, as a real device's counter does."""
    cursor = store.cursor(reports[-1].device_id) if reports else None
    return 0 if cursor is None else cursor + 1


def _report(store: Store, device_id: str, truths: list[tuple[str, SimulatedRecording]]) -> None:
    summary = store.read_table("daily_summary", {"device_id": device_id})
    table = Table(
        "day",
        "samples stored",
        "gaps (lost samples)",
        "sitting: psoas / truth",
        "longest streak: psoas / truth",
        "breaks/h",
        "alerts",
        "strides (truth)",
        title=f"psoas demo — {device_id}, thigh, {DEMO_RATE_HZ:.0f} Hz, synced over Bluetooth",
    )
    by_day = {row.day: row for row in summary.itertuples()}
    for day, sim in truths:
        row = by_day[day]
        bouts = sim.truth.sitting_bouts
        alerts = store.read_table("alerts", {"device_id": device_id, "day": day})
        longest_truth = float(bouts["duration_s"].max()) if len(bouts) else 0.0
        table.add_row(
            day,
            f"{row.samples:,}",
            f"{row.gap_count} ({row.missing_samples:,})",
            f"{human_duration(row.sitting_s)} / {human_duration(bouts['duration_s'].sum())}",
            f"{human_duration(row.longest_bout_s)} / {human_duration(longest_truth)}",
            f"{row.breaks_per_sitting_hour:.1f}",
            str(len(alerts)),
            f"{len(sim.truth.strides):,}",
        )
    out.print(table)
    err.print(
        "psoas columns come from the analysis of the synced data, truth from the simulator; a "
        "streak counts short stand-ups (< 60 s) as sitting on, the truth's bouts end at any "
        "stand-up. Stride length comes with the gait analysis."
    )
