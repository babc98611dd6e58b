"""Guardrails on instant approval (秒批): a pause switch and a circuit breaker per rule set.

Config is data in ``rules/guardrails.yaml``. Before ``act`` writes a batch,
``screen`` decides whether the batch's rule set may approve at once today:

- ``paused: true`` holds every instant approval of the rule set;
- the **circuit breaker** holds them when the day's decisions exceed
  ``breaker_factor`` × the baseline (the median daily volume of the previous
  ``baseline_days`` days, days without decisions counted as 0, floored at
  ``min_baseline``): a jump like that is a data fault (a file delivered twice,
  a feed gone wrong), not a baby boom. A tripped breaker writes an ``alerts``
  row (kind ``circuit_breaker``) for the back office. No breaker before the
  case store has ``warmup_days`` of history (a first run sees all history).

A held decision has ``review = 'held'``; its instantly approved items are
stored with status ``held`` (their amount kept, nothing paid) and its notice
is not rendered. A person then releases it (``release_held``: items done with
their amounts, case closed when nothing is left, the notice rendered) or
rejects it (``reject_held``: items rejected with the reason). Both act only
on decisions still ``held``, so each is acted on exactly once.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wugan.cases.bulk import insert_frame
from wugan.cases.models import Alert, AuditLog, Case, Decision, Event, Item, make_id
from wugan.errors import ConfigError, InputError

__all__ = ["Guardrail", "Verdict", "load_guardrails", "guardrail_for", "check", "screen", "hold_items",
           "not_held", "release_held", "reject_held", "held_decisions", "GUARDRAILS_FILE"]

GUARDRAILS_FILE = "guardrails.yaml"
DEFAULTS = {"paused": False, "breaker_factor": 3.0, "baseline_days": 28, "min_baseline": 5, "warmup_days": 7}


@dataclass(frozen=True)
class Guardrail:
    paused: bool = False
    breaker_factor: float = 3.0
    baseline_days: int = 28
    min_baseline: float = 5
    warmup_days: int = 7


@dataclass(frozen=True)
class Verdict:
    """Why a batch's instant approvals are held (``None``: they are not), with the numbers behind it."""

    reason: str | None
    volume: int = 0
    baseline: float | None = None
    threshold: float | None = None


@cache
def _load(path: str, mtime: int) -> dict[str, Guardrail]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    default = {**DEFAULTS, **(data.pop("default", None) or {})}
    out = {"default": Guardrail(**default)}
    for name, values in data.items():
        unknown = set(values or {}) - set(DEFAULTS)
        if unknown:
            raise ConfigError(f"{name}: unknown guardrail keys {sorted(unknown)}", path=path)
        out[name] = Guardrail(**{**default, **(values or {})})
    return out


def load_guardrails(rules_dir: Path) -> dict[str, Guardrail]:
    """Per rule set, plus ``default``; built-in defaults when the file is absent."""
    path = Path(rules_dir) / GUARDRAILS_FILE
    if not path.is_file():
        return {"default": Guardrail()}
    return _load(str(path.resolve()), path.stat().st_mtime_ns)


def guardrail_for(ruleset: str, *, rules_dir: Path) -> Guardrail:
    rails = load_guardrails(rules_dir)
    return rails.get(ruleset, rails["default"])


def _daily_volumes(session: Session, ruleset: str, since: dt.date, day: dt.date) -> dict[dt.date, int]:
    rows = session.execute(
        select(Decision.decided_on, func.count()).where(
            Decision.ruleset == ruleset, Decision.decided_on >= since, Decision.decided_on < day)
        .group_by(Decision.decided_on)).all()
    return {d: n for d, n in rows}


def check(session: Session, *, ruleset: str, day: dt.date, volume: int, rules_dir: Path) -> Verdict:
    """Whether ``ruleset`` may approve at once today, given the day's new decisions ``volume``."""
    rail = guardrail_for(ruleset, rules_dir=rules_dir)
    if rail.paused:
        return Verdict("paused", volume)
    first = session.scalar(select(func.min(Decision.decided_on)))
    if first is None or (day - first).days < rail.warmup_days:
        return Verdict(None, volume)
    since = max(first, day - dt.timedelta(days=rail.baseline_days))
    counts = _daily_volumes(session, ruleset, since, day)
    days = [since + dt.timedelta(days=i) for i in range((day - since).days)]
    baseline = float(statistics.median(counts.get(d, 0) for d in days)) if days else 0.0
    threshold = rail.breaker_factor * max(baseline, float(rail.min_baseline))
    return Verdict("circuit_breaker" if volume > threshold else None, volume, baseline, threshold)


