"""Who gets a visit, and when: the targets of the visit queue on a synthetic city, end to end.

    .venv/bin/python bench/visit_targets.py --persons 200000 --days 30 --seed 13 --home /tmp/visits

Runs what a deployment does, in order: the city's extracts (``wugan synth``),
the first day's ingest, a year of visit history replayed from the claims
(``simulate_history``), a champion trained before the first day and promoted
only if it beats the rule and a logistic regression on its own replay, then
the pipeline day by day with assistants recording visit outcomes from the
hidden truth at the end of each day. It prints (and writes to
``<home>/visit_targets.json``):

- the replay of the pipeline's own alerts with the real village capacities:
  eligible people visited in week 1 and month 1 by the rule, the logistic
  regression, the champion and the ceiling (the hidden truth as the order);
- reach: in-window onsets of eligible people alerted within 7 days, eligible
  people alerted by the end; wrong instant approvals;
- queues: non-hardship tasks unassigned more than 7 days while their
  township had a free visit.

The same tables come from ``WUGAN_MODELS_DIR=HOME/models wugan model evaluate
--home HOME`` after a run (the bench keeps its models in the home). Heavy on a
shared 2-core machine: a 200k city takes about 20 minutes, most of it the
30 pipeline days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

from rich.console import Console

console = Console()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2025, 3, 1))
    parser.add_argument("--history-weeks", type=int, default=52)
    parser.add_argument("--validation-weeks", type=int, default=12)
    parser.add_argument("--home", type=Path, required=True)
    args = parser.parse_args()

    from wugan.cli.model import fairness_table, replay_table, targets_table
    from wugan.lake import ingest
    from wugan.pipeline import run
    from wugan.scoring.evaluate import evaluate, promote
    from wugan.scoring.train import train
    from wugan.settings import get_settings
    from wugan.synth import generate
    from wugan.synth.truth import queue_waits, reach, wrong_instant_approvals
    from wugan.synth.visits import simulate_history, simulate_visits

    settings = get_settings(args.home).model_copy(update={"models_dir": args.home / "models"})
    clock = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        timings[name] = round(time.perf_counter() - clock, 1)
        clock = time.perf_counter()
        console.print(f"{name}: {timings[name]} s")

    if (settings.inbox / "persons").exists() or settings.catalog.exists():
        raise SystemExit(f"{args.home} is not empty: give a fresh --home")
    generate(inbox=settings.inbox, truth=settings.truth, persons=args.persons, seed=args.seed, start=args.start,
             days=args.days)
    lap("synth")
    ingest(settings, until=args.start)
    lap("ingest of the first day")
    history = simulate_history(settings, start=args.start, weeks=args.history_weeks, seed=args.seed)
    console.print(f"history: {history.height:,} alerts, {history['visited_on'].is_not_null().sum():,} visited")
    lap("history")
    result = train(settings, as_of=args.start, cut=args.start - dt.timedelta(weeks=args.validation_weeks),
                   seed=args.seed)
    console.print(replay_table(result.metrics["validation"]))
    promoted, why = promote(settings, version=result.version)
    console.print(why)
    lap("train and promote")
    run(settings, start=args.start, days=args.days,
        progress=lambda report: simulate_visits(settings, until=report.day, seed=args.seed))
    lap("pipeline")

    end = args.start + dt.timedelta(days=args.days - 1)
    replayed = evaluate(settings, version=result.version, window="pipeline", cut=args.start, as_of=end)
    targets = (reach(settings, start=args.start, end=end), wrong_instant_approvals(settings),
               queue_waits(settings, until=end))
    lap("evaluate")
    console.print(f"city {args.persons:,} persons, seed {args.seed}, {args.start} + {args.days} days; "
                  f"champion {result.version} ({'promoted' if promoted else 'not promoted'})")
    console.print(replay_table(replayed))
    console.print(fairness_table(replayed))
    console.print(targets_table(*targets, replayed))
    out = {"persons": args.persons, "seed": args.seed, "start": args.start.isoformat(), "days": args.days,
           "version": result.version, "promoted": promoted, "promotion": why,
           "validation": result.metrics["validation"], "pipeline_replay": replayed, "reach": targets[0],
           "wrong_instant_approvals": targets[1], "queue_waits": targets[2], "seconds": timings}
    (args.home / "visit_targets.json").write_text(json.dumps(out, indent=2, default=str, ensure_ascii=False),
                                                  encoding="utf-8")


if __name__ == "__main__":
    main()
