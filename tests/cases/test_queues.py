"""The visit queues' rules, each on a small hand-made township: rebalancing, the county office, deadlines,
retries after 联系不上, outcome correction, exploration, the catch-up plan and the demand table —
on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import polars as pl
import pytest
from sqlalchemy import select

from tests.factories import assistants_frame, seed_tasks
from wugan.cases.capacity import assign_week, catch_up_plan, demand
from wugan.cases.db import migrate, session_scope
from wugan.cases.models import AuditLog, Case, Item, Task
from wugan.cases.workflow import WorkflowError, correct_outcome, record_visit
from wugan.scoring.queue import exploration_propensity, load_queue_rules, week_of
from wugan.settings import get_settings

MONDAY = dt.date(2025, 3, 3)
A, B = "371402001001", "371402001002"  # two villages of township 371402001
C = "371402002001"  # a village of another township
RULES = load_queue_rules()


@pytest.fixture
def store(store_url):
    migrate(store_url)
    return store_url


def _assign(url, day, assistants) -> int:
    with session_scope(url) as session:
        return assign_week(session, day=day, assistants=assistants)


def _tasks(url) -> dict[str, Task]:
    with session_scope(url) as session:
        return {t.id: t for t in session.scalars(select(Task))}


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10))


def test_a_task_waiting_while_its_village_is_full_goes_to_a_free_assistant_of_the_township(store):
    staff = assistants_frame([("A1", A, 1), ("B1", B, 2), ("C1", C, 5)])
    with session_scope(store) as s:
        seed_tasks(s, [{"id": "t1", "village": A, "probability": 0.9}, {"id": "t2", "village": A, "probability": 0.6}],
                   day=MONDAY)
    assert _assign(store, MONDAY, staff) == 1
    t = _tasks(store)
    assert (t["t1"].assistant_id, t["t1"].queue) == ("A1", "village")
    assert t["t2"].status == "backlog", "a day's wait is not yet the township's"
    assert _assign(store, MONDAY + dt.timedelta(days=1), staff) == 0
    assert _assign(store, MONDAY + dt.timedelta(days=RULES.township_after_days), staff) == 1
    t = _tasks(store)["t2"]
    assert (t.assistant_id, t.queue, t.week) == ("B1", "township", MONDAY), "never C1: another township"


def test_a_death_visit_nobody_in_the_township_can_take_goes_to_the_county_office_a_hardship_visit_does_not(store):
    staff = assistants_frame([("A1", A, 1)])
    with session_scope(store) as s:
        seed_tasks(s, [{"id": "v", "village": A, "probability": 0.99},
                       {"id": "heirs", "village": A, "kind": "account_refund", "probability": 0.9,
                        "deadline": MONDAY + dt.timedelta(days=60)},
                       {"id": "late", "village": A, "probability": 0.1}], day=MONDAY)
    assert _assign(store, MONDAY, staff) == 1
    for d in range(1, RULES.county_office_after_days):
        assert _assign(store, MONDAY + dt.timedelta(days=d), staff) == 0
    assert _assign(store, MONDAY + dt.timedelta(days=RULES.county_office_after_days), staff) == 1
    t = _tasks(store)
    assert (t["heirs"].assistant_id, t["heirs"].queue) == ("county:371402", "county_office")
    assert t["late"].status == "backlog", "a home visit waits for a home visitor"


def test_a_death_visit_two_days_from_its_deadline_goes_to_the_county_office_at_once(store):
    staff = assistants_frame([("C1", C, 5)])  # nobody in A's township
    with session_scope(store) as s:
        seed_tasks(s, [{"id": "heirs", "village": A, "kind": "account_refund", "probability": 0.9,
                        "deadline": MONDAY + dt.timedelta(days=RULES.county_office_before_deadline_days + 1)}],
                   day=MONDAY)
    assert _assign(store, MONDAY, staff) == 0, "three days before its deadline it still waits for the village"
    assert _assign(store, MONDAY + dt.timedelta(days=1), staff) == 1
    assert (_tasks(store)["heirs"].queue, _tasks(store)["heirs"].assigned_on) == ("county_office", MONDAY + dt.timedelta(days=1))


@pytest.mark.parametrize(("days_to_deadline", "first"), [
    (3, "heirs"),  # three days before the death visit's deadline it outranks a 0.9 hardship visit
    (7, "visit"),  # a week before, it does not yet: 0.54 < 0.9
])
def test_the_deadline_term_puts_a_death_visit_first_as_its_deadline_comes(store, days_to_deadline, first):
    staff = assistants_frame([("A1", A, 1)])
    with session_scope(store) as s:
        seed_tasks(s, [{"id": "visit", "village": A, "probability": 0.9},
                       {"id": "heirs", "village": A, "kind": "account_refund", "probability": 0.9,
                        "deadline": MONDAY + dt.timedelta(days=days_to_deadline)}], day=MONDAY)
    assert _assign(store, MONDAY, staff) == 1
    assert [i for i, t in _tasks(store).items() if t.status == "assigned"] == [first]
    with session_scope(store) as s:
        row = s.scalars(select(AuditLog).where(AuditLog.action == "task_assigned")).one()
        assert row.after["priority"] == pytest.approx(2.04 - 1.5 * 3 / 7 if first == "heirs" else 0.9)


def test_unreachable_books_a_retry_another_day_up_to_the_limit_then_the_county_office(store):
    staff = assistants_frame([("A1", A, 3)])
    with session_scope(store) as s:
        seed_tasks(s, [{"id": "far", "village": A, "probability": 0.8}], day=MONDAY)
    assert _assign(store, MONDAY, staff) == 1
    day = MONDAY + dt.timedelta(days=2)
    for attempt in range(1, RULES.unreachable_limit):
        with session_scope(store) as s:
            assert record_visit(s, task_id="far", outcome="unreachable", notes="家中无人", actor="A1",
                                at=_at(day)) is None
        t = _tasks(store)["far"]
        assert (t.status, t.assistant_id, t.attempts, t.outcome) == ("assigned", "A1", attempt, None)
        assert t.week == week_of(day) + dt.timedelta(weeks=1), "booked into next week's visits"
        assert t.next_try >= day + dt.timedelta(days=RULES.next_try_days), "another day"
        day = t.next_try
    with session_scope(store) as s:
        record_visit(s, task_id="far", outcome="unreachable", notes="仍无人", actor="A1", at=_at(day))
    t = _tasks(store)["far"]
    assert (t.status, t.queue, t.assistant_id, t.attempts) == ("backlog", "county_office", None, 3)
    assert _assign(store, day + dt.timedelta(days=1), staff) == 1
    t = _tasks(store)["far"]
    assert (t.assistant_id, t.queue) == ("county:371402", "county_office")
    with session_scope(store) as s:
        record_visit(s, task_id="far", outcome="unreachable", notes="电话未接", actor="county",
                     at=_at(day + dt.timedelta(days=2)))
        actions = s.scalars(select(AuditLog.action).where(AuditLog.entity_id == "far")
                            .order_by(AuditLog.id)).all()
    assert (_tasks(store)["far"].status, _tasks(store)["far"].outcome) == ("done", "unreachable")
    assert actions.count("visit_retry_booked") == RULES.unreachable_limit - 1
    assert "visit_to_county_office" in actions and actions[-1] == "visit_recorded"


def test_a_booked_retry_takes_one_of_next_weeks_visits(store):
    staff = assistants_frame([("A1", A, 2)])
    with session_scope(store) as s:
        seed_tasks(s, [{"id": f"t{i}", "village": A, "probability": 0.9 - i / 10} for i in range(5)], day=MONDAY)
    assert _assign(store, MONDAY, staff) == 2
    with session_scope(store) as s:
        record_visit(s, task_id="t0", outcome="unreachable", notes="", actor="A1", at=_at(MONDAY))
    assert _assign(store, MONDAY + dt.timedelta(weeks=1), staff) == 1, "one visit is the booked retry"


@pytest.fixture
def visited(store):
    """A hardship visit confirmed on Tuesday: the bundle case is open."""
    staff = assistants_frame([("A1", A, 2)])
    with session_scope(store) as s:
        seed_tasks(s, [{"id": "v", "village": A, "probability": 0.7}], day=MONDAY)
    _assign(store, MONDAY, staff)
    with session_scope(store) as s:
        case = record_visit(s, task_id="v", outcome="confirmed", notes="偏瘫", actor="A1",
                            at=_at(MONDAY + dt.timedelta(days=1)))
        assert case is not None
    return store


def test_a_confirmation_corrected_within_the_window_withdraws_its_case_and_is_audited(visited):
    day = MONDAY + dt.timedelta(days=1 + RULES.correction_days)
    with session_scope(visited) as s:
        correct_outcome(s, task_id="v", outcome="not_eligible", reason="误登记：实为他人", actor="A1", at=_at(day))
    with session_scope(visited) as s:
        task = s.get_one(Task, "v")
        case = s.scalars(select(Case)).one()
        items = s.scalars(select(Item).where(Item.case_id == case.id)).all()
        assert (task.outcome, task.case_id, case.status) == ("not_eligible", None, "closed")
        assert {i.status for i in items} == {"rejected"}
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "outcome_corrected")).one()
        assert audit.before["outcome"] == "confirmed" and audit.after["reason"] == "误登记：实为他人"
        assert audit.actor == "A1"
        correct_outcome(s, task_id="v", outcome="confirmed", reason="复核属实", actor="A1", at=_at(day))
    with session_scope(visited) as s:
        case = s.scalars(select(Case)).one()
        assert case.status == "open" and s.get_one(Task, "v").case_id == case.id
        assert {i.status for i in s.scalars(select(Item).where(Item.case_id == case.id))} == {"ready", "pending"}


@pytest.mark.parametrize(("days_after", "outcome", "reason", "error"), [
    (RULES.correction_days + 1, "not_eligible", "晚了", "within"),  # the window has closed
    (1, "not_eligible", "  ", "reason"),  # a correction says why
    (1, "unreachable", "x", "corrected to"),  # an attempt is not an outcome
    (1, "confirmed", "x", "already"),  # nothing to change
])
def test_a_correction_outside_the_rules_is_refused(visited, days_after, outcome, reason, error):
    with session_scope(visited) as s, pytest.raises(WorkflowError, match=error):
        correct_outcome(s, task_id="v", outcome=outcome, reason=reason, actor="A1",
                        at=_at(MONDAY + dt.timedelta(days=1 + days_after)))


def test_exploration_propensities_are_the_chances_the_policy_gives():
    # one slot, explored half the time: rank 0 gets it when not exploring, or a third of the time when it does
    p = exploration_propensity(np.array([0, 1, 2]), np.array([True, True, True]), 1, 0.5, np.array([0, 3]))
    assert p == pytest.approx([0.5 + 0.5 / 3, 0.5 / 3, 0.5 / 3])
    assert p.sum() == pytest.approx(1.0), "one slot is filled, whatever the draw"
    # nothing to explore with: the exploring slot goes to the next rank
    assert exploration_propensity(np.array([1, 0]), np.array([False, False]), 1, 0.5,
                                  np.array([0, 0])) == pytest.approx([0.0, 1.0])


def test_exploration_gives_some_slots_outside_the_top_and_logs_the_propensity(store, tmp_path):
    rules_dir = tmp_path / "rules"
    shutil.copytree(get_settings().rules_dir, rules_dir)
    queues = rules_dir / "queues" / "visits.yaml"
    queues.write_text(queues.read_text(encoding="utf-8").replace("share: 0.05", "share: 0.25"), encoding="utf-8")
    staff = assistants_frame([(f"A{i}", A, 8) for i in range(5)])
    with session_scope(store) as s:
        seed_tasks(s, [{"id": f"t{i:03d}", "village": A, "probability": 1 - i / 200} for i in range(200)],
                   day=MONDAY)
    with session_scope(store) as s:
        assert assign_week(s, day=MONDAY, assistants=staff, rules_dir=rules_dir) == 40
    tasks = [t for t in _tasks(store).values() if t.status == "assigned"]
    explored = [t for t in tasks if t.explored]
    assert 3 <= len(explored) <= 20, "about a quarter of 40 slots"
    assert all(int(t.id[1:]) >= 40 - len(explored) for t in explored), "explored tasks come from outside the top"
    assert all(t.propensity < 0.2 for t in explored)
    by_rank = [t.propensity for t in sorted(tasks, key=lambda t: t.id) if not t.explored]
    assert by_rank[0] == pytest.approx(1.0) and by_rank == sorted(by_rank, reverse=True), "surer at the top"
    with session_scope(store) as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "task_assigned")).all()
    assert {r.entity_id: r.after["propensity"] for r in rows} == pytest.approx(
        {t.id: round(t.propensity, 6) for t in tasks})


def test_the_catch_up_plan_spreads_the_backlog_over_weeks_by_priority_and_demand_shows_its_end(store):
    staff = assistants_frame([("A1", A, 2)])
    with session_scope(store) as s:
        seed_tasks(s, [{"id": f"t{i}", "village": A, "probability": 0.9 - i / 10} for i in range(5)], day=MONDAY)
    with session_scope(store) as s:
        plan = catch_up_plan(s, day=MONDAY, assistants=staff).sort("priority", descending=True)
        assert plan["planned_week"].to_list() == [MONDAY] * 2 + [MONDAY + dt.timedelta(weeks=1)] * 2 + [
            MONDAY + dt.timedelta(weeks=2)]
    _assign(store, MONDAY, staff)
    with session_scope(store) as s:
        grid = demand(s, day=MONDAY + dt.timedelta(days=2), assistants=staff, weeks=2)
    now = grid.filter((pl.col("village_code") == A) & (pl.col("week") == MONDAY)).row(0, named=True)
    assert (now["new_alerts"], now["backlog"], now["assigned"], now["capacity"]) == (5, 3, 2, 2)
    assert now["weeks_to_clear"] == 1.5 and now["clear_by"] == MONDAY + dt.timedelta(weeks=2)
    # a week later the first week's figures stand: what waited then counts as waiting then, whatever was
    # visited since; a cancelled task (the person died) is demand no longer
    nxt = MONDAY + dt.timedelta(weeks=1)
    _assign(store, nxt, staff)
    with session_scope(store) as s:
        for t in s.scalars(select(Task).where(Task.week == nxt)):
            record_visit(s, task_id=t.id, outcome="not_eligible", notes="", actor="A1", at=_at(nxt))
        s.get(Task, "t4").status = "cancelled"
    with session_scope(store) as s:
        grid = demand(s, day=nxt + dt.timedelta(days=2), assistants=staff, weeks=2)
    rows = {r["week"]: r for r in grid.filter(pl.col("village_code") == A).iter_rows(named=True)}
    assert (rows[MONDAY]["backlog"], rows[MONDAY]["done"]) == (2, 0)
    assert (rows[nxt]["new_alerts"], rows[nxt]["backlog"], rows[nxt]["assigned"], rows[nxt]["done"]) == (0, 0, 2, 2)
