"""Life-event DAGs (wugan_event_<type>): detect → assess → act, a county at a time.

One DAG per life event (birth, death, retirement, medical_hardship, old_age),
started by the lake Assets of the feeds it reads once all of them have
landed the day. ``plan`` fixes the day and lists the counties; detect, assess
and act are mapped over the counties, so a province fans out over the Celery
workers. Act writes each county's batch and moves that county's watermark in
one transaction (then the shadow rule versions decide the same events);
``publish`` updates ``wugan://cases/<type>``, which starts
task assignment, notices and the review sample. Rerunning a day adds nothing.
"""

from __future__ import annotations

import functools
import operator

from airflow.sdk import dag, task

from wugan.orchestration import DEFAULT_ARGS, EVENT_FEEDS, START, cases_asset, feed_asset


def event_dag(event_type: str):
    schedule = functools.reduce(operator.and_, [feed_asset(t) for t in EVENT_FEEDS[event_type]])
    outlet = cases_asset(event_type)

    @dag(
        dag_id=f"wugan_event_{event_type}",
        schedule=schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["wugan", "events", event_type],
        doc_md=__doc__,
    )
    def _dag():
        @task
        def plan(**context) -> dict:
            """The run's day, the case store migrated, the counties to fan out over."""
            from wugan.orchestration import day_of, settings_from_airflow
            from wugan.pipeline import counties, ensure_store

            settings = settings_from_airflow()
            ensure_store(settings.case_store_url)
            return {"day": day_of(context).isoformat(), "counties": counties(settings)}

        @task
        def county_list(planned: dict) -> list[str]:
            return planned["counties"]

        @task
        def detect(county: str, planned: dict) -> dict:
            import datetime as dt

            from wugan.orchestration import settings_from_airflow
            from wugan.pipeline import stage_detect

            path = stage_detect(settings_from_airflow(), event_type=event_type,
                                day=dt.date.fromisoformat(planned["day"]), county=county)
            return {"county": county, "path": str(path)}

        @task
        def assess(batch: dict) -> dict:
            from pathlib import Path

            from wugan.orchestration import settings_from_airflow
            from wugan.pipeline import stage_assess

            path = stage_assess(settings_from_airflow(), events_path=Path(batch["path"]))
            return {"county": batch["county"], "path": str(path)}

        @task
        def act(batch: dict, planned: dict) -> dict:
            import datetime as dt
            from pathlib import Path

            from wugan.orchestration import settings_from_airflow
            from wugan.pipeline import stage_act, stage_shadow

            settings, day = settings_from_airflow(), dt.date.fromisoformat(planned["day"])
            report = stage_act(settings, decisions_path=Path(batch["path"]), day=day, county=batch["county"])
            shadow = stage_shadow(settings, decisions_path=Path(batch["path"]), day=day)
            return {"county": batch["county"], "events": report.events, "cases": report.cases,
                    "items": report.items, "tasks": report.tasks, "shadow": shadow,
                    "decisions": dict(report.decisions)}

        @task(outlets=[outlet])
        def publish(planned: dict, reports: list[dict], **context) -> dict:
            """Tell the case-store consumers that this event's batch for the day is in."""
            totals = {k: sum(r[k] for r in reports) for k in ("events", "cases", "items", "tasks", "shadow")}
            summary = {"day": planned["day"], "counties": len(planned["counties"]), **totals}
            context["outlet_events"][outlet].extra = summary
            return summary

        planned = plan()
        detected = detect.partial(planned=planned).expand(county=county_list(planned))
        assessed = assess.expand(batch=detected)
        acted = act.partial(planned=planned).expand(batch=assessed)
        publish(planned, acted)

    return _dag()


for _event_type in EVENT_FEEDS:
    event_dag(_event_type)
