"""The assistant's inbox and one task: what the queue gives her, as it gives it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from wugan.cases.models import Task
from wugan.cases.users import User
from wugan.settings import Settings
from wugan.web.queries.common import monday, task_views
from wugan.web.views import TaskView

__all__ = ["tasks_for", "task_for", "task_order"]


def task_order(t: Task, this_week: dt.date) -> tuple:
    """What she let run late first, then this week's; by priority within each."""
    late = t.week is not None and t.week < this_week
    return (0 if late else 1, -t.priority, t.due_date or dt.date.max, t.id)


def _mine(user: User):
    """An assistant's own tasks: those given to her (her villages' and her township's neighbours')."""
    return Task.assistant_id == user.assistant_id if user.assistant_id else Task.id.is_(None)


def tasks_for(session: Session, *, user: User, settings: Settings, today: dt.date,
              done_days: int = 14) -> tuple[list[TaskView], list[TaskView]]:
    """An assistant's inbox: what is hers this week and what she let run late — nothing else — and what
    she finished in the last ``done_days``. Demand beyond her week is the township's and county's queue,
    not her list. An admin sees every open task."""
    this_week = monday(today)
    query = select(Task)
    if user.role != "admin":
        query = query.where(_mine(user))
    open_tasks = session.scalars(query.where(Task.status == "assigned", Task.week <= this_week)).all()
    done = session.scalars(query.where(Task.status == "done", Task.outcome_on >= today - dt.timedelta(days=done_days))
                           .order_by(Task.outcome_on.desc()).limit(50)).all()
    ordered = sorted(open_tasks, key=lambda t: task_order(t, this_week))
    return (task_views(session, settings, ordered, today=today), task_views(session, settings, list(done), today=today))


def task_for(session: Session, *, user: User, settings: Settings, task_id: str, today: dt.date) -> TaskView | None:
    """One task, with the numbers to call, or None when it does not exist or was not given to the user (an
    admin sees all)."""
    task = session.get(Task, task_id)
    if task is None or (user.role != "admin" and (not user.assistant_id or task.assistant_id != user.assistant_id)):
        return None
    return task_views(session, settings, [task], today=today, phone=True)[0]
