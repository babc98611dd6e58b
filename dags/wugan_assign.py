"""Assign visits and send the day's notices (wugan_assign).

Starts once every life-event DAG has acted on the day (all ``wugan://cases/*``
Assets updated). Fills this week's free visits of each village's assistants
from the backlog, then drains the notice outbox. Both are idempotent: a task
is assigned once, a notice is sent once.
"""

from __future__ import annotations

import functools
import operator

from airflow.sdk import dag, task

from wugan.orchestration import DEFAULT_ARGS, EVENTS, START, cases_asset


@dag(
    dag_id="wugan_assign",
    schedule=functools.reduce(operator.and_, [cases_asset(e) for e in EVENTS]),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["wugan", "cases", "assistants", "notices"],
    doc_md=__doc__,
)
def wugan_assign():
    @task
    def plan(**context) -> str:
        from wugan.orchestration import day_of

        return day_of(context).isoformat()

    @task
    def assign(day: str) -> int:
        import datetime as dt

        from wugan.orchestration import settings_from_airflow
        from wugan.pipeline import stage_assign

        return stage_assign(settings_from_airflow(), day=dt.date.fromisoformat(day))

    @task
    def notify(day: str) -> dict:
        import datetime as dt

        from wugan.orchestration import notice_sender, settings_from_airflow
        from wugan.pipeline import stage_notify

        report = stage_notify(settings_from_airflow(), day=dt.date.fromisoformat(day), sender=notice_sender())
        return {k: v for k, v in vars(report).items() if isinstance(v, int)}

    day = plan()
    assign(day) >> notify(day)


wugan_assign()
