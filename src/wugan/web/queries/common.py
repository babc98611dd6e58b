"""Helpers the role modules share: scope, paging, and tasks and items as views."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from wugan.cases.bundles import departments as department_names
from wugan.cases.bundles import load_bundles
from wugan.cases.models import Case, Decision, Event, Item, Task
from wugan.cases.users import User
from wugan.ids import mask, redact
from wugan.scoring.queue import load_queue_rules
from wugan.settings import Settings
from wugan.web import lake
from wugan.web.explain import explain, fmt, service_labels
from wugan.web.texts import (
    EVENT_LABELS,
    ITEM_STATUS_LABELS,
    OUTCOME_LABELS,
    TASK_STATUS_LABELS,
    label,
)
from wugan.web.views import ContactView, ItemView, PersonView, TaskView

__all__ = ["OPEN_ITEM", "PER_PAGE", "monday", "mask_phone", "person_view", "scope_villages", "scope_departments",
           "paged", "task_views", "item_views", "items_with_cases"]

OPEN_ITEM = ("pending", "ready", "in_progress")
PER_PAGE = 20
R = TypeVar("R")


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def mask_phone(phone: str | None) -> str | None:
    """138****0000: enough to tell two numbers apart, not enough to call."""
    if not phone:
        return phone
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


def person_view(p: lake.Person | None, person_id: str | None, *, phone: bool = False) -> PersonView | None:
    """What a view shows of a person; the full phone only where the page shows it (``phone=True``)."""
    if p is not None:
        return PersonView(name=p.name, id_masked=p.id_masked, phone=p.phone if phone else mask_phone(p.phone),
                          address=p.address)
    if person_id:
        return PersonView(name="（人口库无记录）", id_masked=mask(person_id) or "")
    return None


def scope_villages(user: User) -> list[str] | None:
    return None if user.role == "admin" else list(user.villages or [])


def scope_departments(user: User) -> list[str] | None:
    return None if user.role == "admin" else list(user.departments or [])


def paged(session: Session, query: Select, *, page: int, per_page: int = PER_PAGE) -> tuple[list[Any], int, int]:
    """One page of ``query``'s rows, the true total, and the page actually shown (clamped to the last)."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    last = max(1, -(-total // per_page))
    page = min(max(1, page), last)
    rows = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return rows, total, page


def _contacts(settings: Settings, tasks: list[Task], events: dict[str, Event], people: dict[str, lake.Person],
              *, today: dt.date, phone: bool) -> dict[str, ContactView]:
    """Whom each task's assistant contacts: the person, or (a bundle whose visit goes to the family) a relative."""
    bundles = load_bundles(settings.rules_dir)
    family = {t.id: t.person_id for t in tasks if t.event_id in events
              and events[t.event_id].event_type in bundles
              and bundles[events[t.event_id].event_type].visit.contact == "family"}
    relatives = lake.family_contacts(settings, family.values(), on=today)
    out = {}
    for t in tasks:
        if t.id in family:
            c = relatives.get(t.person_id or "")
            out[t.id] = (ContactView(name=c.name, phone=c.phone if phone else mask_phone(c.phone), relation=c.relation)
                         if c else ContactView(name="同户无其他成年人，请经村委会联系继承人", relation="家属"))
        elif (p := people.get(t.person_id or "")) is not None:
            out[t.id] = ContactView(name=p.name, phone=p.phone if phone else mask_phone(p.phone))
    return out


