"""Static files under names that carry their content's hash, so a browser keeps them for a year.

``asset("app.css")`` is ``/static/app.1a2b3c4d.css``; a new deploy changes the
name, never the content behind a name, so the long lifetime is safe. A file
asked for by its plain name is served too, but must be revalidated. The
service worker (``/sw.js``, at the root so its scope is the whole app) lists
the hashed names it keeps for offline use.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["STATIC", "HashedStatic", "asset", "hashed_names", "OFFLINE_ASSETS"]

STATIC = Path(__file__).with_name("static")
YEAR = "public, max-age=31536000, immutable"
OFFLINE_ASSETS = ("app.css", "app.js", "icon.svg")  # what every page needs: kept by the service worker


@cache
def hashed_names() -> dict[str, str]:
    """Plain name → hashed name, for every file under ``static/``."""
    names = {}
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            rel = path.relative_to(STATIC).as_posix()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            stem, dot, suffix = rel.rpartition(".")
            names[rel] = f"{stem}.{digest}.{suffix}" if dot else f"{rel}.{digest}"
    return names


def asset(name: str) -> str:
    """The URL of a static file under its hashed name."""
    return f"/static/{hashed_names()[name]}"


class HashedStatic(StaticFiles):
    """Serves ``static/`` by hashed names (cached a year) and plain names (revalidated)."""

    def __init__(self) -> None:
        super().__init__(directory=STATIC)
        self._plain = {hashed: plain for plain, hashed in hashed_names().items()}

    def get_path(self, scope: Scope) -> str:
        path = super().get_path(scope)
        plain = self._plain.get(path.replace(os.sep, "/"))
        scope["wugan.immutable"] = plain is not None
        return plain or path

    def file_response(self, full_path, stat_result, scope: Scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = YEAR if scope.get("wugan.immutable") else "no-cache"
        return response
