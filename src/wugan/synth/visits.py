"""Simulated home visits: what the assistants would find, from the synthetic city's hidden truth.

Only visits the system actually made get an outcome: assigned ``home_visit``
tasks whose week has ended by ``until``. A person the truth marks eligible is
``confirmed``, anyone else ``not_eligible``; a small share is ``unreachable``
or ``declined`` whatever the truth. Draws hash the seed and the task id, so a
rerun records the same outcomes, and each outcome goes through
``record_visit`` (audited; a confirmed visit opens the bundle case).
"""

from __future__ import annotations

import datetime as dt
import hashlib

import polars as pl
from sqlalchemy import select

from wugan.cases.db import ensure_store, session_scope
from wugan.cases.models import Task
from wugan.cases.workflow import record_visit
from wugan.settings import Settings

__all__ = ["UNREACHABLE", "DECLINED", "simulate_visits", "draw"]

UNREACHABLE = 0.04
DECLINED = 0.03
ACTOR = "synth:visits"


def draw(seed: int, key: str) -> float:
    """A uniform number in [0, 1) from the seed and a key: the same on every run."""
    digest = hashlib.blake2b(f"{seed}|{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def simulate_visits(settings: Settings, *, until: dt.date, seed: int = 0) -> int:
    """Record an outcome for every assigned home visit whose week ended by ``until``; returns how many."""
    truth = pl.read_parquet(settings.truth / "persons.parquet", columns=["person_id", "eligible"])
    eligible = dict(truth.iter_rows())
    last_week = until - dt.timedelta(days=6)
    done = 0
    with session_scope(ensure_store(settings.case_store_url)) as session:
        tasks = session.execute(
            select(Task.id, Task.person_id, Task.week)
            .where(Task.kind == "home_visit", Task.status == "assigned", Task.outcome.is_(None),
                   Task.week <= last_week)
            .order_by(Task.id)
        ).all()
        for task_id, person_id, week in tasks:
            u = draw(seed, task_id)
            if u < UNREACHABLE:
                outcome = "unreachable"
            elif u < UNREACHABLE + DECLINED:
                outcome = "declined"
            else:
                outcome = "confirmed" if eligible.get(person_id, False) else "not_eligible"
            # The visit happens on a weekday of its week, at the latest on its Friday.
            day = week + dt.timedelta(days=min(4, int(draw(seed + 1, task_id) * 5)))
            record_visit(session, task_id=task_id, outcome=outcome, notes="simulated from the synthetic truth",
                         actor=ACTOR, at=dt.datetime.combine(day, dt.time(15, 0)))
            done += 1
    return done


def simulate_history(settings: Settings, *, start: dt.date, weeks: int = 52, seed: int = 0,
                     oop_share: float = 0.5) -> pl.DataFrame:
    """Replay the old system over the claims history: weekly alerts, visits by the old priority, outcomes.

    Each Monday ``D`` of the ``weeks`` before ``start``, people whose out-of-pocket
    spending over the year before ``D`` exceeds ``oop_share`` × local income are
    alerted (at most once a year) and join their village's backlog; the backlog,
    highest spending share first, fills the week's visits of the village's
    assistants; each visit gets an outcome from the truth as ``simulate_visits``
    does. Unvisited alerts stay in the frame (``visited_on`` null), as a real
    deployment knows them too. Written to ``<home>/labels/history_visits.parquet``.
    """
    from wugan import lake

    con = lake.connect(settings)
    first = start - dt.timedelta(days=start.weekday()) - dt.timedelta(weeks=weeks)
    days = [first + dt.timedelta(weeks=k) for k in range(weeks)]
    con.register("_replay_days", pl.DataFrame({"as_of": days}).to_arrow())
    alerts = con.sql(f"""
        SELECT d.as_of, c.person_id, p.hukou_village AS village_code,
               sum(c.out_of_pocket)::DOUBLE / any_value(r.income_prev_year) AS priority
        FROM _replay_days d
        JOIN claims c ON c.claim_date >= d.as_of - INTERVAL 365 DAY AND c.claim_date < d.as_of
        JOIN persons p ON p.person_id = c.person_id
        JOIN regions r ON r.region_code = p.hukou_village
        GROUP BY ALL
        HAVING priority > {oop_share}
    """).pl().sort("as_of", "person_id")
    capacity = dict(con.sql("SELECT village_code, sum(weekly_capacity)::BIGINT FROM assistants GROUP BY 1").fetchall())
    truth = pl.read_parquet(settings.truth / "persons.parquet", columns=["person_id", "eligible"])
    eligible = dict(truth.iter_rows())
    last_alert: dict[str, dt.date] = {}
    backlog: list[dict] = []
    rows: list[dict] = []
    for day in days:
        for a in alerts.filter(pl.col("as_of") == day).iter_rows(named=True):
            seen = last_alert.get(a["person_id"])
            if seen is None or (day - seen).days >= 365:
                last_alert[a["person_id"]] = day
                backlog.append({**a, "visited_on": None, "outcome": None})
        backlog.sort(key=lambda r: (-r["priority"], r["as_of"], r["person_id"]))
        used: dict[str, int] = {}
        waiting = []
        for r in backlog:
            v = r["village_code"]
            if used.get(v, 0) < capacity.get(v, 0):
                used[v] = used.get(v, 0) + 1
                key = f"{r['person_id']}|{r['as_of']}"
                u = draw(seed, key)
                r["outcome"] = ("unreachable" if u < UNREACHABLE else "declined" if u < UNREACHABLE + DECLINED
                                else "confirmed" if eligible.get(r["person_id"], False) else "not_eligible")
                r["visited_on"] = day + dt.timedelta(days=min(4, int(draw(seed + 1, key) * 5)))
                rows.append(r)
            else:
                waiting.append(r)
        backlog = waiting
    rows.extend(backlog)
    frame = pl.DataFrame(rows, schema={"as_of": pl.Date, "person_id": pl.String, "village_code": pl.String,
                                       "priority": pl.Float64, "visited_on": pl.Date, "outcome": pl.String},
                         orient="row").sort("as_of", "person_id")
    out = settings.home / "labels" / "history_visits.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(out)
    return frame
