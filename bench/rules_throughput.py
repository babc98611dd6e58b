"""Rule engine throughput versus a hand-written DuckDB query of the same predicates.

Builds synthetic persons (5 medical claims each) as Parquet in a temp dir, then
for each size and rule set runs the engine's query and a hand-written one, each
in its own subprocess (peak RSS from ``os.wait4``), writing Parquet results.

    .venv/bin/python bench/rules_throughput.py --sizes 1000000,10000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AS_OF = dt.date(2025, 6, 1)
SOURCE = """
SELECT p.*, COALESCE(c.oop_12m, 0.0) AS oop_12m
FROM read_parquet('{dir}/persons.parquet') p
LEFT JOIN (SELECT person_id, sum(amount) AS oop_12m FROM read_parquet('{dir}/claims.parquet')
           GROUP BY person_id) c USING (person_id)
"""

HAND = {
    "old_age_allowance": """
WITH s AS ({source}), a AS (
  SELECT *, (2025 * 12 + 6) - (year(birth_date) * 12 + month(birth_date)) AS age_months FROM s
), b AS (
  SELECT *, CAST(floor(age_months / 12) AS INTEGER) AS age_years FROM a
), c AS (
  SELECT *, CASE WHEN age_years >= 100 THEN 100 WHEN age_years >= 90 THEN 90 WHEN age_years >= 80 THEN 80 END AS tier
  FROM b
), d AS (
  SELECT *, CASE tier WHEN 100 THEN CASE WHEN starts_with(region_code, '3714') THEN 1000 ELSE 800 END
                      WHEN 90 THEN CASE WHEN starts_with(region_code, '3714') THEN 600 ELSE 500 END
                      WHEN 80 THEN CASE WHEN starts_with(region_code, '3714') THEN 150 ELSE 100 END END AS allowance_monthly,
         age_years >= 80 AS cond_old_enough, hukou_local AS cond_local_hukou, alive AS cond_living
  FROM c
)
SELECT *, CASE WHEN cond_old_enough AND cond_local_hukou AND cond_living THEN 'instant_approve' ELSE 'no_action' END
            AS old_age_allowance_route,
       CASE WHEN cond_old_enough AND cond_local_hukou AND cond_living THEN CAST(allowance_monthly AS DOUBLE) END
            AS old_age_allowance_amount,
       'old_age_allowance' AS ruleset, 'hand' AS ruleset_version
FROM d
""",
    "medical_hardship": """
WITH s AS ({source}), a AS (SELECT *, 0.5 * income_prev_year AS threshold FROM s),
b AS (SELECT *, oop_12m > threshold AS cond_alert FROM a)
SELECT *, CASE WHEN cond_alert THEN 'assistant_task' ELSE 'no_action' END AS home_visit_route,
       CAST(NULL AS DOUBLE) AS home_visit_amount, 'medical_hardship' AS ruleset, 'hand' AS ruleset_version
FROM b
""",
}


def make_data(dir_: Path, n: int) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute(f"""
        COPY (SELECT i AS person_id,
                     DATE '1920-01-01' + CAST(hash(i) % 36500 AS INTEGER) AS birth_date,
                     hash(i * 7) % 10 <> 0 AS hukou_local,
                     hash(i * 11) % 50 <> 0 AS alive,
                     CASE WHEN i % 20 = 0 THEN '371402' ELSE '110101' END
                       || lpad(CAST(i % 1000000 AS VARCHAR), 6, '0') AS region_code,
                     30000.0 + (hash(i * 13) % 50000) AS income_prev_year
              FROM range({n}) t(i)) TO '{dir_}/persons.parquet' (FORMAT PARQUET)""")
    con.execute(f"""
        COPY (SELECT i // 5 AS person_id, CAST(hash(i * 17) % 12000 AS DOUBLE) AS amount
              FROM range({n * 5}) t(i)) TO '{dir_}/claims.parquet' (FORMAT PARQUET)""")
    con.close()


def worker(kind: str, ruleset: str, dir_: Path) -> None:
    import duckdb

    con = duckdb.connect()
    source = SOURCE.format(dir=dir_)
    load_start = time.perf_counter()
    if kind == "engine":
        from wugan.rules import load_ruleset
        from wugan.settings import get_settings

        # loading (YAML, allow-list, type check) happens once per run, timed apart
        rs = load_ruleset(ruleset, rules_dir=get_settings().rules_dir)
    start = time.perf_counter()
    if kind == "engine":
        query = rs.evaluate(con, source, as_of=AS_OF).sql_query()
    else:
        query = HAND[ruleset].format(source=source)
    con.execute(f"COPY ({query}) TO '{dir_}/out_{kind}.parquet' (FORMAT PARQUET)")
    print(start - load_start, time.perf_counter() - start)


def run(kind: str, ruleset: str, dir_: Path) -> tuple[float, int, float]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--worker", kind, "--ruleset", ruleset, "--dir", str(dir_)],
        stdout=subprocess.PIPE,
        text=True,
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{kind} {ruleset} failed")
    load, query = (float(x) for x in out.strip().splitlines()[-1].split())
    return query, usage.ru_maxrss * 1024, load


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best time counts")
    ap.add_argument("--worker")
    ap.add_argument("--ruleset")
    ap.add_argument("--dir", type=Path)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.ruleset, args.dir)
        return
    print(f"{'size':>10} {'ruleset':<18} {'engine rows/s':>14} {'hand rows/s':>12} {'time ratio':>10} "
          f"{'engine MB':>10} {'hand MB':>8} {'mem ratio':>9} {'load s':>7}")  # fmt: skip
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            dir_ = Path(tmp)
            make_data(dir_, n)
            for ruleset in ("old_age_allowance", "medical_hardship"):
                res = {}
                for kind in ("hand", "engine"):
                    runs = [run(kind, ruleset, dir_) for _ in range(args.repeat)]
                    res[kind] = (min(r[0] for r in runs), max(r[1] for r in runs), min(r[2] for r in runs))
                (te, me, load), (th, mh, _) = res["engine"], res["hand"]
                print(f"{n:>10} {ruleset:<18} {n / te:>14,.0f} {n / th:>12,.0f} {te / th:>10.2f} "
                      f"{me / 2**20:>10.0f} {mh / 2**20:>8.0f} {me / mh:>9.2f} {load:>7.2f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
