"""Creating web accounts: one by one (``wugan users add``) and the demo's set."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wugan.cases.models import Task, make_id
from wugan.cases.users import ROLES, User
from wugan.cases.workflow import audit
from wugan.errors import InputError
from wugan.web.auth import hash_password

__all__ = ["Login", "add_user", "create_demo_users"]


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: str
    scope: str


def add_user(session: Session, *, username: str, password: str, role: str, display_name: str = "",
             villages: list[str] | None = None, departments: list[str] | None = None,
             assistant_id: str | None = None, actor: str = "cli", at: dt.datetime | None = None) -> User:
    """A new active account; refuses unknown roles, duplicate names and unscoped assistants/reviewers."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "assistant" and not villages:
        raise InputError("an assistant needs --villages")
    if role == "reviewer" and not departments:
        raise InputError("a reviewer needs --departments")
    if len(password) < 8:
        raise InputError("a password has at least 8 characters")
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise InputError(f"user {username!r} exists")
    at = at or dt.datetime.now()
    user = User(id=make_id("user", username), username=username, display_name=display_name or username,
                password_hash=hash_password(password), role=role, villages=list(villages or []),
                departments=list(departments or []), assistant_id=assistant_id, active=True, created_at=at)
    session.add(user)
    audit(session, actor=actor, action="user_created", entity="user", entity_id=user.id, before=None,
          after={"username": username, "role": role, "villages": user.villages, "departments": user.departments},
          at=at)
    return user


def create_demo_users(session: Session, *, assistant_id: str | None = None, password: str | None = None,
                      village: str | None = None) -> list[Login]:
    """An assistant for the village with the most open tasks, a civil-affairs + HR reviewer, an analyst, an admin.

    Passwords are random unless ``password`` is given; the logins are returned
    so the demo can print them. A demo account that exists gets a new password,
    so a rerun of the demo prints logins that work.
    """
    if village is None:
        village = session.scalars(
            select(Task.village_code).where(Task.status != "done").group_by(Task.village_code)
            .order_by(func.count().desc(), Task.village_code).limit(1)
        ).first()
    if assistant_id is None and village is not None:
        assistant_id = session.scalars(
            select(Task.assistant_id).where(Task.village_code == village, Task.assistant_id.is_not(None)).limit(1)
        ).first()
    specs = [
        ("assistant", "xieliyuan", "村协理员", {"villages": [village] if village else [], "assistant_id": assistant_id},
         f"村 {village}"),
        ("reviewer", "shenhe", "后台审核员", {"departments": ["civil_affairs", "human_resources"]}, "民政局、人社局"),
        ("analyst", "fenxi", "规则分析员", {}, "假名化数据"),
        ("admin", "admin", "系统管理员", {}, "全部"),
    ]
    logins = []
    for role, username, name, scope, text in specs:
        if role == "assistant" and not village:
            continue
        pw = password or secrets.token_urlsafe(9)
        existing = session.scalars(select(User).where(User.username == username)).first()
        if existing is not None:
            existing.password_hash = hash_password(pw)
        else:
            add_user(session, username=username, password=pw, role=role, display_name=name, actor="demo", **scope)
        logins.append(Login(username=username, password=pw, role=role, scope=text))
    return logins
