"""A backtest reports exactly what a direct count over the same data gives."""

from __future__ import annotations

import datetime as dt

import polars as pl
from typer.testing import CliRunner

from tests.factories import START
from wugan import lake
from wugan.backtest import backtest, truth_labels
from wugan.cli.main import app
from wugan.rules import load_parameter, load_ruleset

YEAR_START, YEAR_END = dt.date(2024, 3, 1), dt.date(2025, 2, 28)


def _table(settings, sql: str) -> pl.DataFrame:
    return lake.connect(settings).sql(sql).pl()


def _hardship_by_hand(settings, share: float) -> pl.DataFrame:
    """A pipeline watching from ``YEAR_START``: the first day in each calendar year (a claim date from 1
    January of the start's year, or the start day itself) on which a person's 12-month out-of-pocket
    total, over claims dated up to that day, is strictly above ``share`` × the village's income; counted
    per week of the day a daily run raises it (not before the start)."""
    claims = _table(settings, "SELECT person_id, claim_date, out_of_pocket FROM claims").with_columns(
        cents=(pl.col("out_of_pocket") * 100).round().cast(pl.Int64))
    persons = _table(settings, f"""SELECT p.person_id, r.income_prev_year FROM persons p
                                   JOIN regions r ON r.region_code = p.hukou_village
                                   WHERE (p.alive OR p.person_id IN (SELECT person_id FROM deaths))
                                     AND p.person_id NOT IN (SELECT person_id FROM deaths
                                                             WHERE death_date <= DATE '{YEAR_START}')""")
    daily = claims.group_by("person_id", "claim_date").agg(pl.col("cents").sum())
    # the start day is a day of its own for everyone with claims: what was already high when watching began
    start_day = daily.select("person_id").unique().with_columns(claim_date=pl.lit(YEAR_START),
                                                              cents=pl.lit(0, pl.Int64))
    days = pl.concat([daily, start_day]).group_by("person_id", "claim_date").agg(pl.col("cents").sum()).sort(
        "person_id", "claim_date")
    rolled = days.rolling(index_column="claim_date", period="365d", group_by="person_id", closed="right").agg(
        oop_cents=pl.col("cents").sum())
    alerts = (rolled.join(persons, on="person_id")
              .filter(pl.col("oop_cents") > share * pl.col("income_prev_year") * 100)
              .filter(pl.col("claim_date").is_between(dt.date(YEAR_START.year, 1, 1), YEAR_END))
              .filter((pl.col("claim_date") >= YEAR_START) | (pl.col("claim_date").dt.year() == YEAR_START.year))
              .group_by("person_id", pl.col("claim_date").dt.year().alias("year")).agg(pl.col("claim_date").min())
              .with_columns(seen=pl.max_horizontal("claim_date", pl.lit(YEAR_START))))
    return alerts.group_by(week=pl.col("seen").dt.truncate("1w")).agg(expected=pl.len())


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
    """A pipeline watching from ``YEAR_START``: the first day in each calendar year (a claim date from 1
    January of the start's year, or the start day itself) on which a claim with a listed diagnosis lies in
    the 365 days up to it — unless the person then holds a grade 1–2 certificate and the care subsidy;
    counted per week of the day a daily run raises it (not before the start)."""
    from wugan.events.hardship import disabling_groups

    prefixes = sorted({p for codes in disabling_groups(settings.rules_dir).values() for p in codes})
    claims = _table(settings, "SELECT person_id, claim_date, icd10 FROM claims").with_columns(
        listed=pl.any_horizontal([pl.col("icd10").str.starts_with(p) for p in prefixes]))
    persons = _table(settings, f"""SELECT p.person_id FROM persons p
                                   WHERE (p.alive OR p.person_id IN (SELECT person_id FROM deaths))
                                     AND p.person_id NOT IN (SELECT person_id FROM deaths
                                                             WHERE death_date <= DATE '{YEAR_START}')""")
    covered = _table(settings, """SELECT g.person_id, greatest(g.registered_date, b.start_date) AS since
                                  FROM disability_registry g JOIN benefits b USING (person_id)
                                  WHERE g.grade <= 2 AND b.benefit = 'severe_disability_care'""")
    days = pl.concat([claims.select("person_id", "claim_date"),
                      claims.select("person_id").with_columns(claim_date=pl.lit(YEAR_START))]).unique()
    listed = claims.filter("listed").select("person_id", dx="claim_date")
    hits = (days.join(listed, on="person_id")
            .filter((pl.col("dx") <= pl.col("claim_date")) & (pl.col("dx") > pl.col("claim_date") - pl.duration(days=365)))
            .select("person_id", "claim_date").unique()
            .join(persons, on="person_id")
            .join(covered, on="person_id", how="left").filter(pl.col("since").is_null()
                                                              | (pl.col("since") > pl.col("claim_date")))
            .filter(pl.col("claim_date").is_between(dt.date(YEAR_START.year, 1, 1), YEAR_END))
            .group_by("person_id", pl.col("claim_date").dt.year().alias("year")).agg(pl.col("claim_date").min())
            .with_columns(seen=pl.max_horizontal("claim_date", pl.lit(YEAR_START))))
    return hits.group_by(week=pl.col("seen").dt.truncate("1w")).agg(expected=pl.len())


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


