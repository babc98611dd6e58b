"""What the pages and the API show, read once here and scoped by the user's role.

Every function takes the session and the user (keyword-only) and returns
pydantic views, so an HTML page and its ``/api`` twin show the same data. ID
numbers leave this module masked (``lake.Person``) or, for analysts, as keyed
pseudonyms.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wugan.cases.bundles import departments as department_names
from wugan.cases.bundles import load_bundles
from wugan.cases.capacity import demand
from wugan.cases.models import Case, Decision, Event, Item, Task
from wugan.cases.users import User
from wugan.ids import mask, redact
from wugan.scoring.queue import load_queue_rules
from wugan.settings import Settings
from wugan.web import lake
from wugan.web.auth import pseudonym
from wugan.web.texts import (
    CHECKLISTS,
    DEFAULT_CHECKLIST,
    EVENT_LABELS,
    ITEM_STATUS_LABELS,
    OUTCOME_LABELS,
    REVIEW_LABELS,
    ROUTE_LABELS,
    TASK_STATUS_LABELS,
    VALUE_LABELS,
    label,
)

__all__ = [
    "PersonView", "ConditionView", "ExplanationView", "TaskView", "ReviewView", "ItemView", "CaseView",
    "OverdueView", "VolumeRow", "RulesetRow", "WorkloadRow", "OutcomeRow", "PseudonymousDecision",
    "AnalyticsView", "ShadowRow", "held_for", "monday", "tasks_for", "task_for", "reviews_for", "review_for", "cases_for", "case_for",
    "work_items_for", "item_for", "overdue_for", "analytics", "explain",
]

OPEN_ITEM = ("pending", "ready", "in_progress")


# ---------------------------------------------------------------- views


class PersonView(BaseModel):
    name: str
    id_masked: str
    phone: str | None = None
    address: str = ""


class ConditionView(BaseModel):
    name: str
    label: str
    holds: bool | None
    values: dict[str, str] = {}


class ExplanationView(BaseModel):
    decision_id: str
    route: str
    route_label: str
    ruleset: str
    ruleset_version: str
    model_version: str | None
    score: float | None
    decided_on: dt.date
    summary: str = ""
    conditions: list[ConditionView] = []
    values: dict[str, str] = {}
    review: str | None = None
    review_label: str = ""
    outcomes: dict[str, str] = {}
    reference: str = ""


class TaskView(BaseModel):
    id: str
    kind: str
    event_type: str
    event_label: str
    status: str
    status_label: str
    priority: float
    week: dt.date | None
    due_date: dt.date | None
    overdue: bool
    village_code: str
    village_name: str
    person: PersonView | None
    reason: str
    explanation: ExplanationView | None
    check: list[str]
    bring: list[str]
    outcome: str | None
    outcome_label: str = ""
    outcome_notes: str | None = None
    outcome_on: dt.date | None = None
    case_id: str | None = None
    attempts: int = 0
    queue: str = "village"
    correctable_until: dt.date | None = None


class ItemView(BaseModel):
    id: str
    case_id: str
    service: str
    label: str
    department: str
    department_name: str
    stage: int
    status: str
    status_label: str
    depends_on: list[str]
    due_date: dt.date
    overdue: bool
    amount: float | None
    result: str = ""
    done_on: dt.date | None = None
    mine: bool = False
    case_title: str = ""
    person: PersonView | None = None


class CaseView(BaseModel):
    id: str
    title: str
    event_type: str
    event_label: str
    status: str
    opened_on: dt.date
    closed_on: dt.date | None
    lead_department: str
    village_name: str
    person: PersonView | None
    items: list[ItemView]
    others: int = 0
    done: int
    total: int
    next_due: dt.date | None
    overdue: int


class ReviewView(BaseModel):
    id: str
    event_type: str
    event_label: str
    person: PersonView | None
    village_name: str
    departments: list[str]
    items: list[ItemView]
    explanation: ExplanationView


class OverdueView(BaseModel):
    items: list[ItemView]
    tasks: list[TaskView]


class VolumeRow(BaseModel):
    week: dt.date
    event_type: str
    route: str
    count: int


class RulesetRow(BaseModel):
    ruleset: str
    ruleset_version: str
    first_day: dt.date
    last_day: dt.date
    decisions: int
    in_force: bool


class WorkloadRow(BaseModel):
    """Demand and supply of one village in one week (``cases.capacity.demand``)."""

    village_code: str
    village_name: str
    week: dt.date
    new_alerts: int = 0
    backlog: int = 0
    assigned: int
    done: int = 0
    capacity: int
    load: float | None
    weeks_to_clear: float | None = None
    clear_by: dt.date | None = None


class OutcomeRow(BaseModel):
    event_type: str
    outcome: str
    count: int


class PseudonymousDecision(BaseModel):
    pseudonym: str
    event_type: str
    route: str
    ruleset: str
    ruleset_version: str
    score: float | None
    decided_on: dt.date
    review: str | None


class ShadowRow(BaseModel):
    """Live and shadow routes of the same events: one row per (rule set, shadow version, live, shadow)."""

    ruleset: str
    version_label: str
    live_route: str
    shadow_route: str
    count: int
    agree: bool


class AnalyticsView(BaseModel):
    volumes: list[VolumeRow]
    rulesets: list[RulesetRow]
    workload: list[WorkloadRow]
    outcomes: list[OutcomeRow]
    recent: list[PseudonymousDecision]
    shadow: list[ShadowRow] = []


# ---------------------------------------------------------------- helpers


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def mask_phone(phone: str | None) -> str | None:
    """138****0000: enough to tell two numbers apart, not enough to call."""
    if not phone:
        return phone
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


def _person(p: lake.Person | None, person_id: str | None, *, phone: bool = False) -> PersonView | None:
    """What a view shows of a person; the full phone only where the page shows it (``phone=True``)."""
    if p is not None:
        return PersonView(name=p.name, id_masked=p.id_masked, phone=p.phone if phone else mask_phone(p.phone),
                          address=p.address)
    if person_id:
        return PersonView(name="（人口库无记录）", id_masked=mask(person_id) or "")
    return None


def _fmt(value: Any) -> str:
    if value is None:
        return "空"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, dict):
        return "，".join(f"{VALUE_LABELS.get(k, k)}: {_fmt(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "、".join(_fmt(v) for v in value)
    text = str(value)
    if text in ("true", "false"):
        return "是" if text == "true" else "否"
    if text.isdigit() and len(text) >= 6:  # a code (region, record number), not a quantity
        return redact(text) or ""
    try:
        number = float(text)
    except ValueError:
        return redact(text) or ""
    return _fmt(number) if "." in text or len(text) > 4 else text


def _values(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {VALUE_LABELS.get(k, k): _fmt(v) for k, v in raw.items()}


@cache
def _condition_labels(rules_dir: str, ruleset: str) -> dict[str, str]:
    """Labels of the rule set's conditions; none for a rule set no longer in ``rules_dir`` (names are shown)."""
    from wugan.rules.loader import load_ruleset, ruleset_names

    if ruleset not in ruleset_names(rules_dir=Path(rules_dir)):
        return {}
    return load_ruleset(ruleset, rules_dir=Path(rules_dir)).conditions