def task_views(session: Session, settings: Settings, tasks: list[Task], *, today: dt.date,
               phone: bool = False) -> list[TaskView]:
    if not tasks:
        return []
    events = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_({t.event_id for t in tasks})))}
    decisions = {d.id: d for d in session.scalars(
        select(Decision).where(Decision.id.in_({t.decision_id for t in tasks if t.decision_id})))}
    people = lake.persons(settings, (t.person_id for t in tasks))
    villages = lake.village_names(settings, (t.village_code for t in tasks))
    contacts = _contacts(settings, tasks, events, people, today=today, phone=phone)
    bundles = load_bundles(settings.rules_dir)
    window = load_queue_rules(settings.rules_dir).correction_days
    views = []
    for t in tasks:
        event_type = events[t.event_id].event_type if t.event_id in events else ""
        visit = bundles[event_type].visit if event_type in bundles else None
        decision = decisions.get(t.decision_id) if t.decision_id else None
        outcomes = (visit.outcome_labels if visit and visit.outcomes else OUTCOME_LABELS)
        views.append(TaskView(
            id=t.id, kind=t.kind, event_type=event_type, event_label=label(EVENT_LABELS, event_type),
            status=t.status, status_label=label(TASK_STATUS_LABELS, t.status), priority=t.priority, week=t.week,
            due_date=t.due_date, overdue=bool(t.due_date and t.status != "done" and t.due_date < today),
            village_code=t.village_code, village_name=villages.get(t.village_code, t.village_code),
            assistant_id=t.assistant_id,
            person=person_view(people.get(t.person_id or ""), t.person_id, phone=phone), contact=contacts.get(t.id),
            reason=t.reason, explanation=explain(decision, rules_dir=settings.rules_dir) if decision else None,
            check=list(visit.check if visit else ()), bring=list(visit.bring if visit else ()), outcomes=outcomes,
            checklist=list(t.checklist or []), outcome=t.outcome,
            outcome_label=outcomes.get(t.outcome or "", label(OUTCOME_LABELS, t.outcome)),
            outcome_notes=redact(t.outcome_notes), outcome_on=t.outcome_on, case_id=t.case_id,
            escalated_on=t.escalated_on, attempts=t.attempts or 0, queue=t.queue or "village",
            correctable_until=t.outcome_on + dt.timedelta(days=window) if t.outcome_on else None,
        ))
    return views


def item_views(items: list[Item], *, settings: Settings, today: dt.date, mine: list[str] | None,
               cases: dict[str, Case] | None = None, people: dict[str, lake.Person] | None = None,
               siblings: list[Item] | None = None) -> list[ItemView]:
    """Items as shown; ``siblings`` (all items of their cases) name the dependencies with their state."""
    names = department_names(settings.rules_dir)
    services = service_labels(settings.rules_dir)
    by_case: dict[str, dict[str, str]] = defaultdict(dict)
    for i in siblings if siblings is not None else items:
        by_case[i.case_id][i.service] = (
            f"{i.label}（{names.get(i.department, i.department)}·{label(ITEM_STATUS_LABELS, i.status)}）"
        )
    result_words = {"certificate": "证照编号", "reason": "原因", "note": "说明", "revokes": "撤销事项", "held": "暂缓"}
    views = []
    for i in items:
        case = (cases or {}).get(i.case_id)
        result = i.result or {}
        views.append(ItemView(
            id=i.id, case_id=i.case_id, service=i.service, label=i.label, department=i.department,
            department_name=names.get(i.department, i.department), stage=i.stage, status=i.status,
            status_label=label(ITEM_STATUS_LABELS, i.status),
            depends_on=[by_case[i.case_id].get(d, services.get(d, d)) for d in i.depends_on or []],
            due_date=i.due_date, overdue=i.status in OPEN_ITEM and i.due_date < today, amount=i.amount,
            result="，".join(f"{result_words.get(k, k)}: {fmt(v)}" for k, v in result.items() if k != "revokes"),
            done_on=i.done_on, mine=mine is None or i.department in mine, case_title=case.title if case else "",
            decision_id=i.decision_id, escalated_on=i.escalated_on,
            person=(person_view((people or {}).get(case.person_id or ""), case.person_id)
                    if case and people is not None else None),
        ))
    return views


def items_with_cases(session: Session, settings: Settings, items: list[Item], *, user: User,
                     today: dt.date) -> list[ItemView]:
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_({i.case_id for i in items})))}
    people = lake.persons(settings, (c.person_id for c in cases.values()))
    return item_views(items, settings=settings, today=today, mine=scope_departments(user), cases=cases,
                      people=people)
