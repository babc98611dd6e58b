"""``wugan rules``: test, evaluate, list and show rule sets from the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from wugan.rules.errors import RuleError
from wugan.rules.loader import load_all, load_ruleset
from wugan.rules.testing import run_tests

app = typer.Typer(help="Rule sets: test them, evaluate a table against one, list and show them.", no_args_is_help=True)

RulesDir = Annotated[Path | None, typer.Option("--rules-dir", help="rules directory (default: settings)")]


def _rules_dir(rules_dir: Path | None) -> Path:
    if rules_dir is not None:
        return rules_dir
    from wugan.settings import get_settings

    return get_settings().rules_dir


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _parse_overrides(values: list[str]) -> dict:
    import yaml

    out = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--set expects PARAM=VALUE, got {item!r}")
        out[key.strip()] = yaml.safe_load(raw)
    return out


@app.command("test")
def test_cmd(
    names: Annotated[list[str] | None, typer.Argument(help="rule sets (default: all)")] = None,
    rules_dir: RulesDir = None,
) -> None:
    """Run the YAML test cases of each rule set; exit 1 on any failure."""
    con = _console()
    results = run_tests(rules_dir=_rules_dir(rules_dir), names=names or None)
    failed = 0
    for r in results:
        if r.passed:
            con.print(f"[green]PASS[/] {r.ruleset}: {r.name}")
            continue
        failed += 1
        con.print(f"[red]FAIL[/] {r.ruleset}: {r.name}" + (f" (line {r.line})" if r.line else ""))
        if r.error:
            con.print(f"     {r.error}")
        for key, expected, actual in r.diffs:
            con.print(f"     {key}: [red]- expected {expected!r}[/]  [green]+ got {actual!r}[/]")
    con.print(f"{len(results) - failed} passed, {failed} failed")
    raise typer.Exit(1 if failed or not results else 0)


def _as_of(value: str) -> dt.date | str:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return value  # a DATE column of the input


@app.command("eval")
def eval_cmd(
    ruleset: Annotated[str, typer.Argument(help="rule set name")],
    input: Annotated[Path, typer.Option("--input", help="CSV or Parquet file", exists=True, dir_okay=False)],
    as_of: Annotated[str, typer.Option("--as-of", help="YYYY-MM-DD, or the name of a DATE column")],
    output: Annotated[Path, typer.Option("--output", help="CSV or Parquet file (by extension)")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="what-if override PARAM=VALUE")] = None,
    rules_dir: RulesDir = None,
) -> None:
    """Evaluate a table against a rule set and write inputs plus results."""
    try:
        rs = load_ruleset(ruleset, rules_dir=_rules_dir(rules_dir), overrides=_parse_overrides(set_ or []))
    except RuleError as e:
        _console().print(f"[red]{e}[/]")
        raise typer.Exit(2) from None
    suffix_in, suffix_out = input.suffix.lower(), output.suffix.lower()
    readers = {".csv": "read_csv", ".parquet": "read_parquet"}
    if suffix_in not in readers or suffix_out not in readers:
        raise typer.BadParameter("files must end in .csv or .parquet")
    con = duckdb.connect()
    path_in = str(input).replace("'", "''")
    try:
        rel = rs.evaluate(con, f"SELECT * FROM {readers[suffix_in]}('{path_in}')", as_of=_as_of(as_of))
        fmt = "CSV, HEADER" if suffix_out == ".csv" else "PARQUET"
        path_out = str(output).replace("'", "''")
        con.execute(f"COPY ({rel.sql_query()}) TO '{path_out}' (FORMAT {fmt})")
        n = con.execute(f"SELECT count(*) FROM {readers[suffix_out]}('{path_out}')").fetchall()[0][0]
    except (RuleError, duckdb.Error) as e:
        _console().print(f"[red]{e}[/]")
        raise typer.Exit(2) from None
    _console().print(f"{n} rows -> {output} ({rs.name} {rs.version})")


@app.command("list")
def list_cmd(rules_dir: RulesDir = None) -> None:
    """Name, version and description of every rule set."""
    table = Table("rule set", "version", "description")
    for name, rs in load_all(rules_dir=_rules_dir(rules_dir)).items():
        table.add_row(name, rs.version, rs.description.splitlines()[0])
    _console().print(table)


@app.command("show")
def show_cmd(
    ruleset: Annotated[str, typer.Argument(help="rule set name")],
    as_of: Annotated[str, typer.Option("--as-of", help="YYYY-MM-DD")] = dt.date.today().isoformat(),
    rules_dir: RulesDir = None,
) -> None:
    """Parameters in force on a date (default values; regional overrides listed)."""
    rs = load_ruleset(ruleset, rules_dir=_rules_dir(rules_dir))
    day = dt.date.fromisoformat(as_of)
    con = _console()
    con.print(f"{rs.name} {rs.version} as of {day.isoformat()}\n{rs.description}")
    table = Table("name", "parameter", "value", "unit", "regional overrides", "reference")
    for name, p in rs.parameters.items():
        regions = ", ".join(f"{k}: {v.at(day)}" for k, v in p.by_region.items() if v.at(day) is not None)
        table.add_row(name, p.id, str(p.values.at(day)), p.unit, regions, p.reference)
    con.print(table)
    cond = Table("condition", "label")
    for name, label in rs.conditions.items():
        cond.add_row(name, label)
    con.print(cond)