def explain(decision: Decision, *, rules_dir: Path) -> ExplanationView:
    """A decision's stored explanation in plain Chinese, whatever shape its rule set wrote.

    Understood shapes: ``conditions`` as a list of ``{name, label, holds|value,
    values}`` or a mapping name → bool or such a dict; ``values``, ``inputs``
    and ``derived`` mappings; ``summary`` or ``text``.
    """
    raw = decision.explanation or {}
    labels = _condition_labels(str(rules_dir), decision.ruleset)
    conditions: list[ConditionView] = []
    conds = raw.get("conditions", {})
    entries = (
        [(c.get("name", ""), c) for c in conds if isinstance(c, dict)] if isinstance(conds, list)
        else list(conds.items()) if isinstance(conds, dict) else []
    )
    for name, entry in entries:
        name = str(name).removeprefix("cond_")
        if isinstance(entry, dict):
            holds = next((entry[k] for k in ("holds", "value", "result", "passed") if k in entry), None)
            conditions.append(ConditionView(
                name=name, label=entry.get("label") or labels.get(name, name),
                holds=None if holds is None else bool(holds), values=_values(entry.get("values")),
            ))
        else:
            conditions.append(ConditionView(name=name, label=labels.get(name, name),
                                            holds=None if entry is None else bool(entry)))
    values: dict[str, str] = {}
    for key in ("values", "inputs", "derived", "parameters"):
        values |= _values(raw.get(key))
    return ExplanationView(
        decision_id=decision.id, route=decision.route, route_label=label(ROUTE_LABELS, decision.route),
        ruleset=decision.ruleset, ruleset_version=decision.ruleset_version, model_version=decision.model_version,
        score=decision.score, decided_on=decision.decided_on, summary=str(raw.get("summary") or raw.get("text") or ""),
        conditions=conditions, values=values, outcomes=_outcomes(raw.get("outcomes"), rules_dir),
        reference=str(raw.get("reference") or ""), review=decision.review, review_label=label(REVIEW_LABELS, decision.review),
    )


