"""Gait benchmark: psoas stride length against gaitmap (foot IMU) and mobgap (lower back).

What
----
Accuracy and speed of psoas' two stride pipelines side by side with the peer libraries' own
pipelines, on the same real recordings (issue 6's acceptance: at least as accurate, at least 3x
faster). ``--write-doc`` records the figures in ``docs/benchmarks.md`` between the
``<!-- gait-figures:start -->`` and ``<!-- gait-figures:end -->`` markers.

Input (``../shared/data``, see its README)
-----------------------------------------
- ``gaitmap_foot/``: gaitmap's example 2 x 20 m walk, one IMU per shoe at 204.8 Hz (m/s^2, deg/s,
  already in gaitmap's sensor frame: x forward, z up), heel markers of an optical motion capture
  at 100 Hz and the mocap stride events (``stride_events_sample.csv``, IMU sample numbers).
- ``mobgap_lowerback/HA001/``: mobgap's lab example participant HA/001, lower-back IMU at 100 Hz
  (g, deg/s), three trials (``Test5`` x 2, ``Test11``) with the INDIP reference system's walking
  bouts (``Standards/INDIP/MicroWB``) and the sensor height (0.964 m).

Method
------
Every pipeline runs in a fresh interpreter (this script with the hidden ``--phase`` option); the
peers run with the interpreter of a separate virtualenv (``.venv-peers``, ``--peers-python``)
because gaitmap requires numpy < 2.1 and pandas < 2.4, older than psoas' ``.venv``. Each phase
loads its data (not timed), runs its pipeline once ("cold": the first call in a fresh process,
what one analysis costs) and then ``WARM_REPEATS`` more times ("warm": imports, numba code and
caches loaded). Every phase runs ``RUNS`` times (``--quick``: once), alternating the order of the
sides; the best cold and the best warm time are reported. One untimed run of each phase comes
first, so that numba's on-disk cache (gaitmap, mobgap) exists before anything is timed. Peak
memory is the process's peak resident set size (``getrusage``) minus its peak right after the
imports and the data load.

- *psoas, foot*: :func:`analysis.foot_stride.foot_strides` per foot (acceleration / 9.80665 to g).
- *gaitmap, foot*: the MaD gait pipeline of gaitmap's documentation (its
  ``mad_gait_pipeline`` example) on the sensor-frame sample (the example's rotation step produces
  exactly this file): ``align_dataset_to_gravity`` -> ``convert_to_fbf`` -> ``BarthDtw`` ->
  ``RamppEventDetection`` -> ``StrideLevelTrajectory`` (sensor frame, ``min_vel`` strides) ->
  ``TemporalParameterCalculation`` + ``SpatialParameterCalculation``. A second variant replaces
  the trajectory by its documented region-level ``RtsKalman`` (``RegionLevelTrajectory`` over the
  whole recording, ``estimate_intersect`` with the same strides).
- *psoas, lower back*: :func:`analysis.trunk_stride.trunk_strides` per trial with the
  participant's sensor height.
- *mobgap, lower back*: ``MobilisedPipelineHealthy().safe_run`` per trial (its default GSD, ICD,
  LRC, cadence and ``SlZijlstra`` stride length, WB assembly and DMO thresholds). The trials are
  loaded with mobgap's ``GenericMobilisedDataset`` (not timed) and handed over in memory
  (``GaitDatasetFromData``), so that the timing holds the pipeline only.

Accuracy (same definitions for both sides, computed here from the strides each phase returns):

- foot: reference stride length = horizontal displacement of the heel marker (``L_FCC`` /
  ``R_FCC``, linearly interpolated at the IMU sample times) between the start and the end of each
  reference stride. Detected strides are matched one to one to reference strides of the same foot
  whose start is within ``MATCH_S`` (nearest first). Figures: matched / reference strides, mean
  absolute error (cm and % of the reference), bias (cm), per foot and in total.
- lower back: for every INDIP walking bout with at least ``MIN_BOUT_STRIDES`` strides, the mean
  stride length (and cadence) of the method's strides that start inside [Start, End] against the
  bout's ``AverageStrideLength`` (``Cadence``): absolute percentage error per bout, its mean over
  the bouts (MAPE), and how many bouts got any stride.

How to run
----------
::

    python3 -m venv .venv-peers
    .venv-peers/bin/pip install gaitmap==2.6.0 gaitmap-mad==2.6.0 mobgap==1.2.0
    .venv/bin/python benchmarks/gait.py               # about two and a half minutes
    .venv/bin/python benchmarks/gait.py --quick       # one timed run per pipeline (~1 min)
    .venv/bin/python benchmarks/gait.py --write-doc   # ... and rewrite the doc section

The peer phases import only the standard library, numpy, pandas and scipy from this module, so
that this file also runs under the peers' interpreter.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"
START_MARKER = "<!-- gait-figures:start -->"
END_MARKER = "<!-- gait-figures:end -->"
DATA = REPO.parent / "shared" / "data"
PEERS_PYTHON = REPO / ".venv-peers" / "bin" / "python"
PEER_PACKAGES = ("gaitmap==2.6.0", "gaitmap-mad==2.6.0", "mobgap==1.2.0")

G_MPS2 = 9.80665
NS_PER_S = 1_000_000_000
FOOT_RATE_HZ = 204.8
MOCAP_RATE_HZ = 100.0
FOOT_SENSORS = {"left": "left_sensor", "right": "right_sensor"}
HEEL_MARKERS = {"left": "L_FCC", "right": "R_FCC"}
MATCH_S = 0.3
MIN_BOUT_STRIDES = 4
SHORT_STRIDE_M = 0.9
"""Lower-back diagnosis: INDIP strides shorter than this (turns, shuffling) are tallied apart."""

RUNS = 3
WARM_REPEATS = 5
TARGET_SPEEDUP = 3.0

FOOT_PHASES = ("psoas-foot", "gaitmap", "gaitmap-rts")
BACK_PHASES = ("psoas-back", "mobgap")
PHASES = FOOT_PHASES + BACK_PHASES
PEER_PHASES = ("gaitmap", "gaitmap-rts", "mobgap")
LABELS = {
    "psoas-foot": "psoas `foot_strides`",
    "gaitmap": "gaitmap MaD pipeline (`StrideLevelTrajectory`)",
    "gaitmap-rts": "gaitmap with `RtsKalman` (`RegionLevelTrajectory`)",
    "psoas-back": "psoas `trunk_strides`",
    "mobgap": "mobgap `MobilisedPipelineHealthy`",
}

SECTION_HEAD = (
    "## Gait: stride length against gaitmap (foot) and mobgap (lower back)",
    "",
    "```",
    ".venv/bin/python benchmarks/gait.py               # about two and a half minutes",
    ".venv/bin/python benchmarks/gait.py --quick       # one timed run per pipeline",
    ".venv/bin/python benchmarks/gait.py --write-doc   # ... and rewrite this section",
    "```",
    "",
    "The peers run in their own virtualenv, `.venv-peers` (`python3 -m venv .venv-peers && "
    f".venv-peers/bin/pip install {' '.join(PEER_PACKAGES)}`): gaitmap 2.6.0 requires numpy < "
    "2.1 and pandas < 2.4, older than psoas' `.venv`.",
    "",
    "**Input.** `../shared/data/gaitmap_foot`: gaitmap's example 2 x 20 m walk, one IMU per shoe "
    "at 204.8 Hz, with motion capture; reference stride length = horizontal displacement of the "
    "heel marker (`L_FCC` / `R_FCC`) between the start and end of each mocap stride "
    "(`stride_events_sample.csv`). `../shared/data/mobgap_lowerback/HA001`: mobgap's lab example "
    "participant, lower-back IMU at 100 Hz, three trials (`Test5` twice, `Test11`); reference = "
    "the INDIP system's walking bouts (`MicroWB`).",
    "",
    "**Method.** *psoas*: `foot_strides` per foot (acceleration / 9.80665 to g) and "
    "`trunk_strides` per trial with the participant's sensor height (0.964 m). *gaitmap*: the "
    "MaD pipeline of its documentation (`align_dataset_to_gravity`, `convert_to_fbf`, `BarthDtw`, "
    "`RamppEventDetection`, `StrideLevelTrajectory` on the `min_vel` strides, temporal and spatial "
    "parameters); a second variant with the region-level `RtsKalman` trajectory. *mobgap*: "
    "`MobilisedPipelineHealthy().safe_run` per trial (GSD, ICD, LRC, cadence, `SlZijlstra`, WB "
    "assembly, DMO thresholds), the trials loaded by `GenericMobilisedDataset` beforehand (not "
    "timed). Timing covers the pipeline only, not imports or loading. Accuracy is computed here "
    f"from the strides each side returns, with the same rules: foot strides are matched one to "
    f"one to reference strides of the same foot starting within {MATCH_S} s; lower back: per "
    f"INDIP bout with ≥ {MIN_BOUT_STRIDES} strides, the mean stride length (cadence) of the "
    "strides starting in [Start, End] against `AverageStrideLength` (`Cadence`), absolute % "
    "error, averaged over the bouts that got a stride (MAPE).",
    "",
    "**Targets** (issue 6): at least as accurate as the peer and at least 3x faster. Both "
    "ratios, cold and warm, must reach 3. 'As accurate' compares the two sides on the strides "
    "(bouts) both measured, and the number they measured.",
)

Strides = dict[str, list[list[float]]]
"""Per foot (or trial) the detected strides as rows of floats (see the phases)."""


# -- data (both interpreters) --------------------------------------------------------------------
def load_foot_imu(data_dir: Path) -> pd.DataFrame:
    """gaitmap's ``imu_sample.csv``: columns (sensor, axis), index = IMU sample number."""
    return pd.read_csv(data_dir / "gaitmap_foot" / "imu_sample.csv", header=[0, 1], index_col=0)


