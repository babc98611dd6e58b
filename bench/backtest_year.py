"""Benchmark: a one-year backtest of one rule set over a 1M-person synthetic city.

    .venv/bin/python bench/backtest_year.py [--persons 1000000] [--ruleset medical_hardship] [--keep DIR]

Generates the city (``wugan.synth.generate``, ~40 s for 1M), ingests it, then
times ``wugan.backtest.backtest`` over the 365 days before the start (the
synthetic claims history covers the 24 months before it) and prints seconds,
events/s and the peak RSS of the process. The target is under 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import shutil
import tempfile
import time
from pathlib import Path

START = dt.date(2025, 3, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--ruleset", default="medical_hardship")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="PARAM=VALUE what-if")
    parser.add_argument("--compare", action="store_true", help="also run the base version and diff")
    parser.add_argument("--keep", type=Path, help="build (or reuse) the city here instead of a temp dir")
    args = parser.parse_args()

    from wugan import lake
    from wugan.backtest import backtest, event_type_of, truth_labels
    from wugan.rules import load_ruleset
    from wugan.settings import get_settings
    from wugan.synth import generate

    root = args.keep or Path(tempfile.mkdtemp(prefix="wugan-bench-"))
    settings = get_settings(root / "home")
    try:
        if not settings.lake.exists():
            t = time.perf_counter()
            generate(inbox=settings.inbox, truth=settings.truth, persons=args.persons, seed=7, start=START, days=1)
            print(f"generated {args.persons:,} persons in {time.perf_counter() - t:.1f} s")
            t = time.perf_counter()
            lake.ingest(settings, until=START)
            print(f"ingested in {time.perf_counter() - t:.1f} s")
        overrides = dict(kv.split("=", 1) for kv in args.overrides)
        overrides = {k: float(v) for k, v in overrides.items()}
        rs = load_ruleset(args.ruleset, rules_dir=settings.rules_dir, overrides=overrides)
        base = load_ruleset(args.ruleset, rules_dir=settings.rules_dir) if args.compare else None
        labels = truth_labels(settings.home) if event_type_of(args.ruleset) == "medical_hardship" else None
        end = START - dt.timedelta(days=1)
        begin = end - dt.timedelta(days=364)
        t = time.perf_counter()
        result = backtest(lake.connect(settings), rs, start=begin, end=end, rules_dir=settings.rules_dir,
                          base=base, labels=labels)
        seconds = time.perf_counter() - t
        events = result.decisions.height
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"backtest {args.ruleset} {begin}..{end} ({args.persons:,} persons): {seconds:.1f} s, "
              f"{events:,} events, {events / seconds:,.0f} events/s, {result.weekly.height} weeks, "
              f"precision {result.precision}, recall {result.recall}, peak RSS {peak:,.0f} MiB")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
