"""How much of a day a device actually recorded: samples, recorded time and device-side gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd

NS_PER_S = 1e9


def recorded_seconds(t_ns: np.ndarray, max_gap_factor: float = 5.0) -> float:
    """Seconds covered by samples at times ``t_ns`` (UTC ns, sorted).

    Intervals longer than ``max_gap_factor`` times the median sample interval are pauses in
    recording and do not count; each sample covers one median interval.
    """
    if len(t_ns) < 2:
        return 0.0
    step = np.diff(t_ns)
    median = float(np.median(step))
    within = step <= max_gap_factor * median
    runs = 1 + int((~within).sum())  # the last sample of each contiguous run covers one step
    return float((step[within].sum(dtype=np.float64) + runs * median) / NS_PER_S)


def daily_summary_row(
    device_id: str, day: str, placement: str, samples: pd.DataFrame, gaps: pd.DataFrame
) -> dict[str, object]:
    """One ``daily_summary`` row for a device-day from its raw samples and recorded gaps."""
    t = samples["t"].to_numpy()
    return {
        "device_id": device_id,
        "day": day,
        "placement": placement,
        "samples": len(t),
        "recorded_s": recorded_seconds(t),
        "gap_count": len(gaps),
        "missing_samples": int(gaps["missing_count"].sum()) if len(gaps) else 0,
        "first_t": int(t[0]) if len(t) else 0,
        "last_t": int(t[-1]) if len(t) else 0,
    }
