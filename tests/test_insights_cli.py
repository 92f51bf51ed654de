"""``psoas insights`` end to end: a simulated person's routine log imported as CSV, their sitting
and stride tables in a real store, the findings printed by the console script."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.insights import associations, daily_insight_table, weekly_insight_table
from sensors.simulate_routine import routine_log_csv, simulate_routine_weeks
from sensors.store import Store
from tests.test_cli import psoas


def _person_store(home: Path, tmp_path: Path, weeks: int, seed: int = 4):
    sim = simulate_routine_weeks(weeks=weeks, seed=seed)
    log = tmp_path / "routine.csv"
    log.write_text(routine_log_csv(sim))
    psoas("routine", "import", str(log), home=home)
    with Store.open(home) as store:
        store.replace_derived("daily_summary", sim.daily_summary)
        store.replace_derived("weekly_stride", sim.weekly_stride)
    return sim


def test_insights_of_twelve_weeks_match_the_analysis_of_the_same_tables(tmp_path: Path):
    home = tmp_path / "h"
    sim = _person_store(home, tmp_path, weeks=12)
    printed = psoas("insights", "--table", "associations", home=home).stdout
    cli = pd.read_csv(io.StringIO(printed)).set_index(["level", "outcome", "lag"])
    daily = daily_insight_table(sim.adherence_daily, sim.symptoms, sim.daily_summary)
    direct = associations(daily, weekly_insight_table(daily, sim.weekly_stride))
    direct = direct.set_index(["level", "outcome", "lag"])
    # the log went through CSV import, versioning and adherence and came out as the same days
    for column in ("n", "effect", "ci_low", "ci_high", "p_adjusted"):
        np.testing.assert_allclose(
            cli.loc[direct.index, column].to_numpy(float), direct[column].to_numpy(float)
        )
    assert (cli.loc[direct.index, "status"] == direct["status"]).all()
    text = psoas("insights", home=home).stdout
    sentences = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(sentences) >= 10
    for line in sentences:
        assert ("n = " in line and "95 % CI" in line) or "not enough data yet" in line.lower()
    assert "next-day longest sitting streak" in text and "stride" in text


def test_two_weeks_are_not_enough_for_weekly_effects(tmp_path: Path):
    home = tmp_path / "h"
    _person_store(home, tmp_path, weeks=2)
    text = psoas("insights", home=home).stdout
    assert "Not enough data yet for weekly effects" in text
    table = pd.read_csv(io.StringIO(psoas("insights", "--table", "associations", home=home).stdout))
    weekly = table[table["level"] == "weekly"]
    assert weekly["status"].str.startswith("not enough data yet").all()
    assert weekly["effect"].isna().all() and weekly["ci_low"].isna().all()
