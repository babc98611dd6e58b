"""Detect: life events in the lake, each with a stable idempotency key.

A detector is a vectorised query over the lake for a window (see ``window``);
the key (event type + person + source record or period) makes an event
happen once whatever the overlap of windows, reruns or late rows.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb
import polars as pl

from wugan.cases.models import make_id
from wugan.events import birth, death, hardship, old_age, retirement
from wugan.events.window import Window, window_for
from wugan.rules import RuleSet, load_ruleset

__all__ = ["EVENT_TYPES", "RULESETS", "Window", "window_for", "detect", "ruleset_for"]

MODULES = {m.EVENT: m for m in (birth, death, retirement, hardship, old_age)}
EVENT_TYPES: tuple[str, ...] = tuple(MODULES)
RULESETS: dict[str, str] = {name: m.RULESET for name, m in MODULES.items()}
EVENT_COLUMNS = ("key", "person_id", "subject", "village_code", "household_id", "event_date")


@cache
def _cached_ruleset(name: str, rules_dir: str, signature: tuple) -> RuleSet:
    return load_ruleset(name, rules_dir=Path(rules_dir))


def ruleset_for(event_type: str, *, rules_dir: Path) -> RuleSet:
    """The event type's rule set, parsed once per process until a file under ``rules_dir`` changes."""
    signature = tuple(sorted((str(p), p.stat().st_mtime_ns) for p in Path(rules_dir).rglob("*.yaml")))
    return _cached_ruleset(RULESETS[event_type], str(rules_dir), signature)


def _query(con: duckdb.DuckDBPyConnection, event_type: str, window: Window, county: str | None,
           rules_dir: Path) -> duckdb.DuckDBPyRelation:
    module = MODULES[event_type]
    if not hasattr(module, "candidates_sql"):
        return con.sql(module.sql(window, county))
    # The trigger is the rule set's own output over the candidates.
    ruleset = ruleset_for(event_type, rules_dir=rules_dir)
    view = f"_{event_type}_evaluated"
    ruleset.evaluate(con, module.candidates_sql(window, county), as_of=window.until).create_view(view, replace=True)
    return con.sql(module.sql(window, view))


def detect(
    con: duckdb.DuckDBPyConnection,
    event_type: str,
    window: Window,
    *,
    rules_dir: Path,
    county: str | None = None,
) -> pl.DataFrame:
    """New events of one type in the window, optionally for one county (6-digit code).

    ``con`` has the lake's views and an ``opt_outs`` table (person_id, service).
    The frame has ``id``, ``event_type``, ``detected_on``, the event columns and
    the rule set's inputs.
    """
    if event_type not in MODULES:
        raise ValueError(f"unknown event type {event_type!r}; one of {', '.join(EVENT_TYPES)}")
    if county is not None and not (county.isdigit() and len(county) == 6):
        raise ValueError(f"a county is a 6-digit code, not {county!r}")
    frame = _query(con, event_type, window, county, rules_dir).pl()
    return frame.with_columns(
        id=pl.col("key").map_elements(lambda k: make_id("event", k), return_dtype=pl.String),
        event_type=pl.lit(event_type),
        detected_on=pl.lit(window.until, dtype=pl.Date),
    ).sort("key")
