"""A multi-week demo store: one simulated person wearing a thigh IMU and a footpod every day and
logging the psoas routine, analysed by the real pipeline.

Each day is rendered by ``sensors.simulate`` (raw thigh samples; the footpod reports the truth
strides of the left foot with its own ~2 % measurement noise, as an RSC footpod does per
stride), ingested into a real store and analysed by ``analysis.pipeline.analyze`` — the same
path as ``psoas import`` + ``psoas analyze``. The routine log follows ``simulate_weeks``' truth
(whole routine on "done" days, strength sessions), plus pain and stiffness that ease with the
weeks' adherence and a weekly bench-edge hang test, logged through ``analysis.routine``.
``psoas dashboard --demo`` opens one; the dashboard tests and benchmark build their own.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import routine
from analysis.pipeline import analyze
from analysis.routine_program import default_program
from sensors.simulate import simulate_weeks
from sensors.store import DeviceInfo, RecordingInfo, Store

THIGH_ID = "thigh-demo"
FOOTPOD_ID = "footpod-demo"
FOOTPOD_NOISE = 0.02
"""Relative SD of the simulated footpod's stride length and speed (RSC footpods: ~2-3 %)."""


def build_demo_store(
    home: Path,
    *,
    weeks: int = 12,
    last_day: dt.date,
    rate_hz: float = 12.5,
    tz: str = "Europe/Berlin",
    seed: int = 7,
    progress: Callable[[str, int, int], None] | None = None,
) -> Path:
    """Simulate ``weeks`` x 7 days ending on ``last_day`` into a new store at ``home`` and
    analyse it; returns ``home``. ``progress(stage, done, total)`` is told about each day."""
    first_day = last_day - dt.timedelta(days=7 * weeks - 1)
    recordings, log = simulate_weeks(
        first_day, weeks=weeks, placement="thigh", rate_hz=rate_hz, tz=tz, seed=seed
    )
    thigh = RecordingInfo(
        DeviceInfo(THIGH_ID, tz=tz, placement="thigh", name="demo thigh IMU"),
        "simulated",
        rate_hz=rate_hz,
    )
    footpod = RecordingInfo(
        DeviceInfo(FOOTPOD_ID, tz=tz, placement="foot", kind="footpod", name="demo footpod"),
        "simulated",
    )
    rng = np.random.default_rng(seed)
    days = 7 * weeks
    with Store.open(home) as store:
        for i, rec in enumerate(recordings):
            if progress:
                progress("simulating", i, days)
            with store.ingest() as tx:
                # accelerometer only: the sitting analysis needs no gyroscope, the store half
                tx.add_samples(thigh, rec.samples.drop(columns=["gx", "gy", "gz"], errors="ignore"))
                tx.add_metrics(footpod, _footpod_metrics(rec.truth.strides, rng))
        _log_routine(store, log, seed, last_day)
        if progress:
            progress("analysing", days, days)
        analyze(store)
    return home


def _footpod_metrics(strides: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One RSC reading per left-foot stride: stride length, cadence and speed, with noise."""
    left = strides[strides["foot"] == "left"]
    if left.empty:
        return pd.DataFrame({"t": pd.Series(dtype="int64"), "metric": [], "value": []})
    n = len(left)
    error = 1.0 + FOOTPOD_NOISE * rng.standard_normal(n)
    columns = {
        "stride_length_m": left["stride_length_m"].to_numpy() * error,
        "cadence_spm": left["cadence_spm"].to_numpy(),
        "speed_mps": left["speed_mps"].to_numpy() * error,
    }
    t = left["t"].to_numpy(np.int64)
    return pd.concat(
        [pd.DataFrame({"t": t, "metric": name, "value": v}) for name, v in columns.items()],
        ignore_index=True,
    ).sort_values(["t", "metric"], ignore_index=True)


def _log_routine(store: Store, log: pd.DataFrame, seed: int, today: dt.date) -> None:
    """The simulated person's routine log, symptoms and weekly hang test, as log entries."""
    program = default_program()
    rng = np.random.default_rng(seed + 1)
    entries: list[routine.Entry] = []
    pain, stiffness = 5.0, 6.0
    for week, rows in log.groupby("week"):
        adherence = float(rows["routine_done"].mean())
        for row in rows.itertuples(index=False):
            day = str(row.day)
            if row.routine_done:
                entries += routine.done_entries(program, day, today)
            if row.strength_session:
                entries.append(routine.Entry(day=day, kind="session", item="strength"))
            pain = float(np.clip(pain - 0.3 * adherence + 0.1 + rng.normal(0, 0.4), 0, 10))
            stiffness = float(
                np.clip(stiffness - 0.4 * adherence + 0.15 + rng.normal(0, 0.4), 0, 10)
            )
            for item, value in (("pain", pain), ("stiffness", stiffness)):
                entries.append(
                    routine.Entry(day=day, kind="symptom", item=item, value=float(round(value)))
                )
        result = "no" if week < 4 else ("partly" if week < 8 else "yes")
        for side in ("left", "right"):
            last = str(rows["day"].iloc[-1])
            entries.append(
                routine.Entry(
                    day=last, kind="mobility_test", item="hang_test", side=side, result=result
                )
            )
    rows, _ = routine.apply(store.read_table("routine_log"), entries, time.time_ns(), "simulated")
    store.append_derived("routine_log", rows)
