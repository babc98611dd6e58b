"""Passwords, sessions, CSRF and the role/scope dependencies of the web app.

A session is a signed, timestamped cookie (itsdangerous) holding the user id
and a per-session CSRF token; it expires after ``session_hours``. Every POST
must carry that token, in the form field ``csrf_token`` or the header
``X-CSRF-Token``. The login form, which has no session yet, uses a signed
pre-session cookie for the same check.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from wugan.cases.users import ROLES, User
from wugan.settings import Settings
from wugan.web.deps import get_db

__all__ = [
    "SESSION_COOKIE",
    "LOGIN_COOKIE",
    "CSRF_HEADER",
    "CSRF_FIELD",
    "LoginRequired",
    "SessionData",
    "hash_password",
    "verify_password",
    "resolve_secret",
    "Signer",
    "current_user",
    "require_role",
    "check_csrf",
    "pseudonym",
]

log = logging.getLogger(__name__)

SESSION_COOKIE = "wugan_session"
LOGIN_COOKIE = "wugan_login"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
PLACEHOLDER_KEYS = {"", "change-me", "changeme", "secret", "placeholder", "dev", "development", "insecure"}

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def resolve_secret(settings: Settings) -> str:
    """The signing key: required (and not a placeholder) in production; random per process in development."""
    key = (settings.secret_key or "").strip()
    weak = key.lower() in PLACEHOLDER_KEYS or len(key) < 32
    if settings.env == "production" and weak:
        raise RuntimeError(
            "WUGAN_SECRET_KEY is empty, a placeholder or shorter than 32 characters; "
            "refusing to start in production"
        )
    if not key:
        log.warning("WUGAN_SECRET_KEY is not set: using a random key, sessions end when the process stops")
        return secrets.token_urlsafe(48)
    return key


@dataclass(frozen=True)
class SessionData:
    user_id: str
    csrf: str


class Signer:
    """Signs and checks the session and pre-login cookies."""

    def __init__(self, secret: str, *, max_age_seconds: int) -> None:
        self.secret = secret
        self.max_age = max_age_seconds
        self._session = URLSafeTimedSerializer(secret, salt="wugan-session")
        self._login = URLSafeTimedSerializer(secret, salt="wugan-login")

    def session_cookie(self, user_id: str) -> tuple[str, SessionData]:
        data = SessionData(user_id=user_id, csrf=secrets.token_urlsafe(24))
        return self._session.dumps({"u": data.user_id, "c": data.csrf}), data

    def read_session(self, cookie: str | None) -> SessionData | None:
        if not cookie:
            return None
        try:
            payload = self._session.loads(cookie, max_age=self.max_age)
        except BadSignature:  # includes SignatureExpired
            return None
        return SessionData(user_id=payload["u"], csrf=payload["c"])

    def login_cookie(self) -> tuple[str, str]:
        token = secrets.token_urlsafe(24)
        return self._login.dumps(token), token

    def read_login(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return self._login.loads(cookie, max_age=3600)
        except BadSignature:
            return None


def pseudonym(secret: str, person_id: str | None) -> str:
    """A keyed hash of a person id, for analysts: stable within a key, not reversible without it."""
    if not person_id:
        return "—"
    digest = hmac.new(secret.encode(), f"person:{person_id}".encode(), hashlib.sha256).hexdigest()
    return "P" + digest[:10]


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


def _signer(request: Request) -> Signer:
    return request.app.state.signer


def session_data(request: Request) -> SessionData | None:
    return _signer(request).read_session(request.cookies.get(SESSION_COOKIE))


def current_user(request: Request, db: Session = Depends(get_db)) -> User:
    data = session_data(request)
    if data is None:
        raise LoginRequired()
    user = db.get(User, data.user_id)
    if user is None or not user.active:
        raise LoginRequired()
    request.state.user = Viewer(username=user.username, display_name=user.display_name, role=user.role,
                                villages=tuple(user.villages or ()), departments=tuple(user.departments or ()))
    request.state.csrf = data.csrf
    return user


def require_role(*roles: str) -> Callable[..., User]:
    """A dependency: the logged-in user, if their role is one of ``roles`` (admin always passes)."""
    assert set(roles) <= set(ROLES)

    def dependency(user: User = Depends(current_user)) -> User:
        if user.role != "admin" and user.role not in roles:
            raise HTTPException(status_code=403, detail="无权访问 (forbidden for this role)")
        return user

    return dependency


async def check_csrf(request: Request) -> None:
    """Refuse a state-changing request whose CSRF token does not match the session's."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    data = session_data(request)
    if data is None:
        raise LoginRequired()
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, data.csrf):
        raise HTTPException(status_code=403, detail="CSRF 校验失败，请刷新页面后重试 (CSRF token missing or wrong)")
