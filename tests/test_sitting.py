"""Sitting bouts, breaks and streak alerts: the tracker's rules and its properties."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.posture import LYING, MOVING, NO_DATA, NON_WEAR, SEDENTARY, SITTING, STANDING
from analysis.sitting import (
    EPOCH_NS,
    AlertRules,
    BoutRules,
    BoutTracker,
    bouts_frame,
    runs_of,
    sitting_summary,
    time_weighted_median_s,
)

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z


def epochs(*spans: tuple[int, float]) -> tuple[np.ndarray, np.ndarray]:
    """Epoch times and codes from (code, seconds) spans; NO_DATA spans leave the epochs out."""
    codes = np.concatenate([np.full(int(s), c, np.int8) for c, s in spans])
    t = T0 + np.arange(len(codes), dtype=np.int64) * EPOCH_NS
    keep = codes != NO_DATA
    return t[keep], codes[keep]


def track(t, codes, rules=BoutRules(), alert_rules=None, chunks=None):
    tracker = BoutTracker(rules, alert_rules)
    bounds = [0, *(chunks or []), len(t)]
    for a, b in itertools.pairwise(bounds):
        tracker.feed(t[a:b], codes[a:b])
    return tracker.finish(), tracker.alerts


def test_short_standing_stays_inside_a_bout_and_a_minute_is_a_break():
    t, c = epochs((SITTING, 600), (STANDING, 30), (SITTING, 600), (MOVING, 60), (SITTING, 300))
    bouts, _ = track(t, c)
    assert [(b.start - T0) // EPOCH_NS for b in bouts] == [0, 1290]
    assert bouts[0].duration_s == 1230 and bouts[0].sitting_s == 1200
    assert bouts[0].ended_by == "break" and bouts[1].ended_by == "end_of_data"


def test_steps_make_a_break_before_the_minute_is_up():
    t, c = epochs((SITTING, 600), (MOVING, 20), (SITTING, 600))
    steps = np.zeros(len(t), np.int64)
    steps[600:620] = 2  # 40 steps in 20 s
    tracker = BoutTracker(BoutRules(min_break_steps=30))
    tracker.feed(t, c, steps)
    assert len(tracker.finish()) == 2
    tracker = BoutTracker(BoutRules(min_break_steps=None))
    tracker.feed(t, c, steps)
    assert len(tracker.finish()) == 1


def test_flicker_neither_starts_nor_ends_a_bout():
    rules = BoutRules(min_break_s=1, flicker_s=10)
    t, c = epochs((STANDING, 100), (SITTING, 5), (STANDING, 100), (SITTING, 200), (STANDING, 4))
    t2, c2 = epochs((SITTING, 100))
    bouts, _ = track(np.concatenate([t, t2 + len(c) * EPOCH_NS]), np.concatenate([c, c2]), rules)
    assert len(bouts) == 1 and bouts[0].sitting_s == 300 and bouts[0].duration_s == 304


def test_non_wear_ends_a_bout_and_is_never_sitting():
    t, c = epochs((SITTING, 600), (NON_WEAR, 20), (SITTING, 600))
    bouts, _ = track(t, c)
    assert [b.ended_by for b in bouts] == ["non_wear", "end_of_data"]
    assert bouts[0].end == T0 + 600 * EPOCH_NS and bouts[1].start == T0 + 620 * EPOCH_NS


def test_a_long_gap_ends_a_bout_and_a_short_one_does_not():
    t, c = epochs((SITTING, 600), (NO_DATA, 30), (SITTING, 600), (NO_DATA, 90), (SITTING, 600))
    bouts, _ = track(t, c)
    assert [b.sitting_s for b in bouts] == [1200, 600]
    assert bouts[0].ended_by == "no_data"


def test_wrist_sedentary_bouts_are_labelled_sedentary():
    t, c = epochs((SEDENTARY, 900), (MOVING, 120))
    bouts, _ = track(t, c)
    assert bouts[0].posture == "sedentary"


def test_alert_fires_once_at_the_threshold_and_repeats_when_asked():
    t, c = epochs((SITTING, 50 * 60), (STANDING, 120), (SITTING, 20 * 60))
    _, alerts = track(t, c, alert_rules=AlertRules(threshold_s=30 * 60))
    assert [(a.t - T0) / 1e9 for a in alerts] == [1800.0]
    _, alerts = track(t, c, alert_rules=AlertRules(threshold_s=15 * 60, repeat_s=10 * 60))
    assert [(a.t - T0) / 1e9 for a in alerts] == [900, 1500, 2100, 2700, 3120 + 900]


def test_alert_counts_the_streak_through_short_interruptions():
    t, c = epochs((SITTING, 20 * 60), (STANDING, 40), (SITTING, 20 * 60))
    _, alerts = track(t, c, alert_rules=AlertRules(threshold_s=30 * 60))
    assert [(a.t - T0) / 1e9 for a in alerts] == [1800.0]


def test_alert_rules_are_checked():
    with pytest.raises(ValueError, match="15 to 120"):
        AlertRules(threshold_s=10 * 60)
    with pytest.raises(ValueError, match="once a minute"):
        AlertRules(repeat_s=5)


def test_runs_mark_missing_epochs_as_no_data():
    t, c = epochs((SITTING, 10), (NO_DATA, 5), (SITTING, 10))
    runs = list(runs_of(t, c))
    assert [(r.code, r.seconds) for r in runs] == [(SITTING, 10), (NO_DATA, 5), (SITTING, 10)]


def test_time_weighted_median_is_the_bout_length_holding_half_the_time():
    assert time_weighted_median_s(np.array([60.0, 60.0, 60.0, 3600.0])) == 3600.0
    assert time_weighted_median_s(np.array([600.0, 600.0])) == 600.0
    assert time_weighted_median_s(np.array([])) == 0.0


def test_summary_counts_bouts_over_30_and_45_min_and_breaks_per_hour():
    t, c = epochs((SITTING, 50 * 60), (STANDING, 120), (SITTING, 35 * 60), (MOVING, 120))
    bouts = bouts_frame(track(t, c)[0], "d", "thigh")
    summary = sitting_summary(bouts, BoutRules())
    assert summary["sitting_bouts"] == 2 and summary["breaks"] == 2
    assert summary["bouts_over_30min"] == 2 and summary["bouts_over_45min"] == 1
    assert summary["longest_bout_s"] == 3000
    assert summary["breaks_per_sitting_hour"] == pytest.approx(2 / (85 / 60))


_CODES = st.sampled_from([SITTING, STANDING, MOVING, LYING, NON_WEAR, NO_DATA, SEDENTARY])


@st.composite
def days(draw):
    spans = draw(
        st.lists(st.tuples(_CODES, st.integers(1, 2400)), min_size=1, max_size=40).filter(
            lambda s: any(c != NO_DATA for c, _ in s)
        )
    )
    t, codes = epochs(*spans)
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(t) - 1)), max_size=8)))
    rules = BoutRules(
        min_break_s=draw(st.sampled_from([1.0, 30.0, 60.0, 300.0])),
        flicker_s=draw(st.sampled_from([0.0, 5.0, 10.0])),
        min_break_steps=None,
    )
    repeat = draw(st.sampled_from([None, 60.0, 600.0]))
    return t, codes, [c for c in cuts if c < len(t)], rules, AlertRules(15 * 60, repeat)


@settings(max_examples=150, deadline=None)
@given(days())
def test_bouts_and_alerts_do_not_depend_on_how_epochs_are_batched(day):
    t, codes, cuts, rules, alert_rules = day
    whole = track(t, codes, rules, alert_rules)
    chunked = track(t, codes, rules, alert_rules, chunks=cuts)
    assert whole == chunked


@settings(max_examples=150, deadline=None)
@given(days())
def test_bouts_never_overlap_never_cover_non_wear_and_sum_to_the_total(day):
    t, codes, _, rules, _ = day
    bouts, _ = track(t, codes, rules)
    frame = bouts_frame(bouts, "d", "thigh")
    starts, ends = frame["start"].to_numpy(), frame["end"].to_numpy()
    assert (ends > starts).all() and (starts[1:] >= ends[:-1]).all()
    non_wear = t[codes == NON_WEAR]
    for s, e in zip(starts, ends, strict=True):
        assert not ((non_wear >= s) & (non_wear < e)).any()
        inside = (t >= s) & (t < e)
        sitting = np.isin(codes[inside], [SITTING, SEDENTARY]).sum()
        assert sitting == frame.loc[frame["start"] == s, "sitting_s"].item()
    summary = sitting_summary(frame, rules)
    assert summary["sitting_s"] == pytest.approx(frame["sitting_s"].sum())
    assert summary["sitting_s"] <= np.isin(codes, [SITTING, SEDENTARY]).sum()
    assert isinstance(frame, pd.DataFrame)
