"""Life-event DAGs (wugan_event_<type>): detect → assess → act, a county at a time.

One DAG per life event (birth, death, retirement, medical_hardship, old_age),
started by the lake Assets of the feeds it reads once all of them have
landed. ``counties`` lists the counties; detect, assess and act are mapped
over them (each task reads the run's day from its triggering Asset events), so a province fans out over the Celery
workers. The pipeline is a reconciler: detect reads the lake's batches after
the county's offset (and, for date triggers, everyone due), act writes the
new events, corrects the changed ones, stores the shadow rule versions'
decisions on the new events and moves the offset in one transaction;
``publish`` updates ``wugan://cases/<type>``, which starts reversals, task
assignment, notices and the review sample. A rerun adds nothing; a late or
corrected delivery is acted on by the next run.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from wugan.orchestration import DEFAULT_ARGS, EVENT_FEEDS, START, cases_asset, feed_asset


def event_dag(event_type: str):
    outlet = cases_asset(event_type)

    @dag(
        dag_id=f"wugan_event_{event_type}",
        schedule=[feed_asset(t) for t in EVENT_FEEDS[event_type]],
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["wugan", "events", event_type],
        doc_md=__doc__,
    )
    def _dag():
        @task
        def counties() -> list[str]:
            """The counties to fan out over (the case store migrated first)."""
            from wugan.orchestration import settings_from_airflow
            from wugan.pipeline import counties, ensure_store

            settings = settings_from_airflow()
            ensure_store(settings.case_store_url)
            return counties(settings)

        @task
        def detect(county: str, **context) -> dict:
            from wugan.orchestration import day_of, settings_from_airflow
            from wugan.pipeline import stage_detect

            path = stage_detect(settings_from_airflow(), event_type=event_type, day=day_of(context), county=county)
            return {"county": county, "path": str(path)}

        @task
        def assess(batch: dict) -> dict:
            from pathlib import Path

            from wugan.orchestration import settings_from_airflow
            from wugan.pipeline import stage_assess

            path = stage_assess(settings_from_airflow(), events_path=Path(batch["path"]))
            return {"county": batch["county"], "path": str(path)}

        @task
        def act(batch: dict, **context) -> dict:
            from pathlib import Path

            from wugan.orchestration import day_of, settings_from_airflow
            from wugan.pipeline import stage_act

            report = stage_act(settings_from_airflow(), event_type=event_type, decisions_path=Path(batch["path"]),
                               day=day_of(context), county=batch["county"])
            return {"county": batch["county"], "events": report.events, "cases": report.cases,
                    "items": report.items, "tasks": report.tasks, "shadow": report.shadow,
                    "corrected": report.corrections.corrected, "reversed": report.corrections.reversed,
                    "decisions": dict(report.decisions)}

        @task(outlets=[outlet])
        def publish(reports: list[dict], *, outlet_events, **context) -> dict:
            """Tell the case-store consumers that this event's batch for the day is in."""
            from wugan.orchestration import day_of

            totals = {k: sum(r[k] for r in reports)
                      for k in ("events", "cases", "items", "tasks", "shadow", "corrected", "reversed")}
            summary = {"day": day_of(context).isoformat(), "counties": len(reports), **totals}
            outlet_events[outlet].extra = summary
            return summary

        acted = act.expand(batch=assess.expand(batch=detect.expand(county=counties())))
        publish(acted)

    return _dag()


for _event_type in EVENT_FEEDS:
    event_dag(_event_type)
