"""Retention: closed cases lose their personal data after the period, audited, once; the rest stays.

On SQLite and PostgreSQL; the CLI and the DAG run the same function.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.factories import seed_hardship_case
from wugan.cases.db import migrate, session_scope
from wugan.cases.models import AuditLog, Case, Decision, Event, Item, Notice, Task, make_id
from wugan.cases.retention import PURGED_TEXT, purge_closed_cases
from wugan.cli.main import app as cli

DAY = dt.date(2028, 6, 1)
DAYS = 1095


def _everything(url: str) -> str:
    """Every row of the tables that can hold personal data, as text."""
    with session_scope(url) as s:
        rows = []
        for model in (Case, Event, Decision, Task, Item, Notice):
            for row in s.scalars(select(model)):
                rows.append({c.name: getattr(row, c.key) for c in model.__table__.columns})
    return json.dumps(rows, default=str, ensure_ascii=False)


def test_closed_cases_past_the_period_lose_their_personal_data_once(store_url):
    migrate(store_url)
    with session_scope(store_url) as s:
        old = seed_hardship_case(s, "old", status="closed", closed_days_ago=DAYS, day=DAY)  # exactly the period: purged
        recent = seed_hardship_case(s, "recent", status="closed", closed_days_ago=DAYS - 1, day=DAY)  # a day short: kept
        still_open = seed_hardship_case(s, "open", status="open", closed_days_ago=None, day=DAY)  # open: kept
    with session_scope(store_url) as s:
        report = purge_closed_cases(s, day=DAY, days=DAYS)
    assert report.cases == 1 and report.cutoff == DAY - dt.timedelta(days=DAYS)

    text = _everything(store_url)
    assert old not in text
    assert "本人 old 在家" not in text and "C-123456" in text  # the kept cases keep their results
    assert recent in text and still_open in text
    with session_scope(store_url) as s:
        case = s.scalars(select(Case).where(Case.purged_on.is_not(None))).one()
        assert (case.person_id, case.household_id, case.purged_on, case.status) == (None, None, DAY, "closed")
        event = s.get(Event, case.event_id)
        assert event.id == make_id("event", f"hardship|{old}")  # the id stays: the pipeline never re-opens it
        assert event.key == f"purged:{event.id}" and event.person_id is None and event.details == {}
        item = s.scalars(select(Item).where(Item.case_id == case.id)).one()
        assert (item.amount, item.status, item.result) == (1200.0, "done", None)  # payments still add up
        notice = s.scalars(select(Notice).where(Notice.event_id == event.id)).one()
        assert (notice.address, notice.body, notice.status) == (None, PURGED_TEXT, "sent")
        task = s.scalars(select(Task).where(Task.event_id == event.id)).one()
        assert (task.person_id, task.outcome_notes, task.outcome) == (None, None, "confirmed")
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "personal_data_purged")).all()
        assert [(a.entity, a.entity_id, a.actor) for a in audit] == [("case", case.id, "retention")]
        assert audit[0].after == {"purged_on": DAY.isoformat(), "retention_days": DAYS}

    with session_scope(store_url) as s:  # the same day again: nothing more, no second audit row
        assert purge_closed_cases(s, day=DAY, days=DAYS).cases == 0
    with session_scope(store_url) as s:  # a day later the next case is due
        assert purge_closed_cases(s, day=DAY + dt.timedelta(days=1), days=DAYS).cases == 1
        assert s.query(AuditLog).filter_by(action="personal_data_purged").count() == 2


def test_a_retention_period_must_be_positive(tmp_path):
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    migrate(url)
    with session_scope(url) as s, pytest.raises(ValueError):
        purge_closed_cases(s, day=DAY, days=0)


def test_the_cli_purges_with_the_configured_period(tmp_path, monkeypatch):
    home = tmp_path / "home"
    url = f"sqlite:///{(home / 'cases.db').resolve()}"
    home.mkdir()
    migrate(url)
    with session_scope(url) as s:
        old = seed_hardship_case(s, "old", status="closed", closed_days_ago=400, day=DAY)
    runner = CliRunner()
    monkeypatch.setenv("WUGAN_RETENTION_DAYS", "500")
    result = runner.invoke(cli, ["retention", "purge", "--day", DAY.isoformat(), "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert "0 case(s)" in result.output and old in _everything(url)
    result = runner.invoke(cli, ["retention", "purge", "--day", DAY.isoformat(), "--days", "365",
                                 "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert "1 case(s)" in result.output and old not in _everything(url)
