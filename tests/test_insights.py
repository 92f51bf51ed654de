"""Insights linking routine adherence to sitting, stride and symptoms: intervals that cover known
effects, few false findings for people without any effect, "not enough data yet" instead of a
number, and sentences that always carry their n and interval."""

from __future__ import annotations

import functools
import math
import re

import numpy as np
import pandas as pd
import pytest

from analysis.insights import (
    ASSOCIATION_COLUMNS,
    DAILY_COLUMNS,
    FINDING,
    MIN_DAILY_PAIRS,
    MIN_WEEKLY_PAIRS,
    NO_CLEAR,
    NOT_ENOUGH,
    WEEKLY_COLUMNS,
    associations,
    daily_insight_table,
    findings,
    routine_start,
    routine_start_effect,
    sitting_device,
    stride_series,
    weekly_insight_table,
)
from analysis.regression import holm, ols_hac
from sensors.errors import SchemaError
from sensors.simulate_routine import SimulatedRoutine, simulate_routine_weeks

SEEDS = range(50)
STREAK_EFFECT_MIN = -15.0
STRIDE_EFFECT_M = 0.03


@functools.cache
def _person(seed: int, effects: bool = True, weeks: int = 12, start_week: int = 0):
    """A simulated person, their daily and weekly tables and their associations."""
    sim = simulate_routine_weeks(
        weeks,
        seed,
        stride_effect_m=STRIDE_EFFECT_M if effects else 0.0,
        streak_effect_min=STREAK_EFFECT_MIN if effects else 0.0,
        start_week=start_week,
    )
    daily = daily_insight_table(sim.adherence_daily, sim.symptoms, sim.daily_summary)
    weekly = weekly_insight_table(daily, sim.weekly_stride)
    return sim, daily, weekly, associations(daily, weekly)


def _tables(sim: SimulatedRoutine, **changes: pd.DataFrame):
    frames = {
        "adherence_daily": sim.adherence_daily,
        "symptoms": sim.symptoms,
        "daily_summary": sim.daily_summary,
        "weekly_stride": sim.weekly_stride,
        **changes,
    }
    daily = daily_insight_table(
        frames["adherence_daily"], frames["symptoms"], frames["daily_summary"]
    )
    weekly = weekly_insight_table(daily, frames["weekly_stride"])
    return daily, weekly, associations(daily, weekly)


def _row(table: pd.DataFrame, outcome: str, lag: str) -> pd.Series:
    rows = table[(table["outcome"] == outcome) & (table["lag"] == lag)]
    assert len(rows) == 1
    return rows.iloc[0]


def _check_sentences(sentences: list[str]) -> None:
    assert sentences
    for sentence in sentences:
        lower = sentence.lower()
        assert "n =" in sentence, sentence
        assert "95 % ci" in lower or NOT_ENOUGH in lower, sentence
        assert not re.search(r"correlat|pearson|spearman|\brho\b|\btau\b|\br\s*=", lower), sentence


# --- known effects and null people ----------------------------------------------------------


def test_intervals_cover_the_true_next_day_streak_and_next_week_stride_effects():
    streak, stride = [], []
    for seed in SEEDS:
        table = _person(seed)[3]
        streak.append(_row(table, "longest_streak_min", "next day"))
        stride.append(_row(table, "stride_adjusted_m", "next week"))
    cover_streak = np.mean([r.ci_low <= STREAK_EFFECT_MIN <= r.ci_high for r in streak])
    cover_stride = np.mean([r.ci_low <= STRIDE_EFFECT_M <= r.ci_high for r in stride])
    mean_streak = np.mean([r.effect for r in streak])
    mean_stride = np.mean([r.effect for r in stride])
    print(
        f"\nnext-day longest streak: truth {STREAK_EFFECT_MIN:+.1f} min, mean estimate "
        f"{mean_streak:+.2f} min, 95 % CI coverage {cover_streak:.0%} of {len(SEEDS)} seeds, "
        f"mean CI width {np.mean([r.ci_high - r.ci_low for r in streak]):.1f} min"
        f"\nnext-week stride: truth {100 * STRIDE_EFFECT_M:+.1f} cm, mean estimate "
        f"{100 * mean_stride:+.2f} cm, 95 % CI coverage {cover_stride:.0%}, mean CI width "
        f"{100 * np.mean([r.ci_high - r.ci_low for r in stride]):.1f} cm"
    )
    assert cover_streak >= 0.90
    assert cover_stride >= 0.90
    assert abs(mean_streak - STREAK_EFFECT_MIN) < 4.0  # the SD of one estimate is ~10 min
    assert abs(mean_stride - STRIDE_EFFECT_M) < 0.006  # ... and ~1.6 cm
    assert all(r.n >= 70 for r in streak) and all(r.n >= 8 for r in stride)


