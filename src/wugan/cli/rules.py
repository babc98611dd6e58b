"""``wugan rules``: test, evaluate, list, show and backtest rule sets; release what the guardrails hold.

The rule engine (``wugan.rules``) knows neither the case store nor the
pipeline; these commands bring them together for a terminal.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from wugan.cli.options import Home
from wugan.errors import InputError
from wugan.rules import sandbox
from wugan.rules.loader import load_all, load_ruleset
from wugan.rules.testing import run_tests
from wugan.settings import get_settings

app = typer.Typer(help="Rule sets: test them, evaluate a table against one, list and show them.", no_args_is_help=True)

RulesDir = Annotated[Path | None, typer.Option("--rules-dir", help="rules directory (default: settings)")]


def _rules_dir(rules_dir: Path | None) -> Path:
    return rules_dir if rules_dir is not None else get_settings().rules_dir


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
    rs = load_ruleset(ruleset, rules_dir=_rules_dir(rules_dir), overrides=_parse_overrides(set_ or []))
    suffix_in, suffix_out = input.suffix.lower(), output.suffix.lower()
    readers = {".csv": "read_csv", ".parquet": "read_parquet"}
    if suffix_in not in readers or suffix_out not in readers:
        raise typer.BadParameter("files must end in .csv or .parquet")
    con = sandbox.connect(readable=[input.parent, output.parent])
    path_in = str(input).replace("'", "''")
    try:
        rel = rs.evaluate(con, f"SELECT * FROM {readers[suffix_in]}('{path_in}')", as_of=_as_of(as_of))
        fmt = "CSV, HEADER" if suffix_out == ".csv" else "PARQUET"
        path_out = str(output).replace("'", "''")
        con.execute(f"COPY ({rel.sql_query()}) TO '{path_out}' (FORMAT {fmt})")
        n = con.execute(f"SELECT count(*) FROM {readers[suffix_out]}('{path_out}')").fetchall()[0][0]
    except duckdb.Error as e:
        raise InputError(f"{input}: {str(e).splitlines()[0]}") from None
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
    day = _date_opt(as_of)
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


# ---------------------------------------------------------------- backtest, versions, guardrails


def _date_opt(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)


def _print_frame(title: str, frame) -> None:
    table = Table(*frame.columns, title=title)
    for row in frame.iter_rows():
        table.add_row(*(_fmt(v) for v in row))
    _console().print(table)


@app.command("backtest")
def backtest_cmd(
    ruleset: Annotated[str, typer.Argument(help="rule set name")],
    start: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="last day, YYYY-MM-DD")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="what-if override PARAM=VALUE")] = None,
    compare: Annotated[bool, typer.Option("--compare", help="who changes route against the version in force")] = False,
    output: Annotated[Path | None, typer.Option("--output", help="weekly table, .parquet or .csv")] = None,
    home: Home = None,
    rules_dir: RulesDir = None,
) -> None:
    """Replay detection and assessment over the lake's history; writes no case."""
    from wugan import lake
    from wugan.backtest import backtest, event_type_of, store_labels, truth_labels, weekly_table
    from wugan.rules.lifecycle import live_on, load_version

    settings = get_settings(home)
    folder = _rules_dir(rules_dir)
    first, last = _date_opt(start), _date_opt(end)
    if output is not None and output.suffix.lower() not in (".csv", ".parquet"):
        raise typer.BadParameter("--output must end in .csv or .parquet")
    rs = load_ruleset(ruleset, rules_dir=folder, overrides=_parse_overrides(set_ or []))
    base = None
    if compare:
        version = live_on(ruleset, last, rules_dir=folder)
        base = load_version(version, rules_dir=folder) if version else load_ruleset(ruleset, rules_dir=folder)
    event_type = event_type_of(ruleset)
    labels = truth_labels(settings.home) if event_type == "medical_hardship" else None
    if labels is None and Path(str(settings.case_store_url).removeprefix("sqlite:///")).exists():
        labels = store_labels(settings.case_store_url, event_type=event_type)
    import time

    t0 = time.perf_counter()
    result = backtest(lake.connect(settings), rs, start=first, end=last, rules_dir=folder, base=base, labels=labels)
    seconds = time.perf_counter() - t0
    con = _console()
    con.print(f"{rs.name} {rs.version} from {first} to {last}: {result.decisions.height} events in {seconds:.1f} s"
              + (f"; compared with {result.base_version}" if base is not None else ""))
    shown = [c for c in result.weekly.columns if c not in ("labelled", "true_positives")]
    _print_frame("per week", result.weekly.select(shown))
    over = result.workload.filter("over_capacity")
    con.print(f"village-weeks over capacity: {over.height} of {result.workload.height}")
    if result.precision is not None or result.recall is not None:
        con.print(f"precision {_fmt(result.precision)}  recall {_fmt(result.recall)}")
    if base is not None:
        _print_frame("route changes (people)", result.changes)
        _print_frame("sample (masked)", result.sample)
    if output is not None:
        frame = weekly_table(result)
        if output.suffix.lower() == ".csv":
            frame.write_csv(output)
        else:
            frame.write_parquet(output)
        written = [output]
        if base is not None:
            changes = output.with_name(f"{output.stem}_changes{output.suffix}")
            (result.changes.write_csv if output.suffix.lower() == ".csv" else result.changes.write_parquet)(changes)
            written.append(changes)
        con.print("wrote " + ", ".join(map(str, written)))