def load_back_trials(data_dir: Path) -> dict[str, dict[str, Any]]:
    """HA001's trials: ``{"Test5/Trial1": {"acc_g", "gyr_dps", "fs", "bouts", "strides"}, ...}``.

    ``bouts`` is the INDIP ``MicroWB`` list as dicts of ``Start``/``End`` (s from the trial's
    first sample), ``AverageStrideLength`` (m), ``Cadence`` (steps/min) and ``NumberStrides``;
    ``strides`` the INDIP strides of all bouts as rows ``[initial contact (s), length (m)]``.
    """
    from scipy.io import loadmat

    mat = loadmat(data_dir / "mobgap_lowerback" / "HA001" / "data.mat", simplify_cells=True)
    trials: dict[str, dict[str, Any]] = {}
    for test, test_data in mat["data"]["TimeMeasure1"].items():
        for trial, trial_data in test_data.items():
            back = trial_data["SU"]["LowerBack"]
            bouts = trial_data["Standards"]["INDIP"]["MicroWB"]
            bouts = bouts if isinstance(bouts, list) else [bouts]
            keys = ("Start", "End", "AverageStrideLength", "Cadence", "NumberStrides")
            ref_fs = float(trial_data["Standards"]["INDIP"]["Fs"])
            ics = [np.asarray(b["Stride_InitialContacts"], float).reshape(-1, 2) for b in bouts]
            lengths = [np.asarray(b["Stride_Length"], float).reshape(-1) for b in bouts]
            trials[f"{test}/{trial}"] = {
                "acc_g": np.asarray(back["Acc"], dtype=np.float64),
                "gyr_dps": np.asarray(back["Gyr"], dtype=np.float64),
                "fs": float(back["Fs"]["Acc"]),
                "bouts": [{k: float(b[k]) for k in keys} for b in bouts],
                "strides": np.column_stack(
                    [np.concatenate(ics)[:, 0] / ref_fs, np.concatenate(lengths)]
                ),
            }
    return trials


