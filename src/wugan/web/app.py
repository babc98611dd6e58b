"""The web app: assistants' tasks, the back office, analysts' views, and the same data under ``/api``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from wugan.settings import Settings
from wugan.web.auth import LoginRequired, Signer, resolve_pseudonym_key, resolve_secret
from wugan.web.headers import security_headers
from wugan.web.routes import analyst, api, assistant, home, reconcile, review
from wugan.web.templating import render
from wugan.web.throttle import LoginThrottle

__all__ = ["create_app"]

STATIC = Path(__file__).with_name("static")


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

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (home, assistant, review, reconcile, analyst):
        app.include_router(module.router)
    app.include_router(api.router, prefix="/api")

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        security_headers(request, response)
        return response

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": "未登录或会话已过期 (not logged in)"}, status_code=401)
        target = request.url.path if request.method == "GET" else "/"
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        titles = {403: "无权操作", 404: "找不到该页面或您无权查看", 409: "无法办理"}
        return render(request, "error.html", status_code=exc.status_code,
                      title=titles.get(exc.status_code, "出错了"), detail=exc.detail, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/api"):
            # the offending input may be raw bytes (a form sent to a JSON endpoint): encode, never crash
            return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
        return render(request, "error.html", status_code=422, title="填写有误", detail="请检查必填项后重试。")

    return app
