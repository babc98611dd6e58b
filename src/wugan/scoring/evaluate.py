"""The model judged as it is used: four orders of the same alerts through the same replayed queue.

On a window's alerts — the first-run backlog on its first day, then the
alerts as they were raised — ``report`` replays the daily assignment
(``replay``) four times, ordered by:

- ``rule``: the one priority scale without a model (the rule set's priors);
- ``logistic``: the scale with a five-feature logistic regression's probability;
- ``champion`` (or the named version): the scale with the model's probability;
- ``ceiling``: the synthetic city's hidden truth, eligible people first.

The three real orders run with the exploration share the pipeline uses; the
ceiling does not explore. Two windows: ``validation`` (a model's own
held-out villages and days, a first run on its cut) and ``pipeline`` (the
alerts the pipeline raised, as they arrived, with the village capacities of
the lake). Promotion (``promote``) requires the challenger to visit more
eligible people in month 1 than both the rule and the logistic regression,
and at least as many as the champion, on the challenger's validation replay.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import polars as pl

from wugan import lake
from wugan.errors import InputError, ModelError
from wugan.scoring.examples import in_validation, labelled_examples, store_visits, with_features
from wugan.scoring.features import BASELINE_FEATURES, FEATURES
from wugan.scoring.queue import QueueRules, load_queue_rules
from wugan.scoring.replay import Replay, judge, replay
from wugan.scoring.score import NAME, champion, load_model, predict, priority_at, set_champion
from wugan.settings import Settings

__all__ = ["POLICIES", "pipeline_alerts", "validation_alerts", "replays", "report", "validation_report",
           "window_replays", "evaluate", "promote", "beats"]

POLICIES = ("rule", "logistic", "champion", "ceiling")
BACKLOG_DAYS = 365


def _assistants(settings: Settings, villages: pl.Series | None = None) -> pl.DataFrame:
    frame = lake.connect(settings).sql(
        "SELECT assistant_id, village_code, weekly_capacity::BIGINT AS weekly_capacity FROM assistants").pl()
    return frame if villages is None else frame.filter(pl.col("village_code").is_in(villages.implode()))


def _truth(settings: Settings, alerts: pl.DataFrame) -> pl.DataFrame:
    """Labels: the synthetic truth (eligible, from its onset) when there is one, else the visit outcomes."""
    path = settings.truth / "persons.parquet"
    if path.exists():
        truth = pl.read_parquet(path, columns=["person_id", "eligible", "hardship_onset"]).rename(
            {"hardship_onset": "onset"})
        return alerts.drop("eligible", "onset", strict=False).join(truth, on="person_id", how="left").with_columns(
            pl.col("eligible").fill_null(False))
    return alerts.with_columns(onset=pl.lit(None, pl.Date)) if "onset" not in alerts.columns else alerts


def pipeline_alerts(settings: Settings, *, start: dt.date | None = None,
                    end: dt.date | None = None) -> tuple[pl.DataFrame, dt.date, int]:
    """The hardship alerts the pipeline raised in [start, end], each arriving on its detection day."""
    store = store_visits(settings, until=dt.date.max)
    if store.is_empty():
        raise ModelError("the case store holds no hardship alerts to replay",
                         hint="run the pipeline first, or evaluate with --window validation")
    start = start or store["detected_on"].min()
    end = end or store["detected_on"].max()
    alerts = store.filter(pl.col("detected_on").is_between(start, end)).select(
        "person_id", "village_code", arrived="detected_on",
        eligible=pl.when(pl.col("outcome") == "confirmed").then(True)
        .when(pl.col("outcome").is_in(["not_eligible", "declined"])).then(False))
    return alerts, start, (end - start).days + 1


def validation_alerts(settings: Settings, *, cut: dt.date, as_of: dt.date) -> pl.DataFrame:
    """A first run on ``cut`` in the validation villages: everyone alerted in the year before arrives on
    ``cut`` (the backlog), the alerts of [cut, as_of) on their day."""
    examples = labelled_examples(settings, until=as_of).filter(in_validation(pl.col("village")))
    backlog = examples.filter(pl.col("detected_on").is_between(cut - dt.timedelta(days=BACKLOG_DAYS), cut,
                                                               closed="left"))
    backlog = backlog.sort("detected_on").unique("person_id", keep="last").with_columns(detected_on=pl.lit(cut))
    later = examples.filter(pl.col("detected_on") >= cut).join(backlog.select("person_id"), on="person_id",
                                                               how="anti")
    later = later.sort("detected_on").unique("person_id", keep="first")
    return pl.concat([backlog, later]).select(
        "person_id", village_code="village", arrived="detected_on",
        eligible=pl.col("label").cast(pl.Boolean)).sort("arrived", "person_id")


def _ordered(settings: Settings, alerts: pl.DataFrame, *, models: dict[str, object]) -> pl.DataFrame:
    """Alerts with features (as of the day after arrival) and each policy's probability and priority."""
    frame = with_features(settings, alerts.with_columns(as_of=pl.col("arrived") + pl.duration(days=1)))
    frame = frame.with_row_index("_n").with_columns(id=pl.col("_n").cast(pl.String).str.zfill(9)).drop("_n")
    scale = frame.select(kind=pl.lit("home_visit"), disabling_diagnosis=pl.col("disabling_dx") > 0,
                         oop_share="oop_share", lives_alone=pl.col("lives_alone") > 0, event_date="arrived",
                         arrived="arrived")
    out = {"rule": None}
    for policy, (model, features) in models.items():
        out[policy] = pl.Series(predict(model, frame, features), dtype=pl.Float64)
    for policy, probability in out.items():
        ranked = priority_at(scale.with_columns(probability=probability if probability is not None
                                                else pl.lit(None, pl.Float64)),
                             as_of="arrived", rules_dir=settings.rules_dir)
        frame = frame.with_columns(ranked["priority"].alias(f"priority_{policy}"))
        if probability is not None:
            frame = frame.with_columns(probability.alias(f"score_{policy}"))
    return frame.with_columns(priority_ceiling=pl.col("eligible").fill_null(False).cast(pl.Float64))


