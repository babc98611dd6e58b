"""The lake's DuckDB catalog: one view per table over the landed Parquet.

Pipeline code opens an in-memory connection with the views (``connect``), so
any number of workers can read the lake at once; ``lake.duckdb`` is the same
views persisted for analysts and tools, rewritten after each ingest.
"""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path

import duckdb

from wugan.lake.contracts import CONTRACTS, Contract
from wugan.settings import Settings

__all__ = ["connect", "attach_views", "refresh_catalog", "people", "TABLES"]

TABLES = (*CONTRACTS, "quarantine")
QUARANTINE_COLUMNS = {
    "table": "VARCHAR",
    "file": "VARCHAR",
    "line": "BIGINT",
    "field": "VARCHAR",
    "value": "VARCHAR",
    "reason": "VARCHAR",
    "message": "VARCHAR",
}


def _quote(path: Path) -> str:
    return "'" + str(path.resolve()).replace("'", "''") + "'"


def _empty(columns: dict[str, str]) -> str:
    cols = ", ".join(f'CAST(NULL AS {t}) AS "{c}"' for c, t in columns.items())
    return f"SELECT {cols}, CAST(NULL AS DATE) AS _delivered WHERE false"


def _landed(lake: Path, folder: str, columns: dict[str, str]) -> str:
    """All landed files of a folder, or an empty typed relation before the first landing."""
    if not any((lake / folder).glob("day=*/*.parquet")):
        return _empty(columns)
    glob = _quote(lake / folder / "day=*" / "*.parquet")
    return (
        f"SELECT * EXCLUDE (day), day AS _delivered FROM read_parquet({glob}, "
        "hive_partitioning = true, hive_types = {'day': DATE}, union_by_name = true)"
    )


def _columns(contract: Contract) -> dict[str, str]:
    return {c.name: c.storage for c in contract.columns} | {"_line": "BIGINT", "_file": "VARCHAR"}


def view_sql(lake: Path) -> dict[str, str]:
    """``CREATE VIEW`` statements: ``raw_<table>`` keeps every delivery, ``<table>`` the current one."""
    stmts: dict[str, str] = {}
    for table, contract in CONTRACTS.items():
        stmts[f"raw_{table}"] = _landed(lake, table, _columns(contract))
        if contract.kind == "reference":
            key = ", ".join(contract.key)
            stmts[table] = (
                f"SELECT * FROM raw_{table} QUALIFY row_number() OVER "
                f"(PARTITION BY {key} ORDER BY _delivered DESC, _file DESC) = 1"
            )
        else:
            stmts[table] = f"SELECT * FROM raw_{table}"
    stmts["quarantine"] = _landed(lake, "quarantine", QUARANTINE_COLUMNS)
    return stmts


def attach_views(con: duckdb.DuckDBPyConnection, lake: Path) -> duckdb.DuckDBPyConnection:
    for name, sql in view_sql(lake).items():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
    return con


def connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake's views: no file lock, so readers never block each other.

    Rules are evaluated on it, so it is sandboxed: it reads the lake and nothing else.
    """
    from wugan.rules.sandbox import connect as sandboxed

    return attach_views(sandboxed(readable=[settings.lake]), settings.lake)


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def refresh_catalog(settings: Settings) -> Path:
    """Persist the views into ``lake.duckdb`` (one writer at a time)."""
    with _locked(settings.catalog):
        con = duckdb.connect(str(settings.catalog))
        try:
            attach_views(con, settings.lake)
        finally:
            con.close()
    return settings.catalog


def people(settings: Settings, person_ids: list[str]):
    """Names and phones of some persons (the notices' recipients): person_id, name, phone."""
    import polars as pl

    con = connect(settings)
    con.register("wanted", pl.DataFrame({"person_id": person_ids}, schema={"person_id": pl.String}).to_arrow())
    return con.sql("SELECT DISTINCT person_id, name, phone FROM persons JOIN wanted USING (person_id)").pl()
