"""An assistant sees only their villages; a reviewer only their departments' items and approvals."""

from __future__ import annotations

import pytest

from wugan.cases.db import session_scope
from wugan.cases.models import Decision, Item, Task

pytestmark = pytest.mark.filterwarnings("error")


def test_the_assistant_sees_her_week_and_what_she_let_run_late_nothing_else(client_for, world):
    tasks = client_for("xly1").get("/api/tasks").json()["open"]
    # late first, then this week's by priority; her village's queue is not her list, 西河村's task not hers
    assert [t["id"] for t in tasks] == [world.tasks["t_late"], world.tasks["t_east"], world.tasks["t_east2"],
                                        world.tasks["t_death"]]
    assert tasks[0]["overdue"] and not tasks[1]["overdue"]
    assert client_for("xly1").get(f"/api/tasks/{world.tasks['t_queue']}").status_code == 404
    assert tasks[1]["person"]["name"] == world.names["sick_east"]
    assert tasks[1]["explanation"]["conditions"][0]["holds"] is True
    assert tasks[1]["explanation"]["ruleset_version"] == "a1b2c3d4"


def test_an_assistant_cannot_read_or_act_on_another_villages_task(client_for, world):
    client = client_for("xly1")
    other = world.tasks["t_west"]
    assert client.get(f"/tasks/{other}").status_code == 404
    assert client.get(f"/api/tasks/{other}").status_code == 404
    form = client.post(f"/tasks/{other}/visit", data={"outcome": "confirmed", "csrf_token": client.csrf},
                       follow_redirects=False)
    assert form.status_code == 404
    api = client.post(f"/api/tasks/{other}/visit", json={"outcome": "declined"},
                      headers={"X-CSRF-Token": client.csrf})
    assert api.status_code == 404
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Task, other).status == "assigned"


def test_a_reviewer_works_only_items_of_his_departments(client_for, world):
    client = client_for("shenhe")  # civil affairs + human resources
    items = client.get("/api/items").json()["rows"]
    assert {i["department"] for i in items} <= {"civil_affairs", "human_resources"}
    assert world.items["survivor_lump_sum"] in {i["id"] for i in items}
    police_item = world.items["cancel_hukou"]
    assert police_item not in {i["id"] for i in items}
    form = client.post(f"/items/{police_item}/complete", data={"result": "X1", "csrf_token": client.csrf},
                       follow_redirects=False)
    assert form.status_code == 404
    api = client.post(f"/api/items/{police_item}", json={"action": "start"}, headers={"X-CSRF-Token": client.csrf})
    assert api.status_code == 404
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Item, police_item).status == "ready"


def test_a_case_shows_a_reviewer_only_his_departments_items(client_for, world):
    police = client_for("gongan")
    case = police.get(f"/api/cases/{world.cases['death']}").json()
    assert {i["department"] for i in case["items"]} == {"police"}
    assert case["others"] == 4
    # the police reviewer sees no civil-affairs case at all
    assert police.get(f"/api/cases/{world.cases['death']}").status_code == 200
    assert all(c["id"] == world.cases["death"] for c in police.get("/api/cases").json()["rows"])


def test_a_reviewer_cannot_review_another_departments_approval(client_for, world):
    police = client_for("gongan")
    assert police.get("/api/reviews").json()["rows"] == []
    response = police.post(f"/api/reviews/{world.decisions['old_age']}", json={"verdict": "confirmed"},
                           headers={"X-CSRF-Token": police.csrf})
    assert response.status_code == 404
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Decision, world.decisions["old_age"]).review == "sampled"


def test_overdue_lists_items_of_my_departments_and_late_visits(client_for, world):
    overdue = client_for("shenhe").get("/api/overdue").json()
    assert overdue["items"]["rows"] == [] and overdue["items"]["total"] == 0  # the late items are police's and medical insurance's
    assert [t["id"] for t in overdue["tasks"]["rows"]] == [world.tasks["t_late"], world.tasks["t_west"]]
    admin = client_for("admin").get("/api/overdue").json()
    assert {i["id"] for i in admin["items"]["rows"]} == {world.items["cancel_hukou"], world.items["end_medical"]}
