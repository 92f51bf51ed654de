"""A writer process for the crash tests: it is SIGKILLed at random points by test_store_crash.py.

``python -m tests.crash_worker HOME sync``  commits a large recording in batches, like a sync.
``python -m tests.crash_worker HOME csv PATH``  imports a CSV file as one all-or-nothing ingest.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sensors.importers import ImportOptions, import_file
from sensors.store import DeviceInfo, RecordingInfo, Store
from tests.conftest import imu_frame

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
