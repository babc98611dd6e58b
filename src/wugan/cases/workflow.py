"""What people do to cases: work items, record visits, review automatic approvals.

Each function is one audited state change inside the caller's session; the
web app and the pipeline call the same ones.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wugan.cases.models import ITEM_STATES, VISIT_OUTCOMES, AuditLog, Case, Decision, Item, Task
from wugan.errors import WorkflowError

__all__ = [
    "audit",
    "start_item",
    "complete_item",
    "reject_item",
    "ready_dependents",
    "record_visit",
    "correct_outcome",
    "review_decision",
    "WorkflowError",
]


def _state(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: (v.isoformat() if isinstance(v, dt.date) else v) for f in fields if (v := getattr(row, f)) is not None}


def audit(session: Session, *, actor: str, action: str, entity: str, entity_id: str,
          before: dict | None, after: dict | None, at: dt.datetime) -> None:
    session.add(AuditLog(at=at, actor=actor, action=action, entity=entity, entity_id=entity_id,
                         before=before, after=after))


ITEM_FIELDS = ("status", "result", "amount", "done_on")


def _transition(session: Session, item: Item, to: str, *, allowed_from: tuple[str, ...], actor: str,
                at: dt.datetime, result: dict | None = None) -> Item:
    assert to in ITEM_STATES
    if item.status not in allowed_from:
        raise WorkflowError(f"item {item.id} is {item.status}; it cannot become {to}")
    before = _state(item, ITEM_FIELDS)
    item.status = to
    if result is not None:
        item.result = result
    if to in ("done", "rejected"):
        item.done_on = at.date()
    audit(session, actor=actor, action=f"item_{to}", entity="item", entity_id=item.id, before=before,
          after=_state(item, ITEM_FIELDS), at=at)
    if to in ("done", "rejected"):
        ready_dependents(session, case_id=item.case_id, actor=actor, at=at)
    return item


def start_item(session: Session, *, item_id: str, actor: str, at: dt.datetime) -> Item:
    item = session.get_one(Item, item_id)
    return _transition(session, item, "in_progress", allowed_from=("ready",), actor=actor, at=at)


def complete_item(session: Session, *, item_id: str, result: dict, actor: str, at: dt.datetime) -> Item:
    """Done with its result (a certificate number, an amount); readies the items that waited for it."""
    item = session.get_one(Item, item_id)
    return _transition(session, item, "done", allowed_from=("ready", "in_progress"), actor=actor, at=at,
                       result=result)


def reject_item(session: Session, *, item_id: str, reason: str, actor: str, at: dt.datetime) -> Item:
    item = session.get_one(Item, item_id)
    return _transition(session, item, "rejected", allowed_from=("pending", "ready", "in_progress"), actor=actor,
                       at=at, result={"reason": reason})


def ready_dependents(session: Session, *, case_id: str, actor: str, at: dt.datetime) -> None:
    """Ready pending items whose dependencies are all done; close the case when nothing is left."""
    items = session.scalars(select(Item).where(Item.case_id == case_id)).all()
    status = {i.service: i.status for i in items}
    for item in items:
        if item.status == "pending" and all(status.get(d) == "done" for d in item.depends_on):
            before = _state(item, ITEM_FIELDS)
            item.status = status[item.service] = "ready"
            audit(session, actor=actor, action="item_ready", entity="item", entity_id=item.id, before=before,
                  after=_state(item, ITEM_FIELDS), at=at)
    case = session.get_one(Case, case_id)
    if case.status == "open" and all(s in ("done", "rejected") for s in status.values()):
        case.status, case.closed_on = "closed", at.date()
        audit(session, actor=actor, action="case_closed", entity="case", entity_id=case.id,
              before={"status": "open"}, after={"status": "closed"}, at=at)


TASK_FIELDS = ("status", "outcome", "outcome_notes", "outcome_on", "assistant_id", "week", "queue", "attempts",
               "next_try", "checklist")


def record_visit(session: Session, *, task_id: str, outcome: str, notes: str, actor: str,
                 at: dt.datetime, checklist: list[str] | None = None) -> Case | None:
    """Store the visit outcome (also the model's label) and the checklist points ticked; a confirmed visit
    opens the bundle case.

    ``unreachable`` (联系不上) does not end the task: it books a retry on
    another day at another time, the next week, with the same assistant, up to
    ``retry.unreachable_limit`` attempts; then the county office's phone
    follow-up takes it over (``rules/queues/visits.yaml``).
    """
    from wugan.cases.act import open_case_after_visit
    from wugan.scoring.queue import load_queue_rules, week_of

    if outcome not in VISIT_OUTCOMES:
        raise WorkflowError(f"unknown visit outcome {outcome!r}; one of {', '.join(VISIT_OUTCOMES)}")
    task = session.get_one(Task, task_id)
    if task.status == "done":
        raise WorkflowError(f"task {task.id} already has an outcome ({task.outcome})")
    if task.status != "assigned":
        raise WorkflowError(f"task {task.id} is not assigned to anyone yet")
    before = _state(task, TASK_FIELDS)
    day = at.date()
    if outcome == "unreachable":
        rules = load_queue_rules()
        task.attempts = (task.attempts or 0) + 1
        task.outcome_notes = notes
        task.checklist = list(checklist or [])
        if task.queue == "county_office":
            # the county office could not reach them either: the attempt is the outcome
            task.status, task.outcome, task.outcome_on = "done", outcome, day
            action = "visit_recorded"
        elif task.attempts < rules.unreachable_limit:
            task.week = week_of(day) + dt.timedelta(weeks=1)
            task.due_date = task.week + dt.timedelta(days=6)
            task.next_try = max(day + dt.timedelta(days=rules.next_try_days), task.week)
            action = "visit_retry_booked"
        else:
            task.status, task.assistant_id, task.week, task.due_date = "backlog", None, None, None
            task.queue, task.next_try = "county_office", day + dt.timedelta(days=1)
            action = "visit_to_county_office"
        audit(session, actor=actor, action=action, entity="task", entity_id=task.id, before=before,
              after=_state(task, TASK_FIELDS), at=at)
        return None
    task.status, task.outcome, task.outcome_notes, task.outcome_on = "done", outcome, notes, day
    task.checklist = list(checklist or [])
    task.next_try = None
    case = open_case_after_visit(session, task=task, on=day) if outcome == "confirmed" else None
    if case is not None:
        task.case_id = case.id
    audit(session, actor=actor, action="visit_recorded", entity="task", entity_id=task.id, before=before,
          after=_state(task, (*TASK_FIELDS, "case_id")), at=at)
    return case


def correct_outcome(session: Session, *, task_id: str, outcome: str, reason: str, actor: str,
                    at: dt.datetime) -> Task:
    """Correct a recorded outcome within ``correction.window_days`` of recording it; audited.

    A visit corrected to ``confirmed`` opens the case the confirmation opens; a
    confirmation corrected away withdraws the case it opened (its open items
    are rejected with the reason). ``unreachable`` is an attempt, not an
    outcome: it cannot be what a correction records.
    """
    from wugan.cases.act import open_case_after_visit
    from wugan.scoring.queue import load_queue_rules

    if outcome not in VISIT_OUTCOMES or outcome == "unreachable":
        raise WorkflowError(f"an outcome is corrected to one of confirmed, not_eligible, declined, not {outcome!r}")
    if not reason.strip():
        raise WorkflowError("a correction needs a reason")
    task = session.get_one(Task, task_id)
    if task.status != "done" or task.outcome_on is None:
        raise WorkflowError(f"task {task.id} has no outcome to correct")
    window = load_queue_rules().correction_days
    if (at.date() - task.outcome_on).days > window:
        raise WorkflowError(f"the outcome of task {task.id} was recorded on {task.outcome_on}; "
                            f"it can be corrected within {window} days only")
    if outcome == task.outcome:
        raise WorkflowError(f"task {task.id} already has the outcome {outcome}")
    before = _state(task, ("outcome", "outcome_notes", "outcome_on", "case_id"))
    if task.outcome == "confirmed" and task.case_id is not None:
        for item in session.scalars(select(Item).where(Item.case_id == task.case_id,
                                                       Item.status.in_(("pending", "ready", "in_progress")))):
            reject_item(session, item_id=item.id, reason=f"{WITHDRAWN}：{reason}", actor=actor, at=at)
        task.case_id = None
    task.outcome = outcome
    if outcome == "confirmed":
        case = open_case_after_visit(session, task=task, on=at.date())
        if case is not None:
            _reopen_withdrawn(session, case=case, actor=actor, at=at)
            task.case_id = case.id
    audit(session, actor=actor, action="outcome_corrected", entity="task", entity_id=task.id, before=before,
          after={**_state(task, ("outcome", "outcome_on", "case_id")), "reason": reason}, at=at)
    return task


WITHDRAWN = "走访结果更正"


def _reopen_withdrawn(session: Session, *, case: Case, actor: str, at: dt.datetime) -> None:
    """A case a correction withdrew opens again when another correction confirms the visit."""
    withdrawn = [i for i in session.scalars(select(Item).where(Item.case_id == case.id, Item.status == "rejected"))
                 if str((i.result or {}).get("reason", "")).startswith(WITHDRAWN)]
    if not withdrawn:
        return
    for item in withdrawn:
        before = _state(item, ITEM_FIELDS)
        item.status, item.done_on, item.result = "pending", None, None
        audit(session, actor=actor, action="item_reopened", entity="item", entity_id=item.id, before=before,
              after=_state(item, ITEM_FIELDS), at=at)
    if case.status == "closed":
        case.status, case.closed_on = "open", None
        audit(session, actor=actor, action="case_reopened", entity="case", entity_id=case.id,
              before={"status": "closed"}, after={"status": "open"}, at=at)
    session.flush()
    ready_dependents(session, case_id=case.id, actor=actor, at=at)


def review_decision(session: Session, *, decision_id: str, verdict: str, reason: str, actor: str,
                    at: dt.datetime) -> Decision:
    """Confirm an automatic approval, or revoke it: its paid items get compensating items and a notice."""
    from wugan.cases.act import revoke_decision

    decision = session.get_one(Decision, decision_id)
    if verdict not in ("confirmed", "revoked"):
        raise WorkflowError(f"a review is 'confirmed' or 'revoked', not {verdict!r}")
    if decision.review in ("confirmed", "revoked", "held", "rejected"):
        raise WorkflowError(f"decision {decision.id} was already {decision.review}")
    if verdict == "revoked" and not reason.strip():
        raise WorkflowError("a revocation needs a reason")
    before = {"review": decision.review}
    decision.review = verdict
    if verdict == "revoked":
        revoke_decision(session, decision=decision, reason=reason, on=at.date())
    audit(session, actor=actor, action=f"decision_{verdict}", entity="decision", entity_id=decision.id,
          before=before, after={"review": verdict, "reason": reason}, at=at)
    return decision
