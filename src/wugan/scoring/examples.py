"""The alerts a model learns from and is judged on: who was alerted, visited, found — with features.

Labels are the assistants' visit outcomes (``confirmed`` = 1; ``not_eligible``
and ``declined`` = 0; ``unreachable`` unknown): from the case store
(``wugan.cases.outcomes``: the one place the model reads the case store),
plus, on a synthetic city, the replayed history of visits
(``wugan.synth.visits.simulate_history``). Only visited alerts have labels and
who was visited depended on the priority of the time, so each labelled row is
weighted by the inverse of the probability the assignment gave it its slot —
logged for every visit, the randomised exploration share included — clipped
at ``MAX_WEIGHT``. Villages split by a hash of their code: ``VALIDATION_SHARE``
of them only ever judge.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import polars as pl

from wugan import lake
from wugan.scoring.features import build_features
from wugan.scoring.score import backfill_day
from wugan.settings import Settings

__all__ = [
    "HARDSHIP",
    "MAX_WEIGHT",
    "VALIDATION_SHARE",
    "in_validation",
    "label_expr",
    "labelled_examples",
    "propensity_weights",
    "store_visits",
    "with_features",
]

VALIDATION_SHARE = 0.3
MAX_WEIGHT = 20.0
HARDSHIP = "medical_hardship"


def store_visits(settings: Settings, *, until: dt.date) -> pl.DataFrame:
    """The case store's hardship visit tasks as known by ``until`` (``cases.outcomes.visits``)."""
    from wugan.cases.db import ensure_store, session_scope
    from wugan.cases.outcomes import visits

    with session_scope(ensure_store(settings.case_store_url)) as session:
        return visits(session, event_type=HARDSHIP, until=until)


def label_expr(outcome: str = "outcome") -> pl.Expr:
    """Visit outcome → label: confirmed 1, not_eligible/declined 0, anything else (unreachable, none) null."""
    return (pl.when(pl.col(outcome) == "confirmed").then(pl.lit(1, pl.Int8))
            .when(pl.col(outcome).is_in(["not_eligible", "declined"])).then(pl.lit(0, pl.Int8))
            .otherwise(pl.lit(None, pl.Int8)))


def in_validation(village: pl.Expr) -> pl.Expr:
    """True for validation villages: a stable hash of the code."""
    return village.map_elements(
        lambda v: int.from_bytes(hashlib.blake2b(v.encode(), digest_size=4).digest(), "big") / 2**32
        < VALIDATION_SHARE, return_dtype=pl.Boolean)


EXAMPLE_SCHEMA = {"person_id": pl.String, "village": pl.String, "detected_on": pl.Date, "visited": pl.Boolean,
                  "propensity": pl.Float64, "outcome": pl.String}


def labelled_examples(settings: Settings, *, until: dt.date) -> pl.DataFrame:
    """Every hardship alert detected before ``until`` with its visit outcome (null when unknown by then).

    ``as_of`` is the day features are computed for: the day after detection
    (detection sees the deliveries of its own day).
    """
    store = store_visits(settings, until=until)
    frames = [store.select("person_id", "detected_on", "propensity", "outcome", village="village_code",
                           visited=pl.col("assigned_on").is_not_null()).cast(EXAMPLE_SCHEMA).select(*EXAMPLE_SCHEMA)]
    replay = settings.home / "labels" / "history_visits.parquet"
    if replay.exists():
        hist = pl.read_parquet(replay).filter(pl.col("detected_on") < until)
        seen = pl.col("visited_on").is_not_null() & (pl.col("visited_on") < until)
        frames.append(hist.select("person_id", "detected_on", village="village_code", visited=seen,
                                  propensity=pl.when(seen).then(pl.col("propensity")),
                                  outcome=pl.when(seen).then(pl.col("outcome"))).cast(EXAMPLE_SCHEMA)
                      .select(*EXAMPLE_SCHEMA))
    return pl.concat(frames).with_columns(
        as_of=pl.col("detected_on") + pl.duration(days=1), label=label_expr()).sort("detected_on", "person_id")


def propensity_weights(examples: pl.DataFrame) -> pl.Series:
    """1 / the logged probability of the visit, clipped to [1, MAX_WEIGHT]; 1 where none was logged."""
    return (1 / examples["propensity"]).fill_null(1.0).fill_nan(MAX_WEIGHT).clip(1.0, MAX_WEIGHT).alias("weight")


def with_features(settings: Settings, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (person_id, as_of) with the model's features beside it, and sex, county, age for fairness."""
    con = lake.connect(settings)
    feats = build_features(con, frame.select("person_id", "as_of"), backfill=backfill_day(con))
    extra = [c for c in feats.columns if c not in ("person_id", "as_of") and c not in frame.columns]
    return pl.concat([frame, feats.select(extra)], how="horizontal")
