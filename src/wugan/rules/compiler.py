"""Compile a rule set into one vectorised DuckDB query over a whole table.

Each rule value becomes a column computed in dependency layers (one CTE per
layer), under an internal name so analysts' names never collide with source
columns; the final SELECT passes the source through and names the results.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

import duckdb

from wugan.errors import RuleError
from wugan.rules.expressions import rename_columns, to_sql
from wugan.rules.params import parameter_sql
from wugan.rules.sandbox import connect, is_sandboxed

if TYPE_CHECKING:
    import polars as pl

    from wugan.rules.loader import RuleSet

__all__ = ["AS_OF", "compile_sql", "evaluate", "evaluate_frame"]

AS_OF = "as_of"  # the name by which a rule reads the day it is evaluated for

_SELECT = re.compile(r"^\s*(\(|select\b|with\b|from\b|values\b)", re.IGNORECASE)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _internal(name: str) -> str:
    return f"__r_{name}"


def _source_sql(source: str) -> str:
    return f"({source})" if _SELECT.match(source) else _q(source)


def compile_sql(
    rs: RuleSet, source: str, *, as_of: dt.date | str, source_columns: dict[str, str]
) -> str:
    """The query text; ``source_columns`` (name -> DuckDB type) comes from describing the source."""
    missing = [c for c in rs.inputs if c not in source_columns]
    if missing:
        raise RuleError(rs.path, None, f"input column '{missing[0]}' missing from the source")
    names = {n: _internal(n) for n in rs.nodes}
    names.update({c: c for c in rs.inputs})
    names[AS_OF] = "__as_of"

    casts = [f"CAST({_q(c)} AS {t}) AS {_q(c)}" for c, t in rs.inputs.items() if source_columns[c] != t]
    replace = f" REPLACE ({', '.join(casts)})" if casts else ""
    if isinstance(as_of, dt.date):
        at_date: dt.date | None = as_of
        as_of_sql = f"DATE '{as_of.isoformat()}'"
    else:
        if as_of not in source_columns:
            raise RuleError(rs.path, None, f"as_of column '{as_of}' missing from the source")
        at_date, as_of_sql = None, f"CAST({_q(as_of)} AS DATE)"
    ctes = [f"__l0 AS (SELECT *{replace}, {as_of_sql} AS __as_of FROM {_source_sql(source)})"]

    def sql(tree) -> str:
        return to_sql(rename_columns(tree, names))

    depth: dict[str, int] = {}
    layers: list[list[str]] = []
    for node in rs.nodes.values():
        d = 1 + max((depth.get(dep, 0) for dep in node.deps), default=0)
        depth[node.name] = d
        while len(layers) < d:
            layers.append([])
        if node.kind == "parameter":
            assert node.param is not None
            fixed = at_date if node.at is None else None
            at_sql = sql(node.at) if node.at is not None else "__as_of"
            region_sql = sql(node.region) if node.region is not None else None
            expr = parameter_sql(node.param, at_sql=at_sql, at_date=fixed, region_sql=region_sql)
        else:
            expr = sql(node.expr)
        layers[d - 1].append(f"{expr} AS {_q(names[node.name])}")
    for i, cols in enumerate(layers, start=1):
        ctes.append(f"__l{i} AS (SELECT *, {', '.join(cols)} FROM __l{i - 1})")
    last = len(layers)

    routes = []
    for item, out in rs.outcomes.items():
        whens = " ".join(f"WHEN {sql(t)} THEN '{r}'" for t, r in out.routes)
        route = f"CASE {whens} ELSE '{out.default}' END" if whens else f"'{out.default}'"
        routes.append(f"{route} AS {_q('__route_' + item)}")
    ctes.append(f"__l{last + 1} AS (SELECT *, {', '.join(routes)} FROM __l{last})")

    produced = set(rs.output_columns())
    select = [_q(c) for c in source_columns if c not in produced]
    for node in rs.nodes.values():
        if node.kind == "derived":
            select.append(f"{_q(names[node.name])} AS {_q(node.name)}")
        elif node.kind == "condition":
            select.append(f"{_q(names[node.name])} AS {_q('cond_' + node.name)}")
    for item, out in rs.outcomes.items():
        route_col = _q("__route_" + item)
        select.append(f"{route_col} AS {_q(item + '_route')}")
        amount = (
            f"CASE WHEN {route_col} <> 'no_action' THEN CAST({sql(out.amount)} AS DOUBLE) END"
            if out.amount is not None
            else "CAST(NULL AS DOUBLE)"
        )
        select.append(f"{amount} AS {_q(item + '_amount')}")
    select += [f"'{rs.name}' AS ruleset", f"'{rs.version}' AS ruleset_version"]
    return f"WITH {', '.join(ctes)} SELECT {', '.join(select)} FROM __l{last + 1}"


def evaluate(
    rs: RuleSet, con: duckdb.DuckDBPyConnection, source: str, *, as_of: dt.date | str
) -> duckdb.DuckDBPyRelation:
    """Lazy relation with the rule results for every row of ``source``, on a sandboxed connection only."""
    if not is_sandboxed(con):
        raise ValueError("rules are evaluated only on a sandboxed DuckDB connection "
                         "(wugan.rules.sandbox.connect or wugan.lake.connect)")
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    described = con.sql(f"SELECT * FROM {_source_sql(source)}")
    columns = {c: str(t) for c, t in zip(described.columns, described.types, strict=True)}
    return con.sql(compile_sql(rs, source, as_of=as_of, source_columns=columns))


def evaluate_frame(rs: RuleSet, df: pl.DataFrame, *, as_of: dt.date | str) -> pl.DataFrame:
    """Evaluate over a polars frame via Arrow; returns a polars frame in the input's row order."""
    con = connect()
    try:
        con.register("__frame", df.with_row_index("__row"))
        rel = evaluate(rs, con, "SELECT * FROM __frame", as_of=as_of)
        return rel.order("__row").pl().drop("__row")
    finally:
        con.close()
