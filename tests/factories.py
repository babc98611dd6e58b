"""Factories shared by the tests: synthetic cities and case-store seeds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from wugan.cases.models import Case, Decision, Event, Item, Notice, Task, make_id
from wugan.ids import check_digit
from wugan.lake.contracts import CONTRACTS

START = dt.date(2025, 3, 1)


def synth_city(home: Path, *, persons: int, days: int, seed: int = 7, corrupt: float = 0.0) -> Path:
    from wugan.settings import get_settings
    from wugan.synth import generate

    settings = get_settings(home)
    generate(inbox=settings.inbox, truth=settings.truth, persons=persons, seed=seed, start=START, days=days,
             corrupt=corrupt)
    return home


def write_lake(home: Path, table: str, rows: list[dict]) -> None:
    """One delivery of ``table`` landed in the lake (typed rows, no CSV)."""
    from wugan.lake.ingest import land_frame
    from wugan.settings import get_settings

    contract = CONTRACTS[table]
    types = {"str": pl.String, "id": pl.String, "region": pl.String, "int": pl.Int64, "float": pl.Float64,
             "date": pl.Date, "bool": pl.Boolean}
    schema = {c.name: types[c.type] for c in contract.columns}
    frame = pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema, orient="row")
    land_frame(get_settings(home), table, frame, day=START, name=f"{table}_{START.isoformat()}.csv")


def _pid(serial: str) -> str:
    body = "37010219580317" + serial
    return body + check_digit(body)


def seed_hardship_case(session, name: str, *, status: str, closed_days_ago: int | None, day: dt.date) -> str:
    """A hardship case (``name``: old, recent or open) with its event, decision, task, item and notice, relative
    to ``day``; returns the person's ID number."""
    pid = _pid({"old": "201", "recent": "311", "open": "421"}[name])
    key = f"hardship|{pid}"
    event = Event(id=make_id("event", key), key=key, event_type="medical_hardship", person_id=pid, subject=pid,
                  village_code="370102001001", event_date=day - dt.timedelta(days=1500),
                  detected_on=day - dt.timedelta(days=1500), details={"household_id": f"H{pid[-6:]}", "oop_12m": 15800})
    session.add(event)
    session.flush()
    decision = Decision(id=make_id("decision", event.id), event_id=event.id, event_type="medical_hardship",
                        route="assistant_task", ruleset="medical_hardship", ruleset_version="v1", model_version=None,
                        score=0.9, explanation={"values": {"oop_12m": "15800", "birth_date": "1958-03-17"}},
                        decided_on=event.detected_on)
    closed_on = day - dt.timedelta(days=closed_days_ago) if closed_days_ago is not None else None
    case = Case(id=make_id("case", event.id), event_id=event.id, event_type="medical_hardship", title="残疾人救助一件事",
                person_id=pid, household_id=f"H{pid[-6:]}", village_code="370102001001", status=status,
                lead_department="civil_affairs", opened_on=event.detected_on, closed_on=closed_on)
    session.add_all([decision, case])
    session.flush()
    session.add_all([
        Task(id=make_id("task", event.id), event_id=event.id, decision_id=decision.id, kind="home_visit",
             person_id=pid, village_code="370102001001", reason="近12个月自付医疗费用超过规定比例", priority=0.9,
             created_on=event.detected_on, status="done", outcome="confirmed", outcome_notes=f"本人 {name} 在家",
             outcome_on=event.detected_on, case_id=case.id),
        Item(id=make_id("item", case.id, "assessment"), case_id=case.id, service="assessment", label="残疾评定",
             department="disabled_persons_federation", stage=1, status="done", depends_on=[], due_date=day,
             amount=1200.0, result={"certificate": "C-123456"}, done_on=closed_on),
        Notice(id=make_id("notice", event.id), event_id=event.id, person_id=pid, channel="sms",
               address="13800000000", template="medical_hardship_case_opened", body=f"赵桂兰您好 {pid[-4:]}",
               created_on=event.detected_on, status="sent"),
    ])
    return pid


def seed_tasks(session, tasks: list[dict], *, day: dt.date) -> None:
    """Visit tasks with their events: ``tasks`` give id, village, kind and any Task column to set."""
    for t in tasks:
        event_type = {"home_visit": "medical_hardship", "account_refund": "death",
                      "pension_claim": "retirement"}[t.get("kind", "home_visit")]
        person = t.get("person_id", f"P{t['id']}")
        session.add(Event(id=f"e{t['id']}", key=f"{event_type}:{t['id']}", event_type=event_type,
                          person_id=person, subject=person, village_code=t["village"],
                          event_date=t.get("event_date", day), detected_on=t.get("created_on", day),
                          details={"household_id": f"H{t['id']}"}))
    session.flush()
    for t in tasks:
        fields = {k: v for k, v in t.items() if k not in ("village", "event_date")}
        fields.setdefault("kind", "home_visit")
        fields.setdefault("created_on", day)
        fields.setdefault("probability", 0.5)
        fields.setdefault("priority", fields["probability"])
        session.add(Task(event_id=f"e{t['id']}", village_code=t["village"], reason="r", status="backlog",
                         person_id=fields.pop("person_id", f"P{t['id']}"), **fields))
    session.flush()


def assistants_frame(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    """(assistant_id, village_code, weekly_capacity) rows as the lake's assistants table gives them."""
    return pl.DataFrame(rows, schema={"assistant_id": pl.String, "village_code": pl.String,
                                      "weekly_capacity": pl.Int64}, orient="row")