@cache
def _service_labels(rules_dir: str) -> dict[str, str]:
    bundles = load_bundles(Path(rules_dir)).values()
    labels = {i.service: i.label for b in bundles for i in b.items}
    labels |= {i.outcome: i.label for b in bundles for i in b.items if i.outcome}
    return labels | {"home_visit": "协理员上门核实"}


def _outcomes(raw: Any, rules_dir: Path) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    names = _service_labels(str(rules_dir))
    shown = {}
    for name, entry in raw.items():
        if isinstance(entry, dict):
            text = label(ROUTE_LABELS, entry.get("route"))
            if entry.get("amount") not in (None, 0, 0.0):
                text += f" ¥{float(entry['amount']):,.2f}"
            shown[names.get(name, name)] = text
    return shown


def _scope_villages(user: User) -> list[str] | None:
    return None if user.role == "admin" else list(user.villages or [])


def _scope_departments(user: User) -> list[str] | None:
    return None if user.role == "admin" else list(user.departments or [])


# ---------------------------------------------------------------- assistant


def _task_views(session: Session, settings: Settings, tasks: list[Task], *, today: dt.date,
                phone: bool = False) -> list[TaskView]:
    window = load_queue_rules(settings.rules_dir).correction_days
    events = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_({t.event_id for t in tasks})))}
    decisions = {d.id: d for d in session.scalars(
        select(Decision).where(Decision.id.in_({t.decision_id for t in tasks if t.decision_id})))}
    people = lake.persons(settings, (t.person_id for t in tasks))
    villages = lake.village_names(settings, (t.village_code for t in tasks))
    views = []
    for t in tasks:
        event_type = events[t.event_id].event_type if t.event_id in events else ""
        check, bring = CHECKLISTS.get(event_type, DEFAULT_CHECKLIST)
        decision = decisions.get(t.decision_id) if t.decision_id else None
        views.append(TaskView(
            id=t.id, kind=t.kind, event_type=event_type, event_label=label(EVENT_LABELS, event_type),
            status=t.status, status_label=label(TASK_STATUS_LABELS, t.status), priority=t.priority, week=t.week,
            due_date=t.due_date, overdue=bool(t.due_date and t.status != "done" and t.due_date < today),
            village_code=t.village_code, village_name=villages.get(t.village_code, t.village_code),
            person=_person(people.get(t.person_id or ""), t.person_id, phone=phone), reason=t.reason,
            explanation=explain(decision, rules_dir=settings.rules_dir) if decision else None,
            check=list(check), bring=list(bring), outcome=t.outcome, outcome_label=label(OUTCOME_LABELS, t.outcome),
            outcome_notes=redact(t.outcome_notes), outcome_on=t.outcome_on, case_id=t.case_id,
            attempts=t.attempts or 0, queue=t.queue or "village",
            correctable_until=t.outcome_on + dt.timedelta(days=window) if t.outcome_on else None,
        ))
    return views


