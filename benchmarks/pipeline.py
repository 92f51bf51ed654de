"""Daily-pipeline benchmark: psoas' whole device-day analysis against scikit-digital-health's.

Run it with ``.venv/bin/python benchmarks/pipeline.py`` (7 simulated days at 100 Hz of a thigh
sensor and of a lower-back sensor; 10-20 minutes, nearly all of it scikit-digital-health) or
``--quick`` (1 day at 25 Hz of each, a smoke run; the psoas side takes seconds).
``--write-doc`` rewrites the section of ``docs/benchmarks.md`` between the
``<!-- pipeline-figures:start -->`` and ``<!-- pipeline-figures:end -->`` markers.

**Input.** For each placement (``"thigh"`` and ``"lower_back"``),
``sensors.simulate.simulate_day(day, placement=..., rate_hz=100, seed=1, tz="Europe/Berlin")``
for the 7 local days from Monday 2026-01-05 (no DST change: every day is 24 h, 8,640,000
samples), with the simulator's ground truth (activities, sit-to-stand transitions, every stride
and its length). The ``render`` phase writes each day's columns once as ``.npy`` files in a
temporary working directory (not timed), the columns ``psoas analyze`` reads from the store for
that placement: ``t`` (int64 ns UTC) and ``ax ay az`` (float32 g) for the thigh, and also
``gx gy gz`` (float32 deg/s) for the lower back (``analysis.pipeline.GYRO_PLACEMENTS``). It also
records the lower-back sensor's height above the floor (the simulated person's pendulum length),
which ``psoas analyze`` takes from the recording's ``sensor_height_m``.

**Phases**, each in a fresh interpreter (this script with the hidden ``--phase`` option, via
:func:`benchmarks.run.run_phases`), so that the peak memory each reports is its own; every timed
phase loads one day at a time (not timed), resets its peak RSS and times only the analysis:

- ``psoas-thigh`` / ``psoas-lower_back``: ``analysis.day.analyze_imu_day(frame, placement,
  day_start_ns, day_end_ns, SittingSettings(), previous_runs, None, sensor_height_m=...)`` day
  by day, exactly as ``analysis.pipeline.analyze_device_day`` calls it (one day in memory,
  ``previous_runs`` = the previous day's posture runs, no temperature log: the simulated sensor
  has none, ``sensor_height_m`` for the lower back): calibration, 1 s epochs, non-wear,
  orientation, posture, steps, bouts, streak alerts, the daily summary and, for the lower back,
  sit-to-stand transitions and the trunk gait with stride lengths (``trunk_strides``).
- ``stages-lower_back``: ``analyze_imu_day`` on the first lower-back day with the functions it
  calls wrapped (seconds, memory held when each starts and its peak), via
  :func:`benchmarks.sitting.phase_stages` pointed at the lower-back input.
- ``skdh-thigh`` / ``skdh-lower_back``: scikit-digital-health on the same days, as its readers
  hand data over (``time`` float64 unix seconds, ``accel`` (n, 3) float64 g and, for the lower
  back, ``gyro`` (n, 3) float64 rad/s; converted untimed), its processes chained the way its
  ``Pipeline`` chains them (the calibrated acceleration goes on, the wear periods go to the
  activity classification, the gait bouts to the gait process), each timed:
  :func:`benchmarks.sitting.skdh_day` (``CalibrateAccelerometer(min_hours=12)``,
  ``AccelThresholdWearDetection()``, ``ActivityLevelClassification()``, ``Sit2Stand()``; see
  that module for why ``min_hours=12``), then for the lower back skdh's lumbar gait:
  ``PredictGaitLumbarLgbm()`` (its gait classifier) and ``GaitLumbar().predict(...,
  gyro=..., leg_length=<the same sensor height psoas gets>, gait_bouts=<the classifier's
  bouts>)``. ``leg_length`` is skdh's name for the pendulum length of its Zijlstra & Hof
  stride-length model, the quantity psoas' ``sensor_height_m`` is (``height=`` would be the
  body height, multiplied by 0.53).

**Thigh gait.** skdh's gait (``GaitLumbar``, ``PredictGaitLumbarLgbm``) is made and trained
for a lumbar sensor only; on a thigh its orientation and event detection do not apply, and its
output would be meaningless. So the thigh skdh phase leaves gait out, which makes skdh's thigh
pipeline *shorter* (and the thigh ratio smaller) than running it anyway would; psoas' thigh
figures include all it does there (steps and cadence strides, no stride length).

**Memory.** Peak resident set size (RSS) minus the RSS right after the imports, divided by one
day's raw arrays as ``psoas analyze`` reads them: thigh ``t`` int64 + ``ax ay az`` float32 = 20
bytes a sample (172.8 MB a 100 Hz day), lower back the same plus ``gx gy gz`` float32 = 32 bytes
a sample (276.5 MB). The loaded day counts (it *is* the day's raw arrays), so an analysis that
allocated nothing would score 1.0x. skdh's float64 input is 32 (thigh) and 56 (lower back) bytes
a sample, 1.6x and 1.75x the unit.

**Accuracy** (a bonus; from the phases' outputs against the simulator's truth): sitting hours
(skdh has no posture classifier: its sedentary time is low intensity, lying and standing
included), sit-to-stand transfers, and for the lower back the stride-length mean absolute
percentage error (MAPE) of the detected strides that start within ``MATCH_S`` of a truth stride.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

try:  # run as a module (python -m benchmarks.pipeline) or as a script
    from benchmarks import sitting
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
    import sitting  # type: ignore[no-redef]
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
START_MARKER = "<!-- pipeline-figures:start -->"
END_MARKER = "<!-- pipeline-figures:end -->"

TZ, SEED, NS_PER_S = sitting.TZ, sitting.SEED, sitting.NS_PER_S
PLACEMENTS = ("thigh", "lower_back")
LABEL = {"thigh": "thigh", "lower_back": "lower back"}
AXES = sitting.AXES
GYRO = ("gx", "gy", "gz")
COLUMNS = {"thigh": ("t", *AXES), "lower_back": ("t", *AXES, *GYRO)}
"""What ``psoas analyze`` reads from the store for each placement."""
ROW_BYTES = {p: 8 + 4 * (len(c) - 1) for p, c in COLUMNS.items()}
SKDH_ROW_BYTES = {"thigh": 8 + 8 * 3, "lower_back": 8 + 8 * 6}

TARGET_SPEEDUP = 10.0  # skdh seconds / psoas seconds, at least
TARGET_PEAK_RATIO = 1.5  # psoas peak RSS growth / one day's raw arrays, below
MATCH_S = 0.25  # a detected stride matches the truth stride starting nearest, within this

PHASES = ("render", "psoas-thigh", "psoas-lower_back", "stages-lower_back")
PHASES += ("skdh-thigh", "skdh-lower_back")
SKDH_GAIT = ("PredictGaitLumbarLgbm", "GaitLumbar")
META = "meta.json"


# -- data ----------------------------------------------------------------------------------------
def placement_dir(work: Path, placement: str) -> Path:
    return work / placement


def load_psoas_frame(work: Path, placement: str, index: int) -> pd.DataFrame:
    """Day ``index`` as psoas' store hands it to the analysis (the placement's columns)."""
    folder = placement_dir(work, placement)
    columns = {c: np.load(sitting._column_path(folder, index, c)) for c in COLUMNS[placement]}
    return pd.DataFrame(columns, copy=False)


def load_skdh_gyro(work: Path, index: int) -> np.ndarray:
    """The lower-back day's gyroscope as skdh takes it: (n, 3) float64 rad/s."""
    folder = placement_dir(work, "lower_back")
    first = np.load(sitting._column_path(folder, index, GYRO[0]))
    gyro = np.empty((len(first), 3), dtype=np.float64)
    gyro[:, 0] = first
    del first
    for j, axis in enumerate(GYRO[1:], start=1):
        gyro[:, j] = np.load(sitting._column_path(folder, index, axis))
    np.deg2rad(gyro, out=gyro)
    return gyro


