"""``wugan queue``: the visit queues as the analyst sees them — demand per village and week, the catch-up plan."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from wugan.cli.options import Home
from wugan.settings import get_settings

app = typer.Typer(help="Visit queues: demand per village and week, the catch-up plan.", no_args_is_help=True)
console = Console()

Day = Annotated[dt.datetime, typer.Option("--on", formats=["%Y-%m-%d"], help="the day to look from")]


def _inputs(home: Path | None):
    from wugan import lake
    from wugan.cases.db import ensure_store

    settings = get_settings(home)
    assistants = lake.connect(settings).sql(
        "SELECT assistant_id, village_code, weekly_capacity::BIGINT AS weekly_capacity FROM assistants").pl()
    return settings, ensure_store(settings.case_store_url), assistants


@app.command("demand")
def demand_cmd(
    on: Day,
    weeks: Annotated[int, typer.Option(help="weeks to show, up to the one of --on")] = 4,
    village: Annotated[str | None, typer.Option(help="one village (12-digit code)")] = None,
    top: Annotated[int, typer.Option(help="villages with the largest backlog first; 0: all")] = 20,
    home: Home = None,
) -> None:
    """New alerts, backlog, assigned, done and capacity per village and week; weeks to clear the backlog."""
    import polars as pl

    from wugan.cases.capacity import demand
    from wugan.cases.db import session_scope

    settings, url, assistants = _inputs(home)
    with session_scope(url) as session:
        city = demand(session, day=on.date(), assistants=assistants, weeks=weeks, rules_dir=settings.rules_dir)
    grid = city.filter(pl.col("village_code") == village) if village else city
    last = city["week"].max()
    now = city.filter(pl.col("week") == last)
    order = grid.filter(pl.col("week") == last).sort("backlog", "village_code", descending=[True, False])
    chosen = order["village_code"].head(top) if top and not village else order["village_code"]
    table = Table("village", "week", "new alerts", "backlog", "assigned", "done", "capacity", "weeks to clear",
                  "catch-up ends", title=f"visit demand, {weeks} weeks to {on.date()}"
                  + (f" (the {top} largest backlogs)" if top and not village else ""))
    for code in chosen:
        for r in grid.filter(pl.col("village_code") == code).sort("week").iter_rows(named=True):
            table.add_row(code, str(r["week"]), f"{r['new_alerts']:,}", f"{r['backlog']:,}", f"{r['assigned']:,}",
                          f"{r['done']:,}", f"{r['capacity']:,}",
                          "—" if r["weeks_to_clear"] is None else f"{r['weeks_to_clear']:.1f}",
                          "" if r["clear_by"] is None else f"week of {r['clear_by']}")
    console.print(table)
    console.print(f"city, week of {last}: {now['new_alerts'].sum():,} new alerts, {now['backlog'].sum():,} waiting, "
                  f"{now['assigned'].sum():,} assigned, {now['done'].sum():,} done, "
                  f"{now['capacity'].sum():,} visits of capacity a week; the catch-up plan ends in the week of "
                  f"{now['clear_by'].max()}")


@app.command("plan")
def plan_cmd(
    on: Day,
    village: Annotated[str, typer.Option(help="the village (12-digit code)")],
    home: Home = None,
) -> None:
    """The catch-up plan of one village: its waiting tasks by priority, each with its planned week."""
    import polars as pl

    from wugan.cases.capacity import catch_up_plan
    from wugan.cases.db import session_scope

    settings, url, assistants = _inputs(home)
    with session_scope(url) as session:
        plan = catch_up_plan(session, day=on.date(), assistants=assistants, rules_dir=settings.rules_dir)
    plan = plan.filter(pl.col("village_code") == village).sort("priority", descending=True)
    table = Table("task", "kind", "priority", "waiting since", "planned week",
                  title=f"catch-up plan of {village} on {on.date()}: {plan.height:,} waiting")
    for r in plan.iter_rows(named=True):
        table.add_row(r["id"], r["kind"], f"{r['priority']:.3f}", str(r["created_on"]), str(r["planned_week"]))
    console.print(table)
