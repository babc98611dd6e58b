"""The assistant's inbox and one task: what the queue gives her, as it gives it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from wugan.cases.models import Task
from wugan.cases.users import User
from wugan.settings import Settings
from wugan.web.queries.common import monday, scope_villages, task_views
from wugan.web.views import TaskView

__all__ = ["tasks_for", "task_for", "task_order"]


def task_order(t: Task, this_week: dt.date) -> tuple:
    """This week's assigned first, then later weeks', then the backlog; by priority within each."""
    if t.status == "assigned":
        group = 0 if t.week is None or t.week <= this_week else 1
    else:
        group = 2
    return (group, -t.priority, t.due_date or dt.date.max, t.id)


def tasks_for(session: Session, *, user: User, settings: Settings, today: dt.date,
              done_days: int = 14) -> tuple[list[TaskView], list[TaskView]]:
    """Open tasks of the user's villages, in the queue's order, and the ones done in the last ``done_days``."""
    villages = scope_villages(user)
    query = select(Task)
    if villages is not None:
        query = query.where(Task.village_code.in_(villages))
    open_tasks = session.scalars(query.where(Task.status != "done")).all()
    done = session.scalars(query.where(Task.status == "done", Task.outcome_on >= today - dt.timedelta(days=done_days))
                           .order_by(Task.outcome_on.desc()).limit(50)).all()
    this_week = monday(today)
    ordered = sorted(open_tasks, key=lambda t: task_order(t, this_week))
    return (task_views(session, settings, ordered, today=today), task_views(session, settings, list(done), today=today))


def task_for(session: Session, *, user: User, settings: Settings, task_id: str, today: dt.date) -> TaskView | None:
    """One task, with the numbers to call, or None when it does not exist or lies outside the user's villages."""
    task = session.get(Task, task_id)
    villages = scope_villages(user)
    if task is None or (villages is not None and task.village_code not in villages):
        return None
    return task_views(session, settings, [task], today=today, phone=True)[0]
