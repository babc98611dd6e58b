"""A backtest reports exactly what a direct count over the same data gives."""

from __future__ import annotations

import datetime as dt

import polars as pl
from typer.testing import CliRunner

from tests.factories import START
from wugan import lake
from wugan.backtest import backtest, truth_labels
from wugan.cli.main import app
from wugan.rules import load_ruleset

YEAR_START, YEAR_END = dt.date(2024, 3, 1), dt.date(2025, 2, 28)


def _table(settings, sql: str) -> pl.DataFrame:
    return lake.connect(settings).sql(sql).pl()


def _hardship_by_hand(settings, share: float) -> pl.DataFrame:
    """First day in each calendar year on which a person's 12-month out-of-pocket total, over claims
    dated up to that day, is strictly above ``share`` × the village's income; counted per week."""
    claims = _table(settings, "SELECT person_id, claim_date, out_of_pocket FROM claims").with_columns(
        cents=(pl.col("out_of_pocket") * 100).round().cast(pl.Int64))
    persons = _table(settings, """SELECT p.person_id, r.income_prev_year,
                                  p.alive OR p.person_id IN (SELECT person_id FROM deaths) AS counted
                                  FROM persons p JOIN regions r ON r.region_code = p.hukou_village""")
    daily = claims.group_by("person_id", "claim_date").agg(pl.col("cents").sum()).sort("person_id", "claim_date")
    rolled = daily.rolling(index_column="claim_date", period="365d", group_by="person_id", closed="right").agg(
        oop_cents=pl.col("cents").sum())
    alerts = (rolled.join(persons.filter("counted"), on="person_id")
              .filter(pl.col("oop_cents") > share * pl.col("income_prev_year") * 100)
              .filter(pl.col("claim_date") >= dt.date(YEAR_START.year, 1, 1))
              .group_by("person_id", pl.col("claim_date").dt.year().alias("year")).agg(pl.col("claim_date").min())
              .filter(pl.col("claim_date").is_between(YEAR_START, YEAR_END)))
    return alerts.group_by(week=pl.col("claim_date").dt.truncate("1w")).agg(expected=pl.len())


def test_a_changed_share_counts_exactly_the_people_crossing_it(lake_home):
    settings = lake_home
    no_dx = {"medical_hardship.disabling_dx_days": 0}  # the spending trigger alone
    rs = load_ruleset("medical_hardship", rules_dir=settings.rules_dir,
                      overrides={"medical_hardship.oop_share": 0.4, **no_dx})
    base = load_ruleset("medical_hardship", rules_dir=settings.rules_dir, overrides=no_dx)
    result = backtest(lake.connect(settings), rs, start=YEAR_START, end=YEAR_END, rules_dir=settings.rules_dir,
                      base=base, labels=truth_labels(settings.home))
    got = result.weekly.select("week", "events", "base_events")
    expected = _hardship_by_hand(settings, 0.4)
    joined = got.join(expected, on="week", how="full", coalesce=True).with_columns(pl.col("expected").fill_null(0))
    assert joined["events"].sum() > 100
    assert joined.filter(pl.col("events") != pl.col("expected")).is_empty()
    base_expected = _hardship_by_hand(settings, 0.5)
    assert dict(got.select("week", "base_events").iter_rows()) == {
        w: dict(base_expected.iter_rows()).get(w, 0) for w in got["week"]}
    # every event is a home visit; a lower share finds more people and more of the eligible
    assert result.weekly["assistant_task"].sum() == result.weekly["events"].sum()
    assert result.weekly["visit_tasks"].sum() == result.decisions.height
    assert 0 < result.precision < 1 and 0 < result.recall <= 1
    moved = dict(((a, b), n) for a, b, n in result.changes.iter_rows())
    assert moved[("no_event", "assistant_task")] > 0
    assert result.sample.height > 0 and result.sample["id_masked"].str.contains(r"\*{8}").all()
    assert result.sample["flipped"].str.contains("alert").all()
    # workload: per village and week, against the sum of its assistants' weekly capacity
    capacity = _table(settings, "SELECT village_code, sum(weekly_capacity) AS c FROM assistants GROUP BY 1")
    check = result.workload.join(capacity, on="village_code", how="left")
    assert (check["capacity"] == check["c"].fill_null(0)).all()


