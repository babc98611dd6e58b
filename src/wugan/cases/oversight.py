"""Oversight the pipeline does every day: escalate what is overdue, sample instant approvals for review.

Both are idempotent for their day: an escalated item or task carries
``escalated_on`` and its alerts have deterministic ids; a sampled decision
carries ``review='sampled'`` and the sample is a hash of the decision id, so a
rerun or backfill of the same day selects the same rows and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from wugan.cases.bulk import insert_ignore
from wugan.cases.bundles import load_bundles
from wugan.cases.models import Alert, AuditLog, Case, Decision, Item, Task, make_id
from wugan.errors import ConfigError

__all__ = ["ReviewRates", "load_review_rates", "escalate_overdue", "sample_for_review", "TASK_DEPARTMENT"]

ACTOR = "pipeline"
TASK_DEPARTMENT = "civil_affairs"  # village assistants work for civil affairs
OPEN_ITEM_STATES = ("pending", "ready", "in_progress")


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _audit(*, day: dt.date, action: str, entity: str, entity_id: str, before: dict | None,
           after: dict | None) -> dict[str, Any]:
    return {"at": _at(day), "actor": ACTOR, "action": action, "entity": entity, "entity_id": entity_id,
            "before": before, "after": after}


def escalate_overdue(session: Session, *, day: dt.date, rules_dir: Path) -> int:
    """Escalate items and tasks overdue on ``day``; returns how many were escalated.

    An open item due before ``day`` raises an ``overdue_item`` alert for its
    department, and another for the case's lead department when that differs;
    an unfinished task due before ``day`` raises an ``overdue_task`` alert for
    civil affairs (the back office of the village assistants).
    """
    leads = {event: bundle.lead_department for event, bundle in load_bundles(rules_dir).items()}
    items = session.execute(
        select(Item.id, Item.case_id, Item.service, Item.label, Item.department, Item.due_date, Item.status,
               Case.event_type, Case.village_code)
        .join(Case, Case.id == Item.case_id)
        .where(Item.status.in_(OPEN_ITEM_STATES), Item.due_date < day, Item.escalated_on.is_(None))
        .order_by(Item.id)
    ).all()
    tasks = session.execute(
        select(Task.id, Task.kind, Task.village_code, Task.assistant_id, Task.due_date, Task.status)
        .where(Task.status != "done", Task.due_date.is_not(None), Task.due_date < day,
               Task.escalated_on.is_(None))
        .order_by(Task.id)
    ).all()

    alerts: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    for item in items:
        lead = leads.get(item.event_type)
        details = {"case_id": item.case_id, "service": item.service, "status": item.status,
                   "due_date": item.due_date.isoformat(), "days_overdue": (day - item.due_date).days,
                   "village_code": item.village_code}
        for department, role in ((item.department, "department"), (lead, "lead_department")):
            if department is None or (role == "lead_department" and department == item.department):
                continue
            alerts.append({
                "id": make_id("overdue_item", item.id, department), "kind": "overdue_item",
                "department": department, "ruleset": None, "entity": "item", "entity_id": item.id,
                "message": f"事项逾期：{item.label}（案件 {item.case_id}，应于 {item.due_date} 前办结）",
                "details": details | {"role": role}, "created_on": day, "status": "open",
            })
        audit.append(_audit(day=day, action="escalated", entity="item", entity_id=item.id,
                            before={"escalated_on": None}, after={"escalated_on": day.isoformat()}))
    for task in tasks:
        alerts.append({
            "id": make_id("overdue_task", task.id, TASK_DEPARTMENT), "kind": "overdue_task",
            "department": TASK_DEPARTMENT, "ruleset": None, "entity": "task", "entity_id": task.id,
            "message": f"走访任务逾期：{task.kind}（村 {task.village_code}，应于 {task.due_date} 前完成）",
            "details": {"status": task.status, "assistant_id": task.assistant_id,
                        "due_date": task.due_date.isoformat(), "days_overdue": (day - task.due_date).days,
                        "village_code": task.village_code},
            "created_on": day, "status": "open",
        })
        audit.append(_audit(day=day, action="escalated", entity="task", entity_id=task.id,
                            before={"escalated_on": None}, after={"escalated_on": day.isoformat()}))

    for model, rows in ((Item, items), (Task, tasks)):
        ids = [r.id for r in rows]
        for start in range(0, len(ids), 1000):
            session.execute(update(model).where(model.id.in_(ids[start:start + 1000]))
                            .values(escalated_on=day).execution_options(synchronize_session=False))
    insert_ignore(session, Alert.__table__, alerts)
    insert_ignore(session, AuditLog.__table__, audit)
    return len(items) + len(tasks)


@dataclass(frozen=True)
class ReviewRates:
    """Share of each rule set's instant approvals the back office reviews (``rules/review/rates.yaml``)."""

    default: float = 0.05
    new: float = 0.3
    new_days: int = 30
    rulesets: dict[str, float] = field(default_factory=dict)

    def rate(self, ruleset: str, *, first_seen: dt.date, day: dt.date) -> float:
        base = self.rulesets.get(ruleset, self.default)
        return max(base, self.new) if (day - first_seen).days < self.new_days else base


