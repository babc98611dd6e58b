"""Simulated home visits: what the assistants would find, from the synthetic city's hidden truth.

Only visits the system actually made get an outcome: assigned visit tasks
whose week has ended by ``until``. The visit happens on a weekday of its week,
never before the day it was given out. A person the truth marks eligible is
``confirmed`` when the visit comes on or after the onset of their condition —
eligibility has a date, and a visit before it finds nothing to confirm — and
anyone else ``not_eligible``; a small share is ``unreachable`` (联系不上: a
retry is booked, see ``cases.workflow.record_visit``) or ``declined`` whatever
the truth. Draws hash the seed, the task id and the attempt, so a rerun
records the same outcomes, and each outcome goes through ``record_visit``
(audited; a confirmed visit opens the bundle case).
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

__all__ = ["UNREACHABLE", "DECLINED", "simulate_visits", "simulate_history", "draw", "outcome_of"]

UNREACHABLE = 0.04
DECLINED = 0.03
ACTOR = "synth:visits"
BACKLOG_DAYS = 365


def draw(seed: int, key: str) -> float:
    """A uniform number in [0, 1) from the seed and a key: the same on every run."""
    digest = hashlib.blake2b(f"{seed}|{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def outcome_of(u: float, *, eligible: bool, onset: dt.date | None, day: dt.date) -> str:
    """The outcome of a visit on ``day`` with draw ``u``: confirmed only on or after the onset."""
    if u < UNREACHABLE:
        return "unreachable"
    if u < UNREACHABLE + DECLINED:
        return "declined"
    return "confirmed" if eligible and (onset is None or onset <= day) else "not_eligible"


def _truth(settings: Settings) -> dict[str, tuple[bool, dt.date | None]]:
    truth = pl.read_parquet(settings.truth / "persons.parquet", columns=["person_id", "eligible", "hardship_onset"])
    return {p: (bool(e), o) for p, e, o in truth.iter_rows()}


def simulate_visits(settings: Settings, *, until: dt.date, seed: int = 0) -> int:
    """Record an outcome for every assigned visit whose week ended by ``until``; returns how many."""
    truth = _truth(settings)
    last_week = until - dt.timedelta(days=6)
    done = 0
    with session_scope(ensure_store(settings.case_store_url)) as session:
        tasks = session.execute(
            select(Task.id, Task.person_id, Task.week, Task.assigned_on, Task.attempts)
            .where(Task.status == "assigned", Task.outcome.is_(None), Task.week <= last_week)
            .order_by(Task.id)
        ).all()
        for task_id, person_id, week, assigned_on, attempts in tasks:
            key = f"{task_id}|{attempts or 0}"
            # a weekday of its week (at the latest its Friday), not before it was given out
            first = max(week, assigned_on or week)
            day = min(first + dt.timedelta(days=int(draw(seed + 1, key) * 5)), week + dt.timedelta(days=6))
            eligible, onset = truth.get(person_id or "", (False, None))
            outcome = outcome_of(draw(seed, key), eligible=eligible, onset=onset, day=day)
            record_visit(session, task_id=task_id, outcome=outcome, notes="simulated from the synthetic truth",
                         actor=ACTOR, at=dt.datetime.combine(day, dt.time(15, 0)))
            done += 1
    return done


def simulate_history(settings: Settings, *, start: dt.date, weeks: int = 52, seed: int = 0) -> pl.DataFrame:
    """Replay the system over the claims history before ``start``: alerts, the daily queue, outcomes.

    The history begins with a first run on ``first`` (``weeks`` before
    ``start``): everyone the hardship rule set alerts in the year before it
    arrives that day, as on the pipeline's own first day. Then each day's
    alerts (the rule set in force, replayed by the backtest) join their
    village's queue, ordered by the one priority scale without a model, with
    the exploration share and the same-township rebalancing of the pipeline
    (``scoring.replay``), so every visit has the probability it had of being
    made. Visits get outcomes from the truth as ``simulate_visits`` gives them
    (retries aside). Unvisited alerts stay in the frame (``visited_on`` null),
    as a real deployment knows them too. Written to
    ``<home>/labels/history_visits.parquet``.
    """
    from wugan import lake
    from wugan.backtest import backtest
    from wugan.events import ruleset_for
    from wugan.scoring.examples import with_features
    from wugan.scoring.queue import load_queue_rules, week_of
    from wugan.scoring.replay import replay
    from wugan.scoring.score import priority_at

    con = lake.connect(settings)
    first = week_of(start) - dt.timedelta(weeks=weeks)
    ruleset = ruleset_for("medical_hardship", rules_dir=settings.rules_dir)
    found = backtest(con, ruleset, start=first - dt.timedelta(days=BACKLOG_DAYS), end=start - dt.timedelta(days=1),
                     rules_dir=settings.rules_dir).decisions.filter(pl.col("route") == "assistant_task")
    alerts = pl.concat([
        found.filter(pl.col("as_of") < first).sort("as_of").unique("person_id", keep="last")
        .with_columns(as_of=pl.lit(first)),
        found.filter(pl.col("as_of") >= first),
    ]).select("key", "person_id", "village_code", detected_on="as_of",
              disabling_diagnosis=pl.col("cond_disabling_diagnosis"),
              oop_share=pl.col("oop_12m") / pl.col("income_prev_year")).sort("detected_on", "key")
    feats = with_features(settings, alerts.select("person_id", as_of=pl.col("detected_on") + pl.duration(days=1)))
    ranked = priority_at(alerts.with_columns(kind=pl.lit("home_visit"), lives_alone=feats["lives_alone"] > 0,
                                             event_date="detected_on"),
                         as_of="detected_on", rules_dir=settings.rules_dir)
    assistants = con.sql("SELECT assistant_id, village_code, weekly_capacity::BIGINT AS weekly_capacity "
                         "FROM assistants").pl()
    done = replay(ranked.select(id="key", village_code="village_code", arrived="detected_on",
                                priority="priority"), assistants, start=first, days=(start - first).days,
                  rules=load_queue_rules(settings.rules_dir)).alerts
    truth = _truth(settings)
    frame = ranked.select("key", "person_id", "village_code", "detected_on", "priority").join(
        done.select(key="id", visited_on="visited_on", propensity="propensity", explored="explored"), on="key",
        how="left")
    outcomes = [
        None if day is None else outcome_of(draw(seed, key), eligible=truth.get(person, (False, None))[0],
                                             onset=truth.get(person, (False, None))[1], day=day)
        for key, person, day in frame.select("key", "person_id", "visited_on").iter_rows()
    ]
    frame = frame.with_columns(outcome=pl.Series(outcomes, dtype=pl.String)).drop("key").sort(
        "detected_on", "person_id")
    out = settings.home / "labels" / "history_visits.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(out)
    return frame
