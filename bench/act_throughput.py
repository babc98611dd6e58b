"""Cases (with their items) written per second into the SQLite case store.

Builds N synthetic birth decisions (the widest bundle: six items), acts on
them in one transaction, and prints cases/s, items/s and peak memory; then
acts on the same batch again to show a rerun's cost (it writes nothing).

    .venv/bin/python bench/act_throughput.py --cases 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

import polars as pl

from wugan.assess import assess
from wugan.cases.act import act
from wugan.cases.db import migrate, session_scope
from wugan.settings import get_settings
from wugan.synth.events import MOTHER, birth_events

DAY = dt.date(2025, 3, 1)


def decisions(n: int, rules_dir: Path) -> pl.DataFrame:
    return assess(birth_events(n, day=DAY), rules_dir=rules_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args()
    settings = get_settings()
    decided = decisions(args.cases, settings.rules_dir)
    people = pl.DataFrame({"person_id": [MOTHER], "name": ["王燕"], "phone": ["13800000000"]})
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'cases.db'}"
        migrate(url)
        for label in ("first run", "rerun (nothing new)"):
            started = time.perf_counter()
            with session_scope(url) as session:
                report = act(session, decided, day=DAY, rules_dir=settings.rules_dir, people=people)
            seconds = time.perf_counter() - started
            print(
                f"{label:20s} {args.cases:,} decisions in {seconds:.2f} s: "
                f"{report.cases / seconds:,.0f} cases/s, {report.items / seconds:,.0f} items/s "
                f"({report.cases:,} cases, {report.items:,} items, {report.notices:,} notices written)"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:,.0f} MB; target: at least 20,000 cases (with their items) per second")


if __name__ == "__main__":
    main()
