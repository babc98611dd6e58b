"""Notice outbox drain (wugan_notices).

Every hour: sends notices still pending in the outbox (those whose sending
failed in ``wugan_assign``, retried a few times per drain). Each notice is
sent once; a rerun sends nothing new.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from wugan.orchestration import DEFAULT_ARGS, START


@dag(
    dag_id="wugan_notices",
    schedule="15 * * * *",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["wugan", "notices"],
    doc_md=__doc__,
)
def wugan_notices():
    @task
    def drain(**context) -> dict:
        from wugan.orchestration import day_of, notice_sender, settings_from_airflow
        from wugan.pipeline import stage_notify

        report = stage_notify(settings_from_airflow(), day=day_of(context), sender=notice_sender())
        return {k: v for k, v in vars(report).items() if isinstance(v, int)}

    drain()


wugan_notices()
