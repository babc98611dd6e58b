"""Data-quality items: a quarantined row or refused file that could hold an entitlement, for its sender.

A birth or death record that failed its contract is a service nobody will
get until the department corrects it, so each becomes an open alert (kind
``data_quality``) for the delivering department, with file, line, field and
reason, listed for the back office. A corrected re-delivery replaces the
file's quarantine, which closes the item; the entitlement then follows on
the reconciler's next pass. Ids come from file, line and field, so a rerun
adds nothing.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wugan.cases.bulk import insert_frame
from wugan.cases.models import Alert, AuditLog, make_id
from wugan.lake.contracts import REASONS

__all__ = ["SOURCES", "KIND", "sync_quality_items"]

KIND = "data_quality"
# Feeds whose every row is someone's entitlement, and the department that delivers each.
SOURCES = {"births": "health", "deaths": "civil_affairs"}


def _label(reason: str) -> str:
    return REASONS.get(reason, reason).split(" (")[0]


def sync_quality_items(session: Session, *, con: duckdb.DuckDBPyConnection, day: dt.date,
                       delivered: set[str]) -> tuple[int, int]:
    """Open an item per quarantined entitlement row, close those a re-delivery fixed: (opened, closed).

    ``delivered`` names the files delivered by ``day``; only their items can be opened or closed, so a
    rerun of an earlier day leaves a later file's items as they are.
    """
    tables = ", ".join(f"'{t}'" for t in SOURCES)
    rows = con.sql(f"""SELECT "table", file, line, field, value, reason FROM quarantine
                       WHERE "table" IN ({tables}) AND _delivered <= DATE '{day.isoformat()}'""").pl()
    current = rows.with_columns(id=pl.struct("file", "line", "field").map_elements(
        lambda r: make_id(KIND, r["file"], r["line"], r["field"]), return_dtype=pl.String))
    known = {i: (status, file) for i, status, file in session.execute(
        select(Alert.id, Alert.status, Alert.entity_id).where(Alert.kind == KIND)).all()}
    fresh = current.filter(~pl.col("id").is_in(list(known)))
    if not fresh.is_empty():
        where = pl.when(pl.col("line").is_null()).then(pl.lit("整个文件被拒收")).otherwise(
            pl.lit("第") + pl.col("line").cast(pl.String) + pl.lit("行"))
        insert_frame(session, Alert.__table__, fresh.select(
            "id", kind=pl.lit(KIND), department=pl.col("table").replace_strict(SOURCES),
            ruleset=pl.lit(None, pl.String), entity=pl.lit("file"), entity_id="file",
            message=pl.col("file") + " " + where + "，" + pl.col("field") + "："
            + pl.col("reason").map_elements(_label, return_dtype=pl.String)
            + "。此记录可能涉及群众应享待遇，请更正后重新报送，系统将自动补办。",
            details=pl.struct("table", "file", "line", "field", "value", "reason"),
            created_on=pl.lit(day), status=pl.lit("open")))
    now = set(current["id"])
    fixed = [i for i, (status, file) in known.items() if status == "open" and file in delivered and i not in now]
    if fixed:
        session.execute(update(Alert).where(Alert.id.in_(fixed)).values(status="closed"))
        at = dt.datetime.combine(day, dt.time())
        session.execute(AuditLog.__table__.insert(), [
            {"at": at, "actor": "pipeline", "action": "data_quality_fixed", "entity": "alert", "entity_id": i,
             "before": {"status": "open"}, "after": {"status": "closed", "reason": "corrected re-delivery"}}
            for i in fixed])
    return fresh.height, len(fixed)
