# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Stride length from a real foot IMU, checked against motion capture
#
# A shoe-mounted IMU (accelerometer + gyroscope) can measure every stride's length: the foot
# stands still once per stride, so the velocity is known to be zero there, and the
# acceleration in between can be integrated twice without drifting away (a *zero-velocity
# update* strapdown, `analysis.foot_stride.foot_strides`).
#
# This notebook runs it on a **real recording**: the gaitmap example data, a healthy adult
# walking 2 × 20 m with an IMU on each shoe (204.8 Hz) while an optical motion-capture system
# (100 Hz) tracked markers on the shoes. The reference stride length is the horizontal
# displacement of the heel marker between the stride events labelled from the motion capture.
# We compute that reference here, from the marker trajectories, match psoas' strides to the
# reference strides by time, and report the error per foot.

# %%
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

import analysis
from analysis.foot_stride import foot_strides

G = 9.80665  # m/s² per g
IMU_HZ = 204.8
MOCAP_HZ = 100.0
NS = 1_000_000_000


def repo_root() -> Path:
    """The psoas repository: the first folder with psoas' pyproject.toml, from the working
    directory upwards, else above the installed ``analysis`` package (so that the notebook
    finds its data wherever it is run from)."""
    for start in (Path.cwd().resolve(), Path(analysis.__file__).resolve().parent):
        for folder in (start, *start.parents):
            project = folder / "pyproject.toml"
            if project.is_file() and 'name = "psoas"' in project.read_text():
                return folder
    raise FileNotFoundError("cannot find the psoas repository (its pyproject.toml)")


DATA = repo_root().parent / "shared" / "data" / "gaitmap_foot"
FILES = {name: DATA / f"{name}_sample.csv" for name in ("imu", "mocap", "stride_events")}
missing = [str(path) for path in FILES.values() if not path.is_file()]
if missing:
    raise FileNotFoundError(
        "this notebook needs the real gaitmap recordings, missing: "
        + ", ".join(missing)
        + " (expected in ../shared/data/gaitmap_foot beside the repository; see "
        "../shared/data/README.md)"
    )
print(f"data: {DATA}")

# %% [markdown]
# ## 1. Load the recording
#
# The IMU file has two header rows (sensor, axis): acceleration in m/s², angular rate in deg/s,
# already in the foot frame (x forward, z up). The motion capture gives marker positions in mm.
# The stride events are in IMU sample numbers; each reference stride runs from `start` to
# `end` (both at mid-stance, the foot's minimum velocity).

# %%
imu = pd.read_csv(FILES["imu"], header=[0, 1], index_col=0)
mocap = pd.read_csv(FILES["mocap"], header=[0, 1], index_col=0)
events = pd.read_csv(FILES["stride_events"])
print(f"IMU: {len(imu)} samples = {len(imu) / IMU_HZ:.1f} s at {IMU_HZ} Hz")
print(f"motion capture: {len(mocap)} frames = {len(mocap) / MOCAP_HZ:.1f} s at {MOCAP_HZ:g} Hz")
print("reference strides per foot:", events["foot"].value_counts().to_dict())
events.head()

# %% [markdown]
# ## 2. Strides from the IMU
#
# `foot_strides` wants times in ns, acceleration in g and angular rate in deg/s. It reports the
# **heel's** displacement (the clinical definition, and what the heel marker measures); the
# lever arm from the sensor to the heel is estimated from the recording itself (the foot pivots
# about its heel just after heel strike), never from the motion capture.

# %%
t_ns = np.round(np.arange(len(imu)) / IMU_HZ * NS).astype(np.int64)
strides = {}
for side in ("left", "right"):
    sensor = imu[f"{side}_sensor"]
    acc_g = sensor[["acc_x", "acc_y", "acc_z"]].to_numpy() / G
    gyro_dps = sensor[["gyr_x", "gyr_y", "gyr_z"]].to_numpy()
    strides[side] = foot_strides(t_ns, acc_g, gyro_dps, IMU_HZ, foot=side)
    print(f"{side:>5}: {len(strides[side])} strides; {strides[side].attrs['heel_lever_note']}")
strides["right"].head()

