"""The back office's lists and records, scoped to the reviewer's departments (an admin sees all).

A decision belongs to the departments of its items, or, when it has none, to
those of the rule set's bundle items (the lead department for a rule set the
bundle does not name). The same scope is written once as SQL
(``decision_scope``), so lists are filtered and counted in the database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from wugan.cases.bundles import departments as department_names
from wugan.cases.bundles import load_bundles
from wugan.cases.desk import REVOCABLE, UNDO_MINUTES, last_review
from wugan.cases.guardrails import guardrail_for
from wugan.cases.models import Alert, AuditLog, Case, Decision, Event, Item, Notice, Task
from wugan.cases.oversight import TASK_DEPARTMENT
from wugan.cases.users import User
from wugan.settings import Settings
from wugan.web import lake
from wugan.web.explain import explain, fmt
from wugan.web.queries.common import (
    OPEN_ITEM,
    PER_PAGE,
    item_views,
    items_with_cases,
    paged,
    person_view,
    scope_departments,
    task_views,
)
from wugan.web.texts import (
    ACTION_LABELS,
    ALERT_LABELS,
    EVENT_LABELS,
    HOLD_LABELS,
    NOTICE_STATUS_LABELS,
    label,
)
from wugan.web.views import (
    AlertView,
    AssistantChoice,
    CaseView,
    DecisionView,
    HeldView,
    HistoryEntry,
    ItemView,
    NoticeView,
    Page,
    ReviewView,
    TaskView,
)

__all__ = ["decision_scope", "decision_in_scope", "review_views", "reviews_for", "held_for", "held_in_scope",
           "decision_for", "case_views", "cases_for", "case_for", "work_items_for", "item_for", "overdue_items",
           "overdue_tasks", "sees_visits", "visit_for", "assistants_for", "alerts_for", "alert_for"]

APPROVALS = ("instant_approve", "bundle_case")


def decision_scope(user: User, settings: Settings) -> ColumnElement[bool]:
    """SQL: the decision is one of the user's departments'."""
    scope = scope_departments(user)
    if scope is None:
        return true()
    mine = set(scope)
    by_rule: list[ColumnElement[bool]] = []
    for event, bundle in load_bundles(settings.rules_dir).items():
        rules = {i.rule.split(".", 1)[0] for i in bundle.items if i.rule}
        ours = {r for r in rules
                if {i.department for i in bundle.items if i.rule and i.rule.split(".", 1)[0] == r} & mine}
        if ours:
            by_rule.append(and_(Decision.event_type == event, Decision.ruleset.in_(ours)))
        if bundle.lead_department in mine:
            by_rule.append(and_(Decision.event_type == event, Decision.ruleset.not_in(rules) if rules else true()))
    return or_(
        Decision.id.in_(select(Item.decision_id).where(Item.department.in_(scope))),
        and_(~exists().where(Item.decision_id == Decision.id), or_(*by_rule) if by_rule else false()),
    )


def decision_in_scope(session: Session, *, user: User, settings: Settings, decision_id: str) -> Decision | None:
    return session.scalars(select(Decision).where(Decision.id == decision_id,
                                                  decision_scope(user, settings))).first()


def _departments(session: Session, settings: Settings, decisions: list[Decision]) -> dict[str, set[str]]:
    """The departments each decision belongs to (for display): its items', else its rule set's bundle items'."""
    result: dict[str, set[str]] = defaultdict(set)
    for decision_id, department in session.execute(
        select(Item.decision_id, Item.department).where(Item.decision_id.in_([d.id for d in decisions]))
    ):
        result[decision_id].add(department)
    bundles = load_bundles(settings.rules_dir)
    for d in decisions:
        if result[d.id] or (bundle := bundles.get(d.event_type)) is None:
            continue
        by_rule = {i.department for i in bundle.items if i.rule and i.rule.split(".", 1)[0] == d.ruleset}
        result[d.id] = by_rule or {bundle.lead_department}
    return result


def review_views(session: Session, settings: Settings, decisions: list[Decision], *, user: User,
                 today: dt.date) -> list[ReviewView]:
    if not decisions:
        return []
    depts = _departments(session, settings, decisions)
    scope = scope_departments(user)
    events = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_({d.event_id for d in decisions})))}
    by_decision: dict[str, list[Item]] = defaultdict(list)
    for i in session.scalars(select(Item).where(Item.decision_id.in_([d.id for d in decisions]))
                             .order_by(Item.stage, Item.label)):
        by_decision[i.decision_id or ""].append(i)
    people = lake.persons(settings, (e.person_id for e in events.values()))
    villages = lake.village_names(settings, (e.village_code for e in events.values()))
    names = department_names(settings.rules_dir)
    views = []
    for d in decisions:
        event = events.get(d.event_id)
        views.append(ReviewView(
            id=d.id, event_type=d.event_type, event_label=label(EVENT_LABELS, d.event_type),
            person=person_view(people.get(event.person_id or ""), event.person_id) if event else None,
            village_name=villages.get(event.village_code or "", "") if event else "",
            departments=sorted(names.get(x, x) for x in depts[d.id]),
            items=item_views(by_decision[d.id], settings=settings, today=today, mine=scope),
            explanation=explain(d, rules_dir=settings.rules_dir),
        ))
    return views


