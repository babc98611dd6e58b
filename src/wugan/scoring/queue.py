"""Who gets which waiting visit on a day: the queue rules, pure and vectorised over all villages.

Every day (the rules are data in ``rules/queues/visits.yaml``; the order is
``rules/visit_priority.yaml``):

1. **village**: each village's waiting tasks, by today's priority (deadlines
   come closer every day), fill the free visits its assistants have left this
   week. A share of the slots (``exploration.share``, 5%) goes at random to a
   hardship alert outside the top, and every assigned task records the
   probability the policy gave it a slot (``propensity``), so later training
   knows who was visited by chance and who by rank;
2. **township**: a task that has waited ``township_after_days`` while its
   village is full goes to an assistant of the same township with free visits;
3. **county office**: a task of a kind a phone call can settle that has waited
   ``county_office_after_days`` or whose deadline is ``county_office_before_deadline_days``
   away, or one the assistants could not reach ``unreachable_limit`` times,
   goes to the county office's phone follow-up (``weekly_calls`` a week per
   county).

``plan_day`` takes frames and returns who gets what, without a database: the
pipeline (``cases.capacity.assign_week``) and the replay evaluation
(``scoring.replay``) both call it, so the evaluation replays exactly the
queue the pipeline runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from wugan.errors import ConfigError

__all__ = [
    "QueueRules",
    "load_queue_rules",
    "week_of",
    "county_office",
    "draw",
    "exploration_propensity",
    "plan_day",
]


@dataclass(frozen=True)
class QueueRules:
    """``rules/queues/visits.yaml``."""

    township_after_days: int = 2
    county_office_after_days: int = 5
    county_office_before_deadline_days: int = 2
    county_office_kinds: tuple[str, ...] = ("account_refund", "pension_claim")
    county_office_weekly_calls: int = 40
    unreachable_limit: int = 3
    next_try_days: int = 2
    correction_days: int = 14
    explore_share: float = 0.05
    explore_kinds: tuple[str, ...] = ("home_visit",)


@cache
def _load(path: str, mtime_ns: int) -> QueueRules:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    r, c, t, x, e = (data.get(k) or {} for k in ("rebalance", "county_office", "retry", "correction", "exploration"))
    d = QueueRules()
    rules = QueueRules(
        township_after_days=int(r.get("township_after_days", d.township_after_days)),
        county_office_after_days=int(r.get("county_office_after_days", d.county_office_after_days)),
        county_office_before_deadline_days=int(r.get("county_office_before_deadline_days",
                                                     d.county_office_before_deadline_days)),
        county_office_kinds=tuple(r.get("county_office_kinds", d.county_office_kinds)),
        county_office_weekly_calls=int(c.get("weekly_calls", d.county_office_weekly_calls)),
        unreachable_limit=int(t.get("unreachable_limit", d.unreachable_limit)),
        next_try_days=int(t.get("next_try_days", d.next_try_days)),
        correction_days=int(x.get("window_days", d.correction_days)),
        explore_share=float(e.get("share", d.explore_share)),
        explore_kinds=tuple(e.get("kinds", d.explore_kinds)),
    )
    if not 0.0 <= rules.explore_share < 1.0:
        raise ConfigError(f"exploration.share must be within [0, 1), not {rules.explore_share}", path=path)
    for name in ("township_after_days", "county_office_after_days", "county_office_before_deadline_days",
                 "county_office_weekly_calls",
                 "unreachable_limit", "next_try_days", "correction_days"):
        if getattr(rules, name) < 0:
            raise ConfigError(f"{name} must not be negative", path=path)
    if rules.unreachable_limit < 1:
        raise ConfigError("retry.unreachable_limit must be at least 1", path=path)
    return rules


def load_queue_rules(rules_dir: Path | None = None) -> QueueRules:
    """The queue rules in ``<rules_dir>/queues/visits.yaml``; the defaults when the file is missing."""
    if rules_dir is None:
        from wugan.settings import get_settings

        rules_dir = get_settings().rules_dir
    path = Path(rules_dir) / "queues" / "visits.yaml"
    if not path.exists():
        return QueueRules()
    return _load(str(path), path.stat().st_mtime_ns)


def week_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def county_office(county: str) -> str:
    """The assignee id of a county office's phone follow-up."""
    return f"county:{county}"


