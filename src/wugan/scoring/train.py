"""Train, evaluate and promote the hardship visit model; score events for routing.

Labels are the assistants' visit outcomes (``confirmed`` = 1; ``not_eligible``
and ``declined`` = 0; ``unreachable`` unknown): from the case store, plus, on a
synthetic city, the replayed history of the old system
(``wugan.synth.visits.simulate_history``). Only visited alerts have labels and
who was visited depended on the old priority, so each labelled row is
weighted by the inverse of its priority decile's visit rate (clipped at
``MAX_WEIGHT``).

The split is by time and by village: the model learns from alerts before
``cut`` in the training villages and is judged on the alerts of
``[cut, as_of)`` in the other villages (``VALIDATION_SHARE`` of them, by a hash
of the village code), so no person's label helps judge its own score.

Artifacts go to ``<models_dir>/hardship/<version>/`` (``model.skops``,
``metrics.json``, ``card.md``); ``<models_dir>/hardship/CHAMPION`` names the
version the pipeline scores with. Loading trusts skops' own types plus
``REVIEWED_TYPES`` only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import skops.io as sio
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sqlalchemy import select

from wugan import lake
from wugan.errors import ModelError, UntrustedModelError
from wugan.scoring.evaluate import report
from wugan.scoring.features import FEATURES, build_features, force_rules
from wugan.settings import Settings

__all__ = [
    "NAME",
    "REVIEWED_TYPES",
    "ModelResult",
    "UntrustedModelError",
    "champion",
    "evaluate",
    "label_expr",
    "labelled_examples",
    "load_model",
    "promote",
    "retrain",
    "score_events",
    "scored_validation",
    "train",
    "validation_frame",
]

NAME = "hardship"
VALIDATION_DAYS = 28
VALIDATION_SHARE = 0.3
MAX_WEIGHT = 10.0
# Types outside skops' defaults that a model file may hold, each reviewed: scikit-learn's own classes.
REVIEWED_TYPES = [
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
]


@dataclass
class ModelResult:
    name: str
    version: str
    path: Path
    metrics: dict
    promoted: bool = False
    notes: list[str] = field(default_factory=list)


def label_expr(outcome: str = "outcome") -> pl.Expr:
    """Visit outcome → label: confirmed 1, not_eligible/declined 0, anything else (unreachable, none) null."""
    return (pl.when(pl.col(outcome) == "confirmed").then(pl.lit(1, pl.Int8))
            .when(pl.col(outcome).is_in(["not_eligible", "declined"])).then(pl.lit(0, pl.Int8))
            .otherwise(pl.lit(None, pl.Int8)))


def _fold(village: pl.Expr) -> pl.Expr:
    """True for validation villages: a stable hash of the code."""
    return village.map_elements(
        lambda v: int.from_bytes(hashlib.blake2b(v.encode(), digest_size=4).digest(), "big") / 2**32
        < VALIDATION_SHARE, return_dtype=pl.Boolean)


EXAMPLE_SCHEMA = {"person_id": pl.String, "village": pl.String, "as_of": pl.Date, "priority": pl.Float64,
                  "visited": pl.Boolean, "outcome": pl.String}


def labelled_examples(settings: Settings, *, until: dt.date) -> pl.DataFrame:
    """Every hardship alert known by ``until`` with its visit outcome (null when not visited or unknown).

    ``as_of`` is the day features are computed for: the day after detection
    (detection sees the deliveries of its own day).
    """
    from wugan.cases.db import ensure_store, session_scope
    from wugan.cases.models import Event, Task

    with session_scope(ensure_store(settings.case_store_url)) as session:
        rows = session.execute(
            select(Task.person_id, Task.village_code, Event.detected_on, Task.priority, Task.week,
                   Task.outcome, Task.outcome_on)
            .join(Event, Event.id == Task.event_id)
            .where(Task.kind == "home_visit", Event.event_type == "medical_hardship", Event.detected_on < until)
        ).all()
    store = pl.DataFrame(rows, orient="row", schema={
        "person_id": pl.String, "village": pl.String, "detected_on": pl.Date, "priority": pl.Float64,
        "week": pl.Date, "outcome": pl.String, "outcome_on": pl.Date})
    known = pl.col("outcome_on").is_not_null() & (pl.col("outcome_on") < until)
    store = store.select(
        "person_id", "village", as_of=pl.col("detected_on") + pl.duration(days=1), priority="priority",
        visited=pl.col("week").is_not_null() & (pl.col("week") < until),
        outcome=pl.when(known).then(pl.col("outcome")),
    )
    frames = [store.cast(EXAMPLE_SCHEMA)]
    replay = settings.home / "labels" / "history_visits.parquet"
    if replay.exists():
        hist = pl.read_parquet(replay).filter(pl.col("as_of") < until)
        seen = pl.col("visited_on").is_not_null() & (pl.col("visited_on") < until)
        frames.append(hist.select("person_id", village="village_code", as_of="as_of", priority="priority",
                                  visited=seen, outcome=pl.when(seen).then(pl.col("outcome"))).cast(EXAMPLE_SCHEMA))
    return pl.concat(frames).with_columns(label=label_expr()).sort("as_of", "person_id")


def propensity_weights(examples: pl.DataFrame) -> pl.Series:
    """1 / visit rate of the row's priority decile among all alerts, clipped to [1, MAX_WEIGHT]."""
    n = examples.height
    decile = (examples["priority"].rank("ordinal") * 10 / max(n, 1)).ceil().clip(1, 10).alias("decile")
    framed = examples.with_columns(decile=decile).with_columns(
        rate=pl.col("visited").cast(pl.Float64).mean().over("decile"))
    return (1 / framed["rate"]).fill_nan(MAX_WEIGHT).clip(1.0, MAX_WEIGHT).alias("weight")