def test_old_age_tiers_are_the_tiers_owed_in_the_period(lake_home):
    """Watching from the start: the tier each living person held then, and every tier birthday after it,
    unless the civil-affairs extract already paid that tier's amount from that day."""
    settings = lake_home
    start, end = dt.date(2024, 3, 1), START + dt.timedelta(days=20)
    rs = load_ruleset("old_age_allowance", rules_dir=settings.rules_dir)
    result = backtest(lake.connect(settings), rs, start=start, end=end, rules_dir=settings.rules_dir)
    persons = _table(settings, """SELECT person_id, birth_date, hukou_village,
                                  p.alive OR p.person_id IN (SELECT person_id FROM deaths) AS counted
                                  FROM persons p""")
    deaths = _table(settings, "SELECT person_id, death_date FROM deaths")
    paid = _table(settings, """SELECT person_id, start_date, monthly_amount FROM benefits
                               WHERE benefit = 'old_age_allowance'""")
    tiers = {age: load_parameter(f"old_age_allowance.tier_{age}", rules_dir=settings.rules_dir) for age in (80, 90, 100)}
    rows = []
    for age in (80, 90, 100):
        rows.append(persons.filter("counted").with_columns(
            tier=pl.lit(age), birthday=pl.col("birth_date").dt.offset_by(f"{age}y")).filter(pl.col("birthday") <= end))
    reached = pl.concat(rows).with_columns(seen=pl.max_horizontal("birthday", pl.lit(start)))
    held_at_start = reached.filter(pl.col("birthday") <= start).group_by("person_id").agg(pl.col("tier").max())
    owed = pl.concat([reached.join(held_at_start, on=["person_id", "tier"], how="semi"),
                      reached.filter(pl.col("birthday") > start)])
    owed = (owed.join(deaths, on="person_id", how="left")
            .filter(pl.col("death_date").is_null() | (pl.col("death_date") > pl.col("seen")))
            .join(paid, on="person_id", how="left")
            .with_columns(amount=pl.struct("tier", "seen", "hukou_village").map_elements(
                lambda r: float(tiers[r["tier"]].at(r["seen"], r["hukou_village"])), return_dtype=pl.Float64))
            .filter(pl.col("start_date").is_null() | (pl.col("start_date") > pl.col("seen"))
                    | (pl.col("monthly_amount") < pl.col("amount"))))
    expected = dict(owed.group_by("tier").len().iter_rows())
    got = dict(result.decisions.group_by("tier").len().iter_rows())
    assert sum(expected.values()) > 20 and expected.get(90, 0) > 0
    assert {age: got.get(age, 0) for age in (80, 90, 100)} == {age: expected.get(age, 0) for age in (80, 90, 100)}
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
