"""The back office: sampled approvals, any decision's history, held approvals, cases, items, overdue work, alerts.

A form that cannot be done as sent comes back as the same page with a summary
of what is wrong at the top, each message by its field and everything typed
still there (GOV.UK's pattern); one that succeeds redirects with a message.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from wugan.cases.bundles import load_bundles
from wugan.cases.desk import (
    confirm_approval,
    escalate,
    reassign_task,
    resolve_alert,
    revoke_approval,
    undo_review,
)
from wugan.cases.guardrails import reject_held, release_held
from wugan.cases.models import Case, Item
from wugan.cases.oversight import TASK_DEPARTMENT
from wugan.cases.users import User
from wugan.cases.workflow import WorkflowError, complete_item, reject_item, start_item
from wugan.ids import redact
from wugan.web.access import record_access
from wugan.web.auth import check_csrf, require_role
from wugan.web.deps import get_db
from wugan.web.queries import review as q
from wugan.web.routes.common import actor, back, now, page_number, safe_path, today
from wugan.web.templating import render
from wugan.web.texts import ALERT_LABELS, EVENT_LABELS

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
reviewer_only = require_role("reviewer")


def _clean(text: str) -> str:
    return redact(text.strip()) or ""


def _settings(request: Request):
    return request.app.state.settings


# ---------------------------------------------------------------- sampled approvals


def _queue(request: Request, db: Session, user: User, *, page: int, event_type: str | None,
           status_code: int = 200, errors: dict | None = None, open_id: str = "", values: dict | None = None):
    reviews = q.reviews_for(db, user=user, settings=_settings(request), today=today(request), page=page,
                            event_type=event_type or None)
    record_access(request, db, user, reviews.rows)
    return render(request, "review/queue.html", status_code=status_code, reviews=reviews, event_type=event_type or "",
                  event_types=EVENT_LABELS, errors=errors or {}, open_id=open_id, values=values or {})


@router.get("/review")
def review_queue(request: Request, page: str = "1", event_type: str = "", user: User = Depends(reviewer_only),
                 db: Session = Depends(get_db)) -> Response:
    return _queue(request, db, user, page=page_number(page), event_type=event_type)


@router.post("/review/{decision_id}")
def review(decision_id: str, request: Request, verdict: str = Form(""), reason: str = Form(""),
           page: str = Form("1"), user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    decision = q.decision_in_scope(db, user=user, settings=_settings(request), decision_id=decision_id)
    if decision is None or decision.review != "sampled":
        raise HTTPException(404, "没有这条待复核的决定，或它不属于您的部门")
    if verdict not in ("confirmed", "revoked"):
        raise HTTPException(400, "请选择确认或撤销")
    if verdict == "revoked" and not reason.strip():
        return _queue(request, db, user, page=page_number(page), event_type=None, status_code=422,
                      errors={f"reason-{decision_id}": "撤销需填写原因（将写入告知书）"}, open_id=decision_id,
                      values={f"reason-{decision_id}": reason})
    who, at = actor(user), now(request)
    try:
        if verdict == "confirmed":
            confirm_approval(db, decision_id=decision_id, actor=who, at=at)
        else:
            revoke_approval(db, decision_id=decision_id, reason=_clean(reason), actor=who, at=at)
    except WorkflowError as exc:
        db.rollback()
        return _queue(request, db, user, page=page_number(page), event_type=None, status_code=409,
                      errors={f"reason-{decision_id}": f"无法复核：{exc}"}, open_id=decision_id,
                      values={f"reason-{decision_id}": reason})
    db.commit()
    text = "已确认该秒批决定" if verdict == "confirmed" else "已撤销该决定，追回事项与告知书已生成"
    return back(request, f"/decisions/{decision_id}", msg=f"{text}。15 分钟内可在本页撤回。")


# ---------------------------------------------------------------- a decision and its history


def _decision_page(request: Request, db: Session, user: User, decision_id: str, *, status_code: int = 200,
                   errors: dict | None = None, values: dict | None = None) -> Response:
    view = q.decision_for(db, user=user, settings=_settings(request), decision_id=decision_id,
                          today=today(request), now=now(request))
    if view is None:
        raise HTTPException(404, "没有这条决定，或它不属于您的部门")
    record_access(request, db, user, view)
    return render(request, "review/decision.html", status_code=status_code, d=view, errors=errors or {},
                  values=values or {})


@router.get("/decisions/{decision_id}")
def decision_page(decision_id: str, request: Request, user: User = Depends(reviewer_only),
                  db: Session = Depends(get_db)) -> Response:
    return _decision_page(request, db, user, decision_id)


@router.post("/decisions/{decision_id}/revoke")
def decision_revoke(decision_id: str, request: Request, reason: str = Form(""), user: User = Depends(reviewer_only),
                    db: Session = Depends(get_db)) -> Response:
    """Revoke any approval of the user's departments, sampled or not (a complaint can raise any)."""
    if q.decision_in_scope(db, user=user, settings=_settings(request), decision_id=decision_id) is None:
        raise HTTPException(404, "没有这条决定，或它不属于您的部门")
    if not reason.strip():
        return _decision_page(request, db, user, decision_id, status_code=422,
                              errors={"reason": "撤销需填写原因（将写入告知书）"}, values={"reason": reason})
    try:
        revoke_approval(db, decision_id=decision_id, reason=_clean(reason), actor=actor(user), at=now(request))
    except WorkflowError as exc:
        db.rollback()
        return _decision_page(request, db, user, decision_id, status_code=409, errors={"reason": str(exc)},
                              values={"reason": reason})
    db.commit()
    return back(request, f"/decisions/{decision_id}", msg="已撤销该决定，追回事项与告知书已生成。15 分钟内可撤回。")


