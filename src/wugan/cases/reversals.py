"""Reversals: a death stops everything that pays the deceased, whenever its record arrives.

Level-triggered: each pass compares the persons the lake says have died with
what still runs for them, and acts on the difference.

- A monthly payment wugan approved (an allowance tier, a pension claim, a
  subsidy) is stopped from the month after the death, or withdrawn whole when
  it would have started after the death (an approval made in the days between
  a death and its record); months already paid beyond that are recovered.
- A benefit the department's own system pays (the ``benefits`` extract) is
  stopped by an item in the death case, with recovery of months paid after
  the death; so is a pension paid after the death (the bundle stops it).
- Open visits and confirmations for the deceased are cancelled, and the
  open items of their own bundles (a retirement, a disability case) closed.

Every stop, withdrawal and recovery is an item with its department and a
reason, under one ``reversal`` decision on the death event per pass (what a
reviewer reviews and the family is told). Item and decision ids come from
what they reverse, so a rerun, or a re-delivered extract that still lists
the deceased, adds nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wugan.cases.bulk import insert_frame
from wugan.cases.bundles import load_bundles
from wugan.cases.models import AuditLog, Case, Decision, Event, Item, Task, make_id

__all__ = ["ReversalReport", "reverse_deaths", "months_paid_after", "BENEFIT_DEPARTMENT"]

# Bundles about the person themselves: what is still open in them ends with a death (a birth's goes on).
PERSONAL_BUNDLES = ("retirement", "medical_hardship", "old_age")
BENEFIT_DEPARTMENT = "civil_affairs"  # the benefits extract is civil affairs' (lake contract)
PENSION_DEPARTMENT = "human_resources"
DUE_DAYS = 15
BENEFIT_LABELS = {
    "old_age_allowance": "高龄津贴", "childcare_subsidy": "育儿补贴", "dibao": "最低生活保障金",
    "tekun": "特困人员供养金", "severe_disability_care": "重度残疾人护理补贴",
    "poor_disabled_living": "困难残疾人生活补贴", "disability_living": "残疾人生活补贴",
}


@dataclass
class ReversalReport:
    deaths: int = 0
    items: int = 0
    recovered: float = 0.0
    tasks_cancelled: int = 0


def _month(expr: pl.Expr) -> pl.Expr:
    return expr.dt.year() * 12 + expr.dt.month() - 1


def months_paid_after(*, starts: pl.Expr, death: pl.Expr, day: dt.date) -> pl.Expr:
    """Months paid that should not have been: from the month after the death (or from the start, when it
    came after the death) through ``day``'s month; payments run monthly from the start's month."""
    first = pl.when(starts > death).then(_month(starts)).otherwise(
        pl.max_horizontal(_month(starts), _month(death) + 1))
    return (pl.lit(day.year * 12 + day.month - 1) - first + 1).clip(lower_bound=0)


def _targets(session: Session, dead: pl.DataFrame, benefits: pl.DataFrame, pensions: pl.DataFrame,
             rules_dir: Path) -> pl.DataFrame:
    """What still runs for the dead: wugan's monthly items in force, the extract's benefits and pensions."""
    people = dead["person_id"].to_list()
    rows = []
    for start in range(0, len(people), 5000):
        rows += session.execute(
            select(Item.id, Item.case_id, Item.service, Item.label, Item.department, Item.amount, Item.starts_on,
                   Item.done_on, Case.person_id, Case.event_type)
            .join(Case, Case.id == Item.case_id)
            .where(Case.person_id.in_(people[start:start + 5000]), Case.event_type != "death",
                   Item.period == "monthly", Item.status == "done", Item.superseded_by.is_(None))
        ).all()
    ours = pl.DataFrame(rows, schema={
        "reverses": pl.String, "case_id": pl.String, "service": pl.String, "label": pl.String,
        "department": pl.String, "monthly": pl.Float64, "starts_on": pl.Date, "done_on": pl.Date,
        "person_id": pl.String, "event_type": pl.String}, orient="row")
    ours = ours.with_columns(starts_on=pl.coalesce("starts_on", "done_on"), in_death_case=pl.lit(False)).drop(
        "done_on", "event_type")
    extract = benefits.join(dead.select("person_id"), on="person_id", how="semi").select(
        reverses=pl.lit("benefits:") + pl.col("benefit"), case_id=pl.lit(None, pl.String),
        service=pl.lit("benefit_") + pl.col("benefit"),
        label=pl.col("benefit").replace_strict(BENEFIT_LABELS, default=pl.col("benefit")),
        department=pl.lit(BENEFIT_DEPARTMENT), monthly=pl.col("monthly_amount").cast(pl.Float64),
        starts_on=pl.col("start_date"), person_id="person_id", in_death_case=pl.lit(True))
    pension = pensions.join(dead.select("person_id"), on="person_id", how="semi").filter(
        pl.col("status") == "active").select(
        reverses=pl.lit("pensions"), case_id=pl.lit(None, pl.String), service=pl.lit("pension"),
        label=pl.lit("基本养老金"), department=pl.lit(PENSION_DEPARTMENT),
        monthly=pl.col("monthly_amount").cast(pl.Float64), starts_on=pl.col("start_date"),
        person_id="person_id", in_death_case=pl.lit(True), only_recover=pl.lit(True))
    found = pl.concat([ours.with_columns(only_recover=pl.lit(False)),
                       extract.with_columns(only_recover=pl.lit(False)), pension], how="diagonal_relaxed")
    return found.join(dead, on="person_id")


def _items(targets: pl.DataFrame, *, day: dt.date) -> pl.DataFrame:
    """A stop (or withdrawal) per target and a recovery where months were paid after the death."""
    targets = targets.with_columns(
        kind=pl.when(pl.col("starts_on") > pl.col("death_date")).then(pl.lit("withdraw")).otherwise(pl.lit("stop")),
        months=months_paid_after(starts=pl.col("starts_on"), death=pl.col("death_date"), day=day),
        case_id=pl.coalesce("case_id", "death_case_id"),
    )
    word = {"stop": "停止发放", "withdraw": "撤回核准（待遇起始日在死亡之后）"}
    stops = targets.filter(~pl.col("only_recover")).select(
        "case_id", "person_id", "reverses", "department", "decision_id",
        service=pl.col("kind") + "_" + pl.col("service"),
        label=pl.col("kind").replace_strict(word) + "：" + pl.col("label"),
        amount=pl.lit(None, pl.Float64), months=pl.lit(None, pl.Int64), replaces=pl.col("reverses"))
    recoveries = targets.filter(pl.col("months") > 0).select(
        "case_id", "person_id", "reverses", "department", "decision_id",
        service=pl.lit("recover_") + pl.col("service"),
        label=pl.lit("追回死亡后多发：") + pl.col("label") + "（" + pl.col("months").cast(pl.String) + "个月）",
        amount=-(pl.col("monthly") * pl.col("months")), months=pl.col("months").cast(pl.Int64),
        replaces=pl.lit(None, pl.String))
    both = pl.concat([stops, recoveries])
    return both.with_columns(
        id=pl.struct("case_id", "service").map_elements(
            lambda r: make_id("item", r["case_id"], r["service"], "reversal"), return_dtype=pl.String),
        stage=pl.lit(9), status=pl.lit("ready"), depends_on=pl.lit([], dtype=pl.List(pl.String)),
        due_date=pl.lit(day + dt.timedelta(days=DUE_DAYS)), version=pl.lit(1),
    )


def reverse_deaths(session: Session, *, dead: pl.DataFrame, benefits: pl.DataFrame, pensions: pl.DataFrame,
                   day: dt.date, rules_dir: Path) -> ReversalReport:
    """Stop what runs for the persons in ``dead`` (person_id, death_date): see the module docstring.

    ``benefits`` and ``pensions`` are the lake's current rows of those persons.
    """
    report = ReversalReport()
    if dead.is_empty():
        return report
    # The death event must be in the store: its case holds the extract's stops, its decision the reversal.
    events = pl.DataFrame(session.execute(
        select(Event.person_id, Event.id).where(Event.event_type == "death",
                                                Event.person_id.in_(dead["person_id"].to_list()))).all(),
        schema={"person_id": pl.String, "death_event_id": pl.String}, orient="row")
    dead = dead.join(events, on="person_id").with_columns(death_case_id=pl.col("death_event_id").map_elements(
        lambda e: make_id("case", e), return_dtype=pl.String))
    if dead.is_empty():
        return report
    targets = _targets(session, dead, benefits, pensions, rules_dir)
    if not targets.is_empty():
        made = set(session.scalars(select(Item.reverses).where(
            Item.case_id.in_(targets["case_id"].drop_nulls().unique().to_list()
                             + targets["death_case_id"].unique().to_list()),
            Item.reverses.is_not(None))))
        # a target is reversed once: its stop (or, for a pension, its recovery) exists
        targets = targets.filter(~pl.col("reverses").is_in(list(made)))
    open_items = pl.DataFrame(session.execute(
        select(Item.id, Case.person_id).join(Case, Case.id == Item.case_id)
        .where(Case.person_id.in_(dead["person_id"].to_list()), Case.event_type.in_(PERSONAL_BUNDLES),
               Item.status.in_(["pending", "ready", "in_progress"]), Item.reverses.is_(None))).all(),
        schema={"item_id": pl.String, "person_id": pl.String}, orient="row")
    tasks = pl.DataFrame(session.execute(
        select(Task.id, Task.person_id).join(Event, Event.id == Task.event_id)
        .where(Task.person_id.in_(dead["person_id"].to_list()), Task.status.in_(["backlog", "assigned"]),
               Event.event_type != "death")).all(), schema={"task_id": pl.String, "person_id": pl.String},
        orient="row")
    acting = pl.concat([targets.select("person_id"), tasks.select("person_id"),
                        open_items.select("person_id")]).unique()
    if acting.is_empty():
        return report

    decisions = dead.join(acting, on="person_id", how="semi").join(
        targets.group_by("person_id").agg(sig=pl.col("reverses").sort().str.join(",")), on="person_id",
        how="left").with_columns(decision_id=pl.struct("death_event_id", "sig").map_elements(
            lambda r: make_id("decision", r["death_event_id"], "reversal", r["sig"] or "tasks"),
            return_dtype=pl.String))
    targets = targets.join(decisions.select("person_id", "decision_id"), on="person_id")
    items = _items(targets, day=day) if not targets.is_empty() else pl.DataFrame()
    bundle = load_bundles(rules_dir)["death"]
    explanation = decisions.join(
        items.group_by("person_id").agg(items=pl.struct("service", "label", "amount", "reverses"))
        if not items.is_empty() else pl.DataFrame(schema={"person_id": pl.String}), on="person_id", how="left"
    ).join(tasks.group_by("person_id").agg(tasks_cancelled=pl.col("task_id")), on="person_id", how="left")
    if "items" not in explanation.columns:
        explanation = explanation.with_columns(items=pl.lit(None))
    insert_frame(session, Decision.__table__, explanation.select(
        id="decision_id", event_id="death_event_id", event_type=pl.lit("death"), route=pl.lit("reversal"),
        ruleset=pl.lit("death"), ruleset_version=pl.lit("reversal"), model_version=pl.lit(None, pl.String),
        score=pl.lit(None, pl.Float64),
        explanation=pl.struct(
            conditions=pl.concat_list([pl.struct(name=pl.lit("died"), label=pl.lit("本人已死亡（死亡记录）"),
                                                  result=pl.lit(True))]),
            values=pl.struct(death_date=pl.col("death_date").cast(pl.String)),
            reversed="items", tasks_cancelled="tasks_cancelled", reference=pl.lit(bundle.reference)),
        decided_on=pl.lit(day), review=pl.lit(None, pl.String)))

    at = dt.datetime.combine(day, dt.time())
    audit = [{"at": at, "actor": "pipeline", "action": "decided_reversal", "entity": "decision", "entity_id": d,
              "before": None, "after": {"route": "reversal"}} for d in decisions["decision_id"]]
    if not items.is_empty():
        insert_frame(session, Item.__table__, items.drop("person_id", "months", "replaces"))
        replaced = items.filter(pl.col("replaces").is_not_null() & ~pl.col("replaces").str.contains(":")
                                & (pl.col("replaces") != "pensions"))
        if not replaced.is_empty():
            session.execute(update(Item), [{"id": r["replaces"], "superseded_by": r["id"]}
                                           for r in replaced.select("id", "replaces").to_dicts()])
        session.execute(update(Case).where(Case.id.in_(items["case_id"].unique().to_list()),
                                           Case.status == "closed").values(status="open", closed_on=None))
        audit += [{"at": at, "actor": "pipeline", "action": "item_reversed", "entity": "item", "entity_id": r["id"],
                   "before": None, "after": {"reverses": r["reverses"], "amount": r["amount"]}}
                  for r in items.select("id", "reverses", "amount").to_dicts()]
        report.items = items.height
        report.recovered = float(-(items["amount"].fill_null(0).sum()))
    if not open_items.is_empty():
        session.execute(update(Item), [{"id": i, "status": "rejected", "done_on": day,
                                        "result": {"reason": "本人已死亡"}} for i in open_items["item_id"]])
        audit += [{"at": at, "actor": "pipeline", "action": "item_rejected", "entity": "item", "entity_id": i,
                   "before": None, "after": {"status": "rejected", "reason": "died"}}
                  for i in open_items["item_id"]]
    if not tasks.is_empty():
        session.execute(update(Task), [{"id": t, "status": "cancelled"} for t in tasks["task_id"]])
        audit += [{"at": at, "actor": "pipeline", "action": "task_cancelled", "entity": "task", "entity_id": t,
                   "before": None, "after": {"status": "cancelled", "reason": "died"}} for t in tasks["task_id"]]
        report.tasks_cancelled = tasks.height
    session.execute(AuditLog.__table__.insert(), audit)
    report.deaths = decisions.height
    return report
