"""The events found in a 21-day run equal what the synthetic truth says happened."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import create_engine, text

from tests.factories import START
from wugan.pipeline import run
from wugan.settings import get_settings

DAYS = 21
END = START + dt.timedelta(days=DAYS - 1)


@pytest.fixture(scope="module")
def ran(city_template, tmp_path_factory):
    import shutil

    home = tmp_path_factory.mktemp("truth") / "home"
    shutil.copytree(city_template, home)
    settings = get_settings(home)
    run(settings, start=START, days=DAYS)
    engine = create_engine(settings.case_store_url)
    with engine.connect() as conn:
        events = pl.DataFrame(
            conn.execute(text("SELECT event_type, person_id, subject, key, event_date, detected_on FROM events")).all(),
            schema=["event_type", "person_id", "subject", "key", "event_date", "detected_on"], orient="row",
        )
    engine.dispose()
    return settings, events


def _of(events: pl.DataFrame, kind: str) -> pl.DataFrame:
    return events.filter(pl.col("event_type") == kind)


def test_births_are_the_births_delivered(ran):
    settings, events = ran
    truth = pl.read_parquet(settings.truth / "births.parquet").filter(pl.col("delivered_on") <= END)
    assert truth.height > 0
    assert sorted(_of(events, "birth")["subject"]) == sorted(truth["birth_record_id"])


def test_deaths_are_the_deaths_delivered(ran):
    settings, events = ran
    truth = pl.read_parquet(settings.truth / "deaths.parquet").filter(pl.col("delivered_on") <= END)
    assert truth.height > 0
    assert sorted(_of(events, "death")["person_id"]) == sorted(truth["person_id"])


def test_old_age_events_are_every_allowance_tier_owed(ran):
    """The first run finds everyone of 80 or more the civil-affairs extract does not pay; later days the
    80/90/100th birthdays (a higher tier the extract does not pay yet). Never for someone whose death
    record had arrived by then."""
    settings, events = ran
    persons = pl.read_parquet(settings.truth / "persons.parquet")
    deaths = pl.read_parquet(settings.truth / "deaths.parquet").select("person_id", "delivered_on")
    paid = pl.read_csv(settings.inbox / "benefits" / f"benefits_{START}.csv", infer_schema=False).filter(
        pl.col("benefit") == "old_age_allowance")["person_id"]
    people = persons.join(deaths, on="person_id", how="left").with_columns(
        **{f"at{age}": pl.col("birth_date").dt.offset_by(f"{age}y") for age in (80, 90, 100)})
    tier = pl.when(pl.col("at100") <= START).then(100).when(pl.col("at90") <= START).then(90).when(
        pl.col("at80") <= START).then(80)
    first = people.with_columns(tier=tier).filter(
        pl.col("tier").is_not_null() & ~pl.col("person_id").is_in(paid.implode())
        & (pl.col("delivered_on").is_null() | (pl.col("delivered_on") > START)))
    expected = {f"old_age:{p}:{t}" for p, t in first.select("person_id", "tier").iter_rows()}
    for age in (80, 90, 100):
        turning = people.filter(pl.col(f"at{age}").is_between(START, END, closed="right")
                                & (pl.col("delivered_on").is_null() | (pl.col("delivered_on") > pl.col(f"at{age}"))))
        expected |= {f"old_age:{p}:{age}" for p in turning["person_id"]}
    assert len(expected) > 0
    assert set(_of(events, "old_age")["key"]) == expected


def test_retirements_due_within_the_look_ahead(ran):
    settings, events = ran
    persons = pl.read_parquet(settings.truth / "persons.parquet")
    deaths = pl.read_parquet(settings.truth / "deaths.parquet").select("person_id", "delivered_on")
    due = (
        persons.filter(
            pl.col("employment").is_in(["employee", "cadre", "flexible"])
            & (pl.col("retirement_date") > START)
            & (pl.col("retirement_date") <= END + dt.timedelta(days=90))
        )
        # The day it is first seen: the first day whose look-ahead reaches it.
        .with_columns(seen=pl.max_horizontal(pl.lit(START), pl.col("retirement_date") - pl.duration(days=90)))
        .join(deaths, on="person_id", how="left")
        .filter(pl.col("delivered_on").is_null() | (pl.col("delivered_on") > pl.col("seen")))
    )
    assert due.height > 0
    found = _of(events, "retirement")
    assert sorted(found["person_id"]) == sorted(due["person_id"])
    months = found.select("person_id", month=pl.col("event_date").cast(pl.String).str.to_date())
    joined = months.join(due.select("person_id", "retirement_date"), on="person_id")
    assert (joined["month"] == joined["retirement_date"]).all(), "the rule set and the truth agree on the month"


def test_no_event_is_raised_twice(ran):
    _, events = ran
    assert events["key"].n_unique() == events.height


@pytest.mark.parametrize("event_type", ["birth", "death", "old_age", "retirement", "medical_hardship"])
def test_a_backtest_replays_what_the_pipeline_did(ran, event_type):
    """The backtest runs the pipeline's own desired-state queries over the period in one pass: it finds the
    events the daily runs found, routed the same way and, for the date triggers, raised on the same days
    (a feed's delivery lag makes the rest later). Births and deaths dated before the period but delivered in
    it are the pipeline's alone, and so are events of persons who died before the period's end (the
    pipeline raised them while they lived, then reversed them)."""
    from wugan import lake
    from wugan.backtest import backtest
    from wugan.events import ruleset_for

    settings, events = ran
    replay = backtest(lake.connect(settings), ruleset_for(event_type, rules_dir=settings.rules_dir), start=START,
                      end=END, rules_dir=settings.rules_dir)
    engine = create_engine(settings.case_store_url)
    with engine.connect() as conn:
        routes = dict(conn.execute(text(
            "SELECT e.key, d.route FROM events e JOIN decisions d ON d.event_id = e.id "
            "WHERE e.event_type = :t AND d.route NOT IN ('correction', 'reversal')"
        ), {"t": event_type}).all())
    engine.dispose()
    died = pl.read_parquet(settings.truth / "deaths.parquet").filter(pl.col("delivered_on") <= END)["person_id"]
    found = _of(events, event_type).filter(pl.col("event_date").cast(pl.String) >= START.isoformat()
                                           if event_type in ("birth", "death") else True)
    replayed = replay.decisions
    if event_type != "death":  # the pipeline raised them while they lived and reversed them; a replay may not
        found = found.filter(~pl.col("person_id").is_in(died.implode()))
        replayed = replayed.filter(~pl.col("person_id").is_in(died.implode()))
    assert found.height > 0
    assert sorted(replayed["key"]) == sorted(found["key"])
    for key, route in replayed.select("key", "route").iter_rows():
        assert routes[key] == route
    if event_type in ("old_age", "retirement"):
        seen = dict(zip(found["key"], found["detected_on"].cast(pl.String), strict=True))
        assert all(seen[k] == d.isoformat() for k, d in replayed.select("key", "seen").iter_rows())
