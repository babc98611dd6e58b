"""No full ID number leaves the app, for any role; analysts see neither names nor masked IDs."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.filterwarnings("error")

FULL_ID = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")

PAGES = {
    "assistant": ["/tasks", "/tasks/{t_east}", "/tasks/{t_east2}"],
    "reviewer": ["/review", "/cases", "/cases?status=closed", "/cases/{death}", "/work", "/overdue"],
    "analyst": ["/analytics"],
    "admin": ["/admin", "/tasks", "/tasks/{t_west}", "/review", "/cases", "/cases/{death}", "/work", "/overdue",
              "/analytics"],
}
API = {
    "assistant": ["/api/me", "/api/tasks", "/api/tasks/{t_east}"],
    "reviewer": ["/api/reviews", "/api/cases", "/api/cases?status=closed", "/api/cases/{death}", "/api/items",
                 "/api/overdue"],
    "analyst": ["/api/analytics"],
    "admin": ["/api/tasks", "/api/reviews", "/api/cases", "/api/items", "/api/overdue", "/api/analytics"],
}
USERS = {"assistant": "xly1", "reviewer": "shenhe", "analyst": "fenxi", "admin": "admin"}


@pytest.mark.parametrize("role", list(USERS))
def test_no_page_or_api_response_holds_a_full_id_number(client_for, world, role):
    client = client_for(USERS[role])
    # every action first, so the audit log and the opened case are crawled too
    if role == "assistant":
        client.post(f"/tasks/{world.tasks['t_east']}/visit", data={"outcome": "confirmed", "notes": "见面核实",
                                                                    "csrf_token": client.csrf})
    ids = {"t_east": world.tasks["t_east"], "t_east2": world.tasks["t_east2"], "t_west": world.tasks["t_west"],
           "death": world.cases["death"]}
    for path in PAGES[role] + API[role] + ["/openapi.json"]:
        response = client.get(path.format(**ids))
        assert response.status_code == 200, path
        assert not FULL_ID.search(response.text), path
        for known in world.ids.values():
            assert known not in response.text, path
        if role == "analyst":
            assert "********" not in response.text, path
            for name in world.names.values():
                assert name not in response.text, path


def test_the_analyst_sees_keyed_pseudonyms(client_for):
    recent = client_for("fenxi").get("/api/analytics").json()["recent"]
    assert recent and all(re.fullmatch(r"P[0-9a-f]{10}", r["pseudonym"]) for r in recent)
