"""The stages wired once: ingest → detect → assess → act → reverse → notify.

Each stage is a function of the settings and its inputs, passing files, not
data: detect and assess write Parquet under ``<home>/work/<day>/``; act writes
the case store in one transaction. ``wugan run`` calls them day by day; the
Airflow DAGs call the same functions as tasks, a county at a time.

The pipeline is a reconciler: detect reads the lake's batches after its
offset (and, for date triggers, everyone whose date has come), assess
decides, act writes what the store lacks, corrects what changed and moves the
offset in the same transaction, and reverse stops what runs for the dead. A
late, corrected or repeated delivery, or a day run twice or out of order,
ends where an on-time run would.
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
from wugan.cases.act import ActReport, act
from wugan.cases.capacity import assign_week
from wugan.cases.corrections import CorrectionReport, correct
from wugan.cases.db import ensure_store, session_scope
from wugan.cases.models import Case, Decision, Event, Item, Notice, Task
from wugan.cases.oversight import escalate_overdue, load_review_rates, sample_for_review
from wugan.cases.reversals import ReversalReport
from wugan.events import EVENT_TYPES
from wugan.failpoints import failpoint
from wugan.lake.ingest import IngestReport, write_parquet
from wugan.notify.outbox import render_outbox
from wugan.notify.send import DrainReport, drain, sender_for
from wugan.reconcile import detect as detecting
from wugan.reconcile.changes import set_offset
from wugan.settings import Settings

__all__ = [
    "EVENT_TYPES",
    "ensure_store",
    "stage_ingest",
    "stage_detect",
    "stage_assess",
    "stage_act",
    "stage_reverse",
    "stage_quality",
    "stage_report",
    "stage_retrain",
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


def stage_detect(settings: Settings, *, event_type: str, day: dt.date, county: str | None = None) -> Path:
    """The events of one type the lake implies for the persons its new batches touch (and, for date
    triggers, everyone due): new ones and the store's to re-examine; returns the Parquet path."""
    scope = county or "all"
    detected = detecting.detect(settings, url=ensure_store(settings.case_store_url), event_type=event_type,
                                day=day, county=county, folder=_work(settings, day, event_type, scope))
    return detected.events


def stage_assess(settings: Settings, *, events_path: Path) -> Path:
    events = pl.read_parquet(events_path)
    decided = assess(events, rules_dir=settings.rules_dir, settings=settings)
    out = write_parquet(decided, events_path.with_name("decisions.parquet"))
    return out


@dataclass
class ActedReport(ActReport):
    corrections: CorrectionReport = field(default_factory=CorrectionReport)
    shadow: int = 0


def stage_act(settings: Settings, *, event_type: str, decisions_path: Path, day: dt.date,
              county: str | None = None) -> ActedReport:
    """New events acted on, changed ones corrected, the shadow rule versions' decisions on the new events
    stored (``rules/lifecycle.yaml``; never acted on) and the offset moved, in one transaction."""
    from wugan.cases.shadow import decide_shadow

    detected = detecting.read_detected(decisions_path.with_name("events.parquet"))
    if detected.event_type != event_type:
        raise ValueError(f"{decisions_path} holds {detected.event_type} events, not {event_type}")
    decided = pl.read_parquet(decisions_path)
    url = ensure_store(settings.case_store_url)
    report = ActedReport()
    with session_scope(url) as session:
        if not decided.is_empty():
            new = decided.filter(~pl.col("existing"))
            acted = act(session, new, day=day, rules_dir=settings.rules_dir)
            report = ActedReport(**vars(acted))
            report.corrections = correct(session, decided.filter(pl.col("existing")), day=day,
                                         rules_dir=settings.rules_dir)
            events = pl.read_parquet(detected.events).filter(~pl.col("existing"))
            report.shadow = decide_shadow(session, events, new, rules_dir=settings.rules_dir, day=day)
        set_offset(session, detector=event_type, scope=county or "all", batch=detected.until, day=day)
    failpoint("reconcile.acted")
    return report


def stage_reverse(settings: Settings, *, day: dt.date, county: str | None = None) -> ReversalReport:
    """Stop what still runs for the persons the lake says have died (``cases.reversals``)."""
    from wugan.reconcile.reverse import reverse

    report = reverse(settings, url=ensure_store(settings.case_store_url), day=day, county=county)
    failpoint("reconcile.acted")
    return report


def stage_report(settings: Settings, *, day: dt.date) -> Path:
    """The take-up report as of ``day`` (``reconcile.report``), written for the back office and analysts."""
    from wugan.reconcile.report import take_up, write_report

    return write_report(settings, take_up(settings, url=ensure_store(settings.case_store_url), as_of=day))


def stage_retrain(settings: Settings, *, day: dt.date):
    """Retrain the hardship model on the labels visits and reviews produced up to ``day``."""
    from wugan.scoring.train import retrain

    return retrain(settings, as_of=day)


def stage_quality(settings: Settings, *, day: dt.date) -> tuple[int, int]:
    """Quarantined rows and refused files that could hold an entitlement, as items for their department."""
    from wugan.lake.ledger import manifest
    from wugan.reconcile.quality import sync_quality_items

    found = manifest(settings.lake)
    delivered = set(found.filter(pl.col("day").is_null() | (pl.col("day") <= day))["file"])
    with session_scope(ensure_store(settings.case_store_url)) as session:
        return sync_quality_items(session, con=lake.connect(settings, found), day=day, delivered=delivered)


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
    failpoint("notify.rendered")
    report = drain(url, sender_for(sender, home=settings.home, env=settings.env),
                   at=dt.datetime.combine(day, dt.time(23, 59)))
    report.rendered = rendered
    return report


@dataclass
class DayReport:
    day: dt.date
    ingest: IngestReport
    acted: dict[str, ActedReport] = field(default_factory=dict)
    reversed: ReversalReport = field(default_factory=ReversalReport)
    quality: tuple[int, int] = (0, 0)
    assigned: int = 0
    escalated: int = 0
    sampled: int = 0
    notices: DrainReport = field(default_factory=DrainReport)


def run_day(settings: Settings, day: dt.date, *, event_types: Iterable[str] = EVENT_TYPES,
            sender: str | None = None) -> DayReport:
    """Every stage for one day, the whole city as one scope."""
    report = DayReport(day=day, ingest=stage_ingest(settings, day=day))
    report.quality = stage_quality(settings, day=day)
    for event_type in event_types:
        events = stage_detect(settings, event_type=event_type, day=day)
        decisions = stage_assess(settings, events_path=events)
        report.acted[event_type] = stage_act(settings, event_type=event_type, decisions_path=decisions, day=day)
    report.reversed = stage_reverse(settings, day=day)
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
    if reports:
        stage_report(settings, day=reports[-1].day)
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