@router.post("/decisions/{decision_id}/undo")
def decision_undo(decision_id: str, request: Request, user: User = Depends(reviewer_only),
                  db: Session = Depends(get_db)) -> Response:
    if q.decision_in_scope(db, user=user, settings=_settings(request), decision_id=decision_id) is None:
        raise HTTPException(404, "没有这条决定，或它不属于您的部门")
    try:
        undo_review(db, decision_id=decision_id, actor=actor(user), at=now(request))
    except WorkflowError as exc:
        db.rollback()
        return _decision_page(request, db, user, decision_id, status_code=409, errors={"undo": str(exc)})
    db.commit()
    return back(request, f"/decisions/{decision_id}", msg="已撤回：该决定恢复到复核前的状态，追回事项和告知书已撤销")


# ---------------------------------------------------------------- held approvals


def _held(request: Request, db: Session, user: User, *, page: int, ruleset: str, status_code: int = 200,
          errors: dict | None = None, open_id: str = "", values: dict | None = None) -> Response:
    held = q.held_for(db, user=user, settings=_settings(request), today=today(request), page=page,
                      ruleset=ruleset or None)
    record_access(request, db, user, held.rows)
    return render(request, "review/held.html", status_code=status_code, held=held, ruleset=ruleset,
                  errors=errors or {}, open_id=open_id, values=values or {})


@router.get("/held")
def held_queue(request: Request, page: str = "1", ruleset: str = "", user: User = Depends(reviewer_only),
               db: Session = Depends(get_db)) -> Response:
    """Instant approvals the guardrails hold, with why; release (after confirming) or reject."""
    return _held(request, db, user, page=page_number(page), ruleset=ruleset)


@router.get("/held/release")
def held_release_confirm(request: Request, ids: list[str] = Query([]), user: User = Depends(reviewer_only),
                         db: Session = Depends(get_db)) -> Response:
    """What a release would pay, for the person to confirm: nothing is paid in one click."""
    chosen = q.held_in_scope(db, user=user, settings=_settings(request), today=today(request), decision_ids=ids)
    if not chosen:
        return _held(request, db, user, page=1, ruleset="", status_code=422,
                     errors={"ids": "请先勾选要放行的决定"})
    record_access(request, db, user, chosen)
    return render(request, "review/release.html", chosen=chosen, total=sum(c.amount for c in chosen))


