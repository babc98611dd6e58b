"""Shared fixtures: synthetic cities, and case stores on SQLite and a real PostgreSQL server.

PostgreSQL comes from Debian's packages: the session starts its own server in
a temporary directory (as the ``postgres`` user when run as root) unless
``WUGAN_TEST_PG_URL`` names one. In CI (``CI=true``) a missing server fails
the run instead of skipping.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tests.factories import synth_city

os.environ.setdefault("WUGAN_ENV", "development")



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in cmd)]
    return cmd


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server for the session: ``postgresql+psycopg://.../`` without a database name."""
    if url := os.environ.get("WUGAN_TEST_PG_URL"):
        yield url.rstrip("/")
        return
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdb:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (.ci/run installs Debian's postgresql)")
        pytest.skip("PostgreSQL is not installed")
    bindir = Path(initdb[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="wugan-pg-"))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = _free_port()
    subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                 "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
    subprocess.run(
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o",
                      f"-k {sockets} -c listen_addresses=127.0.0.1 -p {port} -c fsync=off "
                      "-c synchronous_commit=off -c max_connections=200", "start"]),
        check=True, capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def new_pg_database(server: str) -> str:
    import psycopg

    name = f"wugan_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """An empty case store URL, once on SQLite and once on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cases.db'}"
    return new_pg_database(request.getfixturevalue("pg_server"))


@pytest.fixture(scope="session")
def city_template(tmp_path_factory) -> Path:
    """A clean synthetic city's inbox, made once; tests copy it."""
    return synth_city(tmp_path_factory.mktemp("city"), persons=20_000, days=21)


@pytest.fixture
def city(city_template, tmp_path) -> Path:
    """A fresh home holding a copy of the clean city's inbox and truth."""
    home = tmp_path / "home"
    shutil.copytree(city_template, home)
    return home


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False
