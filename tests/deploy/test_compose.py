"""docker-compose.yml parses, demands every secret and login, and runs only commands the installed tools have.

No Docker engine runs here: each service's command is checked against the
installed ``airflow`` and ``wugan`` CLIs (``--help`` in a subprocess with a
temporary AIRFLOW_HOME), the same binaries the native run starts, and the TLS
proxy's Caddyfile against Debian's ``caddy`` (``caddy validate``).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
BIN = Path(sys.executable).parent
SECRETS = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET",
           "AIRFLOW_API_SECRET_KEY", "WUGAN_SECRET_KEY", "WUGAN_PSEUDONYM_KEY", "AIRFLOW_USERS")
CADDYFILE = ROOT / "deploy" / "Caddyfile"
CREDENTIAL = re.compile(r"USER|PASS|SECRET|KEY|TOKEN|AUTH|CREDENTIAL", re.IGNORECASE)
REFERENCE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<modifier>[^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_has_every_service(compose):
    assert set(compose["services"]) >= {
        "postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
        "airflow-triggerer", "airflow-worker", "wugan-web", "proxy",
    }
    for name, service in compose["services"].items():
        if name != "airflow-init":
            assert "healthcheck" in service, name
    env = compose["services"]["airflow-worker"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:${REDIS_PASSWORD")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("/airflow")
    assert compose["services"]["wugan-web"]["environment"]["WUGAN_DB_URL"].endswith("/wugan_cases")


def test_every_secret_must_be_set_and_has_no_default():
    text = COMPOSE.read_text()
    seen = {m["name"] for m in REFERENCE.finditer(text)}
    assert set(SECRETS) <= seen
    for match in REFERENCE.finditer(text):
        if match["name"] in SECRETS:
            assert match["modifier"].startswith(":?"), match.group(0)


def test_no_credential_has_a_default(compose):
    """Not a password, not a login: ``${VAR:-default}`` never names a credential, nor does a literal value."""
    text = COMPOSE.read_text()
    for match in REFERENCE.finditer(text):
        if CREDENTIAL.search(match["name"]):
            assert match["modifier"].startswith(":?"), match.group(0)
    assert "admin:admin" not in text
    for name, service in compose["services"].items():
        env = service.get("environment") or {}
        for key, value in (env.items() if isinstance(env, dict) else ()):
            if CREDENTIAL.search(key) and not key.endswith(("_FILE", "_USER")):
                assert "${" in str(value) and ":?" in str(value), (name, key, value)


def test_only_the_tls_proxy_publishes_ports(compose):
    published = {name for name, service in compose["services"].items() if service.get("ports")}
    assert published == {"proxy"}
    proxy = compose["services"]["proxy"]
    assert proxy["image"].split(":")[0] == "caddy"  # the official image
    assert {p.split(":")[-1].split("/")[0] for p in proxy["ports"]} == {"80", "443"}
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    for behind in ("wugan-web", "airflow-apiserver"):
        assert behind in proxy["depends_on"]
        assert compose["services"][behind]["environment"]["FORWARDED_ALLOW_IPS"] == "*"


def test_the_proxy_fronts_the_web_app_and_the_airflow_ui():
    text = CADDYFILE.read_text()
    assert re.search(r"\{\$WUGAN_SITE\}\s*\{[^}]*reverse_proxy wugan-web:8000", text, re.S)
    assert re.search(r"\{\$AIRFLOW_SITE\}\s*\{.*reverse_proxy airflow-apiserver:8080", text, re.S)
    assert "Strict-Transport-Security" in text
    assert not re.search(r"^\s*(tls\s+off|auto_https\s+off|http://)", text, re.M)  # nothing served in clear


def test_the_caddyfile_is_valid_for_caddy(tmp_path):
    caddy = shutil.which("caddy")
    if caddy is None:
        if os.environ.get("CI"):
            pytest.fail("caddy is not installed (.ci/run installs Debian's caddy)")
        pytest.skip("caddy is not installed")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path), "WUGAN_SITE": "wugan.example.test",
           "AIRFLOW_SITE": "airflow.example.test"}
    done = subprocess.run([caddy, "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Valid configuration" in done.stdout + done.stderr
    broken = tmp_path / "Caddyfile"
    broken.write_text(CADDYFILE.read_text().replace("reverse_proxy wugan-web:8000", "reverse_proxy {"))
    done = subprocess.run([caddy, "validate", "--config", str(broken), "--adapter", "caddyfile"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0  # the check can fail


def test_init_script_creates_both_databases(compose):
    sql = (ROOT / "deploy" / "init-databases.sql").read_text()
    assert "CREATE DATABASE airflow;" in sql and "CREATE DATABASE wugan_cases;" in sql


def _commands() -> list[tuple[str, list[str]]]:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    return [(name, s["command"]) for name, s in services.items()
            if "command" in s and s.get("image", "").startswith("wugan:")]  # the project's image only


def _subcommand(command: list[str]) -> list[str]:
    """The CLI words of a command, without its options."""
    words = []
    for word in command:
        if word.startswith("-"):
            break
        words.append(word)
    return words


@pytest.mark.parametrize(("service", "command"), _commands(), ids=[name for name, _ in _commands()])
def test_every_command_exists_in_the_installed_cli(service, command, tmp_path):
    words = _subcommand(command)
    if words[:2] == ["celery", "worker"] and importlib.util.find_spec("airflow.providers.celery") is None:
        pytest.skip("apache-airflow-providers-celery is not installed here (the official image has it)")
    program = words[1:] if words[0] == "wugan" else words
    exe = BIN / ("wugan" if words[0] == "wugan" else "airflow")
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}"}
    done = subprocess.run([str(exe), *program, "--help"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (service, done.stderr[-2000:])
    assert "usage" in done.stdout.lower()
    for option in (w for w in command if w.startswith("--")):
        assert option in done.stdout, (service, option)
