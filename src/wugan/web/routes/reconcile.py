"""The back office's side of reconciling: citizens' opt-outs, and inputs a department must correct.

An opt-out that cannot be recorded comes back as the same page with the
error by its field and what was typed still there.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from wugan.cases.models import AccessLog, Alert
from wugan.cases.optouts import (
    add_opt_out,
    find_opt_out,
    opt_out_key,
    opt_outs,
    remove_opt_out,
    services,
)
from wugan.cases.users import User
from wugan.cases.workflow import WorkflowError
from wugan.reconcile.quality import KIND
from wugan.web.access import write_log
from wugan.web.auth import check_csrf, require_role
from wugan.web.deps import get_db
from wugan.web.queries.common import paged
from wugan.web.routes.common import actor, back, now, page_number, today
from wugan.web.templating import render
from wugan.web.views import Page

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
reviewer_only = require_role("reviewer")


PER_PAGE = 50


def _optout_page(request: Request, db: Session, user: User, *, page: int = 1, status_code: int = 200,
                 errors: dict | None = None, values: dict | None = None) -> Response:
    rows = [(opt_out_key(r), r) for r in opt_outs(db)]
    last = max(1, -(-len(rows) // PER_PAGE))
    page = min(page, last)
    shown = rows[(page - 1) * PER_PAGE:page * PER_PAGE]
    if shown:  # the access log names who saw which persons' opt-outs (masked IDs), as for every list of persons
        write_log(request, db, [AccessLog(at=now(request), actor=actor(user), channel="page", path="/optouts",
                                          entity="opt_out", entity_ids=[key for key, _ in shown], fields=["id_masked"])])
    return render(request, "review/optouts.html", status_code=status_code,
                  rows=Page(rows=shown, total=len(rows), page=page, per_page=PER_PAGE),
                  services=services(request.app.state.settings.rules_dir), errors=errors or {}, values=values or {},
                  page_url=lambda n: f"/optouts?page={n}")


@router.get("/optouts")
def optout_page(request: Request, page: str = "1", user: User = Depends(reviewer_only),
                db: Session = Depends(get_db)) -> Response:
    return _optout_page(request, db, user, page=page_number(page))


@router.post("/optouts")
def optout_add(request: Request, person_id: str = Form(""), service: str = Form("all"), reason: str = Form(""),
               user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    values = {"person_id": person_id, "service": service, "reason": reason}
    if not person_id.strip():
        return _optout_page(request, db, user, status_code=422, errors={"person_id": "请填写身份证号"}, values=values)
    try:
        add_opt_out(db, person_id=person_id.strip(), service=service, since=today(request), actor=actor(user),
                    reason=reason.strip(), at=now(request), rules_dir=request.app.state.settings.rules_dir)
    except WorkflowError as exc:
        db.rollback()
        return _optout_page(request, db, user, status_code=422, errors={"person_id": f"无法登记：{exc}"},
                            values=values)
    db.commit()
    return back(request, "/optouts", msg="已登记退订：此后不再为其主动办理该项服务")


@router.post("/optouts/{key}/remove")
def optout_remove(key: str, request: Request, user: User = Depends(reviewer_only),
                  db: Session = Depends(get_db)) -> Response:
    row = find_opt_out(db, key)
    if row is None:
        return back(request, "/optouts", err="没有这条退订记录")
    remove_opt_out(db, person_id=row.person_id, service=row.service, actor=actor(user), at=now(request),
                   rules_dir=request.app.state.settings.rules_dir)
    db.commit()
    return back(request, "/optouts", msg="已撤销退订：下次运行起恢复主动服务")


@router.get("/quality")
def quality_page(request: Request, status: str = "open", page: str = "1", user: User = Depends(reviewer_only),
                 db: Session = Depends(get_db)) -> Response:
    """Quarantined rows and refused files that may hold someone's entitlement, for their department."""
    status = status if status in ("open", "closed") else "open"
    query = select(Alert).where(Alert.kind == KIND, Alert.status == status).order_by(Alert.created_on.desc(),
                                                                                     Alert.entity_id)
    if user.role != "admin" and user.departments:
        query = query.where(Alert.department.in_(user.departments))
    rows, total, number = paged(db, query, page=page_number(page), per_page=PER_PAGE)
    return render(request, "review/quality.html", rows=Page(rows=rows, total=total, page=number, per_page=PER_PAGE),
                  status=status, page_url=lambda n: f"/quality?status={status}&page={n}")
