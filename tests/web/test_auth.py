"""Login, sessions, CSRF, roles and the secret key."""

from __future__ import annotations

import re
import time

import pytest
from pydantic import ValidationError

from wugan.cases.db import session_scope
from wugan.cases.models import AuditLog
from wugan.settings import Settings
from wugan.web.app import create_app
from wugan.web.auth import resolve_secret

from .conftest import TestClient, fixed_clock, login

pytestmark = pytest.mark.filterwarnings("error")


def _login_token(client: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)


def test_each_role_lands_on_its_home(client_for):
    for username, home in [("xly1", "/tasks"), ("shenhe", "/review"), ("fenxi", "/analytics"), ("admin", "/admin")]:
        response = client_for(username).get("/", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == home


def test_anonymous_pages_redirect_to_login_and_api_answers_401(app):
    with TestClient(app) as client:
        page = client.get("/tasks", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login?next=/tasks")
        assert client.get("/api/tasks").status_code == 401


def test_a_wrong_password_is_refused_and_audited(app, world):
    with TestClient(app) as client:
        response = client.post("/login", data={"username": "xly1", "password": "wrong-password",
                                               "csrf_token": _login_token(client)}, follow_redirects=False)
        assert response.status_code == 401
        assert "用户名或密码错误" in response.text
        assert client.get("/api/me").status_code == 401
    with session_scope(world.settings.case_store_url) as s:
        assert s.query(AuditLog).filter_by(action="login_failed").count() == 1


def test_login_without_its_csrf_token_is_refused(app):
    with TestClient(app) as client:
        client.get("/login")
        response = client.post("/login", data={"username": "xly1", "password": "correct-horse-42",
                                               "csrf_token": "forged"}, follow_redirects=False)
        assert response.status_code == 403


@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_a_form_without_a_valid_csrf_token_is_refused(client_for, world, token):
    client = client_for("xly1")
    data = {"outcome": "confirmed", "notes": ""} | ({"csrf_token": token} if token else {})
    response = client.post(f"/tasks/{world.tasks['t_east']}/visit", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert client.get(f"/api/tasks/{world.tasks['t_east']}").json()["status"] == "assigned"


def test_an_api_post_needs_the_csrf_header(client_for, world):
    client = client_for("shenhe")
    url = f"/api/reviews/{world.decisions['old_age']}"
    assert client.post(url, json={"verdict": "confirmed"}).status_code == 403
    assert client.post(url, json={"verdict": "confirmed"}, headers={"X-CSRF-Token": "nope"}).status_code == 403
    ok = client.post(url, json={"verdict": "confirmed"}, headers={"X-CSRF-Token": client.csrf})
    assert ok.status_code == 200 and ok.json()["review"] == "confirmed"


def test_roles_cannot_open_other_roles_pages(client_for):
    assistant, analyst, reviewer = client_for("xly1"), client_for("fenxi"), client_for("shenhe")
    for client, path in [(assistant, "/analytics"), (assistant, "/review"), (analyst, "/tasks"),
                         (analyst, "/api/cases"), (reviewer, "/tasks"), (reviewer, "/admin"),
                         (assistant, "/api/analytics")]:
        assert client.get(path).status_code == 403, path


def test_sessions_expire(world):
    app = create_app(world.settings.model_copy(update={"session_hours": 1 / 3600}), clock=fixed_clock)  # 1 s
    with TestClient(app) as client:
        login(client, "xly1")
        assert client.get("/api/me").status_code == 200
        time.sleep(2.1)
        assert client.get("/api/me").status_code == 401


def test_logout_ends_the_session_and_is_audited(client_for, world):
    client = client_for("xly1")
    response = client.post("/logout", data={"csrf_token": client.csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/api/me").status_code == 401
    with session_scope(world.settings.case_store_url) as s:
        assert {a.action for a in s.query(AuditLog).filter_by(actor="user:xly1")} >= {"login", "logout"}


@pytest.mark.parametrize("key", ["", "change-me", "short"])
def test_production_refuses_a_missing_or_placeholder_secret(tmp_path, key):
    with pytest.raises((RuntimeError, ValidationError), match="WUGAN_SECRET_KEY"):
        resolve_secret(Settings(home=tmp_path, env="production", secret_key=key))


def test_development_makes_up_a_random_secret(tmp_path):
    settings = Settings(home=tmp_path, env="development", secret_key="")
    assert resolve_secret(settings) != resolve_secret(settings)
    assert len(resolve_secret(settings)) >= 32
