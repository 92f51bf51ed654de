"""Sitting-analysis benchmark: psoas' posture + bouts against scikit-digital-health.

Run it with ``.venv/bin/python benchmarks/sitting.py`` (7 simulated thigh days at 100 Hz, about
four minutes, most of it scikit-digital-health) or ``--quick`` (1 day at 25 Hz, a smoke run of
well under a minute). ``--write-doc`` rewrites the section of ``docs/benchmarks.md`` between the
``<!-- sitting-figures:start -->`` and ``<!-- sitting-figures:end -->`` markers.

**Input.** ``sensors.simulate.simulate_day(day, placement="thigh", rate_hz=100, seed=1,
tz="Europe/Berlin")`` for the 7 local days from Monday 2026-01-05 (no DST change, every day is
24 h: 8,640,000 samples): a thigh-worn IMU with its ground truth (sitting, standing, walking,
lying, sit-to-stand transitions). The ``render`` phase writes each day's ``t`` (int64 ns UTC) and
``ax ay az`` (float32 g) once as ``.npy`` files in a temporary working directory (not timed).

**Phases**, each in a fresh interpreter (this script with the hidden ``--phase`` option) so that
the peak memory it reports is its own; every timed phase loads one day at a time (not timed),
resets its peak RSS and times only the analysis:

- ``psoas``: ``analysis.day.analyze_imu_day(frame, "thigh", day_start_ns, day_end_ns,
  previous_runs=...)`` day by day, as ``psoas analyze`` runs it (one day in memory,
  ``previous_runs`` = the previous day's posture runs): calibration, 1 s epochs, non-wear,
  orientation, posture, steps, bouts, streak alerts and the daily summary.
- ``stages``: ``analyze_imu_day`` on the first day with the functions it calls wrapped (seconds,
  memory held when each starts and its peak).
- ``skdh``: scikit-digital-health's processes on the same day, as its readers hand data over
  (``time`` float64 unix seconds, ``accel`` (n, 3) float64 g, converted untimed):
  ``CalibrateAccelerometer(min_hours=12)`` (a day is 24 h; its default 72 h would skip
  calibration on one day), ``AccelThresholdWearDetection()``, ``ActivityLevelClassification()``
  (with the wear periods) and ``Sit2Stand()``, each timed, their warnings and outputs recorded.
  ``DETACH`` is not run: it needs a temperature channel, which the input has not.

**Memory.** Peak resident set size (RSS) minus the RSS right after the imports, divided by one
day's raw arrays: ``t`` int64 + ``ax ay az`` float32 = 20 bytes a sample, 172.8 MB for a 100 Hz
day. The loaded day counts (it *is* the day's raw arrays), so an analysis that allocated nothing
would score 1.0x. scikit-digital-health's own input (float64 seconds and (n, 3) float64 g) is
32 bytes a sample, 1.6x that unit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import itertools
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

try:  # run as a module (python -m benchmarks.sitting) or as a script
    from benchmarks.run import (
        MemoryProbe,
        days_rate_arguments,
        days_rate_command,
        figures_markdown,
        met,
        parse_days_rate,
        publish,
        run_phases,
    )
except ImportError:  # pragma: no cover - depends on how it is started
    from run import (  # type: ignore[no-redef]
        MemoryProbe,
        days_rate_arguments,
        days_rate_command,
        figures_markdown,
        met,
        parse_days_rate,
        publish,
        run_phases,
    )

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"
START_MARKER = "<!-- sitting-figures:start -->"
END_MARKER = "<!-- sitting-figures:end -->"

TZ = "Europe/Berlin"
FIRST_DAY = dt.date(2026, 1, 5)  # a Monday, far from a DST change: every local day is 24 h
PLACEMENT = "thigh"
SEED = 1
NS_PER_S = 1_000_000_000
AXES = ("ax", "ay", "az")
ROW_BYTES = 8 + 4 * len(AXES)  # t int64 + ax ay az float32: the unit of the memory ratios
SKDH_ROW_BYTES = 8 + 8 * len(AXES)  # skdh's input: float64 seconds + (n, 3) float64 g

TARGET_SPEEDUP = 5.0  # skdh seconds / psoas seconds, at least
TARGET_PEAK_RATIO = 1.5  # psoas peak RSS growth / one day's raw arrays, below

PHASES = ("render", "psoas", "stages", "skdh")
SKDH_PROCESSES = ("CalibrateAccelerometer", "AccelThresholdWearDetection")
SKDH_PROCESSES += ("ActivityLevelClassification", "Sit2Stand")


# -- data ----------------------------------------------------------------------------------------
def day_of(index: int) -> dt.date:
    """The local date of day ``index`` (0-based from ``FIRST_DAY``)."""
    return FIRST_DAY + dt.timedelta(days=index)


def _column_path(work: Path, index: int, column: str) -> Path:
    return work / f"day{index}_{column}.npy"


def load_frame(work: Path, index: int) -> pd.DataFrame:
    """Day ``index`` as psoas' store hands it to the analysis: ``t`` int64 ns, ``ax ay az`` g."""
    columns = {c: np.load(_column_path(work, index, c)) for c in ("t", *AXES)}
    return pd.DataFrame(columns, copy=False)


