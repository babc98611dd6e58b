"""The retention DAG runs the package's purge on the run's day, with the case store from Airflow Variables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.factories import seed_hardship_case
from wugan.cases.db import migrate, session_scope
from wugan.cases.models import AuditLog, Case
from wugan.orchestration import TZ

DAY = dt.date(2028, 6, 1)


def test_the_retention_dag_purges_old_closed_cases_once(airflow_db, tmp_path, monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    from tests.dags.conftest import DAGS

    home = tmp_path / "home"
    home.mkdir()
    url = f"sqlite:///{home / 'cases.db'}"
    migrate(url)
    with session_scope(url) as s:
        old = seed_hardship_case(s, "old", status="closed", closed_days_ago=2000, day=DAY)
        recent = seed_hardship_case(s, "recent", status="closed", closed_days_ago=30, day=DAY)
    monkeypatch.setenv("AIRFLOW_VAR_WUGAN_HOME", str(home))
    monkeypatch.setenv("AIRFLOW_VAR_WUGAN_DB_URL", url)
    monkeypatch.setenv("WUGAN_RETENTION_DAYS", "1095")
    dag = DagBag(dag_folder=str(DAGS / "wugan_retention.py")).dags["wugan_retention"]  # parsed afresh
    for t in dag.tasks:
        t.retries = 0  # a failing task fails the test at once
    when = dt.datetime.combine(DAY, dt.time(3), tzinfo=TZ)
    for _ in range(2):  # a rerun of the same day purges nothing more
        assert dag.test(logical_date=when).state == "success"
    with session_scope(url) as s:
        people = set(s.scalars(select(Case.person_id)))
        assert old not in people and recent in people
        assert s.query(AuditLog).filter_by(action="personal_data_purged").count() == 1