def test_people_without_any_effect_rarely_get_a_finding():
    with_finding = []
    for seed in SEEDS:
        table = _person(1000 + seed, effects=False)[3]
        tested = table[table["status"].isin([FINDING, NO_CLEAR])]
        assert len(tested) == 20  # the whole family is tested for 12 weeks of data
        with_finding.append((table["status"] == FINDING).any())
    rate = float(np.mean(with_finding))
    print(f"\nnull people with a 'finding' after Holm over 20 tests: {rate:.0%} of {len(SEEDS)}")
    assert rate <= 0.10


def test_a_finding_survives_holm_across_the_whole_family():
    table = _person(0)[3]
    tested = table[table["status"].isin([FINDING, NO_CLEAR])]
    assert np.allclose(tested["p_adjusted"], holm(tested["p"]))
    assert (tested["p_adjusted"] >= tested["p"] - 1e-12).all()
    assert ((tested["status"] == FINDING) == (tested["p_adjusted"] < 0.05)).all()


def test_holm_adjusts_step_down_and_stays_monotone():
    adjusted = holm([0.01, 0.04, 0.03, math.nan, 0.5])
    assert np.allclose(adjusted[[0, 2, 1, 4]], [0.04, 0.09, 0.09, 0.5])
    assert math.isnan(adjusted[3])


def test_hac_variance_matches_the_newey_west_double_sum():
    rng = np.random.default_rng(5)
    n = 40
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = 1.0 + 0.5 * x[:, 1] + rng.normal(size=n)
    fit = ols_hac(y, x, np.arange(n), rule="nw94", prewhiten=None, floor=False)
    assert fit is not None
    inverse = np.linalg.inv(x.T @ x)
    resid = y - x @ fit.beta
    scores = x * resid[:, None]
    lags = math.floor(4 * (n / 100) ** (2 / 9))
    meat = scores.T @ scores
    for j in range(1, lags + 1):
        gamma = scores[j:].T @ scores[:-j]
        meat += (1 - j / (lags + 1)) * (gamma + gamma.T)
    expected = np.diag(inverse @ meat @ inverse) * n / (n - 2)
    assert np.allclose(fit.variance, expected)
    assert fit.df == n - 2


# --- not enough data yet ---------------------------------------------------------------------


def test_two_weeks_give_no_weekly_number_and_say_so():
    _, daily, weekly, table = _person(3, weeks=2)
    assert (
        table.loc[table["level"] == "daily", "status"].str.contains(f"need {MIN_DAILY_PAIRS}").all()
    )
    weekly_rows = table[table["level"] == "weekly"]
    assert len(weekly) == 2
    assert weekly_rows["status"].str.startswith(NOT_ENOUGH).all()
    assert weekly_rows[["effect", "ci_low", "ci_high", "p", "p_adjusted"]].isna().all().all()
    assert weekly_rows["status"].str.contains(f"need {MIN_WEEKLY_PAIRS}").all()
    sentences = findings(daily, weekly, table)
    weekly_sentences = [s for s in sentences if "weekly effects" in s]
    assert len(weekly_sentences) == 1
    assert weekly_sentences[0].startswith("Not enough data yet for weekly effects: 2 weeks")
    assert f"{MIN_WEEKLY_PAIRS} needed" in weekly_sentences[0]
    assert not any("cm" in s for s in sentences)  # no stride number at all
    _check_sentences(sentences)


def test_constant_adherence_is_not_enough_data():
    sim = _person(4)[0]
    daily, weekly, table = _tables(sim, adherence_daily=sim.adherence_daily.assign(adherence=1.0))
    assert table["status"].str.startswith(NOT_ENOUGH).all()
    assert table["status"].str.contains("barely varies").all()
    assert table["effect"].isna().all()
    sentences = findings(daily, weekly, table)
    assert any("barely varied" in s for s in sentences)
    _check_sentences(sentences)


def test_every_sentence_carries_n_and_an_interval_or_says_not_enough():
    for seed, effects in ((0, True), (1, True), (1001, False)):
        _, daily, weekly, table = _person(seed, effects=effects)
        sentences = findings(daily, weekly, table)
        assert len(sentences) == 20
        _check_sentences(sentences)
    _, daily, weekly, table = _person(2, weeks=2)
    _check_sentences(findings(daily, weekly, table))


def test_a_finding_reads_as_an_effect_with_its_interval():
    for seed in SEEDS:
        _, daily, weekly, table = _person(seed)
        if (table["status"] == FINDING).any():
            break
    else:
        pytest.fail("no simulated person with effects got a finding")
    sentence = findings(daily, weekly, table)[0]
    assert sentence.endswith("a finding.")
    assert re.search(r"\(95 % CI [0-9.]+ to [0-9.]+ \w+; n = \d+ (days|weeks); Holm", sentence)


# --- routine start ---------------------------------------------------------------------------


