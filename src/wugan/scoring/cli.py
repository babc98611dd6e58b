"""``wugan model``: train, evaluate and promote the hardship visit model."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from wugan.cli.options import Home
from wugan.settings import get_settings

app = typer.Typer(help="The hardship visit model: train, evaluate, promote.", no_args_is_help=True)
console = Console()

Day = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])]


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def _table(result: dict) -> Table:
    table = Table("set", "alerts", "ROC AUC", "AP", "precision@capacity model", "precision@capacity rule",
                  "recall@capacity model", "recall@capacity rule", "ECE", "visits",
                  title=f"{result.get('version', '')} on [{result['cut']}, {result['as_of']})")
    for label, key in (("visited (outcomes)", "visited"), ("all alerts (synthetic truth)", "truth")):
        if key not in result:
            continue
        m, r = result[key]["model"], result[key]["rule"]
        table.add_row(label, str(m["n"]), f"{m['roc_auc']:.3f}", f"{m['average_precision']:.3f}",
                      f"{m['precision_at_capacity']:.3f}", f"{r['precision_at_capacity']:.3f}",
                      f"{m['recall_at_capacity']:.3f}", f"{r['recall_at_capacity']:.3f}", f"{m['ece']:.3f}",
                      str(m["visits"]))
    return table


def _gaps(result: dict) -> Table:
    key = "truth" if "truth" in result else "visited"
    table = Table("by", "ROC AUC gap", "AP gap", "precision@cap gap", "recall@cap gap", "ECE gap",
                  title=f"fairness gaps (max − min), {key}")
    for by, part in result[key]["fairness"].items():
        g = part["gap"]
        table.add_row(by, *(f"{g[k]:.3f}" for k in ("roc_auc", "average_precision", "precision_at_capacity",
                                                     "recall_at_capacity", "ece")))
    return table


@app.command("train")
def train_cmd(
    as_of: Annotated[dt.datetime, typer.Option("--as-of", formats=["%Y-%m-%d"], help="labels known before this day")],
    cut: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"],
                                                    help="validation window start; default as-of − 28 days")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    home: Home = None,
) -> None:
    """Train a challenger and save it with its card and metrics (not promoted)."""
    from wugan.scoring.train import train

    result = train(get_settings(home), as_of=as_of.date(), cut=_date(cut), seed=seed)
    console.print(f"saved {result.path}")
    console.print(_table({**result.metrics["validation"], "version": result.version,
                          "cut": result.metrics["cut"], "as_of": result.metrics["as_of"]}))


@app.command("evaluate")
def evaluate_cmd(
    version: Annotated[str | None, typer.Option(help="model version; default the champion")] = None,
    cut: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="window start")] = None,
    as_of: Annotated[dt.datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], help="window end")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the whole report as JSON")] = False,
    home: Home = None,
) -> None:
    """The model next to the plain rule on a held-out window: precision at the assistants' capacity."""
    from wugan.scoring.train import evaluate

    result = evaluate(get_settings(home), version=version, cut=_date(cut), as_of=_date(as_of))
    if as_json:
        console.print_json(json.dumps(result, default=str))
        return
    console.print(_table(result))
    console.print(_gaps(result))


@app.command("promote")
def promote_cmd(
    version: Annotated[str, typer.Argument(help="the challenger's version")],
    home: Home = None,
) -> None:
    """Make a challenger the champion, only if it beats the champion on the same validation window."""
    from wugan.scoring.train import promote

    promoted, why = promote(get_settings(home), version=version)
    console.print(why)
    if not promoted:
        raise typer.Exit(1)
