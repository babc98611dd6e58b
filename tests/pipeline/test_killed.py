"""A run killed at any commit boundary, or at a random moment, and rerun ends where an uninterrupted one does.

The kill comes from a fail point (``wugan.failpoints``): the CLI, started as
a subprocess, SIGKILLs itself the n-th time it passes a named boundary —
while the case store's schema is being created, after a file lands or is
refused, after a batch of events is acted on, after the notices are
rendered, after a notice is sent. A few kills at random moments cover the
places in between. The rerun (in process) must leave every table and the
outbox exactly as the uninterrupted run did.
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

DAYS = 4


@pytest.fixture(scope="module")
def small_city(tmp_path_factory) -> Path:
    """Faulty enough to refuse files (a missing and an unexpected column) and quarantine rows."""
    return synth_city(tmp_path_factory.mktemp("killed"), persons=3_000, days=DAYS, seed=5, corrupt=0.002)


def _home(city: Path, tmp_path: Path, name: str) -> Path:
    home = tmp_path / name
    shutil.copytree(city, home)
    return home


def _cli(home: Path, url: str, failpoints: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "WUGAN_HOME": str(home), "WUGAN_DB_URL": url}
    env.pop("WUGAN_FAILPOINTS", None)
    if failpoints:
        env["WUGAN_FAILPOINTS"] = failpoints
    return subprocess.Popen([sys.executable, "-m", "wugan", "run", "--start", START.isoformat(), "--days", str(DAYS)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _outbox(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in (home / "outbox").rglob("*.txt"))


def _rerun(home: Path, url: str) -> None:
    run(get_settings(home).model_copy(update={"db_url": url}), start=START, days=DAYS)


@pytest.fixture(scope="module")
def baseline(small_city, tmp_path_factory) -> tuple[dict, list[str], dict[str, int]]:
    """The uninterrupted run: its store, its outbox, and how often it passed each boundary."""
    home = _home(small_city, tmp_path_factory.mktemp("baseline"), "home")
    url = f"sqlite:///{home / 'cases.db'}"
    _rerun(home, url)
    ledger = list((home / "lake" / "_ledger").glob("*/*.json"))
    counts = {"ingest.landed": sum(1 for p in ledger if '"refused": null' in p.read_text()),
              "ingest.refused": sum(1 for p in ledger if '"refused": null' not in p.read_text()),
              "notify.sent": len(_outbox(home))}
    assert counts["ingest.refused"] >= 2 and counts["notify.sent"] >= 3
    return snapshot(url), _outbox(home), counts


def _walk(counts: dict[str, int]) -> list[str]:
    """Every kind of boundary, at its first, a middle and its last passing."""
    points = ["store.migrating=1", "reconcile.acted=1", "reconcile.acted=13", "notify.rendered=1",
              f"notify.rendered={DAYS}"]
    for name in ("ingest.landed", "ingest.refused", "notify.sent"):
        n = counts[name]
        points += [f"{name}={k}" for k in sorted({1, (n + 1) // 2, n})]
    return points


def _killed_then_rerun(small_city, home: Path, url: str | None, failpoints: str | None, *,
                       after: float | None = None) -> str:
    """Run the CLI into a fresh copy of the city, kill it, rerun; returns the case store's URL."""
    shutil.copytree(small_city, home)
    url = url or f"sqlite:///{home / 'cases.db'}"
    proc = _cli(home, url, failpoints)
    if after is not None:
        time.sleep(after)
        proc.send_signal(signal.SIGKILL)
    code = proc.wait(timeout=600)
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if failpoints:
        assert code == -signal.SIGKILL, f"{failpoints}: the run was not killed there ({code}): {err[-500:]}"
    _rerun(home, url)
    return url


def test_a_run_killed_at_every_commit_boundary_reruns_to_the_same_state(small_city, baseline, tmp_path):
    expected, outbox, counts = baseline
    for n, point in enumerate(_walk(counts)):
        home = tmp_path / f"walk{n}"
        url = _killed_then_rerun(small_city, home, None, point)
        assert snapshot(url) == expected, point
        assert _outbox(home) == outbox, point
        shutil.rmtree(home)


def test_a_run_killed_at_random_moments_reruns_to_the_same_state(small_city, baseline, tmp_path):
    expected, outbox, _ = baseline
    rng = random.Random(20261128)
    for attempt in range(3):
        home = tmp_path / f"random{attempt}"
        url = _killed_then_rerun(small_city, home, None, None, after=rng.uniform(3.0, 12.0))
        assert snapshot(url) == expected, f"random kill {attempt}"
        assert _outbox(home) == outbox


@pytest.fixture(scope="module")
def pg_baseline(small_city, tmp_path_factory, pg_server) -> tuple[dict, list[str]]:
    from tests.conftest import new_pg_database

    home = _home(small_city, tmp_path_factory.mktemp("pg_baseline"), "home")
    url = new_pg_database(pg_server)
    _rerun(home, url)
    return snapshot(url), _outbox(home)


@pytest.mark.parametrize("point", ["store.migrating=1", "reconcile.acted=7", "notify.sent=2"])
def test_on_postgresql_too(small_city, pg_baseline, tmp_path, pg_server, point):
    from tests.conftest import new_pg_database

    expected, outbox = pg_baseline
    home = tmp_path / "pg"
    url = _killed_then_rerun(small_city, home, new_pg_database(pg_server), point)
    assert snapshot(url) == expected, point
    assert _outbox(home) == outbox
