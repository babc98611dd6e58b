"""Daily review sample of instant approvals (wugan_review_sample).

Starts once every life-event DAG has acted on the day. Marks a deterministic
sample (a hash of the decision id) of the day's instant approvals
``review='sampled'`` for the back office, at each rule set's rate in
``rules/review/rates.yaml`` (higher for risky rule sets and for a rule set
version first seen within 30 days). A rerun samples the same decisions.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from wugan.orchestration import DEFAULT_ARGS, EVENTS, START, cases_asset


@dag(
    dag_id="wugan_review_sample",
    schedule=[cases_asset(e) for e in EVENTS],
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["wugan", "oversight", "review"],
    doc_md=__doc__,
)
def wugan_review_sample():
    @task
    def sample(**context) -> int:
        from wugan.orchestration import day_of, settings_from_airflow
        from wugan.pipeline import stage_sample

        return stage_sample(settings_from_airflow(), day=day_of(context))

    sample()


wugan_review_sample()
