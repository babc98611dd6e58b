"""Give visit tasks to people who can do them this week, never more than they can do.

The daily assignment reads the waiting tasks from the case store, puts each
on today's place of the one priority scale (``scoring.score.priority_at``),
lets ``scoring.queue.plan_day`` decide who gets what (village, township,
county office; the exploration share) and writes it back, audited. What is
left waits, in order: the first-run backlog becomes a catch-up plan
(``catch_up_plan``) whose end date the analyst sees next to the demand of
every village and week (``demand``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from wugan.cases.models import AuditLog, Task
from wugan.scoring.queue import load_queue_rules, plan_day, week_of
from wugan.scoring.score import priority_at

__all__ = ["assign_week", "catch_up_plan", "demand", "today_priority", "used_this_week"]

ACTOR = "pipeline"
TASK_SCHEMA = {"id": pl.String, "kind": pl.String, "village_code": pl.String, "priority": pl.Float64,
               "probability": pl.Float64, "deadline": pl.Date, "created_on": pl.Date, "queue": pl.String}


def today_priority(tasks: pl.DataFrame, *, day: dt.date, rules_dir: Path) -> pl.DataFrame:
    """Today's place on the one scale: the stored need and the deadline, one day closer.

    A task stored before the scale knew its need keeps its stored priority.
    """
    ranked = priority_at(tasks.rename({"priority": "stored"}), as_of=day, rules_dir=rules_dir)
    return ranked.with_columns(
        priority=pl.when(pl.col("probability").is_null()).then(pl.col("stored")).otherwise(pl.col("priority"))
    ).select(*TASK_SCHEMA)


def used_this_week(session: Session, week: dt.date) -> pl.DataFrame:
    """Visits already given for ``week``, per assignee (assistants and county offices)."""
    return pl.DataFrame(
        session.execute(
            select(Task.assistant_id, func.count()).where(Task.week == week, Task.assistant_id.is_not(None))
            .group_by(Task.assistant_id)
        ).all(),
        schema={"assistant_id": pl.String, "used": pl.Int64}, orient="row",
    )


def assign_week(session: Session, *, day: dt.date, assistants: pl.DataFrame, rules_dir: Path | None = None) -> int:
    """Assign waiting tasks for ``day``'s week; ``assistants`` has assistant_id, village_code, weekly_capacity.

    Returns how many tasks were given out. Idempotent: a rerun of the day finds
    the week's visits taken and the draws the same.
    """
    if rules_dir is None:
        from wugan.settings import get_settings

        rules_dir = get_settings().rules_dir
    rules = load_queue_rules(rules_dir)
    week = week_of(day)
    backlog = pl.DataFrame(
        session.execute(
            select(Task.id, Task.kind, Task.village_code, Task.priority, Task.probability, Task.deadline,
                   Task.created_on, Task.queue)
            .where(Task.status == "backlog", Task.created_on <= day,
                   (Task.next_try.is_(None)) | (Task.next_try <= day))
        ).all(),
        schema=TASK_SCHEMA, orient="row",
    )
    if backlog.is_empty():
        return 0
    backlog = today_priority(backlog, day=day, rules_dir=rules_dir)
    given = plan_day(backlog, assistants, used_this_week(session, week), day=day, rules=rules)
    if given.is_empty():
        return 0
    due = week + dt.timedelta(days=6)
    rows = given.to_dicts()
    session.execute(
        update(Task),
        [{"id": r["id"], "assistant_id": r["assistant_id"], "week": week, "status": "assigned", "due_date": due,
          "assigned_on": day, "queue": r["queue"], "propensity": r["propensity"], "explored": r["explored"]}
         for r in rows],
    )
    at = dt.datetime.combine(day, dt.time())
    session.execute(
        AuditLog.__table__.insert(),
        [{"at": at, "actor": ACTOR, "action": "task_assigned", "entity": "task", "entity_id": r["id"],
          "before": {"status": "backlog"},
          "after": {"status": "assigned", "assistant_id": r["assistant_id"], "week": week.isoformat(),
                    "queue": r["queue"], "priority": round(r["priority"], 6),
                    "propensity": round(r["propensity"], 6), "explored": r["explored"]}}
         for r in rows],
    )
    return given.height


def catch_up_plan(session: Session, *, day: dt.date, assistants: pl.DataFrame,
                  rules_dir: Path | None = None) -> pl.DataFrame:
    """The waiting tasks spread over the coming weeks by priority, at each village's weekly capacity.

    One row per waiting task: ``planned_week`` (the Monday of the week its
    rank reaches a free visit if nothing new arrived) — the catch-up plan of a
    first-run backlog. ``demand`` gives each village's end date.
    """
    if rules_dir is None:
        from wugan.settings import get_settings

        rules_dir = get_settings().rules_dir
    waiting = pl.DataFrame(
        session.execute(
            select(Task.id, Task.kind, Task.village_code, Task.priority, Task.probability, Task.deadline,
                   Task.created_on, Task.queue).where(Task.status == "backlog")
        ).all(),
        schema=TASK_SCHEMA, orient="row",
    )
    capacity = assistants.group_by("village_code").agg(capacity=pl.col("weekly_capacity").sum().cast(pl.Int64))
    week = week_of(day)
    this_week_used = pl.DataFrame(
        session.execute(select(Task.village_code, func.count()).where(Task.week == week)
                        .group_by(Task.village_code)).all(),
        schema={"village_code": pl.String, "used": pl.Int64}, orient="row")
    ranked = today_priority(waiting, day=day, rules_dir=rules_dir).join(
        capacity, on="village_code", how="left").join(this_week_used, on="village_code", how="left").sort(
        ["village_code", "priority", "created_on", "id"], descending=[False, True, False, False]
    ).with_columns(
        rank=pl.int_range(pl.len()).over("village_code"),
        left=(pl.col("capacity").fill_null(0) - pl.col("used").fill_null(0)).clip(lower_bound=0),
    )
    # this week's leftover visits first, then a full week each
    offset = pl.when(pl.col("rank") < pl.col("left")).then(0).otherwise(
        1 + (pl.col("rank") - pl.col("left")) // pl.col("capacity"))
    return ranked.with_columns(
        planned_week=pl.when(pl.col("capacity") > 0).then(
            pl.lit(week) + pl.duration(weeks=offset)).otherwise(pl.lit(None, pl.Date)),
    ).select("id", "village_code", "kind", "priority", "created_on", "planned_week")


def demand(session: Session, *, day: dt.date, assistants: pl.DataFrame, weeks: int = 8,
           rules_dir: Path | None = None) -> pl.DataFrame:
    """Per village and week (the ``weeks`` up to ``day``'s): new alerts, backlog, assigned, done, capacity.

    ``backlog`` is what waited unassigned at the end of the week (now, for the
    current week), by the tasks' own dates, so a week's figure stays what it
    was once its tasks are visited; a cancelled task (a death, changed data)
    is no demand. ``weeks_to_clear`` is the backlog over the weekly capacity;
    and for the current week ``clear_by``, the Monday of the week the catch-up plan
    reaches the village's last waiting task.
    """
    week = week_of(day)
    first = week - dt.timedelta(weeks=weeks - 1)
    tasks = pl.DataFrame(
        session.execute(
            select(Task.village_code, Task.created_on, Task.assigned_on, Task.week, Task.outcome_on, Task.status)
            .where(Task.outcome_on.is_(None) | (Task.outcome_on >= first) | (Task.week >= first))
        ).all(),
        schema={"village_code": pl.String, "created_on": pl.Date, "assigned_on": pl.Date, "week": pl.Date,
                "outcome_on": pl.Date, "status": pl.String}, orient="row",
    )
    grid = pl.DataFrame({"week": [first + dt.timedelta(weeks=k) for k in range(weeks)]}).join(
        pl.concat([tasks.select("village_code"), assistants.select("village_code")]).unique(), how="cross")
    end = pl.min_horizontal(pl.col("week") + pl.duration(days=6), pl.lit(day))
    joined = grid.join(tasks, on="village_code", how="left")
    counts = joined.group_by("village_code", "week").agg(
        new_alerts=pl.col("created_on").is_between(pl.col("week"), end).sum(),
        backlog=((pl.col("created_on") <= end) & (pl.col("assigned_on").is_null() | (pl.col("assigned_on") > end))
                 & ~((pl.col("status") == "done") & (pl.col("outcome_on") <= end)).fill_null(False)
                 & (pl.col("status") != "cancelled")).sum(),
        assigned=(pl.col("week_right") == pl.col("week")).sum(),
        done=pl.col("outcome_on").is_between(pl.col("week"), end).sum(),
    )
    capacity = assistants.group_by("village_code").agg(capacity=pl.col("weekly_capacity").sum().cast(pl.Int64))
    out = counts.join(capacity, on="village_code", how="left").with_columns(
        pl.col("capacity").fill_null(0),
    ).with_columns(
        weeks_to_clear=pl.when(pl.col("capacity") > 0).then(pl.col("backlog") / pl.col("capacity")),
    )
    plan = catch_up_plan(session, day=day, assistants=assistants, rules_dir=rules_dir)
    clear_by = plan.group_by("village_code").agg(clear_by=pl.col("planned_week").max()).with_columns(
        week=pl.lit(week))
    return out.join(clear_by, on=["village_code", "week"], how="left").sort("week", "village_code").select(
        "village_code", "week", "new_alerts", "backlog", "assigned", "done", "capacity", "weeks_to_clear", "clear_by")


