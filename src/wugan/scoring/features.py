"""Features of a person as of a date, from the lake, with nothing from that date on.

A row of the lake is visible as of ``D`` when it is *dated* before ``D`` (claim,
benefit start, registration) and was *delivered* before ``D``. The one
exception is the initial backfill: rows delivered on ``backfill`` (the lake's
first delivery day, which carries the claims history) count as known on the
day they are dated, as they would have been had the system run then; without
``backfill`` the rule is strict. ``tests/scoring/test_features.py`` proves that
rows dated or delivered on or after ``D`` change nothing.

Features (one row per request row, in request order):

- the largest single claim of the last 365 days: its total, its out-of-pocket
  share and its inpatient days (the acute episode, whatever came after);
- for each diagnosis group of ``rules/diagnoses/disabling.yaml`` whether a
  claim of the group was made in the 365 days, and ``disabling_dx`` (any);
- age, household size, ``lives_alone``, ``low_income`` (dibao/tekun), the
  number and monthly amount of benefits in payment, disability registration
  and grade (0 when not registered).

Robust to the first-run backlog: a first run alerts people whose diagnosis is
months old, with rehabilitation claims and spending piled up since, while the
daily alerts the model learns from mostly come on the day of the diagnosis.
So no feature grows with the time since the onset: no counts of claims, of
rehabilitation, of days in hospital, no sums of spending, no time since the
diagnosis; a group is there or not, and the acute episode is its largest
claim. ``oop_share`` (the 12-month out-of-pocket spending over the village's
previous-year income) is returned for the priority scale's prior and
forced-visit rule, not used by the model.

``sex`` and ``county`` are returned for fairness reports, never used by the model.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from wugan.events.hardship import disabling_groups

__all__ = [
    "FEATURES",
    "BASELINE_FEATURES",
    "DX_GROUPS",
    "build_features",
    "dx_group_expr",
]

LOW_INCOME = ("dibao", "tekun")
DX_GROUPS: dict[str, tuple[str, ...]] = disabling_groups()
OOP_SHARE_CAP = 5.0

FEATURES: list[str] = [
    "max_total_365d",
    "max_oop_365d",
    "max_stay_days_365d",
    *[f"dx_{g}" for g in DX_GROUPS],
    "disabling_dx",
    "age",
    "household_size",
    "lives_alone",
    "low_income",
    "benefits_n",
    "benefits_monthly",
    "disability_registered",
    "disability_grade",
]
# the simple baseline every model is judged against: a logistic regression on five of them
BASELINE_FEATURES: list[str] = ["disabling_dx", "max_stay_days_365d", "age", "lives_alone", "low_income"]


def dx_group_expr(column: str = "icd10") -> pl.Expr:
    """The diagnosis group of an ICD-10 code, or null."""
    expr = pl.lit(None, pl.String)
    for group, prefixes in reversed(DX_GROUPS.items()):
        hit = pl.any_horizontal([pl.col(column).str.starts_with(p) for p in prefixes])
        expr = pl.when(hit).then(pl.lit(group)).otherwise(expr)
    return expr


def _delivered(backfill: dt.date | None, *, table: str = "t", req: str = "r") -> str:
    """SQL: delivered before the request's as_of (or in the backfill)."""
    sql = f"{table}._delivered < {req}.as_of"
    if backfill is not None:
        sql = f"({sql} OR {table}._delivered <= DATE '{backfill.isoformat()}')"
    return sql


def _visible(date_col: str, backfill: dt.date | None) -> str:
    """SQL: dated before the request's as_of and delivered before it (or in the backfill)."""
    return f"t.{date_col} < r.as_of AND {_delivered(backfill)}"


