"""Bundle cases in the case store: item states, dependencies, revocation, capacity — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import func, select

from wugan.assess import assess
from wugan.cases.act import act
from wugan.cases.capacity import assign_week
from wugan.cases.db import migrate, session_scope
from wugan.cases.models import AuditLog, Case, Decision, Item, Notice, Task, make_id
from wugan.cases.workflow import (
    WorkflowError,
    complete_item,
    reject_item,
    review_decision,
    start_item,
)
from wugan.scoring.queue import week_of
from wugan.settings import get_settings
from wugan.synth.events import MOTHER, VILLAGE, birth_events

DAY = dt.date(2025, 3, 3)  # a Monday
RULES = get_settings().rules_dir
AT = dt.datetime(2025, 3, 4, 9, 30)


@pytest.fixture
def store(store_url):
    migrate(store_url)
    return store_url


def _act_births(url: str, n: int) -> None:
    with session_scope(url) as session:
        act(session, assess(birth_events(n, day=DAY), rules_dir=RULES), day=DAY, rules_dir=RULES)


def _items(session, case_id: str) -> dict[str, Item]:
    return {i.service: i for i in session.scalars(select(Item).where(Item.case_id == case_id))}


def test_a_birth_case_has_its_items_in_dependency_order(store):
    _act_births(store, 1)
    with session_scope(store) as session:
        case = session.scalars(select(Case)).one()
        items = _items(session, case.id)
        assert set(items) == {"hukou_registration", "vaccination_record", "medical_insurance",
                              "social_security_card", "childcare_subsidy", "maternity_allowance"}
        subsidy = items["childcare_subsidy"]
        # Born 2025-03-03: the 36 months after the birth month, 300 CNY each.
        assert (subsidy.status, subsidy.amount, subsidy.done_on) == ("done", 10_800.0, DAY)
        assert items["hukou_registration"].status == "ready"
        assert items["medical_insurance"].status == "pending" and items["medical_insurance"].stage == 2
        assert case.status == "open"
        decision = session.scalars(select(Decision)).one()
        assert decision.route == "bundle_case" and decision.ruleset == "childcare_subsidy"
        assert {c["name"] for c in decision.explanation["conditions"]} >= {"born"}


def test_finishing_an_item_readies_its_dependents_and_the_last_closes_the_case(store):
    _act_births(store, 1)
    with session_scope(store) as session:
        case = session.scalars(select(Case)).one()
        items = _items(session, case.id)
        with pytest.raises(WorkflowError):
            complete_item(session, item_id=items["medical_insurance"].id, result={}, actor="u", at=AT)
        start_item(session, item_id=items["hukou_registration"].id, actor="police1", at=AT)
        complete_item(session, item_id=items["hukou_registration"].id, result={"certificate": "户口本 123"},
                      actor="police1", at=AT)
        items = _items(session, case.id)
        assert items["medical_insurance"].status == "ready"
        assert items["social_security_card"].status == "ready"
        for service in ("vaccination_record", "medical_insurance", "social_security_card"):
            complete_item(session, item_id=items[service].id, result={"ok": True}, actor="u", at=AT)
        assert session.get_one(Case, case.id).status == "open"
        reject_item(session, item_id=items["maternity_allowance"].id, reason="母亲未参加生育保险", actor="u", at=AT)
        assert session.get_one(Case, case.id).status == "closed"
        actions = session.scalars(select(AuditLog.action).where(AuditLog.actor != "pipeline")).all()
        assert actions.count("item_done") == 4 and "case_closed" in actions and "item_ready" in actions


def test_revoking_an_instant_approval_creates_a_compensating_item_and_a_notice(store):
    _act_births(store, 1)
    with session_scope(store) as session:
        decision = session.scalars(select(Decision)).one()
        with pytest.raises(WorkflowError):
            review_decision(session, decision_id=decision.id, verdict="revoked", reason=" ", actor="r", at=AT)
        review_decision(session, decision_id=decision.id, verdict="revoked", reason="出生记录重复", actor="r", at=AT)
        case = session.scalars(select(Case)).one()
        compensating = _items(session, case.id)["revoke_childcare_subsidy"]
        assert compensating.amount == -10_800.0 and compensating.status == "ready"
        notice = session.scalars(select(Notice).where(Notice.template == "revoked")).one()
        assert "出生记录重复" in notice.body and MOTHER not in notice.body
        assert "向卫生健康委员会申请复核" in notice.body, "the lead department by name, not its code"
        with pytest.raises(WorkflowError):
            review_decision(session, decision_id=decision.id, verdict="confirmed", reason="", actor="r", at=AT)


def test_acting_twice_on_the_same_batch_writes_nothing_more(store):
    _act_births(store, 50)
    with session_scope(store) as session:
        counts = [session.scalar(select(func.count()).select_from(t)) for t in (Case, Item, Task, AuditLog)]
    _act_births(store, 50)
    with session_scope(store) as session:
        assert [session.scalar(select(func.count()).select_from(t)) for t in (Case, Item, Task, AuditLog)] == counts
    assert counts[0] == 50 and counts[1] == 300


def _tasks(session, n: int, village: str) -> None:
    for i in range(n):
        session.add(Task(id=make_id("t", village, i), event_id="e", kind="home_visit", village_code=village,
                         reason="r", priority=float(i), created_on=DAY, status="backlog"))


def test_assistants_never_get_more_than_their_weekly_capacity(store):
    assistants = pl.DataFrame({"assistant_id": ["A1", "A2", "B1"], "village_code": [VILLAGE, VILLAGE, "371402001002"],
                               "weekly_capacity": [3, 2, 1]})
    with session_scope(store) as session:
        _seed_event(session)
        _tasks(session, 9, VILLAGE)
        _tasks(session, 2, "371402001002")
    with session_scope(store) as session:
        assert assign_week(session, day=DAY, assistants=assistants) == 6
    with session_scope(store) as session:
        assert assign_week(session, day=DAY + dt.timedelta(days=2), assistants=assistants) == 0, "the week is full"
        assigned = session.scalars(select(Task).where(Task.status == "assigned")).all()
        load = pl.DataFrame({"a": [t.assistant_id for t in assigned]})["a"].value_counts()
        assert dict(load.iter_rows()) == {"A1": 3, "A2": 2, "B1": 1}
        # The highest priorities went first; the rest wait in the backlog, in order.
        top = sorted(t.priority for t in assigned if t.village_code == VILLAGE)
        assert top == [4.0, 5.0, 6.0, 7.0, 8.0]
        assert {t.week for t in assigned} == {week_of(DAY)}
        assert session.scalar(select(func.count()).select_from(Task).where(Task.status == "backlog")) == 5
    with session_scope(store) as session:
        assert assign_week(session, day=DAY + dt.timedelta(days=7), assistants=assistants) == 5


def _seed_event(session) -> None:
    """Tasks reference an event; one carries them all here."""
    from wugan.cases.models import Event

    session.add(Event(id="e", key="test:e", event_type="medical_hardship", person_id=MOTHER, subject=MOTHER,
                      village_code=VILLAGE, event_date=DAY, detected_on=DAY, details={}))
    session.flush()
