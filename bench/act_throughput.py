"""Cases (with their items) written per second into the SQLite case store.

Acts on N synthetic decisions in one transaction — birth cases (the widest
bundle: six items) and old-age cases (one item) — and prints cases/s,
items/s and peak memory. The reference in the same run is the floor of the
database itself: the very same case and item rows handed straight to
``sqlite3.executemany`` on the same schema, without the pipeline around it.
A rerun of the batch shows what idempotency costs (it writes nothing).

    .venv/bin/python bench/act_throughput.py --cases 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

from wugan.assess import assess
from wugan.cases.act import act
from wugan.cases.bulk import _prepared
from wugan.cases.bundles import case_frames, load_bundles
from wugan.cases.db import migrate, session_scope
from wugan.cases.models import Case, Item
from wugan.settings import get_settings
from wugan.synth.events import birth_events, old_age_events

DAY = dt.date(2025, 3, 1)


def reference(decided, rules_dir: Path, url: str) -> float:
    """Seconds for sqlite3 alone to insert the same cases and items."""
    bundle = load_bundles(rules_dir)[decided["event_type"][0]]
    cases, items = case_frames(decided.rename({"id": "event_id"}), bundle, on=DAY)
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    con.execute("PRAGMA foreign_keys=OFF")
    started = time.perf_counter()
    for table, frame in ((Case.__table__, cases), (Item.__table__, items)):
        rows = _prepared(frame, table, "sqlite").rows()
        marks = ", ".join("?" for _ in frame.columns)
        con.executemany(f"INSERT INTO {table.name} ({', '.join(frame.columns)}) VALUES ({marks})", rows)
    con.commit()
    con.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args()
    settings = get_settings()
    for name, make in (("birth (6 items)", birth_events), ("old age (1 item)", old_age_events)):
        decided = assess(make(args.cases, day=DAY), rules_dir=settings.rules_dir)
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'cases.db'}"
            migrate(url)
            timings = []
            for _ in ("first", "rerun"):
                started = time.perf_counter()
                with session_scope(url) as session:
                    report = act(session, decided, day=DAY, rules_dir=settings.rules_dir)
                timings.append((time.perf_counter() - started, report))
            (seconds, report), (rerun, _) = timings
            bare_url = f"sqlite:///{Path(tmp) / 'bare.db'}"
            migrate(bare_url)
            floor = reference(decided, settings.rules_dir, bare_url)
        print(
            f"{name:17s} {report.cases:,} cases, {report.items:,} items in {seconds:.2f} s: "
            f"{report.cases / seconds:,.0f} cases/s, {report.items / seconds:,.0f} items/s; "
            f"sqlite3 alone {report.cases / floor:,.0f} cases/s (ratio {seconds / floor:.2f}); "
            f"rerun {rerun:.2f} s, nothing written"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:,.0f} MB; target: at least 20,000 cases (with their items) per second")


if __name__ == "__main__":
    main()
