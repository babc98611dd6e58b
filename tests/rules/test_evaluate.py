"""Parameters as of a date, DuckDB and polars agreement, per-row as-of, versions, and the CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from wugan.cli.rules import app
from wugan.rules import RuleError, load_parameter, load_ruleset, sandbox
from wugan.rules.testing import run_tests

REPO_RULES = Path(__file__).resolve().parents[2] / "rules"
D = dt.date


@pytest.mark.parametrize(
    ("pid", "when", "region", "expected"),
    [
        ("retirement.min_contribution_months", D(2029, 12, 31), None, 180),  # day before the first rise
        ("retirement.min_contribution_months", D(2030, 1, 1), None, 186),  # first rise
        ("retirement.min_contribution_months", D(2039, 1, 1), None, 240),  # final value
        ("childcare_subsidy.monthly_amount", D(2024, 12, 31), None, None),  # before the programme
        ("childcare_subsidy.monthly_amount", D(2025, 1, 1), None, 300),
        ("old_age_allowance.tier_80", D(2023, 1, 1), "371402001001", 150),  # county override in force
        ("old_age_allowance.tier_80", D(2022, 12, 31), "371402001001", 100),  # override not yet: default
        ("old_age_allowance.tier_80", D(2023, 1, 1), "371302001001", 100),  # other prefix: default
    ],
)
def test_parameter_as_of(pid, when, region, expected):
    assert load_parameter(pid, rules_dir=REPO_RULES).at(when, region) == expected


def test_null_ends_a_value_and_longest_prefix_wins(rules_dir):
    path = rules_dir / "parameters" / "medical_hardship" / "oop_share.yaml"
    path.write_text(
        "description: d\nreference: r\nvalues:\n  2024-01-01: {value: 0.5, reference: a}\n"
        "  2026-01-01: {value: null, reference: repealed}\n"
        'by_region:\n  "37": {values: {2024-01-01: 0.4}}\n  "3714": {values: {2024-01-01: 0.3}}\n',
        encoding="utf-8",
    )
    p = load_parameter("medical_hardship.oop_share", rules_dir=rules_dir)
    assert p.at(D(2025, 12, 31)) == 0.5
    assert p.at(D(2026, 1, 1)) is None
    assert p.at(D(2025, 1, 1), "371402") == 0.3
    assert p.at(D(2025, 1, 1), "370102") == 0.4


def persons() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "birth_date": [D(1945, 2, 20), D(1935, 2, 20), D(1925, 2, 20), D(1940, 1, 1), None, D(1944, 6, 1)],
            "hukou_local": [True, True, True, False, True, True],
            "alive": [True, True, True, True, True, None],
            "region_code": ["110101001001", "371402001001", "371402001001", "110101001001", "1101", "37"],
            "as_of": [D(2025, 3, 1), D(2022, 12, 31), D(2023, 1, 1), D(2025, 3, 1), D(2025, 3, 1), D(2024, 6, 1)],
        }
    )


def test_duckdb_and_polars_agree_and_pass_inputs_through():
    rs = load_ruleset("old_age_allowance", rules_dir=REPO_RULES)
    df = persons()
    from_frame = rs.evaluate_frame(df, as_of=D(2025, 3, 1))
    con = sandbox.connect()
    con.register("people", df)
    from_duckdb = rs.evaluate(con, "people", as_of=D(2025, 3, 1)).pl()
    assert from_frame.equals(from_duckdb)
    assert from_frame.columns[: len(df.columns)] == df.columns
    for col in rs.output_columns():
        assert col in from_frame.columns
    assert from_frame.schema["cond_old_enough"] == pl.Boolean
    assert from_frame.schema["old_age_allowance_amount"] == pl.Float64
    assert from_frame["ruleset_version"].unique().to_list() == [rs.version]
    assert from_frame["old_age_allowance_amount"].to_list() == [100.0, 600.0, 1000.0, None, None, None]


def test_per_row_as_of_equals_one_query_per_date():
    rs = load_ruleset("old_age_allowance", rules_dir=REPO_RULES)
    df = persons()
    per_row = rs.evaluate_frame(df, as_of="as_of")
    singles = [rs.evaluate_frame(df[i], as_of=df["as_of"][i]) for i in range(df.height)]
    assert per_row.equals(pl.concat(singles))
    assert per_row["allowance_monthly"].to_list()[:3] == [100, 100, 600]  # Dezhou override from 2023


def test_per_row_as_of_for_dated_parameters_at_a_derived_date():
    rs = load_ruleset("death", rules_dir=REPO_RULES)
    df = pl.DataFrame(
        {
            "death_date": [D(2020, 12, 31), D(2021, 1, 1)],
            "pension_in_payment": [True, True],
            "contribution_months": [240, 240],
            "province_urban_income_prev_year": [48000.0, 48000.0],
        }
    )
    out = rs.evaluate_frame(df, as_of=D(2025, 1, 1))
    assert out["funeral_grant"].to_list() == [None, 8000.0]
    assert out["funeral_grant_route"].to_list() == ["no_action", "instant_approve"]


def test_missing_input_column_is_a_clear_error():
    rs = load_ruleset("medical_hardship", rules_dir=REPO_RULES)
    with pytest.raises(RuleError, match="input column 'income_prev_year' missing"):
        rs.evaluate_frame(pl.DataFrame({"oop_12m": [1.0]}), as_of=D(2025, 1, 1))


def test_version_changes_with_expression_or_parameter_only(rules_dir):
    base = load_ruleset("medical_hardship", rules_dir=rules_dir).version
    path = rules_dir / "medical_hardship.yaml"
    text = path.read_text(encoding="utf-8")
    # comments, layout and descriptions do not change what the rule decides
    path.write_text("# a comment\n" + text.replace("description: CNY above", "description: yuan above"), encoding="utf-8")
    assert load_ruleset("medical_hardship", rules_dir=rules_dir).version == base
    path.write_text(text.replace("oop_12m > threshold", "oop_12m >= threshold"), encoding="utf-8")
    assert load_ruleset("medical_hardship", rules_dir=rules_dir).version != base
    path.write_text(text, encoding="utf-8")
    param = rules_dir / "parameters" / "medical_hardship" / "oop_share.yaml"
    param.write_text(param.read_text(encoding="utf-8").replace("value: 0.5", "value: 0.45"), encoding="utf-8")
    assert load_ruleset("medical_hardship", rules_dir=rules_dir).version != base


def _spending(**columns) -> pl.DataFrame:
    """medical_hardship inputs of people with no disabling diagnosis and no certificate."""
    return pl.DataFrame(columns).with_columns(first_disabling_dx=pl.lit(None, pl.Date),
                                              disability_grade=pl.lit(None, pl.Int32), care_subsidy=pl.lit(False))


def test_override_changes_results_and_version():
    rs = load_ruleset("medical_hardship", rules_dir=REPO_RULES)
    what_if = load_ruleset("medical_hardship", rules_dir=REPO_RULES, overrides={"medical_hardship.oop_share": 0.4})
    assert what_if.version != rs.version
    df = _spending(oop_12m=[22000.0], income_prev_year=[50000.0])
    assert rs.evaluate_frame(df, as_of=D(2025, 1, 1))["cond_alert"].to_list() == [False]
    assert what_if.evaluate_frame(df, as_of=D(2025, 1, 1))["cond_alert"].to_list() == [True]


def test_source_columns_named_like_results_are_replaced():
    rs = load_ruleset("medical_hardship", rules_dir=REPO_RULES)
    df = _spending(oop_12m=[30000.0], income_prev_year=[50000.0], cond_alert=[False])
    out = rs.evaluate_frame(df, as_of=D(2025, 1, 1))
    assert out["cond_alert"].to_list() == [True]
    assert out.columns.count("cond_alert") == 1


def test_cli_rules_test_passes_on_repo_rules():
    result = CliRunner().invoke(app, ["test", "--rules-dir", str(REPO_RULES)])
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.output


def test_cli_rules_test_fails_with_a_diff(rules_dir):
    path = rules_dir / "tests" / "medical_hardship.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("threshold: 25000,", "threshold: 24000,"), encoding="utf-8")
    result = CliRunner().invoke(app, ["test", "medical_hardship", "--rules-dir", str(rules_dir)])
    assert result.exit_code == 1
    assert "FAIL" in result.output and "threshold" in result.output and "24000" in result.output


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_cli_rules_eval_writes_inputs_and_results(tmp_path, suffix):
    src = tmp_path / "in.csv"
    _spending(oop_12m=[30000.0, 100.0], income_prev_year=[50000.0, 50000.0], id=[1, 2]).write_csv(src)
    out = tmp_path / f"out{suffix}"
    result = CliRunner().invoke(
        app, ["eval", "medical_hardship", "--input", str(src), "--as-of", "2025-01-01", "--output", str(out),
              "--rules-dir", str(REPO_RULES)],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    got = pl.read_csv(out) if suffix == ".csv" else pl.read_parquet(out)
    assert got["id"].to_list() == [1, 2]
    assert got["home_visit_route"].to_list() == ["assistant_task", "no_action"]
    assert got["ruleset_version"].to_list() == [load_ruleset("medical_hardship", rules_dir=REPO_RULES).version] * 2


def rule_cases():
    return [pytest.param(r, id=f"{r.ruleset}: {r.name}") for r in run_tests(rules_dir=REPO_RULES)]


@pytest.mark.parametrize("case", rule_cases())
def test_yaml_rule_case(case):
    assert case.passed, f"{case.error} {case.diffs}"


def test_every_rule_set_has_at_least_ten_cases():
    counts: dict[str, int] = {}
    for r in run_tests(rules_dir=REPO_RULES):
        counts[r.ruleset] = counts.get(r.ruleset, 0) + 1
    assert counts and all(n >= 10 for n in counts.values()), counts
