"""The lake's side of reversals: who has died, and what the departments' extracts still pay them.

Examines the dead among the persons touched by batches after the reversal
offset, and among the persons decided on in the last week: another event's
run may have acted on an approval, or the death event itself, after this
pass saw the death record.
The store's side is ``cases.reversals``.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import select

from wugan import lake
from wugan.cases.db import session_scope
from wugan.cases.models import Decision, Event
from wugan.cases.reversals import ReversalReport, reverse_deaths
from wugan.events.scope import Scope
from wugan.reconcile.changes import pending, read_offset, set_offset, touched
from wugan.settings import Settings

__all__ = ["reverse", "DETECTOR", "RECENT_DAYS"]

DETECTOR = "reversal"
RECENT_DAYS = 7


def reverse(settings: Settings, *, url: str, day: dt.date, county: str | None = None) -> ReversalReport:
    scope_name = county or "all"
    with session_scope(url) as session:
        offset = read_offset(session, detector=DETECTOR, scope=scope_name)
        recent = session.scalars(select(Event.person_id).join(Decision, Decision.event_id == Event.id).where(
            Decision.decided_on >= day - dt.timedelta(days=RECENT_DAYS))).all()
    changes = pending(settings.lake, offset, day)
    con = lake.connect(settings, changes.found)
    scope = Scope(today=day, first_day=day, everyone=changes.first_run, county=county)
    if not changes.first_run:
        touched(con, settings.lake, changes)
    con.register("recent", pl.DataFrame({"person_id": recent}, schema={"person_id": pl.String}).to_arrow())
    dead = con.sql(f"""
        SELECT d.person_id, min(d.death_date) AS death_date FROM deaths d
        LEFT JOIN persons p ON p.person_id = d.person_id
        WHERE {scope.in_county("p.hukou_village")}
          AND ({scope.touched("d.person_id")} OR d.person_id IN (SELECT person_id FROM recent))
        GROUP BY d.person_id
    """).pl()
    con.register("dead", dead.to_arrow())
    benefits = con.sql("SELECT * FROM benefits WHERE person_id IN (SELECT person_id FROM dead)").pl()
    pensions = con.sql("SELECT * FROM pensions WHERE person_id IN (SELECT person_id FROM dead)").pl()
    with session_scope(url) as session:
        report = reverse_deaths(session, dead=dead, benefits=benefits, pensions=pensions, day=day,
                                rules_dir=settings.rules_dir)
        set_offset(session, detector=DETECTOR, scope=scope_name, batch=changes.until, day=day)
    return report
