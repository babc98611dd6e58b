"""The synthetic city's commands: ``wugan synth`` writes it, ``wugan simulate-visits`` stands in for people."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from wugan.cli.options import Home, progress
from wugan.settings import get_settings

app = typer.Typer(help="The synthetic city: write it, simulate what people would do.")
console = Console()


@app.command("synth")
def synth_cmd(
    persons: Annotated[int, typer.Option(help="persons in the city")] = 50_000,
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same files")] = 1,
    start: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="first delivery day")] = dt.datetime(2025, 3, 1),
    days: Annotated[int, typer.Option(help="days of daily feeds")] = 30,
    corrupt: Annotated[float, typer.Option(help="share of rows given one fault each")] = 0.0,
    home: Home = None,
) -> None:
    """Write a synthetic city into inbox/ as its departments would deliver it."""
    from wugan.synth import generate

    settings = get_settings(home)
    with progress(console) as bar:
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


@app.command("simulate-visits")
def simulate_visits_cmd(
    until: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="record visits of weeks ended by then")],
    seed: Annotated[int, typer.Option(help="seed of the unreachable/declined draws")] = 0,
    history: Annotated[int, typer.Option(help="also replay the old system over this many weeks before --start")] = 0,
    start: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"],
                                                      help="first pipeline day (for --history)")] = None,
    home: Home = None,
) -> None:
    """Record outcomes of the assigned home visits from the synthetic truth."""
    from wugan.synth.visits import simulate_history, simulate_visits

    settings = get_settings(home)
    if history:
        if start is None:
            raise typer.BadParameter("--history needs --start")
        replay = simulate_history(settings, start=start.date(), weeks=history, seed=seed)
        typer.echo(f"replayed {replay.height} historical alerts, {replay['visited_on'].is_not_null().sum()} visited")
    typer.echo(f"recorded {simulate_visits(settings, until=until.date(), seed=seed)} visit outcomes")
