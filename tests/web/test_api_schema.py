"""Schemathesis over the app's OpenAPI schema, logged in as each role (and as no one).

Every operation is called with generated parameters and bodies, valid and
invalid. The checks: no server error, no status code the schema does not
document, a content type and a body that match the schema. Examples per
operation are bounded (``MAX_EXAMPLES``) to keep ``make test`` short.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from wugan.settings import Settings
from wugan.web.app import create_app

from .conftest import TestClient, fixed_clock, login
from .factories import SECRET

MAX_EXAMPLES = 25
USERS = {"anonymous": None, "assistant": "xly1", "reviewer": "shenhe", "police": "gongan", "analyst": "fenxi",
         "admin": "admin"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # schemathesis' own dependencies


class _CurrentApp:
    """The ASGI app the schema's cases call: each test points it at its own app on a fresh store."""

    app = None

    calls = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self.calls += 1
        await self.app(scope, receive, send)


CURRENT = _CurrentApp()
# the schema does not depend on the data: read it once from an app without a store
CURRENT.app = create_app(Settings(home=Path("unused-home"), env="development", secret_key=SECRET))
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", CURRENT, config=schemathesis.Config.from_dict({"generation": {"mode": "all"}}))


@pytest.fixture(params=list(USERS))
def session(request, world):
    """The app on a fresh store, and what a logged-in client sends: the session cookie and the CSRF header."""
    app = create_app(world.settings, clock=fixed_clock)
    CURRENT.app = app
    username = USERS[request.param]
    if username is None:
        return {}, {}
    with TestClient(app) as client:
        csrf = login(client, username)
        cookies = {"wugan_session": client.cookies["wugan_session"]}
    return cookies, {"X-CSRF-Token": csrf}


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
def test_the_api_keeps_its_schema_for_every_role(case, session):
    cookies, headers = session
    response = case.call(cookies=cookies, headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)