def replays(settings: Settings, alerts: pl.DataFrame, *, start: dt.date, days: int, models: dict[str, object],
            rules: QueueRules | None = None) -> tuple[pl.DataFrame, dict[str, Replay], QueueRules]:
    """The alerts with each policy's scores, and each policy's replay of the queue."""
    rules = rules or load_queue_rules(settings.rules_dir)
    frame = _ordered(settings, _truth(settings, alerts), models=models)
    assistants = _assistants(settings, frame["village_code"].unique())
    done = {}
    for policy in ("rule", *models, "ceiling"):
        used = rules if policy != "ceiling" else replace(rules, explore_share=0.0)
        done[policy] = replay(frame.with_columns(priority=pl.col(f"priority_{policy}")), assistants, start=start,
                              days=days, rules=used)
    return frame.with_columns(weekly_capacity=pl.lit(int(assistants["weekly_capacity"].sum()))), done, rules


def report(settings: Settings, alerts: pl.DataFrame, *, start: dt.date, days: int, models: dict[str, object],
           rules: QueueRules | None = None) -> dict:
    """Each policy's replay judged: the table ``wugan model evaluate`` prints."""
    frame, done, rules = replays(settings, alerts, start=start, days=days, models=models, rules=rules)
    rows = {policy: judge(r, score=f"score_{policy}" if f"score_{policy}" in frame.columns else None)
            for policy, r in done.items()}
    return {"start": start.isoformat(), "days": days, "alerts": frame.height,
            "villages": frame["village_code"].n_unique(), "capacity_per_week": int(frame["weekly_capacity"][0]),
            "exploration_share": rules.explore_share, "rows": rows}


def window_replays(settings: Settings, *, version: str | None = None, window: str = "pipeline",
                   cut: dt.date | None = None, as_of: dt.date | None = None,
                   name: str = NAME) -> tuple[pl.DataFrame, dict[str, Replay]]:
    """``evaluate``'s replays themselves, for plots: the scored alerts and each policy's replay."""
    version = version or champion(settings, name=name)
    if version is None:
        raise ModelError(f"no model named; and no champion under {settings.models_dir}/{name}",
                         hint="name a version, or train one and promote it")
    if window == "validation":
        saved = json.loads((Path(settings.models_dir) / name / version / "metrics.json").read_text(encoding="utf-8"))
        cut = cut or dt.date.fromisoformat(saved["cut"])
        as_of = as_of or dt.date.fromisoformat(saved["as_of"])
        alerts, start, days = validation_alerts(settings, cut=cut, as_of=as_of), cut, max(1, (as_of - cut).days)
    else:
        alerts, start, days = pipeline_alerts(settings, start=cut, end=as_of)
    frame, done, _ = replays(settings, alerts, start=start, days=days, models=_models(settings, version, name))
    return frame, done


