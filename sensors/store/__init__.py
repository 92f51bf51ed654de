"""The durable store: raw Parquet parts + a SQLite catalog (see store.py)."""

from sensors.store.store import (
    DeviceInfo,
    Ingest,
    IngestResult,
    RecordingInfo,
    Store,
    store_exists,
)

__all__ = ["DeviceInfo", "Ingest", "IngestResult", "RecordingInfo", "Store", "store_exists"]
