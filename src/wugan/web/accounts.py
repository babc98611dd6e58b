"""Web accounts: created one by one (``wugan users add`` or the admin's page) or as the demo's set; passwords,
activation, role and scope.

A new password, deactivation, reactivation and a change of role or scope each
end the user's open sessions (``User.session_version`` moves on). A password
an admin resets is a one-time one: the user must choose their own at the next
login.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wugan.cases.models import Task
from wugan.cases.users import ROLES, User, new_user_id
from wugan.cases.workflow import audit
from wugan.errors import InputError
from wugan.web.auth import hash_password

__all__ = ["Login", "add_user", "set_password", "reset_password", "change_own_password", "set_active",
           "set_role_scope", "create_demo_users", "MIN_PASSWORD"]

MIN_PASSWORD = 8


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
    _check_scope(role, villages, departments)
    _check_password(password)
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise InputError(f"user {username!r} exists")
    at = at or dt.datetime.now()
    user = User(id=new_user_id(), username=username, display_name=display_name or username,
                password_hash=hash_password(password), role=role, villages=list(villages or []),
                departments=list(departments or []), assistant_id=assistant_id, active=True, created_at=at)
    session.add(user)
    audit(session, actor=actor, action="user_created", entity="user", entity_id=user.id, before=None,
          after={"username": username, "role": role, "villages": user.villages, "departments": user.departments},
          at=at)
    return user


def _check_scope(role: str, villages: list[str] | None, departments: list[str] | None) -> None:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "assistant" and not villages:
        raise InputError("an assistant needs --villages")
    if role == "reviewer" and not departments:
        raise InputError("a reviewer needs --departments")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"a password has at least {MIN_PASSWORD} characters")


def _user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise InputError(f"no user {username!r}")
    return user


def set_password(session: Session, *, username: str, password: str, actor: str = "cli",
                 at: dt.datetime | None = None) -> User:
    """A new password; every session of the user ends."""
    _check_password(password)
    user = _user(session, username)
    user.password_hash = hash_password(password)
    audit(session, actor=actor, action="password_changed", entity="user", entity_id=user.id, before=None,
          after=None, at=at or dt.datetime.now())
    return user


def reset_password(session: Session, *, username: str, actor: str, at: dt.datetime | None = None) -> str:
    """A one-time password for a user who forgot theirs: returned once, to hand over; they must change it."""
    password = secrets.token_urlsafe(9)
    user = _user(session, username)
    user.password_hash = hash_password(password)
    user.must_change_password = True
    audit(session, actor=actor, action="password_reset", entity="user", entity_id=user.id, before=None,
          after={"must_change_password": True}, at=at or dt.datetime.now())
    return password


def change_own_password(session: Session, *, user: User, password: str, at: dt.datetime | None = None) -> User:
    """The user's own new password (after a reset, or any time); the old one and its sessions end."""
    _check_password(password)
    user.password_hash = hash_password(password)
    user.must_change_password = False
    audit(session, actor=f"user:{user.username}", action="password_changed", entity="user", entity_id=user.id,
          before=None, after=None, at=at or dt.datetime.now())
    return user


def set_role_scope(session: Session, *, username: str, role: str, villages: list[str] | None = None,
                   departments: list[str] | None = None, assistant_id: str | None = None, actor: str,
                   at: dt.datetime | None = None) -> User:
    """A new role and scope; the user's sessions end, so the next request sees the new rights."""
    _check_scope(role, villages, departments)
    user = _user(session, username)
    before = {"role": user.role, "villages": list(user.villages or []), "departments": list(user.departments or [])}
    user.role = role
    user.villages = list(villages or []) if role == "assistant" else []
    user.departments = list(departments or []) if role == "reviewer" else []
    user.assistant_id = assistant_id if role == "assistant" else None
    after = {"role": user.role, "villages": user.villages, "departments": user.departments}
    if after != before:
        audit(session, actor=actor, action="user_scope_changed", entity="user", entity_id=user.id, before=before,
              after=after, at=at or dt.datetime.now())
    return user


def set_active(session: Session, *, username: str, active: bool, actor: str = "cli",
               at: dt.datetime | None = None) -> User:
    """Deactivate or reactivate an account; either way its sessions end (none comes back)."""
    user = _user(session, username)
    before = user.active
    user.active = active
    user.session_version = (user.session_version or 0) + 1  # also when nothing changed: a reactivation ends all
    audit(session, actor=actor, action="user_activated" if active else "user_deactivated", entity="user",
          entity_id=user.id, before={"active": before}, after={"active": active}, at=at or dt.datetime.now())
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
            set_password(session, username=username, password=pw, actor="demo")
        else:
            add_user(session, username=username, password=pw, role=role, display_name=name, actor="demo", **scope)
        logins.append(Login(username=username, password=pw, role=role, scope=text))
    return logins
