"""The stages wired once: ingest → detect → assess → act → notify.

Each stage is a function of the settings and its inputs, passing files, not
data: detect and assess write Parquet under ``<home>/work/<day>/``; act writes
the case store in one transaction. ``wugan run`` calls them day by day; the
Airflow DAGs call the same functions as tasks, a county at a time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import func, select

from wugan import lake
from wugan.assess import assess
from wugan.cases.act import ActReport, act, set_watermark
from wugan.cases.capacity import assign_week
from wugan.cases.db import ensure_store, session_scope
from wugan.cases.models import Case, Decision, Event, Item, Notice, OptOut, Task, Watermark
from wugan.cases.oversight import escalate_overdue, load_review_rates, sample_for_review
from wugan.events import EVENT_TYPES, detect, window_for
from wugan.lake.ingest import IngestReport, write_parquet
from wugan.notify.outbox import render_outbox
from wugan.notify.send import DrainReport, drain, sender_for
from wugan.settings import Settings

__all__ = [
    "EVENT_TYPES",
    "ensure_store",
    "stage_ingest",
    "stage_detect",
    "stage_assess",
    "stage_act",
    "stage_shadow",
    "stage_assign",
    "stage_escalate",
    "stage_sample",
    "stage_oversight",
    "stage_notify",
    "run_day",
    "run",
    "summary",
    "counties",
]

log = logging.getLogger(__name__)


def _work(settings: Settings, day: dt.date, event_type: str, scope: str) -> Path:
    folder = settings.home / "work" / day.isoformat() / event_type / scope
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def stage_ingest(settings: Settings, *, day: dt.date, tables: Iterable[str] | None = None) -> IngestReport:
    return lake.ingest(settings, until=day, tables=tables)


def counties(settings: Settings) -> list[str]:
    """County codes in the lake: the unit a province fans out over."""
    con = lake.connect(settings)
    return [r[0] for r in con.sql("SELECT region_code FROM regions WHERE level = 'county' ORDER BY 1").fetchall()]


def _opt_outs(settings: Settings) -> pl.DataFrame:
    with session_scope(ensure_store(settings.case_store_url)) as session:
        rows = session.execute(select(OptOut.person_id, OptOut.service)).all()
    return pl.DataFrame(rows, schema={"person_id": pl.String, "service": pl.String}, orient="row")


def _watermark(settings: Settings, event_type: str, scope: str) -> dt.date | None:
    with session_scope(ensure_store(settings.case_store_url)) as session:
        mark = session.get(Watermark, (event_type, scope))
        return mark.last_day if mark else None


def stage_detect(settings: Settings, *, event_type: str, day: dt.date, county: str | None = None) -> Path:
    """New events of one type for the window ending on ``day``; returns the Parquet path."""
    scope = county or "all"
    window = window_for(day, _watermark(settings, event_type, scope))
    con = lake.connect(settings)
    con.register("opt_outs", _opt_outs(settings).to_arrow())
    events = detect(con, event_type, window, rules_dir=settings.rules_dir, county=county)
    log.info("detected %d %s events in %s", events.height, event_type, scope)
    return write_parquet(events, _work(settings, day, event_type, scope) / "events.parquet")


def stage_assess(settings: Settings, *, events_path: Path) -> Path:
    events = pl.read_parquet(events_path)
    decided = assess(events, rules_dir=settings.rules_dir, settings=settings)
    return write_parquet(decided, events_path.with_name("decisions.parquet"))


def stage_act(settings: Settings, *, decisions_path: Path, day: dt.date, county: str | None = None) -> ActReport:
    """Write one batch into the case store and move the watermark, in one transaction."""
    decided = pl.read_parquet(decisions_path)
    event_type = decisions_path.parent.parent.name
    url = ensure_store(settings.case_store_url)
    with session_scope(url) as session:
        report = act(session, decided, day=day, rules_dir=settings.rules_dir)
        set_watermark(session, detector=event_type, scope=county or "all", day=day)
    return report


def stage_shadow(settings: Settings, *, decisions_path: Path, day: dt.date) -> int:
    """Shadow versions (``rules/lifecycle.yaml``) decide the same events; stored, never acted on."""
    from wugan.cases.shadow import decide_shadow

    decided = pl.read_parquet(decisions_path)
    if decided.is_empty():
        return 0
    events = pl.read_parquet(decisions_path.with_name("events.parquet"))
    with session_scope(ensure_store(settings.case_store_url)) as session:
        return decide_shadow(session, events, decided, rules_dir=settings.rules_dir, day=day)


def stage_assign(settings: Settings, *, day: dt.date) -> int:
    """Fill this week's free visits from the backlog."""
    con = lake.connect(settings)
    assistants = con.sql("SELECT assistant_id, village_code, weekly_capacity FROM assistants").pl()
    with session_scope(ensure_store(settings.case_store_url)) as session:
        return assign_week(session, day=day, assistants=assistants, rules_dir=settings.rules_dir)


