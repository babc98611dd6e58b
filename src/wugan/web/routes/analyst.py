"""The analyst's page: volumes, rule versions in force, workload against capacity — pseudonymised."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from wugan.cases.users import User
from wugan.web.auth import check_csrf, require_role
from wugan.web.deps import get_db
from wugan.web.queries import analytics
from wugan.web.routes.common import today
from wugan.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)


@router.get("/analytics")
def analytics_page(request: Request, user: User = Depends(require_role("analyst")),
                   db: Session = Depends(get_db)) -> Response:
    view = analytics(db, settings=request.app.state.settings, pseudonym_key=request.app.state.pseudonym_key, today=today(request))
    event_types = sorted({r.event_type for r in view.volumes})
    return render(request, "analyst/analytics.html", view=view, event_types=event_types)
