"""Synthetic events in the detectors' shape, for benchmarks and tests of the later stages."""

from __future__ import annotations

import datetime as dt

import polars as pl

from wugan.cases.models import make_id

__all__ = ["MOTHER", "VILLAGE", "birth_events", "old_age_events"]

MOTHER = "371402199608300029"
VILLAGE = "371402001001"


def birth_events(n: int, *, day: dt.date) -> pl.DataFrame:
    """``n`` birth events as the birth detector gives them: one mother, babies born over the last 20 days."""
    return pl.DataFrame({"n": range(n)}).select(
        key=pl.format("birth:Q{}", pl.col("n")),
        person_id=pl.lit(MOTHER),
        subject=pl.format("Q{}", pl.col("n")),
        village_code=pl.lit(VILLAGE),
        household_id=pl.format("H{}", pl.col("n")),
        event_date=pl.lit(day) - pl.duration(days=pl.col("n") % 20),
        birth_date=pl.lit(day) - pl.duration(days=pl.col("n") % 20),
        child_sex=pl.lit("F"),
        mother_id=pl.lit(MOTHER),
        father_id=pl.lit(None, pl.String),
        hospital=pl.lit("德州市妇女儿童医院"),
    ).with_columns(
        id=pl.col("key").map_elements(lambda k: make_id("event", k), return_dtype=pl.String),
        event_type=pl.lit("birth"),
        detected_on=pl.lit(day),
        as_of=pl.col("event_date"),
        due=pl.lit(True),
        existing=pl.lit(False),
    )


def old_age_events(n: int, *, day: dt.date) -> pl.DataFrame:
    """``n`` 80th birthdays on ``day``, as the old-age detector gives them (a one-item bundle)."""
    return pl.DataFrame({"n": range(n)}).select(
        key=pl.format("old_age:P{}:80", pl.col("n")),
        person_id=pl.format("P{}", pl.col("n")),
        subject=pl.format("P{}", pl.col("n")),
        village_code=pl.lit(VILLAGE),
        household_id=pl.format("H{}", pl.col("n")),
        event_date=pl.lit(day),
        tier_age=pl.lit(80),
        birth_date=pl.lit(day.replace(year=day.year - 80)),
        hukou_local=pl.lit(True),
        alive=pl.lit(True),
        region_code=pl.lit(VILLAGE),
        paid_monthly=pl.lit(None, pl.Float64),
    ).with_columns(
        id=pl.col("key").map_elements(lambda k: make_id("event", k), return_dtype=pl.String),
        event_type=pl.lit("old_age"),
        detected_on=pl.lit(day),
        as_of=pl.lit(day),
        due=pl.lit(True),
        existing=pl.lit(False),
    )
