"""Held approvals: why each is held, release only after a confirmation page (one or many), reject with a reason."""

from __future__ import annotations

from sqlalchemy import select, update

from wugan.cases.db import session_scope
from wugan.cases.models import Alert, Decision, Event, Item, Notice


def _hold(world, *keys: str) -> list[str]:
    ids = [world.decisions[k] for k in keys]
    with session_scope(world.settings.case_store_url) as s:
        for decision_id in ids:
            s.execute(update(Decision).where(Decision.id == decision_id).values(review="held"))
            s.execute(update(Item).where(Item.decision_id == decision_id, Item.status == "done")
                      .values(status="held", done_on=None))
            event = s.get_one(Event, s.get_one(Decision, decision_id).event_id)
            event.details = {**(event.details or {}), "tier_age": 80}  # as the detector records it
    return ids


def test_a_held_approval_is_released_only_after_confirming_and_only_once(client_for, world):
    [decision_id] = _hold(world, "old_age")
    hr = client_for("shenhe")
    page = hr.get("/held")
    assert page.status_code == 200 and f"/held/release?ids={decision_id}" in page.text
    assert "暂缓原因" in page.text
    one_click = hr.post(f"/held/{decision_id}", data={"action": "release", "csrf_token": hr.csrf})
    assert one_click.status_code == 400  # no release without the confirmation page
    unconfirmed = hr.post("/held/release", data={"ids": decision_id, "csrf_token": hr.csrf})
    assert "没有放行" in unconfirmed.text
    confirm = hr.get(f"/held/release?ids={decision_id}")
    assert "确认放行 1 条" in confirm.text and "¥100.00" in confirm.text
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Decision, decision_id).review == "held"  # showing the confirmation pays nothing
    done = hr.post("/held/release", data={"ids": decision_id, "confirm": "yes", "csrf_token": hr.csrf})
    assert "已放行 1 条" in done.text
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Decision, decision_id).review == "released"
        assert {i.status for i in s.scalars(select(Item).where(Item.decision_id == decision_id))} == {"done"}
        event_id = s.get_one(Decision, decision_id).event_id
        notices = len(s.scalars(select(Notice).where(Notice.event_id == event_id)).all())
        assert notices >= 1
    again = hr.post("/held/release", data={"ids": decision_id, "confirm": "yes", "csrf_token": hr.csrf})
    assert "没有放行" in again.text
    with session_scope(world.settings.case_store_url) as s:
        assert len(s.scalars(select(Notice).where(Notice.event_id == event_id)).all()) == notices


def test_a_release_touches_only_the_reviewers_departments(client_for, world):
    ids = _hold(world, "old_age", "death")
    police = client_for("gongan")  # police has neither: the old-age allowance is civil affairs', the grants HR's
    assert "请先勾选" in police.get("/held/release?" + "&".join(f"ids={i}" for i in ids)).text
    police.post("/held/release", data={"ids": ids, "confirm": "yes", "csrf_token": police.csrf})
    with session_scope(world.settings.case_store_url) as s:
        assert {s.get(Decision, i).review for i in ids} == {"held"}


def test_a_rejection_needs_a_reason_and_keeps_what_was_typed(client_for, world):
    [decision_id] = _hold(world, "old_age")
    hr = client_for("shenhe")
    refused = hr.post(f"/held/{decision_id}", data={"action": "reject"})  # no CSRF token
    assert refused.status_code == 403
    blank = hr.post(f"/held/{decision_id}", data={"action": "reject", "reason": "  ", "csrf_token": hr.csrf})
    assert blank.status_code == 422
    assert "请修改以下问题" in blank.text and f'href="#reason-{decision_id}"' in blank.text
    assert '<details class="reject" open>' in blank.text  # her place: the panel stays open
    hr.post(f"/held/{decision_id}", data={"action": "reject", "reason": "重复报送的数据", "csrf_token": hr.csrf})
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Decision, decision_id).review == "rejected"


def test_the_hold_reason_is_the_days_breaker_alert(client_for, world):
    [decision_id] = _hold(world, "old_age")
    with session_scope(world.settings.case_store_url) as s:
        decision = s.get_one(Decision, decision_id)
        s.add(Alert(id="a1", kind="circuit_breaker", department="civil_affairs", ruleset=decision.ruleset,
                    entity="ruleset", entity_id=decision.ruleset, message="当日决定 90 件，超过熔断阈值 15 件",
                    details={}, created_on=decision.decided_on, status="open"))
    page = client_for("shenhe").get("/held")
    assert "触发熔断" in page.text and "超过熔断阈值 15 件" in page.text
