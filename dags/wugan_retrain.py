"""Weekly retraining of the hardship model (wugan_retrain).

Every Monday at 03:00 China time: retrains the hardship score on the labels
the visits and reviews produced up to the run's day
(``wugan.scoring.train.retrain``); the model and its card land in the
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
    def retrain(**context) -> None:
        import importlib
        import logging

        from wugan.orchestration import day_of, settings_from_airflow

        train = importlib.import_module("wugan.scoring.train").retrain  # the hardship model's package
        result = train(settings_from_airflow(), as_of=day_of(context))
        logging.getLogger(__name__).info("retrained: %s", result)

    retrain()


wugan_retrain()
