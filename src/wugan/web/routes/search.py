"""Search for the back office, and revealing a full ID number (logged in the access log)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from wugan.cases.models import AccessLog
from wugan.cases.users import User
from wugan.web.access import record_access
from wugan.web.auth import check_csrf, require_role
from wugan.web.deps import get_db
from wugan.web.queries.search import person_of, search
from wugan.web.routes.common import actor, now, today
from wugan.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
reviewer_only = require_role("reviewer")


@router.get("/search")
def search_page(request: Request, q: str = "", user: User = Depends(reviewer_only),
                db: Session = Depends(get_db)) -> Response:
    """By name (or surname), ID number, or a case, decision or task number; results masked."""
    view = search(db, user=user, settings=request.app.state.settings, query=q[:40], today=today(request))
    record_access(request, db, user, [[*h.cases, *h.decisions, *h.tasks] for h in view.hits])
    return render(request, "review/search.html", view=view)


@router.post("/search/reveal")
def reveal(request: Request, q: str = Form(""), key: str = Form(""), user: User = Depends(reviewer_only),
           db: Session = Depends(get_db)) -> Response:
    """The same results with one person's full ID number shown; the access log names who saw it."""
    settings = request.app.state.settings
    found = person_of(db, user=user, settings=settings, key=key)
    if found is None:
        raise HTTPException(404, "没有这个人，或其事项不属于您的部门")
    _, entity, row_id = found
    view = search(db, user=user, settings=settings, query=q[:40], today=today(request), reveal=key)
    if not any(h.revealed_id for h in view.hits):
        raise HTTPException(404, "该人不在这次的查询结果中")
    db.add(AccessLog(at=now(request), actor=actor(user), channel="page", path="/search/reveal", entity=entity,
                     entity_ids=[row_id], fields=["id_number", "name"]))
    db.commit()
    record_access(request, db, user, [[*h.cases, *h.decisions, *h.tasks] for h in view.hits])
    return render(request, "review/search.html", view=view)
