"""The assistant's phone app: the web app manifest and the service worker, both public and at the root."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from wugan.web.assets import OFFLINE_ASSETS, asset
from wugan.web.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/manifest.webmanifest")
def manifest() -> Response:
    body = {
        "name": "无感政务 · 协理员", "short_name": "无感政务", "lang": "zh-CN", "start_url": "/tasks",
        "scope": "/", "display": "standalone", "background_color": "#f3f5f8", "theme_color": "#b42318",
        "icons": [{"src": asset("icon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json",
                    headers={"Cache-Control": "no-cache"})


@router.get("/sw.js")
def service_worker(request: Request) -> Response:
    """Generated with the hashed names it keeps, so a new deploy is a new worker; always revalidated."""
    body = templates.get_template("sw.js").render(assets=[asset(n) for n in OFFLINE_ASSETS])
    return Response(body, media_type="text/javascript", headers={"Cache-Control": "no-cache",
                                                                  "Service-Worker-Allowed": "/"})