@router.post("/held/release")
def held_release(request: Request, ids: list[str] = Form([]), confirm: str = Form(""),
                 user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    settings = _settings(request)
    chosen = [c.id for c in q.held_in_scope(db, user=user, settings=settings, today=today(request), decision_ids=ids)]
    if confirm != "yes" or not chosen:
        return back(request, "/held", err="没有放行：请勾选决定并在确认页确认")
    released = release_held(db, decision_ids=chosen, actor=actor(user), at=now(request), settings=settings)
    db.commit()
    return back(request, "/held", msg=f"已放行 {len(released)} 条：事项已办结，告知书已生成")


@router.post("/held/{decision_id}")
def held_reject(decision_id: str, request: Request, action: str = Form(""), reason: str = Form(""),
                page: str = Form("1"), user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    if not q.held_in_scope(db, user=user, settings=_settings(request), today=today(request), decision_ids=[decision_id]):
        raise HTTPException(404, "没有这条暂缓的决定，或它不属于您的部门")
    if action != "reject":
        raise HTTPException(400, "放行请先勾选并确认")
    if not reason.strip():
        return _held(request, db, user, page=page_number(page), ruleset="", status_code=422,
                     errors={f"reason-{decision_id}": "驳回需填写原因"}, open_id=decision_id,
                     values={f"reason-{decision_id}": reason})
    reject_held(db, decision_ids=[decision_id], reason=_clean(reason), actor=actor(user), at=now(request))
    db.commit()
    return back(request, "/held", msg="已驳回，不予发放")


# ---------------------------------------------------------------- cases and items


@router.get("/cases")
def case_list(request: Request, status: str = "open", event_type: str = "", overdue: str = "", page: str = "1",
              user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    status = status if status in ("open", "closed") else "open"
    cases = q.cases_for(db, user=user, settings=_settings(request), today=today(request), status=status,
                        event_type=event_type or None, overdue=overdue == "1", page=page_number(page))
    record_access(request, db, user, cases.rows)
    return render(request, "review/cases.html", cases=cases, status=status, event_type=event_type,
                  overdue=overdue == "1", event_types=EVENT_LABELS)


def _case_page(request: Request, db: Session, user: User, case_id: str, *, status_code: int = 200,
               errors: dict | None = None, values: dict | None = None, open_id: str = "") -> Response:
    case = q.case_for(db, user=user, settings=_settings(request), case_id=case_id, today=today(request))
    if case is None:
        raise HTTPException(404, "没有这件事，或其中没有您部门的事项")
    record_access(request, db, user, case)
    return render(request, "review/case.html", status_code=status_code, case=case, errors=errors or {},
                  values=values or {}, open_id=open_id)


@router.get("/cases/{case_id}")
def case_page(case_id: str, request: Request, user: User = Depends(reviewer_only),
              db: Session = Depends(get_db)) -> Response:
    return _case_page(request, db, user, case_id)


@router.get("/work")
def work(request: Request, status: str = "", overdue: str = "", page: str = "1", user: User = Depends(reviewer_only),
         db: Session = Depends(get_db)) -> Response:
    items = q.work_items_for(db, user=user, settings=_settings(request), today=today(request), page=page_number(page),
                             status=status or None, overdue=overdue == "1")
    record_access(request, db, user, items.rows)
    return render(request, "review/work.html", items=items, status=status, overdue=overdue == "1")


def _lead(db: Session, request: Request, item: Item) -> str:
    case = db.get(Case, item.case_id)
    bundle = load_bundles(_settings(request).rules_dir).get(case.event_type if case else "")
    return bundle.lead_department if bundle else item.department


def _item_error(request: Request, db: Session, user: User, item: Item, target: str, field: str, message: str,
                values: dict) -> Response:
    """The page the form was on, again, with the message by its field."""
    errors = {f"{field}-{item.id}": message}
    if target.startswith("/cases/"):
        return _case_page(request, db, user, item.case_id, status_code=422, errors=errors, values=values,
                          open_id=item.id)
    items = q.work_items_for(db, user=user, settings=_settings(request), today=today(request))
    record_access(request, db, user, items.rows)
    return render(request, "review/work.html", status_code=422, items=items, status="", overdue=False, errors=errors,
                  values=values, open_id=item.id)


def _do_item(db: Session, item: Item, action: str, *, result: str, reason: str, note: str, who: str, at,
             lead: str) -> str:
    if action == "start":
        start_item(db, item_id=item.id, actor=who, at=at)
        return "已开始办理"
    if action == "complete":
        complete_item(db, item_id=item.id, result={"certificate": _clean(result)}, actor=who, at=at)
        return "已办结，后续事项已就绪"
    if action == "reject":
        reject_item(db, item_id=item.id, reason=_clean(reason), actor=who, at=at)
        return "已标记不予办理"
    escalate(db, entity="item", entity_id=item.id, department=lead, note=_clean(note), actor=who, at=at)
    return "已督办：牵头单位将收到提醒"


@router.post("/items/{item_id}/{action}")
def item_action(item_id: str, action: str, request: Request, result: str = Form(""), reason: str = Form(""),
                note: str = Form(""), next: str = Form("/work"), user: User = Depends(reviewer_only),
                db: Session = Depends(get_db)) -> Response:
    item = q.item_for(db, user=user, item_id=item_id)
    if item is None:
        raise HTTPException(404, "没有这个事项，或它不属于您的部门")
    if action not in ("start", "complete", "reject", "escalate"):
        raise HTTPException(404, "未知操作")
    target = safe_path(next, "/work")
    values = {f"result-{item_id}": result, f"reason-{item_id}": reason}
    if action == "complete" and not result.strip():
        return _item_error(request, db, user, item, target, "result", "办结需填写结果（如证照编号）", values)
    if action == "reject" and not reason.strip():
        return _item_error(request, db, user, item, target, "reason", "不予办理需填写原因（将告知申请人）", values)
    try:
        msg = _do_item(db, item, action, result=result, reason=reason, note=note, who=actor(user), at=now(request),
                       lead=_lead(db, request, item))
    except WorkflowError:
        db.rollback()
        return _item_error(request, db, user, item, target, "result", "该事项的状态已变化，请刷新后再办理", values)
    db.commit()
    return back(request, target, msg=msg)


# ---------------------------------------------------------------- overdue and alerts


@router.get("/overdue")
def overdue(request: Request, show: str = "items", event_type: str = "", page: str = "1",
            user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    settings, day, number = _settings(request), today(request), page_number(page)
    show = show if show in ("items", "tasks") else "items"
    items = q.overdue_items(db, user=user, settings=settings, today=day, page=number if show == "items" else 1,
                            event_type=event_type or None)
    tasks = q.overdue_tasks(db, user=user, settings=settings, today=day, page=number if show == "tasks" else 1)
    record_access(request, db, user, items.rows if show == "items" else tasks.rows)
    return render(request, "review/overdue.html", items=items, tasks=tasks, show=show, event_type=event_type,
                  event_types=EVENT_LABELS, sees_visits=q.sees_visits(user))


def _visit_page(request: Request, db: Session, user: User, task_id: str, *, status_code: int = 200,
                errors: dict | None = None, values: dict | None = None) -> Response:
    settings = _settings(request)
    task = q.visit_for(db, user=user, settings=settings, task_id=task_id, today=today(request))
    if task is None:
        raise HTTPException(404, "没有这个走访任务，或走访不归您的部门督办")
    record_access(request, db, user, task)
    return render(request, "review/visit.html", status_code=status_code, task=task,
                  assistants=q.assistants_for(settings, task.village_code), errors=errors or {}, values=values or {})


@router.get("/visits/{task_id}")
def visit_page(task_id: str, request: Request, user: User = Depends(reviewer_only),
               db: Session = Depends(get_db)) -> Response:
    return _visit_page(request, db, user, task_id)


@router.post("/visits/{task_id}/{action}")
def visit_action(task_id: str, action: str, request: Request, assistant_id: str = Form(""), note: str = Form(""),
                 user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    """Reassign an overdue visit to an assistant of the township, or escalate it to civil affairs' lead."""
    settings = _settings(request)
    task = q.visit_for(db, user=user, settings=settings, task_id=task_id, today=today(request))
    if task is None:
        raise HTTPException(404, "没有这个走访任务，或走访不归您的部门督办")
    who, at = actor(user), now(request)
    try:
        if action == "reassign":
            if assistant_id not in {a.assistant_id for a in q.assistants_for(settings, task.village_code)}:
                return _visit_page(request, db, user, task_id, status_code=422,
                                   errors={"assistant_id": "请选择本乡镇（街道）的一位协理员"})
            reassign_task(db, task_id=task_id, assistant_id=assistant_id, actor=who, at=at)
            msg = "已改派：本周内由新的协理员走访"
        elif action == "escalate":
            escalate(db, entity="task", entity_id=task_id, department=TASK_DEPARTMENT, note=_clean(note), actor=who,
                     at=at)
            msg = "已督办：民政部门将收到提醒"
        else:
            raise HTTPException(404, "未知操作")
    except WorkflowError as exc:
        db.rollback()
        return _visit_page(request, db, user, task_id, status_code=409, errors={"assistant_id": str(exc)})
    db.commit()
    return back(request, f"/visits/{task_id}", msg=msg)


@router.get("/alerts")
def alerts(request: Request, kind: str = "", status: str = "open", page: str = "1",
           user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    status = status if status in ("open", "resolved") else "open"
    view = q.alerts_for(db, user=user, settings=_settings(request), page=page_number(page), kind=kind or None,
                        status=status)
    return render(request, "review/alerts.html", alerts=view, kind=kind, status=status, kinds=ALERT_LABELS)


@router.post("/alerts/{alert_id}/resolve")
def alert_resolve(alert_id: str, request: Request, next: str = Form("/alerts"), user: User = Depends(reviewer_only),
                  db: Session = Depends(get_db)) -> Response:
    if q.alert_for(db, user=user, alert_id=alert_id) is None:
        raise HTTPException(404, "没有这条提醒，或它不属于您的部门")
    try:
        resolve_alert(db, alert_id=alert_id, actor=actor(user), at=now(request))
    except WorkflowError as exc:
        db.rollback()
        return back(request, safe_path(next, "/alerts"), err=str(exc))
    db.commit()
    return back(request, safe_path(next, "/alerts"), msg="已标记为已处理")
