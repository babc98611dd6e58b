"""Sessions that end, and logins that resist guessing: the attacker's tests beside the user's.

A session lives in the case store; the cookie only names it. Logout, a new
password, deactivation (and so reactivation) and deleting the account end it.
Failed logins are throttled per account and per client address; the login
form's token serves one attempt; an unknown username costs as much time as a
wrong password.
"""

from __future__ import annotations

import re
import time

import pytest
from typer.testing import CliRunner

from wugan.cases.db import session_scope
from wugan.cases.users import User
from wugan.cli.web import app as web_cli
from wugan.web.accounts import add_user, create_demo_users
from wugan.web.app import create_app

from .conftest import TestClient, fixed_clock, login
from .factories import PASSWORD

pytestmark = pytest.mark.filterwarnings("error")


def _login_form(client: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)


def _attempt(client: TestClient, username: str, password: str, token: str | None = None):
    token = token or _login_form(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       follow_redirects=False)


def _replay(app, cookie: str) -> int:
    """What a stolen session cookie gets in a fresh browser."""
    with TestClient(app) as thief:
        thief.cookies.set("wugan_session", cookie)
        return thief.get("/api/me").status_code


# ---------------------------------------------------------------- 1. sessions that end


def test_a_cookie_replayed_after_logout_is_refused(app, client_for):
    client = client_for("xly1")
    stolen = client.cookies["wugan_session"]
    assert _replay(app, stolen) == 200
    assert client.post("/logout", data={"csrf_token": client.csrf}, follow_redirects=False).status_code == 303
    assert _replay(app, stolen) == 401


def test_logout_ends_only_that_session(app, client_for):
    phone, desk = client_for("xly1"), client_for("xly1")
    phone.post("/logout", data={"csrf_token": phone.csrf})
    assert phone.get("/api/me").status_code == 401
    assert desk.get("/api/me").status_code == 200


def test_a_new_password_ends_every_session(app, world, client_for):
    client = client_for("xly1")
    result = CliRunner().invoke(web_cli, ["users", "passwd", "xly1", "--password", "another-long-password",
                                          "--home", str(world.settings.home)])
    assert result.exit_code == 0, result.output
    assert client.get("/api/me").status_code == 401
    with TestClient(app) as fresh:
        login(fresh, "xly1", "another-long-password")


def test_rerunning_the_demo_ends_the_demo_accounts_sessions(app, world, client_for):
    client = client_for("admin")
    with session_scope(world.settings.case_store_url) as s:
        create_demo_users(s)  # resets the demo accounts' passwords
    assert client.get("/api/me").status_code == 401


def test_a_session_does_not_come_back_with_reactivation(app, world, client_for):
    client = client_for("xly1")
    stolen = client.cookies["wugan_session"]
    runner = CliRunner()
    home = ["--home", str(world.settings.home)]
    assert runner.invoke(web_cli, ["users", "deactivate", "xly1", *home]).exit_code == 0
    assert _replay(app, stolen) == 401
    assert runner.invoke(web_cli, ["users", "activate", "xly1", *home]).exit_code == 0
    assert _replay(app, stolen) == 401
    with TestClient(app) as fresh:
        login(fresh, "xly1")


def test_a_changed_role_or_scope_ends_the_session(world, client_for):
    client = client_for("xly1")
    with session_scope(world.settings.case_store_url) as s:
        s.query(User).filter_by(username="xly1").one().villages = ["370102001002"]
    assert client.get("/api/me").status_code == 401


def test_a_recreated_user_does_not_inherit_old_cookies(app, world):
    url = world.settings.case_store_url
    with session_scope(url) as s:
        first = add_user(s, username="temp", password=PASSWORD, role="analyst").id
    with TestClient(app) as client:
        login(client, "temp")
        stolen = client.cookies["wugan_session"]
    with session_scope(url) as s:
        s.delete(s.get(User, first))
    with session_scope(url) as s:
        second = add_user(s, username="temp", password=PASSWORD, role="admin").id
    assert second != first  # ids are random, not a hash of the name
    assert _replay(app, stolen) == 401


# ---------------------------------------------------------------- 2. throttling and one-time form tokens


