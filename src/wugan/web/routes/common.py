"""Small helpers the routers share."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse

from wugan.cases.users import User

__all__ = ["now", "today", "actor", "back"]


def now(request: Request) -> dt.datetime:
    return request.app.state.clock()


def today(request: Request) -> dt.date:
    return now(request).date()


def actor(user: User) -> str:
    return f"user:{user.username}"


def back(path: str, *, msg: str = "", err: str = "") -> RedirectResponse:
    """Post/redirect/get, with a one-line message for the next page."""
    query = urlencode({k: v for k, v in (("msg", msg), ("err", err)) if v})
    return RedirectResponse(path + (f"?{query}" if query else ""), status_code=303)
