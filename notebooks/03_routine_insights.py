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
# # Twelve weeks of the psoas routine: what moved with it?
#
# `psoas insights` asks whether days (and weeks) with more of the hip-flexor routine done were
# followed by shorter sitting streaks, longer strides or less pain — and answers with an effect,
# a 95 % interval and the n behind it, or "not enough data yet". This notebook shows how, on a
# **simulated person whose true effects we know**:
#
# - the routine starts in week 4 of 12 (`start_week=4`);
# - each fully done day shortens the next day's longest sitting streak by 15 min;
# - each fully done week lengthens the next week's pace-adjusted stride by 3 cm;
# - everything else (pain, stiffness, same-day links) has no effect;
# - with autocorrelated day-to-day noise, weekends, partly worn and missing days.
#
# Then the same analysis on a person **without any effect**, which should read
# "no clear association".

# %%
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.insights import (
    FINDING,
    associations,
    daily_insight_table,
    findings,
    routine_start_effect,
    weekly_insight_table,
)
from sensors.simulate_routine import simulate_routine_weeks

pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 20)

WEEKS = 12
START_WEEK = 4
STREAK_EFFECT_MIN = -15.0  # per fully done day, on the next day's longest streak
STRIDE_EFFECT_M = 0.03  # per fully done week, on the next week's pace-adjusted stride

# %% [markdown]
# ## 1. Simulate the person
#
# `simulate_routine_weeks` returns the four tables psoas' insights read from the store:
# the daily routine adherence (0–1, from the routine log), the symptoms, the daily sitting
# summary of the thigh sensor and the weekly pace-adjusted stride length.

# %%
sim = simulate_routine_weeks(
    WEEKS,
    seed=1,
    stride_effect_m=STRIDE_EFFECT_M,
    streak_effect_min=STREAK_EFFECT_MIN,
    start_week=START_WEEK,
)
print(f"routine starts on {sim.start_day}")
for name in ("adherence_daily", "symptoms", "daily_summary", "weekly_stride"):
    print(f"{name}: {len(getattr(sim, name))} rows")

# %% [markdown]
# ## 2. The insight tables
#
# `daily_insight_table` puts one row per calendar day (missing days stay on the calendar, as
# NaN): adherence, sitting hours, longest streak, breaks per sitting hour, pain and stiffness.
# `weekly_insight_table` averages weeks with at least 4 days and adds the weekly stride of one
# named series (sources are never pooled).

# %%
daily = daily_insight_table(sim.adherence_daily, sim.symptoms, sim.daily_summary)
weekly = weekly_insight_table(daily, sim.weekly_stride)
daily.head(10)

# %%
weekly[
    [
        "week",
        "days",
        "adherence",
        "longest_streak_min",
        "stride_adjusted_m",
        "stride_ci_low_m",
        "stride_ci_high_m",
        "stride_series",
    ]
].round(3)

# %%
days = pd.to_datetime(daily["day"])
fig = make_subplots(
    rows=3,
    cols=1,
    shared_xaxes=True,
    vertical_spacing=0.06,
    subplot_titles=(
        "routine adherence per day",
        "longest sitting streak (min)",
        "weekly pace-adjusted stride (m), 95 % interval",
    ),
)
fig.add_trace(
    go.Bar(x=days, y=daily["adherence"], name="adherence", marker_color="#2ca02c"), row=1, col=1
)
fig.add_trace(
    go.Scatter(
        x=days,
        y=daily["longest_streak_min"],
        mode="lines+markers",
        name="longest streak",
        marker={"size": 4},
    ),
    row=2,
    col=1,
)
week_start = pd.to_datetime(weekly["week"] + "-1", format="%G-W%V-%u")
fig.add_trace(
    go.Scatter(
        x=week_start + pd.Timedelta(days=3),
        y=weekly["stride_adjusted_m"],
        mode="markers",
        name="stride",
        error_y={
            "type": "data",
            "symmetric": False,
            "array": weekly["stride_ci_high_m"] - weekly["stride_adjusted_m"],
            "arrayminus": weekly["stride_adjusted_m"] - weekly["stride_ci_low_m"],
        },
    ),
    row=3,
    col=1,
)
for row in (1, 2, 3):
    fig.add_vline(
        x=pd.Timestamp(sim.start_day), line_dash="dash", line_color="gray", row=row, col=1
    )
fig.update_layout(
    height=700, showlegend=False, title="Twelve simulated weeks (dashed: the routine starts)"
)
fig.show()

# %% [markdown]
# ## 3. Associations
#
# `associations` estimates, per outcome, the change per +1.0 adherence (the routine fully
# done vs not at all):
#
# - **same day / next day**: one regression per outcome with a level per ISO week and a
#   weekend term, so slow drifts and weekends cannot pose as effects;
# - **same week / next week**: a weekly regression with a linear trend.
#
# Intervals are Newey–West (HAC): neighbouring days are not independent. Only an effect that
# survives the Holm correction across all 20 associations is a *finding*.

# %%
table = associations(daily, weekly)
print(
    table[["level", "outcome", "lag", "n", "effect", "ci_low", "ci_high", "p_adjusted", "status"]]
    .round(3)
    .to_string(index=False)
)


# %%
def row_of(table, outcome, lag):
    return table[(table["outcome"] == outcome) & (table["lag"] == lag)].iloc[0]


