"""The DAG files parse, follow the house policy, and touch nothing while parsing."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
import time
from types import SimpleNamespace

import pytest

from tests.dags.conftest import AIRFLOW_ENV, DAGS
from wugan.orchestration import EVENT_FEEDS, EVENTS, FEEDS, TZ, connection_url, day_of

DAG_IDS = {
    "wugan_ingest", *(f"wugan_event_{e}" for e in EVENTS), "wugan_assign", "wugan_review_sample",
    "wugan_deadline_watch", "wugan_notices", "wugan_retrain", "wugan_retention",
}


def test_every_dag_file_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == DAG_IDS


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS))
def test_dag_policy(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.tags and "wugan" in dag.tags
    assert dag.owner == "wugan"
    assert dag.doc_md, "the module docstring documents the DAG"
    assert dag.catchup is False  # backfills are explicit (airflow backfill create)
    assert dag.max_active_runs == 1  # days run in order: watermarks only move forward
    dag.check_cycle()
    for t in dag.tasks:
        assert t.retries >= 1, t.task_id
        assert t.retry_exponential_backoff, t.task_id
        assert t.retry_delay >= dt.timedelta(seconds=10), t.task_id


def test_feeds_and_events_match_the_package():
    from wugan.events import EVENT_TYPES
    from wugan.lake import CONTRACTS

    assert FEEDS == tuple(CONTRACTS)
    assert set(EVENTS) == set(EVENT_TYPES)
    assert all(set(feeds) <= set(FEEDS) for feeds in EVENT_FEEDS.values())


def _uris(condition) -> set[str]:
    """The URIs of the assets in a schedule condition (nested ``&`` / ``|``)."""
    if hasattr(condition, "objects"):
        return set().union(*(_uris(o) for o in condition.objects))
    return {condition.uri}


def test_ingest_updates_one_asset_per_feed_and_events_are_data_aware(dagbag):
    ingest = dagbag.dags["wugan_ingest"]
    assert {o.uri for t in ingest.tasks for o in t.outlets} == {f"wugan://lake/{t}" for t in FEEDS}
    for event_type, feeds in EVENT_FEEDS.items():
        dag = dagbag.dags[f"wugan_event_{event_type}"]
        assert _uris(dag.timetable.asset_condition) == {f"wugan://lake/{t}" for t in feeds}
        # the stages fan out per county
        assert sorted(t.task_id for t in dag.tasks if t.is_mapped) == ["act", "assess", "detect"]
        assert {o.uri for t in dag.tasks for o in t.outlets} == {f"wugan://cases/{event_type}"}
    for dag_id in ("wugan_assign", "wugan_review_sample"):
        assert _uris(dagbag.dags[dag_id].timetable.asset_condition) == {f"wugan://cases/{e}" for e in EVENTS}


PARSE = textwrap.dedent("""
    import json, socket, sys, time

    def refuse(*args, **kwargs):
        raise OSError("network access while parsing DAGs")

    socket.socket.connect = refuse
    socket.create_connection = refuse

    from airflow.sdk import Connection, Variable

    def no_lookup(*args, **kwargs):
        raise RuntimeError("Variable or Connection looked up while parsing DAGs")

    Variable.get = no_lookup
    Connection.get = no_lookup

    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=sys.argv[1])
    seconds = time.perf_counter() - started
    heavy = sorted(m for m in ("polars", "duckdb", "sklearn", "wugan.pipeline", "wugan.lake") if m in sys.modules)
    print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": sorted(bag.dag_ids),
                      "seconds": seconds, "heavy": heavy}))
""")


def test_parsing_touches_no_database_network_or_variable(tmp_path):
    """Parse in a fresh interpreter whose case store and lake point nowhere; nothing may be created."""
    env = {**os.environ, **AIRFLOW_ENV, "WUGAN_HOME": str(tmp_path / "home"),
           "WUGAN_DB_URL": f"sqlite:///{tmp_path / 'nowhere' / 'cases.db'}",
           "AIRFLOW_VAR_WUGAN_HOME": str(tmp_path / "var-home")}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PARSE, str(DAGS)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert set(result["dags"]) == DAG_IDS
    assert result["heavy"] == [], "heavy modules imported at parse time"
    assert list(tmp_path.iterdir()) == [], "parsing created files"
    assert result["seconds"] < 5, f"parsing took {result['seconds']:.1f}s"
    print(f"parse {result['seconds']:.2f}s, interpreter {elapsed:.1f}s")


@pytest.mark.parametrize(("context", "day"), [
    # a scheduled run at 23:00 China time works on that day, though it is 15:00 UTC
    ({"data_interval_end": dt.datetime(2025, 3, 2, 15, 0, tzinfo=dt.UTC)}, dt.date(2025, 3, 2)),
    # a manual run without a data interval falls back to the logical date
    ({"data_interval_end": None, "logical_date": dt.datetime(2025, 3, 2, 16, 30, tzinfo=dt.UTC)},
     dt.date(2025, 3, 3)),
    # an asset-triggered run takes the latest day its triggering events carry
    ({"triggering_asset_events": {"a": [SimpleNamespace(extra={"day": "2025-03-01"})],
                                  "b": [SimpleNamespace(extra={"day": "2025-03-04"}), SimpleNamespace(extra={})]},
      "data_interval_end": dt.datetime(2026, 1, 1, tzinfo=TZ)}, dt.date(2025, 3, 4)),
    # nothing else: when the run was due
    ({"dag_run": SimpleNamespace(run_after=dt.datetime(2025, 3, 5, 1, 0, tzinfo=TZ))}, dt.date(2025, 3, 5)),
])
def test_the_day_of_a_run_comes_from_its_context_never_the_clock(context, day):
    assert day_of(context) == day


@pytest.mark.parametrize(("conn", "url"), [
    # a postgres Connection (AIRFLOW_CONN_WUGAN_CASES=postgres://...) becomes a psycopg 3 URL
    (dict(conn_type="postgres", login="wugan", password="p@ss/word", host="db", port=5433, schema="cases",
          extra_dejson={}), "postgresql+psycopg://wugan:p%40ss%2Fword@db:5433/cases"),
    # an explicit SQLAlchemy URL in the extra wins
    (dict(conn_type="generic", extra_dejson={"sqlalchemy_url": "sqlite:////srv/cases.db"}),
     "sqlite:////srv/cases.db"),
])
def test_connection_becomes_a_sqlalchemy_url(conn, url):
    fields = dict(conn_id="wugan_cases", login=None, password=None, host=None, port=None, schema=None) | conn
    assert connection_url(SimpleNamespace(**fields)) == url