def test_routine_start_level_change_interval_covers_the_truth():
    covered, estimates, truths, detected = [], [], [], []
    for seed in range(30):
        sim, daily, _, _ = _person(seed, start_week=4)
        effect = routine_start_effect(daily)
        truth = sim.truth["level_change_min"]
        detected.append(effect.start_day == sim.start_day)
        covered.append(effect.level_ci_low <= truth <= effect.level_ci_high)
        estimates.append(effect.level_change)
        truths.append(truth)
        assert effect.n_before >= 14 and effect.n_after >= 14
        assert "n = " in effect.statement and "95 % CI" in effect.statement
    print(
        f"\nroutine start (week 4 of 12): level change truth {np.mean(truths):+.1f} min "
        f"(streak effect x expected adherence), mean estimate {np.mean(estimates):+.1f} min, "
        f"95 % CI coverage {np.mean(covered):.0%} of 30 seeds, start found exactly in "
        f"{np.mean(detected):.0%}"
    )
    assert np.mean(covered) >= 0.85
    assert np.mean(detected) >= 0.8


def test_routine_start_needs_fourteen_days_before():
    sim, daily, _, _ = _person(6, start_week=1)
    assert routine_start(daily) is None  # only 7 days without the routine
    effect = routine_start_effect(daily)
    assert effect.status == NOT_ENOUGH and math.isnan(effect.level_change)
    assert NOT_ENOUGH in effect.statement.lower() and "n = " in effect.statement
    forced = routine_start_effect(daily, start_day=sim.start_day)
    assert forced.status == NOT_ENOUGH and forced.n_before < 14
    assert "14 needed on each side" in forced.statement
    with pytest.raises(ValueError, match="outcome must be one of"):
        routine_start_effect(daily, outcome="steps")


# --- input edge cases ------------------------------------------------------------------------


def test_empty_tables_give_empty_frames_and_not_enough_data():
    daily = daily_insight_table(pd.DataFrame(), None, pd.DataFrame())
    weekly = weekly_insight_table(daily, pd.DataFrame())
    assert daily.empty and list(daily.columns) == list(DAILY_COLUMNS)
    assert weekly.empty and list(weekly.columns) == list(WEEKLY_COLUMNS)
    table = associations(daily, weekly)
    assert list(table.columns) == list(ASSOCIATION_COLUMNS) and len(table) == 20
    assert table["status"].str.startswith(NOT_ENOUGH).all() and (table["n"] == 0).all()
    sentences = findings(daily, weekly, table)
    assert len(sentences) == 2
    _check_sentences(sentences)
    assert routine_start_effect(daily).status == NOT_ENOUGH


def test_missing_days_stay_on_the_calendar():
    sim = _person(7)[0]
    rng = np.random.default_rng(0)
    days = sim.adherence_daily["day"].unique()
    dropped = set(rng.choice(days[1:-1], size=15, replace=False))

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[~frame["day"].isin(dropped)]

    daily, _, table = _tables(
        sim,
        adherence_daily=keep(sim.adherence_daily),
        symptoms=keep(sim.symptoms),
        daily_summary=keep(sim.daily_summary),
    )
    assert len(daily) == len(days)  # every calendar day has a row
    assert pd.to_datetime(daily["day"]).diff().dropna().eq(pd.Timedelta(days=1)).all()
    assert daily.loc[daily["day"].isin(dropped), "adherence"].isna().all()
    streak = _row(table, "longest_streak_min", "next day")
    adherence = daily["adherence"].to_numpy()
    paired = (
        np.isfinite(daily["longest_streak_min"].to_numpy())
        & np.isfinite(adherence)
        & np.isfinite(np.concatenate([[np.nan], adherence[:-1]]))
    )
    assert streak["n"] == paired.sum() < len(days) - 15
    assert streak["status"] in (FINDING, NO_CLEAR)


def test_nan_outcomes_leave_only_that_outcome_short():
    sim = _person(8)[0]
    symptoms = sim.symptoms.assign(pain_0_10=np.nan)
    daily, weekly, table = _tables(sim, symptoms=symptoms)
    pain = table[table["outcome"] == "pain_0_10"]
    assert pain["status"].str.startswith(NOT_ENOUGH).all() and (pain["n"] == 0).all()
    others = table[table["outcome"] != "pain_0_10"]
    assert others["status"].isin([FINDING, NO_CLEAR]).all()
    sentences = findings(daily, weekly, table)
    assert sum("link between routine adherence and" in s and "pain" in s for s in sentences) == 4
    _check_sentences(sentences)


