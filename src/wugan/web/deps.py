"""The web layer's one database dependency: a session per request."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from wugan.cases.db import session_scope

__all__ = ["get_db"]

READS = ("GET", "HEAD")


def get_db(request: Request) -> Iterator[Session]:
    """A transaction for the request; handlers that change state commit before they answer.

    On SQLite a request that changes state (any method but GET) takes the write
    lock when it begins: one that read first and wrote later would be refused
    at once, not made to wait, if another request had committed in between.
    Two sends of one form thus run one after the other. A page (GET) writes
    only its access log and message, in short transactions of their own.
    """
    with session_scope(request.app.state.settings.case_store_url) as session:
        if request.method not in READS and session.get_bind().dialect.name == "sqlite":
            connection = session.connection()  # the engine has issued a deferred BEGIN: make it immediate
            connection.exec_driver_sql("ROLLBACK")
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        request.state.db = session
        yield session
