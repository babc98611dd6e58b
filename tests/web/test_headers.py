"""Security headers on every response, no API documentation in production, and 4xx for bodies of the wrong kind."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from wugan.web.app import create_app

from .conftest import TestClient, fixed_clock

pytestmark = pytest.mark.filterwarnings("error")

STRONG = "a-real-production-secret-of-enough-length-0123456789"
PERSONAL = {"xly1": ["/tasks", "/tasks/{t_east}", "/api/tasks", "/api/tasks/{t_east}"],
            "shenhe": ["/review", "/cases", "/cases/{death}", "/work", "/overdue", "/api/cases", "/api/overdue"],
            "fenxi": ["/analytics", "/api/analytics"],
            "admin": ["/admin"]}


def _paths(world, username):
    ids = {"t_east": world.tasks["t_east"], "death": world.cases["death"]}
    return [p.format(**ids) for p in PERSONAL[username]]


@pytest.mark.parametrize("username", list(PERSONAL))
def test_personal_pages_carry_the_security_headers_and_are_never_cached(client_for, world, username):
    client = client_for(username)
    for path in _paths(world, username) + ["/login"]:
        response = client.get(path)
        assert response.status_code == 200, path
        h = response.headers
        csp = h["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-eval" not in csp and "script-src 'self' 'unsafe-inline'" not in csp, path
        assert h["x-content-type-options"] == "nosniff", path
        assert h["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin"), path
        assert h["x-frame-options"] == "DENY", path
        assert "no-store" in h["cache-control"], path
        assert "strict-transport-security" not in h, path  # plain HTTP: HSTS would be ignored anyway


def test_hsts_is_sent_behind_tls(app):
    with TestClient(app, base_url="https://wugan.example") as client:
        assert "max-age=" in client.get("/login").headers["strict-transport-security"]


def test_hsts_follows_the_proxys_forwarded_scheme(world):
    """Behind the TLS proxy uvicorn rewrites the scheme from X-Forwarded-Proto; the headers follow it."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    app = ProxyHeadersMiddleware(create_app(world.settings, clock=fixed_clock), trusted_hosts="*")
    with TestClient(app) as client:
        response = client.get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.1"})
        assert "strict-transport-security" in response.headers


def test_static_files_may_be_cached_but_not_sniffed(client_for):
    response = client_for("xly1").get("/static/app.css")
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "no-store" not in response.headers.get("cache-control", "")


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"])
def test_production_publishes_no_api_documentation(world, path):
    settings = world.settings.model_copy(update={"env": "production", "secret_key": STRONG, "pseudonym_key": STRONG})
    with TestClient(create_app(settings, clock=fixed_clock), base_url="https://testserver") as client:
        assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_no_page_loads_scripts_from_elsewhere(app, path):
    """Development has the schema at /openapi.json but no documentation page pulling scripts from a CDN."""
    with TestClient(app) as client:
        response = client.get(path)
        assert response.status_code == 404 or "cdn" not in response.text.lower()
        assert client.get("/openapi.json").status_code == 200


def _api_posts(app) -> list[str]:
    return [r.path for r in app.routes if isinstance(r, APIRoute) and r.path.startswith("/api") and "POST" in r.methods]


def test_every_api_post_answers_a_form_encoded_body_with_a_4xx(app, client_for, world):
    ids = {"task_id": world.tasks["t_east"], "decision_id": world.decisions["old_age"],
           "item_id": world.items["cancel_hukou"]}
    posts = _api_posts(app)
    assert posts, "the API has POST endpoints"
    for username in ("xly1", "shenhe", "gongan", "admin"):
        client = client_for(username)
        for path in posts:
            url = path.format(**ids)
            for headers in ({"X-CSRF-Token": client.csrf}, {}):
                response = client.post(url, data={"verdict": "confirmed", "outcome": "confirmed", "action": "start",
                                                  "csrf_token": client.csrf}, headers=headers)
                assert 400 <= response.status_code < 500, (username, url, response.status_code, response.text[:200])
                assert response.headers["content-type"].startswith("application/json"), url
