"""Deadline watch and the take-up report (wugan_deadline_watch).

Every morning at 06:00 China time: bundle items not done or rejected and
visit tasks not done whose due date has passed are escalated once — an alert
for the item's department, the case's lead department (when different) and
civil affairs for visits — and marked ``escalated_on`` the run's day. Then
the take-up report (entitlements the lake implies that have not reached
people, and why) is written for the back office and the analyst page.
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

    @task
    def report(**context) -> str:
        from wugan.orchestration import day_of, settings_from_airflow
        from wugan.pipeline import stage_report

        return str(stage_report(settings_from_airflow(), day=day_of(context)))

    escalate() >> report()


wugan_deadline_watch()