@cache
def _load(path: str, mtime_ns: int) -> ReviewRates:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    rates = ReviewRates(default=float(data.get("default", 0.05)), new=float(data.get("new", 0.3)),
                        new_days=int(data.get("new_days", 30)),
                        rulesets={k: float(v) for k, v in (data.get("rulesets") or {}).items()})
    for name, value in (("default", rates.default), ("new", rates.new), *rates.rulesets.items()):
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"review rate {name!r} must be within 0..1, not {value}", path=path)
    return rates


def load_review_rates(rules_dir: Path) -> ReviewRates:
    """The sampling rates in ``<rules_dir>/review/rates.yaml``; the defaults when the file is missing."""
    path = Path(rules_dir) / "review" / "rates.yaml"
    if not path.exists():
        return ReviewRates()
    return _load(str(path), path.stat().st_mtime_ns)


def _draw(decision_id: str) -> float:
    """A uniform number in [0, 1) fixed by the decision id."""
    digest = hashlib.blake2b(f"review|{decision_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def sample_for_review(session: Session, *, day: dt.date, rates: ReviewRates) -> int:
    """Mark a deterministic sample of ``day``'s instant approvals ``review='sampled'``; returns how many."""
    first_seen = dict(
        ((r.ruleset, r.ruleset_version), r.first)
        for r in session.execute(
            select(Decision.ruleset, Decision.ruleset_version, func.min(Decision.decided_on).label("first"))
            .group_by(Decision.ruleset, Decision.ruleset_version)
        ).all()
    )
    candidates = session.execute(
        select(Decision.id, Decision.ruleset, Decision.ruleset_version)
        .where(Decision.route == "instant_approve", Decision.decided_on == day, Decision.review.is_(None))
        .order_by(Decision.id)
    ).all()
    chosen = [
        r for r in candidates
        if _draw(r.id) < rates.rate(r.ruleset, first_seen=first_seen.get((r.ruleset, r.ruleset_version), day),
                                    day=day)
    ]
    ids = [r.id for r in chosen]
    for start in range(0, len(ids), 1000):
        session.execute(update(Decision).where(Decision.id.in_(ids[start:start + 1000]))
                        .values(review="sampled").execution_options(synchronize_session=False))
    insert_ignore(session, AuditLog.__table__, [
        _audit(day=day, action="sampled_for_review", entity="decision", entity_id=r.id,
               before={"review": None}, after={"review": "sampled", "ruleset": r.ruleset,
                                               "ruleset_version": r.ruleset_version})
        for r in chosen
    ])
    return len(chosen)
