"""The visit queues on a small synthetic city run day by day, assistants recording what they find."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import select

from tests.factories import START, synth_city
from wugan import lake
from wugan.cases.db import session_scope
from wugan.cases.models import AuditLog, Task
from wugan.pipeline import run
from wugan.scoring.queue import load_queue_rules
from wugan.settings import get_settings
from wugan.synth.truth import queue_waits
from wugan.synth.visits import simulate_visits

DAYS = 21
END = START + dt.timedelta(days=DAYS - 1)
RULES = load_queue_rules()


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    home = synth_city(tmp_path_factory.mktemp("queues") / "home", persons=8_000, days=DAYS, seed=21)
    settings = get_settings(home)
    run(settings, start=START, days=DAYS, progress=lambda r: simulate_visits(settings, until=r.day, seed=4))
    with session_scope(settings.case_store_url) as s:
        tasks = pl.DataFrame([{c: getattr(t, c) for c in ("id", "kind", "village_code", "assistant_id", "week",
                                                          "status", "outcome", "attempts", "queue", "created_on",
                                                          "assigned_on", "deadline", "priority", "probability")}
                              for t in s.scalars(select(Task))], infer_schema_length=None)
        actions = dict(s.execute(select(AuditLog.action, AuditLog.id)).all())
    staff = lake.connect(settings).sql("SELECT assistant_id, village_code, weekly_capacity FROM assistants").pl()
    return settings, tasks, staff, actions


def test_nobody_gets_more_visits_in_a_week_than_they_can_do(ran):
    _, tasks, staff, _ = ran
    load = tasks.filter(pl.col("week").is_not_null() & ~pl.col("assistant_id").str.starts_with("county:")).group_by(
        "assistant_id", "week").len().join(staff, on="assistant_id")
    assert load.height > 0 and (load["len"] <= load["weekly_capacity"]).all()
    office = tasks.filter(pl.col("assistant_id").str.starts_with("county:")).group_by("assistant_id", "week").len()
    assert (office["len"] <= RULES.county_office_weekly_calls).all()


def test_every_visit_kind_is_on_one_scale_and_deadlines_are_met(ran):
    settings, tasks, _, _ = ran
    assert set(tasks["kind"]) >= {"home_visit", "account_refund", "pension_claim"}
    assert tasks["probability"].null_count() == 0 and tasks["priority"].min() > 0
    deaths = tasks.filter((pl.col("kind") == "account_refund") & (pl.col("deadline") <= END))
    assert deaths.height > 0 and (deaths["assigned_on"] <= deaths["deadline"]).all(), "death visits within 7 days"
    waits = queue_waits(settings, until=END)
    assert waits["non_hardship_tasks"] > 0 and waits["waited_over_days_with_spare_township_capacity"] == 0


def test_neighbours_and_the_county_office_take_what_a_village_cannot(ran):
    _, tasks, staff, _ = ran
    helped = tasks.filter(pl.col("queue") == "township").join(staff.select("assistant_id", home="village_code"),
                                                              on="assistant_id")
    assert helped.height > 0
    assert (helped["home"] != helped["village_code"]).all()
    assert (helped["home"].str.slice(0, 9) == helped["village_code"].str.slice(0, 9)).all()
    office = tasks.filter(pl.col("queue") == "county_office")
    assert (office["assistant_id"].is_null() | (office["assistant_id"] == "county:" + office["village_code"]
                                                .str.slice(0, 6))).all()


def test_could_not_reach_is_retried_not_dropped(ran):
    _, tasks, _, actions = ran
    assert "visit_retry_booked" in actions
    assert tasks["attempts"].max() <= RULES.unreachable_limit
    assert tasks.filter(pl.col("attempts") > 0).height > 0
    # 联系不上 ends a task only in the county office's hands, after the assistants' tries
    assert tasks.filter(pl.col("outcome") == "unreachable")["queue"].eq("county_office").all()
