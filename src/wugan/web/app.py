"""The web app: assistants' tasks, the back office, analysts' views, and the same data under ``/api``."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from wugan.settings import Settings
from wugan.web.assets import HashedStatic
from wugan.web.auth import (
    LoginRequired,
    PasswordChangeRequired,
    Signer,
    StaleForm,
    resolve_pseudonym_key,
    resolve_secret,
)
from wugan.web.headers import security_headers
from wugan.web.routes import admin, analyst, api, assistant, home, pwa, reconcile, review, search
from wugan.web.templating import render
from wugan.web.throttle import LoginThrottle

__all__ = ["create_app"]

log = logging.getLogger(__name__)

TITLES = {400: "请求有误", 401: "请先登录", 403: "无权操作", 404: "找不到该页面", 405: "无法这样操作", 409: "无法办理",
          422: "填写有误", 429: "操作太频繁", 500: "系统出错了"}
DETAILS = {404: "该页面不存在，或您无权查看。请检查网址，或从首页进入。", 405: "该页面不接受这种操作。",
           500: "系统暂时出错，您的操作没有完成。请稍后再试；如反复出现，请联系管理员。"}


def _login_target(request: Request) -> str:
    """Where to return after logging in: the page asked for, or for a form sent, the page it was sent from."""
    if request.method == "GET":
        return request.url.path
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/") and not referer.path.startswith("/login"):
        return referer.path
    return "/"


def _error_page(request: Request, status: int, detail: object = None, headers: dict | None = None) -> Response:
    if request.url.path.startswith("/api"):
        return JSONResponse({"detail": detail or TITLES.get(status, "出错了")}, status_code=status, headers=headers)
    text = detail if isinstance(detail, str) and detail and status != 404 else DETAILS.get(status, "")
    return render(request, "error.html", status_code=status, title=TITLES.get(status, "出错了"), detail=text,
                  status=status, headers=headers)


def create_app(settings: Settings, *, clock: Callable[[], dt.datetime] | None = None) -> FastAPI:
    """The app for a case store and lake; ``clock`` fixes "now" (demos and tests on historical data).

    Production serves no API documentation: no ``/docs``, ``/redoc`` or
    ``/openapi.json``. Development serves the schema only, never a page that
    loads scripts from elsewhere.
    """
    secret = resolve_secret(settings)
    production = settings.env == "production"
    app = FastAPI(
        title="wugan 无感政务",
        description="主动服务：协理员任务、后台复核与事项办理、规则分析。JSON 接口与页面共用同一会话；"
                    "POST 请求须带 X-CSRF-Token 头（GET /api/me 返回），正文为 JSON。",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url=None if production else "/openapi.json",
    )
    app.state.settings = settings
    app.state.pseudonym_key = resolve_pseudonym_key(settings)
    app.state.secure_cookies = production
    app.state.session_hours = settings.session_hours
    app.state.signer = Signer(secret, max_age_seconds=int(settings.session_hours * 3600))
    app.state.throttle = LoginThrottle.from_settings(settings)
    app.state.clock = clock or dt.datetime.now

    app.mount("/static", HashedStatic(), name="static")
    for module in (home, pwa, assistant, review, reconcile, search, analyst, admin):
        app.include_router(module.router)
    app.include_router(api.router, prefix="/api")

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        try:
            response = await call_next(request)
        except Exception:  # a bug: the person sees a page in Chinese, the log gets the traceback
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            response = _error_page(request, 500)
        security_headers(request, response)
        return response

    app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=6)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": "未登录或会话已过期"}, status_code=401)
        return RedirectResponse(f"/login?next={quote(_login_target(request))}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def _password(request: Request, _exc: PasswordChangeRequired) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": "请先修改密码"}, status_code=403)
        return RedirectResponse("/password", status_code=303)

    @app.exception_handler(StaleForm)
    async def _stale(request: Request, exc: StaleForm) -> Response:
        return render(request, "stale.html", status_code=403, action=request.url.path, fields=exc.fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return _error_page(request, exc.status_code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/api"):
            # the offending input may be raw bytes (a form sent to a JSON endpoint): encode, never crash
            return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
        return _error_page(request, 422, "请检查必填项后重试。")

    return app
