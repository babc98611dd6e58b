"""Corrections: an event the store holds, re-assessed on changed data, acted on where the outcome moved.

The reconciler re-examines the events of persons whose data changed (a
corrected row, a re-delivered file). For each item a rule decides, the
re-assessed route, amount and start date are compared with the version in
force; where they differ the item is not changed in place but superseded:

- still approved with another amount or start → a new version, approved;
- approved now, refused or waiting before → a new version, approved;
- refused now, approved before → a stop item for the department, which
  replaces the approval (reviewable, and the family is told);
- refused now, still open before → a new version, refused.

Open visit tasks the new decision no longer asks for are cancelled. Each
event with any change gets one decision (route ``correction``, or
``reversal`` when it only takes away) holding the re-assessed explanation
and the changes, so a reviewer sees what moved and why. Ids come from the
event and the new versions, so a rerun finds nothing left to change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wugan.cases.bulk import insert_frame
from wugan.cases.bundles import load_bundles
from wugan.cases.models import AuditLog, Case, Decision, Item, Task, make_id

__all__ = ["CorrectionReport", "correct", "effective_items", "STOP_DUE_DAYS"]

OPEN = ("pending", "ready", "in_progress")
STOP_DUE_DAYS = 15
CENT = 0.005


@dataclass
class CorrectionReport:
    corrected: int = 0
    reversed: int = 0
    items: int = 0
    tasks_cancelled: int = 0
    changes: list[dict] = field(default_factory=list)


def effective_items(session: Session, case_ids: list[str]) -> pl.DataFrame:
    """Items in force (not superseded, not themselves stops or recoveries) of some cases."""
    rows = []
    for start in range(0, len(case_ids), 5000):
        rows += session.execute(
            select(Item.id, Item.case_id, Item.service, Item.version, Item.status, Item.amount, Item.starts_on,
                   Item.period, Item.label, Item.department, Item.stage, Item.due_date)
            .where(Item.case_id.in_(case_ids[start:start + 5000]), Item.superseded_by.is_(None),
                   Item.reverses.is_(None))
        ).all()
    return pl.DataFrame(rows, schema={
        "item_id": pl.String, "case_id": pl.String, "service": pl.String, "version": pl.Int64,
        "status": pl.String, "amount": pl.Float64, "starts_on": pl.Date, "period": pl.String, "label": pl.String,
        "department": pl.String, "stage": pl.Int64, "due_date": pl.Date}, orient="row")


def _wanted(decided: pl.DataFrame, rules_dir: Path) -> pl.DataFrame:
    """Per event and rule-decided item: the re-assessed route, amount and start."""
    bundle = load_bundles(rules_dir)[decided["event_type"][0]]
    frames = []
    for item in bundle.items:
        if item.outcome is None:
            continue
        starts = pl.col(item.starts).cast(pl.Date) if item.starts in decided.columns else pl.lit(None, pl.Date)
        frames.append(decided.select(
            event_id="id", case_id=pl.col("id").map_elements(lambda e: make_id("case", e), return_dtype=pl.String),
            service=pl.lit(item.service), new_route=pl.col(f"{item.outcome}_route"),
            new_amount=pl.col(f"{item.outcome}_amount").cast(pl.Float64), new_starts=starts,
            due_days=pl.lit(item.due_days),
        ))
    return pl.concat(frames) if frames else pl.DataFrame()


def _differs(a: str, b: str) -> pl.Expr:
    return pl.when(pl.col(a).is_null() & pl.col(b).is_null()).then(False).when(
        pl.col(a).is_null() | pl.col(b).is_null()).then(True).otherwise((pl.col(a) - pl.col(b)).abs() > CENT)


def _changes(wanted: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """One row per item whose outcome moved, with the action: approve, stop, refuse or recheck."""
    joined = wanted.join(stored, on=["case_id", "service"], how="inner").filter(pl.col("status") != "held")
    moved_start = pl.col("new_starts").is_not_null() & (
        pl.col("starts_on").is_null() | (pl.col("starts_on") != pl.col("new_starts")))
    action = (
        pl.when((pl.col("new_route") == "instant_approve")
                & ((pl.col("status") != "done") | _differs("amount", "new_amount") | moved_start))
        .then(pl.lit("approve"))
        .when((pl.col("new_route") == "no_action") & (pl.col("status") == "done")).then(pl.lit("stop"))
        .when((pl.col("new_route") == "no_action") & pl.col("status").is_in(OPEN)).then(pl.lit("refuse"))
        .when((pl.col("new_route") == "assistant_task") & (pl.col("status") == "done")).then(pl.lit("recheck"))
    )
    return joined.with_columns(action=action).filter(pl.col("action").is_not_null())


def _new_items(changes: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """The superseding rows: a next version, or (for a stop) a stop item naming what it stops."""
    stop = pl.col("action") == "stop"
    version = pl.when(stop).then(pl.lit(1)).otherwise(pl.col("version") + 1)
    service = pl.when(stop).then(pl.lit("stop_") + pl.col("service")).otherwise(pl.col("service"))
    return changes.with_columns(new_version=version, new_service=service).with_columns(
        new_id=pl.struct("case_id", "new_service", "new_version").map_elements(
            lambda r: make_id("item", r["case_id"], r["new_service"], r["new_version"]), return_dtype=pl.String),
    ).select(
        id="new_id", case_id="case_id", service="new_service",
        label=pl.when(stop).then(pl.lit("停止发放：") + pl.col("label")).otherwise(pl.col("label")),
        department="department", stage="stage",
        status=pl.col("action").replace_strict(
            {"approve": "done", "stop": "ready", "refuse": "rejected", "recheck": "ready"}, return_dtype=pl.String),
        depends_on=pl.lit([], dtype=pl.List(pl.String)),
        due_date=pl.lit(day) + pl.duration(days=pl.when(stop).then(pl.lit(STOP_DUE_DAYS)).otherwise("due_days")),
        amount=pl.when(pl.col("action") == "approve").then("new_amount"),
        decision_id="decision_id",
        done_on=pl.when(pl.col("action") == "approve").then(pl.lit(day)),
        version="new_version",
        supersedes=pl.when(stop).then(None).otherwise("item_id"),
        reverses=pl.when(stop).then("item_id"),
        starts_on=pl.when(stop).then(None).otherwise(pl.coalesce("new_starts", "starts_on")),
        period="period",
        replaced="item_id",
    )


def correct(session: Session, decided: pl.DataFrame, *, day: dt.date, rules_dir: Path) -> CorrectionReport:
    """Act on re-assessed events the store holds (rows of ``assess`` with ``existing`` true)."""
    report = CorrectionReport()
    if decided.is_empty():
        return report
    wanted = _wanted(decided, rules_dir)
    stored = effective_items(session, wanted["case_id"].unique().to_list()) if not wanted.is_empty() else None
    changes = _changes(wanted, stored) if stored is not None else pl.DataFrame()

    event_ids = decided["id"].to_list()
    open_tasks = pl.DataFrame(
        session.execute(select(Task.id, Task.event_id).where(
            Task.event_id.in_(event_ids), Task.status.in_(["backlog", "assigned"]))).all(),
        schema={"task_id": pl.String, "event_id": pl.String}, orient="row")
    no_visit = decided.filter(pl.col("route") != "assistant_task").select(event_id="id")
    cancelled = open_tasks.join(no_visit, on="event_id", how="semi")

    touched = pl.concat([changes.select("event_id") if not changes.is_empty() else pl.DataFrame(
        schema={"event_id": pl.String}), cancelled.select("event_id")]).unique()
    if touched.is_empty():
        return report

    # One follow-up decision per changed event; its id names the new versions, so a rerun finds it made.
    signature = (changes.group_by("event_id").agg(sig=pl.concat_str(
        [pl.col("service"), pl.col("action"), pl.col("version").cast(pl.String)], separator=":").sort()
        .str.join(",")) if not changes.is_empty() else pl.DataFrame(schema={"event_id": pl.String, "sig": pl.String}))
    takes = (changes.group_by("event_id").agg(only_takes=pl.col("action").is_in(["stop", "refuse"]).all())
             if not changes.is_empty() else pl.DataFrame(schema={"event_id": pl.String, "only_takes": pl.Boolean}))
    followed = (decided.join(touched, left_on="id", right_on="event_id", how="semi")
                .join(signature, left_on="id", right_on="event_id", how="left")
                .join(takes, left_on="id", right_on="event_id", how="left")
                .with_columns(
                    follow_route=pl.when(pl.col("only_takes").fill_null(True)).then(pl.lit("reversal"))
                    .otherwise(pl.lit("correction")),
                    follow_id=pl.struct("id", "sig").map_elements(
                        lambda r: make_id("decision", r["id"], "follow_up", r["sig"] or "tasks"),
                        return_dtype=pl.String)))
    change_list = (changes.group_by("event_id").agg(changes=pl.struct(
        service="service", action="action",
        before=pl.struct(status="status", amount="amount", starts_on=pl.col("starts_on").cast(pl.String)),
        after=pl.struct(route="new_route", amount="new_amount", starts_on=pl.col("new_starts").cast(pl.String)),
    )) if not changes.is_empty() else pl.DataFrame(schema={"event_id": pl.String}))
    followed = followed.join(change_list, left_on="id", right_on="event_id", how="left") if "changes" in \
        change_list.columns else followed.with_columns(changes=pl.lit(None))
    existing = set(session.scalars(select(Decision.id).where(Decision.id.in_(followed["follow_id"].to_list()))))
    followed = followed.filter(~pl.col("follow_id").is_in(list(existing)))
    if followed.is_empty():
        return report

    explanation = pl.struct(
        conditions=pl.col("explanation").struct.field("conditions"),
        values=pl.col("explanation").struct.field("values"),
        outcomes=pl.col("explanation").struct.field("outcomes"),
        reference=pl.col("explanation").struct.field("reference"),
        changes="changes",
        tasks_cancelled=pl.col("id").is_in(cancelled["event_id"].implode()),
    )
    decisions = followed.select(
        id="follow_id", event_id="id", event_type="event_type", route="follow_route", ruleset="ruleset",
        ruleset_version="ruleset_version", model_version="model_version", score="score",
        explanation=explanation, decided_on=pl.lit(day), review=pl.lit(None, pl.String))
    insert_frame(session, Decision.__table__, decisions)

    changes = changes.join(followed.select(event_id="id", decision_id="follow_id"), on="event_id", how="inner")
    at = dt.datetime.combine(day, dt.time())
    audit = [{"at": at, "actor": "pipeline", "action": f"decided_{r['route']}", "entity": "decision",
              "entity_id": r["id"], "before": None, "after": {"event_id": r["event_id"], "route": r["route"]}}
             for r in decisions.select("id", "event_id", "route").to_dicts()]
    if not changes.is_empty():
        items = _new_items(changes, day)
        insert_frame(session, Item.__table__, items.drop("replaced"))
        session.execute(update(Item), [{"id": r["replaced"], "superseded_by": r["id"]}
                                       for r in items.select("id", "replaced").to_dicts()])
        audit += [{"at": at, "actor": "pipeline", "action": "item_superseded", "entity": "item",
                   "entity_id": r["replaced"], "before": None, "after": {"superseded_by": r["id"]}}
                  for r in items.select("id", "replaced").to_dicts()]
        reopen = items.filter(pl.col("status") == "ready")["case_id"].unique().to_list()
        if reopen:
            session.execute(update(Case).where(Case.id.in_(reopen), Case.status == "closed")
                            .values(status="open", closed_on=None))
        report.items = items.height
        report.changes = changes.select("event_id", "service", "action").to_dicts()
    cancel = cancelled.join(followed.select(event_id="id"), on="event_id", how="semi")
    if not cancel.is_empty():
        session.execute(update(Task), [{"id": t, "status": "cancelled"} for t in cancel["task_id"]])
        audit += [{"at": at, "actor": "pipeline", "action": "task_cancelled", "entity": "task", "entity_id": t,
                   "before": None, "after": {"status": "cancelled", "reason": "no_longer_needed"}}
                  for t in cancel["task_id"]]
        report.tasks_cancelled = cancel.height
    session.execute(AuditLog.__table__.insert(), audit)
    report.corrected = decisions.filter(pl.col("route") == "correction").height
    report.reversed = decisions.filter(pl.col("route") == "reversal").height
    return report
