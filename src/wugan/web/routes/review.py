"""The back office: sampled instant approvals, bundle cases, items to work, overdue lists."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from wugan.cases.users import User
from wugan.cases.workflow import (
    WorkflowError,
    complete_item,
    reject_item,
    review_decision,
    start_item,
)
from wugan.ids import redact
from wugan.web.access import record_access
from wugan.web.auth import check_csrf, require_role
from wugan.web.deps import get_db
from wugan.web.queries import (
    case_for,
    cases_for,
    held_for,
    item_for,
    overdue_for,
    review_for,
    reviews_for,
    work_items_for,
)
from wugan.web.routes.common import actor, back, now, today
from wugan.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
reviewer_only = require_role("reviewer")


def _safe_back(target: str, default: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else default


@router.get("/review")
def review_queue(request: Request, user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    reviews = reviews_for(db, user=user, settings=request.app.state.settings, today=today(request))
    record_access(request, db, user, reviews)
    return render(request, "review/queue.html", reviews=reviews)


@router.post("/review/{decision_id}")
def review(decision_id: str, request: Request, verdict: str = Form(...), reason: str = Form(""),
           user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    if review_for(db, user=user, settings=request.app.state.settings, decision_id=decision_id,
                  today=today(request)) is None:
        raise HTTPException(404, "没有这条决定，或它不属于您的部门")
    if verdict == "revoked" and not reason.strip():
        return back("/review", err="撤销需填写原因")
    try:
        review_decision(db, decision_id=decision_id, verdict=verdict, reason=redact(reason.strip()) or "", actor=actor(user),
                        at=now(request))
    except WorkflowError as exc:
        db.rollback()
        return back("/review", err=f"无法复核：{exc}")
    db.commit()
    return back("/review", msg="已确认该秒批决定" if verdict == "confirmed" else "已撤销该决定，相关补发、追回与告知已生成")


@router.get("/cases")
def case_list(request: Request, status: str = "open", user: User = Depends(reviewer_only),
              db: Session = Depends(get_db)) -> Response:
    status = status if status in ("open", "closed") else "open"
    cases = cases_for(db, user=user, settings=request.app.state.settings, today=today(request), status=status)
    record_access(request, db, user, cases)
    return render(request, "review/cases.html", cases=cases, status=status)


@router.get("/cases/{case_id}")
def case_page(case_id: str, request: Request, user: User = Depends(reviewer_only),
              db: Session = Depends(get_db)) -> Response:
    case = case_for(db, user=user, settings=request.app.state.settings, case_id=case_id, today=today(request))
    if case is None:
        raise HTTPException(404, "没有这件事，或其中没有您部门的事项")
    record_access(request, db, user, case)
    return render(request, "review/case.html", case=case)


@router.get("/work")
def work(request: Request, user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    items = work_items_for(db, user=user, settings=request.app.state.settings, today=today(request))
    record_access(request, db, user, items)
    return render(request, "review/work.html", items=items)


@router.get("/overdue")
def overdue(request: Request, user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    view = overdue_for(db, user=user, settings=request.app.state.settings, today=today(request))
    record_access(request, db, user, view)
    return render(request, "review/overdue.html", overdue=view)


@router.post("/items/{item_id}/{action}")
def item_action(item_id: str, action: str, request: Request, result: str = Form(""), reason: str = Form(""),
                next: str = Form("/work"), user: User = Depends(reviewer_only),
                db: Session = Depends(get_db)) -> Response:
    if item_for(db, user=user, item_id=item_id) is None:
        raise HTTPException(404, "没有这个事项，或它不属于您的部门")
    target = _safe_back(next, "/work")
    at, who = now(request), actor(user)
    try:
        if action == "start":
            start_item(db, item_id=item_id, actor=who, at=at)
            msg = "已开始办理"
        elif action == "complete":
            if not result.strip():
                return back(target, err="办结需填写结果（如证照编号）")
            complete_item(db, item_id=item_id, result={"certificate": redact(result.strip())}, actor=who, at=at)
            msg = "已办结，后续事项已就绪"
        elif action == "reject":
            if not reason.strip():
                return back(target, err="不予办理需填写原因")
            reject_item(db, item_id=item_id, reason=redact(reason.strip()) or "", actor=who, at=at)
            msg = "已标记不予办理"
        else:
            raise HTTPException(404, "未知操作")
    except WorkflowError as exc:
        db.rollback()
        return back(target, err=f"无法办理：{exc}")
    db.commit()
    return back(target, msg=msg)


@router.get("/held")
def held_queue(request: Request, user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    """Instant approvals the guardrails hold: a paused rule set or a tripped circuit breaker."""
    held = held_for(db, user=user, settings=request.app.state.settings, today=today(request))
    record_access(request, db, user, held)
    return render(request, "review/held.html", held=held)


@router.post("/held/{decision_id}")
def held_action(decision_id: str, request: Request, action: str = Form(...), reason: str = Form(""),
                user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    from wugan.cases.guardrails import reject_held, release_held

    settings = request.app.state.settings
    if decision_id not in {v.id for v in held_for(db, user=user, settings=settings, today=today(request))}:
        raise HTTPException(404, "没有这条暂缓的决定，或它不属于您的部门")
    if action == "release":
        release_held(db, decision_ids=[decision_id], actor=actor(user), at=now(request), settings=settings)
        msg = "已放行：事项已办结，告知书已生成"
    elif action == "reject":
        if not reason.strip():
            return back("/held", err="驳回需填写原因")
        reject_held(db, decision_ids=[decision_id], reason=redact(reason.strip()) or "", actor=actor(user),
                    at=now(request))
        msg = "已驳回，不予发放"
    else:
        raise HTTPException(404, "未知操作")
    db.commit()
    return back("/held", msg=msg)
