"""Search for the back office: a citizen calls, and the reviewer finds the person by name, ID or case number.

Only persons with something of the user's departments are found (a case with
their items, one of their decisions, or, for civil affairs, a visit), so
search cannot be used to look people up in the population registry. ID
numbers stay masked in the results; revealing one is a separate, logged act.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from wugan.cases.models import Case, Decision, Event, Task
from wugan.cases.users import User
from wugan.ids import is_valid
from wugan.settings import Settings
from wugan.web import lake
from wugan.web.queries.common import person_view, task_views
from wugan.web.queries.review import (
    case_views,
    cases_query,
    decision_scope,
    review_views,
    sees_visits,
)
from wugan.web.views import SearchHit, SearchView

__all__ = ["MAX_PERSONS", "search", "person_of"]

MAX_PERSONS = 50
_RECORD = re.compile(r"^[0-9a-f]{16}$")


def _kind(query: str) -> str:
    text = query.strip()
    if is_valid(text.upper()):
        return "id"
    if _RECORD.match(text.lower()):
        return "record"
    return "name"


def _person_ids(session: Session, settings: Settings, query: str, kind: str) -> list[str]:
    text = query.strip()
    if kind == "id":
        return [text.upper()]
    if kind == "record":
        key = text.lower()
        found = [*session.scalars(select(Case.person_id).where(Case.id == key)),
                 *session.scalars(select(Event.person_id).join(Decision, Decision.event_id == Event.id)
                                  .where(Decision.id == key)),
                 *session.scalars(select(Task.person_id).where(Task.id == key))]
        return [p for p in dict.fromkeys(found) if p]
    return lake.person_ids_named(settings, text)


def _visible(session: Session, *, user: User, settings: Settings, person_ids: list[str]) -> dict[str, dict]:
    """What the user may open about each person: case, decision and task rows, by person."""
    found: dict[str, dict] = defaultdict(lambda: {"cases": [], "decisions": [], "tasks": []})
    for start in range(0, len(person_ids), 500):
        chunk = person_ids[start:start + 500]
        for case in session.scalars(cases_query(user).where(Case.person_id.in_(chunk))
                                    .order_by(Case.opened_on.desc())):
            found[case.person_id or ""]["cases"].append(case)
        for decision, person_id in session.execute(
                select(Decision, Event.person_id).join(Event, Event.id == Decision.event_id)
                .where(Event.person_id.in_(chunk), decision_scope(user, settings),
                       or_(Decision.route.in_(("instant_approve", "bundle_case")), Decision.review.is_not(None)))
                .order_by(Decision.decided_on.desc())):
            found[person_id]["decisions"].append(decision)
        if sees_visits(user):
            for task in session.scalars(select(Task).where(Task.person_id.in_(chunk)).order_by(Task.created_on.desc())):
                found[task.person_id or ""]["tasks"].append(task)
    return found


def search(session: Session, *, user: User, settings: Settings, query: str, today: dt.date,
           reveal: str | None = None) -> SearchView:
    """Persons matching ``query`` with what the user may open about them; ``reveal`` (a person key from a
    previous result) shows that person's full ID number."""
    kind = _kind(query)
    person_ids = _person_ids(session, settings, query, kind) if query.strip() else []
    visible = _visible(session, user=user, settings=settings, person_ids=person_ids)
    matched = [p for p in person_ids if p in visible][:MAX_PERSONS]
    people = lake.persons(settings, matched)
    hits = []
    for pid in matched:
        rows = visible[pid]
        key = _key(rows)
        hits.append(SearchHit(
            person_key=key, person=person_view(people.get(pid), pid),
            cases=case_views(session, settings, rows["cases"][:5], user=user, today=today),
            decisions=review_views(session, settings, rows["decisions"][:5], user=user, today=today),
            tasks=task_views(session, settings, rows["tasks"][:5], today=today),
            revealed_id=pid if reveal is not None and reveal == key else None,
        ))
    return SearchView(query=query, kind=kind, hits=hits, total=len([p for p in person_ids if p in visible]))


def _key(rows: dict) -> str:
    """A handle for a person in results that names a row the user may see, never the ID number."""
    for kind in ("cases", "decisions", "tasks"):
        if rows[kind]:
            return f"{kind[:-1]}:{rows[kind][0].id}"
    raise ValueError("a person without visible rows is not a hit")


def person_of(session: Session, *, user: User, settings: Settings, key: str) -> tuple[str, str, str] | None:
    """The person behind a result's key, if the user may see the row it names: (person_id, entity, row id)."""
    kind, _, row_id = key.partition(":")
    if kind == "case":
        case = session.scalars(cases_query(user).where(Case.id == row_id)).first()
        return (case.person_id, "case", case.id) if case and case.person_id else None
    if kind == "decision":
        found = session.execute(select(Event.person_id).join(Decision, Decision.event_id == Event.id)
                                .where(Decision.id == row_id, decision_scope(user, settings))).first()
        return (found[0], "decision", row_id) if found and found[0] else None
    if kind == "task" and sees_visits(user):
        task = session.get(Task, row_id)
        return (task.person_id, "task", task.id) if task and task.person_id else None
    return None
