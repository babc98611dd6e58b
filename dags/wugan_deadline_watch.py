"""Deadline watch (wugan_deadline_watch).

Every morning at 06:00 China time: bundle items not done or rejected and
visit tasks not done whose due date has passed are escalated once — an alert
for the item's department, the case's lead department (when different) and
civil affairs for visits — and marked ``escalated_on`` the run's day.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from wugan.orchestration import DEFAULT_ARGS, START


@dag(
    dag_id="wugan_deadline_watch",
    schedule="0 6 * * *",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["wugan", "oversight", "deadlines"],
    doc_md=__doc__,
)
def wugan_deadline_watch():
    @task
    def escalate(**context) -> int:
        from wugan.orchestration import day_of, settings_from_airflow
        from wugan.pipeline import stage_escalate

        return stage_escalate(settings_from_airflow(), day=day_of(context))

    escalate()


wugan_deadline_watch()
