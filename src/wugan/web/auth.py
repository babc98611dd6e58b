"""Passwords, sessions, CSRF and the role/scope dependencies of the web app.

A session is a row of ``web_sessions`` (``wugan.cases.users``); the cookie
carries a random token, signed and timestamped (itsdangerous), whose SHA-256
is the row's id. Every request looks the row up, so logout, a new password,
deactivation and an expired lifetime end a session for good. Every POST must
carry the session's CSRF token, in the form field ``csrf_token`` or the
header ``X-CSRF-Token``. The login form, which has no session yet, carries a
signed one-time token of its own (see ``routes.home``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import SecretStr
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from wugan.cases.db import session_scope
from wugan.cases.users import ROLES, User, WebSession
from wugan.settings import Settings, weak_secret
from wugan.web.deps import get_db

__all__ = [
    "SESSION_COOKIE",
    "LOGIN_COOKIE",
    "LOGIN_FORM_SECONDS",
    "CSRF_HEADER",
    "CSRF_FIELD",
    "LoginRequired",
    "Viewer",
    "hash_password",
    "verify_password",
    "verify_login",
    "resolve_secret",
    "resolve_pseudonym_key",
    "Signer",
    "open_session",
    "end_session",
    "web_session",
    "session_token",
    "current_user",
    "require_role",
    "check_csrf",
    "pseudonym",
    "utcnow",
    "session_digest",
    "StaleForm",
    "PasswordChangeRequired",
]

log = logging.getLogger(__name__)

SESSION_COOKIE = "wugan_session"
LOGIN_COOKIE = "wugan_login"
LOGIN_FORM_SECONDS = 15 * 60
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def verify_login(user: User | None, password: str) -> bool:
    """The password check, as slow for an unknown or inactive user as for a wrong password."""
    if user is None or not user.active:
        verify_password(_dummy_hash(), password)
        return False
    return verify_password(user.password_hash, password)


def utcnow() -> dt.datetime:
    """Wall-clock UTC (naive, as stored): session lifetimes are real time, not the demo's pinned day."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _key(settings: Settings, name: str) -> str:
    value = getattr(settings, name)  # a SecretStr; a plain str after model_copy(update=...)
    key = (value.get_secret_value() if isinstance(value, SecretStr) else str(value or "")).strip()
    variable = f"WUGAN_{name.upper()}"
    if settings.env == "production" and weak_secret(key):
        raise RuntimeError(f"{variable} is empty, a placeholder or shorter than 32 characters; "
                           "refusing to start in production")
    if not key:
        log.warning("%s is not set: using a random key for this process", variable)
        return secrets.token_urlsafe(48)
    return key


def resolve_secret(settings: Settings) -> str:
    """The signing key: required (and not a placeholder) in production; random per process in development."""
    return _key(settings, "secret_key")


def resolve_pseudonym_key(settings: Settings) -> str:
    """The analysts' pseudonym key, apart from the signing key so a rotation of that one keeps pseudonyms."""
    return _key(settings, "pseudonym_key")