def _backfill(con) -> dt.date | None:
    return con.execute("SELECT min(_delivered) FROM claims").fetchall()[0][0]


def _with_features(settings: Settings, frame: pl.DataFrame) -> pl.DataFrame:
    con = lake.connect(settings)
    feats = build_features(con, frame.select("person_id", "as_of"), backfill=_backfill(con))
    return pl.concat([frame, feats.drop("person_id", "as_of", "village")], how="horizontal")


def _matrix(frame: pl.DataFrame) -> np.ndarray:
    return frame.select(FEATURES).to_numpy().astype(np.float64)


def _pipeline(seed: int) -> Pipeline:
    boost = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                           min_samples_leaf=40, l2_regularization=1.0, random_state=seed)
    return Pipeline([("model", CalibratedClassifierCV(boost, method="isotonic", cv=3))])


def _capacity(settings: Settings, days: int) -> pl.DataFrame:
    con = lake.connect(settings)
    weekly = con.sql("SELECT village_code AS village, sum(weekly_capacity)::BIGINT AS weekly "
                     "FROM assistants GROUP BY 1").pl()
    return weekly.select("village", capacity=pl.col("weekly") * max(1, math.ceil(days / 7)))


def validation_frame(settings: Settings, *, cut: dt.date, as_of: dt.date) -> pl.DataFrame:
    """The held-out window's alerts in the validation villages, with visit labels and (synthetic) truth."""
    examples = labelled_examples(settings, until=as_of)
    held = examples.filter((pl.col("as_of") >= cut) & _fold(pl.col("village")))
    held = held.unique(["person_id"], keep="first", maintain_order=True)
    truth_path = settings.truth / "persons.parquet"
    if truth_path.exists():
        truth = pl.read_parquet(truth_path, columns=["person_id", "eligible"])
        held = held.join(truth, on="person_id", how="left").with_columns(
            truth=pl.col("eligible").fill_null(False).cast(pl.Int8)).drop("eligible")
    else:
        held = held.with_columns(truth=pl.lit(None, pl.Int8))
    held = held.join(_capacity(settings, (as_of - cut).days), on="village", how="left").with_columns(
        pl.col("capacity").fill_null(0))
    return _with_features(settings, held).with_columns(rule=pl.col("oop_share"))


def _reports(frame: pl.DataFrame) -> dict:
    out = {"visited": report(frame)}
    if frame["truth"].null_count() < frame.height:
        out["truth"] = report(frame.with_columns(label=pl.col("truth")))
    return out


def _version(as_of: dt.date, train: pl.DataFrame) -> str:
    digest = hashlib.blake2b(train.select("person_id", "as_of", "label").write_csv().encode(),
                             digest_size=3).hexdigest()
    return f"{as_of:%Y%m%d}-{digest}"


