"""Fixtures for the web tests: a seeded store per module, an app with a fixed clock, logged-in clients."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import warnings

import pytest

with warnings.catch_warnings():
    # Starlette 1.x asks for the httpx2 fork; httpx (pinned in the project) still works.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

from wugan.cases.db import engine_for
from wugan.settings import Settings
from wugan.web.app import create_app

from .factories import PASSWORD, SECRET, TODAY, World, seed


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/web" in str(item.fspath):
            item.add_marker(pytest.mark.filterwarnings("error"))


def fixed_clock() -> dt.datetime:
    return dt.datetime.combine(TODAY, dt.time(9, 30))


@pytest.fixture(scope="session")
def _template(tmp_path_factory) -> World:
    """Seeded once (argon2 hashing is slow on purpose); each test gets a copy."""
    world = seed(tmp_path_factory.mktemp("template"))
    engine_for(world.settings.case_store_url).dispose()
    return world


@pytest.fixture
def world(_template: World, tmp_path) -> World:
    home = tmp_path / "home"
    shutil.copytree(_template.settings.home, home)
    settings = Settings(home=home, secret_key=SECRET, env="development")
    return dataclasses.replace(_template, settings=settings)


@pytest.fixture
def app(world):
    return create_app(world.settings, clock=fixed_clock)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form, as a browser would; returns the session's CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                           "next": "/"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    me = client.get("/api/me")
    if me.status_code == 403:  # a password to change first: the token is on that page
        return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/password").text).group(1)
    return me.json()["csrf_token"]


@pytest.fixture
def client_for(app):
    """``client_for("xly1")`` → a TestClient logged in as that user, with ``.csrf`` set."""
    clients = []

    def make(username: str) -> TestClient:
        client = TestClient(app)
        client.__enter__()
        client.csrf = login(client, username)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)
