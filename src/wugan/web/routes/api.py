"""The JSON API (``/api``; its OpenAPI schema at ``/openapi.json`` outside production): the pages' data and actions.

POST requests need the session's CSRF token in the ``X-CSRF-Token`` header
(``GET /api/me`` returns it).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from wugan.cases.desk import confirm_approval, revoke_approval
from wugan.cases.users import User
from wugan.cases.workflow import (
    WorkflowError,
    complete_item,
    correct_outcome,
    reject_item,
    start_item,
)
from wugan.ids import redact
from wugan.web import views as v
from wugan.web.access import record_access
from wugan.web.auth import check_csrf, current_user, require_role
from wugan.web.deps import get_db
from wugan.web.explain import explain
from wugan.web.idempotency import KeyMisused, valid_key
from wugan.web.queries import analyst as qa
from wugan.web.queries import assistant as qt
from wugan.web.queries import review as qr
from wugan.web.routes.assistant import save_visit, visit_message
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
    open: list[v.TaskView]
    done: list[v.TaskView]


class VisitIn(BaseModel):
    outcome: Literal["confirmed", "not_eligible", "unreachable", "declined"]
    notes: str = ""
    checklist: list[str] = Field([], description="the task's checklist points ticked on the visit")


class VisitOut(BaseModel):
    task: v.TaskView
    case_id: str | None
    message: str = ""


class OverdueOut(BaseModel):
    items: v.Page[v.ItemView]
    tasks: v.Page[v.TaskView]


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
    open_tasks, done = qt.tasks_for(db, user=user, settings=request.app.state.settings, today=today(request))
    record_access(request, db, user, [open_tasks, done])
    return TaskList(open=open_tasks, done=done)


@router.get("/tasks/{task_id}", response_model=v.TaskView, responses=ONE)
def task(task_id: str, request: Request, user: User = Depends(assistant_only),
         db: Session = Depends(get_db)) -> v.TaskView:
    view = qt.task_for(db, user=user, settings=request.app.state.settings, task_id=task_id, today=today(request))
    if view is None:
        raise HTTPException(404, "没有这个任务，或它不属于您负责的村")
    record_access(request, db, user, view)
    return view


@router.post("/tasks/{task_id}/visit", response_model=VisitOut, responses=ACTION)
def visit(task_id: str, body: VisitIn, request: Request, idempotency_key: str | None = Header(
              None, description="the same key sent again (a resend, the offline queue) gets the same answer"),
          user: User = Depends(assistant_only), db: Session = Depends(get_db)) -> VisitOut:
    settings = request.app.state.settings
    task = qt.task_for(db, user=user, settings=settings, task_id=task_id, today=today(request))
    if task is None:
        raise HTTPException(404, "没有这个任务，或它不属于您负责的村")
    try:
        result = save_visit(db, task_id=task_id, outcome=body.outcome, notes=body.notes,
                            checklist=[c for c in body.checklist if c in task.check],
                            key=valid_key(idempotency_key), who=actor(user), path="/api/tasks/{task_id}/visit",
                            at=now(request))
    except KeyMisused as exc:
        raise HTTPException(409, "该幂等键已用于其他请求") from exc
    except WorkflowError as exc:
        raise HTTPException(409, f"该任务已有走访结果（{task.outcome_label or '已登记'}）") from exc
    view = qt.task_for(db, user=user, settings=settings, task_id=task_id, today=today(request))
    assert view is not None
    record_access(request, db, user, view)
    return VisitOut(task=view, case_id=result["case_id"],
                    message=visit_message(task, result["outcome"], result["case_title"]))


@router.post("/tasks/{task_id}/correct", response_model=v.TaskView, responses=ACTION)
def correct(task_id: str, body: CorrectionIn, request: Request, user: User = Depends(assistant_only),
            db: Session = Depends(get_db)) -> v.TaskView:
    """Correct a recorded outcome within the correction window; audited."""
    settings = request.app.state.settings
    if qt.task_for(db, user=user, settings=settings, task_id=task_id, today=today(request)) is None:
        raise HTTPException(404, "没有这个任务，或它不属于您负责的村")
    try:
        correct_outcome(db, task_id=task_id, outcome=body.outcome, reason=redact(body.reason.strip()) or "",
                        actor=actor(user), at=now(request))
    except WorkflowError as exc:
        raise _conflict(exc) from exc
    db.commit()
    view = qt.task_for(db, user=user, settings=settings, task_id=task_id, today=today(request))
    assert view is not None
    record_access(request, db, user, view)
    return view


PageNo = Query(1, ge=1, le=100_000, description="page number (20 rows a page)")


@router.get("/reviews", response_model=v.Page[v.ReviewView])
def reviews(request: Request, page: int = PageNo, user: User = Depends(reviewer_only),
            db: Session = Depends(get_db)):
    view = qr.reviews_for(db, user=user, settings=request.app.state.settings, today=today(request), page=page)
    record_access(request, db, user, view.rows)
    return view


@router.post("/reviews/{decision_id}", response_model=v.ExplanationView, responses=ACTION)
def review(decision_id: str, body: ReviewIn, request: Request, user: User = Depends(reviewer_only),
           db: Session = Depends(get_db)) -> v.ExplanationView:
    """Confirm a sampled approval, or revoke it (a reason is needed)."""
    settings = request.app.state.settings
    decision = qr.decision_in_scope(db, user=user, settings=settings, decision_id=decision_id)
    if decision is None or decision.review != "sampled":
        raise HTTPException(404, "没有这条待复核的决定，或它不属于您的部门")
    if body.verdict == "revoked" and not body.reason.strip():
        raise HTTPException(422, "撤销需填写原因")
    try:
        if body.verdict == "confirmed":
            decision = confirm_approval(db, decision_id=decision_id, actor=actor(user), at=now(request))
        else:
            decision = revoke_approval(db, decision_id=decision_id, reason=redact(body.reason.strip()) or "",
                                       actor=actor(user), at=now(request))
    except WorkflowError as exc:
        raise _conflict(exc) from exc
    db.commit()
    return explain(decision, rules_dir=settings.rules_dir)


@router.get("/cases", response_model=v.Page[v.CaseView])
def cases(request: Request, status: Literal["open", "closed"] = "open", page: int = PageNo,
          user: User = Depends(reviewer_only), db: Session = Depends(get_db)):
    view = qr.cases_for(db, user=user, settings=request.app.state.settings, today=today(request), status=status,
                        page=page)
    record_access(request, db, user, view.rows)
    return view


@router.get("/cases/{case_id}", response_model=v.CaseView, responses=ONE)
def case(case_id: str, request: Request, user: User = Depends(reviewer_only), db: Session = Depends(get_db)):
    view = qr.case_for(db, user=user, settings=request.app.state.settings, case_id=case_id, today=today(request))
    if view is None:
        raise HTTPException(404, "没有这件事，或其中没有您部门的事项")
    record_access(request, db, user, view)
    return view


@router.get("/items", response_model=v.Page[v.ItemView])
def items(request: Request, page: int = PageNo, user: User = Depends(reviewer_only), db: Session = Depends(get_db)):
    """Ready and in-progress items of my departments."""
    view = qr.work_items_for(db, user=user, settings=request.app.state.settings, today=today(request), page=page)
    record_access(request, db, user, view.rows)
    return view


@router.post("/items/{item_id}", response_model=v.ItemView, responses=ACTION)
def item_action(item_id: str, body: ItemActionIn, request: Request, user: User = Depends(reviewer_only),
                db: Session = Depends(get_db)) -> v.ItemView:
    settings = request.app.state.settings
    if qr.item_for(db, user=user, item_id=item_id) is None:
        raise HTTPException(404, "没有这个事项，或它不属于您的部门")
    at, who = now(request), actor(user)
    try:
        if body.action == "start":
            item = start_item(db, item_id=item_id, actor=who, at=at)
        elif body.action == "complete":
            if not body.result.strip():
                raise HTTPException(422, "办结需填写结果")
            item = complete_item(db, item_id=item_id, result={"certificate": redact(body.result.strip())}, actor=who,
                                 at=at)
        else:
            if not body.reason.strip():
                raise HTTPException(422, "不予办理需填写原因")
            item = reject_item(db, item_id=item_id, reason=redact(body.reason.strip()) or "", actor=who, at=at)
    except WorkflowError as exc:
        raise _conflict(exc) from exc
    db.commit()
    view = qr.case_for(db, user=user, settings=settings, case_id=item.case_id, today=today(request))
    assert view is not None  # the item is the user's, so its case is visible
    return next(i for i in view.items if i.id == item_id)


@router.get("/overdue", response_model=OverdueOut)
def overdue(request: Request, page: int = PageNo, user: User = Depends(reviewer_only),
            db: Session = Depends(get_db)) -> OverdueOut:
    """Overdue items of my departments and (civil affairs) overdue visits; ``page`` pages both."""
    settings, day = request.app.state.settings, today(request)
    view = OverdueOut(items=qr.overdue_items(db, user=user, settings=settings, today=day, page=page),
                      tasks=qr.overdue_tasks(db, user=user, settings=settings, today=day, page=page))
    record_access(request, db, user, [view.items, view.tasks])
    return view


@router.get("/analytics", response_model=v.AnalyticsView)
def analytics(request: Request, user: User = Depends(analyst_only), db: Session = Depends(get_db)):
    """Aggregates and keyed pseudonyms only: no names, no ID numbers."""
    return qa.analytics(db, settings=request.app.state.settings, pseudonym_key=request.app.state.pseudonym_key,
                        today=today(request))