def _task_order(t: Task, this_week: dt.date) -> tuple:
    late = t.week is not None and t.week < this_week
    return (0 if late else 1, -t.priority, t.due_date or dt.date.max, t.id)


def _mine(user: User):
    """An assistant's own tasks: those given to her (her villages' and her township's neighbours')."""
    return Task.assistant_id == user.assistant_id if user.assistant_id else Task.id.is_(None)


def tasks_for(session: Session, *, user: User, settings: Settings, today: dt.date,
              done_days: int = 14) -> tuple[list[TaskView], list[TaskView]]:
    """An assistant's inbox: what is hers this week and what she let run late — nothing else — and what
    she recently finished. Demand beyond her week is the township's and county's queue, not her list.
    An admin sees every open task."""
    this_week = monday(today)
    query = select(Task)
    if user.role != "admin":
        query = query.where(_mine(user))
    open_tasks = session.scalars(query.where(Task.status == "assigned", Task.week <= this_week)).all()
    done = session.scalars(query.where(Task.status == "done", Task.outcome_on >= today - dt.timedelta(days=done_days))
                           .order_by(Task.outcome_on.desc()).limit(50)).all()
    ordered = sorted(open_tasks, key=lambda t: _task_order(t, this_week))
    return (_task_views(session, settings, ordered, today=today), _task_views(session, settings, list(done), today=today))


def task_for(session: Session, *, user: User, settings: Settings, task_id: str, today: dt.date) -> TaskView | None:
    """One task, or None when it does not exist or was not given to the user (an admin sees all)."""
    task = session.get(Task, task_id)
    if task is None or (user.role != "admin" and (not user.assistant_id or task.assistant_id != user.assistant_id)):
        return None
    return _task_views(session, settings, [task], today=today, phone=True)[0]


# ---------------------------------------------------------------- reviewer


def _item_views(items: list[Item], *, settings: Settings, today: dt.date, mine: list[str] | None,
                cases: dict[str, Case] | None = None, people: dict[str, lake.Person] | None = None,
                siblings: list[Item] | None = None) -> list[ItemView]:
    """Items as shown; ``siblings`` (all items of their cases) name the dependencies with their state."""
    names = department_names(settings.rules_dir)
    services = _service_labels(str(settings.rules_dir))
    by_case: dict[str, dict[str, str]] = defaultdict(dict)
    for i in siblings if siblings is not None else items:
        by_case[i.case_id][i.service] = (
            f"{i.label}（{names.get(i.department, i.department)}·{label(ITEM_STATUS_LABELS, i.status)}）"
        )
    views = []
    for i in items:
        case = (cases or {}).get(i.case_id)
        result = i.result or {}
        views.append(ItemView(
            id=i.id, case_id=i.case_id, service=i.service, label=i.label, department=i.department,
            department_name=names.get(i.department, i.department), stage=i.stage, status=i.status,
            status_label=label(ITEM_STATUS_LABELS, i.status),
            depends_on=[by_case[i.case_id].get(d, services.get(d, d)) for d in i.depends_on or []],
            due_date=i.due_date,
            overdue=i.status in OPEN_ITEM and i.due_date < today, amount=i.amount,
            result=_fmt({("证照编号" if k == "certificate" else "原因" if k == "reason" else "说明" if k == "note" else k): v
                         for k, v in result.items()}) if result else "",
            done_on=i.done_on, mine=mine is None or i.department in mine,
            case_title=case.title if case else "",
            person=_person((people or {}).get(case.person_id or ""), case.person_id) if case and people is not None else None,
        ))
    return views


