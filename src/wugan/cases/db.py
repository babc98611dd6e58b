"""Engines and sessions for the case store: SQLite by default, PostgreSQL by URL.

The schema belongs to Alembic (``migrate``); nothing here creates tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["engine_for", "ensure_store", "migrate", "session_scope", "MIGRATIONS"]

MIGRATIONS = Path(__file__).with_name("migrations")


@cache
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            # pysqlite commits before DDL on its own; take over BEGIN so a migration is one transaction
            # (SQLAlchemy's documented recipe for transactional DDL on SQLite).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA cache_size=-131072")  # 128 MiB: bulk inserts touch many index pages
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection) -> None:
            connection.exec_driver_sql("BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Bring the case store's schema to ``revision``, all migrations in one transaction (a crash leaves none)."""
    command.upgrade(alembic_config(url), revision)


@cache
def ensure_store(url: str) -> str:
    """Migrate the case store once per process; returns ``url`` for ``session_scope(ensure_store(url))``."""
    migrate(url)
    return url


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """One transaction: committed on success, rolled back whole on any error."""
    session = sessionmaker(engine_for(url), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