class Signer:
    """Signs and checks the session and login-form cookies."""

    def __init__(self, secret: str, *, max_age_seconds: int) -> None:
        self.max_age = max_age_seconds
        self._session = URLSafeTimedSerializer(secret, salt="wugan-session")
        self._login = URLSafeTimedSerializer(secret, salt="wugan-login")

    def session_cookie(self, token: str) -> str:
        return self._session.dumps(token)

    def read_session(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            token = self._session.loads(cookie, max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        return token if isinstance(token, str) else None

    def login_cookie(self) -> tuple[str, str]:
        token = secrets.token_urlsafe(24)
        return self._login.dumps(token), token

    def read_login(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            token = self._login.loads(cookie, max_age=LOGIN_FORM_SECONDS)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None


def session_digest(token: str) -> str:
    """The session row's id for a cookie's token."""
    return hashlib.sha256(token.encode()).hexdigest()


_digest = session_digest


def open_session(db: Session, *, user: User, hours: float) -> tuple[str, str]:
    """A new session row for ``user``; returns (token for the cookie, CSRF token). Drops expired rows."""
    now = utcnow()
    db.execute(delete(WebSession).where(WebSession.expires_at <= now))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    db.add(WebSession(id=_digest(token), user_id=user.id, user_version=user.session_version or 0, csrf=csrf,
                      created_at=now, expires_at=now + dt.timedelta(hours=hours)))
    return token, csrf


def end_session(db: Session, token: str | None) -> None:
    if token:
        db.execute(delete(WebSession).where(WebSession.id == _digest(token)))


@dataclass(frozen=True)
class Viewer:
    """What the layout shows of the logged-in user; outlives the request's database session."""

    username: str
    display_name: str
    role: str
    villages: tuple[str, ...]
    departments: tuple[str, ...]


class LoginRequired(Exception):
    """No valid session: HTML pages redirect to the login page, the API answers 401."""


class PasswordChangeRequired(Exception):
    """The user's password was reset by an admin: every page leads to choosing a new one first."""


class StaleForm(Exception):
    """A form whose CSRF token no longer matches the live session: shown again with what was typed."""

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        super().__init__("stale form")
        self.fields = fields


def session_token(request: Request) -> str | None:
    return request.app.state.signer.read_session(request.cookies.get(SESSION_COOKIE))


def web_session(request: Request, db: Session = Depends(get_db)) -> tuple[WebSession, User] | None:
    """The request's live session and its user, or None: unknown, expired, outdated or inactive."""
    token = session_token(request)
    if token is None:
        return None
    row = db.get(WebSession, _digest(token))
    if row is None or row.expires_at <= utcnow():
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active or user.session_version != row.user_version:
        return None
    return row, user


def _navigation(request: Request) -> bool:
    """A page the person asked for (not the API, not a service worker's background fetch)."""
    return (request.method == "GET" and not request.url.path.startswith("/api")
            and request.headers.get("sec-fetch-mode", "navigate") == "navigate")


def _remember(request: Request, row: WebSession, user: User) -> None:
    request.state.user = Viewer(username=user.username, display_name=user.display_name, role=user.role,
                                villages=tuple(user.villages or ()), departments=tuple(user.departments or ()))
    request.state.csrf = row.csrf


def current_user(request: Request, found: tuple[WebSession, User] | None = Depends(web_session)) -> User:
    """The logged-in user; the session's one-time message goes to the first page shown after it was set."""
    if found is None:
        raise LoginRequired()
    row, user = found
    _remember(request, row, user)
    if row.flash and _navigation(request):  # taken in a short transaction of its own (see ``access.write_log``)
        request.state.flash = dict(row.flash)
        with session_scope(request.app.state.settings.case_store_url) as own:
            own.execute(update(WebSession).where(WebSession.id == row.id).values(flash=None))
    if user.must_change_password and request.url.path not in ("/password", "/logout"):
        raise PasswordChangeRequired()
    return user


def require_role(*roles: str) -> Callable[..., User]:
    """A dependency: the logged-in user, if their role is one of ``roles`` (admin always passes)."""
    if not set(roles) <= set(ROLES):
        raise ValueError(f"unknown roles {set(roles) - set(ROLES)}")

    def dependency(user: User = Depends(current_user)) -> User:
        if user.role != "admin" and user.role not in roles:
            raise HTTPException(status_code=403, detail="您的角色无权查看或办理这一页的内容。")
        return user

    return dependency


async def check_csrf(request: Request, found: tuple[WebSession, User] | None = Depends(web_session)) -> None:
    """Refuse a state-changing request whose CSRF token does not match the session's."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if found is None:
        raise LoginRequired()
    sent = request.headers.get(CSRF_HEADER)
    form = None
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, found[0].csrf):
        if form is not None and not request.url.path.startswith("/api") and isinstance(sent, str) and sent:
            _remember(request, *found)
            raise StaleForm([(k, v) for k, v in form.multi_items() if k != CSRF_FIELD and isinstance(v, str)])
        raise HTTPException(status_code=403, detail="安全校验未通过：请刷新页面后重试")


def pseudonym(key: str, person_id: str | None) -> str:
    """A keyed hash of a person id, for analysts: stable within a key, not reversible without it."""
    if not person_id:
        return "—"
    digest = hmac.new(key.encode(), f"person:{person_id}".encode(), hashlib.sha256).hexdigest()
    return "P" + digest[:10]