def _decisions(session: Session, *, user: User, settings: Settings, review: str, event_type: str | None,
               ruleset: str | None = None, page: int, per_page: int = PER_PAGE) -> tuple[list[Decision], int, int]:
    query = select(Decision).where(Decision.review == review, decision_scope(user, settings))
    if event_type:
        query = query.where(Decision.event_type == event_type)
    if ruleset:
        query = query.where(Decision.ruleset == ruleset)
    return paged(session, query.order_by(Decision.decided_on, Decision.id), page=page, per_page=per_page)


def reviews_for(session: Session, *, user: User, settings: Settings, today: dt.date, page: int = 1,
                event_type: str | None = None) -> Page[ReviewView]:
    """Instant approvals sampled for review, of the user's departments, oldest first."""
    rows, total, page = _decisions(session, user=user, settings=settings, review="sampled", event_type=event_type,
                                   page=page)
    return Page[ReviewView](rows=review_views(session, settings, rows, user=user, today=today), total=total,
                            page=page)


def _hold_reasons(session: Session, settings: Settings, decisions: list[Decision]) -> dict[str, str]:
    """Why each decision is held: the day's circuit-breaker alert, else its rule set's pause switch."""
    trips = {(a.ruleset, a.created_on): a.message for a in session.scalars(
        select(Alert).where(Alert.kind == "circuit_breaker", Alert.ruleset.in_({d.ruleset for d in decisions})))}
    reasons = {}
    for d in decisions:
        if (d.ruleset, d.decided_on) in trips:
            reasons[d.id] = f"{HOLD_LABELS['circuit_breaker']}：{trips[(d.ruleset, d.decided_on)]}"
        elif guardrail_for(d.ruleset, rules_dir=settings.rules_dir).paused:
            reasons[d.id] = HOLD_LABELS["paused"]
        else:
            reasons[d.id] = "暂缓时的原因已不在（规则集暂停已解除或熔断提醒已处理）；核查后放行或驳回"
    return reasons


def _held_views(session: Session, settings: Settings, decisions: list[Decision], *, user: User,
                today: dt.date) -> list[HeldView]:
    reasons = _hold_reasons(session, settings, decisions)
    return [HeldView(**v.model_dump(), hold_reason=reasons[v.id],
                     amount=sum(i.amount or 0.0 for i in v.items if i.status == "held"))
            for v in review_views(session, settings, decisions, user=user, today=today)]


def held_for(session: Session, *, user: User, settings: Settings, today: dt.date, page: int = 1,
             ruleset: str | None = None, per_page: int = PER_PAGE) -> Page[HeldView]:
    """Instant approvals the guardrails hold (paused rule set or tripped breaker), with why and how much."""
    rows, total, page = _decisions(session, user=user, settings=settings, review="held", event_type=None,
                                   ruleset=ruleset, page=page, per_page=per_page)
    return Page[HeldView](rows=_held_views(session, settings, rows, user=user, today=today), total=total,
                          page=page, per_page=per_page)


def held_in_scope(session: Session, *, user: User, settings: Settings, today: dt.date,
                  decision_ids: list[str]) -> list[HeldView]:
    """Those of ``decision_ids`` still held and of the user's departments (what a bulk release may touch)."""
    rows = list(session.scalars(select(Decision).where(Decision.id.in_(decision_ids), Decision.review == "held",
                                                       decision_scope(user, settings))
                                .order_by(Decision.decided_on, Decision.id)))
    return _held_views(session, settings, rows, user=user, today=today)


def _action_detail(row: AuditLog) -> str:
    after = row.after or {}
    parts = []
    if after.get("reason"):
        parts.append(f"原因：{after['reason']}")
    if after.get("result"):
        parts.append(fmt(after["result"].get("certificate", "")) if isinstance(after["result"], dict) else "")
    if row.action == "review_undone":
        parts.append(f"撤回「{label(ACTION_LABELS, after.get('undid'))}」")
    return "；".join(p for p in parts if p)