def _decision_departments(session: Session, settings: Settings, decisions: list[Decision]) -> dict[str, set[str]]:
    """The departments a decision belongs to: those of its items, else of the rules' bundle items."""
    result: dict[str, set[str]] = defaultdict(set)
    ids = [d.id for d in decisions]
    for decision_id, department in session.execute(
        select(Item.decision_id, Item.department).where(Item.decision_id.in_(ids))
    ):
        result[decision_id].add(department)
    bundles = load_bundles(settings.rules_dir)
    for d in decisions:
        if result[d.id]:
            continue
        bundle = bundles.get(d.event_type)
        if bundle is None:
            continue
        by_rule = {i.department for i in bundle.items if i.rule and i.rule.split(".", 1)[0] == d.ruleset}
        result[d.id] = by_rule or {bundle.lead_department}
    return result


def _review_views(session: Session, settings: Settings, decisions: list[Decision], *, user: User,
                  today: dt.date) -> list[ReviewView]:
    depts = _decision_departments(session, settings, decisions)
    scope = _scope_departments(user)
    decisions = [d for d in decisions if scope is None or depts[d.id] & set(scope)]
    events = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_({d.event_id for d in decisions})))}
    items = session.scalars(select(Item).where(Item.decision_id.in_([d.id for d in decisions]))).all()
    by_decision: dict[str, list[Item]] = defaultdict(list)
    for i in items:
        by_decision[i.decision_id or ""].append(i)
    people = lake.persons(settings, (e.person_id for e in events.values()))
    villages = lake.village_names(settings, (e.village_code for e in events.values()))
    names = department_names(settings.rules_dir)
    views = []
    for d in decisions:
        event = events.get(d.event_id)
        views.append(ReviewView(
            id=d.id, event_type=d.event_type, event_label=label(EVENT_LABELS, d.event_type),
            person=_person(people.get(event.person_id or ""), event.person_id) if event else None,
            village_name=villages.get(event.village_code or "", "") if event else "",
            departments=sorted(names.get(x, x) for x in depts[d.id]),
            items=_item_views(by_decision[d.id], settings=settings, today=today, mine=scope),
            explanation=explain(d, rules_dir=settings.rules_dir),
        ))
    return views


def reviews_for(session: Session, *, user: User, settings: Settings, today: dt.date) -> list[ReviewView]:
    """Instant approvals sampled for review, of the user's departments, oldest first."""
    decisions = session.scalars(
        select(Decision).where(Decision.review == "sampled").order_by(Decision.decided_on, Decision.id)
    ).all()
    return _review_views(session, settings, list(decisions), user=user, today=today)


def held_for(session: Session, *, user: User, settings: Settings, today: dt.date) -> list[ReviewView]:
    """Instant approvals the guardrails hold (paused rule set or tripped breaker), of the user's departments."""
    decisions = session.scalars(
        select(Decision).where(Decision.review == "held").order_by(Decision.decided_on, Decision.id)
    ).all()
    return _review_views(session, settings, list(decisions), user=user, today=today)


def review_for(session: Session, *, user: User, settings: Settings, decision_id: str,
               today: dt.date) -> ReviewView | None:
    decision = session.get(Decision, decision_id)
    if decision is None or decision.review is None:  # only decisions drawn for review are reviewed here
        return None
    views = _review_views(session, settings, [decision], user=user, today=today)
    return views[0] if views else None


