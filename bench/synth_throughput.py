"""Synthetic city throughput: persons per second and peak memory (RSS) of `wugan.synth.generate`.

    .venv/bin/python bench/synth_throughput.py --persons 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

from wugan.synth import generate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--corrupt", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--home", type=Path, default=None)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = a.home or Path(tmp)
        t0 = time.perf_counter()
        s = generate(inbox=home / "inbox", truth=home / "truth", persons=a.persons, seed=a.seed,
                     start=dt.date(2025, 1, 1), days=a.days, corrupt=a.corrupt)
        secs = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in (home / "inbox").rglob("*.csv"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024
    print(f"persons={a.persons:,} days={a.days} seconds={secs:.1f} persons/s={a.persons / secs:,.0f} "
          f"peak_rss_mb={peak_mb:,.0f} csv_mb={size / 1e6:,.0f} files={s.files}")
    print({k: f"{v:,}" for k, v in s.rows.items()})


if __name__ == "__main__":
    main()
