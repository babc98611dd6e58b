"""The rule engine's DuckDB connections read nothing but their data, and a NaN never becomes SQL.

The expression allow-list keeps file-reading functions out of rule files; these
tests are for the day it has a hole: the connections that evaluate rules have
external access off, and ``evaluate`` refuses any other.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wugan.lake import connect as lake_connect
from wugan.rules import RuleError, load_parameter, load_ruleset
from wugan.rules.params import sql_literal
from wugan.rules.sandbox import connect, is_sandboxed
from wugan.settings import Settings

REPO_RULES = Path(__file__).resolve().parents[2] / "rules"
SECRET_FILE = "/etc/hostname"


def _persons() -> pl.DataFrame:
    return pl.DataFrame({"birth_date": [dt.date(1940, 1, 5)], "hukou_local": [True], "alive": [True],
                         "region_code": ["370102001001"]})


def test_rules_are_not_evaluated_on_an_open_connection():
    rs = load_ruleset("old_age_allowance", rules_dir=REPO_RULES)
    con = duckdb.connect()
    con.register("people", _persons())
    with pytest.raises(ValueError, match="sandboxed"):
        rs.evaluate(con, "people", as_of=dt.date(2025, 3, 1))


def test_evaluating_a_frame_still_works():
    rs = load_ruleset("old_age_allowance", rules_dir=REPO_RULES)
    out = rs.evaluate_frame(_persons(), as_of=dt.date(2025, 3, 1))
    assert out["old_age_allowance_amount"].to_list() == [100.0]


def test_the_lake_connection_reads_the_lake_and_nothing_else(tmp_path):
    settings = Settings(home=tmp_path)
    (tmp_path / "lake").mkdir()
    (tmp_path / "lake" / "x.csv").write_text("a\n1\n")
    (tmp_path / "outside.csv").write_text("a\n2\n")
    con = lake_connect(settings)
    assert con.sql("SELECT current_setting('enable_external_access')").fetchall() == [(False,)]
    assert con.sql(f"SELECT a FROM read_csv('{tmp_path / 'lake' / 'x.csv'}')").fetchall() == [(1,)]
    for sql in (f"SELECT * FROM read_csv('{tmp_path / 'outside.csv'}')",
                f"SELECT * FROM read_csv('{tmp_path / 'lake' / '..' / 'outside.csv'}')",
                f"SELECT * FROM read_text('{SECRET_FILE}')",
                f"COPY (SELECT 1) TO '{tmp_path / 'written.csv'}'",
                f"ATTACH '{tmp_path / 'other.db'}'",
                "LOAD httpfs"):
        with pytest.raises(duckdb.Error):
            con.sql(sql).fetchall()
    with pytest.raises(duckdb.Error):  # and SQL cannot switch it back on
        con.execute("SET enable_external_access = true")
    assert not (tmp_path / "written.csv").exists()


def test_the_rules_test_runner_and_typecheck_run_sandboxed(rules_dir):
    from wugan.rules.testing import run_tests

    results = run_tests(rules_dir=rules_dir, names=["old_age_allowance"])
    assert results and all(r.passed for r in results)


# ---------------------------------------------------------------- NaN and infinity


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_number_has_no_sql_literal(value):
    with pytest.raises(ValueError, match="finite"):
        sql_literal(value, "DOUBLE")


@pytest.mark.parametrize("written", [".nan", ".inf", "-.inf", ".NaN"])
def test_a_parameter_file_with_nan_or_infinity_is_refused_at_load(rules_dir, written):
    path = rules_dir / "parameters" / "medical_hardship" / "oop_share.yaml"
    path.write_text(f"description: d\nreference: r\nvalues:\n  2024-01-01: {written}\n", encoding="utf-8")
    with pytest.raises(RuleError, match="finite") as caught:
        load_parameter("medical_hardship.oop_share", rules_dir=rules_dir)
    assert caught.value.path == path and caught.value.line == 4


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_what_if_override_with_nan_is_refused(value):
    with pytest.raises(RuleError, match="finite"):
        load_ruleset("old_age_allowance", rules_dir=REPO_RULES, overrides={"old_age_allowance.tier_80": value})


_CON = duckdb.connect()


@settings(deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_number_round_trips_through_its_literal(value):
    ((got,),) = _CON.sql(f"SELECT {sql_literal(value, 'DOUBLE')}").fetchall()
    assert got == value


def test_a_query_larger_than_its_memory_limit_spills_instead_of_failing(tmp_path):
    query = "SELECT count(*) FROM (SELECT DISTINCT i::VARCHAR || 'x' AS k FROM range(3000000) t(i) ORDER BY k)"
    con = connect(readable=[tmp_path], memory_limit="64MB", spill=tmp_path / "spill")
    assert con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0] == str(tmp_path / "spill")
    assert con.execute(query).fetchall()[0][0] == 3_000_000
    assert is_sandboxed(con)
    no_spill = duckdb.connect(config={"memory_limit": "64MB", "temp_directory": ""})
    with pytest.raises(duckdb.OutOfMemoryException):
        no_spill.execute(query).fetchall()