def sensor_height(work: Path, placement: str) -> float | None:
    """The sensor height the render phase recorded (None where the recording has none)."""
    return json.loads((work / META).read_text())[placement]


# -- phases (each runs in its own interpreter) ---------------------------------------------------
def phase_render(work: Path, days: int, rate_hz: float) -> dict[str, Any]:
    """Simulate both placements' days; write their columns (``.npy``) and keep their truth."""
    from sensors.simulate import simulate_day

    out: dict[str, Any] = {}
    heights: dict[str, float | None] = {}
    for placement in PLACEMENTS:
        folder = placement_dir(work, placement)
        folder.mkdir()
        per_day = []
        for index in range(days):
            start = time.perf_counter()
            day = sitting.day_of(index)
            rec = simulate_day(day, placement=placement, rate_hz=rate_hz, seed=SEED, tz=TZ)
            for column in COLUMNS[placement]:
                np.save(sitting._column_path(folder, index, column), rec.samples[column].to_numpy())
            strides = rec.truth.strides
            per_day.append(
                {
                    "day": day.isoformat(),
                    "samples": len(rec.samples),
                    "render_s": time.perf_counter() - start,
                    "truth": sitting.truth_figures(rec.truth.activities),
                    "stride_t": strides["t"].astype("int64").tolist(),
                    "stride_m": strides["stride_length_m"].astype("float64").tolist(),
                    "stride_speed": strides["speed_mps"].astype("float64").tolist(),
                }
            )
            heights[placement] = rec.sensor_height_m
            sitting._progress(f"{placement} {day}: {len(rec.samples):,} samples rendered")
            del rec
        out[placement] = per_day
    (work / META).write_text(json.dumps(heights))
    return {"placements": out, "sensor_height_m": heights}


