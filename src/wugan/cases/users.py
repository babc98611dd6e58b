"""Web users: who may log in, with which role and scope, and their open sessions.

Roles: ``assistant`` (their villages' tasks), ``reviewer`` (their
departments' items and approvals), ``analyst`` (pseudonymised aggregates)
and ``admin``. Passwords are stored as argon2 hashes only.

A session is a row here, so it can end: logout deletes it, and any change of
a user's password, active flag, role or scope moves ``session_version`` on,
which ends every session opened before (whoever made the change, through
whichever code). Ids are random, so a re-created user shares nothing with
the one deleted before.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, event, false
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.base import NO_VALUE

from wugan.cases.models import Base

__all__ = ["ROLES", "User", "WebSession", "new_user_id"]

ROLES = ("assistant", "reviewer", "analyst", "admin")
CREDENTIALS = ("password_hash", "active", "role", "villages", "departments")


def new_user_id() -> str:
    return secrets.token_hex(8)


class User(Base):
    """A login; ``villages`` scope an assistant, ``departments`` a reviewer."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_user_id)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(40), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(12), index=True)
    villages: Mapped[list[Any]] = mapped_column(default=list)
    departments: Mapped[list[Any]] = mapped_column(default=list)
    assistant_id: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_login: Mapped[dt.datetime | None] = mapped_column(DateTime)
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                                       doc="set by an admin's reset: a new password first")


class WebSession(Base):
    """An open web session; the cookie carries only the token whose SHA-256 is ``id``."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    user_version: Mapped[int] = mapped_column(Integer)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    flash: Mapped[dict[str, Any] | None] = mapped_column(JSON, doc="the next page's one-time message")


def _ends_sessions(target: User, value: Any, old: Any, _initiator: Any) -> None:
    if old is NO_VALUE or old == value:
        return
    target.session_version = (target.session_version or 0) + 1


for _name in CREDENTIALS:
    event.listen(getattr(User, _name), "set", _ends_sessions, active_history=True)
