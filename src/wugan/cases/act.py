"""Act: decided events become events, decisions, cases, items, tasks and notices.

A batch is acted on inside the caller's transaction: either all of it lands
or none. Rows have deterministic ids, events already in the store are left
out before anything is written, and every insert ignores a row that exists,
so rerunning a window creates nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from wugan.cases.bundles import Bundle, case_frames, load_bundles
from wugan.cases.models import (
    AuditLog,
    Case,
    Decision,
    Event,
    Item,
    Notice,
    Task,
    Watermark,
    make_id,
)
from wugan.notify.render import render_notices

__all__ = ["ActReport", "act", "insert_ignore", "open_case_after_visit", "revoke_decision", "set_watermark"]

EVENT_FIELDS = ("id", "key", "event_type", "person_id", "subject", "village_code", "event_date", "detected_on")
TASK_DUE_DAYS = 14
CHUNK = 5_000


@dataclass
class ActReport:
    events: int = 0
    decisions: Counter = field(default_factory=Counter)
    cases: int = 0
    items: int = 0
    tasks: int = 0
    notices: int = 0


def insert_ignore(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Bulk insert that leaves existing rows (same primary or unique key) alone."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module = {"sqlite": sqlite, "postgresql": postgresql}[dialect]
    for start in range(0, len(rows), CHUNK):
        statement = module.insert(table).on_conflict_do_nothing()
        session.execute(statement, rows[start : start + CHUNK])


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts()


def _new_only(session: Session, decided: pl.DataFrame) -> pl.DataFrame:
    ids = decided["id"].to_list()
    seen: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        seen.update(session.scalars(select(Event.id).where(Event.id.in_(ids[start : start + CHUNK]))))
    return decided.filter(~pl.col("id").is_in(list(seen)))


def _jsonable(frame: pl.DataFrame) -> pl.DataFrame:
    """Dates inside JSON details become ISO strings."""
    return frame.with_columns(pl.col(pl.Date, pl.Datetime).cast(pl.String), pl.col(pl.Decimal).cast(pl.Float64))


def _event_rows(decided: pl.DataFrame) -> list[dict[str, Any]]:
    detail_cols = [c for c in decided.columns if c not in EVENT_FIELDS and not c.endswith(("_route", "_amount"))
                   and c not in DECISION_ONLY]
    details = _jsonable(decided.select(detail_cols)).to_dicts()
    rows = decided.select(EVENT_FIELDS).to_dicts()
    for row, detail in zip(rows, details, strict=True):
        row["details"] = {k: v for k, v in detail.items() if v is not None}
    return rows


DECISION_ONLY = {"decision_id", "route", "ruleset", "ruleset_version", "explanation", "reason", "priority",
                 "model_version", "score"}


def _decision_rows(decided: pl.DataFrame, day: dt.date) -> list[dict[str, Any]]:
    return decided.select(
        id="decision_id", event_id="id", event_type="event_type", route="route", ruleset="ruleset",
        ruleset_version="ruleset_version", model_version="model_version", score="score",
        explanation="explanation", decided_on=pl.lit(day), review=pl.lit(None, pl.String),
    ).to_dicts()


def _task_frames(decided: pl.DataFrame, bundle: Bundle, day: dt.date) -> pl.DataFrame:
    """A task per outcome that needs an assistant; a home visit where the bundle waits for one."""
    routed = [c.removesuffix("_route") for c in decided.columns if c.endswith("_route")]
    frames = []
    for outcome in routed:
        wanted = decided.filter(pl.col(f"{outcome}_route") == "assistant_task")
        if wanted.is_empty():
            continue
        kind = "home_visit" if bundle.opens_on == "visit_confirmed" else outcome
        frames.append(wanted.select(
            id=pl.concat_str([pl.col("id"), pl.lit(kind)], separator="|").map_elements(
                lambda k: make_id("task", k), return_dtype=pl.String),
            event_id="id", decision_id="decision_id", kind=pl.lit(kind), person_id="person_id",
            village_code="village_code", assistant_id=pl.lit(None, pl.String), reason="reason",
            priority="priority", created_on=pl.lit(day), week=pl.lit(None, pl.Date),
            due_date=pl.lit(day + dt.timedelta(days=TASK_DUE_DAYS)), status=pl.lit("backlog"),
        ))
    return pl.concat(frames) if frames else pl.DataFrame()


def _audit_rows(frame: pl.DataFrame, *, action: str, entity: str, at: dt.datetime, after: list[str]) -> list[dict]:
    afters = _jsonable(frame.select(after)).to_dicts()
    return [
        {"at": at, "actor": "pipeline", "action": action, "entity": entity, "entity_id": entity_id,
         "before": None, "after": a}
        for entity_id, a in zip(frame["id"].to_list(), afters, strict=True)
    ]


def act(
    session: Session,
    decided: pl.DataFrame,
    *,
    day: dt.date,
    rules_dir: Path,
    people: pl.DataFrame,
) -> ActReport:
    """Write one batch of decisions of one event type (the output of ``assess``).

    ``people`` (person_id, name, phone) addresses the notices.
    """
    report = ActReport()
    if decided.is_empty():
        return report
    new = _new_only(session, decided)
    if new.is_empty():
        return report
    event_type = new["event_type"][0]
    bundle = load_bundles(rules_dir)[event_type]
    at = dt.datetime.combine(day, dt.time())

    insert_ignore(session, Event.__table__, _event_rows(new))
    insert_ignore(session, Decision.__table__, _decision_rows(new, day))
    report.events = new.height
    report.decisions.update(new["route"].to_list())

    opening = new.filter(pl.col("route") != "no_action") if bundle.opens_on == "decision" else new.clear()
    cases, items = case_frames(opening.rename({"id": "event_id"}), bundle, on=day)
    if not cases.is_empty():
        # A case whose items were all approved at once is already finished.
        finished = items.group_by("case_id").agg(pl.col("status").is_in(["done", "rejected"]).all().alias("f"))
        cases = cases.join(finished, left_on="id", right_on="case_id").with_columns(
            status=pl.when("f").then(pl.lit("closed")).otherwise(pl.lit("open")),
            closed_on=pl.when("f").then(pl.lit(day)),
        ).drop("f")
        insert_ignore(session, Case.__table__, _rows(cases))
        insert_ignore(session, Item.__table__, _rows(items))
        report.cases, report.items = cases.height, items.height

    tasks = _task_frames(new, bundle, day)
    if not tasks.is_empty():
        insert_ignore(session, Task.__table__, _rows(tasks))
        report.tasks = tasks.height

    notices = render_notices(new, items, people=people, bundle=bundle, rules_dir=rules_dir, day=day)
    insert_ignore(session, Notice.__table__, notices)
    report.notices = len(notices)

    decisions = new.select(pl.col("decision_id").alias("id"), "route", "ruleset", "ruleset_version")
    audit = _audit_rows(decisions, action="decided", entity="decision", at=at,
                        after=["route", "ruleset", "ruleset_version"])
    if not cases.is_empty():
        audit += _audit_rows(cases, action="case_opened", entity="case", at=at, after=["event_type", "status"])
    insert_ignore(session, AuditLog.__table__, audit)
    return report


def set_watermark(session: Session, *, detector: str, scope: str, day: dt.date) -> None:
    """Move a detector's watermark forward (never back: a rerun of an old day leaves it)."""
    mark = session.get(Watermark, (detector, scope))
    if mark is None:
        session.add(Watermark(detector=detector, scope=scope, last_day=day))
    elif mark.last_day < day:
        mark.last_day = day