def build_features(con: duckdb.DuckDBPyConnection, requests: pl.DataFrame, *,
                   backfill: dt.date | None = None) -> pl.DataFrame:
    """Features for ``requests`` (person_id, as_of: Date), one row each, in order.

    ``con`` is a lake connection (``wugan.lake.connect``). The lake tables are
    read with SQL filters that enforce visibility; the features are computed in
    polars.
    """
    req = requests.select(pl.col("person_id").cast(pl.String), pl.col("as_of").cast(pl.Date)).with_row_index("_row")
    if req.is_empty():
        return req.with_columns([pl.lit(None, pl.Float64).alias(f) for f in FEATURES])
    keys = req.select("person_id", "as_of").unique()
    con.register("_feature_requests", keys.to_arrow())
    try:
        claims = con.sql(f"""
            SELECT r.person_id, r.as_of, t.claim_date, t.icd10, t.total::DOUBLE AS total,
                   t.out_of_pocket::DOUBLE AS oop, t.inpatient_days, t.rehab
            FROM _feature_requests r JOIN claims t USING (person_id)
            WHERE t.claim_date >= r.as_of - INTERVAL 365 DAY AND {_visible("claim_date", backfill)}
        """).pl()
        persons = con.sql(f"""
            SELECT r.person_id, r.as_of, arg_max(t.birth_date, t._delivered) AS birth_date,
                   arg_max(t.sex, t._delivered) AS sex, arg_max(t.household_id, t._delivered) AS household_id,
                   arg_max(t.hukou_village, t._delivered) AS village
            FROM _feature_requests r JOIN persons t USING (person_id)
            WHERE {_delivered(backfill)}
            GROUP BY ALL
        """).pl()
        households = con.sql(f"""
            WITH hh AS (
                SELECT DISTINCT r.as_of, t.household_id
                FROM _feature_requests r JOIN persons t USING (person_id)
                WHERE {_delivered(backfill)}
            )
            SELECT hh.as_of, hh.household_id, count(DISTINCT t.person_id) AS household_size
            FROM hh JOIN persons t ON t.household_id = hh.household_id
            WHERE {_delivered(backfill, req="hh")}
              AND NOT EXISTS (SELECT 1 FROM deaths d WHERE d.person_id = t.person_id
                              AND d.death_date < hh.as_of AND {_delivered(None, table="d", req="hh")})
            GROUP BY ALL
        """).pl()
        benefits = con.sql(f"""
            SELECT r.person_id, r.as_of, count(*) AS benefits_n,
                   sum(t.monthly_amount)::DOUBLE AS benefits_monthly,
                   bool_or(t.benefit IN {LOW_INCOME}) AS low_income
            FROM _feature_requests r JOIN benefits t USING (person_id)
            WHERE {_visible("start_date", backfill)}
            GROUP BY ALL
        """).pl()
        registry = con.sql(f"""
            SELECT r.person_id, r.as_of, min(t.grade) AS disability_grade
            FROM _feature_requests r JOIN disability_registry t USING (person_id)
            WHERE {_visible("registered_date", backfill)}
            GROUP BY ALL
        """).pl()
        income = con.sql(f"""
            SELECT r.person_id, r.as_of, arg_max(g.income_prev_year, g._delivered)::DOUBLE AS income_prev_year
            FROM _feature_requests r JOIN persons t USING (person_id)
            JOIN regions g ON g.region_code = t.hukou_village
            WHERE {_delivered(backfill)} AND {_delivered(backfill, table="g")}
            GROUP BY ALL
        """).pl()
    finally:
        con.unregister("_feature_requests")
    return _assemble(req, claims, persons, households, benefits, registry, income)


def _assemble(req, claims, persons, households, benefits, registry, income) -> pl.DataFrame:
    keys = ["person_id", "as_of"]
    claims = claims.with_columns(dx=dx_group_expr())
    agg = claims.group_by(keys).agg(
        pl.col("oop").sum().alias("oop_365d"),
        pl.col("total").max().alias("max_total_365d"),
        pl.col("oop").max().alias("max_oop_365d"),
        pl.col("inpatient_days").max().alias("max_stay_days_365d"),
        *[(pl.col("dx") == g).any().cast(pl.Int8).alias(f"dx_{g}") for g in DX_GROUPS],
    )
    people = persons.join(households, on=["as_of", "household_id"], how="left").join(income, on=keys, how="left")
    out = (
        req.join(agg, on=keys, how="left")
        .join(people, on=keys, how="left")
        .join(benefits, on=keys, how="left")
        .join(registry, on=keys, how="left")
        .sort("_row")
    )
    count_cols = [c for c in agg.columns if c not in keys]
    return out.with_columns(
        [pl.col(c).fill_null(0).cast(pl.Float64) for c in count_cols],
    ).with_columns(
        disabling_dx=pl.sum_horizontal([pl.col(f"dx_{g}") for g in DX_GROUPS]).gt(0).cast(pl.Float64),
        oop_share=(pl.col("oop_365d") / pl.col("income_prev_year")).fill_null(0.0).fill_nan(0.0)
        .clip(0.0, OOP_SHARE_CAP),
        age=((pl.col("as_of") - pl.col("birth_date")).dt.total_days() / 365.25).cast(pl.Float64),
        household_size=pl.col("household_size").fill_null(1).cast(pl.Float64),
        lives_alone=(pl.col("household_size").fill_null(1) == 1).cast(pl.Float64),
        low_income=pl.col("low_income").fill_null(False).cast(pl.Float64),
        benefits_n=pl.col("benefits_n").fill_null(0).cast(pl.Float64),
        benefits_monthly=pl.col("benefits_monthly").fill_null(0.0).cast(pl.Float64),
        disability_registered=pl.col("disability_grade").is_not_null().cast(pl.Float64),
        disability_grade=pl.col("disability_grade").fill_null(0).cast(pl.Float64),
        county=pl.col("village").str.slice(0, 6),
    ).select("person_id", "as_of", *FEATURES, "oop_share", "sex", "county", "village", "income_prev_year")
