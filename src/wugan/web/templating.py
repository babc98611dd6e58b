"""Jinja2 templates with the layout's globals: the user, their CSRF token, labels, assets, today, the message."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from wugan.ids import redact
from wugan.web import texts
from wugan.web.assets import asset
from wugan.web.charts import legend, stacked_bars

__all__ = ["templates", "render"]

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
templates.env.globals.update(
    EVENT_LABELS=texts.EVENT_LABELS, ROUTE_LABELS=texts.ROUTE_LABELS, OUTCOME_LABELS=texts.OUTCOME_LABELS,
    ROLE_LABELS=texts.ROLE_LABELS, ITEM_STATUS_LABELS=texts.ITEM_STATUS_LABELS, ALERT_LABELS=texts.ALERT_LABELS,
    REVIEW_LABELS=texts.REVIEW_LABELS, stacked_bars=stacked_bars, legend=legend, asset=asset,
)


def _money(value: float | None) -> str:
    return "" if value is None else f"¥{value:,.2f}"


def _date(value) -> str:
    return "" if value is None else f"{value.month}月{value.day}日" if hasattr(value, "month") else str(value)


def _redact(value: object) -> str:
    """Mask anything that looks like an ID number (audit details are free-form)."""
    return redact(str(value)) or ""


templates.env.filters.update(money=_money, cndate=_date, redact=_redact)


def _page_url(request: Request, page: int) -> str:
    """This page's URL with another page number, its filters kept."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "page"] + [("page", str(page))]
    return f"{request.url.path}?{urlencode(query)}"


def render(request: Request, name: str, status_code: int = 200, headers: dict[str, str] | None = None,
           **context: Any) -> HTMLResponse:
    """A page; ``errors`` (field id → message) puts the summary at the top and each message by its field."""
    context = {
        "user": getattr(request.state, "user", None),
        "csrf": getattr(request.state, "csrf", ""),
        "today": request.app.state.clock().date(),
        "flash": getattr(request.state, "flash", None),
        "errors": {},
        "values": {},
        "page_url": lambda page: _page_url(request, page),
    } | context
    return templates.TemplateResponse(request, name, context, status_code=status_code, headers=headers)
