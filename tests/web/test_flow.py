"""The actions: visits, reviews and items, through the forms and the API, each audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from wugan.cases.db import session_scope
from wugan.cases.models import AuditLog, Case, Decision, Item, Task

pytestmark = pytest.mark.filterwarnings("error")


def test_a_confirmed_visit_opens_the_bundle_case_for_the_back_office(client_for, world):
    assistant = client_for("xly1")
    task_id = world.tasks["t_east"]
    response = assistant.post(f"/tasks/{task_id}/visit", data={"outcome": "confirmed", "notes": "已核实",
                                                                "csrf_token": assistant.csrf})
    assert response.status_code == 200
    assert "已开启「残疾人救助一件事」" in response.text
    with session_scope(world.settings.case_store_url) as s:
        task = s.get(Task, task_id)
        assert (task.status, task.outcome, task.outcome_notes) == ("done", "confirmed", "已核实")  # the label
        assert task.case_id is not None
        assert s.scalars(select(AuditLog).where(AuditLog.action == "visit_recorded",
                                                AuditLog.actor == "user:xly1")).first() is not None
    cases = client_for("shenhe").get("/api/cases").json()["rows"]
    opened = next(c for c in cases if c["id"] == task.case_id)
    assert opened["title"] == "残疾人救助一件事"
    assert {i["department"] for i in opened["items"]} == {"civil_affairs"}
    assert all(i["status"] == "pending" for i in opened["items"])  # they wait for the assessment
    assert assistant.get("/api/tasks").json()["done"][0]["outcome"] == "confirmed"


@pytest.mark.parametrize("outcome", ["not_eligible", "declined"])
def test_other_outcomes_are_stored_without_a_case(client_for, world, outcome):
    assistant = client_for("xly1")
    response = assistant.post(f"/api/tasks/{world.tasks['t_east2']}/visit", json={"outcome": outcome, "notes": "x"},
                              headers={"X-CSRF-Token": assistant.csrf})
    assert response.status_code == 200
    assert response.json()["case_id"] is None
    assert response.json()["task"]["outcome"] == outcome


def test_could_not_reach_books_another_try_next_week(client_for, world):
    assistant = client_for("xly1")
    response = assistant.post(f"/api/tasks/{world.tasks['t_east2']}/visit",
                              json={"outcome": "unreachable", "notes": "家中无人"},
                              headers={"X-CSRF-Token": assistant.csrf})
    task = response.json()["task"]
    assert (task["status"], task["outcome"], task["attempts"]) == ("assigned", None, 1)
    assert task["week"] == "2025-03-17"  # next week's visits (today is Wednesday 12 March)
    assert world.tasks["t_east2"] not in {t["id"] for t in assistant.get("/api/tasks").json()["open"]}


def test_an_outcome_is_corrected_within_the_window_by_her_and_only_by_her(client_for, world):
    assistant, other = client_for("xly1"), client_for("xly2")
    task_id = world.tasks["t_east2"]
    assistant.post(f"/api/tasks/{task_id}/visit", json={"outcome": "not_eligible"},
                   headers={"X-CSRF-Token": assistant.csrf})
    attack = other.post(f"/api/tasks/{task_id}/correct", json={"outcome": "confirmed", "reason": "改"},
                        headers={"X-CSRF-Token": other.csrf})
    assert attack.status_code == 404, "another assistant cannot correct her outcome"
    no_reason = assistant.post(f"/api/tasks/{task_id}/correct", json={"outcome": "confirmed", "reason": " "},
                               headers={"X-CSRF-Token": assistant.csrf})
    assert no_reason.status_code == 409
    page = assistant.post(f"/tasks/{task_id}/correct", data={"outcome": "confirmed", "reason": "点错了",
                                                             "csrf_token": assistant.csrf})
    assert "已更正为：核实属实" in page.text
    with session_scope(world.settings.case_store_url) as s:
        task = s.get(Task, task_id)
        assert task.outcome == "confirmed" and task.case_id is not None
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "outcome_corrected")).one()
        assert (audit.actor, audit.before["outcome"], audit.after["reason"]) == ("user:xly1", "not_eligible", "点错了")


def test_a_visit_is_recorded_once(client_for, world):
    assistant = client_for("xly1")
    url = f"/tasks/{world.tasks['t_east2']}/visit"
    assistant.post(url, data={"outcome": "declined", "csrf_token": assistant.csrf})
    again = assistant.post(url, data={"outcome": "confirmed", "csrf_token": assistant.csrf})
    assert "无法登记" in again.text
    api = assistant.post(f"/api/tasks/{world.tasks['t_east2']}/visit", json={"outcome": "confirmed"},
                         headers={"X-CSRF-Token": assistant.csrf})
    assert api.status_code == 409


def test_completing_an_item_readies_the_items_that_wait_for_it(client_for, world):
    police, hr = client_for("gongan"), client_for("shenhe")
    waiting = world.items["refund_personal_account"]
    assert waiting not in {i["id"] for i in hr.get("/api/items").json()["rows"]}
    page = police.post(f"/items/{world.items['cancel_hukou']}/complete",
                       data={"result": "注销证明 370102-2025-0042", "csrf_token": police.csrf, "next": "/work"})
    assert "已办结" in page.text
    assert waiting in {i["id"] for i in hr.get("/api/items").json()["rows"]}
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Item, world.items["cancel_hukou"]).result == {"certificate": "注销证明 370102-2025-0042"}


def test_start_then_reject_with_a_reason(client_for, world):
    hr = client_for("shenhe")
    item = world.items["survivor_lump_sum"]
    hr.post(f"/items/{item}/start", data={"csrf_token": hr.csrf})
    no_reason = hr.post(f"/items/{item}/reject", data={"reason": " ", "csrf_token": hr.csrf})
    assert "需填写原因" in no_reason.text
    hr.post(f"/items/{item}/reject", data={"reason": "无供养直系亲属", "csrf_token": hr.csrf})
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Item, item).status == "rejected"
        actions = [a.action for a in s.scalars(select(AuditLog).where(AuditLog.entity_id == item))]
        assert actions == ["item_in_progress", "item_rejected"]


def test_a_reviewer_confirms_or_revokes_a_sampled_approval(client_for, world):
    hr = client_for("shenhe")
    queue = hr.get("/api/reviews").json()["rows"]
    assert {r["id"] for r in queue} == {world.decisions["old_age"], world.decisions["death"]}
    explained = next(r for r in queue if r["id"] == world.decisions["old_age"])["explanation"]
    assert [c["label"] for c in explained["conditions"]][0] == "年满80周岁（生日当天起算）"
    no_reason = hr.post(f"/review/{world.decisions['death']}", data={"verdict": "revoked", "reason": "",
                                                                    "csrf_token": hr.csrf})
    assert "撤销需填写原因" in no_reason.text
    hr.post(f"/review/{world.decisions['old_age']}", data={"verdict": "confirmed", "csrf_token": hr.csrf})
    hr.post(f"/review/{world.decisions['death']}", data={"verdict": "revoked", "reason": "死亡登记有误，本人健在",
                                                         "csrf_token": hr.csrf})
    assert hr.get("/api/reviews").json()["rows"] == []
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Decision, world.decisions["old_age"]).review == "confirmed"
        assert s.get(Decision, world.decisions["death"]).review == "revoked"
        compensating = s.scalars(select(Item).where(Item.service == "revoke_funeral_grant")).one()
        assert compensating.status == "ready" and compensating.amount == -12000.0
        assert s.get(Case, world.cases["death"]).status == "open"
