"""docker-compose.yml parses, demands every secret, and runs only commands the installed tools have.

No Docker engine runs here: each service's command is checked against the
installed ``airflow`` and ``wugan`` CLIs (``--help`` in a subprocess with a
temporary AIRFLOW_HOME), the same binaries the native run starts.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
BIN = Path(sys.executable).parent
SECRETS = ("POSTGRES_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET", "AIRFLOW_API_SECRET_KEY",
           "WUGAN_SECRET_KEY")
REFERENCE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<modifier>[^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_has_every_service(compose):
    assert set(compose["services"]) >= {
        "postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
        "airflow-triggerer", "airflow-worker", "wugan-web",
    }
    for name, service in compose["services"].items():
        if name != "airflow-init":
            assert "healthcheck" in service, name
    env = compose["services"]["airflow-worker"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
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


def test_init_script_creates_both_databases(compose):
    sql = (ROOT / "deploy" / "init-databases.sql").read_text()
    assert "CREATE DATABASE airflow;" in sql and "CREATE DATABASE wugan_cases;" in sql


def _commands() -> list[tuple[str, list[str]]]:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    return [(name, s["command"]) for name, s in services.items() if "command" in s]


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
