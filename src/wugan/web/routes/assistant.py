"""The assistant's phone pages: her week's tasks, one task's who/why/what, the visit outcome and its correction."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from wugan.cases.models import VISIT_OUTCOMES
from wugan.cases.users import User
from wugan.cases.workflow import WorkflowError, correct_outcome, record_visit
from wugan.ids import redact
from wugan.web.access import record_access
from wugan.web.auth import check_csrf, require_role
from wugan.web.deps import get_db
from wugan.web.queries import task_for, tasks_for
from wugan.web.routes.common import actor, back, now, today
from wugan.web.templating import render
from wugan.web.texts import OUTCOME_LABELS

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
assistant_only = require_role("assistant")


@router.get("/tasks")
def task_list(request: Request, user: User = Depends(assistant_only), db: Session = Depends(get_db)) -> Response:
    open_tasks, done = tasks_for(db, user=user, settings=request.app.state.settings, today=today(request))
    record_access(request, db, user, [open_tasks, done])
    return render(request, "assistant/tasks.html", tasks=open_tasks, done=done)


@router.get("/tasks/{task_id}")
def task_page(task_id: str, request: Request, user: User = Depends(assistant_only),
              db: Session = Depends(get_db)) -> Response:
    task = task_for(db, user=user, settings=request.app.state.settings, task_id=task_id, today=today(request))
    if task is None:
        raise HTTPException(404, "没有这个任务，或它不是派给您的")
    record_access(request, db, user, task)
    return render(request, "assistant/task.html", task=task, outcomes=OUTCOME_LABELS)


@router.post("/tasks/{task_id}/visit")
def visit(task_id: str, request: Request, outcome: str = Form(...), notes: str = Form(""),
          user: User = Depends(assistant_only), db: Session = Depends(get_db)) -> Response:
    if task_for(db, user=user, settings=request.app.state.settings, task_id=task_id, today=today(request)) is None:
        raise HTTPException(404, "没有这个任务，或它不是派给您的")
    if outcome not in VISIT_OUTCOMES:
        return back(f"/tasks/{task_id}", err="请选择走访结果")
    try:
        case = record_visit(db, task_id=task_id, outcome=outcome, notes=redact(notes.strip()) or "", actor=actor(user),
                            at=now(request))
    except WorkflowError as exc:
        db.rollback()
        return back(f"/tasks/{task_id}", err=f"无法登记：{exc}")
    db.commit()
    msg = f"已登记：{OUTCOME_LABELS[outcome]}"
    if case is not None:
        msg += f"，已开启「{case.title}」"
    return back("/tasks", msg=msg)


@router.post("/tasks/{task_id}/correct")
def correct(task_id: str, request: Request, outcome: str = Form(...), reason: str = Form(""),
            user: User = Depends(assistant_only), db: Session = Depends(get_db)) -> Response:
    """Correct an outcome recorded by mistake, within the correction window; audited."""
    if task_for(db, user=user, settings=request.app.state.settings, task_id=task_id, today=today(request)) is None:
        raise HTTPException(404, "没有这个任务，或它不是派给您的")
    try:
        correct_outcome(db, task_id=task_id, outcome=outcome, reason=redact(reason.strip()) or "", actor=actor(user),
                        at=now(request))
    except WorkflowError as exc:
        db.rollback()
        return back(f"/tasks/{task_id}", err=f"无法更正：{exc}")
    db.commit()
    return back(f"/tasks/{task_id}", msg=f"已更正为：{OUTCOME_LABELS.get(outcome, outcome)}")
