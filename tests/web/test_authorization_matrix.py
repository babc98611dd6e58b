"""Who may call what: every route of the app × every role × a resource in and out of the user's scope.

The routes are read from the app itself, so a new route without an entry in
``MATRIX`` fails ``test_every_route_has_an_entry``. Each (route, role) runs on
a fresh copy of the store, so an action that succeeds cannot hide the next
check. Outcomes:

- ``allow``: answered (200, a redirect that is not to the login page, or a
  409/422 the handler itself gives);
- ``login``: no session: 401 from the API, a redirect to ``/login?next=`` from a page;
- ``deny``: 403, the role may not use the route;
- ``scoped``: allowed on a resource of the user's villages or departments,
  404 on another's (as if it did not exist).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from wugan.cases.db import session_scope
from wugan.cases.models import Alert, Case, Decision, Event, Item, make_id
from wugan.web.app import create_app

from .conftest import TestClient, fixed_clock, login
from .factories import EAST, PASSWORD, TODAY, WEST

pytestmark = pytest.mark.filterwarnings("error")

ROLES = ("anonymous", "assistant", "reviewer", "analyst", "admin")
USERS = {"assistant": "xly1", "reviewer": "shenhe", "analyst": "fenxi", "admin": "admin"}


def public() -> dict[str, str]:
    return dict.fromkeys(ROLES, "allow")


def logged_in() -> dict[str, str]:
    return {"anonymous": "login"} | dict.fromkeys(USERS, "allow")


def only(role: str, scope: str | None = None) -> dict[str, str]:
    entry = {"anonymous": "login"} | dict.fromkeys(USERS, "deny") | {"admin": "allow"}
    entry[role] = "scoped" if scope else "allow"
    return entry | ({"scope": scope} if scope else {})


MATRIX: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/openapi.json"): public(),  # development only (see test_headers for production)
    ("GET", "/static"): public(),
    ("GET", "/"): logged_in(),
    ("GET", "/login"): public(),
    ("POST", "/login"): public(),
    ("POST", "/logout"): logged_in(),
    ("GET", "/password"): logged_in(),
    ("POST", "/password"): logged_in(),
    ("GET", "/manifest.webmanifest"): public(),
    ("GET", "/sw.js"): public(),
    ("GET", "/admin"): only("admin"),
    ("POST", "/admin/users"): only("admin"),
    ("GET", "/admin/users/{username}"): only("admin", "user"),
    ("POST", "/admin/users/{username}"): only("admin", "user"),
    ("GET", "/admin/audit"): only("admin"),
    ("GET", "/tasks"): only("assistant"),
    ("GET", "/tasks/{task_id}"): only("assistant", "task"),
    ("POST", "/tasks/{task_id}/visit"): only("assistant", "task"),
    ("POST", "/tasks/{task_id}/correct"): only("assistant", "task"),
    ("GET", "/review"): only("reviewer"),
    ("POST", "/review/{decision_id}"): only("reviewer", "review"),
    ("GET", "/decisions/{decision_id}"): only("reviewer", "review"),
    ("POST", "/decisions/{decision_id}/revoke"): only("reviewer", "review"),
    ("POST", "/decisions/{decision_id}/undo"): only("reviewer", "review"),
    ("GET", "/cases"): only("reviewer"),
    ("GET", "/cases/{case_id}"): only("reviewer", "case"),
    ("GET", "/work"): only("reviewer"),
    ("GET", "/overdue"): only("reviewer"),
    ("POST", "/items/{item_id}/{action}"): only("reviewer", "item"),
    ("GET", "/held"): only("reviewer"),
    ("GET", "/held/release"): only("reviewer"),
    ("POST", "/held/release"): only("reviewer"),
    ("POST", "/held/{decision_id}"): only("reviewer", "held"),
    # civil affairs sees every visit: "other" is a task that does not exist, hidden from the admin too
    ("GET", "/visits/{task_id}"): only("reviewer", "visit") | {"admin": "scoped"},
    ("POST", "/visits/{task_id}/{action}"): only("reviewer", "visit") | {"admin": "scoped"},
    ("GET", "/alerts"): only("reviewer"),
    ("POST", "/alerts/{alert_id}/resolve"): only("reviewer", "alert"),
    ("GET", "/search"): only("reviewer"),
    ("POST", "/search/reveal"): only("reviewer"),
    ("GET", "/optouts"): only("reviewer"),
    ("POST", "/optouts"): only("reviewer"),
    ("POST", "/optouts/{key}/remove"): only("reviewer"),
    ("GET", "/quality"): only("reviewer"),
    ("GET", "/analytics"): only("analyst"),
    ("GET", "/whatif"): only("analyst"),
    ("GET", "/api/me"): logged_in(),
    ("GET", "/api/tasks"): only("assistant"),
    ("GET", "/api/tasks/{task_id}"): only("assistant", "task"),
    ("POST", "/api/tasks/{task_id}/visit"): only("assistant", "task"),
    ("POST", "/api/tasks/{task_id}/correct"): only("assistant", "task"),
    ("GET", "/api/reviews"): only("reviewer"),
    ("POST", "/api/reviews/{decision_id}"): only("reviewer", "review"),
    ("GET", "/api/cases"): only("reviewer"),
    ("GET", "/api/cases/{case_id}"): only("reviewer", "case"),
    ("GET", "/api/items"): only("reviewer"),
    ("POST", "/api/items/{item_id}"): only("reviewer", "item"),
    ("GET", "/api/overdue"): only("reviewer"),
    ("GET", "/api/analytics"): only("analyst"),
}

FORMS = {
    "/logout": {},
    "/password": {"current": "wrong-password", "password": "x", "repeat": "y"},
    "/admin/users": {"username": "neu", "role": "analyst", "password": "long-enough-password"},
    "/admin/users/{username}": {"action": "reset"},
    "/decisions/{decision_id}/revoke": {"reason": "投诉核实：不符合条件"},
    "/decisions/{decision_id}/undo": {},
    "/held/release": {"ids": "unknown", "confirm": "yes"},
    "/visits/{task_id}/{action}": {"note": "请尽快走访"},
    "/alerts/{alert_id}/resolve": {},
    "/search/reveal": lambda r: {"q": r["reveal"]["q"], "key": r["reveal"]["key"]},
    "/tasks/{task_id}/visit": {"outcome": "unreachable", "notes": ""},
    "/tasks/{task_id}/correct": {"outcome": "declined", "reason": "点错了"},
    "/review/{decision_id}": {"verdict": "confirmed"},
    "/items/{item_id}/{action}": {},
    "/held/{decision_id}": {"action": "reject", "reason": "核对不符"},
    "/optouts": {"person_id": "370102194503021330", "service": "all", "reason": "短信回复TD"},
    "/optouts/{key}/remove": {},
}
JSON = {
    "/api/tasks/{task_id}/visit": {"outcome": "unreachable"},
    "/api/tasks/{task_id}/correct": {"outcome": "declined", "reason": "点错了"},
    "/api/reviews/{decision_id}": {"verdict": "confirmed"},
    "/api/items/{item_id}": {"action": "start"},
}


def _app_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if isinstance(route, Mount):
            found.add(("GET", route.path))
        elif isinstance(route, APIRoute | Route):
            found |= {(m, route.path) for m in route.methods if m != "HEAD"}
    return found


def test_every_route_has_an_entry(app):
    routes = _app_routes(app)
    assert routes - set(MATRIX) == set(), "routes without an entry in MATRIX: give each one"
    assert set(MATRIX) - routes == set(), "entries for routes that no longer exist"


def _seed_out_of_scope(world) -> dict[str, dict[str, str]]:
    """Resources just outside the reviewer's departments (police only), and held approvals on both sides."""
    pid = world.ids["baby_mother"]
    made: dict[str, str] = {}
    with session_scope(world.settings.case_store_url) as s:
        def bundle(key: str, department: str, review: str, status: str, village: str) -> tuple[str, str, str]:
            event = Event(id=make_id("event", key), key=key, event_type="birth", person_id=pid, subject=pid,
                          village_code=village, event_date=TODAY - dt.timedelta(days=3),
                          detected_on=TODAY - dt.timedelta(days=2), details={})
            s.add(event)
            s.flush()
            decision = Decision(id=make_id("decision", event.id), event_id=event.id, event_type="birth",
                                route="bundle_case", ruleset="childcare_subsidy", ruleset_version="c0ffee01",
                                model_version=None, score=None, explanation={}, decided_on=TODAY - dt.timedelta(days=2),
                                review=review)
            case = Case(id=make_id("case", event.id), event_id=event.id, event_type="birth", title="出生一件事",
                        person_id=pid, household_id=None, village_code=village, status="open",
                        lead_department=department, opened_on=TODAY - dt.timedelta(days=2))
            s.add_all([decision, case])
            s.flush()
            item = Item(id=make_id("item", case.id, key), case_id=case.id, service=f"svc_{key}", label="户口登记",
                        department=department, stage=1, status=status, depends_on=[],
                        due_date=TODAY + dt.timedelta(days=5), amount=None, decision_id=decision.id)
            s.add(item)
            s.flush()
            return decision.id, case.id, item.id

        made["review_other"], made["case_other"], _ = bundle("police-sampled", "police", "sampled", "ready", EAST)
        made["held_own"], _, _ = bundle("civil-held", "civil_affairs", "held", "held", EAST)
        made["held_other"], _, _ = bundle("police-held", "police", "held", "held", WEST)
        for key, department in (("own", "civil_affairs"), ("other", "police")):
            s.add(Alert(id=f"alert-{key}", kind="overdue_item", department=department, ruleset=None, entity="item",
                        entity_id=world.items["cancel_hukou"], message="事项逾期", details={},
                        created_on=TODAY, status="open"))
    return {
        "visit": {"own": world.tasks["t_west"], "other": "0000000000000000"},  # civil affairs sees every visit
        "alert": {"own": "alert-own", "other": "alert-other"},
        "user": {"own": "xly1", "other": "nobody"},
        "reveal": {"q": world.ids["dead_west"], "key": f"case:{world.cases['death']}"},
        "task": {"own": world.tasks["t_east"], "other": world.tasks["t_west"]},
        "review": {"own": world.decisions["old_age"], "other": made["review_other"]},
        "held": {"own": made["held_own"], "other": made["held_other"]},
        "case": {"own": world.cases["death"], "other": made["case_other"]},
        "item": {"own": world.items["survivor_lump_sum"], "other": world.items["cancel_hukou"]},
    }


