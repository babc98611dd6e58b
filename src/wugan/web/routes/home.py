"""Login, logout, the role-dispatching home page, and choosing one's own password."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from wugan.cases.users import User, WebSession
from wugan.cases.workflow import audit
from wugan.errors import InputError
from wugan.web.accounts import MIN_PASSWORD, change_own_password
from wugan.web.auth import (
    LOGIN_COOKIE,
    LOGIN_FORM_SECONDS,
    SESSION_COOKIE,
    check_csrf,
    current_user,
    end_session,
    open_session,
    session_digest,
    session_token,
    verify_login,
    web_session,
)
from wugan.web.deps import get_db
from wugan.web.routes.common import actor, now, safe_path
from wugan.web.templating import render

router = APIRouter(include_in_schema=False)

HOMES = {"assistant": "/tasks", "reviewer": "/review", "analyst": "/analytics", "admin": "/admin"}


def _safe_next(target: str | None) -> str:
    target = safe_path(target, "/")
    return "/" if target.startswith("/login") else target


@router.get("/")
def root(user: User = Depends(current_user)) -> RedirectResponse:
    """Each role's home."""
    return RedirectResponse(HOMES[user.role], status_code=303)


def _login_page(request: Request, *, error: str = "", status_code: int = 200, username: str = "",
                headers: dict[str, str] | None = None) -> Response:
    """The form with a fresh one-time token: every attempt needs a new one."""
    cookie, token = request.app.state.signer.login_cookie()
    response = render(request, "login.html", status_code=status_code, login_token=token, login_error=error,
                      next=_safe_next(request.query_params.get("next")), username=username, headers=headers)
    response.set_cookie(LOGIN_COOKIE, cookie, httponly=True, samesite="lax", secure=request.app.state.secure_cookies,
                        max_age=LOGIN_FORM_SECONDS)
    return response


@router.get("/login")
def login_form(request: Request, found=Depends(web_session)) -> Response:
    if found is not None:
        return RedirectResponse("/", status_code=303)
    return _login_page(request)


@router.post("/login")
def login(request: Request, username: str = Form(""), password: str = Form(""), csrf_token: str = Form(""),
          next: str = Form("/"), db: Session = Depends(get_db)) -> Response:
    signer, throttle = request.app.state.signer, request.app.state.throttle
    expected = signer.read_login(request.cookies.get(LOGIN_COOKIE))
    if (expected is None or not hmac.compare_digest(expected, csrf_token)
            or not throttle.first_use(expected, seconds=LOGIN_FORM_SECONDS)):
        return _login_page(request, error="页面已过期，请重新登录。", status_code=403, username=username)
    name, address = username.strip(), request.client.host if request.client else "-"
    at = now(request)
    wait = throttle.wait_seconds(name, address)
    if wait:
        audit(db, actor=f"anon:{name[:30]}", action="login_throttled", entity="user", entity_id=name[:40],
              before=None, after=None, at=at)
        db.commit()
        minutes = -(-wait // 60)
        return _login_page(request, error=f"尝试次数过多，请 {minutes} 分钟后再试。", status_code=429,
                           username=username, headers={"Retry-After": str(wait)})
    user = db.scalars(select(User).where(User.username == name)).first()
    if not verify_login(user, password):
        throttle.failed(name, address)
        audit(db, actor=f"anon:{name[:30]}", action="login_failed", entity="user", entity_id=name[:40],
              before=None, after=None, at=at)
        db.commit()
        return _login_page(request, error="用户名或密码错误。", status_code=401, username=username)
    assert user is not None
    user.last_login = at
    token, _ = open_session(db, user=user, hours=request.app.state.session_hours)
    audit(db, actor=actor(user), action="login", entity="user", entity_id=user.id, before=None,
          after={"role": user.role}, at=at)
    db.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, signer.session_cookie(token), httponly=True, samesite="lax",
                        secure=request.app.state.secure_cookies, max_age=signer.max_age)
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request, user: User = Depends(current_user), db: Session = Depends(get_db)) -> Response:
    end_session(db, session_token(request))
    audit(db, actor=actor(user), action="logout", entity="user", entity_id=user.id, before=None, after=None,
          at=now(request))
    db.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    # the phone forgets this user's cached pages and queued drafts (the logout button warns if any are unsent)
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@router.get("/password")
def password_form(request: Request, user: User = Depends(current_user)) -> Response:
    return render(request, "password.html", forced=user.must_change_password)


@router.post("/password", dependencies=[Depends(check_csrf)])
def password_change(request: Request, current: str = Form(""), password: str = Form(""), repeat: str = Form(""),
                    user: User = Depends(current_user), db: Session = Depends(get_db)) -> Response:
    """A new password; the session ends with the old one, so a new one is opened here."""
    errors = {}
    if not verify_login(user, current):
        errors["current"] = "当前密码不正确"
    if len(password) < MIN_PASSWORD:
        errors["password"] = f"新密码至少 {MIN_PASSWORD} 个字符"
    elif password == current:
        errors["password"] = "新密码不能与当前密码相同"
    if password != repeat:
        errors["repeat"] = "两次输入的新密码不一致"
    if errors:
        return render(request, "password.html", status_code=422, errors=errors, forced=user.must_change_password)
    try:
        change_own_password(db, user=user, password=password, at=now(request))
    except InputError:
        return render(request, "password.html", status_code=422, errors={"password": "新密码不符合要求"},
                      forced=user.must_change_password)
    db.flush()
    token, _ = open_session(db, user=user, hours=request.app.state.session_hours)
    db.get_one(WebSession, session_digest(token)).flash = {"kind": "ok", "text": "密码已修改"}
    end_session(db, session_token(request))
    db.commit()
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, request.app.state.signer.session_cookie(token), httponly=True,
                        samesite="lax", secure=request.app.state.secure_cookies, max_age=request.app.state.signer.max_age)
    return response
