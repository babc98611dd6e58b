"""The analyst's figures: volumes, versions, workload, outcomes, revocations, shadows, and the what-if.

Aggregates and keyed pseudonyms only; the what-if's list of people who change
route shows masked ID numbers, as the backtest writes them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wugan.cases.capacity import demand
from wugan.cases.models import AuditLog, Decision, Event, Task
from wugan.ids import redact
from wugan.settings import Settings
from wugan.web import lake
from wugan.web.auth import pseudonym
from wugan.web.queries.common import monday
from wugan.web.texts import LIFECYCLE_LABELS, label
from wugan.web.views import (
    AnalyticsView,
    OutcomeRow,
    PseudonymousDecision,
    RevocationRow,
    RulesetRow,
    ShadowRow,
    VersionRow,
    VolumeRow,
    WorkloadRow,
)

__all__ = ["analytics", "versions", "revocations", "WhatIfForm", "WhatIf", "parameters_of", "what_if"]


def _volumes(session: Session) -> tuple[list[VolumeRow], dt.date | None]:
    per_day = session.execute(
        select(Decision.decided_on, Decision.event_type, Decision.route, func.count())
        .group_by(Decision.decided_on, Decision.event_type, Decision.route)
    ).all()
    weekly: dict[tuple[dt.date, str, str], int] = defaultdict(int)
    for day, event_type, route, n in per_day:
        weekly[(monday(day), event_type, route)] += n
    volumes = [VolumeRow(week=w, event_type=e, route=r, count=n) for (w, e, r), n in sorted(weekly.items())]
    first = min((w for w, _, _ in weekly), default=None)
    return volumes, first


def _rulesets(session: Session) -> list[RulesetRow]:
    versions = session.execute(
        select(Decision.ruleset, Decision.ruleset_version, func.min(Decision.decided_on),
               func.max(Decision.decided_on), func.count())
        .group_by(Decision.ruleset, Decision.ruleset_version)
    ).all()
    latest: dict[str, dt.date] = {}
    for ruleset, _, _, last, _ in versions:
        latest[ruleset] = max(latest.get(ruleset, last), last)
    return sorted(
        (RulesetRow(ruleset=r, ruleset_version=v, first_day=a, last_day=b, decisions=n, in_force=b == latest[r])
         for r, v, a, b, n in versions),
        key=lambda row: (row.ruleset, row.first_day),
    )


def versions(settings: Settings) -> list[VersionRow]:
    """Every version ``rules/lifecycle.yaml`` lists — drafts and shadows included — with its go-live date."""
    from wugan.rules.lifecycle import load_lifecycle

    rows = []
    for ruleset, listed in sorted(load_lifecycle(settings.rules_dir).items()):
        for v in listed:
            rows.append(VersionRow(ruleset=ruleset, version=v.label, status=v.status,
                                   status_label=label(LIFECYCLE_LABELS, v.status), live_from=v.live_from,
                                   retired_on=v.retired_on, shadow=v.shadow, note=v.note,
                                   changes="，".join(f"{k} = {val}" for k, val in v.set.items())))
    return rows


def _workload(session: Session, settings: Settings, today: dt.date) -> list[WorkloadRow]:
    """Per village and week: new alerts, backlog, assigned, done, capacity, and when the backlog clears."""
    capacity = lake.capacity_by_village(settings)
    staff = pl.DataFrame({"assistant_id": list(capacity), "village_code": list(capacity),
                          "weekly_capacity": list(capacity.values())},
                         schema={"assistant_id": pl.String, "village_code": pl.String, "weekly_capacity": pl.Int64})
    grid = demand(session, day=today, assistants=staff, weeks=6, rules_dir=settings.rules_dir).filter(
        (pl.col("new_alerts") + pl.col("backlog") + pl.col("assigned") + pl.col("done")) > 0)
    villages = lake.village_names(settings, set(grid["village_code"].to_list()))
    return [
        WorkloadRow(**r, village_name=villages.get(r["village_code"], r["village_code"]),
                    load=(r["assigned"] / r["capacity"]) if r["capacity"] else None)
        for r in grid.sort("week", "backlog", "village_code", descending=[False, True, False]).iter_rows(named=True)
    ]


def revocations(session: Session) -> list[RevocationRow]:
    """Revoked approvals per rule set and reason, beside the rule set's approvals (undone revocations left out)."""
    reasons: dict[str, str] = {}
    for row in session.scalars(select(AuditLog).where(AuditLog.entity == "decision", AuditLog.action.in_(
            ("decision_revoked", "review_undone"))).order_by(AuditLog.id)):
        if row.action == "decision_revoked":
            reasons[row.entity_id] = redact(str((row.after or {}).get("reason") or "")) or "（未写原因）"
        else:
            reasons.pop(row.entity_id, None)
    revoked = session.execute(select(Decision.id, Decision.ruleset).where(Decision.review == "revoked")).all()
    counts = Counter((ruleset, reasons.get(d, "（未写原因）")) for d, ruleset in revoked)
    approvals = dict(session.execute(
        select(Decision.ruleset, func.count()).where(Decision.route.in_(("instant_approve", "bundle_case")))
        .group_by(Decision.ruleset)).all())
    return sorted((RevocationRow(ruleset=r, reason=reason, count=n, approvals=approvals.get(r, 0))
                   for (r, reason), n in counts.items()), key=lambda row: (row.ruleset, -row.count, row.reason))


