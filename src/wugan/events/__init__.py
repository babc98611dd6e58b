"""Life events as desired state: what the lake implies each person is owed, each with a stable key.

Each event type's module holds the query of its candidates for a ``Scope``
(the persons whose data changed, and everyone a date makes due) and, where
the trigger is the rule set's own output, how the evaluated candidates
become events. A row's ``due`` says the trigger holds; its ``key`` (event
type + person + record, tier or year) makes the event happen once whatever
order the data arrives in; ``event_date`` is the real date (birth, death,
birthday, retirement month, the claim that crossed the threshold) and
``as_of`` the date its rules are read at; ``seen`` the first day a daily run
from the lake's first day raises it. The backtest replays the same queries
over a period.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from wugan.cases.models import make_id
from wugan.events import birth, death, hardship, old_age, retirement
from wugan.events.scope import Scope
from wugan.rules import RuleSet, load_ruleset

__all__ = ["EVENT_TYPES", "RULESETS", "DATE_TRIGGERED", "Scope", "desired", "ruleset_for"]

MODULES = {m.EVENT: m for m in (birth, death, retirement, hardship, old_age)}
EVENT_TYPES: tuple[str, ...] = tuple(MODULES)
RULESETS: dict[str, str] = {name: m.RULESET for name, m in MODULES.items()}
# Event types whose trigger is a date as well as data: examined every day, not only when data changes.
DATE_TRIGGERED = ("retirement", "old_age")
EVENT_COLUMNS = ("key", "person_id", "subject", "village_code", "household_id", "event_date", "as_of", "seen", "due")


@cache
def _cached_ruleset(name: str, rules_dir: str, signature: tuple) -> RuleSet:
    return load_ruleset(name, rules_dir=Path(rules_dir))


def ruleset_for(event_type: str, *, rules_dir: Path) -> RuleSet:
    """The event type's rule set, parsed once per process until a file under ``rules_dir`` changes."""
    signature = tuple(sorted((str(p), p.stat().st_mtime_ns) for p in Path(rules_dir).rglob("*.yaml")))
    return _cached_ruleset(RULESETS[event_type], str(rules_dir), signature)


def desired_sql(con: duckdb.DuckDBPyConnection, event_type: str, scope: Scope, *, rules_dir: Path,
                ruleset: RuleSet | None = None) -> str:
    """The query of the events one type's data implies in the scope; where the trigger is the rule set's
    own output, ``ruleset`` (default: the one in force) decides it."""
    module = MODULES[event_type]
    candidates = module.candidates_sql(scope)
    if not module.TRIGGERED:
        return candidates
    ruleset = ruleset or ruleset_for(event_type, rules_dir=rules_dir)
    columns = con.sql(f"SELECT * FROM ({candidates}) LIMIT 0").columns
    as_of = "as_of" if "as_of" in columns else scope.today
    return module.desired_sql(ruleset.evaluate(con, candidates, as_of=as_of).sql_query(), scope)


def desired(con: duckdb.DuckDBPyConnection, event_type: str, scope: Scope, *, rules_dir: Path,
            only_due: bool = False) -> pl.DataFrame:
    """The events of one type the lake implies in the scope, optionally one county (6-digit code).

    ``con`` has the lake's views, ``opt_outs`` (person_id, service), ``existing``
    (the case store's keys of this type) and, unless the scope is everyone,
    ``touched`` (person_id). The frame has ``id``, ``event_type``,
    ``detected_on``, the event columns and the rule set's inputs.
    """
    if event_type not in MODULES:
        raise ValueError(f"unknown event type {event_type!r}; one of {', '.join(EVENT_TYPES)}")
    if scope.county is not None and not (scope.county.isdigit() and len(scope.county) == 6):
        raise ValueError(f"a county is a 6-digit code, not {scope.county!r}")
    per_part = getattr(MODULES[event_type], "CLAIMS_PER_PART", None)
    parts = 1
    if per_part and scope.everyone:
        parts = max(1, -(-con.sql("SELECT count(*) FROM claims").fetchall()[0][0] // per_part))
    # the rows acted on: due ones, and (unless ``only_due``) the store's own events, which may be corrected
    kept = "due" if only_due else "due OR key IN (SELECT key FROM existing)"
    frames = [con.sql(f"SELECT * FROM ({desired_sql(con, event_type, replace(scope, part=(k, parts)), rules_dir=rules_dir)}) "
                      f"WHERE {kept}").pl() for k in range(parts)]
    frame = pl.concat(frames, how="vertical_relaxed") if parts > 1 else frames[0]
    return frame.with_columns(
        id=pl.col("key").map_elements(lambda k: make_id("event", k), return_dtype=pl.String),
        event_type=pl.lit(event_type),
        detected_on=pl.lit(scope.today, dtype=pl.Date),
    ).sort("key")
