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
# # Importing your own FIT files
#
# Garmin watches (and many others) export activities and all-day monitoring logs as FIT files.
# This notebook imports a few real ones into a **temporary** psoas store, runs the same analysis
# `psoas analyze` runs, looks at the strides, the weekly stride table and the daily summary,
# and shows what happens with a damaged file.
#
# From the command line the same is:
#
# ```sh
# psoas --home /tmp/fit-demo import ../shared/data/fit/*.fit --tz Europe/Berlin
# psoas --home /tmp/fit-demo analyze
# psoas --home /tmp/fit-demo trends
# ```
#
# `psoas import` (psoas/importing.py) calls `sensors.importers.import_file` once per file —
# each file one all-or-nothing ingest — and so do we here.

# %%
import tempfile
from pathlib import Path

import pandas as pd
import plotly.express as px

import analysis
from analysis.pipeline import analyze
from sensors.errors import PsoasError
from sensors.importers import ImportOptions, import_file
from sensors.store import Store

pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 20)
TZ = "Europe/Berlin"


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


FIT = repo_root().parent / "shared" / "data" / "fit"
VALID = [
    FIT / "garmin-fenix-5-walk.fit",  # a walk: step length measured by the watch
    FIT / "garmin-fenix-5-run.fit",  # a run: the same
    FIT / "activity-small-fenix2-run.fit",  # a longer run: no step length, only speed + cadence
    FIT / "MonitoringFile.fit",  # a day and a half of all-day monitoring (activity type)
]
CORRUPT = FIT / "invalid" / "activity-unexpected-eof.fit"  # a truncated file
missing = [str(p) for p in (*VALID, CORRUPT) if not p.is_file()]
if missing:
    raise FileNotFoundError(
        "this notebook needs the real FIT files, missing: "
        + ", ".join(missing)
        + " (expected in ../shared/data/fit beside the repository; see ../shared/data/README.md)"
    )
print(f"data: {FIT}")


def local(t_ns):
    """UTC nanoseconds (the store's time base) as local wall-clock times."""
    return pd.to_datetime(t_ns, utc=True).dt.tz_convert(TZ)


# %% [markdown]
# ## 1. A temporary store
#
# A psoas store is a folder: Parquet parts for the data, a SQLite catalog. Normally it lives in
# your user data directory (`~/.local/share/psoas`); here a temporary folder, deleted at the
# end, so that nothing of yours is touched.

# %%
workdir = tempfile.TemporaryDirectory(prefix="psoas-fit-")
store = Store.open(Path(workdir.name) / "store")
print(f"store: {store.home}")

# %% [markdown]
# ## 2. Import
#
# Files are recognised by their content, not their name. The importer reports what it decided:
# the file type, the device, and where the stride length comes from (measured by the watch, or
# derived from speed × 120 / cadence and named so).

# %%
options = ImportOptions(tz=TZ)
for path in VALID:
    report = import_file(store, path, options)
    r = report.result
    print(
        f"{path.name}: {report.importer}, {r.new_metric_rows:,} metric rows for "
        f"{', '.join(sorted(r.devices))} on {', '.join(sorted(r.days))}"
    )
    for key, value in report.decisions.items():
        print(f"    {key}: {value}")

# %% [markdown]
# Importing the same file again stores nothing (the file's SHA-256 is in the catalog):

# %%
again = import_file(store, VALID[0], options)
print(f"{VALID[0].name} again: already imported = {again.already_imported}")

# %%
status = store.status()["devices"]
status[["device_id", "kind", "placement", "days", "metric_rows"]]

# %% [markdown]
# What a watch stores is *metrics* (one row per time and quantity), not raw samples:

# %%
device = "garmin-fenix5-3945849289"
metrics = store.read_metrics(device)
wide = metrics.pivot_table(index="t", columns="metric", values="value", aggfunc="first")
wide.index = local(pd.Series(wide.index)).to_numpy()
wide.head()

# %% [markdown]
# ## 3. Analyse
#
# `analysis.pipeline.analyze` is `psoas analyze`: it visits every device-day with new data and
# writes the derived tables (strides, the weekly stride table, sitting bouts, alerts, the daily
# summary). Watches give their own strides (source `watch`, or `watch_derived` when the watch
# reports no step length); the monitoring file's `activity_type` becomes sedentary bouts.

# %%
report = analyze(store)
print(f"analysed {len(report.device_days)} device-days:")
for device_id, day in report.device_days:
    print(f"    {device_id} {day}")

# %% [markdown]
# ### Strides

# %%
strides = store.read_table("strides")
print(f"{len(strides):,} strides")
print(
    strides.groupby(["device_id", "source"])
    .agg(
        strides=("t", "size"),
        median_stride_m=("stride_length_m", "median"),
        median_cadence_spm=("cadence_spm", "median"),
        median_speed_mps=("speed_mps", "median"),
    )
    .round(2)
    .to_string()
)

