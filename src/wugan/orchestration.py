"""What the Airflow DAGs share: feeds, assets, retry policy, the day of a run, and the settings.

Import-light on purpose: DAG files import this at parse time, so nothing here
imports polars, DuckDB or SQLAlchemy, or touches a database, the network, an
Airflow Variable or a Connection at import. Settings and the day are resolved
inside tasks (``settings_from_airflow()``, ``day_of(context)``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from wugan.errors import ConfigError

if TYPE_CHECKING:
    from airflow.sdk import Asset

    from wugan.settings import Settings

__all__ = [
    "TZ",
    "START",
    "OWNER",
    "FEEDS",
    "EVENTS",
    "EVENT_FEEDS",
    "DEFAULT_ARGS",
    "feed_asset",
    "cases_asset",
    "day_of",
    "settings_from_airflow",
    "notice_sender",
    "connection_url",
]

TZ = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2025, 1, 1, tzinfo=TZ)
OWNER = "wugan"

# The department feeds (``wugan.lake.CONTRACTS``, in landing order: regions first).
FEEDS: tuple[str, ...] = (
    "regions", "persons", "contributions", "pensions", "claims",
    "disability_registry", "benefits", "births", "deaths", "assistants",
)
# The life events (``wugan.events.EVENT_TYPES``) and the feeds each one reads.
EVENT_FEEDS: dict[str, tuple[str, ...]] = {
    "birth": ("regions", "persons", "births"),
    "death": ("regions", "persons", "contributions", "pensions", "deaths"),
    "retirement": ("regions", "persons", "contributions", "pensions", "deaths"),
    "medical_hardship": ("regions", "persons", "claims", "disability_registry", "benefits", "deaths"),
    "old_age": ("regions", "persons", "benefits", "deaths"),
}
EVENTS: tuple[str, ...] = tuple(EVENT_FEEDS)

DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 3,
    "retry_delay": dt.timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": dt.timedelta(minutes=30),
}


def feed_asset(table: str) -> Asset:
    """The lake's copy of one department feed: updated when a day's extract has landed."""
    from airflow.sdk import Asset

    return Asset(name=f"wugan_lake_{table}", uri=f"wugan://lake/{table}", group="lake")


def cases_asset(event_type: str) -> Asset:
    """The case store's cases of one life event: updated when a day's batch has been acted on."""
    from airflow.sdk import Asset

    return Asset(name=f"wugan_cases_{event_type}", uri=f"wugan://cases/{event_type}", group="cases")


def _local_date(value: dt.datetime | dt.date | str) -> dt.date:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value or " " in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return (value.astimezone(TZ) if value.tzinfo else value).date()
    return value


def day_of(context: Any) -> dt.date:
    """The day a run works on, never the wall clock.

    An asset-triggered run takes the latest ``day`` its triggering asset
    events carry; a scheduled, backfilled or manual run takes its data
    interval end (else its logical date, else when it was due to run), as a
    date in China Standard Time.
    """
    days = []
    for events in (context.get("triggering_asset_events") or {}).values():
        days += [_local_date(e.extra["day"]) for e in events if e.extra and e.extra.get("day")]
    if days:
        return max(days)
    for key in ("data_interval_end", "logical_date"):
        if (value := context.get(key)) is not None:
            return _local_date(value)
    return _local_date(context["dag_run"].run_after)


def connection_url(conn: Any) -> str:
    """A SQLAlchemy URL from an Airflow Connection: ``extra.sqlalchemy_url``, or built from its fields."""
    extra = conn.extra_dejson or {}
    if extra.get("sqlalchemy_url"):
        return extra["sqlalchemy_url"]
    if conn.conn_type in ("postgres", "postgresql"):
        auth = quote(conn.login or "", safe="")
        if conn.password:
            auth += ":" + quote(conn.password, safe="")
        host = f"{conn.host or 'localhost'}:{conn.port or 5432}"
        return f"postgresql+psycopg://{auth + '@' if auth else ''}{host}/{conn.schema or 'wugan'}"
    if conn.conn_type == "sqlite":
        return f"sqlite:///{conn.host}"
    raise ConfigError(f"connection {conn.conn_id!r}: set extra.sqlalchemy_url for conn_type {conn.conn_type!r}")


def _variable(key: str) -> str | None:
    from airflow.sdk import Variable

    value = Variable.get(key, default=None)
    return value or None


def _connection(conn_id: str) -> str | None:
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        return None
    return connection_url(conn) if conn is not None else None


def settings_from_airflow() -> Settings:
    """Settings for a task: Variables ``wugan_home`` / ``wugan_db_url``, the Connection ``wugan_cases``,
    then the environment (``WUGAN_HOME``, ``WUGAN_DB_URL``), then the embedded defaults.

    Call inside a task, never at parse time: it asks the Airflow API server.
    """
    from pathlib import Path

    from wugan.settings import get_settings

    settings = get_settings()
    update: dict[str, Any] = {}
    if home := _variable("wugan_home"):
        update["home"] = Path(home)
    if url := _variable("wugan_db_url") or _connection("wugan_cases"):
        update["db_url"] = url
    return settings.model_copy(update=update) if update else settings


def notice_sender() -> str | None:
    """Where notices go: Variable ``wugan_notice_sender`` (``file``, ``console`` or a webhook URL); file when unset."""
    return _variable("wugan_notice_sender")