def _instant(frame: pl.DataFrame) -> pl.Expr:
    routes = [c for c in frame.columns if c.endswith("_route")]
    return pl.any_horizontal([pl.col(c) == "instant_approve" for c in routes]) if routes else pl.lit(False)


def screen(session: Session, new: pl.DataFrame, *, day: dt.date, rules_dir: Path,
           department: str | None = None) -> pl.DataFrame:
    """``new`` (one rule set's new decisions) with ``review``: ``'held'`` for the instant approvals of a
    paused or tripped rule set, else null. A trip writes the back office's alert."""
    ruleset = new["ruleset"][0]
    if not new.select(_instant(new).any()).item():
        return new.with_columns(review=pl.lit(None, pl.String))  # nothing to approve at once, nothing to hold
    verdict = check(session, ruleset=ruleset, day=day, volume=new.height, rules_dir=rules_dir)
    held = pl.lit(verdict.reason is not None) & _instant(new)
    out = new.with_columns(review=pl.when(held).then(pl.lit("held")).otherwise(pl.lit(None, pl.String)))
    n_held = int((out["review"] == "held").sum())
    if verdict.reason == "circuit_breaker":
        message = (f"规则集 {ruleset} 当日决定 {verdict.volume} 件，超过近期基线 {verdict.baseline:g} 件的"
                   f"熔断阈值 {verdict.threshold:g} 件；{n_held} 件秒批已暂缓，请核查数据后放行或驳回。")
        insert_frame(session, Alert.__table__, pl.DataFrame([{
            "id": make_id("alert", "circuit_breaker", ruleset, day), "kind": "circuit_breaker",
            "department": department, "ruleset": ruleset, "entity": "ruleset", "entity_id": ruleset,
            "message": message, "created_on": day, "status": "open",
            "details": {"volume": verdict.volume, "baseline": verdict.baseline, "threshold": verdict.threshold,
                        "held": n_held, "day": day.isoformat()},
        }]).with_columns(pl.col("details").struct.json_encode()))
    return out


