"""The web app: assistants on phones, the back office, analysts; ``serve`` starts it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

__all__ = ["serve"]


def serve(host: str = "127.0.0.1", port: int = 8000, home: Path | str | None = None, *,
          today: dt.date | None = None) -> None:
    """Migrate the case store and serve the app with uvicorn; ``today`` pins the date (demos on past data)."""
    import uvicorn

    from wugan.cases.db import migrate
    from wugan.settings import get_settings
    from wugan.web.app import create_app

    settings = get_settings(home)
    migrate(settings.case_store_url)
    clock = None
    if today is not None:
        def clock() -> dt.datetime:
            return dt.datetime.combine(today, dt.datetime.now().time())
    uvicorn.run(create_app(settings, clock=clock), host=host, port=port, proxy_headers=True, server_header=False)
