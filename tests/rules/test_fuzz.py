"""Hypothesis fuzzing of the loader: nothing escapes the allow-list, nothing crashes unclearly."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from wugan.rules import RuleError, load_ruleset
from wugan.rules.expressions import ExpressionError, parse_expression

REPO_RULES = Path(__file__).resolve().parents[2] / "rules"
FORBIDDEN = (exp.Select, exp.Subquery, exp.Table, exp.Anonymous, exp.Command, exp.Pragma, exp.Set, exp.Copy)

ATOMS = ["income", "birth_date", "share", "as_of", "threshold", "brith_date", "1", "0.5", "'x'", "NULL",
         "TRUE", "DATE '2025-01-01'", "INTERVAL 1 MONTH", "t.income", "*", "(SELECT 1)", "read_csv('f')",
         "getenv('HOME')", "current_date", "now()"]  # fmt: skip
OPS = [" + ", " - ", " * ", " / ", " AND ", " OR ", " = ", " < ", " >= ", " || ", " IN ", " BETWEEN ", "; ",
       " FROM ", " IS ", " NOT "]  # fmt: skip
FUNCS = ["floor", "least", "coalesce", "date_trunc", "strftime", "abs", "read_parquet", "system", "pragma", "",
         "CAST", "year", "make_date", "date_diff", "query"]  # fmt: skip


@st.composite
def sqlish(draw, depth=0):
    if depth > 3 or draw(st.booleans()):
        return draw(st.sampled_from(ATOMS))
    kind = draw(st.sampled_from(["op", "func", "case", "paren"]))
    if kind == "op":
        return draw(sqlish(depth + 1)) + draw(st.sampled_from(OPS)) + draw(sqlish(depth + 1))
    if kind == "func":
        args = draw(st.lists(sqlish(depth + 1), min_size=1, max_size=3))
        return f"{draw(st.sampled_from(FUNCS))}({', '.join(args)})"
    if kind == "case":
        return f"CASE WHEN {draw(sqlish(depth + 1))} THEN {draw(sqlish(depth + 1))} ELSE {draw(sqlish(depth + 1))} END"
    return f"({draw(sqlish(depth + 1))})"


def check_parsed(tree: exp.Expression) -> None:
    rendered = tree.sql(dialect="duckdb")
    for node in sqlglot.parse_one(rendered, read="duckdb").walk():
        assert not isinstance(node, FORBIDDEN), rendered


@settings(max_examples=400, deadline=None)
@given(st.one_of(sqlish(), st.text(max_size=80)))
def test_parse_expression_refuses_or_returns_allowed_tree(text):
    try:
        tree = parse_expression(text)
    except ExpressionError as e:
        assert str(e)
        return
    check_parsed(tree)


_TEMPLATE = """\
description: fuzz
inputs:
  birth_date: {{type: DATE}}
  income: {{type: DOUBLE}}
parameters:
  share: medical_hardship.oop_share
derived:
  threshold:
    expr: {expr}
conditions:
  ok:
    expr: {cond}
    label: 测试
outcomes:
  item:
    route:
      - when: ok
        route: instant_approve
"""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expr=sqlish(), cond=sqlish())
def test_loader_fails_only_with_rule_error(expr, cond):
    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp)
        shutil.copytree(REPO_RULES / "parameters", rules / "parameters")
        text = _TEMPLATE.format(expr=_quote(expr), cond=_quote(cond))
        (rules / "fuzz.yaml").write_text(text, encoding="utf-8")
        try:
            rs = load_ruleset("fuzz", rules_dir=rules)
        except RuleError as e:
            assert "fuzz.yaml" in str(e)
            return
        for node in rs.nodes.values():
            if node.expr is not None:
                check_parsed(node.expr)
        assert rs.conditions == {"ok": "测试"}


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
