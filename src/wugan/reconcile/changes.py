"""The lake's batches a reconciler has not processed yet, and the persons they touch.

A reconciler keeps an offset (the last batch it processed) per scope in the
case store. The batches after it are the files landed since, whatever day
their names carry; a corrected re-delivery also brings back the version it
replaced, because a row it no longer holds changes a person as much as a new
one. A pass on a day takes the pending batches up to the first one dated
after that day: a rerun of an earlier day never consumes what a later day's
run landed, so that day's run still finds it (and the views show the lake as
of the batches taken).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from wugan.cases.models import Offset
from wugan.lake.ledger import manifest

__all__ = ["Changes", "pending", "touched", "read_offset", "last_pass", "set_offset", "PERSON_COLUMNS"]

# The column of each table that names the person a row is about; a region names all its residents.
PERSON_COLUMNS: dict[str, str | None] = {
    "persons": "person_id", "contributions": "person_id", "pensions": "person_id", "claims": "person_id",
    "disability_registry": "person_id", "benefits": "person_id", "births": "mother_id", "deaths": "person_id",
    "regions": None, "assistants": None,
}


@dataclass(frozen=True)
class Changes:
    """Batches ``(offset, until]`` of the manifest ``found``; ``offset`` 0 is a first run (everything)."""

    offset: int
    until: int
    found: pl.DataFrame

    @property
    def first_run(self) -> bool:
        return self.offset == 0

    @property
    def empty(self) -> bool:
        return self.until <= self.offset

    def versions(self) -> pl.DataFrame:
        """Versions landed after the offset, and those they replaced."""
        return self.found.filter(
            ((pl.col("batch") > self.offset) | (pl.col("replaced_by") > self.offset)) & pl.col("data").is_not_null())


def pending(lake_root: Path, offset: int, day: dt.date) -> Changes:
    """The batches after ``offset`` a pass on ``day`` takes, and the manifest as of the last of them."""
    found = manifest(lake_root)
    later = found.filter((pl.col("batch") > offset) & pl.col("day").is_not_null() & (pl.col("day") > day))
    stop = int(later["batch"].min()) if later.height else None
    if stop is not None:
        found = found.filter(pl.col("batch") < stop).with_columns(
            current=pl.col("current") | (pl.col("replaced_by") >= stop),
            replaced_by=pl.when(pl.col("replaced_by") < stop).then("replaced_by"))
    until = max(int(found["batch"].max()) if found.height else 0, offset)
    return Changes(offset=offset, until=until, found=found)


def touched(con: duckdb.DuckDBPyConnection, lake_root: Path, changes: Changes) -> int:
    """Register ``touched(person_id)``: every person a pending version is about; returns how many."""
    parts = []
    versions = changes.versions()
    for table, column in PERSON_COLUMNS.items():
        files = [str((lake_root / f).resolve()) for f in versions.filter(pl.col("table") == table)["data"]]
        if not files:
            continue
        listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
        if column is not None:
            parts.append(f"SELECT {column} AS person_id FROM read_parquet({listed}) WHERE {column} IS NOT NULL")
        elif table == "regions":
            parts.append(f"""SELECT p.person_id FROM persons p
                             JOIN read_parquet({listed}) g ON starts_with(p.hukou_village, g.region_code)""")
    sql = " UNION ".join(parts) if parts else "SELECT CAST(NULL AS VARCHAR) AS person_id WHERE false"
    con.execute(f"CREATE OR REPLACE TEMP TABLE touched AS {sql}")
    return con.execute("SELECT count(*) FROM touched").fetchall()[0][0]


def read_offset(session: Session, *, detector: str, scope: str) -> int:
    return session.scalar(select(Offset.batch).where(Offset.detector == detector, Offset.scope == scope)) or 0


def last_pass(session: Session, *, detector: str, scope: str) -> dt.date | None:
    return session.scalar(select(Offset.day).where(Offset.detector == detector, Offset.scope == scope))


def set_offset(session: Session, *, detector: str, scope: str, batch: int, day: dt.date) -> None:
    """Move a reconciler's offset and day forward (never back: a rerun of an old day leaves them)."""
    mark = session.get(Offset, (detector, scope))
    if mark is None:
        session.add(Offset(detector=detector, scope=scope, batch=batch, day=day))
        return
    mark.batch = max(mark.batch, batch)
    mark.day = max(mark.day or day, day)
