"""Loader errors name the file, the line and the offending name; forbidden SQL never loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wugan.rules import RuleError, load_ruleset


def write(rules_dir: Path, text: str, name: str = "probe") -> Path:
    path = rules_dir / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_minimal_rule_set_loads(rules_dir, minimal):
    rs = load_ruleset("probe", rules_dir=rules_dir) if write(rules_dir, minimal) else None
    assert rs.conditions == {"born": "已出生"}
    assert list(rs.outcomes) == ["item"]
    assert rs.inputs == {"birth_date": "DATE", "income": "DOUBLE"}
    assert re.fullmatch(r"[0-9a-f]{12}", rs.version)


def test_unknown_column_names_file_line_and_name(rules_dir, minimal):
    broken = load_ruleset("retirement", rules_dir=rules_dir).path.read_text(encoding="utf-8")
    broken = broken.replace(
        "expr: strftime(retirement_date, '%Y-%m')", "expr: strftime(brith_date, '%Y-%m')"
    )
    path = write(rules_dir, broken, "retirement")
    with pytest.raises(RuleError) as err:
        load_ruleset("retirement", rules_dir=rules_dir)
    line = line_of(broken, "strftime(brith_date")
    assert str(err.value).endswith(f"retirement.yaml:{line}: unknown column 'brith_date' in derived 'retirement_month'")
    assert err.value.path == path and err.value.line == line


def test_unknown_column_in_multiline_expression_points_at_its_line(rules_dir, minimal):
    text = minimal.replace("expr: share * income", "expr: |\n      share\n      * incme")
    write(rules_dir, text)
    with pytest.raises(RuleError, match=r"probe.yaml:(\d+): unknown column 'incme' in derived 'threshold'") as err:
        load_ruleset("probe", rules_dir=rules_dir)
    assert err.value.line == line_of(text, "* incme")


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("birth_date * 2", r"type error in derived 'threshold'"),  # dates do not multiply
        ("upper(income)", r"type error in derived 'threshold'|function 'upper'"),
    ],
)
def test_type_errors_are_reported_at_load(rules_dir, minimal, expr, message):
    write(rules_dir, minimal.replace("share * income", expr))
    with pytest.raises(RuleError, match=message) as err:
        load_ruleset("probe", rules_dir=rules_dir)
    assert err.value.line == line_of(minimal, "share * income")


def test_condition_must_be_boolean(rules_dir, minimal):
    text = minimal.replace("birth_date <= as_of", "income + 1")
    write(rules_dir, text)
    with pytest.raises(RuleError, match=r"probe.yaml:\d+: type error in condition 'born': expected BOOLEAN, got DOUBLE"):
        load_ruleset("probe", rules_dir=rules_dir)


def test_cycle_is_reported_with_its_path(rules_dir, minimal):
    text = minimal.replace(
        "  threshold:\n    expr: share * income",
        "  threshold:\n    expr: share * other\n  other:\n    expr: threshold + 1",
    )
    write(rules_dir, text)
    with pytest.raises(RuleError, match=r"probe.yaml:\d+: cycle in derived '(threshold|other)': .* -> .*") as err:
        load_ruleset("probe", rules_dir=rules_dir)
    assert err.value.line in (line_of(text, "share * other"), line_of(text, "threshold + 1"))


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("(SELECT 1)", r"forbidden construct '(Subquery|Select)'"),
        ("income + (SELECT max(x) FROM t)", r"forbidden construct"),
        ("read_csv('/etc/passwd')", r"forbidden function 'read_csv'"),
        ("income; DROP TABLE t", r"forbidden construct ';'"),
        ("getenv('HOME')", r"function 'getenv' is not allowed|forbidden function"),
        ("t.income", r"qualified column"),
        ("income IN (SELECT 1)", r"IN accepts only|forbidden construct"),
        ("random()", r"forbidden function 'rand"),
        ("now()", r"forbidden function|is not allowed"),
    ],
)
def test_forbidden_constructs_are_refused_with_line(rules_dir, minimal, expr, message):
    text = minimal.replace("share * income", f'"{expr}"')
    write(rules_dir, text)
    with pytest.raises(RuleError, match=message) as err:
        load_ruleset("probe", rules_dir=rules_dir)
    assert err.value.line == line_of(text, expr)
    assert "in derived 'threshold'" in str(err.value)


def test_unknown_parameter_file(rules_dir, minimal):
    write(rules_dir, minimal.replace("medical_hardship.oop_share", "medical_hardship.nope"))
    with pytest.raises(RuleError, match=r"unknown parameter 'medical_hardship.nope'"):
        load_ruleset("probe", rules_dir=rules_dir)


def test_unknown_route_is_refused(rules_dir, minimal):
    write(rules_dir, minimal.replace("route: instant_approve", "route: approve_fast"))
    with pytest.raises(RuleError, match=r"probe.yaml:\d+: outcome 'item': each route needs"):
        load_ruleset("probe", rules_dir=rules_dir)


def test_condition_without_label_is_refused(rules_dir, minimal):
    write(rules_dir, minimal.replace("    label: 已出生\n", ""))
    with pytest.raises(RuleError, match=r"label of condition 'born'"):
        load_ruleset("probe", rules_dir=rules_dir)


# One fault per section of the file; each error names the file and the line to fix.
SECTION_FAULTS = [
    # (section, replace, with, the line's text, message)
    ("top", "description: a small", "descriptoin: a small", "descriptoin:", r"unknown key 'descriptoin'"),
    ("inputs", "income: {type: DOUBLE}", "income: {type: MONEY}", "income: {type: MONEY}",
     r"input 'income' type must be one of"),
    ("parameters", "share: medical_hardship.oop_share",
     "share: {parameter: medical_hardship.oop_share, at: birth_dte}", "at: birth_dte",
     r"unknown column 'birth_dte' in parameter 'share'"),
    ("derived", "expr: share * income", "expr: share * incme", "share * incme",
     r"unknown column 'incme' in derived 'threshold'"),
    ("conditions", "expr: birth_date <= as_of", "expr: birth_date <= as_off", "as_off",
     r"unknown column 'as_off' in condition 'born'"),
    ("outcomes", "amount: threshold", "amount: threshhold", "amount: threshhold",
     r"unknown column 'threshhold' in outcome 'item'"),
    ("outcome routes", "- route: no_action", "- route: no_action\n      - route: instant_approve",
     "- route: no_action", r"outcome 'item': a route without 'when' must come last"),
]


@pytest.mark.parametrize(("section", "old", "new", "needle", "message"), SECTION_FAULTS,
                         ids=[f[0] for f in SECTION_FAULTS])
def test_each_section_reports_file_and_line(rules_dir, minimal, section, old, new, needle, message):
    assert old in minimal
    text = minimal.replace(old, new)
    path = write(rules_dir, text)
    with pytest.raises(RuleError, match=message) as err:
        load_ruleset("probe", rules_dir=rules_dir)
    assert err.value.path == path and err.value.line == line_of(text, needle)
    assert f"probe.yaml:{err.value.line}: " in str(err.value)


def test_lifecycle_errors_name_the_line(rules_dir):
    from wugan.rules.lifecycle import load_lifecycle

    path = rules_dir / "lifecycle.yaml"
    text = path.read_text(encoding="utf-8").replace("status: live\n    live_from: 2025-01-01",
                                                    "status: alive\n    live_from: 2025-01-01", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleError, match=r"lifecycle.yaml:\d+: childcare_subsidy\[0\]: status 'alive'") as err:
        load_lifecycle(rules_dir)
    assert err.value.line == line_of(text, "status: alive")
