"""The case store's tables.

Pipeline rows have deterministic string ids derived from natural keys
(``make_id``), so a rerun, a retry after a crash, or the same window on
another database produces exactly the same rows, and ids in URLs carry no
personal data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "make_id",
    "Event",
    "Decision",
    "Case",
    "Item",
    "Task",
    "Notice",
    "AuditLog",
    "Offset",
    "AccessLog",
    "OptOut",
    "Alert",
    "ShadowDecision",
    "Submission",
    "ITEM_STATES",
    "ROUTES",
    "TASK_QUEUES",
]

ROUTES = ("instant_approve", "bundle_case", "assistant_task", "no_action")
# What the reconciler decides about an event it acted on before: what changed, or what is no longer true.
FOLLOW_UPS = ("correction", "reversal")
ITEM_STATES = ("pending", "ready", "in_progress", "done", "rejected", "held")  # held: an instant approval awaiting release (guardrails)
TASK_STATES = ("backlog", "assigned", "done", "cancelled")  # cancelled: no longer needed (a death, corrected data)
TASK_QUEUES = ("village", "township", "county_office")  # whose work a task is: its village's, a neighbour's, the county office's
VISIT_OUTCOMES = ("confirmed", "not_eligible", "unreachable", "declined")


def make_id(*parts: object) -> str:
    """A short opaque id from a natural key: stable across runs and databases."""
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).hexdigest()


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Event(Base):
    """A life event sensed in the lake; ``key`` makes it happen once."""

    __tablename__ = "events"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    event_type: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[str | None] = mapped_column(String(18), index=True)
    subject: Mapped[str] = mapped_column(
        String(40), doc="the person or birth record the case is about"
    )
    village_code: Mapped[str | None] = mapped_column(String(12))
    event_date: Mapped[dt.date] = mapped_column(Date)
    detected_on: Mapped[dt.date] = mapped_column(Date)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Decision(Base):
    """What the rules (and the model) decided about an event, with the explanation."""

    __tablename__ = "decisions"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(20))
    route: Mapped[str] = mapped_column(String(20))
    ruleset: Mapped[str] = mapped_column(String(40))
    ruleset_version: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str | None] = mapped_column(String(40))
    score: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    decided_on: Mapped[dt.date] = mapped_column(Date, index=True)
    review: Mapped[str | None] = mapped_column(
        String(20), doc="None, 'sampled', 'confirmed' or 'revoked' by the back office; 'held', then 'released' or 'rejected', by guardrails"
    )


class Case(Base):
    """A bundle case (一件事): one per person or child per event."""

    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), unique=True)
    event_type: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(60))
    person_id: Mapped[str | None] = mapped_column(String(18), index=True)
    household_id: Mapped[str | None] = mapped_column(String(40))
    village_code: Mapped[str | None] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    lead_department: Mapped[str] = mapped_column(String(40))
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    purged_on: Mapped[dt.date | None] = mapped_column(Date, doc="personal data removed after the retention period")


class Item(Base):
    """One department's service inside a case; ready once its dependencies are done."""

    __tablename__ = "items"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    service: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(60))
    department: Mapped[str] = mapped_column(String(40))
    stage: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(12))
    depends_on: Mapped[list[Any]] = mapped_column(default=list)
    due_date: Mapped[dt.date] = mapped_column(Date, index=True)
    amount: Mapped[float | None] = mapped_column(Numeric(12, 2, asdecimal=False))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    decision_id: Mapped[str | None] = mapped_column(ForeignKey("decisions.id"), index=True)
    done_on: Mapped[dt.date | None] = mapped_column(Date)
    escalated_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1, doc="a correction is the next version of its service")
    supersedes: Mapped[str | None] = mapped_column(
        String(40), doc="what this version replaces: an item id, or benefits:<kind> when the extract paid it")
    superseded_by: Mapped[str | None] = mapped_column(
        String(16), index=True, doc="the correction or reversal item that replaced this one; None while in force")
    reverses: Mapped[str | None] = mapped_column(
        String(40), doc="what a stop, withdrawal or recovery item undoes: an item id, or benefits:<kind> / pensions")
    starts_on: Mapped[dt.date | None] = mapped_column(Date, doc="when the entitlement begins (first month paid)")
    period: Mapped[str | None] = mapped_column(String(10), doc="'monthly' for a payment that runs until stopped")
    __table_args__ = (
        Index("ix_items_case_service", "case_id", "service", "version", unique=True),
        Index("ix_items_department_status", "department", "status"),
    )


