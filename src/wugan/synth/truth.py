"""How a pipeline run did against the synthetic city's hidden truth: reach, timeliness, wrong approvals.

Only the synthetic city has a truth; ``wugan model evaluate`` and
``bench/visit_targets.py`` print these figures next to the replay table.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import select

from wugan.cases.db import ensure_store, session_scope
from wugan.cases.models import Decision, Event, Task
from wugan.settings import Settings

__all__ = ["reach", "wrong_instant_approvals", "queue_waits"]

WITHIN_DAYS = 7


def _events(settings: Settings) -> pl.DataFrame:
    with session_scope(ensure_store(settings.case_store_url)) as session:
        rows = session.execute(select(Event.event_type, Event.person_id, Event.subject, Event.event_date,
                                      Event.detected_on)).all()
    return pl.DataFrame(rows, orient="row", schema={
        "event_type": pl.String, "person_id": pl.String, "subject": pl.String, "event_date": pl.Date,
        "detected_on": pl.Date})


def reach(settings: Settings, *, start: dt.date, end: dt.date) -> dict:
    """Eligible people alerted: onsets in [start, end] alerted within 7 days of the onset (not before it),
    and everyone eligible by ``end`` alerted on or after their onset by then."""
    truth = pl.read_parquet(settings.truth / "persons.parquet", columns=["person_id", "eligible", "hardship_onset"])
    eligible = truth.filter(pl.col("eligible") & (pl.col("hardship_onset") <= end))
    alerts = _events(settings).filter((pl.col("event_type") == "medical_hardship")
                                      & (pl.col("detected_on") <= end)).select("person_id", "detected_on")
    joined = eligible.join(alerts, on="person_id", how="left").with_columns(
        lag=(pl.col("detected_on") - pl.col("hardship_onset")).dt.total_days())
    first = joined.filter(pl.col("lag") >= 0).group_by("person_id").agg(lag=pl.col("lag").min())
    people = eligible.join(first, on="person_id", how="left")
    fresh = people.filter(pl.col("hardship_onset") >= start)
    early = joined.filter(pl.col("lag") < 0).select("person_id").unique()
    return {
        "start": start.isoformat(), "end": end.isoformat(),
        "eligible": people.height,
        "eligible_alerted": int(people["lag"].is_not_null().sum()),
        "eligible_alerted_share": float(people["lag"].is_not_null().mean()) if people.height else float("nan"),
        "in_window_onsets": fresh.height,
        "in_window_alerted_within_7_days": int((fresh["lag"] <= WITHIN_DAYS).fill_null(False).sum()),
        "in_window_alerted_within_7_days_share": float((fresh["lag"] <= WITHIN_DAYS).fill_null(False).mean())
        if fresh.height else float("nan"),
        "in_window_alerted_at_all": int(fresh["lag"].is_not_null().sum()),
        "in_window_alerted_before_onset_only": int(fresh.join(early, on="person_id")
                                                   .filter(pl.col("lag").is_null()).height),
    }


def wrong_instant_approvals(settings: Settings) -> dict[str, dict[str, int]]:
    """Decisions that approved something at once (any outcome routed ``instant_approve``) whose event the
    truth contradicts — a death that did not happen that day, a birth that is not in the birth records, a
    birthday or retirement date that is not the person's — per event type, with how many were made."""
    with session_scope(ensure_store(settings.case_store_url)) as session:
        rows = session.execute(
            select(Event.event_type, Event.person_id, Event.subject, Event.event_date, Event.key,
                   Decision.explanation).join(Decision, Decision.event_id == Event.id)).all()
    instant = [r[:5] for r in rows
               if any((o or {}).get("route") == "instant_approve" for o in (r[5] or {}).get("outcomes", {}).values())]
    approved = pl.DataFrame(instant, orient="row", schema={"event_type": pl.String, "person_id": pl.String,
                                                           "subject": pl.String, "event_date": pl.Date,
                                                           "key": pl.String})
    persons = pl.read_parquet(settings.truth / "persons.parquet",
                              columns=["person_id", "birth_date", "retirement_date"])
    births = pl.read_parquet(settings.truth / "births.parquet", columns=["birth_record_id", "birth_date"])
    deaths = pl.read_parquet(settings.truth / "deaths.parquet", columns=["person_id", "death_date"])
    x = approved.join(persons, on="person_id", how="left").join(
        births.rename({"birth_record_id": "subject", "birth_date": "born"}), on="subject", how="left").join(
        deaths.rename({"death_date": "died"}).unique("person_id"), on="person_id", how="left")
    tier = pl.col("key").str.split(":").list.get(-1).cast(pl.Int32, strict=False)
    right = (
        pl.when(pl.col("event_type") == "death").then(pl.col("died") == pl.col("event_date"))
        .when(pl.col("event_type") == "birth").then(pl.col("born") == pl.col("event_date"))
        .when(pl.col("event_type") == "old_age").then(pl.col("birth_date").dt.offset_by(
            pl.format("{}y", tier)) == pl.col("event_date"))
        .when(pl.col("event_type") == "retirement").then(pl.col("retirement_date") == pl.col("event_date"))
        .otherwise(pl.lit(False))
    ).fill_null(False)
    counts = x.with_columns(wrong=~right).group_by("event_type").agg(
        approved=pl.len(), wrong=pl.col("wrong").sum()).sort("event_type")
    return {r["event_type"]: {"approved": r["approved"], "wrong": r["wrong"]} for r in counts.iter_rows(named=True)}


