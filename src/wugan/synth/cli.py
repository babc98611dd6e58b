"""Synthetic-city commands that stand in for people: ``wugan simulate-visits``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from wugan.settings import get_settings

app = typer.Typer(help="Simulate what people would do on the synthetic city.")

Home = Annotated[Path | None, typer.Option("--home", envvar="WUGAN_HOME", help="data home")]


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
