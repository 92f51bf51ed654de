"""One posture timeline per person from several devices, and the watch's own activity log.

When a thigh IMU, a lower-back IMU, a watch and a wrist IMU cover the same second, the most
reliable one decides: thigh > lower back (or chest) > watch (its monitoring ``activity_type``) >
wrist. A device that reads non-wear or has no data for a second leaves it to the next one. The
combined timeline is analysed like any device (same tracker, same rules) and stored under the
device id ``COMBINED``; its ``posture_method`` says which device decided how much of the day.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from analysis.posture import (
    MOVING,
    NO_DATA,
    NON_WEAR,
    POSTURE_CODES,
    POSTURE_NAMES,
    SEDENTARY,
    STANDING,
)
from analysis.sitting import EPOCH_NS

COMBINED: Final = "combined"
"""Device id of the person-level timeline (written when two or more devices cover a day)."""
PRECEDENCE: Final = {"thigh": 0, "lower_back": 1, "chest": 1, "watch": 2, "wrist": 3}
"""Lower decides first. Placements not listed (foot, unknown) never decide posture."""
WATCH_ACTIVITY_POSTURES: Final = {8: SEDENTARY, 6: MOVING, 1: MOVING, 0: STANDING}
"""FIT monitoring activity_type -> posture: sedentary stays "sedentary" (a watch cannot tell
sitting from standing still), walking/running are moving, generic activity is upright."""
WATCH_MAX_INTERVAL_S: Final = 3600.0
"""A monitoring record covers the time since the previous one, at most an hour."""


def day_codes(runs: pd.DataFrame, start_ns: int, end_ns: int) -> np.ndarray:
    """Posture code per second of ``[start_ns, end_ns)`` from posture runs; NO_DATA elsewhere."""
    n = int((end_ns - start_ns) // EPOCH_NS)
    codes = np.full(n, NO_DATA, np.int8)
    for start, end, name in runs[["start", "end", "posture"]].itertuples(index=False):
        a = max(0, int((start - start_ns) // EPOCH_NS))
        b = min(n, int((end - start_ns) // EPOCH_NS))
        if b > a:
            codes[a:b] = POSTURE_CODES[name]
    return codes


def combine(codes_by_rank: list[tuple[int, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Per second, the code of the best-ranked device that has one (not no-data/non-wear).

    Returns (codes, index of the deciding device in ``codes_by_rank``, -1 where none did).
    A second where every device reads non-wear is non-wear.
    """
    n = len(codes_by_rank[0][1])
    out = np.full(n, NO_DATA, np.int8)
    decided_by = np.full(n, -1, np.int64)
    order = sorted(range(len(codes_by_rank)), key=lambda i: codes_by_rank[i][0])
    for i in order:
        codes = codes_by_rank[i][1]
        free = (decided_by < 0) & (codes != NO_DATA) & (codes != NON_WEAR)
        out[free] = codes[free]
        decided_by[free] = i
    any_non_wear = np.zeros(n, bool)
    for _, codes in codes_by_rank:
        any_non_wear |= codes == NON_WEAR
    out[(decided_by < 0) & any_non_wear] = NON_WEAR
    return out, decided_by


def watch_runs(activity: pd.DataFrame, start_ns: int, end_ns: int) -> pd.DataFrame:
    """Posture runs of a watch's ``activity_type`` metric rows (``t``, ``value``) in a day."""
    activity = activity.sort_values("t")
    t = activity["t"].to_numpy(np.int64)
    code = activity["value"].to_numpy().astype(int)
    previous = np.concatenate([[t[0] - int(60 * EPOCH_NS)], t[:-1]]) if len(t) else t
    begin = np.maximum(previous, t - int(WATCH_MAX_INTERVAL_S * EPOCH_NS))
    posture = [POSTURE_NAMES[WATCH_ACTIVITY_POSTURES.get(c, STANDING)] for c in code.tolist()]
    runs = pd.DataFrame({"start": begin, "end": t, "posture": pd.Series(posture, dtype="string")})
    runs["start"] = runs["start"].clip(lower=start_ns)
    runs["end"] = runs["end"].clip(upper=end_ns)
    runs = runs[runs["end"] > runs["start"]]
    # whole seconds, as every posture run
    runs["start"] = runs["start"] // EPOCH_NS * EPOCH_NS
    runs["end"] = runs["end"] // EPOCH_NS * EPOCH_NS
    return runs[runs["end"] > runs["start"]].reset_index(drop=True)


def decision_text(names: list[str], decided_by: np.ndarray) -> str:
    """Which device decided how much of the covered day, e.g. ``thigh-imu 82 %, watch 18 %``."""
    covered = decided_by >= 0
    if not covered.any():
        return "combined: no device covered the day"
    counts = np.bincount(decided_by[covered], minlength=len(names))
    parts = [
        f"{names[i]} {100 * counts[i] / covered.sum():.0f} %"
        for i in np.argsort(-counts)
        if counts[i]
    ]
    return "combined by precedence thigh > lower back > watch > wrist: " + ", ".join(parts)