def decision_for(session: Session, *, user: User, settings: Settings, decision_id: str, today: dt.date,
                 now: dt.datetime) -> DecisionView | None:
    """A decision and its whole history, if it is one of the user's departments'."""
    decision = decision_in_scope(session, user=user, settings=settings, decision_id=decision_id)
    if decision is None:
        return None
    view = review_views(session, settings, [decision], user=user, today=today)[0]
    case = session.scalars(select(Case).where(Case.event_id == decision.event_id)).first()
    item_ids = [i.id for i in view.items]
    recovery = list(session.scalars(select(Item).where(Item.decision_id == decision.id,
                                                       Item.service.startswith("revoke_"))))
    rows = session.scalars(select(AuditLog).where(or_(
        and_(AuditLog.entity == "decision", AuditLog.entity_id == decision.id),
        and_(AuditLog.entity == "item", AuditLog.entity_id.in_(item_ids + [i.id for i in recovery])),
    )).order_by(AuditLog.at, AuditLog.id))
    labels = {i.id: i.label for i in view.items} | {i.id: i.label for i in recovery}
    history = [HistoryEntry(at=r.at, actor=r.actor.removeprefix("user:"), action=r.action,
                            action_label=(label(ACTION_LABELS, r.action) if r.entity == "decision"
                                          else f"{labels.get(r.entity_id, '事项')}：{label(ACTION_LABELS, r.action)}"),
                            detail=_action_detail(r)) for r in rows]
    notices = [NoticeView(id=n.id, template=n.template, channel=n.channel, created_on=n.created_on, status=n.status,
                          status_label=label(NOTICE_STATUS_LABELS, n.status))
               for n in session.scalars(select(Notice).where(Notice.event_id == decision.event_id)
                                        .order_by(Notice.created_on, Notice.id))]
    undo_until = None
    if (last := last_review(session, decision.id)) is not None and last.actor == f"user:{user.username}":
        until = last.at + dt.timedelta(minutes=UNDO_MINUTES)
        undo_until = until if now <= until else None
    return DecisionView(
        **view.model_dump(), case_id=case.id if case else None, history=history, notices=notices,
        recovery=item_views(recovery, settings=settings, today=today, mine=scope_departments(user)),
        can_revoke=decision.review in REVOCABLE and decision.route in APPROVALS, undo_until=undo_until,
    )


# ---------------------------------------------------------------- cases and items


def case_views(session: Session, settings: Settings, cases: list[Case], *, user: User,
               today: dt.date) -> list[CaseView]:
    if not cases:
        return []
    scope = scope_departments(user)
    by_case: dict[str, list[Item]] = defaultdict(list)
    for i in session.scalars(select(Item).where(Item.case_id.in_([c.id for c in cases]))
                             .order_by(Item.stage, Item.due_date, Item.label)):
        by_case[i.case_id].append(i)
    decisions = defaultdict(list)
    for case_id, decision_id in session.execute(
            select(Case.id, Decision.id).join(Decision, Decision.event_id == Case.event_id)
            .where(Case.id.in_([c.id for c in cases]), decision_scope(user, settings))):
        decisions[case_id].append(decision_id)
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
            person=person_view(people.get(c.person_id or ""), c.person_id),
            items=item_views(mine, settings=settings, today=today, mine=scope, siblings=by_case[c.id]),
            others=len(by_case[c.id]) - len(mine),
            done=sum(i.status in ("done", "rejected") for i in by_case[c.id]), total=len(by_case[c.id]),
            next_due=min((i.due_date for i in open_items), default=None),
            overdue=sum(i.due_date < today for i in open_items), decision_ids=decisions[c.id],
        ))
    return views


def cases_query(user: User):
    scope = scope_departments(user)
    query = select(Case)
    if scope is not None:
        query = query.where(Case.id.in_(select(Item.case_id).where(Item.department.in_(scope))))
    return query


def cases_for(session: Session, *, user: User, settings: Settings, today: dt.date, status: str = "open",
              event_type: str | None = None, overdue: bool = False, page: int = 1) -> Page[CaseView]:
    """Bundle cases with at least one item of the user's departments, newest first."""
    query = cases_query(user).where(Case.status == status)
    if event_type:
        query = query.where(Case.event_type == event_type)
    if overdue:
        late = select(Item.case_id).where(Item.status.in_(OPEN_ITEM), Item.due_date < today)
        scope = scope_departments(user)
        if scope is not None:
            late = late.where(Item.department.in_(scope))
        query = query.where(Case.id.in_(late))
    rows, total, page = paged(session, query.order_by(Case.opened_on.desc(), Case.id), page=page)
    return Page[CaseView](rows=case_views(session, settings, rows, user=user, today=today), total=total, page=page)


def case_for(session: Session, *, user: User, settings: Settings, case_id: str, today: dt.date) -> CaseView | None:
    case = session.scalars(cases_query(user).where(Case.id == case_id)).first()
    return case_views(session, settings, [case], user=user, today=today)[0] if case else None