# %% [markdown]
# What a stride looks like: the right foot's angular rate about its lateral axis (the foot
# rolling heel to toe) for the first 12 s, with the reference stride starts (motion capture)
# and psoas' stride starts (zero-velocity moments found in the IMU data).

# %%
window = t_ns < 12 * NS
fig = go.Figure(
    go.Scatter(
        x=t_ns[window] / NS,
        y=imu["right_sensor"]["gyr_y"].to_numpy()[window],
        name="gyr_y (deg/s)",
        line={"width": 1},
    )
)
ref_right = events[events["foot"] == "right"]
for i, t in enumerate(ref_right["start"] / IMU_HZ):
    if t < 12:
        fig.add_vline(
            x=t, line_color="green", line_dash="dot", showlegend=i == 0, name="reference start"
        )
for i, t in enumerate(strides["right"]["t"] / NS):
    if t < 12:
        fig.add_vline(
            x=t, line_color="red", line_dash="dash", showlegend=i == 0, name="psoas start"
        )
fig.update_layout(
    title="Right foot: angular rate and stride starts", xaxis_title="time (s)", yaxis_title="deg/s"
)
fig.show()

# %% [markdown]
# ## 3. The motion-capture reference
#
# The heel marker (`L_FCC` / `R_FCC`, on the calcaneus) is interpolated at the stride events'
# times; the reference stride length is its horizontal displacement. We also compute how much
# the foot turned during each stride (direction heel → toe marker), to recognise the turns at
# the end of the 20 m walkway.


# %%
def marker_xy_m(marker: str, t_s: np.ndarray) -> np.ndarray:
    """Horizontal position (m) of a marker at times ``t_s`` (s), from the 100 Hz mocap."""
    frames_s = np.arange(len(mocap)) / MOCAP_HZ
    xy_m = mocap[marker][["x", "y"]].to_numpy() / 1000.0
    return np.column_stack([np.interp(t_s, frames_s, xy_m[:, k]) for k in range(2)])


reference = {}
for side in ("left", "right"):
    heel, toe = ("L_FCC", "L_TOE") if side == "left" else ("R_FCC", "R_TOE")
    ref = events[events["foot"] == side].reset_index(drop=True)
    start_s, end_s = ref["start"].to_numpy() / IMU_HZ, ref["end"].to_numpy() / IMU_HZ
    length_m = np.linalg.norm(marker_xy_m(heel, end_s) - marker_xy_m(heel, start_s), axis=1)

    def heading_deg(t_s, heel=heel, toe=toe):
        d = marker_xy_m(toe, t_s) - marker_xy_m(heel, t_s)
        return np.degrees(np.arctan2(d[:, 1], d[:, 0]))

    turn_deg = np.abs((heading_deg(end_s) - heading_deg(start_s) + 180.0) % 360.0 - 180.0)
    reference[side] = pd.DataFrame(
        {"start_s": start_s, "end_s": end_s, "length_m": length_m, "turn_deg": turn_deg}
    )
    print(
        f"{side:>5}: {len(ref)} reference strides, {reference[side]['length_m'].min():.2f}–"
        f"{reference[side]['length_m'].max():.2f} m, "
        f"{int((turn_deg >= 90).sum())} turning 90° or more"
    )

# %% [markdown]
# ## 4. Match psoas' strides to the reference strides
#
# A psoas stride matches a reference stride when they overlap in time by at least half of each
# (both start and end at mid-stance, so matched strides coincide closely). Then the error per
# stride, its mean absolute value in % (MAE) and its mean (bias).

# %%
rows = []
for side in ("left", "right"):
    ours = strides[side]
    ours_start, ours_end = ours["t"].to_numpy() / NS, ours["end_t"].to_numpy() / NS
    for k, ref in reference[side].iterrows():
        overlap = np.minimum(ours_end, ref["end_s"]) - np.maximum(ours_start, ref["start_s"])
        j = int(np.argmax(overlap)) if len(overlap) else -1
        matched = (
            j >= 0
            and overlap[j] >= 0.5 * (ref["end_s"] - ref["start_s"])
            and overlap[j] >= 0.5 * (ours_end[j] - ours_start[j])
        )
        rows.append(
            {
                "foot": side,
                "stride": k,
                "t_s": ref["start_s"],
                "reference_m": ref["length_m"],
                "turn_deg": ref["turn_deg"],
                "psoas_m": ours["stride_length_m"].iloc[j] if matched else np.nan,
            }
        )