@pytest.fixture
def strict(world):
    """An app allowing 3 failed logins per account and 6 per address per minute."""
    settings = world.settings.model_copy(update={"login_limit_account": "3/minute",
                                                 "login_limit_address": "6/minute"})
    return create_app(settings, clock=fixed_clock)


def test_guessing_one_accounts_password_is_stopped(strict):
    with TestClient(strict) as client:
        for _ in range(3):
            assert _attempt(client, "admin", "wrong-password").status_code == 401
        refused = _attempt(client, "admin", PASSWORD)  # the right one, too late
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert "尝试次数过多" in refused.text
        assert client.get("/api/me").status_code == 401
    with TestClient(strict, client=("203.0.113.9", 4000)) as elsewhere:  # another address: the account is locked
        assert _attempt(elsewhere, "admin", PASSWORD).status_code == 429
        assert _attempt(elsewhere, "xly1", PASSWORD).status_code == 303  # other accounts are not


def test_spraying_many_accounts_from_one_address_is_stopped(strict):
    with TestClient(strict) as client:
        for name in ("admin", "xly1", "xly2", "shenhe", "fenxi", "gongan"):
            assert _attempt(client, name, "wrong-password").status_code == 401
        assert _attempt(client, "nobody", "wrong-password").status_code == 429
        assert _attempt(client, "xly1", PASSWORD).status_code == 429
    with TestClient(strict, client=("198.51.100.7", 4000)) as other:
        assert _attempt(other, "xly1", PASSWORD).status_code == 303


def test_the_counters_forget_after_their_window(world):
    settings = world.settings.model_copy(update={"login_limit_account": "2/2 seconds"})
    app = create_app(settings, clock=fixed_clock)
    with TestClient(app) as client:
        for _ in range(2):
            _attempt(client, "admin", "wrong-password")
        assert _attempt(client, "admin", PASSWORD).status_code == 429
        time.sleep(2.2)
        assert _attempt(client, "admin", PASSWORD).status_code == 303


def test_a_login_form_token_serves_one_attempt(app):
    with TestClient(app) as client:
        token = _login_form(client)
        cookie = client.cookies["wugan_login"]
        assert _attempt(client, "admin", "wrong-password", token).status_code == 401
        client.cookies.set("wugan_login", cookie)  # replay the same form
        assert _attempt(client, "admin", PASSWORD, token).status_code == 403
        assert client.get("/api/me").status_code == 401


# ---------------------------------------------------------------- 3. no username oracle by timing


def _best_of(n: int, attempt) -> float:
    best = float("inf")
    for i in range(n):
        start = time.perf_counter()
        attempt(i)
        best = min(best, time.perf_counter() - start)
    return best


def test_an_unknown_username_takes_as_long_as_a_wrong_password(world):
    settings = world.settings.model_copy(update={"login_limit_account": "100/minute",
                                                 "login_limit_address": "100/minute"})
    app = create_app(settings, clock=fixed_clock)
    with TestClient(app) as client:
        forms = []  # (cookie, token) pairs, one per attempt
        for _ in range(10):
            token = _login_form(client)
            forms.append((client.cookies["wugan_login"], token))

        def attempt(username: str, i: int) -> None:
            cookie, token = forms[i]
            client.cookies.set("wugan_login", cookie)
            assert _attempt(client, username, f"wrong-{i}", token).status_code == 401

        wrong_password = _best_of(5, lambda i: attempt("admin", i))
        unknown_user = _best_of(5, lambda i: attempt(f"nobody{i}", 5 + i))
    # argon2 takes tens of milliseconds; skipping it makes an unknown name some 40 times faster
    assert unknown_user > 0.5 * wrong_password, (unknown_user, wrong_password)


def test_an_inactive_account_gets_the_answer_of_a_wrong_password(world):
    with session_scope(world.settings.case_store_url) as s:
        s.query(User).filter_by(username="xly2").one().active = False
    app = create_app(world.settings, clock=fixed_clock)
    with TestClient(app) as client:
        response = _attempt(client, "xly2", PASSWORD)
        assert response.status_code == 401 and "用户名或密码错误" in response.text
