"""Run the YAML test cases kept beside each rule set (``rules/tests/<ruleset>.yaml``).

All cases of a file run as one query with a per-row as-of date, so the tests
exercise the same vectorised path as production.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wugan.errors import RuleError
from wugan.rules import sandbox
from wugan.rules.loader import RuleSet, load_ruleset, ruleset_names
from wugan.rules.yamldoc import load_yaml

__all__ = ["CaseResult", "run_tests", "run_ruleset_tests"]


@dataclass
class CaseResult:
    ruleset: str
    name: str
    line: int | None
    passed: bool
    diffs: list[tuple[str, Any, Any]] = field(default_factory=list)  # (column, expected, actual)
    error: str = ""


def _same(expected: Any, actual: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual or (isinstance(actual, bool) and expected == actual)
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(float(expected), float(actual), rel_tol=1e-9, abs_tol=1e-6)
    if isinstance(expected, dt.date) and isinstance(actual, dt.date):
        return expected == actual
    return str(expected) == str(actual)


def _column(rs: RuleSet, key: str) -> str | None:
    if key in rs.conditions:
        return f"cond_{key}"
    if key in rs.derived or key in rs.output_columns() or key in rs.inputs:
        return key
    return None


def run_ruleset_tests(rs: RuleSet, *, rules_dir: Path) -> list[CaseResult]:
    path = Path(rules_dir) / "tests" / f"{rs.name}.yaml"
    if not path.is_file():
        return [CaseResult(rs.name, "has a test file", None, False, error=f"missing {path}")]
    doc = load_yaml(path)
    cases = doc.data
    if not isinstance(cases, list) or not cases:
        raise doc.error((), "a test file is a list of cases")
    results: list[CaseResult] = []
    rows: list[tuple] = []
    valid: list[int] = []
    for i, case in enumerate(cases):
        line = doc.line((i,))
        name = case.get("name") if isinstance(case, dict) else None
        if not isinstance(name, str) or not isinstance(case.get("input"), dict) or not isinstance(case.get("output"), dict):
            results.append(CaseResult(rs.name, str(name or f"case {i + 1}"), line, False,
                                      error="a case needs 'name', 'as_of', 'input' and 'output'"))  # fmt: skip
            continue
        as_of = case.get("as_of")
        unknown = [k for k in case["input"] if k not in rs.inputs] + [k for k in case["output"] if _column(rs, k) is None]
        if not isinstance(as_of, dt.date) or unknown:
            why = f"unknown column '{unknown[0]}'" if unknown else "'as_of' must be a YYYY-MM-DD date"
            results.append(CaseResult(rs.name, name, line, False, error=why))
            continue
        rows.append((i, as_of, *(case["input"].get(c) for c in rs.inputs)))
        valid.append(i)
    if rows:
        con = sandbox.connect()
        cols = ", ".join(f'"{c}" {t}' for c, t in rs.inputs.items())
        con.execute(f"CREATE TABLE cases (__case INTEGER, __case_as_of DATE, {cols})")
        con.executemany(f"INSERT INTO cases VALUES ({', '.join('?' * (len(rs.inputs) + 2))})", rows)
        rel = rs.evaluate(con, "cases", as_of="__case_as_of").order("__case")
        names = rel.columns
        by_case = {r[names.index("__case")]: dict(zip(names, r, strict=True)) for r in rel.fetchall()}
        con.close()
        for i in valid:
            case = cases[i]
            got = by_case[i]
            diffs = [
                (key, exp, got[_column(rs, key)])
                for key, exp in case["output"].items()
                if not _same(exp, got[_column(rs, key)])
            ]
            results.append(CaseResult(rs.name, case["name"], doc.line((i,)), not diffs, diffs))
    results.sort(key=lambda r: r.line or 0)
    return results


def run_tests(*, rules_dir: Path, names: list[str] | None = None) -> list[CaseResult]:
    """Results for every case of the named rule sets (default: all); load errors become failures."""
    results: list[CaseResult] = []
    for name in names or ruleset_names(rules_dir=rules_dir):
        try:
            rs = load_ruleset(name, rules_dir=rules_dir)
            results += run_ruleset_tests(rs, rules_dir=rules_dir)
        except RuleError as e:
            results.append(CaseResult(name, "loads", e.line, False, error=str(e)))
    return results