def stage_escalate(settings: Settings, *, day: dt.date) -> int:
    """Deadline watch: overdue items and tasks alert their department, the lead department and the back office."""
    with session_scope(ensure_store(settings.case_store_url)) as session:
        return escalate_overdue(session, day=day, rules_dir=settings.rules_dir)


def stage_sample(settings: Settings, *, day: dt.date) -> int:
    """The back office's daily review sample of ``day``'s instant approvals."""
    rates = load_review_rates(settings.rules_dir)
    with session_scope(ensure_store(settings.case_store_url)) as session:
        return sample_for_review(session, day=day, rates=rates)


def stage_oversight(settings: Settings, *, day: dt.date) -> tuple[int, int]:
    """Escalate what is overdue and sample the day's instant approvals: (escalated, sampled)."""
    return stage_escalate(settings, day=day), stage_sample(settings, day=day)


def stage_notify(settings: Settings, *, day: dt.date, sender: str | None = None) -> DrainReport:
    """Render the notices acted decisions are owed into the outbox, then drain it."""
    url = ensure_store(settings.case_store_url)
    with session_scope(url) as session:
        rendered = render_outbox(session, settings=settings, day=day)
    report = drain(url, sender_for(sender, home=settings.home, env=settings.env), at=dt.datetime.combine(day, dt.time(23, 59)))
    report.rendered = rendered
    return report


@dataclass
class DayReport:
    day: dt.date
    ingest: IngestReport
    acted: dict[str, ActReport] = field(default_factory=dict)
    assigned: int = 0
    escalated: int = 0
    sampled: int = 0
    notices: DrainReport = field(default_factory=DrainReport)


def run_day(settings: Settings, day: dt.date, *, event_types: Iterable[str] = EVENT_TYPES,
            sender: str | None = None) -> DayReport:
    """Every stage for one day, the whole city as one scope."""
    report = DayReport(day=day, ingest=stage_ingest(settings, day=day))
    for event_type in event_types:
        events = stage_detect(settings, event_type=event_type, day=day)
        decisions = stage_assess(settings, events_path=events)
        report.acted[event_type] = stage_act(settings, decisions_path=decisions, day=day)
        stage_shadow(settings, decisions_path=decisions, day=day)
    report.assigned = stage_assign(settings, day=day)
    report.escalated, report.sampled = stage_oversight(settings, day=day)
    report.notices = stage_notify(settings, day=day, sender=sender)
    return report


def run(settings: Settings, *, start: dt.date, days: int, sender: str | None = None,
        progress: Callable[[DayReport], None] | None = None) -> list[DayReport]:
    reports = []
    for offset in range(days):
        reports.append(run_day(settings, start + dt.timedelta(days=offset), sender=sender))
        if progress is not None:
            progress(reports[-1])
    return reports


def summary(settings: Settings) -> dict[str, Counter]:
    """Counts a user checks after a run: what the case store and the quarantine hold."""
    out: dict[str, Counter] = {}
    with session_scope(ensure_store(settings.case_store_url)) as session:
        def count(*columns):
            return Counter({tuple(r[:-1]) if len(r) > 2 else r[0]: r[-1]
                            for r in session.execute(select(*columns, func.count()).group_by(*columns)).all()})

        out["events by type"] = count(Event.event_type)
        out["decisions by route"] = count(Decision.route)
        out["cases by status"] = count(Case.status)
        out["items by state"] = count(Item.status)
        out["tasks by status"] = count(Task.status)
        out["notices by status"] = count(Notice.status)
    con = lake.connect(settings)
    out["quarantine by reason"] = Counter(dict(con.sql("SELECT reason, count(*) FROM quarantine GROUP BY 1").fetchall()))
    return out
