"""The web layer's one database dependency: a session per request."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from wugan.cases.db import session_scope

__all__ = ["get_db"]


def get_db(request: Request) -> Iterator[Session]:
    """A transaction for the request; handlers that change state commit before they answer."""
    with session_scope(request.app.state.settings.case_store_url) as session:
        yield session
