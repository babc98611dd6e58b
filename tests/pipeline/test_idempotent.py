"""Reruns change nothing, on SQLite and on a real PostgreSQL server (killed runs: ``test_killed``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import START, synth_city
from tests.pipeline.snapshot import snapshot
from wugan.pipeline import run
from wugan.settings import get_settings

DAYS = 8


@pytest.fixture(scope="module")
def small_city(tmp_path_factory) -> Path:
    return synth_city(tmp_path_factory.mktemp("small"), persons=6_000, days=DAYS, seed=11)


def _home(small_city: Path, tmp_path: Path, name: str) -> Path:
    home = tmp_path / name
    shutil.copytree(small_city, home)
    return home


def _run_cli(home: Path, url: str) -> subprocess.Popen:
    env = {**os.environ, "WUGAN_HOME": str(home), "WUGAN_DB_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "wugan", "run", "--start", START.isoformat(), "--days", str(DAYS)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _outbox(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in (home / "outbox").rglob("*.txt"))


def test_running_the_same_window_twice_changes_nothing(small_city, tmp_path, store_url):
    home = _home(small_city, tmp_path, "twice")
    settings = get_settings(home).model_copy(update={"db_url": store_url})
    run(settings, start=START, days=DAYS)
    first = snapshot(store_url)
    assert sum(len(rows) for rows in first.values()) > 100
    assert first["cases"] and first["items"] and first["tasks"] and first["notices"]
    run(settings, start=START, days=DAYS)
    assert snapshot(store_url) == first