compared = pd.DataFrame(rows)
compared["error_m"] = compared["psoas_m"] - compared["reference_m"]
compared["error_pct"] = 100 * compared["error_m"] / compared["reference_m"]

results = {}
for side in ("left", "right"):
    c = compared[compared["foot"] == side]
    found = c["psoas_m"].notna()
    mae = float(c.loc[found, "error_pct"].abs().mean())
    bias_cm = float(100 * c.loc[found, "error_m"].mean())
    results[side] = (mae, bias_cm)
    print(
        f"{side} foot: {int(found.sum())}/{len(c)} reference strides matched, "
        f"MAE {mae:.2f} %, bias {bias_cm:+.2f} cm, "
        f"max |error| {c.loc[found, 'error_pct'].abs().max():.1f} %"
    )
    for _, row in c[~found].iterrows():
        print(
            f"  not matched one-to-one: stride {row['stride']} at {row['t_s']:.1f} s "
            f"(turn {row['turn_deg']:.0f}°, heel moved {row['reference_m']:.2f} m)"
        )

# %% [markdown]
# The one stride not matched one-to-one is the left foot's turn at the end of the walkway
# (printed above): the foot came to rest in the middle of the turn, so psoas (correctly, from
# the IMU's point of view) saw two short strides where the motion-capture labels have one. The test suite
# (tests/test_foot_stride.py) chains such strides with their heading changes; here we simply
# leave it out and say so.
#
# ## 5. Estimate against reference

# %%
compared["turning"] = np.where(compared["turn_deg"] >= 90, "turn ≥ 90°", "straight / < 90°")
fig = make_subplots(rows=1, cols=2, subplot_titles=("psoas vs motion capture", "error per stride"))
for side, color in (("left", "#1f77b4"), ("right", "#d62728")):
    c = compared[(compared["foot"] == side) & compared["psoas_m"].notna()]
    fig.add_trace(
        go.Scatter(
            x=c["reference_m"],
            y=c["psoas_m"],
            mode="markers",
            name=f"{side} foot",
            marker={"color": color},
            text=c["turning"],
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=c["t_s"],
            y=c["error_pct"],
            mode="markers+lines",
            name=f"{side} error",
            marker={"color": color},
            showlegend=False,
        ),
        row=1,
        col=2,
    )
lo, hi = compared["reference_m"].min() - 0.05, compared["reference_m"].max() + 0.05
fig.add_trace(
    go.Scatter(
        x=[lo, hi],
        y=[lo, hi],
        mode="lines",
        name="identity",
        line={"color": "gray", "dash": "dash"},
    ),
    row=1,
    col=1,
)
fig.add_hline(y=0, line_color="gray", row=1, col=2)
fig.update_xaxes(title_text="heel marker (m)", row=1, col=1)
fig.update_yaxes(title_text="psoas, heel (m)", row=1, col=1)
fig.update_xaxes(title_text="stride start (s)", row=1, col=2)
fig.update_yaxes(title_text="error (%)", row=1, col=2)
fig.update_layout(title="Stride length, gaitmap sample (2 × 20 m walk)")
fig.show()

# %%
fig = px.histogram(
    compared.dropna(subset=["psoas_m"]),
    x="error_pct",
    color="foot",
    barmode="overlay",
    nbins=20,
    title="Distribution of stride-length errors",
    labels={"error_pct": "error (%)"},
)
fig.show()

# %% [markdown]
# ## What to take away
#
# - On this real walk psoas measures stride length from a shoe IMU to within about 2–3 % of the
#   motion capture on average, with a bias of a centimetre or two.
# - The largest errors are in the turns, where "stride length" itself depends on which point of
#   the foot you follow (heel, toe and 5th metatarsal move by visibly different distances).
# - This is one person on one walk. docs/gait.md lists every accuracy check psoas has.
