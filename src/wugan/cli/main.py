"""The ``wugan`` command: the same functions the Airflow DAGs call, for a terminal.

A ``WuganError`` (a bad rule file, a wrong option, too few labelled visits) is
printed as one line and the command exits 2; any other exception is a bug and
shows its traceback.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from wugan.cli.options import Home, progress
from wugan.errors import WuganError
from wugan.settings import get_settings

__all__ = ["app", "error_line"]

USER_ERROR = 2  # exit status of a WuganError (1 stays for a failed check, e.g. a rule test)


def error_line(exc: WuganError) -> str:
    """One line: where and why, then what to do."""
    text = " ".join(str(exc).splitlines())
    return f"error: {text}" + (f" — {exc.hint}" if exc.hint else "")


class WuganGroup(TyperGroup):
    """The command group that turns a ``WuganError`` from any subcommand into one line on stderr."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WuganError as exc:
            typer.echo(error_line(exc), err=True)
            raise typer.Exit(USER_ERROR) from None


app = typer.Typer(cls=WuganGroup, help="wugan 无感: sense life events in shared data and get the services done.",
                  no_args_is_help=True)
console = Console()


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log progress lines")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@app.command()
def ingest(
    until: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="land deliveries up to this day")] = None,
    home: Home = None,
) -> None:
    """Validate the extracts waiting in inbox/ and land them in the lake."""
    from wugan.lake.ingest import deliveries
    from wugan.lake.ingest import ingest as run_ingest

    settings = get_settings(home)
    limit = until.date() if until else None
    with progress(console) as bar:
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

    settings = get_settings(home)
    with progress(console) as bar:
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
    from wugan.cases.cli import app as retention_app
    from wugan.cli.queue import app as queue_app
    from wugan.cli.rules import app as rules_app
    from wugan.scoring.cli import app as model_app
    from wugan.synth.cli import app as synth_app
    from wugan.web.cli import app as web_app

    app.add_typer(synth_app)  # synth, simulate-visits (the synthetic city)
    app.add_typer(rules_app, name="rules", help="rule sets: test, evaluate, backtest, versions, release held approvals")
    app.add_typer(model_app, name="model", help="the hardship model: train, evaluate, promote")
    app.add_typer(queue_app, name="queue", help="visit queues: demand per village and week, the catch-up plan")
    app.add_typer(web_app)  # serve, users
    app.add_typer(retention_app, name="retention", help="personal data retention: purge closed cases")


_mount()