class Task(Base):
    """A visit or confirmation for a village assistant, within their weekly capacity."""

    __tablename__ = "tasks"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    decision_id: Mapped[str | None] = mapped_column(ForeignKey("decisions.id"))
    kind: Mapped[str] = mapped_column(String(30))
    person_id: Mapped[str | None] = mapped_column(String(18), index=True)
    village_code: Mapped[str] = mapped_column(String(12), index=True)
    assistant_id: Mapped[str | None] = mapped_column(String(20), index=True)
    reason: Mapped[str] = mapped_column(Text)
    priority: Mapped[float] = mapped_column(Float, index=True)
    created_on: Mapped[dt.date] = mapped_column(Date)
    week: Mapped[dt.date | None] = mapped_column(
        Date, index=True, doc="Monday of the week it is assigned to"
    )
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="backlog", index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_notes: Mapped[str | None] = mapped_column(Text)
    outcome_on: Mapped[dt.date | None] = mapped_column(Date)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    escalated_on: Mapped[dt.date | None] = mapped_column(Date)
    checklist: Mapped[list[Any] | None] = mapped_column(JSON, doc="the checklist points ticked on the visit")
    probability: Mapped[float | None] = mapped_column(
        Float, doc="probability of need the priority used (the model's, a rule's prior, or 1 for a forced visit)"
    )
    deadline: Mapped[dt.date | None] = mapped_column(Date, doc="legal or service deadline of the visit, if any")
    queue: Mapped[str] = mapped_column(String(16), default="village", server_default="village")
    assigned_on: Mapped[dt.date | None] = mapped_column(Date, doc="day it was last given to someone")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0",
                                          doc="visits that could not reach the person")
    next_try: Mapped[dt.date | None] = mapped_column(Date, doc="booked retry: not before this day")
    propensity: Mapped[float | None] = mapped_column(
        Float, doc="probability the assignment policy gave it a slot when it was assigned (exploration)"
    )
    explored: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                           doc="assigned by the randomised exploration share, not its rank")
    __table_args__ = (Index("ix_tasks_status_village", "status", "village_code"),)


class Notice(Base):
    """The outbox: a rendered message waiting to be sent exactly once."""

    __tablename__ = "notices"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str | None] = mapped_column(ForeignKey("events.id"), index=True)
    person_id: Mapped[str | None] = mapped_column(String(18), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str | None] = mapped_column(String(40))
    template: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text)
    created_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AuditLog(Base):
    """Append-only: who did what to which row, when, before and after."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(40), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AccessLog(Base):
    """Who saw whose personal data, where and when (PIPL art. 28): the database refuses updates and deletes.

    ``entity_ids`` name the rows shown (tasks, cases, decisions, items): opaque
    ids, so the log itself holds no ID number or name.
    """

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(40), index=True)
    channel: Mapped[str] = mapped_column(String(8), doc="page or api")
    path: Mapped[str] = mapped_column(String(120), doc="the route, e.g. /api/tasks/{task_id}")
    entity: Mapped[str] = mapped_column(String(20))
    entity_ids: Mapped[list[Any]] = mapped_column(default=list)
    fields: Mapped[list[Any]] = mapped_column(default=list, doc="what was shown: name, id_masked, phone, medical")


class Offset(Base):
    """The last lake batch a reconciler has processed, per scope (a county, or ``all``): a consumer offset."""

    __tablename__ = "offsets"
    detector: Mapped[str] = mapped_column(String(20), primary_key=True)
    scope: Mapped[str] = mapped_column(String(12), primary_key=True)
    batch: Mapped[int] = mapped_column(Integer)
    day: Mapped[dt.date | None] = mapped_column(Date, doc="the latest day a pass ran (date triggers are due by it)")


class OptOut(Base):
    """A citizen's refusal of a proactive service; detection honours it."""

    __tablename__ = "opt_outs"
    person_id: Mapped[str] = mapped_column(String(18), primary_key=True)
    service: Mapped[str] = mapped_column(
        String(40), primary_key=True, doc="an event type, or 'all'"
    )
    since: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)


class Alert(Base):
    """Something the back office or a lead department must look at: an overdue item, a tripped breaker."""

    __tablename__ = "alerts"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    department: Mapped[str | None] = mapped_column(String(40), index=True)
    ruleset: Mapped[str | None] = mapped_column(String(40))
    entity: Mapped[str | None] = mapped_column(String(20))
    entity_id: Mapped[str | None] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_on: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)


class ShadowDecision(Base):
    """A shadow version's decision on an event the live version decided: stored beside it, never acted on."""

    __tablename__ = "shadow_decisions"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(16), index=True)
    event_type: Mapped[str] = mapped_column(String(20), index=True)
    ruleset: Mapped[str] = mapped_column(String(40), index=True)
    version_label: Mapped[str] = mapped_column(String(40), doc="the version's label in rules/lifecycle.yaml")
    ruleset_version: Mapped[str] = mapped_column(String(16), doc="hash of the shadow version")
    route: Mapped[str] = mapped_column(String(20))
    live_ruleset_version: Mapped[str] = mapped_column(String(16))
    live_route: Mapped[str] = mapped_column(String(20))
    explanation: Mapped[dict[str, Any]] = mapped_column(default=dict)
    decided_on: Mapped[dt.date] = mapped_column(Date, index=True)


class Submission(Base):
    """A state change sent with an idempotency key, and what it answered: a repeat gets the same answer.

    A phone that lost the network resends its queued outcomes; a double tap
    sends a form twice. The key is the client's; ``actor`` and ``path`` must
    match for a repeat to count as one.
    """

    __tablename__ = "submissions"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    actor: Mapped[str] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(String(120))
    entity_id: Mapped[str] = mapped_column(String(40), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
