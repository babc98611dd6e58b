"""Opt-outs: a citizen's refusal of a proactive service, recorded by the back office or the CLI.

Every notice tells the citizen how to opt out (reply TD, or tell the village
assistant); this is where that lands. The reconciler honours an opt-out for
events it has not raised yet (``events.scope.Scope.not_opted_out``) and the
take-up report counts opted-out entitlements apart. Each change is audited.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from wugan import ids
from wugan.cases.bundles import load_bundles
from wugan.cases.models import OptOut, make_id
from wugan.cases.workflow import WorkflowError, audit

__all__ = ["services", "add_opt_out", "remove_opt_out", "opt_outs", "opt_out_key", "find_opt_out", "SERVICE_LABELS"]

SERVICE_LABELS = {"all": "全部主动服务"}


def services(rules_dir: Path) -> dict[str, str]:
    """Service codes a citizen can opt out of (an event type, or all), with their titles."""
    return SERVICE_LABELS | {event: bundle.title for event, bundle in load_bundles(rules_dir).items()}


def _check(person_id: str, service: str, rules_dir: Path) -> str:
    person_id = person_id.strip().upper()
    if not ids.is_valid(person_id):
        raise WorkflowError("身份证号格式或校验位不正确")
    if service not in services(rules_dir):
        raise WorkflowError(f"未知的服务 {service!r}")
    return person_id


def add_opt_out(session: Session, *, person_id: str, service: str, since: dt.date, actor: str, reason: str,
                at: dt.datetime, rules_dir: Path) -> OptOut:
    """Record (or keep) an opt-out; returns the row."""
    person_id = _check(person_id, service, rules_dir)
    row = session.get(OptOut, (person_id, service))
    if row is not None:
        return row
    row = OptOut(person_id=person_id, service=service, since=since, recorded_by=actor, reason=reason or None)
    session.add(row)
    audit(session, actor=actor, action="opt_out_added", entity="opt_out", entity_id=opt_out_key(row),
          before=None, after={"service": service, "since": since.isoformat(), "reason": reason or None}, at=at)
    return row


def remove_opt_out(session: Session, *, person_id: str, service: str, actor: str, at: dt.datetime,
                   rules_dir: Path) -> bool:
    """Withdraw an opt-out (the citizen wants the service again); False if there was none."""
    person_id = _check(person_id, service, rules_dir)
    row = session.get(OptOut, (person_id, service))
    if row is None:
        return False
    audit(session, actor=actor, action="opt_out_removed", entity="opt_out",
          entity_id=opt_out_key(row),
          before={"service": service, "since": row.since.isoformat()}, after=None, at=at)
    session.delete(row)
    return True


def opt_out_key(row: OptOut) -> str:
    """An opaque name for an opt-out, for a form or a URL: it carries no ID number."""
    return make_id("opt_out", row.person_id, row.service)


def find_opt_out(session: Session, key: str) -> OptOut | None:
    return next((row for row in session.scalars(select(OptOut)) if opt_out_key(row) == key), None)


def opt_outs(session: Session, *, person_id: str | None = None) -> list[OptOut]:
    query = select(OptOut).order_by(OptOut.since.desc(), OptOut.person_id, OptOut.service)
    if person_id:
        query = query.where(OptOut.person_id == person_id.strip().upper())
    return list(session.scalars(query))