def phase_psoas(work: Path, placement: str, days: int, mem: MemoryProbe) -> dict[str, Any]:
    """``analyze_imu_day`` day by day as ``psoas analyze`` calls it."""
    from analysis.day import SittingSettings, analyze_imu_day

    height = sensor_height(work, placement)
    settings = SittingSettings()
    previous_runs = None
    per_day = []
    for index in range(days):
        start_ns, end_ns = sitting._analysis_day(index)
        mem.reset_peak()
        frame = load_psoas_frame(work, placement, index)
        load_peak = mem.peak_over_baseline()
        mem.reset_peak()
        start = time.perf_counter()
        result = analyze_imu_day(
            frame,
            placement,
            start_ns,
            end_ns,
            settings,
            previous_runs,
            None,
            sensor_height_m=height,
        )
        seconds = time.perf_counter() - start
        peak = mem.peak_over_baseline()
        summary, strides = result.summary, result.strides
        per_day.append(
            {
                "day": sitting.day_of(index).isoformat(),
                "samples": len(frame),
                "seconds": seconds,
                "load_peak": load_peak,
                "peak": peak,
                "sitting_s": float(summary["sitting_s"]),
                "bouts": int(summary["sitting_bouts"]),
                "alerts": len(result.alerts),
                "sit_to_stand": int(summary["sit_to_stand"]),
                "non_wear_s": float(summary["non_wear_s"]),
                "calibration": str(summary["calibration"]),
                "orientation": result.orientation.source,
                "strides": len(strides),
                # arrays while the days run (lists of Python numbers would add to the next
                # days' peaks), lists for the JSON hand-over below
                "stride_t": strides["t"].to_numpy(np.int64),
                "stride_m": strides["stride_length_m"].to_numpy(np.float64),
            }
        )
        previous_runs = result.runs
        sitting._progress(
            f"psoas {placement} {sitting.day_of(index)}: {seconds:.2f} s, "
            f"peak +{peak / 1e6:,.0f} MB ({peak / (len(frame) * ROW_BYTES[placement]):.2f}x), "
            f"{summary['sitting_s'] / 3600:.2f} h sitting, {len(strides)} strides"
        )
        del frame, result
    for day in per_day:
        day["stride_t"], day["stride_m"] = day["stride_t"].tolist(), day["stride_m"].tolist()
    return {"days": per_day, "sensor_height_m": height}


def phase_stages(work: Path, placement: str, mem: MemoryProbe) -> dict[str, Any]:
    """:func:`benchmarks.sitting.phase_stages` on the first day of ``placement``: its input,
    placement and sensor height swapped in for this (single-purpose) process."""
    import functools

    import analysis.day

    height = sensor_height(work, placement)
    sitting.PLACEMENT = placement
    sitting.load_frame = lambda w, i: load_psoas_frame(w, placement, i)
    sitting.STAGES = (
        *sitting.STAGES,
        ("analysis.day", "trunk_strides", "trunk gait + stride length (`trunk_strides`)"),
    )
    original = analysis.day.analyze_imu_day
    analysis.day.analyze_imu_day = functools.partial(original, sensor_height_m=height)
    try:
        return sitting.phase_stages(work, mem)
    finally:
        analysis.day.analyze_imu_day = original


class _Keep:
    """A process whose last output is kept (the calibrated acceleration, for the gait)."""

    def __init__(self, process: Any) -> None:
        self.process = process
        self.last: dict[str, Any] = {}

    def predict(self, **kwargs: Any) -> Any:
        self.last = self.process.predict(**kwargs)
        return self.last


def skdh_gait(
    processes: dict[str, Any],
    time_s: np.ndarray,
    accel_g: np.ndarray,
    gyro_rad_s: np.ndarray,
    rate_hz: float,
    height_m: float | None,
) -> dict[str, Any]:
    """skdh's lumbar gait as its ``Pipeline`` chains it: the classifier's bouts go to
    ``GaitLumbar``."""
    timer = sitting._Timer()
    found = timer(
        "PredictGaitLumbarLgbm",
        processes["PredictGaitLumbarLgbm"].predict,
        time=time_s,
        accel=accel_g,
        fs=rate_hz,
        tz_name=TZ,
    )
    bouts = np.column_stack([found["Gait Bout Start Index"], found["Gait Bout Stop Index"]]).astype(
        np.int64
    )
    gait = timer(
        "GaitLumbar",
        processes["GaitLumbar"].predict,
        time=time_s,
        accel=accel_g,
        gyro=gyro_rad_s,
        fs=rate_hz,
        leg_length=height_m,
        gait_bouts=bouts,
        tz_name=TZ,
    )
    ic_s = np.asarray(gait.get("IC Timestamp", []), dtype=np.float64)
    length = np.asarray(gait.get("stride length", np.full(len(ic_s), np.nan)), dtype=np.float64)
    return {
        "seconds": timer.seconds,
        "warnings": timer.warnings,
        "gait_bouts": len(bouts),
        "strides": len(ic_s),
        "stride_t": np.round(ic_s * NS_PER_S).astype(np.int64).tolist(),
        "stride_m": length.tolist(),
    }


