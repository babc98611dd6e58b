"""The back office sees held approvals and releases or rejects them with CSRF-protected forms."""

from __future__ import annotations

from sqlalchemy import select, update

from wugan.cases.db import session_scope
from wugan.cases.models import Decision, Event, Item, Notice


def test_a_reviewer_releases_a_held_approval_once(client_for, world):
    decision_id = world.decisions["old_age"]
    with session_scope(world.settings.case_store_url) as s:
        s.execute(update(Decision).where(Decision.id == decision_id).values(review="held"))
        s.execute(update(Item).where(Item.decision_id == decision_id).values(status="held", done_on=None))
        event = s.get_one(Event, s.get_one(Decision, decision_id).event_id)
        event.details = {**(event.details or {}), "tier_age": 80}  # as the detector records it
    hr = client_for("shenhe")
    page = hr.get("/held")
    assert page.status_code == 200 and f"/held/{decision_id}" in page.text
    refused = hr.post(f"/held/{decision_id}", data={"action": "release"})  # no CSRF token
    assert refused.status_code in (400, 403)
    no_reason = hr.post(f"/held/{decision_id}", data={"action": "reject", "reason": " ", "csrf_token": hr.csrf})
    assert "驳回需填写原因" in no_reason.text
    hr.post(f"/held/{decision_id}", data={"action": "release", "csrf_token": hr.csrf})
    with session_scope(world.settings.case_store_url) as s:
        assert s.get(Decision, decision_id).review == "released"
        assert {i.status for i in s.scalars(select(Item).where(Item.decision_id == decision_id))} == {"done"}
        event_id = s.get_one(Decision, decision_id).event_id
        assert len(s.scalars(select(Notice).where(Notice.event_id == event_id)).all()) >= 1
    again = hr.post(f"/held/{decision_id}", data={"action": "release", "csrf_token": hr.csrf})
    assert again.status_code == 404
