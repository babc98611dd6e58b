"""The SQL allow-list: rule expressions are parsed with sqlglot and only known-safe nodes pass.

Analysts write SQL, but a rule must never read a table, call a side-effecting
function or smuggle in a second statement; everything not listed here is
refused, so new sqlglot node types are refused by default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from wugan.errors import ExpressionError

__all__ = ["ExpressionError", "parse_expression", "column_names", "rename_columns", "to_sql"]

MAX_LENGTH = 4000

_ALLOWED: tuple[type[exp.Expression], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.Neg,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
    exp.And, exp.Or, exp.Not, exp.Case, exp.If, exp.Cast, exp.TryCast, exp.DataType, exp.DataTypeParam,
    exp.Is, exp.Between, exp.In, exp.Coalesce, exp.Least, exp.Greatest,
    exp.DateDiff, exp.DateTrunc, exp.TimestampTrunc, exp.DateAdd, exp.DateSub, exp.Interval,
    exp.Extract, exp.Year, exp.Month, exp.Day, exp.DateFromParts, exp.TimeToStr,
    exp.Floor, exp.Ceil, exp.Round, exp.Abs, exp.StartsWith, exp.DPipe, exp.Var,
)  # fmt: skip
_FUNCTION_NAMES = {
    exp.Coalesce: "coalesce", exp.Least: "least", exp.Greatest: "greatest", exp.DateDiff: "date_diff",
    exp.DateTrunc: "date_trunc", exp.TimestampTrunc: "date_trunc", exp.DateAdd: "date_add",
    exp.DateSub: "date_sub", exp.Extract: "extract", exp.Year: "year", exp.Month: "month", exp.Day: "day",
    exp.DateFromParts: "make_date", exp.TimeToStr: "strftime", exp.Floor: "floor", exp.Ceil: "ceil",
    exp.Round: "round", exp.Abs: "abs", exp.StartsWith: "starts_with",
}  # fmt: skip
_UNITS = {"YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "YEARS", "MONTHS", "DAYS", "WEEKS"}
_VAR_PARENTS = (exp.Interval, exp.DateDiff, exp.Extract, exp.DateTrunc, exp.TimestampTrunc, exp.DateAdd, exp.DateSub)
_TYPES = {
    exp.DataType.Type.TINYINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.INT, exp.DataType.Type.BIGINT,
    exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT, exp.DataType.Type.DECIMAL, exp.DataType.Type.VARCHAR,
    exp.DataType.Type.TEXT, exp.DataType.Type.CHAR, exp.DataType.Type.DATE, exp.DataType.Type.BOOLEAN,
    exp.DataType.Type.TIMESTAMP,
}  # fmt: skip
_LITERALS = (exp.Literal, exp.Boolean, exp.Null)


def _describe(node: exp.Expression) -> str:
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return type(node).__name__


def parse_expression(text: object) -> exp.Expression:
    """Parse one SQL scalar expression and check every node against the allow-list."""
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise ExpressionError("expression must be a SQL string")
    text = str(text)
    if not text.strip():
        raise ExpressionError("empty expression")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tokens = sqlglot.Dialect.get_or_raise("duckdb").tokenize(text)
        if any(t.token_type == TokenType.SEMICOLON for t in tokens):
            raise ExpressionError("forbidden construct ';' (one expression only)", ";")
        parsed = sqlglot.parse(text, read="duckdb")
    except ExpressionError:
        raise
    except RecursionError:
        raise ExpressionError("expression nested too deeply") from None
    except Exception as e:  # sqlglot raises several error types on bad input
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ExpressionError(f"syntax error: {first}") from None
    if len(parsed) != 1 or parsed[0] is None:
        raise ExpressionError("expected exactly one expression")
    tree = parsed[0]
    try:
        _check(tree)
        # sqlglot sometimes builds a node with a missing argument; what runs is the
        # rendering, so it must parse back
        sqlglot.parse_one(to_sql(tree), read="duckdb")
    except RecursionError:
        raise ExpressionError("expression nested too deeply") from None
    except ExpressionError:
        raise
    except Exception as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ExpressionError(f"syntax error: {first}") from None
    return tree


def _check(tree: exp.Expression) -> None:
    for node in tree.walk():
        if isinstance(node, exp.Anonymous):
            raise ExpressionError(f"function '{node.name.lower()}' is not allowed", node.name)
        if not isinstance(node, _ALLOWED) or type(node) is exp.Expression:
            label = _describe(node)
            kind = "function" if isinstance(node, exp.Func) else "construct"
            raise ExpressionError(f"forbidden {kind} '{label}'", label if kind == "function" else None)
        for node_type, check in _NODE_CHECKS.items():
            if isinstance(node, node_type):
                check(node)
                break


def _check_column(node: exp.Column) -> None:
    if not isinstance(node.this, exp.Identifier):
        raise ExpressionError("forbidden construct '*'")
    if node.table or node.args.get("db") or node.args.get("catalog"):
        raise ExpressionError(f"qualified column '{node.sql()}' is not allowed", node.name)


def _check_var(node: exp.Var) -> None:
    if not isinstance(node.parent, _VAR_PARENTS) or node.name.upper() not in _UNITS:
        raise ExpressionError(f"unexpected word '{node.name}'", node.name)


def _check_in(node: exp.In) -> None:
    if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
        raise ExpressionError("IN accepts only a list of literals")
    for item in node.expressions:
        inner = item.this if isinstance(item, exp.Neg | exp.Paren) else item
        if not isinstance(inner, _LITERALS):
            raise ExpressionError("IN accepts only a list of literals")


def _check_type(node: exp.DataType) -> None:
    if node.this not in _TYPES:
        raise ExpressionError(f"type '{node.sql()}' is not allowed", None)


def _check_interval(node: exp.Interval) -> None:
    if node.args.get("unit") is None:
        raise ExpressionError("INTERVAL needs a unit (e.g. INTERVAL 1 MONTH)")


def _check_number(node: exp.Literal) -> None:
    if node.is_string:
        return
    try:
        float(node.this)
    except ValueError:
        raise ExpressionError(f"bad number '{node.this}'") from None


# Checks beyond the allow-list: the first whose node type matches runs.
_NODE_CHECKS: dict[type[exp.Expression], Callable[[Any], None]] = {
    exp.Column: _check_column, exp.Var: _check_var, exp.In: _check_in, exp.DataType: _check_type,
    exp.Interval: _check_interval, exp.Literal: _check_number,
}  # fmt: skip


def column_names(tree: exp.Expression) -> list[str]:
    """Referenced names in order of appearance, unique."""
    seen: dict[str, None] = {}
    for col in tree.find_all(exp.Column):
        seen.setdefault(col.name, None)
    return list(seen)


def rename_columns(tree: exp.Expression, mapping: dict[str, str]) -> exp.Expression:
    """Copy of ``tree`` with each column replaced by its quoted internal name."""

    def repl(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and node.name in mapping:
            return exp.column(mapping[node.name], quoted=True)
        return node

    return tree.copy().transform(repl)


def to_sql(tree: exp.Expression) -> str:
    return tree.sql(dialect="duckdb")
