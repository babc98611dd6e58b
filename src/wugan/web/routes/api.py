"""The JSON API (``/api``; its OpenAPI schema at ``/openapi.json`` outside production): the pages' data and actions.

POST requests need the session's CSRF token in the ``X-CSRF-Token`` header
(``GET /api/me`` returns it).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from wugan.cases.users import User
from wugan.cases.workflow import (
    WorkflowError,
    complete_item,
    correct_outcome,
    reject_item,
    review_decision,
    start_item,
)
from wugan.cases.workflow import record_visit as _record_visit
from wugan.ids import redact
from wugan.web import queries as q
from wugan.web.access import record_access
from wugan.web.auth import check_csrf, current_user, require_role
from wugan.web.deps import get_db
from wugan.web.routes.common import actor, now, today


class Problem(BaseModel):
    """An error: a sentence, or for invalid input the list of what is wrong where."""

    detail: str | list[dict[str, Any]]


def _documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    texts = {400: "请求正文不是有效的 JSON", 401: "未登录或会话已过期", 403: "该角色无权访问，或 CSRF 令牌缺失或错误",
             404: "不存在，或不在您的村或部门范围内", 409: "当前状态不允许该操作", 422: "请求参数或正文有误"}
    return {code: {"model": Problem, "description": texts[code]} for code in codes}


router = APIRouter(dependencies=[Depends(check_csrf)], tags=["api"], responses=_documented(401, 403, 422))
ONE = _documented(404)
ACTION = _documented(400, 404, 409)
assistant_only = require_role("assistant")
reviewer_only = require_role("reviewer")
analyst_only = require_role("analyst")


class Me(BaseModel):
    username: str
    display_name: str
    role: str
    villages: list[str]
    departments: list[str]
    csrf_token: str


class TaskList(BaseModel):
    open: list[q.TaskView]
    done: list[q.TaskView]


class VisitIn(BaseModel):
    outcome: Literal["confirmed", "not_eligible", "unreachable", "declined"]
    notes: str = ""


class VisitOut(BaseModel):
    task: q.TaskView
    case_id: str | None


class CorrectionIn(BaseModel):
    outcome: Literal["confirmed", "not_eligible", "declined"]
    reason: str


class ReviewIn(BaseModel):
    verdict: Literal["confirmed", "revoked"]
    reason: str = ""


class ItemActionIn(BaseModel):
    action: Literal["start", "complete", "reject"]
    result: str = Field("", description="certificate number or other result, for complete")
    reason: str = Field("", description="why, for reject")


def _conflict(exc: WorkflowError) -> HTTPException:
    return HTTPException(409, str(exc))


@router.get("/me", response_model=Me)
def me(request: Request, user: User = Depends(current_user)) -> Me:
    return Me(username=user.username, display_name=user.display_name, role=user.role,
              villages=list(user.villages or []), departments=list(user.departments or []),
              csrf_token=request.state.csrf)


@router.get("/tasks", response_model=TaskList)
def tasks(request: Request, user: User = Depends(assistant_only), db: Session = Depends(get_db)) -> TaskList:
    open_tasks, done = q.tasks_for(db, user=user, settings=request.app.state.settings, today=today(request))
    record_access(request, db, user, [open_tasks, done])
    return TaskList(open=open_tasks, done=done)


@router.get("/tasks/{task_id}", response_model=q.TaskView, responses=ONE)
def task(task_id: str, request: Request, user: User = Depends(assistant_only),
         db: Session = Depends(get_db)) -> q.TaskView:
    view = q.task_for(db, user=user, settings=request.app.state.settings, task_id=task_id, today=today(request))
    if view is None:
        raise HTTPException(404, "task not found")
    record_access(request, db, user, view)
    return view


@router.post("/tasks/{task_id}/visit", response_model=VisitOut, responses=ACTION)
def visit(task_id: str, body: VisitIn, request: Request, user: User = Depends(assistant_only),
          db: Session = Depends(get_db)) -> VisitOut:
    settings = request.app.state.settings
    if q.task_for(db, user=user, settings=settings, task_id=task_id, today=today(request)) is None:
        raise HTTPException(404, "task not found")
    try:
        case = _record_visit(db, task_id=task_id, outcome=body.outcome, notes=redact(body.notes.strip()) or "",
                             actor=actor(user),
                             at=now(request))
    except WorkflowError as exc:
        raise _conflict(exc) from exc
    db.commit()
    view = q.task_for(db, user=user, settings=settings, task_id=task_id, today=today(request))
    assert view is not None
    record_access(request, db, user, view)
    return VisitOut(task=view, case_id=case.id if case else None)


@router.post("/tasks/{task_id}/correct", response_model=q.TaskView, responses=ACTION)
def correct(task_id: str, body: CorrectionIn, request: Request, user: User = Depends(assistant_only),
            db: Session = Depends(get_db)) -> q.TaskView:
    """Correct a recorded outcome within the correction window; audited."""
    settings = request.app.state.settings
    if q.task_for(db, user=user, settings=settings, task_id=task_id, today=today(request)) is None:
        raise HTTPException(404, "task not found")
    try:
        correct_outcome(db, task_id=task_id, outcome=body.outcome, reason=redact(body.reason.strip()) or "",
                        actor=actor(user), at=now(request))
    except WorkflowError as exc:
        raise _conflict(exc) from exc
    db.commit()
    view = q.task_for(db, user=user, settings=settings, task_id=task_id, today=today(request))
    assert view is not None
    record_access(request, db, user, view)
    return view


@router.get("/reviews", response_model=list[q.ReviewView])
def reviews(request: Request, user: User = Depends(reviewer_only), db: Session = Depends(get_db)):
    views = q.reviews_for(db, user=user, settings=request.app.state.settings, today=today(request))
    record_access(request, db, user, views)
    return views


@router.post("/reviews/{decision_id}", response_model=q.ExplanationView, responses=ACTION)
def review(decision_id: str, body: ReviewIn, request: Request, user: User = Depends(reviewer_only),
           db: Session = Depends(get_db)) -> q.ExplanationView:
    settings = request.app.state.settings
    if q.review_for(db, user=user, settings=settings, decision_id=decision_id, today=today(request)) is None:
        raise HTTPException(404, "decision not found")
    try:
        decision = review_decision(db, decision_id=decision_id, verdict=body.verdict,
                                   reason=redact(body.reason.strip()) or "",
                                   actor=actor(user), at=now(request))
    except WorkflowError as exc:
        raise _conflict(exc) from exc
    db.commit()
    return q.explain(decision, rules_dir=settings.rules_dir)


@router.get("/cases", response_model=list[q.CaseView])
def cases(request: Request, status: Literal["open", "closed"] = "open", user: User = Depends(reviewer_only),
          db: Session = Depends(get_db)):
    views = q.cases_for(db, user=user, settings=request.app.state.settings, today=today(request), status=status)
    record_access(request, db, user, views)
    return views


@router.get("/cases/{case_id}", response_model=q.CaseView, responses=ONE)
def case(case_id: str, request: Request, user: User = Depends(reviewer_only), db: Session = Depends(get_db)):
    view = q.case_for(db, user=user, settings=request.app.state.settings, case_id=case_id, today=today(request))
    if view is None:
        raise HTTPException(404, "case not found")
    record_access(request, db, user, view)
    return view


@router.get("/items", response_model=list[q.ItemView])
def items(request: Request, user: User = Depends(reviewer_only), db: Session = Depends(get_db)):
    """Ready and in-progress items of my departments."""
    views = q.work_items_for(db, user=user, settings=request.app.state.settings, today=today(request))
    record_access(request, db, user, views)
    return views


@router.post("/items/{item_id}", response_model=q.ItemView, responses=ACTION)
def item_action(item_id: str, body: ItemActionIn, request: Request, user: User = Depends(reviewer_only),
                db: Session = Depends(get_db)) -> q.ItemView:
    settings = request.app.state.settings
    if q.item_for(db, user=user, item_id=item_id) is None:
        raise HTTPException(404, "item not found")
    at, who = now(request), actor(user)
    try:
        if body.action == "start":
            item = start_item(db, item_id=item_id, actor=who, at=at)
        elif body.action == "complete":
            if not body.result.strip():
                raise HTTPException(422, "complete needs a result")
            item = complete_item(db, item_id=item_id, result={"certificate": redact(body.result.strip())}, actor=who,
                                 at=at)
        else:
            if not body.reason.strip():
                raise HTTPException(422, "reject needs a reason")
            item = reject_item(db, item_id=item_id, reason=redact(body.reason.strip()) or "", actor=who, at=at)
    except WorkflowError as exc:
        raise _conflict(exc) from exc
    db.commit()
    view = q.case_for(db, user=user, settings=settings, case_id=item.case_id, today=today(request))
    assert view is not None  # the item is the user's, so its case is visible
    return next(i for i in view.items if i.id == item_id)


@router.get("/overdue", response_model=q.OverdueView)
def overdue(request: Request, user: User = Depends(reviewer_only), db: Session = Depends(get_db)):
    view = q.overdue_for(db, user=user, settings=request.app.state.settings, today=today(request))
    record_access(request, db, user, view)
    return view


@router.get("/analytics", response_model=q.AnalyticsView)
def analytics(request: Request, user: User = Depends(analyst_only), db: Session = Depends(get_db)):
    """Aggregates and keyed pseudonyms only: no names, no ID numbers."""
    return q.analytics(db, settings=request.app.state.settings, pseudonym_key=request.app.state.pseudonym_key,
                       today=today(request))
