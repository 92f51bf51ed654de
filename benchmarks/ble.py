"""Bluetooth benchmark: IMU profile decode + commit throughput, and a 100 Hz day's sync.

Run it with ``.venv/bin/python benchmarks/ble.py`` (a simulated 100 Hz six-axis day, 8,640,000
samples, a minute or two) or ``--quick`` (the first hour of that day). ``--write-doc`` records
the figures in ``docs/benchmarks.md`` between the ``<!-- ble-figures:start -->`` and
``<!-- ble-figures:end -->`` markers.

- ``decode + commit``: the day is quantized into IMU Data batches of
  ``max_samples_per_batch(517, True)`` samples and encoded with ``encode_batch`` (not timed).
  Timed, 200 batches at a time: ``decode_batch`` of every payload and ``batches_to_frame``
  (*decode*), then, in a second pass, the same plus
  ``with store.ingest() as tx: tx.add_samples(recording, frame)`` into a fresh ``Store``
  (*decode + commit*, one transaction per 200 batches, fsyncs and catalog commit included).
- ``peer``: the same payloads decoded 200 at a time with the obvious standard-library decoder
  (``struct.unpack_from`` per batch into Python lists, then ``pandas.DataFrame``); it checks
  nothing, where ``decode_batch`` checks every rule of the spec.
- ``sync``: a virtual wearable holding the day on ``bumble:link:bench`` and the real
  ``ImuCollector`` (``parse_adapter``, ``scan``, ``choose``); ``collector.run()`` is timed
  (connect, config, clock, the whole SEND, commits, delete on the device). The store must then
  hold exactly what the wearable logged (rows and ``seq``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sensors.ble.adapters import parse_adapter
from sensors.ble.collector import ImuCollector, choose, scan
from sensors.ble.profiles.imu import (
    RAW_FULL_SCALE,
    ImuBatch,
    batches_to_frame,
    decode_batch,
    encode_batch,
    frame_to_batches,
    max_samples_per_batch,
)
from sensors.ble.wearable import WearableOptions, wearable_from_simulation
from sensors.simulate import simulate_day
from sensors.store import DeviceInfo, RecordingInfo, Store

try:  # run as a module (python -m benchmarks.ble) or as a script (python benchmarks/ble.py)
    from benchmarks.run import figures_markdown, machine_info, met, publish
except ImportError:  # pragma: no cover - depends on how it is started
    from run import figures_markdown, machine_info, met, publish  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"
START_MARKER = "<!-- ble-figures:start -->"
END_MARKER = "<!-- ble-figures:end -->"

DAY = dt.date(2026, 11, 20)
RATE_HZ = 100
SEED = 3
LINK = "bumble:link:bench"
NAME = "bench-imu"
MTU = 517
BATCHES_PER_COMMIT = 200
SECONDS_PER_DAY = 86_400

TARGET_SAMPLES_S = 1_000_000  # the issue: far above 10 devices at 200 Hz (2,000 samples/s)

_HEADER = struct.Struct("<BBBBHQqI")
_AXES = ("ax", "ay", "az", "gx", "gy", "gz")
_DTYPES = {"t": "int64", "seq": "int64", **{name: "float32" for name in _AXES}}


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


# -- data ----------------------------------------------------------------------------------------
def simulated(quick: bool):
    """The simulated 100 Hz day (UTC), or its first hour when ``quick``."""
    sim = simulate_day(DAY, rate_hz=RATE_HZ, tz="UTC", seed=SEED)
    if quick:
        sim.samples = sim.samples.iloc[: 3600 * RATE_HZ].reset_index(drop=True)
    return sim


def payloads_of(samples: pd.DataFrame) -> list[bytes]:
    """The IMU Data notifications of ``samples`` at the wearable's default ranges (not timed)."""
    options = WearableOptions()
    batches = frame_to_batches(
        samples,
        acc_range_g=options.acc_range_g,
        gyro_range_dps=options.gyro_range_dps,
        rate_hz=RATE_HZ,
        max_samples=max_samples_per_batch(MTU, True),
    )
    return [encode_batch(b) for b in batches]


