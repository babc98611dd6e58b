"""Give visit tasks to village assistants, never more per week than they can do.

Each day the backlog of a village, highest priority first, fills the free
visits its assistants have left this week; what does not fit waits in the
backlog, in order, for the next week. Vectorised over all villages at once.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from wugan.cases.models import AuditLog, Task

__all__ = ["week_of", "assign_week"]


def week_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def assign_week(session: Session, *, day: dt.date, assistants: pl.DataFrame) -> int:
    """Assign backlog tasks for ``day``'s week; ``assistants`` has assistant_id, village_code, weekly_capacity."""
    week = week_of(day)
    if assistants.is_empty():
        return 0
    used = pl.DataFrame(
        session.execute(
            select(Task.assistant_id, func.count()).where(Task.week == week, Task.assistant_id.is_not(None))
            .group_by(Task.assistant_id)
        ).all(),
        schema={"assistant_id": pl.String, "used": pl.Int64},
        orient="row",
    )
    backlog = pl.DataFrame(
        session.execute(
            select(Task.id, Task.village_code, Task.priority, Task.created_on)
            .where(Task.status == "backlog", Task.created_on <= day)
        ).all(),
        schema={"id": pl.String, "village_code": pl.String, "priority": pl.Float64, "created_on": pl.Date},
        orient="row",
    )
    if backlog.is_empty():
        return 0
    free = (
        assistants.join(used, on="assistant_id", how="left")
        .with_columns(free=(pl.col("weekly_capacity") - pl.col("used").fill_null(0)).clip(lower_bound=0))
        .filter(pl.col("free") > 0)
    )
    # Slot k of every assistant before slot k+1 of any: the work is spread evenly.
    slots = (
        free.with_columns(slot=pl.int_ranges(0, pl.col("free")))
        .explode("slot")
        .sort("village_code", "slot", "assistant_id")
        .with_columns(rank=pl.int_range(pl.len()).over("village_code"))
        .select("village_code", "rank", "assistant_id")
    )
    ranked = backlog.sort(["priority", "created_on", "id"], descending=[True, False, False]).with_columns(
        rank=pl.int_range(pl.len()).over("village_code")
    )
    given = ranked.join(slots, on=["village_code", "rank"], how="inner")
    if given.is_empty():
        return 0
    due = week + dt.timedelta(days=6)
    session.execute(
        update(Task),
        [{"id": r["id"], "assistant_id": r["assistant_id"], "week": week, "status": "assigned", "due_date": due}
         for r in given.select("id", "assistant_id").to_dicts()],
    )
    at = dt.datetime.combine(day, dt.time())
    session.execute(
        AuditLog.__table__.insert(),
        [{"at": at, "actor": "pipeline", "action": "task_assigned", "entity": "task", "entity_id": r["id"],
          "before": {"status": "backlog"}, "after": {"status": "assigned", "assistant_id": r["assistant_id"],
                                                     "week": week.isoformat()}}
         for r in given.select("id", "assistant_id").to_dicts()],
    )
    return given.height
