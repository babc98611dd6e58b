"""Reruns change nothing; a run killed at any point and rerun ends where an uninterrupted one does.

Both on SQLite and on a real PostgreSQL server.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
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


def test_a_killed_run_rerun_ends_as_an_uninterrupted_run(small_city, tmp_path, store_url, request):
    baseline_url = store_url
    baseline_home = _home(small_city, tmp_path, "baseline")
    proc = _run_cli(baseline_home, baseline_url)
    assert proc.wait(timeout=600) == 0, proc.stderr.read().decode()
    proc.stderr.close()
    full_time_hint = 1.0
    expected, expected_outbox = snapshot(baseline_url), _outbox(baseline_home)

    rng = random.Random(20251121)
    for attempt in range(3):
        home = _home(small_city, tmp_path, f"killed{attempt}")
        url = (
            f"sqlite:///{home / 'cases.db'}" if store_url.startswith("sqlite")
            else _fresh_pg(request)
        )
        proc = _run_cli(home, url)
        time.sleep(rng.uniform(2.0, 2.0 + 6.0 * full_time_hint))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        rerun = _run_cli(home, url)
        assert rerun.wait(timeout=600) == 0, rerun.stderr.read().decode()
        rerun.stderr.close()
        assert snapshot(url) == expected, f"kill point {attempt}"
        assert _outbox(home) == expected_outbox


def _fresh_pg(request) -> str:
    from tests.conftest import new_pg_database

    return new_pg_database(request.getfixturevalue("pg_server"))
