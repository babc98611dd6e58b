"""Current snapshots of the reference tables, written when a delivery lands.

A reference table (persons, contributions, benefits …) is an upsert: each
delivery's rows replace the same keys' earlier rows. Deduplicating the whole
history on every read made detection cost what the history costs, so the
current state is written once per landing instead: a table with one file is
that file; a newer delivery merges into the previous snapshot; a correction
of an older delivery rebuilds it from the current files. For contributions
the per-person totals detection needs are written beside it. History stays
queryable (``raw_<table>``, ``history_<table>``); the catalog reads the
snapshot of the latest batch it shows, and rebuilds the old way should that
snapshot be gone (only the last two of a table are kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from wugan.lake.contracts import Contract

__all__ = ["Snapshot", "write_snapshot", "dedup_sql", "TOTALS", "KEEP"]

KEEP = 2
# Derived per-person state, written beside a table's snapshot: name → (table, query over ``current``).
TOTALS = {"contributions": "SELECT person_id, sum(months)::INTEGER AS contribution_months FROM current GROUP BY 1"}


@dataclass(frozen=True)
class Snapshot:
    batch: int
    path: str  # relative to the lake
    day: str  # the latest delivery day it holds


def _listed(root: Path, files: list[str]) -> str:
    return "[" + ", ".join("'" + str(root / f).replace("'", "''") + "'" for f in files) + "]"


def dedup_sql(contract: Contract, source: str) -> str:
    """Each key's row from the latest delivery day, the latest batch of that day winning."""
    key = ", ".join(contract.key)
    return (f"SELECT * FROM {source} QUALIFY row_number() OVER "
            f"(PARTITION BY {key} ORDER BY _delivered DESC, _batch DESC) = 1")


def write_snapshot(con: duckdb.DuckDBPyConnection, root: Path, contract: Contract, *, batch: int, data: str,
                   day: str, files: list[str], previous: Snapshot | None, replacing: bool) -> tuple[str, str | None]:
    """The table's state after this landing (``data``, delivered ``day``; ``files``: every current data file
    of the table, this one included), and its totals; returns their paths relative to the lake."""
    folder = f"{contract.table}/_current"
    (root / folder).mkdir(parents=True, exist_ok=True)
    if len(files) == 1:
        path = data  # one delivery: its file is the state (keys are unique within a file)
    else:
        path = f"{folder}/b{batch}.parquet"
        if previous is not None and not replacing and day >= previous.day and (root / previous.path).exists():
            source = f"read_parquet({_listed(root, [previous.path, data])}, union_by_name = true, hive_partitioning = false)"
        else:
            source = f"read_parquet({_listed(root, files)}, union_by_name = true, hive_partitioning = false)"
        tmp = root / f"{path}.tmp"
        con.execute(f"COPY ({dedup_sql(contract, source)}) TO '{tmp}' (FORMAT parquet)")
        tmp.replace(root / path)
    totals = None
    if contract.table in TOTALS:
        totals = f"{folder}/b{batch}__totals.parquet"
        tmp = root / f"{totals}.tmp"
        con.execute(f"CREATE OR REPLACE TEMP VIEW current AS SELECT * FROM read_parquet('{root / path}', hive_partitioning = false)")
        con.execute(f"COPY ({TOTALS[contract.table]}) TO '{tmp}' (FORMAT parquet)")
        tmp.replace(root / totals)
    _collect(root / folder, keep={Path(path).name, Path(totals).name if totals else ""})
    return path, totals


def _collect(folder: Path, *, keep: set[str]) -> None:
    """Keep the newest ``KEEP`` snapshots (and totals) of a table; older ones are history's business."""
    for pattern in ("b*__totals.parquet", "b[0-9]*.parquet"):
        found = sorted((p for p in folder.glob(pattern) if pattern != "b[0-9]*.parquet" or "__" not in p.name),
                       key=lambda p: int(p.name[1:].split(".")[0].split("__")[0]))
        for old in found[:-KEEP]:
            if old.name not in keep:
                old.unlink(missing_ok=True)
