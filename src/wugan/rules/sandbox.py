"""DuckDB connections that evaluate rules: no file, network or extension access beyond what they must read.

Rule expressions pass an allow-list before they reach SQL; this is the second
wall, should that list ever have a hole: external access is off, extensions
neither install nor load, and the configuration is locked so SQL cannot turn
it back on. A connection may still read the directories it is opened with
(the lake's Parquet files). ``compiler.evaluate`` refuses any other connection.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

__all__ = ["connect", "is_sandboxed"]


def connect(*, readable: Iterable[Path] = (), memory_limit: str | None = None,
            spill: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that can read only under ``readable`` (and registered frames); past
    ``memory_limit`` it spills to ``spill`` (its own temporary files, not a query's)."""
    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if spill is not None:
        spill.mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(spill)
    directories = [str(Path(p).resolve()) + "/" for p in readable]
    if not directories:
        return duckdb.connect(config=config | {"enable_external_access": False, "lock_configuration": True})
    # DuckDB takes the allowed directories only while external access is still on: set them, then close it.
    con = duckdb.connect(config=config)
    con.execute("SET allowed_directories = ?", [directories])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def is_sandboxed(con: duckdb.DuckDBPyConnection) -> bool:
    ((external, locked),) = con.sql(
        "SELECT current_setting('enable_external_access'), current_setting('lock_configuration')"
    ).fetchall()
    return not external and bool(locked)
