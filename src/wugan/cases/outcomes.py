"""Visit outcomes as the model learns from them: one row per visit task of an event type.

The trainer and the evaluation read outcomes here, through the case store,
and never import the pipeline.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from wugan.cases.models import Event, Task

__all__ = ["VISIT_SCHEMA", "visits"]

VISIT_SCHEMA = {"person_id": pl.String, "village_code": pl.String, "detected_on": pl.Date,
                "assigned_on": pl.Date, "outcome": pl.String, "outcome_on": pl.Date, "propensity": pl.Float64}


def visits(session: Session, *, event_type: str, until: dt.date) -> pl.DataFrame:
    """Visit tasks of events detected before ``until``, with what was known of them by then.

    ``assigned_on`` and ``outcome`` are null when they happened on or after
    ``until``; ``propensity`` is the probability the assignment gave the
    task its slot (null before exploration was logged).
    """
    rows = session.execute(
        select(Task.person_id, Task.village_code, Event.detected_on, Task.assigned_on, Task.outcome,
               Task.outcome_on, Task.propensity)
        .join(Event, Event.id == Task.event_id)
        .where(Task.kind == "home_visit", Event.event_type == event_type, Event.detected_on < until)
    ).all()
    frame = pl.DataFrame(rows, schema=VISIT_SCHEMA, orient="row")
    seen = pl.col("assigned_on").is_not_null() & (pl.col("assigned_on") < until)
    known = pl.col("outcome_on").is_not_null() & (pl.col("outcome_on") < until)
    return frame.with_columns(
        assigned_on=pl.when(seen).then(pl.col("assigned_on")),
        propensity=pl.when(seen).then(pl.col("propensity")),
        outcome=pl.when(known).then(pl.col("outcome")),
        outcome_on=pl.when(known).then(pl.col("outcome_on")),
    )
