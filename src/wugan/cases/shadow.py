"""Shadow versions: a draft rule set version decides beside the live one, stored, never acted on.

``decide_shadow`` runs every version marked ``shadow: true`` in
``rules/lifecycle.yaml`` over the events the live version just decided and
stores one ``shadow_decisions`` row per event and version, with the live
route beside it. The analyst page shows where they disagree. (A shadow
version sees the live version's events: for a rule whose trigger is its own
condition, people only the shadow would alert are for the backtest to count.)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wugan.cases.bulk import insert_frame
from wugan.cases.models import ShadowDecision, make_id
from wugan.rules.lifecycle import load_version, shadows

__all__ = ["decide_shadow", "disagreements"]


def decide_shadow(session: Session, events: pl.DataFrame, decided: pl.DataFrame, *, rules_dir: Path,
                  day: dt.date) -> int:
    """Store the shadow versions' decisions on ``events`` (live decisions: ``decided``); returns rows written."""
    from wugan.assess import assess

    if events.is_empty() or decided.is_empty():
        return 0
    ruleset = decided["ruleset"][0]
    live = decided.select("id", live_route="route", live_ruleset_version="ruleset_version")
    written = 0
    for version in shadows(ruleset, rules_dir=rules_dir):
        rs = load_version(version, rules_dir=rules_dir)
        shadow = assess(events, rules_dir=rules_dir, ruleset=rs).join(live, on="id", how="inner")
        rows = shadow.select(
            id=pl.col("id").map_elements(lambda e, v=version.label: make_id("shadow", e, v), return_dtype=pl.String),
            event_id="id", event_type="event_type", ruleset=pl.lit(ruleset), version_label=pl.lit(version.label),
            ruleset_version="ruleset_version", route="route", live_ruleset_version="live_ruleset_version",
            live_route="live_route", explanation="explanation", decided_on=pl.lit(day),
        )
        insert_frame(session, ShadowDecision.__table__, rows)
        written += rows.height
    return written


def disagreements(session: Session) -> list[tuple]:
    """(ruleset, version_label, live_route, shadow route, count) over all shadow decisions, agreeing rows too."""
    return list(session.execute(
        select(ShadowDecision.ruleset, ShadowDecision.version_label, ShadowDecision.live_route,
               ShadowDecision.route, func.count())
        .group_by(ShadowDecision.ruleset, ShadowDecision.version_label, ShadowDecision.live_route,
                  ShadowDecision.route)
        .order_by(ShadowDecision.ruleset, ShadowDecision.version_label)).all())