def phase_skdh(
    work: Path, placement: str, days: int, rate_hz: float, mem: MemoryProbe
) -> dict[str, Any]:
    """scikit-digital-health's processes day by day, chained as its ``Pipeline`` chains them."""
    import skdh

    height = sensor_height(work, placement)
    calibrate = _Keep(skdh.preprocessing.CalibrateAccelerometer(min_hours=12))
    processes = {
        "CalibrateAccelerometer": calibrate,
        "AccelThresholdWearDetection": skdh.preprocessing.AccelThresholdWearDetection(),
        "ActivityLevelClassification": skdh.activity.ActivityLevelClassification(),
        "Sit2Stand": skdh.sit2stand.Sit2Stand(),
    }
    if placement == "lower_back":
        processes["PredictGaitLumbarLgbm"] = skdh.context.PredictGaitLumbarLgbm()
        processes["GaitLumbar"] = skdh.gait.GaitLumbar()
    folder = placement_dir(work, placement)
    per_day = []
    for index in range(days):
        mem.reset_peak()
        time_s, accel_g = sitting.load_skdh_input(folder, index)
        gyro = load_skdh_gyro(work, index) if placement == "lower_back" else None
        load_peak = mem.peak_over_baseline()
        mem.reset_peak()
        out = sitting.skdh_day(processes, time_s, accel_g, rate_hz)
        if gyro is not None:
            calibrated = calibrate.last.get("accel", accel_g)
            gait = skdh_gait(processes, time_s, calibrated, gyro, rate_hz, height)
            del calibrated
            out["seconds"].update(gait.pop("seconds"))
            out["warnings"].update(gait.pop("warnings"))
            out.update(gait)
        calibrate.last = {}
        peak = mem.peak_over_baseline()
        del time_s, accel_g, gyro
        per_day.append(
            {"day": sitting.day_of(index).isoformat(), "load_peak": load_peak, "peak": peak, **out}
        )
        split = ", ".join(f"{k} {v:.1f}" for k, v in out["seconds"].items())
        sitting._progress(
            f"skdh {placement} {sitting.day_of(index)}: {sum(out['seconds'].values()):.1f} s "
            f"({split}), peak +{peak / 1e6:,.0f} MB, {out['sit_to_stand']} sit-to-stands"
        )
    return {"days": per_day, "version": skdh.__version__, "sensor_height_m": height}


def run_phase(name: str, work: Path, days: int, rate_hz: float) -> dict[str, Any]:
    """Run phase ``name`` in this process and return its raw measurements."""
    side, _, placement = name.partition("-")
    if side == "skdh":  # import the library before the baseline, as the other phases do
        import skdh.context
        import skdh.gait  # noqa: F401
    elif side in ("psoas", "stages"):
        import analysis.day  # noqa: F401
    else:
        import sensors.simulate  # noqa: F401
    mem = MemoryProbe()
    load = os.getloadavg()[0]
    if side == "render":
        result = phase_render(work, days, rate_hz)
    elif side == "psoas":
        result = phase_psoas(work, placement, days, mem)
    elif side == "stages":
        result = phase_stages(work, placement, mem)
    elif side == "skdh":
        result = phase_skdh(work, placement, days, rate_hz, mem)
    else:
        raise ValueError(f"unknown phase {name!r}")
    result["baseline_rss"] = mem.baseline
    result["peak_resettable"] = mem.resettable
    result["load_before"] = load
    result["load_after"] = os.getloadavg()[0]
    return result


# -- the figures ---------------------------------------------------------------------------------
def stride_accuracy(
    truth_t: np.ndarray, truth_m: np.ndarray, found_t: np.ndarray, found_m: np.ndarray
) -> dict[str, float]:
    """Detected strides with a length against the truth stride starting nearest (within
    ``MATCH_S``): how many matched, their MAPE (%) and mean signed error (%)."""
    order = np.argsort(truth_t, kind="stable")
    truth_t, truth_m = truth_t[order], truth_m[order]
    keep = np.isfinite(found_m)
    found_t, found_m = found_t[keep], found_m[keep]
    if not len(truth_t) or not len(found_t):
        return {"matched": 0, "with_length": len(found_t), "mape": np.nan, "bias": np.nan}
    right = np.clip(np.searchsorted(truth_t, found_t), 1, len(truth_t) - 1)
    left = right - 1
    nearest = np.where(
        np.abs(truth_t[left] - found_t) <= np.abs(truth_t[right] - found_t), left, right
    )
    close = np.abs(truth_t[nearest] - found_t) <= MATCH_S * NS_PER_S
    ref, got = truth_m[nearest[close]], found_m[close]
    error = (got - ref) / ref * 100.0
    return {
        "matched": int(close.sum()),
        "matched_truth": len(np.unique(nearest[close])),
        "with_length": len(found_t),
        "mape": float(np.mean(np.abs(error))) if len(error) else np.nan,
        "bias": float(np.mean(error)) if len(error) else np.nan,
    }


