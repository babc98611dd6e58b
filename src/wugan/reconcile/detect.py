"""Desired state of one event type for one scope, split into what the case store lacks and what it holds.

Reads the lake through one manifest, so the batches it records as processed
are exactly the ones its views showed. Writes ``events.parquet`` (rows with
``existing`` false are new events, true are events the store holds of
persons whose data changed, to be re-examined) and ``detect.json`` (the
batches covered), which ``act`` uses to move the offset in the same
transaction as the events.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import select

from wugan import lake
from wugan.cases.db import session_scope
from wugan.cases.models import Event, OptOut
from wugan.events import DATE_TRIGGERED, Scope, desired
from wugan.lake.ingest import write_parquet
from wugan.reconcile.changes import pending, read_offset, touched
from wugan.settings import Settings

__all__ = ["Detected", "detect", "read_detected"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Detected:
    event_type: str
    scope: str
    offset: int
    until: int
    events: Path

    @property
    def meta(self) -> Path:
        return self.events.with_name("detect.json")


def _store(url: str, event_type: str, county: str | None) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Keys of this type the store holds (in the county), its opt-outs, and the scope's offset."""
    with session_scope(url) as session:
        query = select(Event.key).where(Event.event_type == event_type)
        if county is not None:
            query = query.where(Event.village_code.startswith(county))
        keys = session.scalars(query).all()
        opt_outs = session.execute(select(OptOut.person_id, OptOut.service)).all()
        offset = read_offset(session, detector=event_type, scope=county or "all")
    return (pl.DataFrame({"key": keys}, schema={"key": pl.String}),
            pl.DataFrame(opt_outs, schema={"person_id": pl.String, "service": pl.String}, orient="row"),
            offset)


def detect(settings: Settings, *, url: str, event_type: str, day: dt.date, county: str | None,
           folder: Path) -> Detected:
    scope_name = county or "all"
    existing, opt_outs, offset = _store(url, event_type, county)
    changes = pending(settings.lake, offset, day)
    out = Detected(event_type, scope_name, offset, changes.until, folder / "events.parquet")
    if changes.empty and event_type not in DATE_TRIGGERED:
        frame = pl.DataFrame()
    else:
        con = lake.connect(settings, changes.found)
        con.register("opt_outs", opt_outs.to_arrow())
        con.register("existing", existing.to_arrow())
        if not changes.first_run:
            touched(con, settings.lake, changes)
        days = changes.found["day"].drop_nulls()
        scope = Scope(today=day, first_day=days.min() if days.len() else day, everyone=changes.first_run,
                      county=county)
        frame = desired(con, event_type, scope, rules_dir=settings.rules_dir)
        frame = frame.with_columns(existing=pl.col("key").is_in(existing["key"].implode())).filter(
            pl.col("due") | pl.col("existing"))
    write_parquet(frame, out.events)
    out.meta.write_text(json.dumps({"event_type": event_type, "scope": scope_name, "offset": offset,
                                    "until": changes.until}))
    log.info("%s in %s: batches (%d, %d], %d new, %d re-examined", event_type, scope_name, offset,
             changes.until, frame.height and frame.filter(~pl.col("existing")).height,
             frame.height and frame.filter(pl.col("existing")).height)
    return out


def read_detected(events: Path) -> Detected:
    meta = json.loads(events.with_name("detect.json").read_text())
    return Detected(meta["event_type"], meta["scope"], meta["offset"], meta["until"], events)
