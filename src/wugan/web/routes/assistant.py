"""The assistant's phone pages: her week's tasks, one task's who/why/what, the visit outcome and its correction.

The outcome form carries an idempotency key (made by the page; the phone's
script keeps it with the draft), so a double tap, a resend after a lost
answer and the offline queue's replay all record the outcome once.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wugan.cases.models import VISIT_OUTCOMES
from wugan.cases.users import User
from wugan.cases.workflow import WorkflowError, correct_outcome, record_visit
from wugan.ids import redact
from wugan.web.access import record_access
from wugan.web.auth import check_csrf, require_role
from wugan.web.deps import get_db
from wugan.web.idempotency import KeyMisused, prior, remember, valid_key
from wugan.web.queries.assistant import task_for, tasks_for
from wugan.web.routes.common import actor, back, now, today
from wugan.web.templating import render
from wugan.web.views import TaskView

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
assistant_only = require_role("assistant")
NOT_YOURS = "没有这个任务，或它不是派给您的"


@router.get("/tasks")
def task_list(request: Request, user: User = Depends(assistant_only), db: Session = Depends(get_db)) -> Response:
    open_tasks, done = tasks_for(db, user=user, settings=request.app.state.settings, today=today(request))
    record_access(request, db, user, [open_tasks, done])
    return render(request, "assistant/tasks.html", tasks=open_tasks, done=done)


def _task_page(request: Request, task: TaskView, *, status_code: int = 200, errors: dict | None = None,
               values: dict | None = None) -> Response:
    return render(request, "assistant/task.html", status_code=status_code, task=task, errors=errors or {},
                  values=values or {}, idem=secrets.token_urlsafe(18))


@router.get("/tasks/{task_id}")
def task_page(task_id: str, request: Request, user: User = Depends(assistant_only),
              db: Session = Depends(get_db)) -> Response:
    task = task_for(db, user=user, settings=request.app.state.settings, task_id=task_id, today=today(request))
    if task is None:
        raise HTTPException(404, NOT_YOURS)
    record_access(request, db, user, task)
    return _task_page(request, task)


def visit_message(task: TaskView, outcome: str, case_title: str | None) -> str:
    text = f"已登记：{task.outcomes.get(outcome, outcome)}"
    if not case_title:
        return text
    if task.kind == "home_visit":  # the visit opens the bundle
        return text + f"，已开启「{case_title}」，各部门将并联办理"
    return text + f"，「{case_title}」的后续事项将继续办理"


def save_visit(db: Session, *, task_id: str, outcome: str, notes: str, checklist: list[str], key: str | None,
               who: str, path: str, at) -> dict:
    """Record the outcome once per key; returns what the first request with the key answered."""
    done = prior(db, key=key, actor=who, path=path)
    if done is not None:
        return done
    try:
        case = record_visit(db, task_id=task_id, outcome=outcome, notes=redact(notes.strip()) or "", actor=who,
                            at=at, checklist=checklist)
        result = {"outcome": outcome, "case_id": case.id if case else None, "case_title": case.title if case else None}
        remember(db, key=key, actor=who, path=path, entity_id=task_id, at=at, result=result)
        db.commit()
        return result
    except (WorkflowError, IntegrityError):
        db.rollback()
        done = prior(db, key=key, actor=who, path=path)  # the same key won a race: the same answer
        if done is not None:
            return done
        raise


@router.post("/tasks/{task_id}/visit")
def visit(task_id: str, request: Request, outcome: str = Form(""), notes: str = Form(""),
          check: list[str] = Form([]), idem: str = Form(""), user: User = Depends(assistant_only),
          db: Session = Depends(get_db)) -> Response:
    settings = request.app.state.settings
    task = task_for(db, user=user, settings=settings, task_id=task_id, today=today(request))
    if task is None:
        raise HTTPException(404, NOT_YOURS)
    values = {"outcome": outcome, "notes": notes, "check": check}
    if outcome not in VISIT_OUTCOMES:
        return _task_page(request, task, status_code=422, errors={"outcome": "请选择走访结果"}, values=values)
    try:
        result = save_visit(db, task_id=task_id, outcome=outcome, notes=notes,
                            checklist=[c for c in check if c in task.check], key=valid_key(idem), who=actor(user),
                            path="/tasks/{task_id}/visit", at=now(request))
    except (WorkflowError, KeyMisused):
        fresh = task_for(db, user=user, settings=settings, task_id=task_id, today=today(request)) or task
        said = f"该任务已登记为「{fresh.outcome_label}」" if fresh.outcome else "请刷新页面后重试"
        return _task_page(request, fresh, status_code=409, errors={"outcome": f"无法登记：{said}"}, values=values)
    return back(request, f"/tasks/{task_id}", msg=visit_message(task, result["outcome"], result["case_title"]))


@router.post("/tasks/{task_id}/correct")
def correct(task_id: str, request: Request, outcome: str = Form(""), reason: str = Form(""),
            user: User = Depends(assistant_only), db: Session = Depends(get_db)) -> Response:
    """Correct an outcome recorded by mistake, within the correction window; audited."""
    settings = request.app.state.settings
    task = task_for(db, user=user, settings=settings, task_id=task_id, today=today(request))
    if task is None:
        raise HTTPException(404, NOT_YOURS)
    try:
        correct_outcome(db, task_id=task_id, outcome=outcome, reason=redact(reason.strip()) or "", actor=actor(user),
                        at=now(request))
    except WorkflowError as exc:
        db.rollback()
        return _task_page(request, task, status_code=409, errors={"correction": f"无法更正：{exc}"},
                          values={"correction": outcome, "reason": reason})
    db.commit()
    return back(request, f"/tasks/{task_id}", msg=f"已更正为：{task.outcomes.get(outcome, outcome)}")
