"""The API shows no more than the pages; free text is masked; every reveal of personal data is in the access log.

- phones: a full phone number in an API response must appear on the page that
  shows the same data to the same user (only the assistant's task page does);
- free text typed by staff (visit notes, revocation and rejection reasons)
  never carries a full ID number to a notice, a page or the API;
- every response that shows a person (name with masked ID, phone, medical
  details) writes a row to the append-only access log (PIPL art. 28).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute

from wugan.cases.db import engine_for, migrate, session_scope
from wugan.cases.models import Notice, Task
from wugan.settings import Settings
from wugan.web.app import create_app

from .conftest import TestClient, fixed_clock, login
from .factories import SECRET

pytestmark = pytest.mark.filterwarnings("error")

PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
FULL_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
MASKED_ID = re.compile(r"[0-9]{6}\*{6,}[0-9]{3}[0-9Xx]")

# each API read and the page that shows the same data, per user
TWINS = [
    ("xly1", "/api/tasks", "/tasks"),
    ("xly1", "/api/tasks/{t_east}", "/tasks/{t_east}"),
    ("shenhe", "/api/reviews", "/review"),
    ("shenhe", "/api/cases", "/cases"),
    ("shenhe", "/api/cases?status=closed", "/cases?status=closed"),
    ("shenhe", "/api/cases/{death}", "/cases/{death}"),
    ("shenhe", "/api/items", "/work"),
    ("shenhe", "/api/overdue", "/overdue"),
    ("gongan", "/api/items", "/work"),
    ("admin", "/api/overdue", "/overdue"),
    ("admin", "/api/tasks/{t_west}", "/tasks/{t_west}"),
]


def _ids(world) -> dict[str, str]:
    return {"t_east": world.tasks["t_east"], "t_west": world.tasks["t_west"], "death": world.cases["death"]}


@pytest.mark.parametrize(("username", "api", "page"), TWINS, ids=[f"{u}:{a}" for u, a, _ in TWINS])
def test_the_api_shows_no_phone_the_page_does_not(client_for, world, username, api, page):
    client = client_for(username)
    ids = _ids(world)
    data = client.get(api.format(**ids))
    html = client.get(page.format(**ids))
    assert data.status_code == html.status_code == 200
    extra = set(PHONE.findall(data.text)) - set(PHONE.findall(html.text))
    assert not extra, f"{api} shows phone numbers {extra} that {page} does not"


def test_the_assistant_still_gets_the_number_to_call(client_for, world):
    client = client_for("xly1")
    task = client.get(f"/api/tasks/{world.tasks['t_east']}").json()
    assert task["person"]["phone"] == "13800000000"
    assert "tel:13800000000" in client.get(f"/tasks/{world.tasks['t_east']}").text
    listed = client.get("/api/tasks").json()["open"]
    assert listed and all(t["person"]["phone"] in (None, "138****0000") for t in listed)


# ---------------------------------------------------------------- 5. free text


def _someone_else(world) -> str:
    return world.ids["sick_west"]


@pytest.mark.parametrize("written", ["{pid}", "{pid_spaced}", "{pid_lower}"])
def test_an_id_number_in_visit_notes_is_masked_on_the_page_and_the_api(client_for, world, written):
    pid = _someone_else(world)
    text = written.format(pid=pid, pid_spaced=f"{pid[:6]} {pid[6:14]} {pid[14:]}", pid_lower=pid.lower())
    client = client_for("xly1")
    task = world.tasks["t_east"]
    response = client.post(f"/tasks/{task}/visit", data={"outcome": "unreachable", "notes": f"邻居说 {text} 是其亲属",
                                                         "csrf_token": client.csrf}, follow_redirects=False)
    assert response.status_code == 303
    for path in (f"/tasks/{task}", f"/api/tasks/{task}", "/tasks", "/api/tasks"):
        body = client.get(path).text
        assert pid not in body and pid[6:14] not in body, path
    assert "邻居说" in client.get(f"/api/tasks/{task}").json()["outcome_notes"]
    with session_scope(world.settings.case_store_url) as s:
        assert pid not in (s.get(Task, task).outcome_notes or "")


def test_an_id_number_in_visit_notes_sent_to_the_api_is_masked(client_for, world):
    pid = _someone_else(world)
    client = client_for("xly1")
    task = world.tasks["t_east"]
    response = client.post(f"/api/tasks/{task}/visit", json={"outcome": "unreachable", "notes": f"见 {pid}"},
                           headers={"X-CSRF-Token": client.csrf})
    assert response.status_code == 200
    assert pid not in response.text and pid[:6] in response.json()["task"]["outcome_notes"]


@pytest.mark.parametrize("channel", ["page", "api"])
def test_an_id_number_in_a_revocation_reason_never_reaches_the_citizens_notice(client_for, world, channel):
    pid = _someone_else(world)
    reason = f"与 {pid} 重复发放"
    client = client_for("shenhe")
    decision = world.decisions["old_age"]
    if channel == "page":
        response = client.post(f"/review/{decision}", data={"verdict": "revoked", "reason": reason,
                                                            "csrf_token": client.csrf}, follow_redirects=False)
        assert response.status_code == 303
    else:
        response = client.post(f"/api/reviews/{decision}", json={"verdict": "revoked", "reason": reason},
                               headers={"X-CSRF-Token": client.csrf})
        assert response.status_code == 200 and pid not in response.text
    with session_scope(world.settings.case_store_url) as s:
        bodies = [n.body for n in s.query(Notice)]
    assert bodies and any("重复发放" in b for b in bodies)
    assert not any(pid in b for b in bodies)
    for path in ("/review", "/cases?status=closed", "/api/cases?status=closed"):
        assert pid not in client.get(path).text, path


def test_an_id_number_in_a_rejection_reason_is_masked(client_for, world):
    pid = _someone_else(world)
    client = client_for("gongan")
    item = world.items["cancel_hukou"]
    response = client.post(f"/api/items/{item}", json={"action": "reject", "reason": f"户主 {pid} 未到场"},
                           headers={"X-CSRF-Token": client.csrf})
    assert response.status_code == 200 and pid not in response.text
    for path in (f"/cases/{world.cases['death']}", f"/api/cases/{world.cases['death']}"):
        assert pid not in client.get(path).text


# ---------------------------------------------------------------- 9. the access log


def _get_routes(app) -> list[str]:
    return sorted({r.path for r in app.routes if isinstance(r, APIRoute) and "GET" in r.methods})


USERS = ("xly1", "shenhe", "gongan", "fenxi", "admin")


def test_every_response_showing_a_person_is_in_the_access_log(app, client_for, world):
    from wugan.cases.models import AccessLog  # the log arrived with migration 0005

    ids = {"task_id": world.tasks["t_east"], "case_id": world.cases["death"], "decision_id": world.decisions["old_age"],
           "username": "xly1"}
    url = world.settings.case_store_url
    seen = 0
    for username in USERS:
        client = client_for(username)
        for route in _get_routes(app):
            path = route.format(**ids)
            with session_scope(url) as s:
                before = s.query(sa.func.max(AccessLog.id)).scalar() or 0
            response = client.get(path, follow_redirects=False)
            if response.status_code != 200 or not MASKED_ID.search(response.text):
                continue
            seen += 1
            with session_scope(url) as s:
                rows = s.query(AccessLog).filter(AccessLog.id > before).all()
            assert rows, f"{username} saw persons on {path} and the access log has nothing"
            assert {r.actor for r in rows} == {f"user:{username}"}
            assert {r.path for r in rows} == {route}
            assert {r.channel for r in rows} == {"api" if route.startswith("/api") else "page"}
            assert all(r.entity_ids for r in rows)
            assert "id_masked" in set().union(*(r.fields for r in rows))
            text = str([(r.entity_ids, r.fields) for r in rows])
            assert not FULL_ID.search(text) and not MASKED_ID.search(text)  # the log names rows, not people
    assert seen >= 15  # the crawl did reach pages with persons


def test_an_api_read_of_a_task_is_logged_with_its_medical_detail(client_for, world):
    from wugan.cases.models import AccessLog  # the log arrived with migration 0005

    client = client_for("xly1")
    task = world.tasks["t_east"]
    assert client.get(f"/api/tasks/{task}").status_code == 200
    with session_scope(world.settings.case_store_url) as s:
        row = s.query(AccessLog).order_by(AccessLog.id.desc()).first()
    assert (row.actor, row.channel, row.path, row.entity) == ("user:xly1", "api", "/api/tasks/{task_id}", "task")
    assert row.entity_ids == [task]
    assert {"name", "id_masked", "phone", "medical"} <= set(row.fields)


def test_the_access_log_is_append_only(store_url):
    from wugan.cases.models import AccessLog  # the log arrived with migration 0005

    migrate(store_url)
    with session_scope(store_url) as s:
        s.add(AccessLog(at=dt.datetime(2025, 3, 12, 9), actor="user:x", channel="page", path="/tasks",
                        entity="task", entity_ids=["t1"], fields=["name"]))
    engine = engine_for(store_url)
    for statement in ("UPDATE access_log SET actor = 'user:y'", "DELETE FROM access_log"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as con:
            con.execute(sa.text(statement))
    with session_scope(store_url) as s:
        assert [r.actor for r in s.query(AccessLog)] == ["user:x"]
    engine.dispose()


# ---------------------------------------------------------------- 11. pseudonyms outlive a key rotation


def test_analyst_pseudonyms_survive_a_rotation_of_the_session_key(world):
    pseudonyms = []
    for secret in (SECRET, SECRET[::-1]):
        settings = Settings(home=world.settings.home, env="development", secret_key=secret,
                            pseudonym_key="pseudonym-key-of-this-city-0123456789")
        with TestClient(create_app(settings, clock=fixed_clock)) as client:
            login(client, "fenxi")
            pseudonyms.append([r["pseudonym"] for r in client.get("/api/analytics").json()["recent"]])
    assert pseudonyms[0] and pseudonyms[0] == pseudonyms[1]