def test_short_wear_days_are_not_counted_as_sitting_days():
    sim = _person(9)[0]
    daily = daily_insight_table(sim.adherence_daily, sim.symptoms, sim.daily_summary)
    short = sim.daily_summary.loc[sim.daily_summary["wear_s"] < 36_000, "day"]
    assert len(short) > 0
    assert daily.loc[daily["day"].isin(short), "longest_streak_min"].isna().all()
    worn = sim.daily_summary[sim.daily_summary["wear_s"] >= 36_000].iloc[0]
    row = daily[daily["day"] == worn["day"]].iloc[0]
    assert row["longest_streak_min"] == pytest.approx(worn["longest_bout_s"] / 60)
    assert row["sitting_h"] == pytest.approx(worn["sitting_s"] / 3600)


def test_the_combined_timeline_wins_else_the_most_worn_device():
    summary = _person(10)[0].daily_summary
    other = summary.iloc[:20].assign(device_id="wrist1", longest_bout_s=1.0)
    assert sitting_device(pd.concat([summary, other])) == "thigh1"
    combined = summary.assign(device_id="combined", longest_bout_s=summary["longest_bout_s"] + 60)
    both = pd.concat([summary, combined])
    assert sitting_device(both) == "combined"
    sim = _person(10)[0]
    daily = daily_insight_table(sim.adherence_daily, sim.symptoms, both)
    assert daily.attrs["sitting_device"] == "combined"
    thigh = daily_insight_table(sim.adherence_daily, sim.symptoms, summary)
    difference = daily["longest_streak_min"] - thigh["longest_streak_min"]
    assert np.allclose(difference.dropna(), 1.0)


def test_several_stride_sources_are_never_pooled():
    sim = _person(11)[0]
    stride = sim.weekly_stride
    assert set(stride["source"]) == {"foot_imu", "watch_derived"}
    running = stride[stride["device_id"] == "foot1"].iloc[:3].assign(mode="running")
    frames = pd.concat([stride, running], ignore_index=True)
    daily, weekly, table = _tables(sim, weekly_stride=frames)
    label = "foot1 / foot_imu / walking"
    assert (weekly["stride_series"] == label).all() and weekly.attrs["stride_series"] == label
    assert (table.loc[table["outcome"] == "stride_adjusted_m", "series"] == label).all()
    foot = stride[(stride["device_id"] == "foot1")].set_index("week")["adjusted_stride_length_m"]
    merged = weekly.set_index("week")["stride_adjusted_m"]
    assert np.allclose(merged, foot.reindex(merged.index), equal_nan=True)
    assert any(label in s for s in findings(daily, weekly, table))

    # With most foot weeks unusable the watch series is taken instead - alone, and labelled.
    sparse = frames.copy()
    foot_rows = (sparse["device_id"] == "foot1").to_numpy()
    sparse.loc[foot_rows, "adjusted_stride_length_m"] = np.where(
        np.arange(foot_rows.sum()) % 4 == 0, 1.3, np.nan
    )
    chosen, rows = stride_series(sparse)
    assert chosen == "watch1 / watch_derived / walking"
    assert set(rows["source"]) == {"watch_derived"}


def test_malformed_inputs_say_which_table_and_column():
    sim = _person(12)[0]
    with pytest.raises(SchemaError, match="adherence_daily: missing column"):
        daily_insight_table(sim.adherence_daily.drop(columns="adherence"), None, None)
    with pytest.raises(SchemaError, match="adherence_daily: column adherence, row 0"):
        daily_insight_table(sim.adherence_daily.assign(adherence=1.5), None, None)
    with pytest.raises(SchemaError, match="symptoms: column day, row 0"):
        daily_insight_table(None, sim.symptoms.assign(day="2026/01/05"), None)
    with pytest.raises(SchemaError, match="daily_summary: missing column"):
        daily_insight_table(None, None, sim.daily_summary.drop(columns="wear_s"))
    with pytest.raises(SchemaError, match="weekly_stride: column week, row 0"):
        weekly_insight_table(
            daily_insight_table(sim.adherence_daily, None, None),
            sim.weekly_stride.assign(week="week one"),
        )


def test_the_simulator_is_reproducible_and_in_the_input_layouts():
    a = simulate_routine_weeks(4, seed=3)
    b = simulate_routine_weeks(4, seed=3)
    pd.testing.assert_frame_equal(a.daily_summary, b.daily_summary)
    pd.testing.assert_frame_equal(a.weekly_stride, b.weekly_stride)
    assert list(a.adherence_daily.columns) == [
        "day",
        "adherence",
        "mobility_minutes",
        "strength_sessions",
        "done",
    ]
    assert a.adherence_daily["adherence"].between(0, 1).all()
    assert list(a.symptoms.columns) == ["day", "pain_0_10", "stiffness_0_10"]
    late = simulate_routine_weeks(6, seed=3, start_week=2)
    assert (late.adherence_daily["adherence"].iloc[:14] == 0).all()
    assert late.start_day == late.adherence_daily["day"].iloc[14]
    assert late.truth["longest_streak_min_next_day"] == -15.0
