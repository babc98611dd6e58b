"""Reverse, assign visits and send the day's notices (wugan_assign).

Starts once every life-event DAG has acted on the day (all ``wugan://cases/*``
Assets updated). Stops what still runs for the persons the lake says have
died (approvals of any event, the extracts' benefits), fills this week's
free visits of each village's assistants from the backlog, then drains the
notice outbox. All are idempotent: a payment is stopped once, a task
assigned once, a notice sent once.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from wugan.orchestration import DEFAULT_ARGS, EVENTS, START, cases_asset


@dag(
    dag_id="wugan_assign",
    schedule=[cases_asset(e) for e in EVENTS],
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
    def reverse(day: str) -> dict:
        import datetime as dt

        from wugan.orchestration import settings_from_airflow
        from wugan.pipeline import stage_reverse

        return vars(stage_reverse(settings_from_airflow(), day=dt.date.fromisoformat(day)))

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
    reverse(day) >> assign(day) >> notify(day)


wugan_assign()
