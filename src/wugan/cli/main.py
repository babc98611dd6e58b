"""The ``wugan`` command: the same functions the Airflow DAGs call, for a terminal.

A ``WuganError`` (a bad rule file, a wrong option, too few labelled visits) is
printed as one line and the command exits 2; any other exception is a bug and
shows its traceback.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from wugan.cli.options import Home, progress
from wugan.errors import WuganError
from wugan.ids import mask
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


@app.command()
def reconcile(
    as_of: Annotated[dt.datetime, typer.Option("--as-of", formats=["%Y-%m-%d"], help="the day to report on")],
    output: Annotated[Path | None, typer.Option(help="write the counts per type, village and reason (.parquet or .csv)")] = None,
    home: Home = None,
) -> None:
    """The take-up report: entitlements the lake implies that have not reached people, and why."""
    import polars as pl

    from wugan.cases.db import ensure_store
    from wugan.reconcile.report import REASONS, take_up, write_report

    settings = get_settings(home)
    report = take_up(settings, url=ensure_store(settings.case_store_url), as_of=as_of.date())
    grid = Table("event", "owed", *REASONS, title=f"take-up as of {as_of.date()}")
    for row in report.by_type().iter_rows(named=True):
        grid.add_row(row["event_type"], f"{row['owed']:,}", *(f"{row[r]:,}" for r in REASONS))
    console.print(grid)
    console.print(" · ".join(f"{code}: {label}" for code, label in REASONS.items()))
    gaps = report.gaps().group_by("event_type", "village_code", "reason").agg(n=pl.len()).sort(
        "n", descending=True).head(15)
    if gaps.height:
        villages = Table("event", "village", "reason", "entitlements", title="largest gaps by village")
        for row in gaps.iter_rows():
            villages.add_row(row[0], row[1] or "", row[2], f"{row[3]:,}")
        console.print(villages)
    if report.quality.height:
        quality = Table("department", "file", "line", "field", "reason",
                        title=f"quarantined inputs that may hold an entitlement ({report.quality.height})")
        for row in report.quality.sort("file", "line").head(20).iter_rows(named=True):
            quality.add_row(row["department"], row["file"], str(row["line"] or "(file)"), row["field"], row["reason"])
        console.print(quality)
    if output is not None:
        console.print(f"written: {write_report(settings, report, output)}")


optout_app = typer.Typer(help="citizens' opt-outs of proactive services (recorded with an audit row)",
                         no_args_is_help=True)
app.add_typer(optout_app, name="optout")


@optout_app.command("add")
def optout_add(
    person_id: Annotated[str, typer.Argument(help="resident ID number")],
    service: Annotated[str, typer.Option(help="an event type (birth, death, …) or all")] = "all",
    since: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="default: today")] = None,
    reason: Annotated[str, typer.Option(help="how the citizen asked (e.g. SMS reply TD)")] = "",
    actor: Annotated[str, typer.Option(help="who records it")] = "cli",
    home: Home = None,
) -> None:
    """Record that a citizen refuses a proactive service; the reconciler honours it from its next run."""
    from wugan.cases.db import ensure_store, session_scope
    from wugan.cases.optouts import add_opt_out

    settings = get_settings(home)
    day = since.date() if since else dt.date.today()
    with session_scope(ensure_store(settings.case_store_url)) as session:
        add_opt_out(session, person_id=person_id, service=service, since=day, actor=actor, reason=reason,
                    at=dt.datetime.now(), rules_dir=settings.rules_dir)
    console.print(f"opted out: {mask(person_id)} from {service} since {day}")


@optout_app.command("remove")
def optout_remove(
    person_id: Annotated[str, typer.Argument(help="resident ID number")],
    service: Annotated[str, typer.Option(help="the service opted out of")] = "all",
    actor: Annotated[str, typer.Option(help="who records it")] = "cli",
    home: Home = None,
) -> None:
    """Withdraw an opt-out: the citizen wants the service again."""
    from wugan.cases.db import ensure_store, session_scope
    from wugan.cases.optouts import remove_opt_out

    settings = get_settings(home)
    with session_scope(ensure_store(settings.case_store_url)) as session:
        removed = remove_opt_out(session, person_id=person_id, service=service, actor=actor,
                                 at=dt.datetime.now(), rules_dir=settings.rules_dir)
    console.print(f"removed: {mask(person_id)} {service}" if removed else f"no opt-out of {service} for {mask(person_id)}")


@optout_app.command("list")
def optout_list(
    person_id: Annotated[str | None, typer.Option(help="one person's opt-outs")] = None,
    home: Home = None,
) -> None:
    """Opt-outs on record, ID numbers masked."""
    from wugan.cases.db import ensure_store, session_scope
    from wugan.cases.optouts import opt_outs

    settings = get_settings(home)
    with session_scope(ensure_store(settings.case_store_url)) as session:
        rows = [(mask(o.person_id), o.service, o.since.isoformat(), o.recorded_by or "", o.reason or "")
                for o in opt_outs(session, person_id=person_id)]
    grid = Table("person", "service", "since", "recorded by", "reason", title=f"opt-outs ({len(rows)})")
    for row in rows:
        grid.add_row(*row)
    console.print(grid)


def print_summary(counts: dict) -> None:
    for title, counter in counts.items():
        table = Table("", "count", title=title, min_width=40)
        for key, n in sorted(counter.items(), key=lambda kv: str(kv[0])):
            table.add_row(str(key), f"{n:,}")
        table.add_row("[b]total[/b]", f"[b]{sum(counter.values()):,}[/b]")
        console.print(table)


def _mount() -> None:
    from wugan.cli.model import app as model_app
    from wugan.cli.queue import app as queue_app
    from wugan.cli.retention import app as retention_app
    from wugan.cli.rules import app as rules_app
    from wugan.cli.synth import app as synth_app
    from wugan.cli.web import app as web_app

    app.add_typer(synth_app)  # synth, simulate-visits (the synthetic city)
    app.add_typer(rules_app, name="rules", help="rule sets: test, evaluate, backtest, versions, release held approvals")
    app.add_typer(model_app, name="model", help="the hardship model: train, evaluate, promote")
    app.add_typer(queue_app, name="queue", help="visit queues: demand per village and week, the catch-up plan")
    app.add_typer(web_app)  # serve, users
    app.add_typer(retention_app, name="retention", help="personal data retention: purge closed cases")


_mount()
