"""A ranking judged the way it is used: the daily queue replayed with real capacities and arrival order.

``replay`` runs the pipeline's own assignment (``scoring.queue.plan_day``:
each village's free visits of the week by priority, the exploration share,
a same-township assistant after a wait) day by day over a window whose first
day carries the first-run backlog and whose later days bring alerts as they
were raised. Nothing is summed over the window: a visit used in week 1 is
gone, a late alert finds the week full.

``judge`` reads what a replay did against labels — the synthetic city's
hidden truth (eligible, and from which day: a visit before the onset confirms
nothing), or the visit outcomes people recorded — as the figures a
deployment is judged by: eligible people visited in week 1 and in month 1,
days from onset to visit, calibration of the scores on the alerts actually
scored, and recall by county, sex and age band.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from wugan.scoring.queue import QueueRules, plan_day, week_of

__all__ = ["ALERT_SCHEMA", "Replay", "replay", "judge", "ece", "AGE_BANDS", "age_band"]

ALERT_SCHEMA = {"id": pl.String, "village_code": pl.String, "arrived": pl.Date, "priority": pl.Float64}
AGE_BANDS = [(0, 45, "<45"), (45, 65, "45-64"), (65, 80, "65-79"), (80, 200, "80+")]
WEEK, MONTH = 7, 30


@dataclass
class Replay:
    """What a replay gave out: one row per alert with ``visited_on`` (null: still waiting at the end)."""

    alerts: pl.DataFrame
    start: dt.date
    days: int


def replay(alerts: pl.DataFrame, assistants: pl.DataFrame, *, start: dt.date, days: int,
           rules: QueueRules | None = None, kind: str = "home_visit") -> Replay:
    """Replay ``days`` days from ``start``: each day the waiting alerts fill the week's free visits.

    ``alerts`` has id, village_code, arrived (the day the alert was raised;
    the first-run backlog arrives on ``start``) and priority (higher first);
    ``assistants`` assistant_id, village_code, weekly_capacity. A visit
    counts on the day it is given out.
    """
    rules = rules or QueueRules()
    frame = alerts.select(*ALERT_SCHEMA).cast(ALERT_SCHEMA)
    waiting = frame.select("id", "village_code", "priority", created_on="arrived", kind=pl.lit(kind),
                           queue=pl.lit("village"), deadline=pl.lit(None, pl.Date))
    given_all: list[pl.DataFrame] = []
    used = pl.DataFrame(schema={"assistant_id": pl.String, "used": pl.Int64})
    week = None
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        if week_of(day) != week:
            week = week_of(day)
            used = used.clear()
        today = waiting.filter(pl.col("created_on") <= day)
        if today.is_empty():
            continue
        given = plan_day(today, assistants, used, day=day, rules=rules)
        if given.is_empty():
            continue
        given_all.append(given.select("id", "propensity", "explored", "queue", visited_on=pl.lit(day)))
        used = pl.concat([used, given.group_by("assistant_id").agg(used=pl.len().cast(pl.Int64))]).group_by(
            "assistant_id").agg(pl.col("used").sum())
        waiting = waiting.join(given.select("id"), on="id", how="anti")
    visits = pl.concat(given_all) if given_all else pl.DataFrame(
        schema={"id": pl.String, "propensity": pl.Float64, "explored": pl.Boolean, "queue": pl.String,
                "visited_on": pl.Date})
    return Replay(alerts=alerts.join(visits.rename({"queue": "visit_queue"}), on="id", how="left"),
                  start=start, days=days)


def ece(y: np.ndarray, p: np.ndarray, *, bins: int = 10) -> float:
    """Expected calibration error over equal-width probability bins."""
    if len(y) == 0:
        return float("nan")
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() / len(y) * abs(y[m].mean() - p[m].mean())
    return float(total)


def age_band(age: pl.Expr) -> pl.Expr:
    expr = pl.lit(None, pl.String)
    for lo, hi, name in reversed(AGE_BANDS):
        expr = pl.when((age >= lo) & (age < hi)).then(pl.lit(name)).otherwise(expr)
    return expr


def judge(result: Replay, *, score: str | None = None) -> dict:
    """The figures of one replay. ``result.alerts`` needs ``eligible`` (bool, null: unknown) and ``onset``
    (the day eligibility starts; null with eligible means: from before the window); for fairness ``county``,
    ``sex``, ``age``. ``score`` names a probability column to judge the calibration of."""
    a = result.alerts.with_columns(
        found=pl.col("eligible").fill_null(False) & pl.col("visited_on").is_not_null()
        & (pl.col("onset").is_null() | (pl.col("onset") <= pl.col("visited_on"))),
        day=(pl.col("visited_on") - pl.lit(result.start)).dt.total_days(),
    )
    eligible = a.filter(pl.col("eligible").fill_null(False))
    in_week = a.filter(pl.col("found") & (pl.col("day") < WEEK))
    in_month = a.filter(pl.col("found") & (pl.col("day") < MONTH))
    delay = in_month.with_columns(d=(pl.col("visited_on") - pl.col("onset")).dt.total_days())
    fresh = delay.filter(pl.col("onset") >= pl.lit(result.start))
    out = {
        "alerts": a.height,
        "eligible_alerted": eligible.height,
        "visits_month_1": int(a.filter(pl.col("day") < MONTH).height),
        "explored": int(a["explored"].fill_null(False).sum()),
        "eligible_visited_week_1": in_week.height,
        "eligible_visited_month_1": in_month.height,
        "recall_month_1": in_month.height / eligible.height if eligible.height else float("nan"),
        "onset_to_visit_median_days": _q(delay["d"], 0.5),
        "onset_to_visit_p90_days": _q(delay["d"], 0.9),
        "in_window_onset_to_visit_median_days": _q(fresh["d"], 0.5),
        "in_window_onsets_visited": fresh.height,
    }
    if score is not None:
        known = a.filter(pl.col("eligible").is_not_null() & pl.col(score).is_not_null())
        y = (known["eligible"] & (known["onset"].is_null() | (known["onset"] <= known["arrived"]))).to_numpy()
        p = known[score].to_numpy().astype(float)
        both = 0 < y.sum() < len(y)
        out["roc_auc"] = float(roc_auc_score(y, p)) if both else float("nan")
        out["ece"] = ece(y.astype(float), p)
        out["scored"] = int(len(y))
    if {"county", "sex", "age"} <= set(a.columns):
        out["recall_by"] = _recall_by(a.with_columns(age_band=age_band(pl.col("age"))))
    return out


def _q(values: pl.Series, q: float) -> float | None:
    v = values.drop_nulls()
    return float(v.quantile(q, interpolation="nearest")) if v.len() else None


def _recall_by(a: pl.DataFrame) -> dict[str, dict[str, dict]]:
    """Eligible people visited in month 1 over eligible people alerted, per county, sex and age band."""
    out: dict[str, dict[str, dict]] = {}
    month = pl.col("found") & (pl.col("day") < MONTH)
    for by in ("county", "sex", "age_band"):
        groups = a.filter(pl.col("eligible").fill_null(False)).group_by(by).agg(
            eligible=pl.len(), visited=month.sum()).sort(by)
        out[by] = {str(r[by]): {"eligible": r["eligible"], "visited": r["visited"],
                                "recall": r["visited"] / r["eligible"] if r["eligible"] else float("nan")}
                   for r in groups.iter_rows(named=True)}
    return out
