"""A corrupted day that multiplies births trips the breaker: approvals held, back office alerted, each
released exactly once."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import func, select

from tests.factories import START
from wugan.cases.db import session_scope
from wugan.cases.guardrails import check, reject_held, release_held
from wugan.cases.models import Alert, AuditLog, Case, Decision, Item, Notice
from wugan.pipeline import run, run_day
from wugan.settings import get_settings

QUIET_DAYS = 8
FAULT_DAY = START + dt.timedelta(days=QUIET_DAYS)
EXTRA_BIRTHS = 40  # the floor is 5 a day and the factor 3: more than 15 trips it


def _fake_births(home, day: dt.date, n: int) -> None:
    """A second births file for ``day``: real mothers of the city, new birth record ids (a feed gone wrong)."""
    persons = pl.read_parquet(home / "truth" / "persons.parquet")
    mothers = persons.filter(
        (pl.col("sex") == "F") & pl.col("death_date").is_null()
        & pl.col("birth_date").is_between(day - dt.timedelta(days=40 * 365), day - dt.timedelta(days=20 * 365))
    ).sort("person_id").head(n)
    rows = mothers.select(
        birth_record_id=pl.format("Q3714029{}", pl.int_range(n).cast(pl.String).str.zfill(5)),
        birth_date=pl.lit(day), child_name=pl.lit(None, pl.String), child_sex=pl.lit("M"),
        mother_id="person_id", father_id=pl.lit(None, pl.String), hospital=pl.lit("德州市人民医院"),
        hukou_village="hukou_village",
    )
    rows.write_csv(home / "inbox" / "births" / f"births_{day.isoformat()}_2.csv")


@pytest.fixture(scope="module")
def tripped(city_template, tmp_path_factory):
    import shutil

    home = tmp_path_factory.mktemp("breaker") / "home"
    shutil.copytree(city_template, home)
    settings = get_settings(home)
    run(settings, start=START, days=QUIET_DAYS)
    _fake_births(home, FAULT_DAY, EXTRA_BIRTHS)
    run_day(settings, FAULT_DAY)
    return settings


def _held(session):
    return session.scalars(select(Decision).where(Decision.review == "held")).all()


def test_the_breaker_holds_the_days_instant_approvals_and_alerts(tripped):
    with session_scope(tripped.case_store_url) as session:
        held = _held(session)
        assert len(held) >= EXTRA_BIRTHS
        assert {d.ruleset for d in held} == {"childcare_subsidy"}
        assert {d.decided_on for d in held} == {FAULT_DAY}
        alerts = session.scalars(select(Alert).where(Alert.kind == "circuit_breaker")).all()
        assert [(a.ruleset, a.created_on, a.status) for a in alerts] == [("childcare_subsidy", FAULT_DAY, "open")]
        assert alerts[0].details["held"] == len(held)
        ids = [d.id for d in held]
        items = session.scalars(select(Item).where(Item.decision_id.in_(ids))).all()
        assert items and {i.status for i in items} == {"held"}  # nothing paid
        assert all(i.amount and i.amount > 0 for i in items)  # the amount waits for release
        event_ids = [d.event_id for d in held]
        assert session.scalar(select(func.count()).select_from(Notice).where(Notice.event_id.in_(event_ids))) == 0
        # the days before were approved at once, as usual
        earlier = session.scalars(select(Item).join(Decision, Decision.id == Item.decision_id).where(
            Decision.ruleset == "childcare_subsidy", Decision.decided_on < FAULT_DAY)).all()
        assert earlier and {i.status for i in earlier} == {"done"}


def test_release_acts_on_each_held_decision_exactly_once(tripped):
    at = dt.datetime.combine(FAULT_DAY + dt.timedelta(days=1), dt.time(9))
    with session_scope(tripped.case_store_url) as session:
        held = [d.id for d in _held(session)]
        keep = held[:3]  # a reviewer rejects three (say, the duplicated rows) and releases the rest
        assert reject_held(session, decision_ids=keep, reason="重复报送", actor="reviewer:1", at=at) == keep
        released = release_held(session, ruleset="childcare_subsidy", actor="reviewer:1", at=at, settings=tripped)
        assert sorted(released) == sorted(held[3:])
    with session_scope(tripped.case_store_url) as session:
        assert _held(session) == []
        again = release_held(session, ruleset="childcare_subsidy", actor="reviewer:1", at=at, settings=tripped)
        assert again == []
        assert release_held(session, decision_ids=held, actor="reviewer:1", at=at, settings=tripped) == []
    with session_scope(tripped.case_store_url) as session:
        for decision_id in held[3:]:
            d = session.get_one(Decision, decision_id)
            assert d.review == "released"
            items = session.scalars(select(Item).where(Item.decision_id == decision_id)).all()
            assert items and all(i.status == "done" and i.done_on == at.date() and i.amount > 0 for i in items)
            assert session.scalar(select(func.count()).select_from(Notice).where(Notice.event_id == d.event_id)) == 1
            assert session.scalar(select(func.count()).select_from(AuditLog).where(
                AuditLog.entity_id == decision_id, AuditLog.action == "held_released")) == 1
        for decision_id in keep:
            d = session.get_one(Decision, decision_id)
            assert d.review == "rejected"
            assert {i.status for i in session.scalars(select(Item).where(Item.decision_id == decision_id))} == {
                "rejected"}
            assert session.scalar(select(func.count()).select_from(Notice).where(Notice.event_id == d.event_id)) == 0
            case = session.scalars(select(Case).where(Case.event_id == d.event_id)).one()
            assert case.status == "open"  # the registration items are still the police's to do
        alert = session.scalars(select(Alert).where(Alert.kind == "circuit_breaker")).one()
        assert alert.status == "resolved"


def test_a_normal_day_does_not_trip(tripped):
    with session_scope(tripped.case_store_url) as session:
        verdict = check(session, ruleset="childcare_subsidy", day=FAULT_DAY + dt.timedelta(days=1), volume=2,
                        rules_dir=tripped.rules_dir)
        assert verdict.reason is None and verdict.threshold == 15.0
