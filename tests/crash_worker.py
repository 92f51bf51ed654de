"""A writer process for the crash tests: it is SIGKILLed at random points by test_store_crash.py.

``python -m tests.crash_worker HOME sync``  commits a large recording in batches, like a sync.
``python -m tests.crash_worker HOME csv PATH``  imports a CSV file as one all-or-nothing ingest.

``collect_simulation`` and ``run_collect`` are the collector's: a virtual wearable and the real
collector syncing it over two bumble stacks in one process (test_store_crash.py forks them).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from sensors.ble.wearable import WearableOptions, wearable_from_simulation
from sensors.importers import ImportOptions, import_file
from sensors.simulate import SimulatedRecording, simulate_day
from sensors.store import DeviceInfo, RecordingInfo, Store
from tests.conftest import imu_frame
from tests.test_collector import run, sync

SYNC_SAMPLES = 3_000_000
SYNC_BATCH = 150_000
SYNC_DEVICE = DeviceInfo("crash-imu", tz="Europe/Berlin", placement="thigh")


def sync_input():
    """The whole recording the sync worker writes (deterministic)."""
    return imu_frame(SYNC_SAMPLES, rate_hz=50.0)


def run_sync(home: Path) -> None:
    frame = sync_input()
    recording = RecordingInfo(SYNC_DEVICE, source="crash test", recording_id="crashrec")
    with Store.open(home) as store:
        cursor = store.cursor(SYNC_DEVICE.device_id)
        start = 0 if cursor is None else cursor + 1
        print("ready", flush=True)
        for lo in range(start, SYNC_SAMPLES, SYNC_BATCH):
            with store.ingest() as tx:
                tx.add_samples(recording, frame.iloc[lo : lo + SYNC_BATCH])


COLLECT_MINUTES = 30
COLLECT_RATE_HZ = 50.0
COLLECT_COMMIT_EVERY_S = 0.25  # many commits, so that kills find the store part-synced
COLLECT_NAME = "psoas-crash"


def collect_simulation() -> SimulatedRecording:
    """The hour the wearable logged (deterministic: every process rebuilds the same records)."""
    sim = simulate_day(dt.date(2026, 11, 20), rate_hz=COLLECT_RATE_HZ, tz="UTC", seed=5)
    keep = int(COLLECT_MINUTES * 60 * COLLECT_RATE_HZ)
    sim.samples = sim.samples.iloc[:keep].reset_index(drop=True)
    return sim


def collect_records(sim: SimulatedRecording):
    """What the wearable holds, as the store must end up holding it."""
    return wearable_from_simulation(sim, WearableOptions(name=COLLECT_NAME)).records.to_frame()


def run_collect(home: Path, sim: SimulatedRecording) -> None:
    """Sync the wearable into ``home`` with the collector, as `psoas collect` does (the
    collector tests' ``sync``). A restarted process is a device that still holds every record:
    the store's cursor decides what is new."""
    wearable = wearable_from_simulation(sim, WearableOptions(name=COLLECT_NAME))
    with Store.open(home) as store:
        run(sync(store, wearable, scan_s=0.5, commit_every_s=COLLECT_COMMIT_EVERY_S), 120)


def run_csv(home: Path, path: Path) -> None:
    with Store.open(home) as store:
        print("ready", flush=True)
        import_file(store, path, ImportOptions(device_id="crash-csv", tz="UTC"))


if __name__ == "__main__":
    home = Path(sys.argv[1])
    if sys.argv[2] == "sync":
        run_sync(home)
    else:
        run_csv(home, Path(sys.argv[3]))
    print("done", flush=True)
