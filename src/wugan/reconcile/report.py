"""The take-up report: who the lake says is owed something that has not reached them, and why.

The reconciler's own difference, read without acting: every entitlement the
lake implies as of a day (each event type's desired state, for everyone),
compared with the case store. An entitlement is *reached* when its case is
open or done; otherwise the report says why not:

- ``late_data``: its data landed in batches the reconciler has not processed
  yet, or its date came after the reconciler's last pass (the next run acts
  on it);
- ``opted_out``: the citizen refused the service;
- ``held``: an instant approval the guardrails hold for a person to release;
- ``waiting_capacity``: a visit in the backlog, beyond this week's capacity;
- ``visit_assigned``: a visit given to an assistant, not yet made;
- ``not_detected``: none of the above (should be zero; a reconciler fault).

Quarantined rows and refused files that could hold an entitlement (a birth,
a death) cannot be counted as entitlements, because their data is unusable:
they are listed apart as the open data-quality items, with file, line and
reason. The back office reads this every morning; the analyst page shows it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import select

from wugan import lake
from wugan.cases.db import session_scope
from wugan.cases.models import Alert, Decision, Event, OptOut, Task
from wugan.events import EVENT_TYPES, Scope, desired
from wugan.lake.ingest import write_parquet
from wugan.lake.ledger import manifest
from wugan.reconcile.changes import last_pass, pending, read_offset, touched
from wugan.reconcile.quality import KIND as QUALITY
from wugan.settings import Settings

__all__ = ["TakeUp", "take_up", "REASONS", "write_report", "latest_report"]

REASONS = {
    "reached": "已办理",
    "late_data": "数据晚到，待下次运行",
    "opted_out": "本人已退订",
    "held": "秒批暂缓，待后台放行",
    "waiting_capacity": "等待走访（超出本周协理员能力）",
    "visit_assigned": "已派协理员，尚未走访",
    "not_detected": "未发现（需排查）",
}


@dataclass
class TakeUp:
    as_of: dt.date
    entitlements: pl.DataFrame  # event_type, key, person_id, village_code, event_date, reason
    quality: pl.DataFrame  # open data-quality items: department, table, file, line, field, reason

    def counts(self) -> pl.DataFrame:
        """Per type, village and reason: the table an analyst and the back office read."""
        return (self.entitlements.group_by("event_type", "village_code", "reason").agg(entitlements=pl.len())
                .sort("event_type", "village_code", "reason"))

    def by_type(self) -> pl.DataFrame:
        """Per type: how many are owed, reached, and each reason of a gap."""
        wide = self.entitlements.group_by("event_type").agg(
            owed=pl.len(), **{r: (pl.col("reason") == r).sum() for r in REASONS})
        return wide.sort("event_type")

    def gaps(self) -> pl.DataFrame:
        return self.entitlements.filter(pl.col("reason") != "reached")


def _store_state(url: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, dict[str, tuple]]:
    with session_scope(url) as session:
        events = session.execute(select(Event.key, Event.id, Event.event_type)).all()
        routes = session.execute(select(Decision.event_id, Decision.review).where(
            Decision.route.not_in(["correction", "reversal"]))).all()
        tasks = session.execute(select(Task.event_id, Task.status)).all()
        opted = session.execute(select(OptOut.person_id, OptOut.service)).all()
        quality = session.execute(select(Alert.department, Alert.details).where(
            Alert.kind == QUALITY, Alert.status == "open")).all()
        offsets = {t: (read_offset(session, detector=t, scope="all"), last_pass(session, detector=t, scope="all"))
                   for t in EVENT_TYPES}
    ev = pl.DataFrame(events, schema={"key": pl.String, "event_id": pl.String, "stored_type": pl.String},
                      orient="row")
    state = (ev.join(pl.DataFrame(routes, schema={"event_id": pl.String, "review": pl.String}, orient="row"),
                     on="event_id", how="left")
             .join(pl.DataFrame(tasks, schema={"event_id": pl.String, "task": pl.String}, orient="row")
                   .group_by("event_id").agg(
                       waiting=(pl.col("task") == "backlog").any(), assigned=(pl.col("task") == "assigned").any()),
                   on="event_id", how="left"))
    opt = pl.DataFrame(opted, schema={"person_id": pl.String, "service": pl.String}, orient="row")
    q = pl.DataFrame([{"department": d, **(details or {})} for d, details in quality],
                     schema={"department": pl.String, "table": pl.String, "file": pl.String, "line": pl.Int64,
                             "field": pl.String, "value": pl.String, "reason": pl.String})
    return state, opt, q, offsets


def take_up(settings: Settings, *, url: str, as_of: dt.date) -> TakeUp:
    state, opt, quality, offsets = _store_state(url)
    found = manifest(settings.lake)
    con = lake.connect(settings, found)
    days = found["day"].drop_nulls()
    scope = Scope(today=as_of, first_day=days.min() if days.len() else as_of)
    con.register("existing", pl.DataFrame(schema={"key": pl.String}).to_arrow())
    con.register("opt_outs", pl.DataFrame(schema={"person_id": pl.String, "service": pl.String}).to_arrow())
    frames = []
    for event_type in EVENT_TYPES:
        owed = desired(con, event_type, scope, rules_dir=settings.rules_dir, only_due=True)
        offset, ran = offsets[event_type]
        changes = pending(settings.lake, offset, as_of)
        if changes.first_run:
            late = owed["person_id"]
        elif changes.empty:
            late = pl.Series("person_id", [], pl.String)
        else:
            touched(con, settings.lake, changes)
            late = con.sql("SELECT person_id FROM touched").pl()["person_id"]
        refused = opt.filter(pl.col("service").is_in([event_type, "all"]))["person_id"]
        frames.append(owed.select("event_type", "key", "person_id", "village_code", "event_date", "seen").join(
            state, on="key", how="left").with_columns(
            reason=pl.when(pl.col("event_id").is_not_null()).then(
                pl.when(pl.col("review") == "held").then(pl.lit("held"))
                .when(pl.col("waiting").fill_null(False)).then(pl.lit("waiting_capacity"))
                .when(pl.col("assigned").fill_null(False)).then(pl.lit("visit_assigned"))
                .otherwise(pl.lit("reached")))
            .when(pl.col("person_id").is_in(refused.implode())).then(pl.lit("opted_out"))
            .when(pl.col("person_id").is_in(late.implode())
                  | (pl.col("seen") > (ran or dt.date.min))).then(pl.lit("late_data"))
            .otherwise(pl.lit("not_detected")),
        ).select("event_type", "key", "person_id", "village_code", "event_date", "reason"))
    return TakeUp(as_of=as_of, entitlements=pl.concat(frames), quality=quality)


def _folder(settings: Settings) -> Path:
    return settings.home / "reports" / "take_up"


def write_report(settings: Settings, report: TakeUp, output: Path | None = None) -> Path:
    """The counts as Parquet (or CSV by suffix); by default ``<home>/reports/take_up/<day>.parquet``."""
    path = output or _folder(settings) / f"{report.as_of.isoformat()}.parquet"
    counts = report.counts().with_columns(as_of=pl.lit(report.as_of))
    if path.suffix == ".csv":
        path.parent.mkdir(parents=True, exist_ok=True)
        counts.write_csv(path)
        return path
    return write_parquet(counts, path)


def latest_report(settings: Settings) -> pl.DataFrame | None:
    """The most recent report the pipeline wrote, for the analyst page."""
    files = sorted(_folder(settings).glob("*.parquet"))
    return pl.read_parquet(files[-1]) if files else None
