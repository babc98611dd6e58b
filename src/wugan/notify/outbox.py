"""Fill the outbox: a notice for every acted decision (and every case opened after a visit) that has none.

A correction or reversal the reconciler decided is told too, listing the
items it made (``correction``, ``reversal`` or ``<event>_reversal``: a
death tells the family what stops and what is to be returned).

Rendering is its own step, after ``act`` and before the drain, so acting
stays a bulk write and rendering can be rerun at will: a notice's id comes
from its event and template, and one that exists is never rendered again.
Held or rejected decisions get none; a released one gets its notice then.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from sqlalchemy import exists, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from wugan import lake
from wugan.cases.bulk import insert_frame
from wugan.cases.bundles import load_bundles
from wugan.cases.models import FOLLOW_UPS, ROUTES, Case, Decision, Event, Item, Notice, make_id
from wugan.notify.render import notice_id, render_notices, template_exists

__all__ = ["render_outbox"]

LOOKBACK_DAYS = 30
EVENT_COLUMNS = (Event.id, Event.event_type, Event.person_id, Event.subject, Event.event_date, Event.details)


def _unnoticed(route) -> Any:
    """The event has no notice of its ``<event>_<route>`` template yet: a day's run reads what it must
    render, not the month's decisions."""
    return ~exists().where(Notice.event_id == Event.id, Notice.template == Event.event_type + "_" + route)


def _rows(session: Session, *, day: dt.date, decision_ids: list[str] | None, rules_dir) -> list[dict[str, Any]]:
    since = day - dt.timedelta(days=LOOKBACK_DAYS)
    bundles = load_bundles(rules_dir)
    pairs = [(e, r) for e in bundles for r in ROUTES if template_exists(f"{e}_{r}")]
    query = (
        select(*EVENT_COLUMNS, Decision.route)
        .join(Decision, Decision.event_id == Event.id)
        .where(or_(Decision.review.is_(None), Decision.review.not_in(["held", "rejected"])))
        .where(tuple_(Event.event_type, Decision.route).in_(pairs))
        .where(_unnoticed(Decision.route))
    )
    query = query.where(Decision.id.in_(decision_ids)) if decision_ids is not None else query.where(
        Decision.decided_on > since, Decision.decided_on <= day)
    rows = session.execute(query).all()
    follow_ups = [(e, r) for e in bundles for r in FOLLOW_UPS]
    rows += session.execute(
        select(*EVENT_COLUMNS, Decision.route, Decision.id.label("decision_id"))
        .join(Decision, Decision.event_id == Event.id)
        .where(tuple_(Event.event_type, Decision.route).in_(follow_ups))
        .where(Decision.id.in_(decision_ids) if decision_ids is not None
               else (Decision.decided_on > since) & (Decision.decided_on <= day))
    ).all()
    visit_bundles = [e for e, b in bundles.items() if b.opens_on == "visit_confirmed"
                     and template_exists(f"{e}_case_opened")]
    if decision_ids is None and visit_bundles:
        rows += session.execute(
            select(*EVENT_COLUMNS, Case.status.label("route")).join(Case, Case.event_id == Event.id)
            .where(Event.event_type.in_(visit_bundles), Case.opened_on > since, Case.opened_on <= day)
            .where(_unnoticed(literal("case_opened")))
        ).all()
    opened = set(visit_bundles) if decision_ids is None else set()
    return [{**(r.details or {}), "id": r.id, "event_type": r.event_type, "person_id": r.person_id,
             "subject": r.subject, "event_date": r.event_date,
             "route": "case_opened" if r.event_type in opened else r.route,
             "decision_id": getattr(r, "decision_id", None)} for r in rows]


ITEM_SCHEMA = {"case_id": pl.String, "stage": pl.Int64, "service": pl.String, "label": pl.String,
               "department": pl.String, "status": pl.String, "amount": pl.Float64, "due_date": pl.Date,
               "period": pl.String, "starts_on": pl.Date, "decision_id": pl.String}
ITEM_COLUMNS = (Item.case_id, Item.stage, Item.service, Item.label, Item.department, Item.status, Item.amount,
                Item.due_date, Item.period, Item.starts_on, Item.decision_id)


def _items(session: Session, event_ids: list[str]) -> pl.DataFrame:
    """The items in force of the events' cases (a superseded version is not what the citizen gets)."""
    case_ids = [make_id("case", e) for e in event_ids]
    items = session.execute(select(*ITEM_COLUMNS).where(Item.case_id.in_(case_ids), Item.superseded_by.is_(None),
                                                        Item.reverses.is_(None))).all()
    return pl.DataFrame(items, schema=ITEM_SCHEMA, orient="row")


def _decided_items(session: Session, decision_ids: list[str]) -> pl.DataFrame:
    """The items a follow-up decision made, whichever case they are in."""
    items = session.execute(select(*ITEM_COLUMNS).where(Item.decision_id.in_(decision_ids))).all()
    return pl.DataFrame(items, schema=ITEM_SCHEMA, orient="row")


def render_outbox(session: Session, *, settings, day: dt.date, decision_ids: list[str] | None = None) -> int:
    """Render the missing notices of the last 30 days (or of ``decision_ids``); returns how many."""
    rows = _rows(session, day=day, decision_ids=decision_ids, rules_dir=settings.rules_dir)
    if not rows:
        return 0
    wanted = {notice_id(r): r for r in rows}
    existing = set(session.scalars(select(Notice.id).where(Notice.id.in_(list(wanted)))))
    rows = [r for notice_id, r in wanted.items() if notice_id not in existing]
    if not rows:
        return 0
    frame = pl.DataFrame(rows, infer_schema_length=None)
    people = lake.people(settings, [x for c in ("person_id", "next_of_kin_id") if c in frame.columns
                                    for x in frame[c].drop_nulls().to_list()])
    bundles = load_bundles(settings.rules_dir)
    written = 0
    for (event_type, follow_up), group in frame.group_by("event_type", pl.col("route").is_in(FOLLOW_UPS)):
        items = (_decided_items(session, group["decision_id"].to_list()) if follow_up
                 else _items(session, group["id"].to_list()))
        notices = render_notices(group, items, people=people, bundle=bundles[event_type],
                                 rules_dir=settings.rules_dir, day=day)
        insert_frame(session, Notice.__table__, notices)
        written += notices.height
    return written