def sensor_height_m(data_dir: Path) -> float:
    """The participant's sensor height above the floor (m), from ``participant.json``."""
    text = (data_dir / "mobgap_lowerback" / "HA001" / "participant.json").read_text()
    return float(json.loads(text)["sensor_height_m"])


# -- phases (each runs in its own interpreter) ---------------------------------------------------
def _peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (bytes; ``ru_maxrss`` is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _timed(run: Callable[[], Strides]) -> dict[str, Any]:
    """Run ``run`` once cold and ``WARM_REPEATS`` times warm; its strides and the timings."""
    base = _peak_rss_bytes()
    start = time.perf_counter()
    strides = run()
    cold = time.perf_counter() - start
    warm = []
    for _ in range(WARM_REPEATS):
        start = time.perf_counter()
        run()
        warm.append(time.perf_counter() - start)
    return {
        "cold_s": cold,
        "warm_s": warm,
        "peak_bytes": _peak_rss_bytes() - base,
        "base_bytes": base,
        "strides": strides,
    }


def phase_psoas_foot(data_dir: Path) -> dict[str, Any]:
    """psoas' foot pipeline on both feet; strides as ``[start_s, end_s, length_m]``."""
    from analysis.foot_stride import foot_strides

    imu = load_foot_imu(data_dir)
    t_ns = np.round(imu.index.to_numpy() / FOOT_RATE_HZ * NS_PER_S).astype(np.int64)
    inputs = {
        foot: (
            imu[sensor][["acc_x", "acc_y", "acc_z"]].to_numpy() / G_MPS2,
            imu[sensor][["gyr_x", "gyr_y", "gyr_z"]].to_numpy(),
        )
        for foot, sensor in FOOT_SENSORS.items()
    }

    def run() -> Strides:
        out = {}
        for foot, (acc, gyr) in inputs.items():
            found = foot_strides(t_ns, acc, gyr, FOOT_RATE_HZ, foot=foot)
            out[foot] = np.column_stack(
                [
                    found["t"].to_numpy() / NS_PER_S,
                    found["end_t"].to_numpy() / NS_PER_S,
                    found["stride_length_m"].to_numpy(),
                ]
            ).tolist()
        return out

    return _timed(run)


def phase_gaitmap(data_dir: Path, kalman: bool) -> dict[str, Any]:
    """gaitmap's MaD pipeline (``kalman``: with the RTS Kalman trajectory) on both feet."""
    from gaitmap.event_detection import RamppEventDetection
    from gaitmap.parameters import SpatialParameterCalculation, TemporalParameterCalculation
    from gaitmap.preprocessing import sensor_alignment
    from gaitmap.stride_segmentation import BarthDtw
    from gaitmap.trajectory_reconstruction import (
        RegionLevelTrajectory,
        RtsKalman,
        StrideLevelTrajectory,
    )
    from gaitmap.utils.coordinate_conversion import convert_to_fbf

    data = load_foot_imu(data_dir)
    data.index = data.index / FOOT_RATE_HZ  # seconds, as gaitmap's example-data loader does
    fs = FOOT_RATE_HZ
    whole = pd.DataFrame({"start": [0], "end": [len(data)]}).rename_axis("gs_id")

    def run() -> Strides:
        aligned = sensor_alignment.align_dataset_to_gravity(data, fs)
        body = convert_to_fbf(aligned, left_like="left_", right_like="right_")
        segmentation = BarthDtw().segment(data=body, sampling_rate_hz=fs)
        events = RamppEventDetection().detect(
            data=body, stride_list=segmentation.stride_list_, sampling_rate_hz=fs
        )
        stride_events = events.min_vel_event_list_
        if kalman:
            trajectory = RegionLevelTrajectory(
                trajectory_method=RtsKalman(), ori_method=None, pos_method=None
            ).estimate_intersect(
                data=data,
                regions_of_interest={sensor: whole for sensor in FOOT_SENSORS.values()},
                stride_event_list=stride_events,
                sampling_rate_hz=fs,
            )
        else:
            trajectory = StrideLevelTrajectory().estimate(
                data=data, stride_event_list=stride_events, sampling_rate_hz=fs
            )
        TemporalParameterCalculation().calculate(
            stride_event_list=stride_events, sampling_rate_hz=fs
        )
        spatial = SpatialParameterCalculation().calculate(
            stride_event_list=stride_events,
            positions=trajectory.position_,
            orientations=trajectory.orientation_,
            sampling_rate_hz=fs,
        )
        out = {}
        for foot, sensor in FOOT_SENSORS.items():
            ev = stride_events[sensor]
            length = spatial.parameters_[sensor]["stride_length"].reindex(ev.index)
            out[foot] = np.column_stack(
                [ev["start"].to_numpy() / fs, ev["end"].to_numpy() / fs, length.to_numpy()]
            ).tolist()
        return out

    result = _timed(run)
    result["versions"] = {p: importlib.metadata.version(p) for p in ("gaitmap", "gaitmap-mad")}
    return result


def phase_psoas_back(data_dir: Path) -> dict[str, Any]:
    """psoas' lower-back pipeline per trial; strides as ``[start_s, length_m, cadence_spm]``."""
    from analysis.trunk_stride import trunk_strides

    trials = load_back_trials(data_dir)
    height = sensor_height_m(data_dir)
    inputs = {
        name: (
            np.round(np.arange(len(tr["acc_g"])) / tr["fs"] * NS_PER_S).astype(np.int64),
            tr["acc_g"],
            tr["gyr_dps"],
            tr["fs"],
        )
        for name, tr in trials.items()
    }

    def run() -> Strides:
        out = {}
        for name, (t_ns, acc, gyr, fs) in inputs.items():
            found = trunk_strides(t_ns, acc, gyr, fs, height)
            out[name] = np.column_stack(
                [
                    found["t"].to_numpy() / NS_PER_S,
                    found["stride_length_m"].to_numpy(),
                    found["cadence_spm"].to_numpy(),
                ]
            ).tolist()
        return out

    return _timed(run)


def phase_mobgap(data_dir: Path) -> dict[str, Any]:
    """mobgap's ``MobilisedPipelineHealthy`` per trial; strides as in :func:`phase_psoas_back`."""
    from mobgap.data import GaitDatasetFromData, GenericMobilisedDataset
    from mobgap.pipeline import MobilisedPipelineHealthy

    with tempfile.TemporaryDirectory(prefix="psoas-gait-") as tmp:
        # mobgap takes the cohort and participant from the folder names: <cohort>/<id>/data.mat
        folder = Path(tmp) / "HA" / "001"
        folder.mkdir(parents=True)
        for name in ("data.mat", "infoForAlgo.mat"):
            (folder / name).symlink_to(data_dir / "mobgap_lowerback" / "HA001" / name)
        dataset = GenericMobilisedDataset(
            [folder / "data.mat"],
            test_level_names=GenericMobilisedDataset.COMMON_TEST_LEVEL_NAMES["tvs_lab"],
            parent_folders_as_metadata=["cohort", "participant_id"],
            measurement_condition="laboratory",
        )
        loaded = {}
        for trial in dataset:
            label = trial.group_label
            loaded[f"{label.test}/{label.trial}"] = (
                {"LowerBack": trial.data_ss},
                trial.sampling_rate_hz,
                dict(trial.participant_metadata),
                dict(trial.recording_metadata),
            )
    names = list(loaded)
    in_memory = GaitDatasetFromData(
        {name: v[0] for name, v in loaded.items()},
        {name: v[1] for name, v in loaded.items()},
        {name: v[2] for name, v in loaded.items()},
        {name: v[3] for name, v in loaded.items()},
        index_cols=["trial"],
    )
    datapoints = {name: in_memory.get_subset(trial=name) for name in names}

    def run() -> Strides:
        out = {}
        for name, datapoint in datapoints.items():
            pipe = MobilisedPipelineHealthy().safe_run(datapoint)
            found = pipe.per_stride_parameters_
            out[name] = np.column_stack(
                [
                    found["start"].to_numpy() / datapoint.sampling_rate_hz,
                    found["stride_length_m"].to_numpy(),
                    found["cadence_spm"].to_numpy(),
                ]
            ).tolist()
        return out

    result = _timed(run)
    result["versions"] = {"mobgap": importlib.metadata.version("mobgap")}
    return result


def run_phase(name: str, data_dir: Path) -> dict[str, Any]:
    """Run phase ``name`` in this interpreter and return its measurements."""
    warnings.simplefilter("ignore")  # the peers warn about sklearn pickles, cohorts, ...
    if name == "psoas-foot":
        result = phase_psoas_foot(data_dir)
    elif name in ("gaitmap", "gaitmap-rts"):
        result = phase_gaitmap(data_dir, kalman=name == "gaitmap-rts")
    elif name == "psoas-back":
        result = phase_psoas_back(data_dir)
    elif name == "mobgap":
        result = phase_mobgap(data_dir)
    else:
        raise ValueError(f"unknown phase {name!r}")
    result["numpy"], result["pandas"] = np.__version__, pd.__version__
    return result


def spawn_phase(name: str, data_dir: Path, peers_python: Path, work: Path) -> dict[str, Any]:
    """Run phase ``name`` in a fresh interpreter (the peers' one for a peer) and return it."""
    python = str(peers_python) if name in PEER_PHASES else sys.executable
    out = work / f"{name}.json"
    cmd = [python, str(Path(__file__).resolve()), "--phase", name, "--data", str(data_dir)]
    cmd += ["--result", str(out)]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


# -- accuracy ------------------------------------------------------------------------------------
def foot_reference(data_dir: Path) -> dict[str, pd.DataFrame]:
    """Per foot the reference strides: ``start_s``, ``end_s``, ``length_m`` (heel marker)."""
    folder = data_dir / "gaitmap_foot"
    events = pd.read_csv(folder / "stride_events_sample.csv")
    mocap = pd.read_csv(folder / "mocap_sample.csv", header=[0, 1], index_col=0)
    mocap_t = mocap.index.to_numpy() / MOCAP_RATE_HZ
    out = {}
    for foot, marker in HEEL_MARKERS.items():
        ev = events[events["foot"] == foot]
        start_s = ev["start"].to_numpy() / FOOT_RATE_HZ
        end_s = ev["end"].to_numpy() / FOOT_RATE_HZ
        xy = [mocap[marker][axis].to_numpy() / 1000.0 for axis in ("x", "y")]
        dx, dy = (np.interp(end_s, mocap_t, c) - np.interp(start_s, mocap_t, c) for c in xy)
        out[foot] = pd.DataFrame({"start_s": start_s, "end_s": end_s, "length_m": np.hypot(dx, dy)})
    return out


def match_strides(reference_s: np.ndarray, detected_s: np.ndarray) -> list[tuple[int, int]]:
    """One-to-one pairs (reference, detected) of starts within ``MATCH_S``, nearest first."""
    diff = np.abs(reference_s[:, None] - detected_s[None, :])
    ref_i, det_i = np.nonzero(diff <= MATCH_S)
    pairs, used_ref, used_det = [], set(), set()
    for k in np.argsort(diff[ref_i, det_i], kind="stable"):
        r, d = int(ref_i[k]), int(det_i[k])
        if r not in used_ref and d not in used_det:
            pairs.append((r, d))
            used_ref.add(r)
            used_det.add(d)
    return sorted(pairs)


def foot_matches(strides: Strides, reference: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The matched strides: ``foot``, ``ref`` (reference row), ``ref_m`` and ``est_m`` (m)."""
    parts = []
    for foot, ref in reference.items():
        found = np.asarray(strides[foot], dtype=np.float64).reshape(-1, 3)
        found = found[np.isfinite(found[:, 2])]
        pairs = np.asarray(match_strides(ref["start_s"].to_numpy(), found[:, 0]), int)
        pairs = pairs.reshape(-1, 2)
        parts.append(
            pd.DataFrame(
                {
                    "foot": foot,
                    "ref": pairs[:, 0],
                    "ref_m": ref["length_m"].to_numpy()[pairs[:, 0]],
                    "est_m": found[pairs[:, 1], 2],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def error_figures(matches: pd.DataFrame, n_ref: int, n_detected: int) -> dict[str, Any]:
    """Counts, mean absolute error (cm and % of the reference), bias and largest error (cm)."""
    err = matches["est_m"].to_numpy() - matches["ref_m"].to_numpy()
    ref = matches["ref_m"].to_numpy()
    nan = float("nan")
    return {
        "reference": n_ref,
        "detected": n_detected,
        "matched": len(err),
        "mae_cm": float(np.mean(np.abs(err))) * 100 if len(err) else nan,
        "mae_pct": float(np.mean(np.abs(err) / ref)) * 100 if len(err) else nan,
        "bias_cm": float(np.mean(err)) * 100 if len(err) else nan,
        "max_cm": float(np.max(np.abs(err))) * 100 if len(err) else nan,
    }


def foot_accuracy(strides: Strides, reference: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """:func:`error_figures` per foot and in total, and the matches themselves."""
    matches = foot_matches(strides, reference)
    detected = {
        foot: int(np.isfinite(np.asarray(strides[foot], float).reshape(-1, 3)[:, 2]).sum())
        for foot in reference
    }
    out: dict[str, Any] = {
        foot: error_figures(matches[matches["foot"] == foot], len(ref), detected[foot])
        for foot, ref in reference.items()
    }
    n_ref = sum(len(r) for r in reference.values())
    out["total"] = error_figures(matches, n_ref, sum(detected.values()))
    out["matches"] = matches
    return out


def common_foot(
    a: dict[str, Any], b: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """:func:`error_figures` of two pipelines on the reference strides both matched, and of the
    first on the strides only it matched."""
    ma, mb = a["matches"], b["matches"]
    keys = ma[["foot", "ref"]].merge(mb[["foot", "ref"]])
    n = len(keys)
    only_a = ma.merge(keys, how="left", indicator=True)
    only_a = only_a[only_a["_merge"] == "left_only"]
    return (
        error_figures(ma.merge(keys), n, n),
        error_figures(mb.merge(keys), n, n),
        error_figures(only_a, len(only_a), len(only_a)),
    )


def back_accuracy(strides: Strides, trials: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per INDIP bout (>= ``MIN_BOUT_STRIDES`` strides) the mean stride length and cadence of the
    strides starting in it and their absolute % errors (``bouts``), the MAPE over the bouts that
    got any (``length_mape``, ``cadence_mape``), and, as a diagnosis, the strides matched one to
    one to INDIP's strides by initial contact (``per_stride``)."""
    bouts, matches = [], []
    for name, trial in trials.items():
        found = np.asarray(strides.get(name, []), dtype=np.float64).reshape(-1, 3)
        for b in trial["bouts"]:
            if b["NumberStrides"] < MIN_BOUT_STRIDES:
                continue
            inside = found[(found[:, 0] >= b["Start"]) & (found[:, 0] <= b["End"])]
            length = inside[np.isfinite(inside[:, 1]), 1]
            cadence = inside[np.isfinite(inside[:, 2]), 2]
            mean_len = float(np.mean(length)) if len(length) else float("nan")
            mean_cad = float(np.mean(cadence)) if len(cadence) else float("nan")
            bouts.append(
                {
                    "trial": name,
                    "start_s": b["Start"],
                    "end_s": b["End"],
                    "ref_strides": int(b["NumberStrides"]),
                    "ref_length_m": b["AverageStrideLength"],
                    "ref_cadence_spm": b["Cadence"],
                    "strides": len(inside),
                    "length_m": mean_len,
                    "cadence_spm": mean_cad,
                    "length_ape": abs(mean_len / b["AverageStrideLength"] - 1) * 100,
                    "cadence_ape": abs(mean_cad / b["Cadence"] - 1) * 100,
                }
            )
        ref = trial["strides"][np.isfinite(trial["strides"][:, 1])]
        usable = found[np.isfinite(found[:, 1])]
        pairs = np.asarray(match_strides(ref[:, 0], usable[:, 0]), int).reshape(-1, 2)
        matches.append(
            pd.DataFrame(
                {
                    "trial": name,
                    "ref": pairs[:, 0],
                    "ref_m": ref[pairs[:, 0], 1],
                    "est_m": usable[pairs[:, 1], 1],
                }
            )
        )
    frame = pd.DataFrame(bouts)
    n_ref = sum(int(np.isfinite(t["strides"][:, 1]).sum()) for t in trials.values())
    n_found = sum(
        int(np.isfinite(np.asarray(v, float).reshape(-1, 3)[:, 1]).sum()) for v in strides.values()
    )
    return {
        "bouts": frame,
        **bout_figures(frame),
        "strides": sum(len(v) for v in strides.values()),
        "per_stride": error_figures(pd.concat(matches, ignore_index=True), n_ref, n_found),
        "stride_matches": pd.concat(matches, ignore_index=True),
    }


def bout_figures(bouts: pd.DataFrame) -> dict[str, Any]:
    """MAPE of the bouts' mean stride length and cadence over the bouts that got any stride."""
    return {
        "n_bouts": len(bouts),
        "n_length": int(bouts["length_ape"].notna().sum()),
        "n_cadence": int(bouts["cadence_ape"].notna().sum()),
        "length_mape": float(bouts["length_ape"].mean()),
        "cadence_mape": float(bouts["cadence_ape"].mean()),
        "length_bias_pct": float((bouts["length_m"] / bouts["ref_length_m"] - 1).mean() * 100),
    }


def common_back(a: dict[str, Any], b: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """:func:`bout_figures` of two pipelines on the bouts where both measured a stride length."""
    both = a["bouts"]["length_ape"].notna() & b["bouts"]["length_ape"].notna()
    return bout_figures(a["bouts"][both]), bout_figures(b["bouts"][both])


# -- the report ----------------------------------------------------------------------------------
def _run_helpers() -> Any:
    """``benchmarks/run.py`` (its machine line, table and doc writer), imported lazily: it needs
    psoas' own environment, which the peers' interpreter does not have."""
    try:  # run as a module (python -m benchmarks.gait) or as a script
        import benchmarks.run as helpers
    except ImportError:  # pragma: no cover - depends on how it is started
        import run as helpers  # type: ignore[no-redef]
    return helpers


def summarize_times(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Best cold and best warm time over a phase's runs, with every run's cold time."""
    return {
        "cold_s": min(r["cold_s"] for r in runs),
        "cold_runs": [r["cold_s"] for r in runs],
        "warm_s": min(min(r["warm_s"]) for r in runs),
        "peak_mb": max(r["peak_bytes"] for r in runs) / 1e6,
        "base_mb": max(r["base_bytes"] for r in runs) / 1e6,
    }


def _time_cell(t: dict[str, Any]) -> str:
    runs = ", ".join(f"{s:.3f}" for s in t["cold_runs"])
    return (
        f"{t['cold_s']:.3f} s cold (runs {runs}), {t['warm_s']:.3f} s warm; "
        f"peak RSS +{t['peak_mb']:.1f} MB over {t['base_mb']:.0f} MB after the imports"
    )


def _ratio_cell(peer: dict[str, Any], psoas: dict[str, Any]) -> tuple[str, bool]:
    cold, warm = peer["cold_s"] / psoas["cold_s"], peer["warm_s"] / psoas["warm_s"]
    return f"{cold:.1f} cold, {warm:.1f} warm", min(cold, warm) >= TARGET_SPEEDUP


def _foot_cell(acc: dict[str, Any]) -> str:
    return (
        f"{acc['matched']}/{acc['reference']} reference strides matched ({acc['detected']} "
        f"found); MAE {acc['mae_cm']:.2f} cm ({acc['mae_pct']:.2f} %), bias "
        f"{acc['bias_cm']:+.2f} cm, largest error {acc['max_cm']:.1f} cm"
    )


def _back_cell(acc: dict[str, Any]) -> str:
    return (
        f"stride length MAPE {acc['length_mape']:.1f} % over {acc['n_length']}/{acc['n_bouts']} "
        f"bouts (mean error {acc['length_bias_pct']:+.1f} %); cadence MAPE "
        f"{acc['cadence_mape']:.1f} % over {acc['n_cadence']}/{acc['n_bouts']}; "
        f"{acc['strides']} strides in all"
    )


def _stride_cell(acc: dict[str, Any]) -> str:
    return (
        f"{acc['matched']}/{acc['reference']} INDIP strides matched ({acc['detected']} found); "
        f"MAE {acc['mae_cm']:.1f} cm ({acc['mae_pct']:.1f} %), bias {acc['bias_cm']:+.1f} cm"
    )


def render(fig: dict[str, Any], machine: dict[str, str], command: str) -> str:
    """The figures as Markdown: heading, machine, the main table and the detail tables."""
    helpers = _run_helpers()
    times, foot, back = fig["times"], fig["foot"], fig["back"]
    rows: list[tuple[str, str, str, str]] = []
    for name in FOOT_PHASES:
        rows.append((f"Foot: {LABELS[name]}, time", _time_cell(times[name]), "report", ""))
    for peer in ("gaitmap", "gaitmap-rts"):
        cell, ok = _ratio_cell(times[peer], times["psoas-foot"])
        rows.append((f"Foot: {LABELS[peer]} time / psoas time", cell, "≥ 3", helpers.met(ok)))
    for name in FOOT_PHASES:
        cell = _foot_cell(foot[name]["total"])
        rows.append((f"Foot stride length vs heel marker: {LABELS[name]}", cell, "report", ""))
    p = foot["psoas-foot"]["total"]
    for peer in ("gaitmap", "gaitmap-rts"):
        q = foot[peer]["total"]
        cp, cq, _ = common_foot(foot["psoas-foot"], foot[peer])
        ok = p["matched"] >= q["matched"] and cp["mae_cm"] <= cq["mae_cm"]
        rows.append(
            (
                f"Foot: psoas at least as accurate as {LABELS[peer]}",
                f"on the {cp['matched']} strides both matched: MAE {cp['mae_cm']:.2f} vs "
                f"{cq['mae_cm']:.2f} cm ({cp['mae_pct']:.2f} vs {cq['mae_pct']:.2f} %), bias "
                f"{cp['bias_cm']:+.2f} vs {cq['bias_cm']:+.2f} cm; strides matched "
                f"{p['matched']} vs {q['matched']}",
                "MAE ≤ peer's on common strides; matched ≥ peer's",
                helpers.met(ok),
            )
        )
    for name in BACK_PHASES:
        rows.append((f"Lower back: {LABELS[name]}, time", _time_cell(times[name]), "report", ""))
    cell, ok = _ratio_cell(times["mobgap"], times["psoas-back"])
    rows.append(("Lower back: mobgap time / psoas time", cell, "≥ 3", helpers.met(ok)))
    for name in BACK_PHASES:
        cell = _back_cell(back[name])
        rows.append((f"Lower back vs INDIP bouts: {LABELS[name]}", cell, "report", ""))
    p, q = back["psoas-back"], back["mobgap"]
    cp, cq = common_back(p, q)
    ok = p["n_length"] >= q["n_length"] and cp["length_mape"] <= cq["length_mape"]
    rows.append(
        (
            "Lower back: psoas at least as accurate as mobgap (stride length)",
            f"on the {cp['n_length']} bouts both measured: MAPE {cp['length_mape']:.1f} vs "
            f"{cq['length_mape']:.1f} % (mean error {cp['length_bias_pct']:+.1f} vs "
            f"{cq['length_bias_pct']:+.1f} %); bouts measured {p['n_length']} vs {q['n_length']}",
            "MAPE ≤ mobgap's on common bouts; bouts ≥ mobgap's",
            helpers.met(ok),
        )
    )
    rows.append(
        (
            "Lower back: cadence, psoas vs mobgap",
            f"on the common bouts: MAPE {cp['cadence_mape']:.1f} vs {cq['cadence_mape']:.1f} %",
            "report",
            "",
        )
    )
    for name in BACK_PHASES:
        cell = _stride_cell(back[name]["per_stride"])
        rows.append((f"Lower back per stride (diagnosis): {LABELS[name]}", cell, "report", ""))
    versions = ", ".join(f"{k} {v}" for k, v in fig["versions"].items())
    intro = (
        f"Real recordings of `../shared/data`. Each pipeline runs in a fresh interpreter, "
        f"{fig['runs']} run(s) alternating the sides; best time; cold = the first call in the "
        "process, warm = "
        f"best of {WARM_REPEATS} more calls. Peers: {versions}, in `.venv-peers` (numpy "
        f"{fig['peer_numpy']}, pandas {fig['peer_pandas']}). Ratios = peer time / psoas time."
    )
    lines = [*SECTION_HEAD, "", *helpers.figures_markdown(command, intro, machine, rows)]
    lines += ["", "Foot stride length per foot (matched strides against the heel marker):", ""]
    lines += ["| Pipeline | Left | Right |", "|---|---|---|"]
    for name in FOOT_PHASES:
        cells = [_foot_cell(foot[name][f]) for f in ("left", "right")]
        lines.append(f"| {LABELS[name]} | {cells[0]} | {cells[1]} |")
    lines += [
        "",
        f"INDIP bouts with ≥ {MIN_BOUT_STRIDES} strides: mean stride length (m) / cadence "
        "(steps/min) of the strides starting in the bout, absolute % error, number of strides:",
        "",
        "| Trial | Bout (s) | INDIP (strides) | psoas | mobgap |",
        "|---|---|---|---|---|",
    ]
    pairs = zip(p["bouts"].itertuples(), q["bouts"].itertuples(), strict=True)
    for a, b in pairs:
        cells = [
            "none"
            if not c.strides
            else f"{c.length_m:.2f} ({c.length_ape:.0f} %) / {c.cadence_spm:.0f} "
            f"({c.cadence_ape:.0f} %), {c.strides}"
            for c in (a, b)
        ]
        lines.append(
            f"| {a.trial} | {a.start_s:.1f}–{a.end_s:.1f} | {a.ref_length_m:.2f} / "
            f"{a.ref_cadence_spm:.0f} ({a.ref_strides}) | {cells[0]} | {cells[1]} |"
        )
    lines += [
        "",
        f"Lower back per stride (diagnosis): strides matched to INDIP's by initial contact "
        f"(within {MATCH_S} s), by INDIP's stride length:",
        "",
        f"| Pipeline | INDIP stride < {SHORT_STRIDE_M} m | INDIP stride ≥ {SHORT_STRIDE_M} m |",
        "|---|---|---|",
    ]
    for name in BACK_PHASES:
        m = back[name]["stride_matches"]
        cells = [
            _class_cell(m[m["ref_m"] < SHORT_STRIDE_M]),
            _class_cell(m[m["ref_m"] >= SHORT_STRIDE_M]),
        ]
        lines.append(f"| {LABELS[name]} | {cells[0]} | {cells[1]} |")
    lines += ["", *_notes(fig)]
    return "\n".join(lines) + "\n"


def _class_cell(matches: pd.DataFrame) -> str:
    f = error_figures(matches, len(matches), len(matches))
    if not f["matched"]:
        return "none"
    bias_pct = float(np.mean(matches["est_m"] / matches["ref_m"] - 1)) * 100
    return (
        f"{f['matched']} strides: MAE {f['mae_cm']:.1f} cm, bias {f['bias_cm']:+.1f} cm "
        f"({bias_pct:+.1f} %)"
    )


def _notes(fig: dict[str, Any]) -> list[str]:
    """What the tables say about where psoas wins and loses (computed, not written by hand)."""
    foot, back = fig["foot"], fig["back"]
    ref = fig["foot_reference"]
    psoas_only = common_foot(foot["psoas-foot"], foot["gaitmap"])[2]
    m_ps, m_gm = foot["psoas-foot"]["matches"], foot["gaitmap"]["matches"]
    only_rows = m_ps.merge(m_gm[["foot", "ref"]], how="left", indicator=True)
    only_rows = only_rows[only_rows["_merge"] == "left_only"]
    listed = ", ".join(
        f"{r.foot} {ref[r.foot]['start_s'].iloc[r.ref]:.1f} s ({r.ref_m:.2f} m: "
        f"{(r.est_m - r.ref_m) * 100:+.1f} cm)"
        for r in only_rows.itertuples()
    )
    worst = foot["psoas-foot"]["total"]["max_cm"]
    notes = [
        f"**Foot.** The {psoas_only['matched']} reference strides that psoas matched and "
        f"gaitmap's pipeline did not (start, reference length: psoas' error): {listed}. "
        f"On them psoas' MAE is {psoas_only['mae_cm']:.1f} cm"
        + ("; psoas' largest error is one of them." if psoas_only["max_cm"] >= worst else ".")
    ]
    rts = fig["times"]["gaitmap-rts"]
    timing = (
        f"**Timing.** The 1-minute load average was {fig['load'][0]:.2f} at the start and "
        f"{fig['load'][1]:.2f} at the end on {os.cpu_count()} cores: single timings are noisy."
    )
    if rts["cold_s"] > 10 * rts["warm_s"]:
        timing += (
            f" gaitmap's `RtsKalman` variant takes {rts['cold_s']:.1f} s cold and "
            f"{rts['warm_s']:.2f} s warm: its numba Kalman functions are compiled in every new "
            "process (`@njit()` without `cache=True`); the MaD pipeline's numba functions are "
            "cached on disk by the untimed first run."
        )
    notes += ["", timing]
    p, q = back["psoas-back"], back["mobgap"]
    cp, cq = common_back(p, q)
    if cp["length_mape"] > cq["length_mape"]:
        mp, mq = p["stride_matches"], q["stride_matches"]
        long_p = mp[mp["ref_m"] >= SHORT_STRIDE_M]
        long_q = mq[mq["ref_m"] >= SHORT_STRIDE_M]
        ratio_p = float(np.mean(long_p["est_m"] / long_p["ref_m"]))
        ratio_q = float(np.mean(long_q["est_m"] / long_q["ref_m"]))
        notes += [
            "",
            f"**Lower back: where psoas loses.** (1) Normal strides (INDIP ≥ {SHORT_STRIDE_M} "
            f"m): psoas reports on average {ratio_p:.2f}x INDIP's length, mobgap "
            f"{ratio_q:.2f}x. Both use Zijlstra & Hof's inverted pendulum with a correction "
            "factor K; psoas' K is the paper's 1.25, mobgap's `SlZijlstra` default is 4.587 / 4 "
            f"= 1.147 (1.25 / 1.147 = 1.09; psoas / mobgap here: {ratio_p / ratio_q:.2f}). "
            f"(2) Short strides (turns, shuffling, INDIP < {SHORT_STRIDE_M} m) are "
            "overestimated by both pendulum models. (3) In the bouts with turns psoas' bout "
            "detection keeps only the regular, straight part, whose strides are long: the "
            "bout's mean then exceeds INDIP's, which includes the short turning strides (the "
            "bouts where psoas has fewer strides than INDIP in the bout table).",
        ]
    return notes


# -- command line --------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="psoas gait benchmark: stride length against gaitmap and mobgap."
    )
    parser.add_argument(
        "--data", type=Path, default=DATA, help=f"the shared data folder (default {DATA})"
    )
    parser.add_argument(
        "--peers-python",
        type=Path,
        default=PEERS_PYTHON,
        help=f"interpreter with {', '.join(PEER_PACKAGES)} (default {PEERS_PYTHON})",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"one timed run per pipeline instead of {RUNS}"
    )
    parser.add_argument(
        "--write-doc",
        action="store_true",
        help=f"rewrite the figures between the markers of {DOC.relative_to(REPO)}",
    )
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.phase:
        args.result.write_text(json.dumps(run_phase(args.phase, args.data)))
        return 0
    if not args.peers_python.exists():
        raise SystemExit(
            f"{args.peers_python} is missing: python3 -m venv .venv-peers && "
            f".venv-peers/bin/pip install {' '.join(PEER_PACKAGES)}"
        )
    helpers = _run_helpers()
    load_start = os.getloadavg()[0]
    n_runs = 1 if args.quick else RUNS
    with tempfile.TemporaryDirectory(prefix="psoas-gait-bench-") as tmp:
        work = Path(tmp)
        machine = helpers.machine_info(work)
        print("warm-up (untimed) ...", file=sys.stderr, flush=True)
        first = {name: spawn_phase(name, args.data, args.peers_python, work) for name in PHASES}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in PHASES}
        for k in range(n_runs):
            print(f"run {k + 1}/{n_runs} ...", file=sys.stderr, flush=True)
            for group in (FOOT_PHASES, BACK_PHASES):
                for name in group if k % 2 == 0 else reversed(group):
                    runs[name].append(spawn_phase(name, args.data, args.peers_python, work))
    for name in PHASES:  # every run must find the same strides
        if any(r["strides"] != first[name]["strides"] for r in runs[name]):
            raise SystemExit(f"{name}: the strides differ between runs")
    reference = foot_reference(args.data)
    trials = load_back_trials(args.data)
    figures = {
        "times": {name: summarize_times(runs[name]) for name in PHASES},
        "foot": {name: foot_accuracy(first[name]["strides"], reference) for name in FOOT_PHASES},
        "back": {name: back_accuracy(first[name]["strides"], trials) for name in BACK_PHASES},
        "versions": {**first["gaitmap"]["versions"], **first["mobgap"]["versions"]},
        "peer_numpy": first["gaitmap"]["numpy"],
        "peer_pandas": first["gaitmap"]["pandas"],
        "foot_reference": reference,
        "load": (load_start, os.getloadavg()[0]),
        "runs": n_runs,
    }
    command = ".venv/bin/python benchmarks/gait.py" + (" --quick" if args.quick else "")
    report = render(figures, machine, command)
    helpers.publish(report, args.write_doc, DOC, (START_MARKER, END_MARKER))
    return 0


if __name__ == "__main__":
    sys.exit(main())
