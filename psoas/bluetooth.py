"""Command-line orchestration of the Bluetooth parts: list devices, collect, run a virtual wearable.

The logic lives in ``sensors.ble``; this module opens the adapter, shows progress and prints the
reports.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from rich.progress import TaskID
from rich.table import Table

from psoas.console import count_progress, err, out
from sensors.ble.adapters import BleAdapter, parse_adapter
from sensors.ble.collector import FoundDevice, SessionReport, collect_devices, scan
from sensors.store import Store

T = TypeVar("T")


async def with_adapter(spec: str | None, work: Callable[[BleAdapter], Awaitable[T]]) -> T:
    """Open the adapter ``spec``, run ``work`` with it, close it whatever happens."""
    adapter = parse_adapter(spec)
    await adapter.open()
    try:
        return await work(adapter)
    finally:
        await adapter.close()


def list_devices(spec: str | None, timeout_s: float) -> list[FoundDevice]:
    """Scan and print the compatible devices in range."""

    async def work(adapter: BleAdapter) -> list[FoundDevice]:
        return await scan(adapter, timeout_s)

    found = asyncio.run(with_adapter(spec, work))
    if not found:
        out.print(f"no psoas wearable or RSC footpod seen in {timeout_s:g} s")
        return found
    table = Table("name", "address", "kind", "RSSI (dBm)", "device id")
    for f in found:
        table.add_row(f.name, f.address, f.kind, str(f.rssi), f.device_id)
    out.print(table)
    return found


def collect(
    store: Store,
    spec: str | None,
    wanted: Sequence[str],
    *,
    tz: str,
    placement: str | None,
    live_s: float | None,
    delete_after_sync: bool,
    scan_timeout_s: float,
    live_alerts: bool = False,
) -> list[SessionReport]:
    """Sync (and stream) every wanted device at once; print one report line per device.

    With ``live_alerts`` every committed batch goes through a live sitting-streak detector and
    live samples are committed every 0.5 s, so an alert prints within about a second of the
    streak reaching the threshold in the data.
    """
    from psoas.live_alerts import LiveAlertPrinter

    printer = LiveAlertPrinter(store) if live_alerts else None

    async def work(adapter: BleAdapter) -> list[SessionReport]:
        with count_progress("syncing") as progress:
            tasks: dict[str, TaskID] = {}

            def on_progress(device_id: str, done: int, total: int) -> None:
                if device_id not in tasks:
                    tasks[device_id] = progress.add_task(device_id, total=None)
                progress.update(tasks[device_id], completed=done, total=total)

            return await collect_devices(
                store,
                adapter,
                wanted,
                tz=tz,
                placement=placement,
                live_s=live_s,
                delete_after_sync=delete_after_sync,
                scan_timeout_s=scan_timeout_s,
                progress=on_progress,
                on_batch=printer,
                commit_every_s=0.5 if live_alerts else 2.0,
            )

    reports = asyncio.run(with_adapter(spec, work))
    for r in reports:
        print_report(r)
    return reports


def print_report(r: SessionReport) -> None:
    parts = [
        f"{r.device_id}: {r.samples:,} new samples"
        if r.kind == "imu"
        else f"{r.device_id}: {r.metric_rows:,} metric rows"
    ]
    parts.append(f"{r.commits} commits")
    if r.reconnects:
        parts.append(f"{r.reconnects} reconnects")
    if r.gaps:
        parts.append(f"{r.gaps} gaps ({r.missing_samples:,} samples the device lost)")
    c = r.counters
    if c.duplicate_batches:
        parts.append(f"{c.duplicate_batches} duplicate batches dropped")
    if c.rejected_batches or r.decode_errors:
        parts.append(f"{c.rejected_batches + r.decode_errors} bad packets rejected")
    if r.stalls:
        parts.append(f"the device stopped answering {r.stalls} time(s) with the link up")
    for jump in c.clock_jumps[:3]:
        fix = f"times shifted {jump.shift_ns / 1e9:+.3f} s" if jump.shift_ns else "kept"
        parts.append(f"device clock jumped {jump.jump_ns / 1e9:+.3f} s at seq {jump.seq} ({fix})")
    if len(c.clock_jumps) > 3:
        parts.append(f"{len(c.clock_jumps) - 3} more clock jumps")
    if r.live_commits.commits:
        parts.append(f"live commits within {r.live_commits.latency_max_s:.2f} s")
    if r.deleted_on_device:
        parts.append(f"{r.deleted_on_device:,} samples freed on the device")
    if r.clock_offset_ns is not None:
        parts.append(f"clock offset {r.clock_offset_ns / 1e9:+.3f} s")
    if r.stride_convention:
        parts.append(f"stride length reported per {r.stride_convention}")
    err.print(", ".join(parts))


def live_seconds(duration: float | None, live: bool) -> float | None:
    """``--duration S`` streams S seconds after the sync, ``--live`` until Ctrl-C."""
    if live:
        return math.inf
    return duration