def queue_waits(settings: Settings, *, until: dt.date, days: int = WITHIN_DAYS) -> dict:
    """Non-hardship visit tasks that waited more than ``days`` unassigned while a visit of their township
    was free in a week they waited through (the target: none), and how many tasks whose deadline has
    passed were given to someone by it."""
    from wugan import lake

    with session_scope(ensure_store(settings.case_store_url)) as session:
        tasks = pl.DataFrame(session.execute(
            select(Task.id, Task.kind, Task.village_code, Task.created_on, Task.assigned_on, Task.week,
                   Task.assistant_id, Task.deadline)).all(),
            orient="row", schema={"id": pl.String, "kind": pl.String, "village_code": pl.String,
                                  "created_on": pl.Date, "assigned_on": pl.Date, "week": pl.Date,
                                  "assistant_id": pl.String, "deadline": pl.Date})
    assistants = lake.connect(settings).sql(
        "SELECT assistant_id, village_code, weekly_capacity::BIGINT AS cap FROM assistants").pl()
    township = pl.col("village_code").str.slice(0, 9)
    capacity = assistants.group_by(township=township).agg(cap=pl.col("cap").sum())
    used = tasks.filter(pl.col("week").is_not_null() & ~pl.col("assistant_id").str.starts_with("county:")).join(
        assistants.select("assistant_id", vc="village_code"), on="assistant_id").group_by(
        township=pl.col("vc").str.slice(0, 9), week="week").agg(used=pl.len())
    others = tasks.filter(pl.col("kind") != "home_visit").drop("week").with_columns(
        waited_until=pl.coalesce(pl.col("assigned_on"), pl.lit(until)),
        township=township)
    late = others.filter((pl.col("waited_until") - pl.col("created_on")).dt.total_days() > days)
    # the weeks a late task waited through after its first `days` days
    late_weeks = late.with_columns(w=pl.date_ranges(
        (pl.col("created_on") + pl.duration(days=days)).dt.truncate("1w"),
        (pl.col("waited_until") - pl.duration(days=1)).dt.truncate("1w"), "1w")).explode("w").rename({"w": "week"})
    spare = late_weeks.join(capacity, on="township", how="left").join(used, on=["township", "week"], how="left").filter(
        pl.col("cap").fill_null(0) > pl.col("used").fill_null(0))
    due = others.filter(pl.col("deadline").is_not_null() & (pl.col("deadline") <= until))
    return {"non_hardship_tasks": others.height, "waited_over_days": late.height,
            "waited_over_days_with_spare_township_capacity": spare["id"].n_unique(), "days": days,
            "by_kind": dict(others.group_by("kind").len().iter_rows()),
            "deadlines_passed": due.height,
            "assigned_by_deadline": int((due["assigned_on"] <= due["deadline"]).fill_null(False).sum())}