def _diagnoses_by_hand(settings) -> pl.DataFrame:
    """First day in each calendar year on which a claim of a person becomes known while a claim with a listed
    diagnosis lies in the 365 days up to it — unless the person holds a grade 1–2 certificate and the care
    subsidy; counted per week."""
    from wugan.events.hardship import disabling_groups

    prefixes = sorted({p for codes in disabling_groups(settings.rules_dir).values() for p in codes})
    claims = _table(settings, "SELECT person_id, claim_date, icd10 FROM claims").with_columns(
        listed=pl.any_horizontal([pl.col("icd10").str.starts_with(p) for p in prefixes]))
    persons = _table(settings, """SELECT p.person_id FROM persons p
                                  WHERE p.alive OR p.person_id IN (SELECT person_id FROM deaths)""")
    covered = _table(settings, """SELECT g.person_id, greatest(g.registered_date, b.start_date) AS since
                                  FROM disability_registry g JOIN benefits b USING (person_id)
                                  WHERE g.grade <= 2 AND b.benefit = 'severe_disability_care'""")
    days = claims.select("person_id", "claim_date").unique()
    listed = claims.filter("listed").select("person_id", dx="claim_date")
    hits = (days.join(listed, on="person_id")
            .filter((pl.col("dx") <= pl.col("claim_date")) & (pl.col("dx") > pl.col("claim_date") - pl.duration(days=365)))
            .select("person_id", "claim_date").unique()
            .join(persons, on="person_id")
            .join(covered, on="person_id", how="left").filter(pl.col("since").is_null()
                                                              | (pl.col("since") > pl.col("claim_date")))
            .filter(pl.col("claim_date") >= dt.date(YEAR_START.year, 1, 1))
            .group_by("person_id", pl.col("claim_date").dt.year().alias("year")).agg(pl.col("claim_date").min())
            .filter(pl.col("claim_date").is_between(YEAR_START, YEAR_END)))
    return hits.group_by(week=pl.col("claim_date").dt.truncate("1w")).agg(expected=pl.len())


def test_the_diagnosis_trigger_counts_exactly_the_people_with_a_listed_diagnosis(lake_home):
    settings = lake_home
    rs = load_ruleset("medical_hardship", rules_dir=settings.rules_dir, overrides={"medical_hardship.oop_share": 1e9})
    result = backtest(lake.connect(settings), rs, start=YEAR_START, end=YEAR_END, rules_dir=settings.rules_dir)
    got = result.weekly.select("week", "events")
    expected = _diagnoses_by_hand(settings)
    joined = got.join(expected, on="week", how="full", coalesce=True).with_columns(
        pl.col("expected", "events").fill_null(0))
    assert joined["events"].sum() > 100
    assert joined.filter(pl.col("events") != pl.col("expected")).is_empty()
    assert result.decisions["cond_disabling_diagnosis"].all() and not result.decisions["cond_high_spending"].any()


def test_old_age_tiers_are_the_birthdays_in_the_period(lake_home):
    settings = lake_home
    start, end = dt.date(2024, 3, 1), START + dt.timedelta(days=20)
    rs = load_ruleset("old_age_allowance", rules_dir=settings.rules_dir)
    result = backtest(lake.connect(settings), rs, start=start, end=end, rules_dir=settings.rules_dir)
    persons = _table(settings, """SELECT person_id, birth_date,
                                  p.alive OR p.person_id IN (SELECT person_id FROM deaths) AS counted
                                  FROM persons p""")
    deaths = _table(settings, "SELECT person_id, _delivered AS died FROM deaths")
    expected = {}
    for age in (80, 90, 100):
        turning = (persons.filter("counted").with_columns(birthday=pl.col("birth_date").dt.offset_by(f"{age}y"))
                   .filter(pl.col("birthday").is_between(start, end))
                   .join(deaths, on="person_id", how="left")
                   .filter(pl.col("died").is_null() | (pl.col("died") > pl.col("birthday"))))
        expected[age] = turning.height
    got = dict(result.decisions.group_by("tier").len().iter_rows())
    assert sum(expected.values()) > 20
    assert {age: got.get(age, 0) for age in (80, 90, 100)} == expected
    assert result.weekly["instant_approve"].sum() == sum(expected.values())
    assert result.weekly["amount"].sum() == result.decisions["allowance_monthly"].sum()


def test_the_cli_prints_and_writes_the_weekly_table(lake_home, tmp_path):
    out = tmp_path / "weekly.csv"
    res = CliRunner().invoke(app, [
        "rules", "backtest", "medical_hardship", "--from", "2024-09-01", "--to", "2024-11-30",
        "--set", "medical_hardship.oop_share=0.4", "--compare", "--home", str(lake_home.home),
        "--output", str(out)])
    assert res.exit_code == 0, res.output
    assert "per week" in res.output and "route changes" in res.output
    weekly = pl.read_csv(out)
    assert {"week", "events", "assistant_task", "amount", "visit_tasks", "villages_over_capacity", "precision",
            "recall", "base_events", "ruleset_version"} <= set(weekly.columns)
    assert (tmp_path / "weekly_changes.csv").is_file()
