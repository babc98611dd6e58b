"""Bulk insert-or-ignore of a polars frame into a case-store table.

Values are converted column by column in polars (dates, JSON, booleans, as
each database stores them) and handed to the driver's ``executemany``: the
ORM's per-row work is what made acting slow, not the database.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import JSON, Boolean, Date, DateTime, Table
from sqlalchemy.orm import Session

__all__ = ["insert_frame", "insert_ignore"]

CHUNK = 20_000


def _json(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Struct):
        return column.struct.json_encode()
    if isinstance(dtype, pl.List):
        return pl.struct(v=column).struct.json_encode().str.slice(5).str.head(-1)
    if dtype == pl.Null:
        return column.cast(pl.String)
    return column


def _prepared(frame: pl.DataFrame, table: Table, dialect: str) -> pl.DataFrame:
    exprs = []
    for name in frame.columns:
        kind, dtype, column = table.c[name].type, frame.schema[name], pl.col(name)
        if isinstance(kind, JSON):
            column = _json(column, dtype)
        elif dialect == "sqlite" and isinstance(kind, DateTime):
            column = column.dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
        elif dialect == "sqlite" and isinstance(kind, Date):
            column = column.cast(pl.Date).dt.strftime("%Y-%m-%d")
        elif dialect == "sqlite" and isinstance(kind, Boolean):
            column = column.cast(pl.Int8)
        exprs.append(column.alias(name))
    return frame.select(exprs)


def insert_frame(session: Session, table: Table, frame: pl.DataFrame) -> None:
    """Insert the frame's rows, leaving alone any row whose primary or unique key exists."""
    if frame.is_empty():
        return
    connection = session.connection()
    dialect = connection.dialect.name
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    if dialect == "sqlite":
        marks = ", ".join("?" for _ in frame.columns)
        sql = f'INSERT OR IGNORE INTO "{table.name}" ({columns}) VALUES ({marks})'
    elif dialect == "postgresql":
        marks = ", ".join("%s" for _ in frame.columns)
        sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks}) ON CONFLICT DO NOTHING'
    else:
        raise NotImplementedError(f"case store on {dialect} is not supported")
    # Primary-key order keeps B-tree inserts local; ids are hashes, so arrival order is random.
    prepared = _prepared(frame.sort(table.primary_key.columns.keys()[0]) if table.primary_key.columns.keys()[0] in frame.columns else frame, table, dialect)
    for start in range(0, prepared.height, CHUNK):
        connection.exec_driver_sql(sql, prepared.slice(start, CHUNK).rows())


def insert_ignore(session: Session, table: Table, rows: list[dict]) -> None:
    """``insert_frame`` for a few rows built as dicts."""
    if rows:
        insert_frame(session, table, pl.DataFrame(rows, infer_schema_length=None))
