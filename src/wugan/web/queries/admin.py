"""The admin's lists: accounts, and the audit log filtered by who, what and when, in words."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from wugan.cases.models import AuditLog
from wugan.cases.users import User
from wugan.ids import redact
from wugan.web.explain import fmt
from wugan.web.queries.common import paged
from wugan.web.texts import ACTION_LABELS, ENTITY_LABELS, label
from wugan.web.views import AuditRow, Page, UserRow

__all__ = ["users", "user_row", "audit_log", "audit_actions"]

FIELD_WORDS = {"role": "角色", "villages": "村", "departments": "部门", "active": "启用", "review": "复核",
               "reason": "原因", "status": "状态", "outcome": "结果", "username": "用户名", "escalated_on": "督办日",
               "assistant_id": "协理员", "week": "周", "due_date": "截止", "note": "说明", "department": "部门"}


def user_row(u: User) -> UserRow:
    return UserRow(id=u.id, username=u.username, display_name=u.display_name, role=u.role,
                   villages=list(u.villages or []), departments=list(u.departments or []), active=u.active,
                   must_change_password=bool(u.must_change_password), last_login=u.last_login)


def users(session: Session) -> list[UserRow]:
    return [user_row(u) for u in session.scalars(select(User).order_by(User.role, User.username))]


def _change(row: AuditLog) -> str:
    after = row.after or {}
    before = row.before or {}
    parts = []
    for key, value in after.items():
        if key in ("items", "notice", "reopened", "undid"):
            continue
        word = FIELD_WORDS.get(key, key)
        old = before.get(key)
        shown = redact(fmt(value) if not isinstance(value, list | dict) else str(value)) or ""
        parts.append(f"{word}：{redact(fmt(old)) or ''} → {shown}" if key in before and old != value
                     else f"{word}：{shown}")
    return "；".join(parts)


def audit_actions(session: Session) -> dict[str, str]:
    """The actions present in the log, with their words, for the filter."""
    present = session.scalars(select(AuditLog.action).distinct()).all()
    return {a: label(ACTION_LABELS, a) for a in sorted(present, key=lambda a: label(ACTION_LABELS, a))}


def audit_log(session: Session, *, page: int = 1, actor: str = "", action: str = "", start: dt.date | None = None,
              end: dt.date | None = None, per_page: int = 50) -> Page[AuditRow]:
    """The audit log newest first, filtered by user (login name or ``pipeline``), action and dates."""
    query = select(AuditLog)
    if actor:
        query = query.where(AuditLog.actor.in_((actor, f"user:{actor}", f"anon:{actor}")))
    if action:
        query = query.where(AuditLog.action == action)
    if start:
        query = query.where(AuditLog.at >= dt.datetime.combine(start, dt.time()))
    if end:
        query = query.where(AuditLog.at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
    rows, total, page = paged(session, query.order_by(AuditLog.id.desc()), page=page, per_page=per_page)
    return Page[AuditRow](rows=[
        AuditRow(at=r.at, actor=r.actor.removeprefix("user:"), action=r.action,
                 action_label="自动决定" if r.action.startswith("decided") else label(ACTION_LABELS, r.action),
                 entity=r.entity, entity_label=label(ENTITY_LABELS, r.entity), entity_id=redact(r.entity_id) or "",
                 change=_change(r))
        for r in rows], total=total, page=page, per_page=per_page)
