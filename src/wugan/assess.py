"""Assess: decided events, each with the explanation a reviewer or citizen can read.

The event type's rule set runs over all its events at once; the routes of
its outcomes, with the bundle template, give the decision's route:

- the bundle opens only after a visit (hardship): a visit task, or nothing;
- an outcome needs an assistant: ``assistant_task`` (the case opens too);
- every item approved by rule: ``instant_approve``;
- every rule refuses and nothing else is in the bundle: ``no_action``;
- otherwise ``bundle_case``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from pydantic import BaseModel

from wugan.cases.bundles import load_bundles
from wugan.cases.models import make_id
from wugan.events import ruleset_for
from wugan.rules import RuleSet
from wugan.scoring.score import prioritise, task_kind

if TYPE_CHECKING:
    from wugan.settings import Settings

__all__ = ["assess", "route_expr", "explanation_expr", "Explanation", "ConditionSeen", "ValueSeen", "OutcomeSeen"]

EVENT_COLUMNS = ["id", "key", "event_type", "person_id", "subject", "village_code", "household_id",
                 "event_date", "detected_on", "as_of", "existing"]


def route_expr(ruleset: RuleSet, *, opens_on_visit: bool, only_rule_items: bool) -> pl.Expr:
    routes = [pl.col(f"{o}_route") for o in ruleset.outcomes]
    if opens_on_visit:
        return pl.when(pl.any_horizontal([r == "assistant_task" for r in routes])).then(
            pl.lit("assistant_task")).otherwise(pl.lit("no_action"))
    all_instant = pl.all_horizontal([r.is_in(["instant_approve", "no_action"]) for r in routes]) & pl.any_horizontal(
        [r == "instant_approve" for r in routes])
    return (
        pl.when(pl.any_horizontal([r == "assistant_task" for r in routes])).then(pl.lit("assistant_task"))
        .when(pl.lit(only_rule_items) & all_instant).then(pl.lit("instant_approve"))
        .when(pl.lit(only_rule_items) & pl.all_horizontal([r == "no_action" for r in routes]))
        .then(pl.lit("no_action"))
        .otherwise(pl.lit("bundle_case"))
    )


class ConditionSeen(BaseModel):
    name: str
    label: str
    holds: bool | None


class ValueSeen(BaseModel):
    """An input or derived value as the rule saw it (text, as stored), with its label from the rule's YAML."""

    name: str
    label: str
    value: str | None


class OutcomeSeen(BaseModel):
    name: str
    route: str | None
    amount: float | None


class Explanation(BaseModel):
    """What a decision stores about why (``decisions.explanation``): written by ``explanation_expr``, read as is.

    A decision whose personal data was purged keeps an empty explanation with ``purged_on``.
    """

    conditions: list[ConditionSeen] = []
    values: list[ValueSeen] = []
    outcomes: list[OutcomeSeen] = []
    reference: str = ""
    purged_on: str | None = None


def explanation_expr(ruleset: RuleSet) -> pl.Expr:
    """An ``Explanation`` per row: each condition with its label and result, the values the rule saw with their
    labels, each outcome's route and amount."""
    conditions = pl.concat_list(
        [pl.struct(name=pl.lit(name), label=pl.lit(label), holds=pl.col(f"cond_{name}"))
         for name, label in ruleset.conditions.items()]
    )
    values = pl.concat_list(
        [pl.struct(name=pl.lit(c), label=pl.lit(ruleset.labels.get(c, c)), value=pl.col(c).cast(pl.String))
         for c in [*ruleset.inputs, *ruleset.derived]]
    )
    outcomes = pl.concat_list(
        [pl.struct(name=pl.lit(o), route=pl.col(f"{o}_route"), amount=pl.col(f"{o}_amount").cast(pl.Float64))
         for o in ruleset.outcomes]
    )
    return pl.struct(conditions=conditions, values=values, outcomes=outcomes, reference=pl.lit(ruleset.reference))


def reason_expr(ruleset: RuleSet) -> pl.Expr:
    """Plain Chinese for the assistant: the labels of the conditions that held."""
    held = [pl.when(pl.col(f"cond_{n}")).then(pl.lit(label)) for n, label in ruleset.conditions.items()]
    return pl.concat_str(held, separator="；", ignore_nulls=True)


def assess(events: pl.DataFrame, *, rules_dir: Path, ruleset: RuleSet | None = None,
           settings: Settings | None = None) -> pl.DataFrame:
    """Decisions for events of one type (the output of ``events.detect``).

    Rules are read as of each event's ``as_of`` (its own date: a birth, a birthday, the claim that crossed
    the threshold), never the day it was detected, so a late delivery is decided as an on-time one. The frame keeps the
    event columns and adds ``decision_id``, ``route``, ``ruleset``,
    ``ruleset_version``, ``explanation``, ``reason``, ``priority``,
    ``probability``, ``deadline``, ``model_version``, ``score`` and each
    outcome's ``_route``/``_amount``. Priority is the one scale of
    ``rules/visit_priority.yaml`` (``wugan.scoring.score``); with ``settings``
    and a champion hardship model under ``settings.models_dir`` the model's
    score is the probability of need of hardship visits.
    """
    if events.is_empty():
        return events
    event_type = events["event_type"][0]
    ruleset = ruleset or ruleset_for(event_type, rules_dir=rules_dir)
    bundle = load_bundles(rules_dir)[event_type]
    only_rule_items = all(item.rule for item in bundle.items)
    evaluated = ruleset.evaluate_frame(events, as_of="as_of")
    outcome_cols = [c for o in ruleset.outcomes for c in (f"{o}_route", f"{o}_amount")]
    opens_on_visit = bundle.opens_on == "visit_confirmed"
    decided = evaluated.with_columns(
        decision_id=pl.col("id").map_elements(lambda e: make_id("decision", e), return_dtype=pl.String),
        route=route_expr(ruleset, opens_on_visit=opens_on_visit, only_rule_items=only_rule_items),
        explanation=explanation_expr(ruleset),
        reason=reason_expr(ruleset),
    )
    decided = prioritise(decided, event_type=event_type, rules_dir=rules_dir, settings=settings,
                         kind=task_kind(decided, outcomes=list(ruleset.outcomes), opens_on_visit=opens_on_visit))
    starts = [i.starts for i in bundle.items if i.starts and i.starts not in events.columns]
    return decided.select([*EVENT_COLUMNS, *[c for c in events.columns if c not in EVENT_COLUMNS], "decision_id",
                           "route", "ruleset", "ruleset_version", "explanation", "reason", "priority",
                           "probability", "deadline", "model_version", "score", *outcome_cols, *starts])
