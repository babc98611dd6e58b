"""The ``wugan`` command: the same functions the Airflow DAGs call, for a terminal."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from wugan.settings import Settings, get_settings

app = typer.Typer(help="wugan 无感: sense life events in shared data and get the services done.", no_args_is_help=True)
console = Console()

Home = Annotated[
    Path | None,
    typer.Option("--home", envvar="WUGAN_HOME", help="data home (inbox/, lake/, lake.duckdb, cases.db)"),
]


def _settings(home: Path | None) -> Settings:
    return get_settings(home)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log progress lines")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@app.command()
def synth(
    persons: Annotated[int, typer.Option(help="persons in the city")] = 50_000,
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same files")] = 1,
    start: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="first delivery day")] = dt.datetime(2025, 3, 1),
    days: Annotated[int, typer.Option(help="days of daily feeds")] = 30,
    corrupt: Annotated[float, typer.Option(help="share of rows given one fault each")] = 0.0,
    home: Home = None,
) -> None:
    """Write a synthetic city into inbox/ as its departments would deliver it."""
    from wugan.synth import generate

    settings = _settings(home)
    with _progress() as bar:
        task = bar.add_task("synth", total=persons)

        def advance(stage: str, n: int) -> None:
            bar.update(task, description=f"synth: {stage}", advance=n if stage == "persons" else 0)

        summary = generate(
            inbox=settings.inbox, truth=settings.truth, persons=persons, seed=seed, start=start.date(),
            days=days, corrupt=corrupt, progress=advance,
        )
        bar.update(task, completed=persons)
    table = Table("table", "rows", title=f"synthetic city in {settings.inbox}")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    if summary.corruptions:
        console.print("injected faults: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.corruptions.items())))


@app.command()
def ingest(
    until: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="land deliveries up to this day")] = None,
    home: Home = None,
) -> None:
    """Validate the extracts waiting in inbox/ and land them in the lake."""
    from wugan.lake.ingest import deliveries
    from wugan.lake.ingest import ingest as run_ingest

    settings = _settings(home)
    limit = until.date() if until else None
    with _progress() as bar:
        task = bar.add_task("ingest", total=len(deliveries(settings.inbox, until=limit)))
        report = run_ingest(settings, until=limit, progress=lambda d: bar.update(task, advance=1, description=f"ingest {d.table}"))
    print_ingest(report)


def print_ingest(report) -> None:
    table = Table("table", "landed", "quarantined", title="lake")
    for name in sorted(set(report.rows) | set(report.quarantined)):
        table.add_row(name, f"{report.rows[name]:,}", f"{report.quarantined[name]:,}")
    console.print(table)
    console.print(
        f"files: {report.files_landed} landed, {report.files_skipped} already landed, {report.files_refused} refused"
    )
    if report.reasons:
        reasons = Table("reason", "rows", title="quarantine by reason")
        for reason, n in report.reasons.most_common():
            reasons.add_row(reason, f"{n:,}")
        console.print(reasons)


@app.command()
def contracts(table: Annotated[str | None, typer.Argument(help="one table; all when omitted")] = None) -> None:
    """Print the data contracts of the department extracts."""
    from wugan.lake.contracts import CONTRACTS, REASONS, contract_for

    for contract in [contract_for(table)] if table else CONTRACTS.values():
        grid = Table(
            "column", "type", "required", "allowed / range", "description",
            title=f"{contract.table} — {contract.department} ({contract.kind}); key: {', '.join(contract.key)}",
            caption=contract.description,
        )
        for c in contract.columns:
            allowed = ", ".join(c.allowed) if c.allowed else ""
            if c.minimum is not None or c.maximum is not None:
                low = "" if c.minimum is None else f"{c.minimum:g}"
                high = "" if c.maximum is None else f"{c.maximum:g}"
                allowed = f"{low} … {high}".strip()
            grid.add_row(c.name, c.type + (" (personal)" if c.personal else ""), "yes" if c.required else "", allowed, c.description)
        for check in contract.checks:
            grid.add_row(f"[i]{check.reason}[/i]", "check", "", ", ".join(check.fields), check.description)
        console.print(grid)
    if table is None:
        reasons = Table("reason", "meaning", title="quarantine reasons")
        for code, text in REASONS.items():
            reasons.add_row(code, text)
        console.print(reasons)


@app.command()
def run(
    start: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="first day")] = dt.datetime(2025, 3, 1),
    days: Annotated[int, typer.Option(help="days to run")] = 30,
    sender: Annotated[str | None, typer.Option(envvar="WUGAN_NOTICE_SENDER", help="file, console or a webhook URL")] = None,
    home: Home = None,
) -> None:
    """Run ingest → detect → assess → act → notify day by day from START for DAYS days."""
    from wugan.pipeline import run as run_pipeline
    from wugan.pipeline import summary

    settings = _settings(home)
    with _progress() as bar:
        task = bar.add_task("run", total=days)

        def advance(report) -> None:
            events = sum(r.events for r in report.acted.values())
            bar.update(task, advance=1, description=f"run {report.day}: {events} events")

        run_pipeline(settings, start=start.date(), days=days, sender=sender, progress=advance)
    print_summary(summary(settings))
    console.print(f"case store: {settings.case_store_url}\noutbox: {settings.home / 'outbox'}")


def print_summary(counts: dict) -> None:
    for title, counter in counts.items():
        table = Table("", "count", title=title, min_width=40)
        for key, n in sorted(counter.items(), key=lambda kv: str(kv[0])):
            table.add_row(str(key), f"{n:,}")
        table.add_row("[b]total[/b]", f"[b]{sum(counter.values()):,}[/b]")
        console.print(table)


def _mount() -> None:
    from wugan.rules.cli import app as rules_app
    from wugan.scoring.cli import app as model_app
    from wugan.synth.cli import app as simulate_app
    from wugan.web.cli import app as web_app

    app.add_typer(rules_app, name="rules", help="rule sets: test, evaluate, backtest, versions")
    app.add_typer(model_app, name="model", help="the hardship model: train, evaluate, promote")
    app.add_typer(simulate_app, name="")  # simulate-visits (synthetic city only)
    app.add_typer(web_app, name="")  # serve, users


_mount()
