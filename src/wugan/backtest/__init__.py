"""Backtest: replay detection and assessment of one rule set over the lake's history, writing nothing.

The events of the period are the pipeline's own desired-state queries
(``wugan.events``) run as of the period's end, watching from its start, kept
where a daily run would have raised them in the period (``seen``); the rule
set evaluates them in one query with per-row as-of dates, and the decisions, weekly volumes, assistant workload against
capacity and — where outcomes are known — precision and recall are polars
aggregates. ``compare`` runs the version in force beside the changed one over
the same candidates and lists who changes route and which condition flipped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from wugan.assess import route_expr
from wugan.cases.bundles import load_bundles
from wugan.errors import InputError
from wugan.events import RULESETS, Scope, desired_sql
from wugan.ids import mask
from wugan.rules import RuleSet

__all__ = ["Backtest", "backtest", "event_type_of", "truth_labels", "store_labels", "weekly_table"]

DECISION_ROUTES = ("instant_approve", "bundle_case", "assistant_task", "no_action")
SAMPLE = 20


def event_type_of(ruleset: str) -> str:
    for event_type, name in RULESETS.items():
        if name == ruleset:
            return event_type
    raise InputError(f"no event type is decided by rule set {ruleset!r}; one of {', '.join(RULESETS.values())}")


@dataclass
class Backtest:
    """What a backtest found; ``weekly`` is the table an analyst reads."""

    ruleset: str
    version: str
    start: dt.date
    end: dt.date
    decisions: pl.DataFrame
    weekly: pl.DataFrame
    workload: pl.DataFrame
    changes: pl.DataFrame = field(default_factory=pl.DataFrame)
    sample: pl.DataFrame = field(default_factory=pl.DataFrame)
    base_version: str | None = None
    precision: float | None = None
    recall: float | None = None


def _evaluated(con: duckdb.DuckDBPyConnection, event_type: str, ruleset: RuleSet, start: dt.date,
               end: dt.date, rules_dir: Path) -> pl.DataFrame:
    """The events of the period, each evaluated by ``ruleset`` as of its own date.

    Opt-outs are not applied (they are the case store's, of today); the
    persons and regions tables are the latest, as in the pipeline.
    """
    con.register("existing", pl.DataFrame(schema={"key": pl.String}).to_arrow())
    con.register("opt_outs", pl.DataFrame(schema={"person_id": pl.String, "service": pl.String}).to_arrow())
    scope = Scope(today=end, first_day=start, everyone=True, replay=True)
    events = desired_sql(con, event_type, scope, rules_dir=rules_dir, ruleset=ruleset)
    period = f"due AND seen BETWEEN DATE '{start.isoformat()}' AND DATE '{end.isoformat()}'"
    return ruleset.evaluate(con, f"SELECT * FROM ({events}) WHERE {period}", as_of="as_of").pl()


def _decide(frame: pl.DataFrame, ruleset: RuleSet, event_type: str, rules_dir: Path) -> pl.DataFrame:
    bundle = load_bundles(rules_dir)[event_type]
    only_rule_items = all(item.rule for item in bundle.items)
    outcomes = list(ruleset.outcomes)
    amount = pl.sum_horizontal([pl.col(f"{o}_amount").cast(pl.Float64).fill_null(0.0) for o in outcomes])
    tasks = pl.sum_horizontal([(pl.col(f"{o}_route") == "assistant_task").cast(pl.Int32) for o in outcomes])
    if bundle.opens_on == "visit_confirmed":
        tasks = pl.min_horizontal(tasks, pl.lit(1))
    if frame.is_empty():
        frame = frame.with_columns(pl.col("as_of", "seen").cast(pl.Date))
    return frame.with_columns(
        route=route_expr(ruleset, opens_on_visit=bundle.opens_on == "visit_confirmed",
                         only_rule_items=only_rule_items),
        amount=amount,
        visit_tasks=tasks,
        week=pl.col("seen").dt.truncate("1w"),
    )


def _conditions(ruleset: RuleSet) -> list[str]:
    return [f"cond_{c}" for c in ruleset.conditions]


def truth_labels(home: Path) -> pl.DataFrame | None:
    """Synthetic ground truth (``truth/persons.parquet``): person_id, label = eligible."""
    path = Path(home) / "truth" / "persons.parquet"
    if not path.is_file():
        return None
    return pl.read_parquet(path, columns=["person_id", "eligible"]).rename({"eligible": "label"})


def store_labels(url: str, *, event_type: str) -> pl.DataFrame | None:
    """Outcomes people recorded in the case store: a confirmed visit or review is a true positive,
    a visit finding the person not eligible or a revoked approval a false one."""
    from sqlalchemy import select

    from wugan.cases.db import session_scope
    from wugan.cases.models import Decision, Event, Task

    with session_scope(url) as session:
        visits = session.execute(
            select(Event.person_id, Task.outcome).join(Event, Event.id == Task.event_id)
            .where(Event.event_type == event_type, Task.outcome.in_(["confirmed", "not_eligible"]))).all()
        reviews = session.execute(
            select(Event.person_id, Decision.review).join(Event, Event.id == Decision.event_id)
            .where(Event.event_type == event_type, Decision.review.in_(["confirmed", "revoked"]))).all()
    rows = [(p, o == "confirmed") for p, o in [*visits, *reviews]]
    if not rows:
        return None
    return (pl.DataFrame(rows, schema={"person_id": pl.String, "label": pl.Boolean}, orient="row")
            .group_by("person_id").agg(pl.col("label").last()))


def _weekly(decided: pl.DataFrame, workload: pl.DataFrame, labels: pl.DataFrame | None,
            start: dt.date, end: dt.date) -> pl.DataFrame:
    weeks = pl.DataFrame({"week": pl.date_range(start, end, "1d", eager=True).dt.truncate("1w").unique()}).sort(
        "week")
    agg = decided.group_by("week").agg(
        events=pl.len(),
        **{r: (pl.col("route") == r).sum() for r in DECISION_ROUTES},
        amount=pl.col("amount").sum(),
        visit_tasks=pl.col("visit_tasks").sum(),
    )
    load = workload.group_by("week").agg(
        villages_over_capacity=(pl.col("visit_tasks") > pl.col("capacity")).sum(),
        max_load=pl.col("load").max(),
    )
    out = weeks.join(agg, on="week", how="left").join(load, on="week", how="left").with_columns(
        pl.col("events", *DECISION_ROUTES, "visit_tasks", "villages_over_capacity").fill_null(0).cast(pl.Int64),
        pl.col("amount").fill_null(0.0),
    )
    if labels is None:
        return out.with_columns(labelled=pl.lit(None, pl.Int64), true_positives=pl.lit(None, pl.Int64),
                                precision=pl.lit(None, pl.Float64), recall=pl.lit(None, pl.Float64))
    acted = decided.filter(pl.col("route") != "no_action").join(labels, on="person_id", how="left")
    per_week = acted.group_by("week").agg(labelled=pl.col("label").is_not_null().sum(),
                                          true_positives=pl.col("label").fill_null(False).sum())
    positives = labels.filter("label")["person_id"]
    first_found = (acted.filter(pl.col("label").fill_null(False)).group_by("person_id").agg(pl.col("week").min())
                   .group_by("week").agg(found=pl.len()))
    out = out.join(per_week, on="week", how="left").join(first_found, on="week", how="left").with_columns(
        pl.col("labelled", "true_positives", "found").fill_null(0).cast(pl.Int64)).sort("week")
    return out.with_columns(
        precision=pl.when(pl.col("labelled") > 0).then(pl.col("true_positives") / pl.col("labelled")),
        recall=(pl.col("found").cum_sum() / positives.len()) if positives.len() else pl.lit(None, pl.Float64),
    ).drop("found")


def _workload(decided: pl.DataFrame, assistants: pl.DataFrame) -> pl.DataFrame:
    """Visit tasks per village per week against the sum of its assistants' weekly capacity."""
    capacity = assistants.group_by("village_code").agg(capacity=pl.col("weekly_capacity").sum())
    return (decided.filter(pl.col("visit_tasks") > 0).group_by("week", "village_code")
            .agg(visit_tasks=pl.col("visit_tasks").sum())
            .join(capacity, on="village_code", how="left")
            .with_columns(pl.col("capacity").fill_null(0).cast(pl.Int64))
            .with_columns(load=pl.when(pl.col("capacity") > 0).then(pl.col("visit_tasks") / pl.col("capacity")),
                          over_capacity=pl.col("visit_tasks") > pl.col("capacity"))
            .sort("week", "village_code"))


def _changes(new: pl.DataFrame, base: pl.DataFrame, ruleset: RuleSet) -> tuple[pl.DataFrame, pl.DataFrame]:
    conds = _conditions(ruleset)
    cols = ["key", "person_id", "as_of", "route", *conds]
    joined = base.select(cols).join(new.select(cols), on="key", how="full", suffix="_new", coalesce=True).with_columns(
        from_route=pl.col("route").fill_null("no_event"), to_route=pl.col("route_new").fill_null("no_event"),
        person_id=pl.coalesce("person_id", "person_id_new"), as_of=pl.coalesce("as_of_new", "as_of"),
    )
    moved = joined.filter(pl.col("from_route") != pl.col("to_route"))
    counts = moved.group_by("from_route", "to_route").agg(people=pl.len()).sort("people", descending=True)
    flipped = pl.concat_list([
        pl.when(pl.col(c).eq_missing(pl.col(f"{c}_new")).not_()).then(
            pl.format("{}: {} → {}", pl.lit(c.removeprefix("cond_")), pl.col(c).cast(pl.String).fill_null("—"),
                      pl.col(f"{c}_new").cast(pl.String).fill_null("—")))
        for c in conds
    ]).list.drop_nulls().list.join("; ")
    sample = (moved.sort("key").head(SAMPLE)
              .with_columns(id_masked=pl.col("person_id").map_elements(mask, return_dtype=pl.String),
                            flipped=flipped)
              .select("id_masked", "as_of", "from_route", "to_route", "flipped"))
    return counts, sample


def backtest(
    con: duckdb.DuckDBPyConnection,
    ruleset: RuleSet,
    *,
    start: dt.date,
    end: dt.date,
    rules_dir: Path,
    base: RuleSet | None = None,
    labels: pl.DataFrame | None = None,
    assistants: pl.DataFrame | None = None,
) -> Backtest:
    """Replay the rule set's event type over ``start``..``end`` (inclusive) on the lake ``con``.

    ``base`` (the version in force) turns on the comparison; ``labels``
    (person_id, label) gives precision and recall; ``assistants`` (village_code,
    weekly_capacity; default: the lake's) the capacity.
    """
    if end < start:
        raise InputError("the period ends before it starts")
    event_type = event_type_of(ruleset.name)
    decided = _decide(_evaluated(con, event_type, ruleset, start, end, rules_dir), ruleset, event_type, rules_dir)
    if assistants is None:
        assistants = con.sql("SELECT village_code, weekly_capacity FROM assistants").pl()
    workload = _workload(decided, assistants)
    weekly = _weekly(decided, workload, labels, start, end)
    result = Backtest(ruleset=ruleset.name, version=ruleset.version, start=start, end=end, decisions=decided,
                      weekly=weekly, workload=workload)
    if labels is not None:
        acted = decided.filter(pl.col("route") != "no_action").join(labels, on="person_id", how="left")
        known = acted.filter(pl.col("label").is_not_null())
        if known.height:
            result.precision = known["label"].sum() / known.height
        positives = labels.filter("label")["person_id"]
        if positives.len():
            result.recall = acted.filter(pl.col("label").fill_null(False))["person_id"].n_unique() / positives.len()
    if base is not None:
        base_decided = _decide(_evaluated(con, event_type, base, start, end, rules_dir), base, event_type, rules_dir)
        result.base_version = base.version
        result.changes, result.sample = _changes(decided, base_decided, ruleset)
        base_weekly = base_decided.group_by("week").agg(base_events=pl.len(), base_visit_tasks=pl.col(
            "visit_tasks").sum(), base_amount=pl.col("amount").sum())
        result.weekly = result.weekly.join(base_weekly, on="week", how="left").with_columns(
            pl.col("base_events", "base_visit_tasks").fill_null(0).cast(pl.Int64),
            pl.col("base_amount").fill_null(0.0))
    return result


def weekly_table(result: Backtest) -> pl.DataFrame:
    """The weekly frame with the rule set and versions, as written to Parquet/CSV."""
    return result.weekly.with_columns(ruleset=pl.lit(result.ruleset), ruleset_version=pl.lit(result.version),
                                      base_version=pl.lit(result.base_version, pl.String))