def open_case_after_visit(session: Session, *, task: Task, on: dt.date) -> Case | None:
    """A confirmed visit opens the event's bundle case (hardship); other events have theirs already."""
    from wugan.settings import get_settings

    rules_dir = get_settings().rules_dir
    event = session.get_one(Event, task.event_id)
    existing = session.scalars(select(Case).where(Case.event_id == event.id)).first()
    if existing is not None:
        return existing
    bundle = load_bundles(rules_dir)[event.event_type]
    decided = pl.DataFrame(
        {"event_id": [event.id], "decision_id": [task.decision_id], "person_id": [event.person_id],
         "household_id": [event.details.get("household_id")], "village_code": [event.village_code]},
        schema={"event_id": pl.String, "decision_id": pl.String, "person_id": pl.String,
                "household_id": pl.String, "village_code": pl.String},
    )
    cases, items = case_frames(decided, bundle, on=on)
    insert_ignore(session, Case.__table__, _rows(cases))
    insert_ignore(session, Item.__table__, _rows(items))
    session.flush()
    return session.get_one(Case, cases["id"][0])


def revoke_decision(session: Session, *, decision: Decision, reason: str, on: dt.date) -> list[Item]:
    """Compensate what an approval did: an item to stop or recover each payment it made."""
    case = session.scalars(select(Case).where(Case.event_id == decision.event_id)).first()
    if case is None:
        return []
    paid = session.scalars(select(Item).where(Item.decision_id == decision.id, Item.status == "done")).all()
    made = []
    for item in paid:
        compensating = Item(
            id=make_id("item", case.id, f"revoke_{item.service}"), case_id=case.id,
            service=f"revoke_{item.service}", label=f"撤销：{item.label}（停止发放并追回）",
            department=item.department, stage=item.stage + 1, status="ready", depends_on=[],
            due_date=on + dt.timedelta(days=15), amount=-(item.amount or 0.0),
            result={"reason": reason, "revokes": item.id}, decision_id=decision.id,
        )
        if session.get(Item, compensating.id) is None:
            session.add(compensating)
            made.append(compensating)
    if made and case.status == "closed":
        case.status, case.closed_on = "open", None
    event = session.get_one(Event, decision.event_id)
    notice_id = make_id("notice", event.id, "revoked")
    if session.get(Notice, notice_id) is None:
        from wugan.notify.render import render_revocation

        session.add(Notice(id=notice_id, event_id=event.id, person_id=event.person_id, channel="letter",
                           address=None, template="revoked", created_on=on, status="pending",
                           body=render_revocation(items=paid, reason=reason, case=case, event=event)))
    return made
