"""``wugan users add`` and the demo's accounts."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from wugan.cases.db import session_scope
from wugan.cases.users import User
from wugan.cli.web import app as web_cli
from wugan.web.accounts import create_demo_users

from .conftest import TestClient, login
from .factories import EAST

pytestmark = pytest.mark.filterwarnings("error")


def test_users_add_creates_a_scoped_account_that_can_log_in(world, app):
    result = CliRunner().invoke(web_cli, [
        "users", "add", "xly9", "--role", "assistant", "--villages", f"{EAST},370102001002",
        "--assistant-id", "A001", "--password", "a-long-password", "--home", str(world.settings.home),
    ])
    assert result.exit_code == 0, result.output
    with session_scope(world.settings.case_store_url) as s:
        user = s.query(User).filter_by(username="xly9").one()
        assert user.villages == [EAST, "370102001002"] and user.password_hash.startswith("$argon2")
    with TestClient(app) as client:
        login(client, "xly9", "a-long-password")
        # the inbox follows the assistant id: A001's week (three home visits, the heirs' visit) and what she let
        # run late
        assert len(client.get("/api/tasks").json()["open"]) == 4


@pytest.mark.parametrize("args", [
    ["--role", "assistant"],  # an assistant needs villages
    ["--role", "reviewer"],  # a reviewer needs departments
    ["--role", "wizard"],
])
def test_users_add_refuses_unscoped_or_unknown_roles(world, args):
    result = CliRunner().invoke(web_cli, ["users", "add", "bad", *args, "--password", "a-long-password",
                                          "--home", str(world.settings.home)])
    assert result.exit_code == 1


def test_demo_users_cover_every_role_and_the_busiest_village(world):
    with session_scope(world.settings.case_store_url) as s:
        s.query(User).delete()
        logins = create_demo_users(s)
    assert {x.role for x in logins} == {"assistant", "reviewer", "analyst", "admin"}
    with session_scope(world.settings.case_store_url) as s:
        assistant = s.query(User).filter_by(role="assistant").one()
        assert assistant.villages == [EAST] and assistant.assistant_id == "A001"
        assert s.query(User).filter_by(role="reviewer").one().departments == ["civil_affairs", "human_resources"]


def test_rerunning_the_demo_gives_logins_that_work(world):
    from wugan.web.auth import verify_password

    with session_scope(world.settings.case_store_url) as s:
        s.query(User).delete()
        create_demo_users(s)
    with session_scope(world.settings.case_store_url) as s:
        again = {x.username: x.password for x in create_demo_users(s)}
    with session_scope(world.settings.case_store_url) as s:
        for user in s.query(User).filter(User.username.in_(list(again))):
            assert verify_password(user.password_hash, again[user.username])
        assert s.query(User).count() == 4
