"""The analyst's pages: volumes, versions (drafts and shadows too), workload, revocations, and the what-if."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from wugan.cases.users import User
from wugan.errors import WuganError
from wugan.reconcile.report import REASONS, latest_report
from wugan.web.auth import check_csrf, require_role
from wugan.web.deps import get_db
from wugan.web.queries.analyst import WhatIfForm, analytics, parameters_of, what_if
from wugan.web.routes.common import today
from wugan.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
analyst_only = require_role("analyst")
MAX_DAYS = 366


@router.get("/analytics")
def analytics_page(request: Request, user: User = Depends(analyst_only), db: Session = Depends(get_db)) -> Response:
    view = analytics(db, settings=request.app.state.settings, pseudonym_key=request.app.state.pseudonym_key,
                     today=today(request))
    event_types = sorted({r.event_type for r in view.volumes})
    return render(request, "analyst/analytics.html", view=view, event_types=event_types,
                  take_up=take_up_summary(request.app.state.settings), take_up_reasons=REASONS)


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


def _date(text: str, default: dt.date) -> dt.date | None:
    if not text:
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _check(form: WhatIfForm, params: dict, start: dt.date | None, end: dt.date | None) -> dict[str, str]:
    errors = {}
    if form.ruleset not in params:
        errors["ruleset"] = "请选择规则集"
    elif form.parameter not in {p for p, _, _ in params[form.ruleset]}:
        errors["parameter"] = "请选择该规则集的一个参数"
    if not form.value.strip():
        errors["value"] = "请填写新的参数值"
    if start is None:
        errors["start"] = "开始日期格式为 2025-03-01"
    if end is None:
        errors["end"] = "结束日期格式为 2025-03-31"
    if start and end and not (0 <= (end - start).days <= MAX_DAYS):
        errors["end"] = f"结束日期须在开始日期之后，且不超过 {MAX_DAYS} 天"
    return errors


@router.get("/whatif")
def whatif_page(request: Request, ruleset: str = "", parameter: str = "", value: str = "", start: str = "",
                end: str = "", user: User = Depends(analyst_only)) -> Response:
    """Change one parameter, replay the period, and see what changes against the version in force."""
    settings = request.app.state.settings
    day = today(request)
    params = parameters_of(settings, day)
    first, last = _date(start, day - dt.timedelta(days=27)), _date(end, day)
    form = WhatIfForm(ruleset=ruleset, parameter=parameter, value=value, start=first, end=last)
    values = {"ruleset": ruleset, "parameter": parameter, "value": value, "start": start or str(first),
              "end": end or str(last)}
    if not ruleset:
        return render(request, "analyst/whatif.html", params=params, values=values, result=None)
    errors = _check(form, params, first, last)
    result = None
    if not errors:
        try:
            result = what_if(settings, form)
        except (WuganError, ValueError) as exc:
            errors["value"] = f"无法回测：{exc}"
    return render(request, "analyst/whatif.html", status_code=422 if errors else 200, params=params, values=values,
                  result=result, errors=errors)