def _strides_of(days: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    t = np.concatenate([np.asarray(d.get("stride_t", []), dtype=np.int64) for d in days])
    m = np.concatenate([np.asarray(d.get("stride_m", []), dtype=np.float64) for d in days])
    return t, m


def summarize_placement(
    results: dict[str, dict[str, Any]], placement: str, days: int
) -> dict[str, Any]:
    """The reported figures of one placement."""
    rendered = results["render"]["placements"][placement]
    psoas = results[f"psoas-{placement}"]["days"]
    skdh = results[f"skdh-{placement}"]["days"]
    if [d["samples"] for d in psoas] != [d["samples"] for d in skdh]:
        raise SystemExit(f"{placement}: psoas and skdh analysed different inputs")
    unit = max(d["samples"] for d in rendered) * ROW_BYTES[placement]
    psoas_s = sum(d["seconds"] for d in psoas)
    per_process: dict[str, float] = {}
    for d in skdh:
        for process, seconds in d["seconds"].items():
            per_process[process] = per_process.get(process, 0.0) + seconds
    skdh_s = sum(per_process.values())
    truth_t, truth_m = _strides_of(rendered)
    fig: dict[str, Any] = {
        "placement": placement,
        "samples": sum(d["samples"] for d in rendered),
        "unit": unit,
        "render_s": sum(d["render_s"] for d in rendered),
        "psoas_s": psoas_s,
        "skdh_s": skdh_s,
        "skdh_per_process_s": per_process,
        "speedup": skdh_s / psoas_s,
        "speedup_no_sts": (skdh_s - per_process["Sit2Stand"]) / psoas_s,
        "psoas_peak": max(d["peak"] for d in psoas),
        "psoas_day_peaks": [d["peak"] for d in psoas],
        "psoas_load_peak": psoas[0]["load_peak"],
        "skdh_peak": max(d["peak"] for d in skdh),
        "skdh_day_peaks": [d["peak"] for d in skdh],
        "truth_sitting_s": sum(d["truth"]["sitting_s"] for d in rendered),
        "psoas_sitting_s": sum(d["sitting_s"] for d in psoas),
        "skdh_sedentary_s": sum(d["sedentary_min"] * 60.0 for d in skdh),
        "truth_sit_to_stand": sum(d["truth"]["sit_to_stand"] for d in rendered),
        "psoas_sit_to_stand": sum(d["sit_to_stand"] for d in psoas),
        "skdh_sit_to_stand": sum(d["sit_to_stand"] for d in skdh),
        "truth_strides": len(truth_t),
        "psoas_strides": sum(d["strides"] for d in psoas),
        "skdh_strides": sum(d.get("strides", 0) for d in skdh),
        "skdh_warnings": {
            p: sorted({w for d in skdh for w in d["warnings"].get(p, [])}) for p in per_process
        },
        "calibration": sorted({d["calibration"].split(":")[0] for d in psoas}),
        "skdh_calibrated_days": sum(d["calibration_applied"] for d in skdh),
        "orientation": psoas[0]["orientation"],
        "psoas_days": [
            {k: v for k, v in d.items() if k not in ("stride_t", "stride_m")} for d in psoas
        ],
        "skdh_day_s": [sum(d["seconds"].values()) for d in skdh],
        "sensor_height_m": results[f"psoas-{placement}"]["sensor_height_m"],
    }
    if placement == "lower_back":
        fig["psoas_stride_acc"] = stride_accuracy(truth_t, truth_m, *_strides_of(psoas))
        fig["skdh_stride_acc"] = stride_accuracy(truth_t, truth_m, *_strides_of(skdh))
        fig["skdh_gait_bouts"] = sum(d.get("gait_bouts", 0) for d in skdh)
    return fig


def summarize(results: dict[str, dict[str, Any]], days: int, rate_hz: float) -> dict[str, Any]:
    """Turn the phases' raw measurements into the reported figures."""
    loads = [r[k] for r in results.values() for k in ("load_before", "load_after")]
    return {
        "days": days,
        "rate_hz": rate_hz,
        "by_placement": {p: summarize_placement(results, p, days) for p in PLACEMENTS},
        "stages": results["stages-lower_back"],
        "skdh_version": results["skdh-thigh"]["version"],
        "max_load": max(loads),
        "peak_resettable": all(r["peak_resettable"] for r in results.values()),
    }


# -- the report ----------------------------------------------------------------------------------
def _mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:,.0f} MB"


def _peak(fig: dict[str, Any], side: str) -> str:
    unit, peaks = fig["unit"], fig[f"{side}_day_peaks"]
    text = f"{fig[f'{side}_peak'] / unit:.2f}x (+{_mb(fig[f'{side}_peak'])})"
    if len(peaks) > 1:
        text += f"; days {min(peaks) / unit:.2f}-{max(peaks) / unit:.2f}x"
    return text


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h"


