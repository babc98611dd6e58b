"""The admin's pages: accounts (create, deactivate, reset a password, change role and scope) and the audit log.

Every change goes through ``wugan.web.accounts`` (audited; the user's
sessions end with any change to them).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from wugan.cases.bundles import departments as department_names
from wugan.cases.users import ROLES, User
from wugan.errors import InputError
from wugan.web.accounts import MIN_PASSWORD, add_user, reset_password, set_active, set_role_scope
from wugan.web.auth import check_csrf, require_role
from wugan.web.deps import get_db
from wugan.web.queries.admin import audit_actions, audit_log, user_row, users
from wugan.web.routes.common import actor, back, now, page_number
from wugan.web.templating import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
admin_only = require_role("admin")


def _split(text: str) -> list[str]:
    return [v for v in (p.strip() for p in text.replace("，", ",").replace("、", ",").split(",")) if v]


def _scope_errors(role: str, villages: list[str], departments: list[str], known: dict[str, str]) -> dict[str, str]:
    errors = {}
    if role not in ROLES:
        errors["role"] = "请选择角色"
    if role == "assistant" and not villages:
        errors["villages"] = "协理员需填写负责的村（社区）代码"
    if any(not (v.isdigit() and len(v) == 12) for v in villages):
        errors["villages"] = "村（社区）代码为 12 位数字，多个用逗号分开"
    if role == "reviewer" and not departments:
        errors["departments"] = "后台审核需选择至少一个部门"
    if set(departments) - set(known):
        errors["departments"] = "有未知的部门"
    return errors


def _admin_page(request: Request, db: Session, *, status_code: int = 200, errors: dict | None = None,
                values: dict | None = None, created: tuple[str, str] | None = None) -> Response:
    return render(request, "admin/users.html", status_code=status_code, users=users(db), roles=ROLES,
                  departments=department_names(request.app.state.settings.rules_dir), errors=errors or {},
                  values=values or {}, created=created)


@router.get("/admin")
def admin(request: Request, user: User = Depends(admin_only), db: Session = Depends(get_db)) -> Response:
    return _admin_page(request, db)


@router.post("/admin/users")
def create_user(request: Request, username: str = Form(""), display_name: str = Form(""), role: str = Form(""),
                villages: str = Form(""), departments: list[str] = Form([]), assistant_id: str = Form(""),
                password: str = Form(""), user: User = Depends(admin_only), db: Session = Depends(get_db)) -> Response:
    known = department_names(request.app.state.settings.rules_dir)
    name, village_list = username.strip(), _split(villages)
    values = {"username": username, "display_name": display_name, "role": role, "villages": villages,
              "departments": departments, "assistant_id": assistant_id}
    errors = _scope_errors(role, village_list, departments, known)
    if not name or len(name) > 40 or not name.replace("_", "").replace("-", "").isalnum():
        errors["username"] = "用户名为 1–40 个字母、数字、- 或 _"
    elif db.scalars(select(User).where(User.username == name)).first() is not None:
        errors["username"] = "该用户名已被使用"
    if len(password) < MIN_PASSWORD:
        errors["password"] = f"初始密码至少 {MIN_PASSWORD} 个字符；用户首次登录后须自行修改"
    if errors:
        return _admin_page(request, db, status_code=422, errors=errors, values=values)
    try:
        made = add_user(db, username=name, password=password, role=role, display_name=display_name.strip(),
                        villages=village_list, departments=departments, assistant_id=assistant_id.strip() or None,
                        actor=actor(user), at=now(request))
    except InputError:
        db.rollback()
        return _admin_page(request, db, status_code=422, errors={"username": "无法创建该账号，请检查填写"}, values=values)
    made.must_change_password = True
    db.commit()
    return back(request, f"/admin/users/{name}", msg=f"已创建账号 {name}：首次登录须修改初始密码")


def _user(db: Session, username: str) -> User:
    found = db.scalars(select(User).where(User.username == username)).first()
    if found is None:
        raise HTTPException(404, "没有这个账号")
    return found


def _user_page(request: Request, db: Session, target: User, *, status_code: int = 200, errors: dict | None = None,
               values: dict | None = None, password: str | None = None) -> Response:
    return render(request, "admin/user.html", status_code=status_code, u=user_row(target), roles=ROLES,
                  departments=department_names(request.app.state.settings.rules_dir), errors=errors or {},
                  values=values or {}, password=password, assistant_id=target.assistant_id or "")


@router.get("/admin/users/{username}")
def user_page(username: str, request: Request, user: User = Depends(admin_only),
              db: Session = Depends(get_db)) -> Response:
    return _user_page(request, db, _user(db, username))


@router.post("/admin/users/{username}")
def user_action(username: str, request: Request, action: str = Form(""), role: str = Form(""),
                villages: str = Form(""), departments: list[str] = Form([]), assistant_id: str = Form(""),
                user: User = Depends(admin_only), db: Session = Depends(get_db)) -> Response:
    target = _user(db, username)
    who, at = actor(user), now(request)
    if target.id == user.id and action in ("deactivate", "scope"):
        return _user_page(request, db, target, status_code=422,
                          errors={"action": "不能停用自己的账号或修改自己的角色"})
    if action == "deactivate":
        set_active(db, username=username, active=False, actor=who, at=at)
        msg = f"已停用 {username}：其所有会话已结束"
    elif action == "activate":
        set_active(db, username=username, active=True, actor=who, at=at)
        msg = f"已启用 {username}"
    elif action == "reset":
        password = reset_password(db, username=username, actor=who, at=at)
        db.commit()
        # shown once on this response, never stored in a message or the log
        return _user_page(request, db, target, password=password)
    elif action == "scope":
        village_list = _split(villages)
        errors = _scope_errors(role, village_list, departments,
                               department_names(request.app.state.settings.rules_dir))
        if errors:
            return _user_page(request, db, target, status_code=422, errors=errors,
                              values={"role": role, "villages": villages, "departments": departments})
        set_role_scope(db, username=username, role=role, villages=village_list, departments=departments,
                       assistant_id=assistant_id.strip() or None, actor=who, at=at)
        msg = f"已修改 {username} 的角色和范围：其所有会话已结束"
    else:
        raise HTTPException(400, "未知操作")
    db.commit()
    return back(request, f"/admin/users/{username}", msg=msg)


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/admin/audit")
def audit_page(request: Request, actor_name: str = "", action: str = "", start: str = "", end: str = "",
               page: str = "1", user: User = Depends(admin_only), db: Session = Depends(get_db)) -> Response:
    """The audit log by user, action and date, in words."""
    errors = {}
    first, last = _day(start), _day(end)
    if start and first is None:
        errors["start"] = "日期格式为 2025-03-01"
    if end and last is None:
        errors["end"] = "日期格式为 2025-03-31"
    log = audit_log(db, page=page_number(page), actor=actor_name.strip(), action=action, start=first, end=last)
    return render(request, "admin/audit.html", status_code=422 if errors else 200, log=log, actions=audit_actions(db),
                  errors=errors, values={"actor_name": actor_name, "action": action, "start": start, "end": end})