def analytics(session: Session, *, settings: Settings, pseudonym_key: str, today: dt.date) -> AnalyticsView:
    """Volumes, rule versions, workload, visit outcomes and revocations: aggregates and keyed pseudonyms only."""
    from wugan.cases.shadow import disagreements

    volumes, first_week = _volumes(session)
    outcomes = [
        OutcomeRow(event_type=e or "", outcome=o, count=n)
        for e, o, n in session.execute(
            select(Event.event_type, Task.outcome, func.count()).join(Event, Event.id == Task.event_id)
            .where(Task.outcome.is_not(None)).group_by(Event.event_type, Task.outcome)
            .order_by(Event.event_type, Task.outcome)
        )
    ]
    recent = [
        PseudonymousDecision(pseudonym=pseudonym(pseudonym_key, person_id), event_type=d.event_type, route=d.route,
                             ruleset=d.ruleset, ruleset_version=d.ruleset_version, score=d.score,
                             decided_on=d.decided_on, review=d.review)
        for d, person_id in session.execute(
            select(Decision, Event.person_id).join(Event, Event.id == Decision.event_id)
            .order_by(Decision.decided_on.desc(), Decision.id).limit(30)
        )
    ]
    shadow = [ShadowRow(ruleset=r, version_label=v, live_route=a, shadow_route=b, count=n, agree=a == b)
              for r, v, a, b, n in disagreements(session)]
    return AnalyticsView(volumes=volumes, first_week=first_week, rulesets=_rulesets(session),
                         versions=versions(settings), workload=_workload(session, settings, today), outcomes=outcomes,
                         revocations=revocations(session), recent=recent, shadow=shadow)


# ---------------------------------------------------------------- what-if


class WhatIfForm(BaseModel):
    ruleset: str = ""
    parameter: str = ""
    value: str = ""
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass
class WhatIf:
    """The backtest of a changed parameter beside the version in force, as the page shows it."""

    ruleset: str
    parameter: str
    old_value: Any
    new_value: Any
    start: dt.date
    end: dt.date
    base_version: str
    version: str
    totals: list[dict] = field(default_factory=list)  # per measure: base, new, difference
    weekly: list[dict] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)
    sample: list[dict] = field(default_factory=list)
    over_capacity: tuple[int, int] = (0, 0)


def parameters_of(settings: Settings, today: dt.date) -> dict[str, list[tuple[str, str, Any]]]:
    """Per rule set, its parameters: (id, description, value in force today)."""
    from wugan.rules.loader import load_all

    return {name: [(p.id, p.description or p.id, p.values.at(today)) for p in rs.parameters.values()]
            for name, rs in load_all(rules_dir=settings.rules_dir).items()}


def _measures(result) -> list[dict]:
    from wugan.backtest import DECISION_ROUTES

    weekly = result.weekly
    names = {"events": "事件数", "amount": "发放金额（元）", "visit_tasks": "上门走访"} | {
        r: label({"instant_approve": "秒批", "bundle_case": "一件事联办", "assistant_task": "协理员上门",
                  "no_action": "不予办理"}, r) for r in DECISION_ROUTES}
    base = result.changes  # route changes: from_route, to_route, people
    rows = []
    for column in ("events", *DECISION_ROUTES, "visit_tasks", "amount"):
        new = float(weekly[column].sum()) if column in weekly.columns else 0.0
        base_col = {"events": "base_events", "visit_tasks": "base_visit_tasks", "amount": "base_amount"}.get(column)
        if base_col and base_col in weekly.columns:
            old = float(weekly[base_col].sum())
        else:
            moved_in = float(base.filter(base["to_route"] == column)["people"].sum()) if base.height else 0.0
            moved_out = float(base.filter(base["from_route"] == column)["people"].sum()) if base.height else 0.0
            old = new - moved_in + moved_out
        rows.append({"measure": names[column], "base": old, "new": new, "diff": new - old})
    return rows


def what_if(settings: Settings, form: WhatIfForm) -> WhatIf:
    """Backtest ``form.ruleset`` with one parameter changed against the version in force over the period."""
    import yaml

    from wugan import lake as lake_store
    from wugan.backtest import backtest
    from wugan.rules.lifecycle import live_on, load_version
    from wugan.rules.loader import load_ruleset

    assert form.start and form.end
    value = yaml.safe_load(form.value)
    changed = load_ruleset(form.ruleset, rules_dir=settings.rules_dir, overrides={form.parameter: value})
    version = live_on(form.ruleset, form.end, rules_dir=settings.rules_dir)
    base = (load_version(version, rules_dir=settings.rules_dir) if version
            else load_ruleset(form.ruleset, rules_dir=settings.rules_dir))
    old = next((p.values.at(form.end) for p in base.parameters.values() if p.id == form.parameter), None)
    con = lake_store.connect(settings)
    try:
        result = backtest(con, changed, start=form.start, end=form.end, rules_dir=settings.rules_dir, base=base)
    finally:
        con.close()
    over_new = int(result.workload["over_capacity"].sum()) if result.workload.height else 0
    return WhatIf(
        ruleset=form.ruleset, parameter=form.parameter, old_value=old, new_value=value, start=form.start,
        end=form.end, base_version=result.base_version or "", version=result.version, totals=_measures(result),
        weekly=result.weekly.to_dicts(), changes=result.changes.to_dicts() if result.changes.height else [],
        sample=result.sample.to_dicts() if result.sample.height else [],
        over_capacity=(over_new, result.workload.height),
    )
