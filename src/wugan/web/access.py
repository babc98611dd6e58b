"""The access log (PIPL art. 28): every page or API response that shows a person, who saw it, when.

Routes hand what they are about to show to ``record_access``; it finds the
views that carry a person (tasks, cases, decisions under review, items) and
writes one row per kind of row shown, naming the rows by their opaque ids and
the kinds of data revealed: name and masked ID, phone, address, medical
details (the hardship route's spending and diagnoses).

A page (GET) writes its rows in a transaction of its own: on SQLite the
request's read snapshot may be older than another request's commit (the
phone's service worker fetches task pages while she opens one), and SQLite
refuses to turn such a snapshot into a write rather than wait.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from fastapi import Request
from pydantic import BaseModel
from sqlalchemy.orm import Session

from wugan.cases.db import session_scope
from wugan.cases.models import AccessLog
from wugan.cases.users import User
from wugan.web.routes.common import actor, now
from wugan.web.views import CaseView, ItemView, Page, PersonView, ReviewView, TaskView

__all__ = ["record_access", "write_log"]

MEDICAL_EVENTS = {"medical_hardship"}
_ENTITY = ((TaskView, "task"), (CaseView, "case"), (ReviewView, "decision"), (ItemView, "item"))


def _fields(person: PersonView, event_type: str | None) -> set[str]:
    shown = {"name", "id_masked"}
    if person.phone:
        shown.add("phone")
    if person.address:
        shown.add("address")
    if event_type in MEDICAL_EVENTS:
        shown.add("medical")
    return shown


def _walk(view: object, found: dict[str, tuple[list[str], set[str]]]) -> None:
    if isinstance(view, list | tuple):
        for v in view:
            _walk(v, found)
        return
    if isinstance(view, Page):
        _walk(view.rows, found)
        return
    if not isinstance(view, BaseModel):
        return
    entity = next((name for kind, name in _ENTITY if isinstance(view, kind)), None)
    person = getattr(view, "person", None)
    if entity and isinstance(person, PersonView):
        ids, fields = found[entity]
        if view.id not in ids:
            ids.append(view.id)
        fields |= _fields(person, getattr(view, "event_type", None))
    for nested in ("items",):  # a case's or a decision's items carry no person of their own
        if isinstance(getattr(view, nested, None), list):
            _walk(getattr(view, nested), found)


def record_access(request: Request, db: Session, user: User, shown: object | Iterable[object]) -> None:
    """Log the persons in ``shown`` as seen by ``user`` through this request's route; commits."""
    found: dict[str, tuple[list[str], set[str]]] = defaultdict(lambda: ([], set()))
    _walk(shown, found)
    if not found:
        return
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    channel = "api" if path.startswith("/api") else "page"
    write_log(request, db, [AccessLog(at=now(request), actor=actor(user), channel=channel, path=path, entity=entity,
                                      entity_ids=ids, fields=sorted(fields)) for entity, (ids, fields) in found.items()])


def write_log(request: Request, db: Session, rows: list[AccessLog]) -> None:
    """Store access-log rows: with the request's own changes, or for a page, in a short transaction of their own."""
    if request.method in ("GET", "HEAD"):
        with session_scope(request.app.state.settings.case_store_url) as own:
            own.add_all(rows)
        return
    db.add_all(rows)
    db.commit()
