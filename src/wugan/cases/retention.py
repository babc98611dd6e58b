"""Retention: closed cases keep personal data for ``retention_days``, then lose it (PIPL art. 19 and 47).

What goes: the person's ID number, household and name-bearing text on the
case, its event (the idempotency key holds the ID number: it becomes
``purged:<event id>``; the event id, a hash of the old key, stays, so the
pipeline still never opens the case again), the decision's explanation
values, the visit notes and the item results, the notices' addresses and
bodies. What stays: routes, rule versions, dates, amounts, statuses and
villages, so volumes, payments and workloads still add up. Each purged case
gets one audit row; a rerun on the same day purges nothing more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wugan.cases.db import session_scope
from wugan.cases.models import AuditLog, Case, Decision, Event, Item, Notice, ShadowDecision, Task
from wugan.settings import Settings

__all__ = ["PurgeReport", "purge_closed_cases", "purge_personal_data", "PURGED_TEXT"]

PURGED_TEXT = "（已按保存期限删除）"
CHUNK = 500


@dataclass(frozen=True)
class PurgeReport:
    cutoff: dt.date
    cases: int


def purge_closed_cases(session: Session, *, day: dt.date, days: int, actor: str = "retention") -> PurgeReport:
    """Remove the personal data of cases closed on or before ``day - days`` and not purged yet."""
    if days < 1:
        raise ValueError("a retention period is at least one day")
    cutoff = day - dt.timedelta(days=days)
    due = session.execute(
        select(Case.id, Case.event_id, Case.closed_on)
        .where(Case.status == "closed", Case.closed_on <= cutoff, Case.purged_on.is_(None))
        .order_by(Case.id)
    ).all()
    at = dt.datetime.combine(day, dt.time())
    for start in range(0, len(due), CHUNK):
        chunk = due[start : start + CHUNK]
        case_ids = [c.id for c in chunk]
        event_ids = [c.event_id for c in chunk]
        session.execute(update(Case).where(Case.id.in_(case_ids))
                        .values(person_id=None, household_id=None, purged_on=day))
        for event_id in event_ids:  # the key is unique: each event gets its own
            session.execute(update(Event).where(Event.id == event_id)
                            .values(key=f"purged:{event_id}", person_id=None, subject="purged", details={}))
        session.execute(update(Decision).where(Decision.event_id.in_(event_ids))
                        .values(explanation={"purged_on": day.isoformat()}))
        session.execute(update(ShadowDecision).where(ShadowDecision.event_id.in_(event_ids))
                        .values(explanation={"purged_on": day.isoformat()}))
        session.execute(update(Task).where(Task.event_id.in_(event_ids))
                        .values(person_id=None, outcome_notes=None))
        session.execute(update(Item).where(Item.case_id.in_(case_ids)).values(result=None))
        session.execute(update(Notice).where(Notice.event_id.in_(event_ids))
                        .values(person_id=None, address=None, body=PURGED_TEXT))
        session.add_all(
            AuditLog(at=at, actor=actor, action="personal_data_purged", entity="case", entity_id=c.id,
                     before={"closed_on": c.closed_on.isoformat()},
                     after={"purged_on": day.isoformat(), "retention_days": days})
            for c in chunk
        )
        session.flush()
    return PurgeReport(cutoff=cutoff, cases=len(due))


def purge_personal_data(settings: Settings, *, day: dt.date) -> PurgeReport:
    """The retention job for a day, at the configured period (``WUGAN_RETENTION_DAYS``)."""
    with session_scope(settings.case_store_url) as session:
        return purge_closed_cases(session, day=day, days=settings.retention_days)