def load_skdh_input(work: Path, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Day ``index`` as skdh's readers return it: float64 unix seconds, (n, 3) float64 g."""
    t_ns = np.load(_column_path(work, index, "t"))
    time_s = t_ns / NS_PER_S
    del t_ns
    accel_g = np.empty((len(time_s), len(AXES)), dtype=np.float64)
    for j, axis in enumerate(AXES):
        accel_g[:, j] = np.load(_column_path(work, index, axis))
    return time_s, accel_g


def truth_figures(activities: pd.DataFrame) -> dict[str, float]:
    """What the simulated person did: seconds per activity and the sit-to-stand transitions."""
    seconds = (activities["end"] - activities["start"]) / NS_PER_S
    per_activity = seconds.groupby(activities["activity"].astype(str)).sum()
    names = [a for a in activities["activity"].astype(str) if a != "transition"]
    stand_ups = sum(
        1
        for before, after in itertools.pairwise(names)
        if before == "sitting" and after in ("standing", "walking", "running")
    )
    return {
        "sitting_s": float(per_activity.get("sitting", 0.0)),
        "lying_s": float(per_activity.get("lying", 0.0)),
        "upright_s": float(
            sum(per_activity.get(a, 0.0) for a in ("standing", "walking", "running"))
        ),
        "sit_to_stand": stand_ups,
    }


# -- phases (each runs in its own interpreter) ---------------------------------------------------
def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def phase_render(work: Path, days: int, rate_hz: float, mem: MemoryProbe) -> dict[str, Any]:
    """Simulate the days and write their columns (``.npy``) and truth; not part of any timing."""
    from sensors.simulate import simulate_day

    out = []
    for index in range(days):
        start = time.perf_counter()
        rec = simulate_day(day_of(index), placement=PLACEMENT, rate_hz=rate_hz, seed=SEED, tz=TZ)
        for column in ("t", *AXES):
            np.save(_column_path(work, index, column), rec.samples[column].to_numpy())
        out.append(
            {
                "day": day_of(index).isoformat(),
                "samples": len(rec.samples),
                "render_s": time.perf_counter() - start,
                "truth": truth_figures(rec.truth.activities),
            }
        )
        _progress(f"{day_of(index)}: {len(rec.samples):,} samples rendered")
        del rec
    return {"days": out}


def _analysis_day(index: int) -> tuple[int, int]:
    from sensors.timeutil import day_bounds_ns

    return day_bounds_ns(day_of(index), TZ)


def phase_psoas(work: Path, days: int, mem: MemoryProbe) -> dict[str, Any]:
    """``analyze_imu_day`` day by day, each day's posture runs seeding the next day."""
    from analysis.day import analyze_imu_day

    previous_runs = None
    per_day = []
    for index in range(days):
        start_ns, end_ns = _analysis_day(index)
        mem.reset_peak()
        frame = load_frame(work, index)
        load_peak = mem.peak_over_baseline()
        mem.reset_peak()
        start = time.perf_counter()
        result = analyze_imu_day(frame, PLACEMENT, start_ns, end_ns, previous_runs=previous_runs)
        seconds = time.perf_counter() - start
        peak = mem.peak_over_baseline()
        summary = result.summary
        per_day.append(
            {
                "day": day_of(index).isoformat(),
                "samples": len(frame),
                "seconds": seconds,
                "load_peak": load_peak,
                "peak": peak,
                "sitting_s": float(summary["sitting_s"]),
                "bouts": int(summary["sitting_bouts"]),
                "breaks": int(summary["breaks"]),
                "alerts": len(result.alerts),
                "upright_s": float(summary["upright_s"]),
                "lying_s": float(summary["lying_s"]),
                "non_wear_s": float(summary["non_wear_s"]),
                "calibration": str(summary["calibration"]),
                "orientation": result.orientation.source,
            }
        )
        previous_runs = result.runs
        _progress(
            f"psoas {day_of(index)}: {seconds:.2f} s, peak +{peak / 1e6:,.0f} MB, "
            f"{summary['sitting_s'] / 3600:.2f} h sitting in {summary['sitting_bouts']} bouts"
        )
        del frame, result
    return {"days": per_day}


STAGES = (
    ("analysis.signal", "nominal_rate_hz", "sample rate (`nominal_rate_hz`)"),
    ("analysis.signal", "calibrate", "calibration: stationary windows + sphere fit"),
    ("analysis.signal", "apply_calibration", "apply the calibration (a corrected copy)"),
    ("analysis.signal", "epoch_table", "1 s epochs (`epoch_table`)"),
    ("analysis.posture", "learn_orientation", "orientation from walking"),
    ("analysis.posture", "classify", "posture per epoch"),
    ("analysis.signal", "non_wear", "non-wear (`non_wear`)"),
    ("analysis.day", "steps_per_epoch", "steps per epoch (break rule)"),
    ("analysis.day", "step_times", "steps (break rule, cadence)"),
    ("analysis.day", "analyze_codes", "bouts, alerts, runs, daily summary"),
    ("analysis.day", "cadence_strides", "cadence strides from the steps"),
    ("analysis.day", "trunk_transitions", "sit-to-stand transitions (trunk sensors)"),
)
"""The functions ``analyze_imu_day`` calls, as (module, attribute, label); a missing one is
skipped (its time then shows under "the rest")."""


def phase_stages(work: Path, mem: MemoryProbe) -> dict[str, Any]:
    """``analyze_imu_day`` on the first day with its steps wrapped: seconds and memory of each.

    The functions of :data:`STAGES` are replaced by wrappers for the run (looked up through
    their modules, as ``analysis.day`` calls them), so the split always follows the real code.
    Memory: the peak RSS during the call and the RSS when it started (the arrays held then).
    """
    import importlib

    from analysis.day import analyze_imu_day

    records: dict[str, dict[str, float]] = {}

    def wrap(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            held = psutil.Process().memory_info().rss - mem.baseline
            mem.reset_peak()
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds = time.perf_counter() - start
                if label in records:  # a later call: count its time, keep the first's memory
                    records[label]["seconds"] += seconds
                    records[label]["calls"] += 1
                else:
                    peak = mem.peak_over_baseline()
                    records[label] = {"seconds": seconds, "calls": 1, "held": held, "peak": peak}

        return timed

    patched = []
    for module_name, attribute, label in STAGES:
        module = importlib.import_module(module_name)
        if hasattr(module, attribute):
            original = getattr(module, attribute)
            patched.append((module, attribute, original))
            setattr(module, attribute, wrap(label, original))
    start_ns, end_ns = _analysis_day(0)
    frame = load_frame(work, 0)
    gc.collect()
    held = psutil.Process().memory_info().rss - mem.baseline
    mem.reset_peak()
    try:
        start = time.perf_counter()
        analyze_imu_day(frame, PLACEMENT, start_ns, end_ns)
        total_s = time.perf_counter() - start
    finally:
        for module, attribute, original in patched:
            setattr(module, attribute, original)
    steps = [
        {"name": attribute, "step": label, **records[label]}
        for _, attribute, label in STAGES
        if label in records
    ]
    peak = max([mem.peak_over_baseline()] + [s["peak"] for s in steps])  # wrappers reset it
    return {"steps": steps, "total_s": total_s, "peak": peak, "frame_held": held}


def _warning_texts(caught: list[warnings.WarningMessage]) -> list[str]:
    """Distinct warning messages (first line), in order."""
    texts: list[str] = []
    for w in caught:
        text = f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
        if text not in texts:
            texts.append(text)
    return texts


def _first(values: Any) -> float:
    """The first element of an skdh result array as a float (NaN if there is none)."""
    array = np.asarray(values, dtype=np.float64).ravel()
    return float(array[0]) if array.size else float("nan")


class _Timer:
    """Seconds and distinct warnings of each timed call, by name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.warnings: dict[str, list[str]] = {}

    def __call__(self, name: str, run: Callable[..., dict[str, Any]], **kwargs: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            out = run(**kwargs)
            self.seconds[name] = time.perf_counter() - start
        self.warnings[name] = _warning_texts(caught)
        return out


def skdh_day(
    processes: dict[str, Any], time_s: np.ndarray, accel_g: np.ndarray, rate_hz: float
) -> dict[str, Any]:
    """Run skdh's processes on one day, as its ``Pipeline`` chains them; time each one.

    The calibrated acceleration (when the calibration was applied) goes to the later
    processes, and the wear periods to the activity classification.
    """
    timer = _Timer()
    cal = timer(
        "CalibrateAccelerometer",
        processes["CalibrateAccelerometer"].predict,
        time=time_s,
        accel=accel_g,
        fs=rate_hz,
    )
    accel_g = cal.get("accel", accel_g)
    wear = timer(
        "AccelThresholdWearDetection",
        processes["AccelThresholdWearDetection"].predict,
        time=time_s,
        accel=accel_g,
        fs=rate_hz,
    )["wear"]
    act = timer(
        "ActivityLevelClassification",
        processes["ActivityLevelClassification"].predict,
        time=time_s,
        accel=accel_g,
        fs=rate_hz,
        wear=wear,
        tz_name=TZ,
    )
    sts = timer("Sit2Stand", processes["Sit2Stand"].predict, time=time_s, accel=accel_g, tz_name=TZ)
    offset = np.asarray(cal.get("offset", np.zeros(3)), dtype=np.float64)
    scale = np.asarray(cal.get("scale", np.ones(3)), dtype=np.float64)
    durations = np.asarray(sts["Duration"], dtype=np.float64)
    return {
        "samples": len(time_s),
        "seconds": timer.seconds,
        "warnings": timer.warnings,
        "calibration_applied": bool(np.any(offset != 0.0) or np.any(scale != 1.0)),
        "wear_periods": len(wear),
        "wear_h": float(np.sum(wear[:, 1] - wear[:, 0]) / rate_hz / 3600.0),
        "activity_wear_h": _first(act["N wear hours"]),
        "sedentary_min": _first(act["wake sed 5s epoch [min]"]),
        "light_min": _first(act["wake light 5s epoch [min]"]),
        "mvpa_min": _first(act["wake MVPA 5s epoch [min]"]),
        "sedentary_10min_bouts_min": _first(act["wake sed 10min bout [min]"]),
        "endpoints": len(act),
        "sit_to_stand": len(durations),
        "sit_to_stand_median_s": float(np.median(durations)) if len(durations) else 0.0,
    }


def phase_skdh(work: Path, days: int, rate_hz: float, mem: MemoryProbe) -> dict[str, Any]:
    """scikit-digital-health's calibration, wear, activity and sit-to-stand, day by day."""
    import skdh

    processes = {
        "CalibrateAccelerometer": skdh.preprocessing.CalibrateAccelerometer(min_hours=12),
        "AccelThresholdWearDetection": skdh.preprocessing.AccelThresholdWearDetection(),
        "ActivityLevelClassification": skdh.activity.ActivityLevelClassification(),
        "Sit2Stand": skdh.sit2stand.Sit2Stand(),
    }
    per_day = []
    for index in range(days):
        mem.reset_peak()
        time_s, accel_g = load_skdh_input(work, index)
        load_peak = mem.peak_over_baseline()
        mem.reset_peak()
        out = skdh_day(processes, time_s, accel_g, rate_hz)
        peak = mem.peak_over_baseline()
        del time_s, accel_g
        per_day.append(
            {"day": day_of(index).isoformat(), "load_peak": load_peak, "peak": peak, **out}
        )
        split = ", ".join(f"{k} {v:.1f}" for k, v in out["seconds"].items())
        _progress(
            f"skdh {day_of(index)}: {sum(out['seconds'].values()):.1f} s ({split}), "
            f"peak +{peak / 1e6:,.0f} MB, {out['sit_to_stand']} sit-to-stands"
        )
    return {"days": per_day, "version": skdh.__version__}


def run_phase(name: str, work: Path, days: int, rate_hz: float) -> dict[str, Any]:
    """Run phase ``name`` in this process and return its raw measurements."""
    if name == "skdh":  # import the library before the baseline, as the other phases do
        import skdh  # noqa: F401
    elif name in ("psoas", "stages"):
        import analysis.day  # noqa: F401
    else:
        import sensors.simulate  # noqa: F401
    mem = MemoryProbe()
    load = os.getloadavg()[0]
    if name == "render":
        result = phase_render(work, days, rate_hz, mem)
    elif name == "psoas":
        result = phase_psoas(work, days, mem)
    elif name == "stages":
        result = phase_stages(work, mem)
    elif name == "skdh":
        result = phase_skdh(work, days, rate_hz, mem)
    else:
        raise ValueError(f"unknown phase {name!r}")
    result["baseline_rss"] = mem.baseline
    result["peak_resettable"] = mem.resettable
    result["load_before"] = load
    result["load_after"] = os.getloadavg()[0]
    return result


# -- the report ----------------------------------------------------------------------------------
def summarize(results: dict[str, dict[str, Any]], days: int, rate_hz: float) -> dict[str, Any]:
    """Turn the phases' raw measurements into the reported figures."""
    rendered, psoas, skdh = results["render"]["days"], results["psoas"]["days"], results["skdh"]
    samples = sum(d["samples"] for d in rendered)
    if [d["samples"] for d in psoas] != [d["samples"] for d in skdh["days"]]:
        raise SystemExit("psoas and skdh analysed different inputs")
    day_bytes = max(d["samples"] for d in rendered) * ROW_BYTES
    psoas_s = sum(d["seconds"] for d in psoas)
    per_process = {p: sum(d["seconds"][p] for d in skdh["days"]) for p in SKDH_PROCESSES}
    skdh_s = sum(per_process.values())
    skdh_no_sts_s = skdh_s - per_process["Sit2Stand"]
    loads = [results[p][k] for p in PHASES for k in ("load_before", "load_after")]
    return {
        "days": days,
        "rate_hz": rate_hz,
        "samples": samples,
        "day_bytes": day_bytes,
        "render_s": sum(d["render_s"] for d in rendered),
        "psoas_s": psoas_s,
        "psoas_day_s": [d["seconds"] for d in psoas],
        "psoas_peak": max(d["peak"] for d in psoas),
        "psoas_day_peaks": [d["peak"] for d in psoas],
        "psoas_load_peak": psoas[0]["load_peak"],  # the first day: nothing left from before
        "skdh_s": skdh_s,
        "skdh_day_s": [sum(d["seconds"].values()) for d in skdh["days"]],
        "skdh_per_process_s": per_process,
        "skdh_peak": max(d["peak"] for d in skdh["days"]),
        "skdh_day_peaks": [d["peak"] for d in skdh["days"]],
        "speedup": skdh_s / psoas_s,
        "speedup_no_sts": skdh_no_sts_s / psoas_s,
        "skdh_version": skdh["version"],
        "stages": results["stages"],
        "truth": [d["truth"] for d in rendered],
        "psoas_days": psoas,
        "skdh_days": skdh["days"],
        "max_load": max(loads),
        "peak_resettable": all(results[p]["peak_resettable"] for p in PHASES),
    }


def _mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:,.0f} MB"


def _speed(samples: int, seconds: float, days: int) -> str:
    return (
        f"{seconds:.2f} s in all, {seconds / days:.3f} s/day, "
        f"{samples / seconds / 1e6:.2f} M samples/s"
    )


def _peak_range(peaks: list[int], unit: int) -> str:
    """The days' peaks, first to last day, as multiples of ``unit``."""
    if len(peaks) == 1:
        return ""
    return f"; first day {peaks[0] / unit:.2f}x, last day {peaks[-1] / unit:.2f}x"


def _warnings_of(fig: dict[str, Any], process: str) -> list[str]:
    texts: list[str] = []
    for d in fig["skdh_days"]:
        texts += [w for w in d["warnings"][process] if w not in texts]
    return texts


def _skdh_output(fig: dict[str, Any], process: str) -> str:
    """What one skdh process returned over the days, in a few words."""
    days = fig["skdh_days"]
    if process == "CalibrateAccelerometer":
        applied = sum(d["calibration_applied"] for d in days)
        return f"calibration applied on {applied} of {len(days)} day(s)"
    if process == "AccelThresholdWearDetection":
        wear = [d["wear_h"] for d in days]
        periods = [d["wear_periods"] for d in days]
        return (
            f"{min(periods)}-{max(periods)} wear period(s) a day, "
            f"{min(wear):.1f}-{max(wear):.1f} h wear"
        )
    if process == "ActivityLevelClassification":
        sed = [d["sedentary_min"] / 60 for d in days]
        mvpa = [d["mvpa_min"] for d in days]
        return (
            f"{min(sed):.1f}-{max(sed):.1f} h sedentary (5 s epochs) a day, "
            f"{min(mvpa):.0f}-{max(mvpa):.0f} min MVPA; {days[0]['endpoints']} result columns a day"
        )
    found = [d["sit_to_stand"] for d in days]
    truth = [t["sit_to_stand"] for t in fig["truth"]]
    return f"{sum(found)} sit-to-stand transfers found ({sum(truth)} in the truth)"


def render(fig: dict[str, Any], machine: dict[str, str], command: str) -> str:
    """The whole section as Markdown: what is measured, how, the figures and the notes."""
    days, rate, samples = fig["days"], fig["rate_hz"], fig["samples"]
    day_mb = fig["day_bytes"] / 1e6
    unit = fig["day_bytes"]
    rows = [
        (
            f"psoas `analyze_imu_day`, {days} day(s) one at a time",
            _speed(samples, fig["psoas_s"], days),
            "report",
            "",
        ),
        (
            "skdh: calibration + wear + activity levels + sit-to-stand, same days",
            _speed(samples, fig["skdh_s"], days),
            "report",
            "",
        ),
        (
            "skdh time / psoas time",
            f"{fig['speedup']:.1f} (psoas is {fig['speedup']:.1f}x faster)",
            f"≥ {TARGET_SPEEDUP:g}",
            met(fig["speedup"] >= TARGET_SPEEDUP),
        ),
        (
            "skdh time / psoas time, without `Sit2Stand`",
            f"{fig['speedup_no_sts']:.1f}",
            "report",
            "",
        ),
        (
            "psoas peak memory (loaded day + analysis), worst day",
            f"{fig['psoas_peak'] / unit:.2f}x one day (+{_mb(fig['psoas_peak'])}"
            f"{_peak_range(fig['psoas_day_peaks'], unit)}; the loaded first day alone: "
            f"{fig['psoas_load_peak'] / unit:.2f}x)",
            f"< {TARGET_PEAK_RATIO:g}x",
            met(fig["psoas_peak"] / unit < TARGET_PEAK_RATIO),
        ),
        (
            "skdh peak memory (loaded day + processes), worst day",
            f"{fig['skdh_peak'] / unit:.2f}x one day (+{_mb(fig['skdh_peak'])}"
            f"{_peak_range(fig['skdh_day_peaks'], unit)}; its float64 input alone: "
            f"{SKDH_ROW_BYTES / ROW_BYTES:.2f}x)",
            "report",
            "",
        ),
    ]
    intro = (
        f"{days} simulated thigh day(s) at {rate:g} Hz = {samples:,} samples; one day's raw "
        f"arrays (`t` int64 + `ax ay az` float32) = {day_mb:,.1f} MB, the unit of the memory "
        f"ratios. scikit-digital-health {fig['skdh_version']}."
    )
    lines = [
        "## Sitting analysis: posture and bouts against scikit-digital-health",
        "",
        "```",
        ".venv/bin/python benchmarks/sitting.py               # 7 thigh days at 100 Hz, ~4 min",
        ".venv/bin/python benchmarks/sitting.py --quick       # smoke run: 1 day at 25 Hz",
        ".venv/bin/python benchmarks/sitting.py --write-doc   # ... and rewrite this section",
        "```",
        "",
        '**Input.** `simulate_day(day, placement="thigh", rate_hz=100, seed=1, '
        'tz="Europe/Berlin")` for the 7 local days from Monday 2026-01-05 (five workdays and a '
        "weekend, no DST change: 8,640,000 samples a day, 60,480,000 in all), rendered once "
        "into `.npy` files (not timed). Each timed phase loads one day at a time (not timed), "
        "the way `psoas analyze` reads one device-day from the store.",
        "",
        "**Method.** Each side runs in a fresh interpreter; only the analysis is timed.",
        "",
        '- *psoas*: `analyze_imu_day(frame, "thigh", day_start_ns, day_end_ns, '
        "previous_runs=...)` day by day, each day seeded with the previous day's posture runs "
        "(as `psoas analyze`): all it does for a thigh sensor, i.e. auto-calibration, 1 s "
        "epochs, non-wear, orientation, posture, steps (break rule, cadence), sitting bouts "
        "and breaks, streak alerts, posture runs and the daily summary.",
        "- *scikit-digital-health* on the same days, as its readers hand data over (float64 "
        "unix seconds, (n, 3) float64 g, converted untimed), each process timed: "
        "`CalibrateAccelerometer(min_hours=12)` (its default 72 h would skip a one-day input), "
        "`AccelThresholdWearDetection()` (the van Hees rule psoas also uses), "
        "`ActivityLevelClassification()` with those wear periods (activity levels, sedentary "
        "bouts and its other default endpoints) and `Sit2Stand()`. `DETACH` needs a "
        "temperature channel and is not run. skdh has no thigh posture classifier: its "
        "sedentary time is low intensity (standing and lying included), and `Sit2Stand` is "
        "made for a lower-back sensor; both run here as the closest peers of psoas' posture "
        "and bouts.",
        "- *Stages*: `analyze_imu_day` once more on the first day with the functions it calls "
        "wrapped (seconds, memory held when each starts, peak during it).",
        "",
        "**Memory.** Peak resident set size (RSS) minus the RSS right after the imports, "
        "divided by one day's raw arrays (`t` int64 + `ax ay az` float32 = 20 bytes a sample, "
        "172.8 MB at 100 Hz). The loaded day counts: an analysis that allocated nothing would "
        "score 1.0x. The peak is reset before each day (`/proc/self/clear_refs`), so a figure "
        "is the worst single day.",
        "",
        f"**Targets** (issue 5): psoas at least {TARGET_SPEEDUP:g}x faster than "
        "scikit-digital-health end to end; peak memory under "
        f"{TARGET_PEAK_RATIO:g}x one day's raw arrays.",
        "",
    ]
    lines += figures_markdown(command, intro, machine, rows)
    lines += ["", *_skdh_table(fig), "", *_stage_table(fig), "", *_day_table(fig)]
    lines += ["", *_memory_notes(fig), *_notes(fig)]
    return "\n".join(lines) + "\n"


def _skdh_table(fig: dict[str, Any]) -> list[str]:
    total = fig["skdh_s"]
    lines = [
        "scikit-digital-health, per process (all days):",
        "",
        "| Process | Seconds | Share | What it returned | Warnings |",
        "|---|---|---|---|---|",
    ]
    for process, seconds in fig["skdh_per_process_s"].items():
        warned = "; ".join(_warnings_of(fig, process)) or "none"
        lines.append(
            f"| `{process}` | {seconds:.1f} | {seconds / total:.0%} | "
            f"{_skdh_output(fig, process)} | {warned} |"
        )
    return lines


def _stage_table(fig: dict[str, Any]) -> list[str]:
    unit = fig["day_bytes"]
    stages = fig["stages"]
    rest_s = stages["total_s"] - sum(s["seconds"] for s in stages["steps"])
    lines = [
        f"psoas, step by step (`analyze_imu_day` on the first day with its steps wrapped: "
        f"{stages['total_s']:.2f} s, peak {stages['peak'] / unit:.2f}x; memory as multiples of "
        f"one day's raw arrays, the loaded day itself {stages['frame_held'] / unit:.2f}x):",
        "",
        "| Step | Seconds | Held when it starts | Peak during it |",
        "|---|---|---|---|",
    ]
    for s in stages["steps"]:
        calls = f" ({s['calls']} calls; memory of the first)" if s["calls"] > 1 else ""
        lines.append(
            f"| {s['step']}{calls} | {s['seconds']:.3f} | {s['held'] / unit:.2f}x "
            f"| {s['peak'] / unit:.2f}x |"
        )
    lines.append(f"| the rest (column copies, frames) | {rest_s:.3f} | | |")
    return lines


def _day_table(fig: dict[str, Any]) -> list[str]:
    lines = [
        "Outputs per day against the simulation's truth (hours; sit-to-stand transfers):",
        "",
        "| Day | Truth sitting | psoas sitting | psoas bouts / alerts | skdh sedentary "
        "| Truth lying + upright | Truth stand-ups | skdh `Sit2Stand` | psoas s | skdh s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for truth, ours, peer in zip(fig["truth"], fig["psoas_days"], fig["skdh_days"], strict=True):
        lines.append(
            f"| {ours['day']} | {truth['sitting_s'] / 3600:.2f} | {ours['sitting_s'] / 3600:.2f} "
            f"| {ours['bouts']} / {ours['alerts']} | {peer['sedentary_min'] / 60:.2f} "
            f"| {truth['lying_s'] / 3600:.2f} + {truth['upright_s'] / 3600:.2f} "
            f"| {truth['sit_to_stand']} | {peer['sit_to_stand']} | {ours['seconds']:.2f} "
            f"| {sum(peer['seconds'].values()):.1f} |"
        )
    return lines


def _memory_notes(fig: dict[str, Any]) -> list[str]:
    """Where psoas' memory goes and what would bring it down, when it misses the target."""
    unit = fig["day_bytes"]
    if fig["psoas_peak"] / unit < TARGET_PEAK_RATIO:
        return []
    return [
        f"**Memory target missed** ({fig['psoas_peak'] / unit:.2f}x): the step table above "
        "shows which stage holds what. `analyze_imu_day` works through the day one clock hour "
        "at a time (calibration windows, epochs and the step filter per hour); a stage that "
        "takes the whole day as one array is the one to look at.",
        "",
    ]


def _notes(fig: dict[str, Any]) -> list[str]:
    days = fig["psoas_days"]
    calibrations = sorted({d["calibration"].split(":")[0] for d in days})
    notes = [
        f"psoas' calibration: {', '.join(calibrations)} "
        f"(orientation: {days[0]['orientation']} on the first day); non-wear found: "
        f"{sum(d['non_wear_s'] for d in days) / 3600:.1f} h (the simulated sensor is always worn).",
        "",
    ]
    if not any(d["calibration_applied"] for d in fig["skdh_days"]):
        notes += [
            "skdh's `CalibrateAccelerometer` left every day uncalibrated although the days hold "
            "thousands of still windows: it needs still means beyond -0.3 g and +0.3 g on every "
            "axis (GGIR's sphere rule), and a thigh's long axis never points down; psoas "
            'calibrates them with its `coverage="spread"` relaxation of that rule.',
            "",
        ]
    notes += [
        f"Rendering the days took {fig['render_s']:.0f} s (not timed). The highest 1-minute load "
        f"average seen at the start or end of a phase was {fig['max_load']:.2f} on "
        f"{os.cpu_count()} cores"
        + (
            "; other jobs were running at times, so single timings are noisy"
            + (
                " (the ratio stays far above its target either way)."
                if fig["speedup"] > 2 * TARGET_SPEEDUP
                else "."
            )
            if fig["max_load"] > 0.5 * (os.cpu_count() or 1)
            else "."
        ),
    ]
    if not fig["peak_resettable"]:
        notes += ["", "Peaks are per phase (this OS cannot reset the peak RSS per day)."]
    return notes


# -- command line --------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = days_rate_arguments(
        "psoas sitting-analysis benchmark against scikit-digital-health.", PHASES, DOC, float
    )
    return parse_days_rate(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ran = run_phases(args, Path(__file__), PHASES, run_phase, "psoas-sitting-bench-")
    if ran is None:
        return 0
    machine, results = ran
    figures = summarize(results, args.days, args.rate)
    command = days_rate_command(".venv/bin/python benchmarks/sitting.py", args)
    publish(render(figures, machine, command), args.write_doc, DOC, (START_MARKER, END_MARKER))
    return 0


if __name__ == "__main__":
    sys.exit(main())