def chunks(payloads: list[bytes]) -> list[list[bytes]]:
    return [
        payloads[i : i + BATCHES_PER_COMMIT] for i in range(0, len(payloads), BATCHES_PER_COMMIT)
    ]


# -- decoders ------------------------------------------------------------------------------------
def psoas_decode(chunk: list[bytes]) -> pd.DataFrame:
    batches: list[ImuBatch] = [decode_batch(p) for p in chunk]
    return batches_to_frame(batches)


def peer_decode(chunk: list[bytes]) -> pd.DataFrame:
    """The decoder a developer would write with ``struct``: no checks, Python lists, a frame."""
    cols: dict[str, list] = {name: [] for name in _DTYPES}
    for payload in chunk:
        _version, _flags, count, acc, gyro, first_seq, t0_us, period = _HEADER.unpack_from(payload)
        values = struct.unpack_from(f"<{count * 6}h", payload, _HEADER.size)
        t0 = t0_us * 1000
        cols["t"].extend(range(t0, t0 + count * period, period))
        cols["seq"].extend(range(first_seq, first_seq + count))
        for k, name in enumerate(_AXES):
            scale = (acc if k < 3 else gyro) / RAW_FULL_SCALE
            cols[name].extend([v * scale for v in values[k::6]])
    return pd.DataFrame(cols).astype(_DTYPES)


# -- measurements --------------------------------------------------------------------------------
def bench_decode(payloads: list[bytes], work: Path) -> dict[str, Any]:
    """Time psoas decode, psoas decode + commit and the peer decode of the same payloads."""
    parts = chunks(payloads)
    first = parts[0]
    pd.testing.assert_frame_equal(psoas_decode(first), peer_decode(first))

    start = time.perf_counter()
    samples = sum(len(psoas_decode(c)) for c in parts)
    decode_s = time.perf_counter() - start
    _progress(f"psoas decode: {samples:,} samples in {decode_s:.2f} s")

    start = time.perf_counter()
    peer_samples = sum(len(peer_decode(c)) for c in parts)
    peer_s = time.perf_counter() - start
    _progress(f"peer decode: {peer_samples:,} samples in {peer_s:.2f} s")
    if peer_samples != samples:
        raise SystemExit(f"peer decoded {peer_samples} samples, psoas {samples}")

    device = DeviceInfo(NAME, tz="UTC", placement="thigh", kind="imu")
    recording = RecordingInfo(device, source="benchmark", rate_hz=float(RATE_HZ))
    with Store.open(work / "decode-store") as store:
        start = time.perf_counter()
        for chunk in parts:
            frame = psoas_decode(chunk)
            with store.ingest() as tx:
                tx.add_samples(recording, frame)
        commit_s = time.perf_counter() - start
        stored = store.read_samples(NAME)
    if len(stored) != samples or not np.array_equal(
        stored["seq"].to_numpy(), np.arange(samples, dtype=np.int64)
    ):
        raise SystemExit("decode + commit: the store does not hold the samples sent")
    _progress(f"psoas decode + commit: {samples:,} samples in {commit_s:.2f} s")
    return {
        "samples": samples,
        "batches": len(payloads),
        "commits": len(parts),
        "decode_s": decode_s,
        "commit_s": commit_s,
        "peer_s": peer_s,
    }


async def _sync(store: Store, sim) -> tuple[dict[str, Any], pd.DataFrame]:
    wearable = wearable_from_simulation(sim, WearableOptions(name=NAME))
    expected = wearable.records.to_frame()
    await wearable.start(LINK)
    adapter = parse_adapter(LINK)
    try:
        found = choose(await scan(adapter, 2.0), NAME)
        collector = ImuCollector(store, adapter, found, tz="UTC")
        start = time.perf_counter()
        report = await collector.run()
        seconds = time.perf_counter() - start
    finally:
        await adapter.close()
        await wearable.stop()
    return {
        "seconds": seconds,
        "device_id": report.device_id,
        "commits": report.commits,
        "reconnects": report.reconnects,
        "gaps": report.gaps,
    }, expected