# %%
shown = strides.assign(
    time=local(strides["t"]), device=strides["device_id"] + " / " + strides["source"]
)
fig = px.scatter(
    shown,
    x="speed_mps",
    y="stride_length_m",
    color="device",
    opacity=0.5,
    labels={"speed_mps": "speed (m/s)", "stride_length_m": "stride length (m)"},
    title="Stride length grows with pace (one point per watch record)",
)
fig.update_yaxes(range=[0, 4.5])
fig.show()

first_t = shown.groupby("device_id")["t"].transform("min")
implausible = shown[shown["stride_length_m"] > 4.5]
seconds_in = (implausible["t"] - first_t[implausible.index]) / 1e9
print(
    f"{len(implausible)} strides over 4.5 m (cut off above), "
    f"all within the first {seconds_in.max():.0f} s of their activity"
)

# %% [markdown]
# The fenix 2 derives stride length from speed and cadence; in the first seconds of the run
# (GPS speed still settling, cadence not yet locked) that gives a few implausible strides of up
# to 6 m. The points above 3 m later on are fast running (4.5–5 m/s). The fenix 5 measures step
# length itself.
#
# ### Weekly stride table
#
# `psoas trends` compares weeks at comparable pace, per device, source and gait mode (walking /
# running). With one short activity per week there is no pace band with enough strides, and
# the table says so instead of giving a number:

# %%
weekly = store.read_table("weekly_stride")
print(
    weekly[
        [
            "device_id",
            "source",
            "mode",
            "week",
            "strides",
            "median_stride_length_m",
            "adjusted_stride_length_m",
            "note",
        ]
    ].to_string(index=False)
)

# %% [markdown]
# ### Daily summary
#
# One row per device-day. For the monitoring watch the sitting columns come from its
# `activity_type` log (sedentary vs walking, minute by minute): these are *sedentary* bouts, not
# sitting (a wrist cannot tell sitting from standing still). Activity files have no posture.

# %%
daily = store.read_table("daily_summary")
daily_view = daily[
    [
        "device_id",
        "day",
        "wear_s",
        "sitting_s",
        "sitting_bouts",
        "longest_bout_s",
        "breaks_per_sitting_hour",
        "posture_method",
    ]
].copy()
daily_view["wear_h"] = daily_view.pop("wear_s") / 3600
daily_view["sedentary_h"] = daily_view.pop("sitting_s") / 3600
daily_view["longest_min"] = daily_view.pop("longest_bout_s") / 60
print(daily_view.round(2).to_string(index=False))

# %%
bouts = store.read_table("sitting_bouts")
bouts = bouts.assign(start=local(bouts["start"]), end=local(bouts["end"]))
fig = px.timeline(
    bouts,
    x_start="start",
    x_end="end",
    y="device_id",
    color=bouts["duration_s"] / 60,
    labels={"color": "minutes"},
    title="Sedentary bouts from the monitoring watch",
)
fig.show()
alerts = store.read_table("alerts")
print(f"{len(alerts)} streak alerts at 30 min, first ones:")
print(local(alerts["t"]).dt.strftime("%Y-%m-%d %H:%M").head().to_string(index=False))

# %% [markdown]
# ## 4. A damaged file
#
# A FIT file ends with a CRC and its header announces its length, so damage is detectable. A
# damaged file is refused **whole**, with a message naming the file, the byte offset and what to
# do; the store stays exactly as it was. Every psoas error is a `PsoasError` (this one an
# `ImportFormatError`).


# %%
def fingerprint(store):
    """The store's devices with their metric rows, and every stored file with its size."""
    devices = store.status()["devices"][["device_id", "metric_rows"]].to_dict("records")
    files = sorted(
        (str(p.relative_to(store.home)), p.stat().st_size)
        for p in store.home.rglob("*")
        if p.is_file() and p.suffix == ".parquet"
    )
    return devices, files


before = fingerprint(store)
try:
    import_file(store, CORRUPT, options)
    print("imported?! (this should not happen)")
except PsoasError as error:
    print(f"refused ({type(error).__name__}):")
    print(error)
print(f"store unchanged: {fingerprint(store) == before}")

# %% [markdown]
# The other two damaged examples in `../shared/data/fit/invalid/` (a bad CRC, a corrupt header)
# give their own messages:

# %%
for path in sorted((FIT / "invalid").glob("*.fit")):
    if path == CORRUPT:
        continue
    try:
        import_file(store, path, options)
    except PsoasError as error:
        print(f"- {error}")
print(f"store unchanged: {fingerprint(store) == before}")

# %% [markdown]
# ## Clean up
#
# Close the store and delete the temporary folder. For your own files, use your real store
# (`psoas import FILE`) — it keeps everything on your disk, private to you.

# %%
store.close()
workdir.cleanup()
print("temporary store removed")
