"""Weekly retraining of the hardship model (wugan_retrain).

Every Monday at 03:00 China time: retrains the hardship score on the labels
the visits and reviews produced up to the run's day
(``wugan.pipeline.stage_retrain``); the model and its card land in the
models folder.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from wugan.orchestration import DEFAULT_ARGS, START


@dag(
    dag_id="wugan_retrain",
    schedule="0 3 * * 1",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["wugan", "model", "training"],
    doc_md=__doc__,
)
def wugan_retrain():
    @task
    def retrain(**context) -> str:
        from wugan.orchestration import day_of, settings_from_airflow
        from wugan.pipeline import stage_retrain

        return str(stage_retrain(settings_from_airflow(), day=day_of(context)))

    retrain()


wugan_retrain()
