"""Act: decided events become events, decisions, cases, items and tasks (notices follow: ``notify.outbox``).

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

import polars as pl
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wugan.cases import guardrails
from wugan.cases.bulk import insert_frame
from wugan.cases.bundles import Bundle, case_frames, load_bundles
from wugan.cases.models import (
    AuditLog,
    Case,
    Decision,
    Event,
    Item,
    Notice,
    Task,
    make_id,
)
from wugan.settings import get_settings

__all__ = ["ActReport", "act", "open_case_after_visit", "revoke_decision"]

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


def _new_only(session: Session, decided: pl.DataFrame) -> pl.DataFrame:
    ids = decided["id"].to_list()
    seen: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        seen.update(session.scalars(select(Event.id).where(Event.id.in_(ids[start : start + CHUNK]))))
    return decided.filter(~pl.col("id").is_in(list(seen)))


def _event_frame(decided: pl.DataFrame) -> pl.DataFrame:
    """The event row; what the detector saw besides the event itself goes into ``details``."""
    detail_cols = [c for c in decided.columns if c not in EVENT_FIELDS and not c.endswith(("_route", "_amount"))
                   and c not in DECISION_ONLY]
    details = pl.struct([pl.col(c).cast(pl.Float64) if decided.schema[c] == pl.Decimal else pl.col(c)
                         for c in detail_cols])
    return decided.select(*EVENT_FIELDS, details=details)


DECISION_ONLY = {"decision_id", "route", "ruleset", "ruleset_version", "explanation", "reason", "priority",
                 "probability", "deadline", "model_version", "score", "review", "due", "existing"}


def _decision_frame(decided: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    return decided.select(
        id="decision_id", event_id="id", event_type="event_type", route="route", ruleset="ruleset",
        ruleset_version="ruleset_version", model_version="model_version", score="score",
        explanation="explanation", decided_on=pl.lit(day),
        review=pl.col("review") if "review" in decided.columns else pl.lit(None, pl.String),
    )


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
            priority="priority", probability="probability", deadline="deadline",
            created_on=pl.lit(day), week=pl.lit(None, pl.Date),
            due_date=pl.lit(day + dt.timedelta(days=TASK_DUE_DAYS)), status=pl.lit("backlog"),
        ))
    return pl.concat(frames) if frames else pl.DataFrame()


def _audit_frame(frame: pl.DataFrame, *, action: str, entity: str, at: dt.datetime, after: list[str]) -> pl.DataFrame:
    return frame.select(
        at=pl.lit(at), actor=pl.lit("pipeline"), action=pl.lit(action), entity=pl.lit(entity), entity_id="id",
        before=pl.lit(None, pl.String), after=pl.struct(after),
    )


def act(
    session: Session,
    decided: pl.DataFrame,
    *,
    day: dt.date,
    rules_dir: Path,
) -> ActReport:
    """Write one batch of decisions of one event type (the output of ``assess``)."""
    report = ActReport()
    if decided.is_empty():
        return report
    new = _new_only(session, decided)
    if new.is_empty():
        return report
    event_type = new["event_type"][0]
    bundle = load_bundles(rules_dir)[event_type]
    at = dt.datetime.combine(day, dt.time())
    # Guardrails: a paused or tripped rule set's instant approvals are held for a person to release.
    new = guardrails.screen(session, new, day=day, rules_dir=rules_dir, department=bundle.lead_department)

    insert_frame(session, Event.__table__, _event_frame(new))
    insert_frame(session, Decision.__table__, _decision_frame(new, day))
    report.events = new.height
    report.decisions.update(new["route"].to_list())

    opening = new.filter(pl.col("route") != "no_action") if bundle.opens_on == "decision" else new.clear()
    cases, items = case_frames(opening.rename({"id": "event_id"}), bundle, on=day)
    items = guardrails.hold_items(items, new)
    if not cases.is_empty():
        # A case whose items were all approved at once is already finished.
        finished = items.group_by("case_id").agg(pl.col("status").is_in(["done", "rejected"]).all().alias("f"))
        cases = cases.join(finished, left_on="id", right_on="case_id").with_columns(
            status=pl.when("f").then(pl.lit("closed")).otherwise(pl.lit("open")),
            closed_on=pl.when("f").then(pl.lit(day)),
        ).drop("f")
        items, replaced = _superseding(session, items, new, bundle)
        insert_frame(session, Case.__table__, cases)
        insert_frame(session, Item.__table__, items)
        if not replaced.is_empty():
            session.execute(update(Item), [{"id": r["replaced"], "superseded_by": r["superseded_by"]}
                                           for r in replaced.to_dicts()])
        report.cases, report.items = cases.height, items.height

    tasks = _task_frames(new, bundle, day)
    if not tasks.is_empty():
        insert_frame(session, Task.__table__, tasks)
        report.tasks = tasks.height

    # One audit row per decision; the case it opened (if any) is named in it, written in the same transaction.
    opened = cases.select(event_id="event_id", case_id="id") if not cases.is_empty() else pl.DataFrame(
        schema={"event_id": pl.String, "case_id": pl.String})
    decisions = new.join(opened, left_on="id", right_on="event_id", how="left").select(
        pl.col("decision_id").alias("id"), "route", "ruleset", "ruleset_version", "case_id")
    insert_frame(session, AuditLog.__table__, _audit_frame(
        decisions, action="decided", entity="decision", at=at,
        after=["route", "ruleset", "ruleset_version", "case_id"]))
    insert_frame(session, AuditLog.__table__, guardrails.held_audit(new, at=at))
    return report


def _superseding(session: Session, items: pl.DataFrame, decided: pl.DataFrame,
                 bundle: Bundle) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A new monthly payment replaces the one in force for the same person and service (a tier upgrade):
    the earlier approval, one approved in the same batch that starts before it, or what the department's
    own system pays (``paid_monthly`` in the extract). Adds ``supersedes`` and ``superseded_by`` to the
    batch's items and returns, in ``replaced``, the store's items they supersede."""
    none = pl.lit(None, pl.String)
    monthly = [i.service for i in bundle.items if i.period == "monthly" and i.rule]
    fresh = items.filter(pl.col("service").is_in(monthly) & (pl.col("status") == "done"))
    if fresh.is_empty():
        return items.with_columns(supersedes=none, superseded_by=none), pl.DataFrame()
    owners = decided.select(
        case_id=pl.col("id").map_elements(lambda e: make_id("case", e), return_dtype=pl.String),
        person_id="person_id",
        paid=pl.col("paid_monthly") if "paid_monthly" in decided.columns else pl.lit(None, pl.Float64))
    fresh = fresh.join(owners, on="case_id").select("id", "service", "person_id", "starts_on", "paid",
                                                    new=pl.lit(True))
    earlier = pl.DataFrame(session.execute(
        select(Item.id, Item.service, Case.person_id, Item.starts_on).join(Case, Case.id == Item.case_id)
        .where(Case.event_type == bundle.event, Case.person_id.in_(fresh["person_id"].unique().to_list()),
               Item.service.in_(monthly), Item.status == "done", Item.superseded_by.is_(None),
               Item.case_id.not_in(fresh.join(owners, on="person_id")["case_id"].unique().to_list()))
    ).all(), schema={"id": pl.String, "service": pl.String, "person_id": pl.String, "starts_on": pl.Date},
        orient="row").with_columns(paid=pl.lit(None, pl.Float64), new=pl.lit(False))
    chain = pl.concat([earlier, fresh]).sort("person_id", "service", "starts_on", "id").with_columns(
        before=pl.col("id").shift(1).over("person_id", "service"),
        after=pl.col("id").shift(-1).over("person_id", "service"))
    links = chain.filter("new").select(
        "id", supersedes=pl.coalesce("before", pl.when(pl.col("paid").is_not_null()).then(
            pl.lit("benefits:") + pl.col("service"))), superseded_by="after")
    replaced = chain.filter(~pl.col("new") & pl.col("after").is_not_null()).select(
        replaced="id", superseded_by="after")
    return items.join(links, on="id", how="left"), replaced


def open_case_after_visit(session: Session, *, task: Task, on: dt.date) -> Case | None:
    """A confirmed visit opens the event's bundle case (hardship); other events have theirs already."""
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
    insert_frame(session, Case.__table__, cases)
    insert_frame(session, Item.__table__, items)
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
                           body=render_revocation(items=paid, reason=reason, case=case, event=event,
                                                  rules_dir=get_settings().rules_dir)))
    return made
