"""The back office's side of reconciling: citizens' opt-outs, and inputs a department must correct."""

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
from wugan.web.auth import check_csrf, require_role
from wugan.web.deps import get_db
from wugan.web.routes.common import actor, back, now, today
from wugan.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
reviewer_only = require_role("reviewer")


@router.get("/optouts")
def optout_page(request: Request, user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    rules_dir = request.app.state.settings.rules_dir
    rows = [(opt_out_key(r), r) for r in opt_outs(db)]
    if rows:  # the access log names who saw which persons' opt-outs (masked IDs), as for every list of persons
        db.add(AccessLog(at=now(request), actor=actor(user), channel="page", path="/optouts", entity="opt_out",
                         entity_ids=[key for key, _ in rows], fields=["id_masked"]))
        db.commit()
    return render(request, "review/optouts.html", rows=rows, services=services(rules_dir))


@router.post("/optouts")
def optout_add(request: Request, person_id: str = Form(""), service: str = Form("all"), reason: str = Form(""),
               user: User = Depends(reviewer_only), db: Session = Depends(get_db)) -> Response:
    try:
        add_opt_out(db, person_id=person_id, service=service, since=today(request), actor=actor(user),
                    reason=reason.strip(), at=now(request), rules_dir=request.app.state.settings.rules_dir)
    except WorkflowError as exc:
        db.rollback()
        return back("/optouts", err=f"无法登记：{exc}")
    db.commit()
    return back("/optouts", msg="已登记退订：此后不再为其主动办理该项服务")


@router.post("/optouts/{key}/remove")
def optout_remove(key: str, request: Request, user: User = Depends(reviewer_only),
                  db: Session = Depends(get_db)) -> Response:
    row = find_opt_out(db, key)
    if row is None:
        return back("/optouts", err="没有这条退订记录")
    remove_opt_out(db, person_id=row.person_id, service=row.service, actor=actor(user), at=now(request),
                   rules_dir=request.app.state.settings.rules_dir)
    db.commit()
    return back("/optouts", msg="已撤销退订：下次运行起恢复主动服务")


@router.get("/quality")
def quality_page(request: Request, status: str = "open", user: User = Depends(reviewer_only),
                 db: Session = Depends(get_db)) -> Response:
    """Quarantined rows and refused files that may hold someone's entitlement, for their department."""
    status = status if status in ("open", "closed") else "open"
    query = select(Alert).where(Alert.kind == KIND, Alert.status == status).order_by(Alert.created_on.desc(),
                                                                                     Alert.entity_id)
    if user.role != "admin" and user.departments:
        query = query.where(Alert.department.in_(user.departments))
    return render(request, "review/quality.html", rows=list(db.scalars(query)), status=status)