def _case_views(session: Session, settings: Settings, cases: list[Case], *, user: User,
                today: dt.date) -> list[CaseView]:
    scope = _scope_departments(user)
    items = session.scalars(select(Item).where(Item.case_id.in_([c.id for c in cases]))
                            .order_by(Item.stage, Item.due_date, Item.label)).all()
    by_case: dict[str, list[Item]] = defaultdict(list)
    for i in items:
        by_case[i.case_id].append(i)
    people = lake.persons(settings, (c.person_id for c in cases))
    villages = lake.village_names(settings, (c.village_code for c in cases))
    names = department_names(settings.rules_dir)
    views = []
    for c in cases:
        mine = [i for i in by_case[c.id] if scope is None or i.department in scope]
        open_items = [i for i in mine if i.status in OPEN_ITEM]
        views.append(CaseView(
            id=c.id, title=c.title, event_type=c.event_type, event_label=label(EVENT_LABELS, c.event_type),
            status=c.status, opened_on=c.opened_on, closed_on=c.closed_on,
            lead_department=names.get(c.lead_department, c.lead_department),
            village_name=villages.get(c.village_code or "", c.village_code or ""),
            person=_person(people.get(c.person_id or ""), c.person_id),
            items=_item_views(mine, settings=settings, today=today, mine=scope, siblings=by_case[c.id]),
            others=len(by_case[c.id]) - len(mine),
            done=sum(i.status in ("done", "rejected") for i in by_case[c.id]), total=len(by_case[c.id]),
            next_due=min((i.due_date for i in open_items), default=None),
            overdue=sum(i.due_date < today for i in open_items),
        ))
    return views


def _cases_query(user: User):
    scope = _scope_departments(user)
    query = select(Case)
    if scope is not None:
        query = query.where(Case.id.in_(select(Item.case_id).where(Item.department.in_(scope))))
    return query


def cases_for(session: Session, *, user: User, settings: Settings, today: dt.date, status: str = "open",
              limit: int = 200) -> list[CaseView]:
    """Bundle cases with at least one item of the user's departments, newest first."""
    query = _cases_query(user).where(Case.status == status).order_by(Case.opened_on.desc(), Case.id).limit(limit)
    return _case_views(session, settings, list(session.scalars(query)), user=user, today=today)


def case_for(session: Session, *, user: User, settings: Settings, case_id: str, today: dt.date) -> CaseView | None:
    case = session.scalars(_cases_query(user).where(Case.id == case_id)).first()
    return _case_views(session, settings, [case], user=user, today=today)[0] if case else None


def _items_with_cases(session: Session, settings: Settings, items: list[Item], *, user: User,
                      today: dt.date) -> list[ItemView]:
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_({i.case_id for i in items})))}
    people = lake.persons(settings, (c.person_id for c in cases.values()))
    return _item_views(items, settings=settings, today=today, mine=_scope_departments(user), cases=cases,
                       people=people)


def work_items_for(session: Session, *, user: User, settings: Settings, today: dt.date,
                   limit: int = 200) -> list[ItemView]:
    """Ready and in-progress items of the user's departments: the ones a person must work, by due date."""
    scope = _scope_departments(user)
    query = select(Item).where(Item.status.in_(("ready", "in_progress")))
    if scope is not None:
        query = query.where(Item.department.in_(scope))
    items = list(session.scalars(query.order_by(Item.due_date, Item.id).limit(limit)))
    return _items_with_cases(session, settings, items, user=user, today=today)


def item_for(session: Session, *, user: User, item_id: str) -> Item | None:
    """The item if it exists and belongs to one of the user's departments."""
    item = session.get(Item, item_id)
    scope = _scope_departments(user)
    if item is None or (scope is not None and item.department not in scope):
        return None
    return item


def overdue_for(session: Session, *, user: User, settings: Settings, today: dt.date) -> OverdueView:
    """Open items of the user's departments past their due date; visits past due (civil affairs and admin)."""
    scope = _scope_departments(user)
    query = select(Item).where(Item.status.in_(OPEN_ITEM), Item.due_date < today)
    if scope is not None:
        query = query.where(Item.department.in_(scope))
    items = list(session.scalars(query.order_by(Item.due_date, Item.id).limit(500)))
    tasks: list[Task] = []
    if scope is None or "civil_affairs" in scope:
        tasks = list(session.scalars(select(Task).where(Task.status != "done", Task.due_date < today)
                                     .order_by(Task.due_date, Task.id).limit(500)))
    return OverdueView(items=_items_with_cases(session, settings, items, user=user, today=today),
                       tasks=_task_views(session, settings, tasks, today=today))