streak = row_of(table, "longest_streak_min", "next day")
stride = row_of(table, "stride_adjusted_m", "next week")
print(
    f"next-day longest streak: {streak['effect']:+.1f} min per fully done day "
    f"(95 % CI {streak['ci_low']:+.1f} to {streak['ci_high']:+.1f}; n = {streak['n']} days); "
    f"truth {STREAK_EFFECT_MIN:+.1f}, covered: "
    f"{'yes' if streak['ci_low'] <= STREAK_EFFECT_MIN <= streak['ci_high'] else 'no'}"
)
print(
    f"next-week stride: {100 * stride['effect']:+.1f} cm per fully done week "
    f"(95 % CI {100 * stride['ci_low']:+.1f} to {100 * stride['ci_high']:+.1f}; "
    f"n = {stride['n']} weeks); truth {100 * STRIDE_EFFECT_M:+.1f}, covered: "
    f"{'yes' if stride['ci_low'] <= STRIDE_EFFECT_M <= stride['ci_high'] else 'no'}"
)
print(
    f"findings (Holm-adjusted p < 0.05): {int((table['status'] == FINDING).sum())} of {len(table)}"
)

# %% [markdown]
# The effects on one plot: outcomes have different units, so each effect is shown in the
# outcome's standard deviations for a +0.5 change in adherence (the `effect_sd` column), with
# its 95 % interval. The two true effects are marked.


# %%
def forest(table, title, truths=None):
    truths = truths or {}
    scale = 0.5 / table["outcome_sd"]
    label = table["level"] + ": " + table["outcome"] + " (" + table["lag"] + ")"
    fig = go.Figure(
        go.Scatter(
            x=table["effect_sd"],
            y=label,
            mode="markers",
            name="estimate",
            marker={"color": np.where(table["status"] == FINDING, "#d62728", "#1f77b4")},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": table["ci_high"] * scale - table["effect_sd"],
                "arrayminus": table["effect_sd"] - table["ci_low"] * scale,
            },
        )
    )
    for (outcome, lag), value in truths.items():
        k = table.index[(table["outcome"] == outcome) & (table["lag"] == lag)][0]
        fig.add_trace(
            go.Scatter(
                x=[value * scale[k]],
                y=[label[k]],
                mode="markers",
                marker={"symbol": "x", "size": 12, "color": "black"},
                name="truth",
                showlegend=False,
            )
        )
    fig.add_vline(x=0, line_color="gray")
    fig.update_layout(
        title=title,
        height=600,
        showlegend=False,
        xaxis_title="effect of +0.5 adherence (outcome SDs), 95 % CI",
    )
    fig.update_yaxes(autorange="reversed")
    return fig


forest(
    table,
    "Associations with routine adherence (x: the true effects)",
    {
        ("longest_streak_min", "next day"): STREAK_EFFECT_MIN,
        ("stride_adjusted_m", "next week"): STRIDE_EFFECT_M,
    },
).show()

# %% [markdown]
# ## 4. In sentences
#
# `findings` turns the table into what `psoas insights` prints: every sentence carries its
# effect, interval and n. Note the honest wording: with 12 weeks of one person's data a −15 min
# effect is usually *not* confirmed — the interval contains it, but also zero.

# %%
for sentence in findings(daily, weekly, table):
    print("-", sentence)

# %% [markdown]
# ## 5. Before and after the routine started
#
# `routine_start_effect` is an interrupted time series around the first routine day after at
# least 14 days without it: the level change of the outcome at the start (and the change of
# trend), with weekend and HAC errors. The simulator knows the true level change (the streak
# effect times the expected adherence).

# %%
start = routine_start_effect(daily)
truth_level = sim.truth["level_change_min"]
print(start.statement)
print(
    f"level change at {start.start_day}: {start.level_change:+.1f} min "
    f"(95 % CI {start.level_ci_low:+.1f} to {start.level_ci_high:+.1f}); "
    f"truth {truth_level:+.1f} min, covered: "
    f"{'yes' if start.level_ci_low <= truth_level <= start.level_ci_high else 'no'}"
)

# %% [markdown]
# ## 6. A person without any effect
#
# The same simulator with every effect set to zero. Whatever adherence does, sitting and stride
# do not follow it; the analysis should say so.

# %%
null = simulate_routine_weeks(
    WEEKS, seed=101, stride_effect_m=0.0, streak_effect_min=0.0, start_week=START_WEEK
)
null_daily = daily_insight_table(null.adherence_daily, null.symptoms, null.daily_summary)
null_weekly = weekly_insight_table(null_daily, null.weekly_stride)
null_table = associations(null_daily, null_weekly)
null_findings = int((null_table["status"] == FINDING).sum())
print(f"null person: findings {null_findings} of {len(null_table)} associations tested")
null_start = routine_start_effect(null_daily)
print(
    f"null person, before/after: {null_start.status} ({null_start.level_change:+.1f} min, "
    f"95 % CI {null_start.level_ci_low:+.1f} to {null_start.level_ci_high:+.1f})"
)
for sentence in findings(null_daily, null_weekly, null_table)[:4]:
    print("-", sentence)

# %%
forest(null_table, "A person without any effect").show()

# %% [markdown]
# ## What to take away
#
# - Effects come with intervals and n; "no clear association" means the data cannot tell, not
#   that there is no effect — look at the interval.
# - A single interval that excludes zero is only "a possible association" until it survives
#   the correction for the 20 associations tested (one in twenty excludes zero by chance).
# - These are associations in one person's data, not proof of cause. In the validation over
#   many simulated people (docs/routine.md) the intervals cover the true effects about 95 % of
#   the time and null people get a finding in about 3 %.
