"""The lake's DuckDB catalog: one view per table over the landed Parquet.

Pipeline code opens an in-memory connection with the views (``connect``), so
any number of workers can read the lake at once; ``lake.duckdb`` is the same
views persisted for analysts and tools, rewritten after each ingest.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from wugan.lake.contracts import CONTRACTS, Contract
from wugan.lake.ledger import file_lock, manifest
from wugan.lake.snapshots import TOTALS, dedup_sql
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


MARKS = {"_line": "BIGINT", "_file": "VARCHAR", "_batch": "BIGINT", "_delivered": "DATE"}


def _empty(columns: dict[str, str]) -> str:
    cols = ", ".join(f'CAST(NULL AS {t}) AS "{c}"' for c, t in columns.items())
    return f"SELECT {cols} WHERE false"


def _read(lake: Path, files: list[str], columns: dict[str, str]) -> str:
    """The listed Parquet files of the manifest, or an empty typed relation when there are none."""
    if not files:
        return _empty(columns)
    listed = ", ".join(_quote(lake / f) for f in files)
    return f"SELECT * FROM read_parquet([{listed}], union_by_name = true, hive_partitioning = false)"


def _columns(contract: Contract) -> dict[str, str]:
    return {c.name: c.storage for c in contract.columns} | MARKS


def view_sql(lake: Path, found: pl.DataFrame | None = None) -> dict[str, str]:
    """``CREATE VIEW`` statements from the manifest.

    ``raw_<table>`` holds the rows of every file's current version, ``<table>``
    the current state (for a reference table, each key's row from the latest
    delivery day, the latest batch of that day winning), ``history_<table>``
    every version ever landed (``_batch`` tells them apart), ``quarantine`` the
    bad rows and refused files of current versions.
    """
    found = manifest(lake) if found is None else found
    current = found.filter(pl.col("current"))
    stmts: dict[str, str] = {}
    for table, contract in CONTRACTS.items():
        mine = current.filter((pl.col("table") == table) & pl.col("data").is_not_null())
        every = found.filter((pl.col("table") == table) & pl.col("data").is_not_null())
        stmts[f"raw_{table}"] = _read(lake, mine["data"].to_list(), _columns(contract))
        stmts[f"history_{table}"] = _read(lake, every["data"].to_list(), _columns(contract))
        latest = mine.sort("batch").tail(1)
        snapshot = latest["snapshot"][0] if latest.height else None
        if contract.kind == "reference" and snapshot and (lake / snapshot).exists():
            stmts[table] = _read(lake, [snapshot], _columns(contract))
        elif contract.kind == "reference":
            stmts[table] = dedup_sql(contract, f"raw_{table}")
        else:
            stmts[table] = f"SELECT * FROM raw_{table}"
        for name, query in TOTALS.items():
            if name == table:
                totals = latest["totals"][0] if latest.height else None
                stmts[f"{table}_totals"] = (
                    _read(lake, [totals], {}) if totals and (lake / totals).exists()
                    else query.replace("FROM current", f"FROM {table}"))
    stmts["quarantine"] = _read(lake, current["quarantine"].drop_nulls().to_list(),
                                QUARANTINE_COLUMNS | {"_batch": "BIGINT", "_delivered": "DATE"})
    return stmts


def attach_views(con: duckdb.DuckDBPyConnection, lake: Path,
                 found: pl.DataFrame | None = None) -> duckdb.DuckDBPyConnection:
    for name, sql in view_sql(lake, found).items():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
    return con


def connect(settings: Settings, found: pl.DataFrame | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake's views: no file lock, so readers never block each other.

    Rules are evaluated on it, so it is sandboxed: it reads the lake and nothing else. ``found`` is a
    manifest read before (``ledger.manifest``): the views then show exactly the batches it lists, so a
    reader that records how far it has read never skips one landed in between.
    """
    from wugan.rules.sandbox import connect as sandboxed

    con = sandboxed(readable=[settings.lake], memory_limit=settings.query_memory, spill=settings.lake / "_spill")
    return attach_views(con, settings.lake, found)


def refresh_catalog(settings: Settings) -> Path:
    """Persist the views into ``lake.duckdb`` (one writer at a time)."""
    with file_lock(settings.catalog.with_suffix(".lock")):
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
