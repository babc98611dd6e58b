"""Web users: who may log in, with which role and scope.

Roles: ``assistant`` (their villages' tasks), ``reviewer`` (their
departments' items and approvals), ``analyst`` (pseudonymised aggregates)
and ``admin``. Passwords are stored as argon2 hashes only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from wugan.cases.models import Base

__all__ = ["ROLES", "User"]

ROLES = ("assistant", "reviewer", "analyst", "admin")


class User(Base):
    """A login; ``villages`` scope an assistant, ``departments`` a reviewer."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
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
