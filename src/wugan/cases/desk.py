"""What the back office does besides working items: revoke any approval, undo a review, move overdue work.

Each function is one audited state change inside the caller's session, like
``workflow``; their refusals are sentences a reviewer reads. A revocation records in its audit row what it made (recovery
items, the notice, a reopened case), so ``undo_review`` can take exactly that
back — within ``UNDO_MINUTES``, by the person who did it, and only while
nothing has left the building (the notice unsent, the recovery items untouched).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from wugan.cases.models import Alert, AuditLog, Case, Decision, Event, Item, Notice, Task, make_id
from wugan.cases.workflow import audit, review_decision
from wugan.errors import WorkflowError

__all__ = ["UNDO_MINUTES", "REVOCABLE", "revoke_approval", "confirm_approval", "last_review", "undo_review",
           "reassign_task", "escalate", "resolve_alert"]

UNDO_MINUTES = 15
REVOCABLE = (None, "sampled", "confirmed", "released")  # held, rejected and revoked decisions paid nothing to revoke
REVIEW_ACTIONS = ("decision_confirmed", "decision_revoked")


def confirm_approval(session: Session, *, decision_id: str, actor: str, at: dt.datetime) -> Decision:
    """A sampled approval found right."""
    return review_decision(session, decision_id=decision_id, verdict="confirmed", reason="", actor=actor, at=at)


def revoke_approval(session: Session, *, decision_id: str, reason: str, actor: str, at: dt.datetime) -> Decision:
    """Revoke an approval, sampled or not (a complaint can raise any): recovery items for what it paid, a notice."""
    from wugan.cases.act import revoke_decision

    decision = session.get_one(Decision, decision_id)
    if decision.review not in REVOCABLE:
        raise WorkflowError("该决定已撤销、暂缓或驳回，没有可撤销的发放")
    if not reason.strip():
        raise WorkflowError("撤销需填写原因")
    event = session.get_one(Event, decision.event_id)
    case = session.scalars(select(Case).where(Case.event_id == event.id)).first()
    notice_id = make_id("notice", event.id, "revoked")
    had_notice = session.get(Notice, notice_id) is not None
    was_closed = case is not None and case.status == "closed"
    before = {"review": decision.review}
    decision.review = "revoked"
    made = revoke_decision(session, decision=decision, reason=reason, on=at.date())
    session.flush()
    audit(session, actor=actor, action="decision_revoked", entity="decision", entity_id=decision.id, before=before,
          after={"review": "revoked", "reason": reason, "items": [i.id for i in made],
                 "notice": None if had_notice or session.get(Notice, notice_id) is None else notice_id,
                 "reopened": bool(was_closed and case is not None and case.status == "open")}, at=at)
    return decision


def last_review(session: Session, decision_id: str) -> AuditLog | None:
    """The latest confirmation or revocation of a decision, unless it was undone since."""
    row = session.scalars(
        select(AuditLog).where(AuditLog.entity == "decision", AuditLog.entity_id == decision_id,
                               AuditLog.action.in_((*REVIEW_ACTIONS, "review_undone")))
        .order_by(AuditLog.id.desc()).limit(1)
    ).first()
    return row if row is not None and row.action in REVIEW_ACTIONS else None


def undo_review(session: Session, *, decision_id: str, actor: str, at: dt.datetime) -> Decision:
    """Take back one's own confirmation or revocation within ``UNDO_MINUTES``, before it reached anyone."""
    decision = session.get_one(Decision, decision_id)
    row = last_review(session, decision_id)
    if row is None:
        raise WorkflowError("没有可撤回的复核")
    if row.actor != actor:
        raise WorkflowError("只能撤回本人的复核")
    if at - row.at > dt.timedelta(minutes=UNDO_MINUTES):
        raise WorkflowError(f"复核已超过 {UNDO_MINUTES} 分钟，不能撤回；如有错误请重新撤销或更正")
    after = row.after or {}
    if row.action == "decision_revoked":
        notice = session.get(Notice, after["notice"]) if after.get("notice") else None
        if notice is not None and notice.status != "pending":
            raise WorkflowError("撤销告知书已发出，不能撤回")
        items = [session.get_one(Item, i) for i in after.get("items", [])]
        if any(i.status != "ready" for i in items):
            raise WorkflowError("追回事项已开始办理，不能撤回")
        for item in items:
            session.delete(item)
        if notice is not None:
            session.delete(notice)
        if after.get("reopened"):
            case = session.scalars(select(Case).where(Case.event_id == decision.event_id)).first()
            if case is not None:
                case.status, case.closed_on = "closed", row.at.date()
    restored = (row.before or {}).get("review")
    audit(session, actor=actor, action="review_undone", entity="decision", entity_id=decision.id,
          before={"review": decision.review}, after={"review": restored, "undid": row.action}, at=at)
    decision.review = restored
    return decision


def reassign_task(session: Session, *, task_id: str, assistant_id: str, actor: str, at: dt.datetime) -> Task:
    """Give an unfinished visit to another assistant for this week, due by its Sunday."""
    task = session.get_one(Task, task_id)
    if task.status == "done":
        raise WorkflowError("该走访已有结果，无需改派")
    week = at.date() - dt.timedelta(days=at.date().weekday())
    before = {"assistant_id": task.assistant_id, "status": task.status, "week": str(task.week),
              "due_date": str(task.due_date)}
    task.assistant_id, task.status, task.week = assistant_id, "assigned", week
    task.due_date = max(task.due_date or week, week + dt.timedelta(days=6))
    audit(session, actor=actor, action="task_reassigned", entity="task", entity_id=task.id, before=before,
          after={"assistant_id": assistant_id, "status": "assigned", "week": str(week),
                 "due_date": str(task.due_date)}, at=at)
    return task


def escalate(session: Session, *, entity: str, entity_id: str, department: str, note: str, actor: str,
             at: dt.datetime) -> Alert:
    """An alert to a lead department about an overdue item or visit, with the reviewer's note; once a day."""
    if entity not in ("item", "task"):
        raise WorkflowError("只能督办事项或走访任务")
    row = session.get_one(Item if entity == "item" else Task, entity_id)
    alert_id = make_id("escalated_by_hand", entity, entity_id, at.date())
    alert = session.get(Alert, alert_id)
    if alert is None:
        alert = Alert(id=alert_id, kind="escalated_by_hand", department=department, ruleset=None, entity=entity,
                      entity_id=entity_id, message=f"督办：{note}" if note else "督办：请尽快办理", details={"by": actor},
                      created_on=at.date(), status="open")
        session.add(alert)
        row.escalated_on = at.date()
        audit(session, actor=actor, action="escalated_by_hand", entity=entity, entity_id=entity_id, before=None,
              after={"department": department, "note": note}, at=at)
    return alert


def resolve_alert(session: Session, *, alert_id: str, actor: str, at: dt.datetime) -> Alert:
    alert = session.get_one(Alert, alert_id)
    if alert.status != "open":
        raise WorkflowError("该提醒已处理")
    alert.status = "resolved"
    audit(session, actor=actor, action="alert_resolved", entity="alert", entity_id=alert.id,
          before={"status": "open"}, after={"status": "resolved"}, at=at)
    return alert