# ---------------------------------------------------------------- analyst


def analytics(session: Session, *, settings: Settings, pseudonym_key: str, today: dt.date) -> AnalyticsView:
    """Volumes, rule versions, workload and visit outcomes: aggregates and keyed pseudonyms only."""
    per_day = session.execute(
        select(Decision.decided_on, Decision.event_type, Decision.route, func.count())
        .group_by(Decision.decided_on, Decision.event_type, Decision.route)
    ).all()
    weekly: dict[tuple[dt.date, str, str], int] = defaultdict(int)
    for day, event_type, route, n in per_day:
        weekly[(monday(day), event_type, route)] += n
    volumes = [VolumeRow(week=w, event_type=e, route=r, count=n) for (w, e, r), n in sorted(weekly.items())]

    versions = session.execute(
        select(Decision.ruleset, Decision.ruleset_version, func.min(Decision.decided_on),
               func.max(Decision.decided_on), func.count())
        .group_by(Decision.ruleset, Decision.ruleset_version)
    ).all()
    latest: dict[str, dt.date] = {}
    for ruleset, _, _, last, _ in versions:
        latest[ruleset] = max(latest.get(ruleset, last), last)
    rulesets = sorted(
        (RulesetRow(ruleset=r, ruleset_version=v, first_day=a, last_day=b, decisions=n, in_force=b == latest[r])
         for r, v, a, b, n in versions),
        key=lambda row: (row.ruleset, row.first_day),
    )

    capacity = lake.capacity_by_village(settings)
    staff = pl.DataFrame({"assistant_id": list(capacity), "village_code": list(capacity),
                          "weekly_capacity": list(capacity.values())},
                         schema={"assistant_id": pl.String, "village_code": pl.String, "weekly_capacity": pl.Int64})
    grid = demand(session, day=today, assistants=staff, weeks=6, rules_dir=settings.rules_dir).filter(
        (pl.col("new_alerts") + pl.col("backlog") + pl.col("assigned") + pl.col("done")) > 0)
    villages = lake.village_names(settings, set(grid["village_code"].to_list()))
    workload = [
        WorkloadRow(**r, village_name=villages.get(r["village_code"], r["village_code"]),
                    load=(r["assigned"] / r["capacity"]) if r["capacity"] else None)
        for r in grid.sort("week", "backlog", "village_code", descending=[False, True, False]).iter_rows(named=True)
    ]

    outcomes = [
        OutcomeRow(event_type=e or "", outcome=o, count=n)
        for e, o, n in session.execute(
            select(Event.event_type, Task.outcome, func.count()).join(Event, Event.id == Task.event_id)
            .where(Task.outcome.is_not(None)).group_by(Event.event_type, Task.outcome)
            .order_by(Event.event_type, Task.outcome)
        )
    ]
    recent = [
        PseudonymousDecision(pseudonym=pseudonym(pseudonym_key, person_id), event_type=d.event_type, route=d.route,
                             ruleset=d.ruleset, ruleset_version=d.ruleset_version, score=d.score,
                             decided_on=d.decided_on, review=d.review)
        for d, person_id in session.execute(
            select(Decision, Event.person_id).join(Event, Event.id == Decision.event_id)
            .order_by(Decision.decided_on.desc(), Decision.id).limit(30)
        )
    ]
    from wugan.cases.shadow import disagreements

    shadow = [ShadowRow(ruleset=r, version_label=v, live_route=a, shadow_route=b, count=n, agree=a == b)
              for r, v, a, b, n in disagreements(session)]
    return AnalyticsView(volumes=volumes, rulesets=rulesets, workload=workload, outcomes=outcomes, recent=recent,
                         shadow=shadow)
