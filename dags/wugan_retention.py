"""Personal data retention (wugan_retention).

Every night at 03:00 China time: bundle cases closed more than
``WUGAN_RETENTION_DAYS`` (default 1095) before the run's day lose their
personal data — ID numbers, households, explanations' values, visit notes,
item results, notice addresses and texts — each with an audit row. Routes,
amounts, dates and statuses stay. A rerun of the same day purges nothing more.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from wugan.orchestration import DEFAULT_ARGS, START


@dag(
    dag_id="wugan_retention",
    schedule="0 3 * * *",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["wugan", "oversight", "privacy"],
    doc_md=__doc__,
)
def wugan_retention():
    @task
    def purge(**context) -> int:
        from wugan.cases.retention import purge_personal_data
        from wugan.orchestration import day_of, settings_from_airflow

        return purge_personal_data(settings_from_airflow(), day=day_of(context)).cases

    purge()


wugan_retention()
