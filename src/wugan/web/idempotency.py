"""Idempotency keys: a state change sent twice with the same key is done once and answered the same way.

The phone's offline queue resends an outcome until the server confirms it; a
double tap sends a form twice; both carry the key the page made for that
form. A key belongs to the user and the route that first used it: anyone
else's use of it is refused, so keys cannot be used to read another's result.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy.orm import Session

from wugan.cases.models import Submission

__all__ = ["valid_key", "KeyMisused", "prior", "remember"]

_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class KeyMisused(Exception):
    """The key was first used by another user or on another route."""


def valid_key(key: str | None) -> str | None:
    """The key if it looks like one a page makes (16–64 URL-safe characters), else None."""
    return key if key and _KEY.match(key) else None


def prior(session: Session, *, key: str | None, actor: str, path: str) -> dict[str, Any] | None:
    """What the first request with ``key`` answered, or None if there was none."""
    if key is None:
        return None
    row = session.get(Submission, key)
    if row is None:
        return None
    if row.actor != actor or row.path != path:
        raise KeyMisused(key)
    return dict(row.result)


def remember(session: Session, *, key: str | None, actor: str, path: str, entity_id: str, at: dt.datetime,
             result: dict[str, Any]) -> None:
    """Keep the answer for ``key`` in the same transaction as the change it answers."""
    if key is not None:
        session.add(Submission(key=key, actor=actor, path=path, entity_id=entity_id, at=at, result=result))
