"""The dashboard's figures: what each draws from a small realistic table, and that empty tables
give an annotated empty figure instead of an exception."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from analysis.insights import FINDING, NO_CLEAR
from dashboard.figures import (
    MAX_TIMELINE_RUNS,
    POSTURE_ALIASES,
    POSTURE_STYLE,
    adherence_calendar_figure,
    cadence_speed_figure,
    coverage_heatmap_figure,
    effects_figure,
    headline_numbers,
    iso_week_of_days,
    lag_scatter_figure,
    mobility_tests_figure,
    posture_timeline_figure,
    sitting_weeks_figure,
    symptoms_figure,
    weekly_stride_figure,
)
from sensors.schema import empty_table

TZ = "Europe/Berlin"  # UTC+1 in January
DAY = pd.Timestamp("2026-01-14", tz=TZ)
DAY_START = int(DAY.tz_convert("UTC").value)
DAY_END = int((DAY + pd.Timedelta(days=1)).tz_convert("UTC").value)
MIN_NS = 60 * 10**9


def at(local: str) -> int:
    """UTC ns of a local wall-clock time on DAY, e.g. ``at("08:30")``."""
    return int(pd.Timestamp(f"2026-01-14 {local}", tz=TZ).tz_convert("UTC").value)


def annotation_texts(figure: go.Figure) -> list[str]:
    return [a.text for a in figure.layout.annotations]


def traces(figure: go.Figure, kind: str) -> list:
    return [t for t in figure.data if t.type == kind]


# ---------------------------------------------------------------------------------------------
# Posture timeline
# ---------------------------------------------------------------------------------------------


def day_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    runs = pd.DataFrame(
        {
            "start": [at("07:00"), at("07:40"), at("08:00"), at("08:45"), at("09:00")],
            "end": [at("07:40"), at("08:00"), at("08:45"), at("09:00"), at("09:12")],
            "posture": ["moving", "standing", "sitting", "standing", "sitting"],
        }
    )
    bouts = pd.DataFrame(
        {
            "start": [at("08:00"), at("09:00")],
            "end": [at("08:45"), at("09:12")],
            "duration_s": [45 * 60.0, 12 * 60.0],
        }
    )
    alerts = pd.DataFrame({"t": [at("08:30")], "streak_s": [1800.0], "kind": ["sitting_streak"]})
    return runs, bouts, alerts


def test_timeline_draws_one_patterned_bar_per_run_at_its_local_start():
    runs, bouts, alerts = day_tables()
    figure = posture_timeline_figure(runs, bouts, alerts, TZ, DAY_START, DAY_END)
    posture_bars = [t for t in traces(figure, "bar") if set(t.y) == {"posture"}]
    assert sum(len(t.base) for t in posture_bars) == len(runs)
    by_name = {t.name: t for t in posture_bars}
    assert set(by_name) == {"sitting", "standing", "moving"}
    assert list(by_name["sitting"].base) == ["2026-01-14 08:00:00.000", "2026-01-14 09:00:00.000"]
    assert list(by_name["sitting"].x) == [45 * 60_000, 12 * 60_000]  # bar lengths, ms
    assert list(by_name["moving"].base) == ["2026-01-14 07:00:00.000"]
    for name, trace in by_name.items():
        assert trace.marker.color == POSTURE_STYLE[name]["color"]
        assert trace.marker.pattern.shape == POSTURE_STYLE[name]["pattern"]
    assert list(figure.layout.xaxis.range) == ["2026-01-14 00:00:00.000", "2026-01-15 00:00:00.000"]
    assert figure.layout.xaxis.title.text == f"local time ({TZ})"


def test_timeline_labels_bouts_with_minutes_and_emphasises_long_ones():
    runs, bouts, alerts = day_tables()
    figure = posture_timeline_figure(runs, bouts, alerts, TZ, DAY_START, DAY_END)
    bout_bars = {t.name: t for t in traces(figure, "bar") if set(t.y) == {"sitting bouts"}}
    long, short = bout_bars["sitting bout \u2265 30 min"], bout_bars["sitting bout < 30 min"]
    assert list(long.text) == ["45 min"] and list(long.base) == ["2026-01-14 08:00:00.000"]
    assert list(short.text) == ["12 min"] and list(short.base) == ["2026-01-14 09:00:00.000"]
    assert long.marker.line.width > short.marker.line.width
    assert long.marker.pattern.shape != short.marker.pattern.shape


def test_timeline_bout_cut_at_midnight_is_emphasised_by_its_whole_length():
    bouts = pd.DataFrame(
        {
            "start": [DAY_START],
            "end": [DAY_START + 20 * MIN_NS],
            "duration_s": [20 * 60.0],
            "bout_start": [DAY_START - 25 * MIN_NS],
            "bout_end": [DAY_START + 20 * MIN_NS],
        }
    )
    figure = posture_timeline_figure(None, bouts, None, TZ, DAY_START, DAY_END)
    (bar,) = traces(figure, "bar")
    assert bar.name == "sitting bout \u2265 30 min"
    assert list(bar.text) == ["20 min (of 45)"]


def test_timeline_marks_alerts_at_their_local_times_with_hover_text():
    runs, bouts, alerts = day_tables()
    alerts = pd.concat(
        [alerts, pd.DataFrame({"t": [DAY_END + MIN_NS], "streak_s": [60.0], "kind": ["x"]})]
    )
    figure = posture_timeline_figure(runs, bouts, alerts, TZ, DAY_START, DAY_END)
    (markers,) = traces(figure, "scatter")
    assert list(markers.x) == ["2026-01-14 08:30:00.000"]  # the next day's alert left out
    assert list(markers.y) == ["alerts"]
    assert "08:30" in markers.hovertext[0] and "30 min" in markers.hovertext[0]


def test_timeline_clips_runs_to_the_local_day():
    runs = pd.DataFrame(
        {"start": [DAY_START - 60 * MIN_NS], "end": [DAY_START + 30 * MIN_NS], "posture": ["lying"]}
    )
    figure = posture_timeline_figure(runs, None, None, TZ, DAY_START, DAY_END)
    (bar,) = traces(figure, "bar")
    assert list(bar.base) == ["2026-01-14 00:00:00.000"] and list(bar.x) == [30 * 60_000]
    assert "no sitting bouts this day" in annotation_texts(figure)


def test_timeline_of_a_flickery_day_stays_light_without_stretching_sitting():
    n = 3 * MAX_TIMELINE_RUNS
    flicker_start = at("09:00") + np.arange(n, dtype=np.int64) * 5 * 10**9
    runs = pd.DataFrame(
        {
            "start": np.concatenate([[at("08:00")], flicker_start]),
            "end": np.concatenate([[at("09:00")], flicker_start + 5 * 10**9]),
            "posture": ["sitting"] + ["standing", "moving"] * (n // 2),
        }
    )
    figure = posture_timeline_figure(runs, None, None, TZ, DAY_START, DAY_END)
    bars = traces(figure, "bar")
    assert sum(len(t.base) for t in bars) <= MAX_TIMELINE_RUNS
    (sitting,) = [t for t in bars if t.name == "sitting"]
    assert list(sitting.base) == ["2026-01-14 08:00:00.000"] and list(sitting.x) == [3_600_000]
    assert any(re.search(r"\d+-s interval", text) for text in annotation_texts(figure))


def test_timeline_of_an_empty_day_says_so():
    figure = posture_timeline_figure(
        empty_table("posture_runs"),
        empty_table("sitting_bouts"),
        empty_table("alerts"),
        TZ,
        DAY_START,
        DAY_END,
    )
    assert not figure.data
    assert annotation_texts(figure) == ["no sitting data for this day"]


# ---------------------------------------------------------------------------------------------
# Stride
# ---------------------------------------------------------------------------------------------


def stride_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    days = pd.date_range("2026-01-05", periods=14, freq="D").strftime("%Y-%m-%d")  # W02, W03
    rows = []
    for day in days:
        # 1.0-1.2 m/s most, then 1.2-1.4, then 1.4-1.6; 2.0-2.2 m/s rare (not shown)
        speeds = np.repeat([1.1, 1.3, 1.5, 2.1], [12, 8, 6, 1]) + rng.uniform(-0.05, 0.05, 27)
        for speed in speeds:
            rows.append((day, 0, 0.8 + 0.4 * speed + rng.normal(0, 0.02), speed, 110.0))
    strides = pd.DataFrame(
        rows, columns=["day", "t", "stride_length_m", "speed_mps", "cadence_spm"]
    )
    weekly = pd.DataFrame(
        {
            "week": ["2026-W02", "2026-W03", "2026-W04", "2026-W05"],
            "adjusted_stride_length_m": [1.30, 1.31, np.nan, 1.33],
            "ci_low_m": [1.28, 1.295, np.nan, 1.30],
            "ci_high_m": [1.33, 1.32, np.nan, 1.35],
            "note": ["", "vs 2026-W02", "not enough data: 3 strides on 1 day(s)", "vs 2026-W03"],
            "median_cadence_spm": [110.0, 112.0, np.nan, 111.0],
            "median_speed_mps": [1.20, 1.25, np.nan, 1.30],
        }
    )
    return strides, weekly


def test_weekly_stride_draws_one_box_group_per_populated_pace_band():
    strides, weekly = stride_tables()
    figure = weekly_stride_figure(strides, weekly)
    boxes = traces(figure, "box")
    assert [b.name for b in boxes] == ["1.0\u20131.2 m/s", "1.2\u20131.4 m/s", "1.4\u20131.6 m/s"]
    week = iso_week_of_days(strides["day"]).to_numpy()
    for box, (low, high) in zip(boxes, [(1.0, 1.2), (1.2, 1.4), (1.4, 1.6)], strict=True):
        assert len(box.x) == 2  # one box per week of strides (W02, W03)
        for position, median in zip(box.x, box.median, strict=True):
            label = ["2026-W02", "2026-W03"][round(position)]
            pick = (week == label) & (strides["speed_mps"] >= low) & (strides["speed_mps"] < high)
            assert median == pytest.approx(strides.loc[pick, "stride_length_m"].median())
    # the band markers differ by symbol, so bands read without colour
    symbols = [t.marker.symbol for t in traces(figure, "scatter") if t.name.startswith("pace ")]
    assert len(set(symbols)) == 3
    two = traces(weekly_stride_figure(strides, weekly, max_bands=2), "box")
    assert [b.name for b in two] == ["1.0\u20131.2 m/s", "1.2\u20131.4 m/s"]  # most strides


def test_weekly_stride_line_carries_the_adjusted_median_and_its_interval():
    strides, weekly = stride_tables()
    figure = weekly_stride_figure(strides, weekly)
    (line,) = [t for t in figure.data if t.name.startswith("pace-adjusted")]
    shown = np.isfinite(np.asarray(line.y, dtype=float))
    good = weekly["adjusted_stride_length_m"].notna().to_numpy()
    y = np.asarray(line.y, dtype=float)[shown]
    np.testing.assert_allclose(y, weekly.loc[good, "adjusted_stride_length_m"])
    np.testing.assert_allclose(
        y + np.asarray(line.error_y.array)[shown], weekly.loc[good, "ci_high_m"]
    )
    np.testing.assert_allclose(
        y - np.asarray(line.error_y.arrayminus)[shown], weekly.loc[good, "ci_low_m"]
    )
    # the "not enough data" week: an annotation at its position, no point (a gap in the line)
    ticks = list(figure.layout.xaxis.ticktext)
    assert ticks == ["2026-W02", "2026-W03", "2026-W04", "2026-W05"]
    (note,) = [a for a in figure.layout.annotations if "not enough" in a.text]
    assert note.x == ticks.index("2026-W04")
    assert np.isnan(np.asarray(line.y, dtype=float)[2])


def test_cadence_and_speed_share_the_weeks_on_two_axes():
    _, weekly = stride_tables()
    figure = cadence_speed_figure(weekly)
    cadence, speed = figure.data
    assert list(cadence.x) == list(weekly["week"])
    np.testing.assert_allclose(cadence.y, weekly["median_cadence_spm"])
    np.testing.assert_allclose(speed.y, weekly["median_speed_mps"])
    assert speed.yaxis == "y2" and figure.layout.yaxis2.title.text == "median speed (m/s)"
    assert cadence.line.dash != speed.line.dash


# ---------------------------------------------------------------------------------------------
# Sitting over weeks, coverage, headline numbers
# ---------------------------------------------------------------------------------------------


def summary_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "device_id": ["thigh1", "thigh1", "thigh1", "watch"],
            "day": ["2026-01-12", "2026-01-13", "2026-01-15", "2026-01-13"],
            "recorded_s": [86_400.0, 43_200.0, 7_200.0, 36_000.0],
            "wear_s": [50_000.0, 40_000.0, 7_000.0, 36_000.0],
            "sitting_s": [6.5 * 3600, 5.0 * 3600, 0.5 * 3600, 4.0 * 3600],
            "longest_bout_s": [50 * 60.0, 35 * 60.0, 10 * 60.0, 20 * 60.0],
        }
    )


def test_sitting_weeks_draws_hours_as_bars_and_longest_streak_in_minutes():
    summary = summary_table()
    figure = sitting_weeks_figure(summary[summary["device_id"] == "thigh1"])
    bars, line = figure.data
    assert list(bars.x) == ["2026-01-12", "2026-01-13", "2026-01-15"]
    np.testing.assert_allclose(bars.y, [6.5, 5.0, 0.5])
    np.testing.assert_allclose(line.y, [50, 35, 10])
    assert line.yaxis == "y2" and figure.layout.yaxis2.title.text == "longest streak (min)"
    # several devices: the one with most days, named in the title
    assert "(thigh1)" in sitting_weeks_figure(summary).layout.title.text


def test_coverage_heatmap_has_a_row_per_device_and_blank_missing_days():
    figure = coverage_heatmap_figure(summary_table())
    (heat,) = figure.data
    assert list(heat.y) == ["thigh1", "watch"]
    assert list(heat.x) == ["2026-01-12", "2026-01-13", "2026-01-14", "2026-01-15"]
    assert list(heat.z[0]) == [24.0, 12.0, None, 2.0]
    assert list(heat.z[1]) == [None, 10.0, None, None]


def test_headline_numbers_are_formatted_and_missing_ones_dashed():
    row = pd.Series(
        {
            "sitting_s": 6 * 3600 + 25 * 60.0,
            "longest_bout_s": 48 * 60.0,
            "breaks_per_sitting_hour": 2.345,
            "bouts_over_30min": 3,
            "wear_s": np.nan,
        }
    )
    assert headline_numbers(row) == {
        "sitting": "6 h 25 min",
        "longest streak": "48 min",
        "breaks per sitting hour": "2.3",
        "bouts over 30 min": "3",
        "wear": "\u2014",
    }
    assert set(headline_numbers(None).values()) == {"\u2014"}
    no_sitting = headline_numbers(pd.Series({"sitting_s": 0.0, "breaks_per_sitting_hour": 0.0}))
    assert no_sitting["sitting"] == "0 min" and no_sitting["breaks per sitting hour"] == "\u2014"


# ---------------------------------------------------------------------------------------------
# Routine
# ---------------------------------------------------------------------------------------------


def test_adherence_calendar_cells_hold_each_days_adherence():
    adherence = pd.DataFrame(
        {
            "day": ["2026-01-05", "2026-01-06", "2026-01-14", "2026-01-18", "2026-01-26"],
            "adherence": [1.0, 0.5, 0.0, 0.8, np.nan],
        }
    )
    figure = adherence_calendar_figure(adherence)
    (heat,) = figure.data
    assert list(heat.x) == ["2026-W02", "2026-W03", "2026-W04", "2026-W05"]
    assert list(heat.y) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    expected = [[None] * 4 for _ in range(7)]
    expected[0][0], expected[1][0], expected[2][1], expected[6][1] = 1.0, 0.5, 0.0, 0.8
    assert [list(row) for row in heat.z] == expected  # the logged NaN day stays blank
    assert heat.text[0][0] == "100%" and heat.text[2][1] == "0%" and heat.text[3][0] == ""
    assert (heat.zmin, heat.zmax) == (0.0, 1.0)


def test_symptoms_are_two_lines_told_apart_without_colour():
    symptoms = pd.DataFrame(
        {
            "day": ["2026-01-06", "2026-01-05", "2026-01-08"],
            "pain_0_10": [np.nan, 3.0, 2.0],
            "stiffness_0_10": [4.0, 5.0, np.nan],
        }
    )
    pain, stiffness = symptoms_figure(symptoms).data
    assert list(pain.x) == ["2026-01-05", "2026-01-06", "2026-01-08"]
    np.testing.assert_allclose(pain.y, [3.0, np.nan, 2.0])
    np.testing.assert_allclose(stiffness.y, [5.0, 4.0, np.nan])
    assert pain.line.dash != stiffness.line.dash
    assert pain.marker.symbol != stiffness.marker.symbol


def test_mobility_tests_are_dots_per_test_and_side_shaped_by_result():
    tests = pd.DataFrame(
        {
            "day": ["2026-01-05", "2026-01-05", "2026-01-12", "2026-01-12"],
            "test": ["bench_edge_hang"] * 4,
            "side": ["left", "right", "left", "right"],
            "result": ["no", "partly", "yes", "yes"],
        }
    )
    figure = mobility_tests_figure(tests)
    by_result = {t.name: t for t in figure.data}
    assert list(by_result["yes"].x) == ["2026-01-12", "2026-01-12"]
    assert list(by_result["yes"].y) == [
        "bench edge hang \u00b7 left",
        "bench edge hang \u00b7 right",
    ]
    assert list(by_result["no"].y) == ["bench edge hang \u00b7 left"]
    assert len({t.marker.symbol for t in figure.data}) == 3


# ---------------------------------------------------------------------------------------------
# Insights
# ---------------------------------------------------------------------------------------------


def association_rows() -> pd.DataFrame:
    nan = np.nan
    return pd.DataFrame(
        {
            "level": ["daily", "daily", "daily", "weekly"],
            "outcome": ["longest_streak_min", "longest_streak_min", "pain_0_10", "pain_0_10"],
            "lag": ["same day", "next day", "same day", "same week"],
            "n": [60, 60, 12, 5],
            "effect": [-3.0, -20.0, nan, nan],
            "ci_low": [-12.0, -30.0, nan, nan],
            "ci_high": [6.0, -10.0, nan, nan],
            "effect_sd": [-0.075, -0.5, nan, nan],
            "outcome_sd": [20.0, 20.0, nan, nan],
            "status": [
                NO_CLEAR,
                FINDING,
                "not enough data yet (n=12 days, need 21)",
                "not enough data yet (n=5 weeks, need 6)",
            ],
            "unit": ["min per +1.0 adherence"] * 2 + ["points (0-10) per +1.0 adherence"] * 2,
        }
    )


def test_forest_plot_shows_estimated_rows_and_lists_the_rest():
    figure = effects_figure(association_rows())
    finding, unclear = figure.data
    assert (finding.name, unclear.name) == (FINDING, NO_CLEAR)
    assert list(finding.x) == [-0.5] and list(unclear.x) == [-0.075]
    # the interval on the standardised scale: ci x effect_sd / effect
    assert finding.x[0] - finding.error_x.arrayminus[0] == pytest.approx(-0.75)
    assert finding.x[0] + finding.error_x.array[0] == pytest.approx(-0.25)
    assert finding.marker.size > unclear.marker.size
    assert finding.marker.symbol != unclear.marker.symbol
    labels = list(figure.layout.yaxis.ticktext)
    assert labels == [
        "longest sitting streak \u00b7 same day (n = 60 days)",
        "<b>longest sitting streak \u00b7 next day (n = 60 days)</b>",
    ]
    assert "-20 min per fully done day" in finding.hovertext[0]
    (missing,) = [a.text for a in figure.layout.annotations if "Not enough" in a.text]
    assert "pain \u00b7 same day: n=12 days, need 21" in missing
    assert "weekly mean pain \u00b7 same week: n=5 weeks, need 6" in missing
    assert figure.layout.shapes[0].x0 == 0  # the zero line


def test_forest_plot_without_any_estimate_lists_why():
    rows = association_rows().iloc[2:]
    figure = effects_figure(rows)
    assert not figure.data
    texts = annotation_texts(figure)
    assert "no effects can be estimated yet" in texts
    assert any("n=5 weeks, need 6" in t for t in texts)


def test_lag_scatter_pairs_each_day_with_the_outcome_lag_days_later():
    daily = pd.DataFrame(
        {
            "day": ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-10"],
            "adherence": [0.0, 0.5, 1.0, 0.2, 0.8],
            "longest_streak_min": [80.0, 70.0, 40.0, 60.0, np.nan],
        }
    )
    figure = lag_scatter_figure(daily, "longest_streak_min", 1)
    points, line = figure.data
    # pairs 05->06, 06->07, 07->08 (no day 09; day 10's outcome is missing)
    assert list(points.x) == [0.0, 0.5, 1.0] and list(points.y) == [70.0, 40.0, 60.0]
    assert "(n = 3 days)" in figure.layout.title.text
    assert list(line.x) == [0.0, 1.0]
    assert line.y[1] - line.y[0] == pytest.approx(-10.0)  # least-squares slope
    same_day = lag_scatter_figure(daily, "longest_streak_min", 0)
    assert "(n = 4 days)" in same_day.layout.title.text


# ---------------------------------------------------------------------------------------------
# Every figure: empty input, titles, greyscale
# ---------------------------------------------------------------------------------------------

EMPTY_CASES = {
    "timeline": lambda: posture_timeline_figure(None, None, None, TZ, DAY_START, DAY_END),
    "stride": lambda: weekly_stride_figure(empty_table("strides"), empty_table("weekly_stride")),
    "cadence": lambda: cadence_speed_figure(empty_table("weekly_stride")),
    "sitting": lambda: sitting_weeks_figure(empty_table("daily_summary")),
    "calendar": lambda: adherence_calendar_figure(pd.DataFrame({"day": [], "adherence": []})),
    "symptoms": lambda: symptoms_figure(pd.DataFrame(columns=["day", "pain_0_10"])),
    "mobility": lambda: mobility_tests_figure(None),
    "effects": lambda: effects_figure(pd.DataFrame()),
    "lag": lambda: lag_scatter_figure(pd.DataFrame(), "sitting_h", 1),
    "coverage": lambda: coverage_heatmap_figure(empty_table("daily_summary")),
}


@pytest.mark.parametrize("name", list(EMPTY_CASES))
def test_empty_input_gives_an_annotated_empty_figure(name):
    figure = EMPTY_CASES[name]()
    assert not figure.data
    assert len(figure.layout.annotations) >= 1 and figure.layout.annotations[0].text
    assert figure.layout.title.text
    json.loads(figure.to_json())


def realistic_figures() -> dict[str, go.Figure]:
    runs, bouts, alerts = day_tables()
    strides, weekly = stride_tables()
    return {
        "timeline": posture_timeline_figure(runs, bouts, alerts, TZ, DAY_START, DAY_END),
        "stride": weekly_stride_figure(strides, weekly),
        "cadence": cadence_speed_figure(weekly),
        "sitting": sitting_weeks_figure(summary_table()),
        "calendar": adherence_calendar_figure(
            pd.DataFrame({"day": ["2026-01-05"], "adherence": [0.4]})
        ),
        "symptoms": symptoms_figure(
            pd.DataFrame({"day": ["2026-01-05"], "pain_0_10": [2.0], "stiffness_0_10": [3.0]})
        ),
        "mobility": mobility_tests_figure(
            pd.DataFrame(
                {"day": ["2026-01-05"], "test": ["t"], "side": ["left"], "result": ["yes"]}
            )
        ),
        "effects": effects_figure(association_rows()),
        "coverage": coverage_heatmap_figure(summary_table()),
    }


def test_every_figure_has_a_title_and_axis_titles_and_serialises():
    for name, figure in realistic_figures().items():
        assert figure.layout.title.text, name
        assert figure.layout.xaxis.title.text, name
        assert figure.layout.yaxis.title.text, name
        json.loads(figure.to_json())


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_posture_styles_can_be_told_apart_in_greyscale():
    names = {"sitting", "lying", "standing", "upright", "moving", "sedentary", "non_wear"}
    assert names | {"unknown"} <= set(POSTURE_STYLE)
    for alias, name in POSTURE_ALIASES.items():  # the same posture under another name
        assert POSTURE_STYLE[alias]["color"] == POSTURE_STYLE[name]["color"]
        assert POSTURE_STYLE[alias]["pattern"] == POSTURE_STYLE[name]["pattern"]
    distinct = [p for p in POSTURE_STYLE if p not in POSTURE_ALIASES]
    for a, b in itertools.combinations(distinct, 2):
        style_a, style_b = POSTURE_STYLE[a], POSTURE_STYLE[b]
        lightness = abs(relative_luminance(style_a["color"]) - relative_luminance(style_b["color"]))
        assert style_a["pattern"] != style_b["pattern"] or lightness >= 0.15, (a, b)


def test_iso_week_of_days_labels_local_days():
    weeks = iso_week_of_days(["2026-01-04", "2026-01-05", "2025-12-29"])
    assert list(weeks) == ["2026-W01", "2026-W02", "2026-W01"]
    assert iso_week_of_days([]).empty