PARAM = {"task": "task_id", "review": "decision_id", "held": "decision_id", "case": "case_id", "item": "item_id",
         "visit": "task_id", "alert": "alert_id", "user": "username"}
ACTIONS = {"/items/{item_id}/{action}": "start", "/visits/{task_id}/{action}": "escalate"}


def _outcome(response) -> str:
    if response.status_code == 401:
        return "login"
    if response.status_code in (302, 303, 307) and response.headers["location"].startswith("/login?next="):
        return "login"
    if response.status_code == 403:
        return "deny"
    if response.status_code == 404:
        return "hidden"
    assert response.status_code < 500, response.text[:300]
    return "allow"


def _call(client: TestClient, app, method: str, path: str, resource: str | None, resources: dict) -> object:
    url = path.format(**({PARAM[path_scope(path)]: resource} if resource else {}), action=ACTIONS.get(path, ""),
                      key="0" * 16)
    if path == "/static":
        return client.get("/static/app.css", follow_redirects=False)
    if method == "GET":
        return client.get(url, follow_redirects=False)
    csrf = getattr(client, "csrf", "")
    if path == "/login":
        with TestClient(app) as anonymous:  # a fresh login form, whoever submits it
            token = re.search(r'name="csrf_token" value="([^"]+)"', anonymous.get("/login").text).group(1)
            client.cookies.set("wugan_login", anonymous.cookies["wugan_login"])
        return client.post(url, data={"username": "xly1", "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    if path in JSON:
        return client.post(url, json=JSON[path], headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    form = FORMS[path](resources) if callable(FORMS[path]) else FORMS[path]
    return client.post(url, data=form | {"csrf_token": csrf}, follow_redirects=False)


def path_scope(path: str) -> str:
    return next(scope for (_, p), entry in MATRIX.items() if p == path and (scope := entry.get("scope")))


CELLS = [(method, path, role) for (method, path) in MATRIX for role in ROLES]


def _client(app, role: str) -> TestClient:
    client = TestClient(app)
    client.__enter__()
    if role != "anonymous":
        client.csrf = login(client, USERS[role])
    return client


@pytest.fixture(scope="module")
def readers(_template, tmp_path_factory):
    """For the GET routes, which change nothing: one store and one logged-in client per role."""
    home = tmp_path_factory.mktemp("matrix") / "home"
    shutil.copytree(_template.settings.home, home)
    world = dataclasses.replace(_template, settings=_template.settings.model_copy(update={"home": home}))
    resources = _seed_out_of_scope(world)
    app = create_app(world.settings, clock=fixed_clock)
    clients = {role: _client(app, role) for role in ROLES}
    yield app, clients, resources
    for client in clients.values():
        client.__exit__(None, None, None)


def _check(app, client, method, path, role, resources) -> None:
    entry = MATRIX[(method, path)]
    expected, scope = entry[role], entry.get("scope")
    if scope is None:
        assert _outcome(_call(client, app, method, path, None, resources)) == expected, (method, path, role)
        return
    other = _outcome(_call(client, app, method, path, resources[scope]["other"], resources))
    own = _outcome(_call(client, app, method, path, resources[scope]["own"], resources))
    if expected == "scoped":
        assert (own, other) == ("allow", "hidden"), (method, path, role)
    else:
        assert (own, other) == (expected, expected), (method, path, role)


@pytest.mark.parametrize(("method", "path", "role"), CELLS, ids=[f"{m} {p} {r}" for m, p, r in CELLS])
def test_authorization(request, method, path, role):
    if method == "GET":
        app, clients, resources = request.getfixturevalue("readers")
        _check(app, clients[role], method, path, role, resources)
        return
    world = request.getfixturevalue("world")  # a fresh store: an action that succeeds hides nothing after it
    resources = _seed_out_of_scope(world)
    app = create_app(world.settings, clock=fixed_clock)
    client = _client(app, role)
    try:
        _check(app, client, method, path, role, resources)
    finally:
        client.__exit__(None, None, None)
