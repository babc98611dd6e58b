"""Land the department feeds (wugan_ingest).

Every evening at 23:00 China time, each department's extracts delivered up to
the run's day are validated and landed in the lake (bad rows quarantined with
a reason); regions land first, the other feeds in parallel. Each feed task
updates its Asset (``wugan://lake/<table>``) with the day it has landed, which
starts the life-event DAGs that read it; every landing is a numbered batch of
the lake's change log, whatever day its file name carries. Quarantined rows
and refused files that could hold an entitlement then become data-quality
items for their department. A rerun or backfill of a day lands nothing twice
(files already in the ledger are skipped).
"""

from __future__ import annotations

from airflow.sdk import dag, task

from wugan.orchestration import DEFAULT_ARGS, FEEDS, START, feed_asset


def land(table: str):
    asset = feed_asset(table)

    @task(task_id=f"land_{table}", outlets=[asset])
    def _land(*, outlet_events, **context) -> dict:
        from wugan.orchestration import day_of, settings_from_airflow
        from wugan.pipeline import stage_ingest

        day = day_of(context)
        report = stage_ingest(settings_from_airflow(), day=day, tables=[table])
        summary = {"day": day.isoformat(), "files": report.files_landed, "rows": report.rows[table],
                   "quarantined": report.quarantined[table], "refused": report.files_refused}
        outlet_events[asset].extra = summary
        return summary

    return _land()


@dag(
    dag_id="wugan_ingest",
    schedule="0 23 * * *",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["wugan", "lake", "ingest"],
    doc_md=__doc__,
)
def wugan_ingest():
    @task
    def quality(**context) -> dict:
        """Quarantined births and deaths become items for their department; a correction closes them."""
        from wugan.orchestration import day_of, settings_from_airflow
        from wugan.pipeline import stage_quality

        opened, closed = stage_quality(settings_from_airflow(), day=day_of(context))
        return {"opened": opened, "closed": closed}

    regions = land(FEEDS[0])
    landed = [land(table) for table in FEEDS[1:]]
    regions >> landed
    landed >> quality()


wugan_ingest()
