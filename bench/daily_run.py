"""A city's first load, then quiet days: seconds per stage and peak memory, each day a new process.

    .venv/bin/python bench/daily_run.py --persons 1000000 [--seed 1] [--quiet-days 3] [--home DIR]

Synthesises the city (``wugan synth``, not timed against the pipeline), then
runs day 1 (the first load: the reference extracts, 24 months of claims,
every date trigger due) and the quiet days after it, each in a fresh Python
process as an Airflow task would be. Prints, per day and stage, the seconds
and the process's peak RSS so far, the events each day found, and a quiet
day's cost per 1,000 events. Figures, not assertions: see the closing notes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START = dt.date(2025, 3, 1)


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(home: Path, day: dt.date) -> dict:
    """One day of the pipeline, stage by stage, in this process."""
    from wugan import pipeline
    from wugan.settings import get_settings

    settings = get_settings(home)
    stages: list[dict] = []

    def timed(name: str, fn):
        began = time.perf_counter()
        value = fn()
        stages.append({"stage": name, "seconds": round(time.perf_counter() - began, 2), "peak_mib": round(_rss_mib())})
        return value

    began = time.perf_counter()
    timed("ingest", lambda: pipeline.stage_ingest(settings, day=day))
    timed("quality", lambda: pipeline.stage_quality(settings, day=day))
    events = 0
    for event_type in pipeline.EVENT_TYPES:
        path = timed(f"detect {event_type}", lambda e=event_type: pipeline.stage_detect(settings, event_type=e, day=day))
        decided = timed(f"assess {event_type}", lambda p=path: pipeline.stage_assess(settings, events_path=p))
        report = timed(f"act {event_type}", lambda e=event_type, p=decided: pipeline.stage_act(
            settings, event_type=e, decisions_path=p, day=day))
        events += report.events
    timed("reverse", lambda: pipeline.stage_reverse(settings, day=day))
    timed("assign", lambda: pipeline.stage_assign(settings, day=day))
    timed("oversight", lambda: pipeline.stage_oversight(settings, day=day))
    timed("notify", lambda: pipeline.stage_notify(settings, day=day))
    return {"day": day.isoformat(), "seconds": round(time.perf_counter() - began, 2), "peak_mib": round(_rss_mib()),
            "events": events, "stages": stages}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quiet-days", type=int, default=3)
    parser.add_argument("--home", type=Path, help="keep the city here (default: a temporary folder, removed)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.home, dt.date.fromisoformat(args.child))))
        return 0

    home = args.home or Path(tempfile.mkdtemp(prefix="wugan-bench-"))
    days = 1 + args.quiet_days
    try:
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wugan", "synth", "--home", str(home), "--persons", str(args.persons),
                        "--seed", str(args.seed), "--start", START.isoformat(), "--days", str(days)],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"synth: {args.persons:,} persons, {days} days, seed {args.seed}: {time.perf_counter() - began:.0f} s")
        results = []
        for offset in range(days):
            day = START + dt.timedelta(days=offset)
            out = subprocess.run([sys.executable, __file__, "--home", str(home), "--child", day.isoformat()],
                                 check=True, capture_output=True, text=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            r = results[-1]
            kind = "first load" if offset == 0 else "quiet day"
            print(f"\n{kind} {r['day']}: {r['seconds']} s, peak RSS {r['peak_mib']} MiB, {r['events']} events")
            for s in r["stages"]:
                print(f"  {s['stage']:<28} {s['seconds']:>8.2f} s   peak {s['peak_mib']:>6} MiB")
        quiet = results[1:]
        if quiet:
            seconds = [r["seconds"] for r in quiet]
            events = sum(r["events"] for r in quiet)
            print(f"\nquiet days: {min(seconds):.1f}–{max(seconds):.1f} s, peak RSS up to "
                  f"{max(r['peak_mib'] for r in quiet)} MiB, {events} events in {len(quiet)} days, "
                  f"{sum(seconds) / max(events, 1) * 1000:.1f} s per 1,000 events")
        print(json.dumps({"persons": args.persons, "seed": args.seed, "days": results}))
    finally:
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