def _stride_cell(fig: dict[str, Any], side: str) -> str:
    if fig["placement"] != "lower_back":
        if side == "psoas":
            return f"{fig['psoas_strides']:,} cadence strides (a thigh gives no length)"
        return "not run (skdh's gait is lumbar only)"
    acc = fig[f"{side}_stride_acc"]
    if not acc["matched"]:
        return f"{fig[f'{side}_strides']:,} strides, none matched"
    return (
        f"MAPE {acc['mape']:.1f}% (bias {acc['bias']:+.1f}%) over {acc['matched']:,} matched "
        f"strides; {fig[f'{side}_strides']:,} strides, {acc['with_length']:,} with a length"
    )


def comparison_table(fig: dict[str, Any]) -> list[str]:
    """Both placements side by side."""
    t, b = fig["by_placement"]["thigh"], fig["by_placement"]["lower_back"]

    def row(name: str, cell: Any) -> str:
        return f"| {name} | {cell(t)} | {cell(b)} |"

    return [
        "| Figure | Thigh | Lower back |",
        "|---|---|---|",
        row("psoas `analyze_imu_day`, all days", lambda f: f"{f['psoas_s']:.2f} s"),
        row("scikit-digital-health, all days", lambda f: f"{f['skdh_s']:.1f} s"),
        row(
            f"skdh time / psoas time (target ≥ {TARGET_SPEEDUP:g})",
            lambda f: f"**{f['speedup']:.1f}x** ({met(f['speedup'] >= TARGET_SPEEDUP)})",
        ),
        row("... without skdh's `Sit2Stand`", lambda f: f"{f['speedup_no_sts']:.1f}x"),
        row(
            f"psoas peak memory, worst day (target < {TARGET_PEAK_RATIO:g}x)",
            lambda f: (
                f"{_peak(f, 'psoas')} ({met(f['psoas_peak'] / f['unit'] < TARGET_PEAK_RATIO)})"
            ),
        ),
        row("skdh peak memory, worst day", lambda f: _peak(f, "skdh")),
        row("memory unit: one day's raw arrays", lambda f: _mb(f["unit"])),
        row(
            "sitting: truth / psoas / skdh sedentary",
            lambda f: (
                f"{_hours(f['truth_sitting_s'])} / {_hours(f['psoas_sitting_s'])} / "
                f"{_hours(f['skdh_sedentary_s'])}"
            ),
        ),
        row(
            "sit-to-stand transfers: truth / psoas / skdh",
            lambda f: (
                f"{f['truth_sit_to_stand']} / "
                + (f"{f['psoas_sit_to_stand']}" if f["placement"] != "thigh" else "(trunk only)")
                + f" / {f['skdh_sit_to_stand']}"
            ),
        ),
        row("stride length, psoas", lambda f: _stride_cell(f, "psoas")),
        row("stride length, skdh", lambda f: _stride_cell(f, "skdh")),
    ]


def _skdh_table(fig: dict[str, Any]) -> list[str]:
    t, b = fig["by_placement"]["thigh"], fig["by_placement"]["lower_back"]
    processes = list(b["skdh_per_process_s"])
    lines = [
        "scikit-digital-health, seconds per process (all days) and its warnings:",
        "",
        "| Process | Thigh | Lower back | Warnings |",
        "|---|---|---|---|",
    ]
    for p in processes:
        thigh = t["skdh_per_process_s"].get(p)
        warned = sorted({*t["skdh_warnings"].get(p, []), *b["skdh_warnings"].get(p, [])})
        lines.append(
            f"| `{p}` | {f'{thigh:.1f}' if thigh is not None else 'not run'} "
            f"| {b['skdh_per_process_s'][p]:.1f} | {'; '.join(warned) or 'none'} |"
        )
    return lines


