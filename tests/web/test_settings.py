"""Settings make an insecure production impossible by type: a closed environment, checked secrets, typed lifetimes."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeTimedSerializer
from pydantic import ValidationError

from wugan.settings import Settings
from wugan.web.app import create_app

from .conftest import TestClient, fixed_clock
from .factories import SECRET

STRONG = "a-real-production-secret-of-enough-length-0123456789"

pytestmark = pytest.mark.filterwarnings("error")


@pytest.mark.parametrize("spelling", ["Production", "PRODUCTION", " production ", "production\n"])
def test_any_spelling_of_production_is_production(tmp_path, spelling):
    settings = Settings(home=tmp_path, env=spelling, secret_key=STRONG)
    assert settings.env == "production"


@pytest.mark.parametrize("spelling", ["Production", "production"])
@pytest.mark.parametrize("key", ["change-me", "short", "secret"])
def test_production_with_a_placeholder_secret_does_not_start(tmp_path, spelling, key):
    with pytest.raises(ValidationError, match="WUGAN_SECRET_KEY"):
        Settings(home=tmp_path, env=spelling, secret_key=key)


@pytest.mark.parametrize("word", ["prod", "staging", "dev", ""])
def test_an_environment_outside_the_set_is_refused(tmp_path, word):
    with pytest.raises(ValidationError):
        Settings(home=tmp_path, env=word)


def test_the_environment_variable_is_read_and_normalised(tmp_path, monkeypatch):
    monkeypatch.setenv("WUGAN_ENV", "Production")
    monkeypatch.setenv("WUGAN_SECRET_KEY", STRONG)
    monkeypatch.setenv("WUGAN_SESSION_HOURS", "2.5")
    settings = Settings(home=tmp_path)
    assert settings.env == "production"
    assert settings.session_hours == 2.5
    assert STRONG not in repr(settings)  # secrets do not leak into logs or tracebacks


@pytest.mark.parametrize("hours", ["0", "-1", "1000"])
def test_a_session_lifetime_out_of_range_is_refused(tmp_path, monkeypatch, hours):
    monkeypatch.setenv("WUGAN_SESSION_HOURS", hours)
    with pytest.raises(ValidationError):
        Settings(home=tmp_path)


def test_production_without_a_secret_refuses_to_serve(tmp_path):
    with pytest.raises(RuntimeError, match="WUGAN_SECRET_KEY"):
        create_app(Settings(home=tmp_path, env="Production"))


def test_production_without_a_pseudonym_key_refuses_to_serve(tmp_path):
    """Analysts' pseudonyms need their own key: derived from nothing they would change at every restart."""
    with pytest.raises(RuntimeError, match="WUGAN_PSEUDONYM_KEY"):
        create_app(Settings(home=tmp_path, env="production", secret_key=STRONG))


def test_production_serves_secure_cookies(world):
    settings = world.settings.model_copy(update={"env": "production", "secret_key": STRONG, "pseudonym_key": STRONG})
    app = create_app(settings, clock=fixed_clock)
    with TestClient(app, base_url="https://testserver") as client:
        page = client.get("/login")
        assert "secure" in page.headers["set-cookie"].lower()


def test_a_forged_session_cookie_is_refused(app, world):
    """Someone who knows (or guessed) the signing key still cannot make up a session."""
    from wugan.cases.db import session_scope
    from wugan.cases.users import User

    with session_scope(world.settings.case_store_url) as s:
        admin_id = s.query(User).filter_by(username="admin").one().id
    forged = URLSafeTimedSerializer(SECRET, salt="wugan-session").dumps({"u": admin_id, "c": "x"})
    with TestClient(app) as client:
        client.cookies.set("wugan_session", forged)
        assert client.get("/api/me").status_code == 401
        assert client.get("/admin", follow_redirects=False).status_code == 303