def not_held(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows acted on now (notices are rendered only for these)."""
    if "review" not in frame.columns:
        return frame
    return frame.filter(pl.col("review").is_null() | (pl.col("review") != "held"))


def hold_items(items: pl.DataFrame, decided: pl.DataFrame) -> pl.DataFrame:
    """Items a held decision approved at once stay ``held``: amount kept, not done."""
    if items.is_empty() or "review" not in decided.columns:
        return items
    held = decided.filter(pl.col("review") == "held")["decision_id"]
    if held.is_empty():
        return items
    hold = pl.col("decision_id").is_in(held.implode()) & (pl.col("status") == "done")
    return items.with_columns(status=pl.when(hold).then(pl.lit("held")).otherwise("status"),
                              done_on=pl.when(hold).then(pl.lit(None, pl.Date)).otherwise("done_on"))


def held_audit(decided: pl.DataFrame, *, at: dt.datetime) -> pl.DataFrame:
    held = decided.filter(pl.col("review") == "held") if "review" in decided.columns else decided.clear()
    return held.select(at=pl.lit(at), actor=pl.lit("pipeline"), action=pl.lit("held"), entity=pl.lit("decision"),
                       entity_id="decision_id", before=pl.lit(None, pl.String),
                       after=pl.struct(review="review", ruleset="ruleset", route="route"))


# ---------------------------------------------------------------- people release or reject


def held_decisions(session: Session, *, decision_ids: list[str] | None = None,
                   ruleset: str | None = None) -> list[Decision]:
    query = select(Decision).where(Decision.review == "held")
    if decision_ids is not None:
        query = query.where(Decision.id.in_(decision_ids))
    if ruleset is not None:
        query = query.where(Decision.ruleset == ruleset)
    return list(session.scalars(query.order_by(Decision.decided_on, Decision.id).with_for_update()))


def _audit(session: Session, *, actor: str, action: str, decision: Decision, before: dict, after: dict,
           at: dt.datetime) -> None:
    session.add(AuditLog(at=at, actor=actor, action=action, entity="decision", entity_id=decision.id,
                         before=before, after=after))


def _close_if_finished(session: Session, case: Case | None, on: dt.date) -> None:
    if case is None:
        return
    session.flush()
    states = session.scalars(select(Item.status).where(Item.case_id == case.id)).all()
    if states and all(s in ("done", "rejected") for s in states):
        case.status, case.closed_on = "closed", on


def _resolve_alerts(session: Session, rulesets: set[str]) -> None:
    for ruleset in rulesets:
        if session.scalar(select(func.count()).select_from(Decision).where(
                Decision.ruleset == ruleset, Decision.review == "held")) == 0:
            for alert in session.scalars(select(Alert).where(
                    Alert.kind == "circuit_breaker", Alert.ruleset == ruleset, Alert.status == "open")):
                alert.status = "resolved"


def _notice(session: Session, *, decision: Decision, on: dt.date, settings: Any) -> None:
    """The notice ``act`` would have led to had the decision not been held."""
    from wugan.notify.outbox import render_outbox

    session.flush()
    render_outbox(session, settings=settings, day=on, decision_ids=[decision.id])


def _supersede_earlier(session: Session, *, item: Item, case: Case) -> None:
    """A released monthly payment replaces the same person's earlier one in force (a tier upgrade held
    by a breaker pays once it is released, not beside the lower tier)."""
    earlier = session.scalars(
        select(Item).join(Case, Case.id == Item.case_id)
        .where(Case.person_id == case.person_id, Case.event_type == case.event_type, Item.id != item.id,
               Item.service == item.service, Item.status == "done", Item.superseded_by.is_(None),
               Item.reverses.is_(None), Item.starts_on <= item.starts_on)
        .order_by(Item.starts_on.desc())).first()
    if earlier is not None:
        earlier.superseded_by, item.supersedes = item.id, earlier.id


def release_held(session: Session, *, decision_ids: list[str] | None = None, ruleset: str | None = None,
                 actor: str, at: dt.datetime, settings: Any = None) -> list[str]:
    """Act on held decisions as if they had not been held: items done with their amounts, the case closed
    when nothing is left, the notice rendered. Returns the ids released; a decision no longer held is
    left alone, so a second release does nothing."""
    if decision_ids is None and ruleset is None:
        raise InputError("name the decisions or the rule set to release")
    if settings is None:
        from wugan.settings import get_settings

        settings = get_settings()
    on = at.date()
    released = []
    for decision in held_decisions(session, decision_ids=decision_ids, ruleset=ruleset):
        event = session.get_one(Event, decision.event_id)
        case = session.scalars(select(Case).where(Case.event_id == event.id)).first()
        for item in session.scalars(select(Item).where(Item.decision_id == decision.id, Item.status == "held")):
            item.status, item.done_on = "done", on
            if item.period == "monthly":
                _supersede_earlier(session, item=item, case=case)
        _close_if_finished(session, case, on)
        decision.review = "released"
        _notice(session, decision=decision, on=on, settings=settings)
        _audit(session, actor=actor, action="held_released", decision=decision, before={"review": "held"},
               after={"review": "released"}, at=at)
        released.append(decision.id)
    session.flush()
    _resolve_alerts(session, {ruleset} if ruleset else {d.ruleset for d in session.scalars(
        select(Decision).where(Decision.id.in_(released)))})
    return released


def reject_held(session: Session, *, decision_ids: list[str] | None = None, ruleset: str | None = None,
                reason: str, actor: str, at: dt.datetime) -> list[str]:
    """Refuse held decisions (e.g. the rows of a faulty file): their held items are rejected with the
    reason, nothing is paid and no notice is sent. Returns the ids rejected."""
    if decision_ids is None and ruleset is None:
        raise InputError("name the decisions or the rule set to reject")
    if not reason.strip():
        raise InputError("a rejection needs a reason")
    on = at.date()
    rejected = []
    for decision in held_decisions(session, decision_ids=decision_ids, ruleset=ruleset):
        case = session.scalars(select(Case).where(Case.event_id == decision.event_id)).first()
        for item in session.scalars(select(Item).where(Item.decision_id == decision.id, Item.status == "held")):
            item.status, item.result = "rejected", {"reason": reason, "held": True}
        _close_if_finished(session, case, on)
        decision.review = "rejected"
        _audit(session, actor=actor, action="held_rejected", decision=decision, before={"review": "held"},
               after={"review": "rejected", "reason": reason}, at=at)
        rejected.append(decision.id)
    session.flush()
    _resolve_alerts(session, {ruleset} if ruleset else {d.ruleset for d in session.scalars(
        select(Decision).where(Decision.id.in_(rejected)))})
    return rejected
