"""The analyst's page: volumes, rule versions in force, workload against capacity — pseudonymised."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from wugan.cases.users import User
from wugan.reconcile.report import REASONS, latest_report
from wugan.web.auth import check_csrf, require_role
from wugan.web.deps import get_db
from wugan.web.queries import analytics
from wugan.web.routes.common import today
from wugan.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)


@router.get("/analytics")
def analytics_page(request: Request, user: User = Depends(require_role("analyst")),
                   db: Session = Depends(get_db)) -> Response:
    settings = request.app.state.settings
    view = analytics(db, settings=settings, pseudonym_key=request.app.state.pseudonym_key, today=today(request))
    event_types = sorted({r.event_type for r in view.volumes})
    return render(request, "analyst/analytics.html", view=view, event_types=event_types,
                  take_up=take_up_summary(settings), take_up_reasons=REASONS)


def take_up_summary(settings) -> dict | None:
    """The latest take-up report the pipeline wrote: per event type, owed and each reason; the largest gaps."""
    import polars as pl

    counts = latest_report(settings)
    if counts is None:
        return None
    by_type = counts.pivot(on="reason", index="event_type", values="entitlements", aggregate_function="sum")
    by_type = by_type.with_columns(pl.sum_horizontal(pl.exclude("event_type")).alias("owed")).sort("event_type")
    gaps = (counts.filter(pl.col("reason") != "reached").sort("entitlements", descending=True).head(10))
    return {"as_of": counts["as_of"][0], "by_type": by_type.to_dicts(), "gaps": gaps.to_dicts()}