def _items(user: User, *statuses: str):
    query = select(Item).where(Item.status.in_(statuses))
    scope = scope_departments(user)
    return query if scope is None else query.where(Item.department.in_(scope))


def work_items_for(session: Session, *, user: User, settings: Settings, today: dt.date, page: int = 1,
                   status: str | None = None, overdue: bool = False) -> Page[ItemView]:
    """Ready and in-progress items of the user's departments: the ones a person must work, by due date."""
    query = _items(user, *((status,) if status in ("ready", "in_progress") else ("ready", "in_progress")))
    if overdue:
        query = query.where(Item.due_date < today)
    rows, total, page = paged(session, query.order_by(Item.due_date, Item.id), page=page)
    return Page[ItemView](rows=items_with_cases(session, settings, rows, user=user, today=today), total=total,
                          page=page)


def item_for(session: Session, *, user: User, item_id: str) -> Item | None:
    """The item if it exists and belongs to one of the user's departments."""
    item = session.get(Item, item_id)
    scope = scope_departments(user)
    if item is None or (scope is not None and item.department not in scope):
        return None
    return item


def overdue_items(session: Session, *, user: User, settings: Settings, today: dt.date, page: int = 1,
                  event_type: str | None = None) -> Page[ItemView]:
    """Open items of the user's departments past their due date, most overdue first."""
    query = _items(user, *OPEN_ITEM).where(Item.due_date < today)
    if event_type:
        query = query.where(Item.case_id.in_(select(Case.id).where(Case.event_type == event_type)))
    rows, total, page = paged(session, query.order_by(Item.due_date, Item.id), page=page)
    return Page[ItemView](rows=items_with_cases(session, settings, rows, user=user, today=today), total=total,
                          page=page)


def sees_visits(user: User) -> bool:
    """Visits are civil affairs' (village assistants work for it) and the admin's."""
    scope = scope_departments(user)
    return scope is None or TASK_DEPARTMENT in scope


def overdue_tasks(session: Session, *, user: User, settings: Settings, today: dt.date,
                  page: int = 1) -> Page[TaskView]:
    if not sees_visits(user):
        return Page[TaskView](rows=[], total=0)
    query = select(Task).where(Task.status != "done", Task.due_date < today).order_by(Task.due_date, Task.id)
    rows, total, page = paged(session, query, page=page)
    return Page[TaskView](rows=task_views(session, settings, rows, today=today), total=total, page=page)


def visit_for(session: Session, *, user: User, settings: Settings, task_id: str, today: dt.date) -> TaskView | None:
    """A visit as the back office sees it (to reassign or escalate it)."""
    task = session.get(Task, task_id)
    if task is None or not sees_visits(user):
        return None
    return task_views(session, settings, [task], today=today)[0]


def assistants_for(settings: Settings, village_code: str) -> list[AssistantChoice]:
    return [AssistantChoice(assistant_id=a.assistant_id, name=a.name, village_name=a.village_name)
            for a in lake.assistants_near(settings, village_code)]


# ---------------------------------------------------------------- alerts


def _alerts(user: User):
    scope = scope_departments(user)
    query = select(Alert)
    return query if scope is None else query.where(Alert.department.in_(scope))


def _alert_link(a: Alert) -> str | None:
    if a.entity == "item" and (a.details or {}).get("case_id"):
        return f"/cases/{a.details['case_id']}"
    if a.entity == "task" and a.entity_id:
        return f"/visits/{a.entity_id}"
    if a.kind == "circuit_breaker" and a.ruleset:
        return f"/held?ruleset={a.ruleset}"
    return None


def alerts_for(session: Session, *, user: User, settings: Settings, page: int = 1, kind: str | None = None,
               status: str = "open") -> Page[AlertView]:
    """Alerts for the user's departments, newest first."""
    query = _alerts(user).where(Alert.status == status)
    if kind:
        query = query.where(Alert.kind == kind)
    rows, total, page = paged(session, query.order_by(Alert.created_on.desc(), Alert.id), page=page)
    names = department_names(settings.rules_dir)
    item_cases = dict(session.execute(select(Item.id, Item.case_id).where(
        Item.id.in_([a.entity_id for a in rows if a.entity == "item"]))).all())
    views = []
    for a in rows:
        link = _alert_link(a) or (f"/cases/{item_cases[a.entity_id]}" if a.entity_id in item_cases else None)
        views.append(AlertView(id=a.id, kind=a.kind, kind_label=label(ALERT_LABELS, a.kind), department=a.department,
                               department_name=names.get(a.department or "", a.department or "—"), message=a.message,
                               created_on=a.created_on, status=a.status, link=link))
    return Page[AlertView](rows=views, total=total, page=page)


def alert_for(session: Session, *, user: User, alert_id: str) -> Alert | None:
    return session.scalars(_alerts(user).where(Alert.id == alert_id)).first()
