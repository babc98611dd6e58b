"""The DAGs, run with ``dag.test()`` day by day, fill the case store exactly as ``wugan run`` does.

Asset consumers do not start by themselves under ``dag.test()``, so each day
runs the ingest DAG, then every life-event DAG, then the case-store
consumers, in the order the scheduler would. The lake home and the case store
come from Airflow Variables (``AIRFLOW_VAR_WUGAN_HOME`` / ``..._DB_URL``), as
in production.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from tests.factories import START, synth_city
from tests.pipeline.snapshot import snapshot
from wugan.orchestration import EVENTS, TZ
from wugan.pipeline import counties, run
from wugan.settings import get_settings

DAYS = 3
DAG_ORDER = ("wugan_ingest", *(f"wugan_event_{e}" for e in EVENTS), "wugan_assign", "wugan_deadline_watch",
             "wugan_review_sample")


@pytest.fixture(scope="module")
def small_city(tmp_path_factory) -> Path:
    return synth_city(tmp_path_factory.mktemp("dag-city"), persons=6_000, days=DAYS, seed=11)


@pytest.fixture(scope="module")
def dags():
    """The DAGs parsed afresh, without retries: a failing task fails the test at once."""
    from airflow.dag_processing.dagbag import DagBag

    from tests.dags.conftest import DAGS

    bag = DagBag(dag_folder=str(DAGS))
    for dag in bag.dags.values():
        for t in dag.tasks:
            t.retries = 0
    return bag


def _run_dags(dagbag, days: int) -> None:
    for offset in range(days):
        when = dt.datetime.combine(START + dt.timedelta(days=offset), dt.time(23), tzinfo=TZ)
        for dag_id in DAG_ORDER:
            dag_run = dagbag.dags[dag_id].test(logical_date=when)
            assert dag_run.state == "success", (dag_id, when)


def _outbox(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home / "outbox")) for p in (home / "outbox").rglob("*.txt"))


def test_dags_fill_the_case_store_as_wugan_run_does_and_a_rerun_adds_nothing(
        airflow_db, dags, small_city, tmp_path, monkeypatch):
    dag_home, cli_home = tmp_path / "dags", tmp_path / "cli"
    shutil.copytree(small_city, dag_home)
    shutil.copytree(small_city, cli_home)
    dag_url, cli_url = f"sqlite:///{dag_home / 'cases.db'}", f"sqlite:///{cli_home / 'cases.db'}"
    monkeypatch.setenv("AIRFLOW_VAR_WUGAN_HOME", str(dag_home))
    monkeypatch.setenv("AIRFLOW_VAR_WUGAN_DB_URL", dag_url)

    _run_dags(dags, DAYS)
    by_dags = snapshot(dag_url)
    assert by_dags["cases"] and by_dags["items"] and by_dags["tasks"] and by_dags["notices"]

    cli_settings = get_settings(cli_home).model_copy(update={"db_url": cli_url})
    run(cli_settings, start=START, days=DAYS)
    by_cli = snapshot(cli_url)
    # The DAGs keep an offset per county, ``wugan run`` one for the whole city; each has read every batch
    # of its lake (whose numbers follow the order the feeds landed in). All else is equal.
    offsets = by_dags.pop("offsets")
    last = {home: max(int(p.read_text()) for p in [home / "lake" / "_ledger" / "_batch"]) for home in (dag_home, cli_home)}
    assert {(d, int(b), day) for d, _, b, day in offsets} == {(d, last[dag_home], str(START + dt.timedelta(days=DAYS - 1)))
                                                              for d, *_ in offsets}
    assert {(d, int(b)) for d, _, b, _ in by_cli.pop("offsets")} == {(d, last[cli_home]) for d, *_ in offsets}
    assert {scope for d, scope, _, _ in offsets if d != "reversal"} == set(counties(cli_settings))
    assert by_dags == by_cli
    assert _outbox(dag_home) == _outbox(cli_home) != []

    # Clearing and rerunning the same interval adds nothing.
    by_dags["offsets"] = offsets
    _run_dags(dags, DAYS)
    assert snapshot(dag_url) == by_dags
    assert _outbox(dag_home) == _outbox(cli_home)