@app.command("versions")
def versions_cmd(ruleset: Annotated[str, typer.Argument(help="rule set name")], rules_dir: RulesDir = None) -> None:
    """The versions of a rule set (rules/lifecycle.yaml): status, live dates, shadow flag and hash."""
    from wugan.rules.lifecycle import load_version, versions_of

    folder = _rules_dir(rules_dir)
    table = Table("version", "status", "live from", "retired on", "shadow", "hash", "file / set", "note")
    for v in versions_of(ruleset, rules_dir=folder):
        what = (v.file or f"{ruleset}.yaml") + ("".join(f" {k}={val}" for k, val in v.set.items()))
        table.add_row(v.label, v.status, _fmt(v.live_from), _fmt(v.retired_on), "yes" if v.shadow else "",
                      load_version(v, rules_dir=folder).version, what, v.note)
    _console().print(table)


@app.command("live")
def live_cmd(
    ruleset: Annotated[str, typer.Argument(help="rule set name")],
    on: Annotated[str, typer.Option("--on", help="YYYY-MM-DD")] = dt.date.today().isoformat(),
    rules_dir: RulesDir = None,
) -> None:
    """The version in force on a date; exit 1 when none was."""
    from wugan.rules.lifecycle import live_on, load_version

    folder = _rules_dir(rules_dir)
    version = live_on(ruleset, _date_opt(on), rules_dir=folder)
    if version is None:
        _console().print(f"no version of {ruleset} was live on {on}")
        raise typer.Exit(1)
    _console().print(f"{ruleset} on {on}: {version.label} ({load_version(version, rules_dir=folder).version}), "
                     f"live from {version.live_from}")


@app.command("release")
def release_cmd(
    ruleset: Annotated[str, typer.Argument(help="rule set whose held instant approvals to release")],
    actor: Annotated[str, typer.Option("--actor", help="who releases (recorded in the audit log)")],
    reject: Annotated[str | None, typer.Option("--reject", help="reject them instead, with this reason")] = None,
    home: Home = None,
) -> None:
    """Release (or reject) every decision the guardrails hold for a rule set."""
    from wugan.cases.db import ensure_store, session_scope
    from wugan.cases.guardrails import reject_held, release_held

    settings = get_settings(home)
    at = dt.datetime.now().replace(microsecond=0)
    with session_scope(ensure_store(settings.case_store_url)) as session:
        if reject is not None:
            done = reject_held(session, ruleset=ruleset, reason=reject, actor=actor, at=at)
        else:
            done = release_held(session, ruleset=ruleset, actor=actor, at=at, settings=settings)
    _console().print(f"{'rejected' if reject is not None else 'released'} {len(done)} held decisions of {ruleset}")
