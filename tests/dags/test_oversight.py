"""Deadline watch and review sample (wugan.cases.oversight): once per day, deterministic, idempotent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from wugan.cases.db import migrate, session_scope
from wugan.cases.models import Alert, AuditLog, Case, Decision, Event, Item, Task
from wugan.cases.oversight import ReviewRates, escalate_overdue, sample_for_review
from wugan.settings import REPO_RULES_DIR

DAY = dt.date(2025, 4, 1)


def _seed(session) -> None:
    session.add(Event(id="e1", key="k1", event_type="birth", person_id="p1", subject="b1", village_code="v1",
                      event_date=DAY, detected_on=DAY, details={}))
    session.flush()
    session.add(Case(id="c1", event_id="e1", event_type="birth", title="出生一件事", person_id="p1",
                     village_code="v1", status="open", lead_department="health", opened_on=DAY))
    session.flush()
    for i, (department, due, status) in enumerate([
        ("police", DAY - dt.timedelta(days=1), "ready"),        # overdue: alerts police and the lead (health)
        ("health", DAY - dt.timedelta(days=3), "pending"),      # overdue, its department is the lead: one alert
        ("police", DAY, "ready"),                               # due today: not overdue yet
        ("civil_affairs", DAY - dt.timedelta(days=9), "done"),  # done: never escalated
    ]):
        session.add(Item(id=f"i{i}", case_id="c1", service=f"s{i}", label=f"事项{i}", department=department,
                         stage=1, status=status, depends_on=[], due_date=due))
    session.add(Task(id="t1", event_id="e1", kind="visit", village_code="v1", reason="r", priority=1.0,
                     created_on=DAY, due_date=DAY - dt.timedelta(days=2), status="assigned"))
    session.add(Task(id="t2", event_id="e1", kind="visit", village_code="v1", reason="r", priority=1.0,
                     created_on=DAY, due_date=DAY - dt.timedelta(days=2), status="done"))
    for n in range(400):
        session.add(Decision(id=f"d{n:03}", event_id="e1", event_type="birth",
                             route="instant_approve" if n < 300 else "bundle_case", ruleset="childcare_subsidy",
                             ruleset_version="v1", explanation={}, decided_on=DAY))


def test_overdue_items_and_tasks_escalate_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    migrate(url)
    with session_scope(url) as s:
        _seed(s)
    with session_scope(url) as s:
        assert escalate_overdue(s, day=DAY, rules_dir=REPO_RULES_DIR) == 3  # i0, i1, t1
    with session_scope(url) as s:
        alerts = {(a.kind, a.entity_id, a.department) for a in s.scalars(select(Alert))}
        assert alerts == {("overdue_item", "i0", "police"), ("overdue_item", "i0", "health"),
                          ("overdue_item", "i1", "health"), ("overdue_task", "t1", "civil_affairs")}
        assert {i.id for i in s.scalars(select(Item).where(Item.escalated_on == DAY))} == {"i0", "i1"}
        assert s.scalars(select(AuditLog.actor).where(AuditLog.action == "escalated")).all() == ["pipeline"] * 3
    with session_scope(url) as s:  # the same day again: nothing new; the next day: only what fell due today
        assert escalate_overdue(s, day=DAY, rules_dir=REPO_RULES_DIR) == 0
        assert escalate_overdue(s, day=DAY + dt.timedelta(days=1), rules_dir=REPO_RULES_DIR) == 1  # i2


def test_review_sample_is_deterministic_and_higher_for_new_rule_sets(tmp_path):
    rates = ReviewRates(default=0.05, new=0.5, new_days=30, rulesets={"childcare_subsidy": 0.1})
    assert rates.rate("childcare_subsidy", first_seen=DAY, day=DAY) == 0.5                       # new version
    assert rates.rate("childcare_subsidy", first_seen=DAY - dt.timedelta(days=30), day=DAY) == 0.1
    assert rates.rate("other", first_seen=DAY - dt.timedelta(days=99), day=DAY) == 0.05          # default
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    migrate(url)
    with session_scope(url) as s:
        _seed(s)
    with session_scope(url) as s:
        sampled = sample_for_review(s, day=DAY, rates=rates)
    assert 110 < sampled < 190  # about half of the 300 instant approvals of a version first seen today
    with session_scope(url) as s:
        first = set(s.scalars(select(Decision.id).where(Decision.review == "sampled")))
        assert all(int(d[1:]) < 300 for d in first)  # only instant approvals
        assert sample_for_review(s, day=DAY, rates=rates) == 0
    other = f"sqlite:///{tmp_path / 'other.db'}"
    migrate(other)
    with session_scope(other) as s:
        _seed(s)
    with session_scope(other) as s:
        sample_for_review(s, day=DAY, rates=rates)
        assert set(s.scalars(select(Decision.id).where(Decision.review == "sampled"))) == first
