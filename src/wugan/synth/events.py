"""Synthetic events in the detectors' shape, for benchmarks and tests of the later stages."""

from __future__ import annotations

import datetime as dt

import polars as pl

from wugan.cases.models import make_id

__all__ = ["MOTHER", "VILLAGE", "birth_events"]

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
    )