def _stage_table(fig: dict[str, Any]) -> list[str]:
    unit = fig["by_placement"]["lower_back"]["unit"]
    stages = fig["stages"]
    rest_s = stages["total_s"] - sum(s["seconds"] for s in stages["steps"])
    lines = [
        f"psoas, lower back, step by step (`analyze_imu_day` on the first day with its steps "
        f"wrapped: {stages['total_s']:.2f} s, peak {stages['peak'] / unit:.2f}x; memory as "
        f"multiples of one lower-back day's raw arrays, the loaded day itself "
        f"{stages['frame_held'] / unit:.2f}x):",
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
    t, b = fig["by_placement"]["thigh"], fig["by_placement"]["lower_back"]
    lines = [
        "Seconds per day (psoas / skdh):",
        "",
        "| Day | Thigh psoas | Thigh skdh | Lower back psoas | Lower back skdh |",
        "|---|---|---|---|---|",
    ]
    for i, day in enumerate(t["psoas_days"]):
        lines.append(
            f"| {day['day']} | {day['seconds']:.2f} | {t['skdh_day_s'][i]:.1f} "
            f"| {b['psoas_days'][i]['seconds']:.2f} | {b['skdh_day_s'][i]:.1f} |"
        )
    return lines


def _targets(fig: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows = []
    for placement, f in fig["by_placement"].items():
        rows.append(
            (
                f"{LABEL[placement]}: skdh time / psoas time",
                f"{f['speedup']:.1f} ({f['skdh_s']:.1f} s / {f['psoas_s']:.2f} s)",
                f"≥ {TARGET_SPEEDUP:g}",
                met(f["speedup"] >= TARGET_SPEEDUP),
            )
        )
        rows.append(
            (
                f"{LABEL[placement]}: psoas peak memory, worst day",
                f"{f['psoas_peak'] / f['unit']:.2f}x one day "
                f"(skdh {f['skdh_peak'] / f['unit']:.2f}x)",
                f"< {TARGET_PEAK_RATIO:g}x",
                met(f["psoas_peak"] / f["unit"] < TARGET_PEAK_RATIO),
            )
        )
    return rows


def _memory_notes(fig: dict[str, Any]) -> list[str]:
    """Where psoas' memory goes, for a placement that misses the target."""
    notes = []
    for placement, f in fig["by_placement"].items():
        ratio = f["psoas_peak"] / f["unit"]
        if ratio < TARGET_PEAK_RATIO:
            continue
        if placement != "lower_back":
            notes += [
                f"**Memory target missed, {LABEL[placement]}** ({ratio:.2f}x): see the step "
                "table of the sitting section above for where the thigh analysis holds memory.",
                "",
            ]
            continue
        steps = {s["name"]: s for s in fig["stages"]["steps"]}
        unit = f["unit"]
        strides = steps.get("trunk_strides")
        where = ""
        if strides is not None:
            where = (
                f" (the step table: {strides['held'] / unit:.2f}x held when `trunk_strides` "
                f"starts, {strides['peak'] / unit:.2f}x during it)"
            )
        notes += [
            f"**Memory target missed, lower back** ({ratio:.2f}x){where}. The posture pass works "
            "an hour at a time, but the trunk methods take the whole day: `analyze_imu_day` "
            "makes two whole-day (n, 3) float32 copies for them (the acceleration for "
            "`trunk_transitions` and `trunk_strides`, the gyroscope for `trunk_strides`: 12 "
            "bytes a sample each, 0.375x of the unit each), and `trunk_strides`' search for "
            "movement (`_regions`) keeps whole-day float64 running sums (about 24 bytes a "
            "sample, 0.75x). Under 1.5x needs the trunk methods to take the three axis columns "
            "and to find movement an hour at a time, as the posture pass does.",
            "",
        ]
    return notes


def _notes(fig: dict[str, Any]) -> list[str]:
    t, b = fig["by_placement"]["thigh"], fig["by_placement"]["lower_back"]
    notes = []
    for f in (t, b):
        notes.append(
            f"{LABEL[f['placement']].capitalize()}: psoas' calibration "
            f"{', '.join(f['calibration'])} (orientation on the first day: {f['orientation']}); "
            f"skdh's `CalibrateAccelerometer` applied on {f['skdh_calibrated_days']} of "
            f"{len(f['psoas_days'])} day(s)."
        )
    acc = b["skdh_stride_acc"]
    notes += [
        "",
        f"Lower-back strides: sensor height {b['sensor_height_m']:.3f} m for both (skdh's "
        f"`leg_length`); {b['truth_strides']:,} truth strides (walking and running, both feet); "
        f"skdh's classifier found {b['skdh_gait_bouts']} gait bout(s). A detected stride "
        f"matches the truth stride that starts nearest to it, within {MATCH_S:g} s; the MAPE "
        "is over the matched strides that have a length (psoas leaves running strides and "
        f"strides in turns without one; skdh gives every stride one). skdh matched "
        f"{acc['matched']:,} of its {acc['with_length']:,} strides with a length.",
        "",
        f"Rendering the days took {t['render_s'] + b['render_s']:.0f} s (not timed). The highest "
        f"1-minute load average seen at the start or end of a phase was {fig['max_load']:.2f} on "
        f"{os.cpu_count()} cores"
        + (
            "; other jobs were running at times, so single timings are noisy."
            if fig["max_load"] > 0.5 * (os.cpu_count() or 1)
            else "."
        ),
    ]
    if not fig["peak_resettable"]:
        notes += ["", "Peaks are per phase (this OS cannot reset the peak RSS per day)."]
    return notes


def render(fig: dict[str, Any], machine: dict[str, str], command: str) -> str:
    """The whole section as Markdown: what is measured, how, the figures and the notes."""
    days, rate = fig["days"], fig["rate_hz"]
    t, b = fig["by_placement"]["thigh"], fig["by_placement"]["lower_back"]
    intro = (
        f"{days} simulated day(s) at {rate:g} Hz per placement = {t['samples']:,} samples each; "
        f"one day's raw arrays (the unit of the memory ratios): thigh {_mb(t['unit'])} "
        f"(`t` + `ax ay az`), lower back {_mb(b['unit'])} (`t` + `ax ay az` + `gx gy gz`). "
        f"scikit-digital-health {fig['skdh_version']}."
    )
    lines = [
        "## Daily pipeline: thigh and lower back against scikit-digital-health",
        "",
        "```",
        ".venv/bin/python benchmarks/pipeline.py               # 7 days x 2 placements, 100 Hz",
        ".venv/bin/python benchmarks/pipeline.py --quick       # smoke run: 1 day at 25 Hz",
        ".venv/bin/python benchmarks/pipeline.py --write-doc   # ... and rewrite this section",
        "```",
        "",
        "**Input.** `simulate_day(day, placement=..., rate_hz=100, seed=1, "
        'tz="Europe/Berlin")` for the 7 local days from Monday 2026-01-05 (no DST change: '
        '8,640,000 samples a day), once with `placement="thigh"` and once with '
        '`placement="lower_back"`, rendered once into `.npy` files (not timed) holding the '
        "columns `psoas analyze` reads for that placement: `t ax ay az`, plus `gx gy gz` for "
        "the lower back. Each timed phase loads one day at a time (not timed).",
        "",
        "**Method.** Each side and placement runs in a fresh interpreter; only the analysis is "
        "timed.",
        "",
        "- *psoas*: `analyze_imu_day(frame, placement, day_start_ns, day_end_ns, "
        "SittingSettings(), previous_runs, None, sensor_height_m=...)` day by day, as "
        "`psoas analyze` calls it: calibration, 1 s epochs, non-wear, orientation, posture, "
        "steps, sitting bouts, streak alerts and the daily summary; for the lower back also "
        "sit-to-stand transitions and the trunk gait with stride lengths (`trunk_strides`, "
        "with the simulated sensor height).",
        "- *scikit-digital-health*, on the same days as its readers hand them over (float64 "
        "seconds, (n, 3) float64 g, and rad/s for the lower back's gyroscope; converted "
        "untimed), its processes chained as its `Pipeline` chains them, each timed: "
        "`CalibrateAccelerometer(min_hours=12)`, `AccelThresholdWearDetection()`, "
        "`ActivityLevelClassification()` (with the wear periods), `Sit2Stand()` and, for the "
        "lower back, its lumbar gait: `PredictGaitLumbarLgbm()` (gait classifier) and "
        "`GaitLumbar()` on its bouts, with the gyroscope and `leg_length` = the same sensor "
        "height psoas gets (skdh's name for the pendulum length of its Zijlstra & Hof "
        "model). skdh's gait is made for a lumbar sensor only, so the thigh run leaves it "
        "out: skdh's thigh pipeline is the shorter for it (a smaller ratio than running a "
        "meaningless gait on thigh data would give). See the sitting section above for what "
        "the first four processes do and do not compare to.",
        "- *Stages*: `analyze_imu_day` once more on the first lower-back day with the "
        "functions it calls wrapped.",
        "",
        "**Memory.** Peak resident set size (RSS) minus the RSS right after the imports, "
        "divided by one day's raw arrays as `psoas analyze` reads them: thigh `t` int64 + "
        "`ax ay az` float32 = 20 bytes a sample (172.8 MB at 100 Hz); lower back also "
        "`gx gy gz` float32 = 32 bytes a sample (276.5 MB). The loaded day counts: an analysis "
        "that allocated nothing would score 1.0x. The peak is reset before each day, so a "
        "figure is the worst single day. skdh's own float64 input is 1.6x (thigh) and 1.75x "
        "(lower back) that unit.",
        "",
        f"**Targets**: psoas at least {TARGET_SPEEDUP:g}x faster than scikit-digital-health's "
        f"pipeline end to end; peak memory under {TARGET_PEAK_RATIO:g}x one day's raw arrays.",
        "",
    ]
    lines += figures_markdown(command, intro, machine, _targets(fig))
    lines += ["", "Both placements side by side:", "", *comparison_table(fig)]
    lines += ["", *_skdh_table(fig), "", *_stage_table(fig), "", *_day_table(fig)]
    lines += ["", *_memory_notes(fig), *_notes(fig)]
    return "\n".join(lines) + "\n"


# -- command line --------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = days_rate_arguments(
        "psoas daily-pipeline benchmark (thigh and lower back) against scikit-digital-health.",
        PHASES,
        DOC,
        float,
    )
    return parse_days_rate(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    ran = run_phases(args, Path(__file__), PHASES, run_phase, "psoas-pipeline-bench-")
    if ran is None:
        return 0
    machine, results = ran
    figures = summarize(results, args.days, args.rate)
    command = days_rate_command(".venv/bin/python benchmarks/pipeline.py", args)
    publish(render(figures, machine, command), args.write_doc, DOC, (START_MARKER, END_MARKER))
    print(f"wall time {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