def bench_sync(sim, work: Path) -> dict[str, Any]:
    """Time ``ImuCollector.run()`` syncing the whole day over the in-process bumble link."""
    with Store.open(work / "sync-store") as store:
        result, expected = asyncio.run(_sync(store, sim))
        stored = store.read_samples(result["device_id"])
    if len(stored) != len(expected) or not np.array_equal(
        stored["seq"].to_numpy(), expected["seq"].to_numpy()
    ):
        raise SystemExit(
            f"sync: the store holds {len(stored):,} samples, the wearable logged {len(expected):,}"
        )
    result["samples"] = len(expected)
    _progress(f"sync: {len(expected):,} samples in {result['seconds']:.1f} s")
    return result


# -- the report ----------------------------------------------------------------------------------
def render(dec: dict[str, Any], syn: dict[str, Any], machine: dict[str, str], cmd: str) -> str:
    n, batches = dec["samples"], dec["batches"]
    per_batch = n / batches
    decode_rate, commit_rate = n / dec["decode_s"], n / dec["commit_s"]
    peer_rate = n / dec["peer_s"]
    sync_s = syn["seconds"]
    data_s = n / RATE_HZ
    rows = [
        (
            "Decode (`decode_batch` + `batches_to_frame`)",
            f"{decode_rate / 1e6:.2f} M samples/s ({dec['decode_s']:.2f} s)",
            "report",
            "",
        ),
        (
            f"Decode + commit (one transaction per {BATCHES_PER_COMMIT} batches, "
            f"{dec['commits']:,} commits)",
            f"{commit_rate / 1e6:.2f} M samples/s ({dec['commit_s']:.2f} s)",
            "≥ 1 M samples/s",
            met(commit_rate >= TARGET_SAMPLES_S),
        ),
        (
            "Decode vs `struct.unpack_from` + lists + `pandas.DataFrame`",
            f"psoas takes {dec['decode_s'] / dec['peer_s']:.2f}x the time "
            f"(peer {peer_rate / 1e6:.2f} M samples/s, {dec['peer_s']:.2f} s; it checks nothing)",
            "report",
            "",
        ),
        (
            f"Sync over `{LINK}` (`ImuCollector.run()`, {syn['commits']:,} commit(s))",
            f"{sync_s:.1f} s: {n / sync_s / 1e3:,.0f} k samples/s, "
            f"{batches / sync_s:,.0f} notifications/s",
            "report",
            "",
        ),
        (
            "Sync vs real time",
            f"{data_s / sync_s:,.0f}x faster than the {data_s / 3600:g} h of data last",
            "report",
            "",
        ),
        (
            "Decode + commit share of the sync time",
            f"{dec['commit_s'] / sync_s:.0%}",
            "report",
            "",
        ),
    ]
    intro = (
        f"{data_s / 3600:g} h x {RATE_HZ} Hz x 6 axes = {n:,} samples in {batches:,} batches of "
        f"{per_batch:.0f} samples (ATT MTU {MTU})."
    )
    lines = figures_markdown(cmd, intro, machine, rows)
    if syn["reconnects"] or syn["gaps"]:
        lines += ["", f"The sync reconnected {syn['reconnects']} time(s), {syn['gaps']} gap(s)."]
    return "\n".join(lines) + "\n"


# -- command line --------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="psoas Bluetooth benchmark: IMU decode + commit and a 100 Hz day's sync."
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 hour of data")
    parser.add_argument(
        "--write-doc",
        action="store_true",
        help=f"rewrite the Bluetooth figures between the markers of {DOC.relative_to(REPO)}",
    )
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="psoas-ble-bench-"))
    try:
        machine = machine_info(work)
        print("simulating ...", file=sys.stderr, flush=True)
        sim = simulated(args.quick)
        payloads = payloads_of(sim.samples)
        print("decode + commit ...", file=sys.stderr, flush=True)
        dec = bench_decode(payloads, work)
        del payloads
        print("sync ...", file=sys.stderr, flush=True)
        syn = bench_sync(sim, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cmd = ".venv/bin/python benchmarks/ble.py" + (" --quick" if args.quick else "")
    publish(render(dec, syn, machine, cmd), args.write_doc, DOC, (START_MARKER, END_MARKER))
    return 0


if __name__ == "__main__":
    sys.exit(main())