def _models(settings: Settings, version: str, name: str = NAME) -> dict[str, object]:
    path = Path(settings.models_dir) / name / version
    return {"logistic": (load_model(path / "baseline.skops"), BASELINE_FEATURES),
            "champion": (load_model(path / "model.skops"), FEATURES)}


def validation_report(settings: Settings, *, version: str, cut: dt.date, as_of: dt.date, name: str = NAME,
                      extra: dict[str, str] | None = None) -> dict:
    """A version (and its baseline) replayed on the first run of [cut, as_of) in the validation villages.

    ``extra``: other versions to replay beside it, policy name → version."""
    alerts = validation_alerts(settings, cut=cut, as_of=as_of)
    models = _models(settings, version, name)
    for policy, other in (extra or {}).items():
        models[policy] = _models(settings, other, name)["champion"]
    days = max(1, (as_of - cut).days)
    return {"window": "validation", "version": version, **report(settings, alerts, start=cut, days=days,
                                                                 models=models)}


def evaluate(settings: Settings, *, version: str | None = None, window: str = "pipeline",
             cut: dt.date | None = None, as_of: dt.date | None = None, name: str = NAME) -> dict:
    """A version (the champion by default) next to the rule, the logistic regression and the ceiling.

    ``window='pipeline'``: the alerts the pipeline raised (from ``cut`` to
    ``as_of``, default all); ``'validation'``: the version's own held-out
    replay (default its cut and as-of).
    """
    version = version or champion(settings, name=name)
    if version is None:
        raise ModelError(f"no model named; and no champion under {settings.models_dir}/{name}",
                         hint="name a version, or train one and promote it")
    if window == "validation":
        saved = json.loads((Path(settings.models_dir) / name / version / "metrics.json").read_text(encoding="utf-8"))
        return validation_report(settings, version=version, name=name,
                                 cut=cut or dt.date.fromisoformat(saved["cut"]),
                                 as_of=as_of or dt.date.fromisoformat(saved["as_of"]))
    if window != "pipeline":
        raise InputError(f"window is 'pipeline' or 'validation', not {window!r}")
    alerts, start, days = pipeline_alerts(settings, start=cut, end=as_of)
    return {"window": "pipeline", "version": version,
            **report(settings, alerts, start=start, days=days, models=_models(settings, version, name))}


def _key(row: dict) -> tuple[int, int]:
    return row["eligible_visited_month_1"], row["eligible_visited_week_1"]


def beats(rows: dict, challenger: str, other: str) -> bool:
    """More eligible people visited in month 1 (week 1 breaks a tie)."""
    return _key(rows[challenger]) > _key(rows[other])


def promote(settings: Settings, *, version: str, name: str = NAME) -> tuple[bool, str]:
    """Make ``version`` the champion if, on its validation replay, it beats the rule and the logistic
    regression and does no worse than the current champion."""
    saved = json.loads((Path(settings.models_dir) / name / version / "metrics.json").read_text(encoding="utf-8"))
    cut, as_of = dt.date.fromisoformat(saved["cut"]), dt.date.fromisoformat(saved["as_of"])
    current = champion(settings, name=name)
    extra = {"current": current} if current not in (None, version) else {}
    rows = validation_report(settings, version=version, cut=cut, as_of=as_of, name=name, extra=extra)["rows"]
    month = {p: r["eligible_visited_month_1"] for p, r in rows.items()}
    window = f"replay of {cut}..{as_of}"
    for baseline in ("rule", "logistic"):
        if not beats(rows, "champion", baseline):
            return False, (f"{version} not promoted: {month['champion']} eligible visited in month 1, "
                           f"{baseline} {month[baseline]} ({window})")
    if extra and _key(rows["champion"]) < _key(rows["current"]):
        return False, (f"{version} not promoted: {month['champion']} eligible visited in month 1, champion "
                       f"{current} {month['current']} ({window})")
    set_champion(settings, version, name=name)
    why = (f"{version} promoted: {month['champion']} eligible visited in month 1, rule {month['rule']}, "
           f"logistic {month['logistic']}, ceiling {month['ceiling']} ({window})")
    return True, why