def train(settings: Settings, *, as_of: dt.date, cut: dt.date | None = None, seed: int = 0,
          name: str = NAME) -> ModelResult:
    """Fit on labelled alerts before ``cut`` (training villages), judge on ``[cut, as_of)``; save the model."""
    cut = cut or as_of - dt.timedelta(days=VALIDATION_DAYS)
    examples = labelled_examples(settings, until=as_of)
    before = examples.filter(pl.col("as_of") < cut)
    before = before.with_columns(weight=propensity_weights(before))
    fit_rows = before.filter(pl.col("label").is_not_null() & ~_fold(pl.col("village")))
    if fit_rows.height < 50 or fit_rows["label"].n_unique() < 2:
        raise ModelError(f"too few labelled visits before {cut} to train ({fit_rows.height})",
                         hint="record more visit outcomes, or train with a later --as-of")
    fit_rows = _with_features(settings, fit_rows)
    model = _pipeline(seed)
    model.fit(_matrix(fit_rows), fit_rows["label"].to_numpy(), model__sample_weight=fit_rows["weight"].to_numpy())

    valid = validation_frame(settings, cut=cut, as_of=as_of)
    valid = valid.with_columns(score=pl.Series(_predict(model, valid)))
    metrics = {
        "name": name, "trained_on": as_of.isoformat(), "cut": cut.isoformat(), "as_of": as_of.isoformat(),
        "train": {"alerts": before.height, "labelled": fit_rows.height, "positives": int(fit_rows["label"].sum()),
                  "first": str(fit_rows["as_of"].min()), "last": str(fit_rows["as_of"].max()),
                  "weight_max": float(fit_rows["weight"].max())},
        "validation": {"alerts": valid.height, **_reports(valid)},
        "features": FEATURES,
    }
    version = _version(as_of, fit_rows)
    path = Path(settings.models_dir) / name / version
    path.mkdir(parents=True, exist_ok=True)
    sio.dump(model, path / "model.skops")
    metrics["version"] = version
    (path / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    (path / "card.md").write_text(model_card(metrics), encoding="utf-8")
    return ModelResult(name=name, version=version, path=path, metrics=metrics)


def _predict(model, frame: pl.DataFrame) -> np.ndarray:
    if frame.is_empty():
        return np.zeros(0)
    return model.predict_proba(_matrix(frame))[:, 1]


def load_model(path: Path, *, trusted: list[str] | None = None):
    """Load a skops file, refusing any type that is neither skops' default nor reviewed."""
    trusted = REVIEWED_TYPES if trusted is None else trusted
    unknown = [t for t in sio.get_untrusted_types(file=path) if t not in trusted]
    if unknown:
        raise UntrustedModelError(f"{path} holds unreviewed types: {', '.join(unknown)}")
    return sio.load(path, trusted=trusted)


def champion(settings: Settings, *, name: str = NAME) -> str | None:
    pointer = Path(settings.models_dir) / name / "CHAMPION"
    return pointer.read_text(encoding="utf-8").strip() if pointer.exists() else None


def evaluate(settings: Settings, *, version: str | None = None, cut: dt.date | None = None,
             as_of: dt.date | None = None, name: str = NAME) -> dict:
    """Metrics of a saved model (the champion by default) on a window, the plain rule beside it.

    The window defaults to the model's own validation window.
    """
    version, cut, as_of, valid = scored_validation(settings, version=version, cut=cut, as_of=as_of, name=name)
    return {"version": version, "cut": cut.isoformat(), "as_of": as_of.isoformat(), "alerts": valid.height,
            **_reports(valid)}


def scored_validation(settings: Settings, *, version: str | None = None, cut: dt.date | None = None,
                      as_of: dt.date | None = None, name: str = NAME) -> tuple[str, dt.date, dt.date, pl.DataFrame]:
    """A saved model's scores on a window's alerts (default: its own validation window), with labels."""
    version = version or champion(settings, name=name)
    if version is None:
        raise ModelError(f"no model named; and no champion under {settings.models_dir}/{name}",
                         hint="name a version, or train one and promote it")
    path = Path(settings.models_dir) / name / version
    saved = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
    cut = cut or dt.date.fromisoformat(saved["cut"])
    as_of = as_of or dt.date.fromisoformat(saved["as_of"])
    model = load_model(path / "model.skops")
    valid = validation_frame(settings, cut=cut, as_of=as_of)
    return version, cut, as_of, valid.with_columns(score=pl.Series(_predict(model, valid), dtype=pl.Float64))


def _key(result: dict) -> float:
    """What promotion compares: average precision on the visited set (what a deployment can measure)."""
    value = result["visited"]["model"]["average_precision"]
    return -1.0 if value is None or math.isnan(value) else value


def promote(settings: Settings, *, version: str, name: str = NAME) -> tuple[bool, str]:
    """Make ``version`` the champion if it beats the current one on the challenger's validation window."""
    pointer = Path(settings.models_dir) / name / "CHAMPION"
    current = champion(settings, name=name)
    challenger = evaluate(settings, version=version, name=name)
    if current is not None and current != version:
        held = evaluate(settings, version=current, cut=dt.date.fromisoformat(challenger["cut"]),
                        as_of=dt.date.fromisoformat(challenger["as_of"]), name=name)
        if _key(challenger) <= _key(held):
            return False, (f"{version} not promoted: average precision {_key(challenger):.3f} ≤ champion "
                           f"{current} {_key(held):.3f} on {challenger['cut']}..{challenger['as_of']}")
        why = f"{version} beats {current}: {_key(challenger):.3f} > {_key(held):.3f}"
    else:
        why = f"{version} is the first champion" if current is None else f"{version} is already the champion"
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(version + "\n", encoding="utf-8")
    tmp.replace(pointer)
    return True, why


def retrain(settings: Settings, *, as_of: dt.date) -> ModelResult:
    """The weekly job: train on everything known before ``as_of``, promote if better."""
    result = train(settings, as_of=as_of)
    result.promoted, why = promote(settings, version=result.version, name=result.name)
    result.notes.append(why)
    return result


def score_events(settings: Settings, events: pl.DataFrame, *, name: str = NAME) -> pl.DataFrame | None:
    """Score, model version and forced flag for hardship events (id, person_id, detected_on), or None.

    None when no champion exists: the caller keeps the rule's priority.
    """
    version = champion(settings, name=name)
    if version is None or events.is_empty():
        return None
    model = load_model(Path(settings.models_dir) / name / version / "model.skops")
    con = lake.connect(settings)
    requests = events.select("person_id", as_of=pl.col("detected_on") + pl.duration(days=1))
    feats = build_features(con, requests, backfill=_backfill(con))
    rules = force_rules()
    forced = (feats["oop_share"] >= rules["very_high_oop_share"]["oop_share_at_least"]) | (
        (feats["disabling_dx"] > 0) & (feats["lives_alone"] > 0))
    return pl.DataFrame({"id": events["id"], "score": _predict(model, feats), "forced": forced,
                         "model_version": f"{name}/{version}"})


def model_card(m: dict) -> str:
    v, t = m["validation"], m["train"]

    def row(label: str, r: dict) -> str:
        a, b = r["model"], r["rule"]
        return (f"| {label} | {a['n']} | {a['roc_auc']:.3f} | {a['average_precision']:.3f} | "
                f"{a['precision_at_capacity']:.3f} | {b['precision_at_capacity']:.3f} | "
                f"{a['recall_at_capacity']:.3f} | {b['recall_at_capacity']:.3f} | {a['ece']:.3f} |")

    rows = [row("visited (labels a deployment has)", v["visited"])]
    if "truth" in v:
        rows.append(row("all alerts, synthetic truth", v["truth"]))
    fair = v.get("truth", v["visited"])["fairness"]
    gaps = "\n".join(f"| {by} | " + " | ".join(f"{g[k]:.3f}" for k in ("roc_auc", "average_precision",
                     "precision_at_capacity", "recall_at_capacity", "ece")) + " |"
                     for by, g in ((b, fair[b]["gap"]) for b in fair))
    return f"""# Model card: hardship visit priority ({m['name']}/{m['version']})

## Intended use
Orders the home-visit backlog of each village for 残疾人救助一件事: alerts with a higher
probability that the visit confirms a new disability-assistance case are visited first,
within the assistants' weekly capacity. Rules still force a visit (``scoring/hardship.yaml``,
``force_visit``). It never approves or refuses anything: the visit decides.

## Data window
- trained on alerts before {m['cut']} (training villages), labels known by {m['as_of']}:
  {t['labelled']} labelled visits ({t['positives']} confirmed) from {t['alerts']} alerts,
  alert dates {t['first']} .. {t['last']};
- validated on alerts of [{m['cut']}, {m['as_of']}) in the other {VALIDATION_SHARE:.0%} of villages
  (by a hash of the village code): {v['alerts']} alerts.

## Labels and selection bias
Labels are visit outcomes only: confirmed = 1, not_eligible or declined = 0, unreachable =
unknown (left out). Only visited alerts have labels, and who was visited depended on the
priority of the time (out-of-pocket share of income). Each labelled alert is weighted by
1 / (visit rate of its priority decile among all alerts), clipped at {MAX_WEIGHT:g}
(largest weight used: {t['weight_max']:.2f}); a decile never visited cannot be corrected and
the model extrapolates there. The evaluation shows both the visited set and, on the
synthetic city, the full truth of every alert in the window.

## Features
{', '.join(m['features'])}. Computed per person as of the day after detection from lake rows
dated and delivered before it (``scoring/features.py``). Sex and county are not features;
they are used for the fairness table only.

## Metrics (validation window; precision and recall at the capacity of each village's assistants)
| set | n | ROC AUC | AP | precision@cap model | precision@cap rule | recall@cap model | recall@cap rule | ECE |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

## Fairness gaps (max − min across groups with ≥ 30 alerts)
| by | ROC AUC | AP | precision@cap | recall@cap | ECE |
|---|---|---|---|---|---|
{gaps}

## Limits
- Trained on a synthetic city when the case store is young; retrain weekly on real outcomes.
- Eligibility is judged by the visit; the score carries no legal meaning and is not shown to citizens.
- Alerts come from the out-of-pocket rule; people below it are never scored.
"""
