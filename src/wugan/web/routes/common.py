"""Small helpers the routers share: the clock, the actor, post/redirect/get with a message, paging input."""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy import update

from wugan.cases.users import User, WebSession
from wugan.web.auth import session_digest, session_token

__all__ = ["now", "today", "actor", "back", "page_number", "safe_path"]


def now(request: Request) -> dt.datetime:
    return request.app.state.clock()


def today(request: Request) -> dt.date:
    return now(request).date()


def actor(user: User) -> str:
    return f"user:{user.username}"


def page_number(value: str | int | None) -> int:
    try:
        return max(1, int(value or 1))
    except (TypeError, ValueError):
        return 1


def safe_path(target: str | None, default: str) -> str:
    """A local path to go back to; anything else (another site, a scheme) is the default."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def back(request: Request, path: str, *, msg: str = "", err: str = "") -> RedirectResponse:
    """Post/redirect/get; the one-line message for the next page is kept with the session, never in the URL."""
    token = session_token(request)
    if (msg or err) and token:  # in the request's own transaction, which may hold the write lock (``deps``)
        db = request.state.db
        db.execute(update(WebSession).where(WebSession.id == session_digest(token))
                   .values(flash={"kind": "err" if err else "ok", "text": err or msg}))
        db.commit()
    return RedirectResponse(path, status_code=303)
