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


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def _n(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return f"{value:.{digits}f}" if isinstance(value, float) else f"{value:,}"


def replay_table(result: dict) -> Table:
    """The replay: each order's eligible people visited, as the queue really runs."""
    table = Table("order", "eligible visited week 1", "month 1", "recall month 1", "visits month 1", "explored",
                  "onset→visit median d", "p90 d", "in-window onsets visited", "their median d", "ROC AUC",
                  "ECE (scored alerts)",
                  title=(f"{result['window']} replay of {result['version']}: {result['alerts']:,} alerts from "
                         f"{result['start']}, {result['days']} days, {result['villages']} villages, "
                         f"{result['capacity_per_week']:,} visits/week, exploration "
                         f"{result['exploration_share']:.0%}"))
    for policy, r in result["rows"].items():
        table.add_row(policy, _n(r["eligible_visited_week_1"]), _n(r["eligible_visited_month_1"]),
                      _n(r["recall_month_1"]), _n(r["visits_month_1"]), _n(r["explored"]),
                      _n(r["onset_to_visit_median_days"], 0), _n(r["onset_to_visit_p90_days"], 0),
                      _n(r.get("in_window_onsets_visited")), _n(r.get("in_window_onset_to_visit_median_days"), 0),
                      _n(r.get("roc_auc")), _n(r.get("ece")))
    return table


def fairness_table(result: dict, policy: str = "champion") -> Table:
    table = Table("by", "group", "eligible", "visited month 1", "recall",
                  title=f"fairness: recall in month 1 by county, sex and age band ({policy})")
    for by, groups in result["rows"][policy].get("recall_by", {}).items():
        for group, r in groups.items():
            table.add_row(by, group, _n(r["eligible"]), _n(r["visited"]), _n(r["recall"]))
    return table


def targets_table(reach: dict, wrong: dict, waits: dict, replay: dict | None) -> Table:
    table = Table("target", "measured", "goal", title=f"targets on {reach['start']}..{reach['end']}")
    table.add_row("in-window onsets of eligible people alerted within 7 days",
                  f"{reach['in_window_alerted_within_7_days']:,} / {reach['in_window_onsets']:,} = "
                  f"{_n(reach['in_window_alerted_within_7_days_share'])}", "≥ 0.85")
    table.add_row("eligible people alerted by the end of the window",
                  f"{reach['eligible_alerted']:,} / {reach['eligible']:,} = {_n(reach['eligible_alerted_share'])}",
                  "≥ 0.90")
    table.add_row("wrong instant approvals",
                  f"{sum(v['wrong'] for v in wrong.values())} of {sum(v['approved'] for v in wrong.values()):,}", "0")
    if replay is not None:
        rows = replay["rows"]
        champ, ceiling = rows["champion"]["eligible_visited_month_1"], rows["ceiling"]["eligible_visited_month_1"]
        table.add_row("eligible visited in month 1, champion / ceiling",
                      f"{champ:,} / {ceiling:,} = {_n(champ / ceiling if ceiling else float('nan'))}", "≥ 0.98")
    table.add_row(f"non-hardship tasks unassigned > {waits['days']} days while the township had capacity",
                  f"{waits['waited_over_days_with_spare_township_capacity']} of {waits['non_hardship_tasks']:,}", "0")
    table.add_row("visits with a deadline given to someone by it (death visits within 7 days)",
                  f"{waits['assigned_by_deadline']:,} / {waits['deadlines_passed']:,}", "all")
    return table


@app.command("train")
def train_cmd(
    as_of: Annotated[dt.datetime, typer.Option("--as-of", formats=["%Y-%m-%d"], help="labels known before this day")],
    cut: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"],
                                                    help="validation window start; default as-of − 28 days")] = None,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    home: Home = None,
) -> None:
    """Train a challenger and its baseline; save them with the card and the validation replay (not promoted)."""
    from wugan.scoring.train import train

    result = train(get_settings(home), as_of=as_of.date(), cut=_date(cut), seed=seed)
    console.print(f"saved {result.path}")
    console.print(replay_table(result.metrics["validation"]))


@app.command("evaluate")
def evaluate_cmd(
    version: Annotated[str | None, typer.Option(help="model version; default the champion")] = None,
    window: Annotated[str, typer.Option(help="pipeline: the alerts the pipeline raised; validation: the "
                                             "version's held-out replay")] = "pipeline",
    start: Annotated[dt.datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="window start")] = None,
    end: Annotated[dt.datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="window end")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the whole report as JSON")] = False,
    home: Home = None,
) -> None:
    """The model next to the rule, a logistic regression and the ceiling, on the replayed weekly queue;
    on a synthetic city also the reach and queue targets."""
    from wugan.scoring.evaluate import evaluate

    settings = get_settings(home)
    result = evaluate(settings, version=version, window=window, cut=_date(start), as_of=_date(end))
    targets = None
    if window == "pipeline" and (settings.truth / "persons.parquet").exists():
        from wugan.synth.truth import queue_waits, reach, wrong_instant_approvals

        first = dt.date.fromisoformat(result["start"])
        last = first + dt.timedelta(days=result["days"] - 1)
        targets = (reach(settings, start=first, end=last), wrong_instant_approvals(settings),
                   queue_waits(settings, until=last))
    if as_json:
        extra = {} if targets is None else {"reach": targets[0], "wrong_instant_approvals": targets[1],
                                            "queue_waits": targets[2]}
        console.print_json(json.dumps({**result, **extra}, default=str))
        return
    console.print(replay_table(result))
    console.print(fairness_table(result))
    if targets is not None:
        console.print(targets_table(*targets, result))


@app.command("promote")
def promote_cmd(
    version: Annotated[str, typer.Argument(help="the challenger's version")],
    home: Home = None,
) -> None:
    """Make a challenger the champion, only if it beats the rule and the logistic regression on its replay."""
    from wugan.scoring.evaluate import promote

    promoted, why = promote(get_settings(home), version=version)
    console.print(why)
    if not promoted:
        raise typer.Exit(1)
