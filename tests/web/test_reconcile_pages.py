"""The back office records opt-outs (audited, IDs masked) and sees the data its department must correct."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from wugan.cases.db import session_scope
from wugan.cases.models import AccessLog, Alert, AuditLog, OptOut

from .factories import TODAY

pytestmark = pytest.mark.filterwarnings("error")


def test_a_reviewer_records_and_withdraws_an_opt_out(client_for, world):
    client = client_for("shenhe")
    person = world.ids["old_east"]
    page = client.post("/optouts", data={"person_id": person, "service": "old_age", "reason": "短信回复TD",
                                         "csrf_token": client.csrf})
    assert page.status_code == 200 and "已登记退订" in page.text
    assert person not in page.text and person[:6] in page.text, "listed with the ID masked"
    with session_scope(world.settings.case_store_url) as s:
        row = s.get(OptOut, (person, "old_age"))
        assert row is not None and row.recorded_by == "user:shenhe" and row.since == TODAY
        seen = s.scalars(select(AccessLog).where(AccessLog.path == "/optouts")).all()
        assert seen and seen[-1].actor == "user:shenhe" and seen[-1].fields == ["id_masked"]
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "opt_out_added")).all()
        assert len(audit) == 1 and audit[0].actor == "user:shenhe" and person not in str(audit[0].entity_id)
    key = re.search(r'action="/optouts/([0-9a-f]+)/remove"', page.text).group(1)
    again = client.post(f"/optouts/{key}/remove", data={"csrf_token": client.csrf})
    assert "已撤销退订" in again.text
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(OptOut, (person, "old_age")) is None
        assert s.scalars(select(AuditLog).where(AuditLog.action == "opt_out_removed")).one().actor == "user:shenhe"


def test_a_mistyped_id_is_refused_and_nothing_is_recorded(client_for, world):
    client = client_for("shenhe")
    wrong = world.ids["old_east"][:-1] + ("0" if world.ids["old_east"][-1] != "0" else "1")
    page = client.post("/optouts", data={"person_id": wrong, "service": "all", "csrf_token": client.csrf})
    assert "身份证号格式或校验位不正确" in page.text
    with session_scope(world.settings.case_store_url) as s:
        assert s.scalars(select(OptOut)).all() == []


@pytest.mark.parametrize("username", ["xly1", "fenxi"])
def test_only_the_back_office_records_opt_outs(client_for, world, username):
    client = client_for(username)
    assert client.get("/optouts").status_code == 403
    assert client.get("/quality").status_code == 403
    response = client.post("/optouts", data={"person_id": world.ids["old_east"], "service": "all",
                                             "csrf_token": client.csrf})
    assert response.status_code == 403
    with session_scope(world.settings.case_store_url) as s:
        assert s.scalars(select(OptOut)).all() == []


def test_an_opt_out_without_the_form_token_is_refused(client_for, world):
    client = client_for("shenhe")
    response = client.post("/optouts", data={"person_id": world.ids["old_east"], "service": "all"})
    assert response.status_code == 403
    with session_scope(world.settings.case_store_url) as s:
        assert s.scalars(select(OptOut)).all() == []


def test_each_department_sees_the_inputs_it_must_correct(client_for, world):
    with session_scope(world.settings.case_store_url) as s:
        for n, (department, table) in enumerate((("health", "births"), ("civil_affairs", "deaths"))):
            s.add(Alert(id=f"dq{n}", kind="data_quality", department=department, entity="file",
                        entity_id=f"{table}/{table}_2025-03-10.csv", message=f"{table}/{table}_2025-03-10.csv 第7行",
                        details={"table": table, "file": f"{table}/{table}_2025-03-10.csv", "line": 7,
                                 "field": "person_id", "reason": "bad_check_digit"},
                        created_on=TODAY - dt.timedelta(days=2), status="open"))
    page = client_for("shenhe").get("/quality")
    assert "deaths/deaths_2025-03-10.csv" in page.text and "births/" not in page.text
    assert "births/births_2025-03-10.csv" in client_for("admin").get("/quality").text