def draw(*parts: object) -> float:
    """A uniform number in [0, 1) fixed by its key: a rerun of the same day draws the same."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _draws(keys: pl.Series) -> pl.Series:
    return keys.map_elements(lambda k: draw("wugan", k), return_dtype=pl.Float64)


def exploration_propensity(rank: np.ndarray, explorable: np.ndarray, free: int, share: float,
                           pool: np.ndarray) -> np.ndarray:
    """P(a task gets a slot) under the policy, for tasks of one village.

    ``rank`` 0-based by priority, ascending; ``free`` slots; each slot explores
    with probability ``share``: with ``k`` exploring slots the top ``free - k``
    ranks are taken and ``k`` explorable tasks of rank ≥ ``free - k`` are drawn
    uniformly (``pool[k]`` of them exist); slots the pool cannot fill go to the
    next ranks that are not explorable.
    """
    from math import comb

    order = np.argsort(rank, kind="stable")
    rank, explorable = rank[order], explorable[order]
    p = np.zeros(len(rank))
    for k in range(free + 1):
        weight = comb(free, k) * share**k * (1 - share) ** (free - k)
        if weight == 0.0:
            continue
        top = rank < free - k
        chance = min(1.0, k / pool[k]) if pool[k] > 0 else 0.0
        leftover = max(0, k - pool[k])
        rest = ~top & ~explorable
        backfill = rest & (np.cumsum(rest) <= leftover)
        p += weight * np.where(top | backfill, 1.0, np.where(explorable & ~top, chance, 0.0))
    out = np.empty_like(p)
    out[order] = p
    return out


def _free_slots(assistants: pl.DataFrame, used: pl.DataFrame) -> pl.DataFrame:
    """One row per free visit of each assistant: slot k of every assistant before slot k+1 of any."""
    free = (
        assistants.join(used, on="assistant_id", how="left")
        .with_columns(free=(pl.col("weekly_capacity") - pl.col("used").fill_null(0)).clip(lower_bound=0))
        .filter(pl.col("free") > 0)
    )
    if free.is_empty():
        return pl.DataFrame(schema={"village_code": pl.String, "assistant_id": pl.String, "slot": pl.Int64})
    return (free.with_columns(slot=pl.int_ranges(0, pl.col("free"))).explode("slot")
            .select("village_code", "assistant_id", pl.col("slot").cast(pl.Int64)))


def _village_step(backlog: pl.DataFrame, slots: pl.DataFrame, *, day: dt.date, rules: QueueRules) -> pl.DataFrame:
    """Each village's tasks into its own assistants' free slots, by priority, with the exploration share."""
    slots = slots.sort("village_code", "slot", "assistant_id").with_columns(
        pos=pl.int_range(pl.len()).over("village_code"))
    per_village = slots.group_by("village_code").agg(free=pl.len())
    ranked = backlog.join(per_village, on="village_code", how="inner").sort(
        ["village_code", "priority", "created_on", "id"], descending=[False, True, False, False]
    ).with_columns(rank=pl.int_range(pl.len()).over("village_code"),
                   explorable=pl.col("kind").is_in(list(rules.explore_kinds)))
    if ranked.is_empty():
        return ranked.with_columns(assistant_id=pl.lit(None, pl.String), propensity=pl.lit(None, pl.Float64),
                                   explored=pl.lit(False))
    # How many of each village's free slots explore today: one draw per slot.
    explore = slots.with_columns(
        x=_draws(pl.concat_str([pl.lit("explore"), pl.col("village_code"), pl.lit(str(day)),
                                pl.col("pos").cast(pl.String)], separator="|")) < rules.explore_share
    ).group_by("village_code").agg(k=pl.col("x").sum().cast(pl.Int64))
    ranked = ranked.join(explore, on="village_code", how="left").with_columns(pl.col("k").fill_null(0))
    top = ranked.filter(pl.col("rank") < pl.col("free") - pl.col("k"))
    pool = ranked.filter((pl.col("rank") >= pl.col("free") - pl.col("k")) & pl.col("explorable")).with_columns(
        u=_draws(pl.concat_str([pl.lit("pick"), pl.col("id"), pl.lit(str(day))], separator="|")))
    picked = pool.with_columns(r=pl.col("u").rank("ordinal").over("village_code")).filter(
        pl.col("r") <= pl.col("k")).drop("u", "r")
    # exploring slots the pool cannot fill go to the next ranks
    short = picked.group_by("village_code").agg(n=pl.len())
    rest = ranked.filter(pl.col("rank") >= pl.col("free") - pl.col("k")).join(picked.select("id"), on="id",
                                                                              how="anti")
    backfill = rest.join(short, on="village_code", how="left").filter(~pl.col("explorable")).sort(
        "village_code", "rank").with_columns(
        r=pl.int_range(pl.len()).over("village_code")).filter(
        pl.col("r") < pl.col("k") - pl.col("n").fill_null(0)).drop("n", "r")
    chosen = pl.concat([top.with_columns(explored=pl.lit(False)), backfill.with_columns(explored=pl.lit(False)),
                        picked.with_columns(explored=pl.lit(True))])
    chosen = chosen.sort(["village_code", "explored", "rank"]).with_columns(
        pos=pl.int_range(pl.len()).over("village_code"))
    given = chosen.join(slots.select("village_code", "pos", "assistant_id"), on=["village_code", "pos"])
    return given.with_columns(propensity=_propensities(ranked, given, rules)).drop("pos", "k", "free", "rank",
                                                                                  "explorable")


def _propensities(ranked: pl.DataFrame, given: pl.DataFrame, rules: QueueRules) -> pl.Series:
    """``exploration_propensity`` of each given task, village by village (few villages have free slots)."""
    out = dict.fromkeys(given["id"].to_list(), 1.0)
    if rules.explore_share == 0.0:
        return given["id"].replace_strict(out, return_dtype=pl.Float64)
    wanted = set(given["village_code"].to_list())
    for _, part in ranked.filter(pl.col("village_code").is_in(list(wanted))).group_by("village_code"):
        free = int(part["free"][0])
        rank = part["rank"].to_numpy()
        explorable = part["explorable"].to_numpy()
        pool = np.array([int((explorable & (rank >= free - k)).sum()) for k in range(free + 1)])
        p = exploration_propensity(rank, explorable, free, rules.explore_share, pool)
        out.update({i: float(v) for i, v in zip(part["id"].to_list(), p, strict=True) if i in out})
    return given["id"].replace_strict(out, return_dtype=pl.Float64)


def _fill(waiting: pl.DataFrame, slots: pl.DataFrame, *, group: str) -> pl.DataFrame:
    """Waiting tasks into free slots of their ``group`` (township or county), by priority."""
    if waiting.is_empty() or slots.is_empty():
        return waiting.clear().with_columns(assistant_id=pl.lit(None, pl.String))
    slots = slots.sort(group, "slot", "assistant_id").with_columns(pos=pl.int_range(pl.len()).over(group))
    ranked = waiting.sort([group, "priority", "created_on", "id"], descending=[False, True, False, False]
                          ).with_columns(pos=pl.int_range(pl.len()).over(group))
    return ranked.join(slots.select(group, "pos", "assistant_id"), on=[group, "pos"]).drop("pos")


def plan_day(backlog: pl.DataFrame, assistants: pl.DataFrame, used: pl.DataFrame, *, day: dt.date,
             rules: QueueRules) -> pl.DataFrame:
    """Who gets which waiting task on ``day``: the three steps, without a database.

    ``backlog`` has id, kind, village_code, priority (today's), created_on and
    queue; ``assistants`` assistant_id, village_code, weekly_capacity; ``used``
    assistant_id, used (visits already given this week, county offices
    included). Returns id, assistant_id, queue, propensity, explored, kind,
    priority — the pipeline and the replay evaluation both call this.
    """
    cols = ["id", "assistant_id", "queue", "propensity", "explored", "kind", "priority"]
    backlog = backlog.with_columns(waited=(pl.lit(day) - pl.col("created_on")).dt.total_days(),
                                   township=pl.col("village_code").str.slice(0, 9),
                                   county=pl.col("village_code").str.slice(0, 6))
    slots = _free_slots(assistants.select("assistant_id", "village_code", "weekly_capacity"), used)
    in_village = backlog.filter(pl.col("queue") != "county_office")
    given_v = _village_step(in_village, slots, day=day, rules=rules).with_columns(queue=pl.lit("village"))
    slots = slots.join(given_v.group_by("assistant_id").agg(n=pl.len()), on="assistant_id", how="left").filter(
        pl.col("slot") >= pl.col("n").fill_null(0)).drop("n")
    waiting = in_village.join(given_v.select("id"), on="id", how="anti")

    # 2. the township: a neighbour's free visits, for what has waited long enough
    late = waiting.filter(pl.col("waited") >= rules.township_after_days)
    given_t = _fill(late, slots.with_columns(township=pl.col("village_code").str.slice(0, 9)), group="township")
    given_t = given_t.with_columns(queue=pl.lit("township"), propensity=pl.lit(1.0), explored=pl.lit(False))
    waiting = waiting.join(given_t.select("id"), on="id", how="anti")

    # 3. the county office's phone follow-up
    to_county = pl.concat([
        backlog.filter(pl.col("queue") == "county_office"),
        waiting.filter(pl.col("kind").is_in(list(rules.county_office_kinds))
                       & ((pl.col("waited") >= rules.county_office_after_days)
                          | (pl.col("deadline") <= pl.lit(day) + pl.duration(
                              days=rules.county_office_before_deadline_days)).fill_null(False))),
    ])
    given_c = to_county.clear().with_columns(assistant_id=pl.lit(None, pl.String))
    if not to_county.is_empty() and rules.county_office_weekly_calls > 0:
        offices = to_county.select("county").unique().with_columns(
            assistant_id=pl.col("county").map_elements(county_office, return_dtype=pl.String),
            weekly_capacity=pl.lit(rules.county_office_weekly_calls, pl.Int64))
        office_slots = _free_slots(offices.rename({"county": "village_code"}), used).rename(
            {"village_code": "county"})
        given_c = _fill(to_county, office_slots, group="county")
    given_c = given_c.with_columns(queue=pl.lit("county_office"), propensity=pl.lit(1.0), explored=pl.lit(False))
    return pl.concat([g.select(cols).cast({"propensity": pl.Float64, "explored": pl.Boolean})
                      for g in (given_v, given_t, given_c)])
