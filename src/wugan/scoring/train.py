"""Train the hardship visit model and the simple baseline it must beat.

Fits on the labelled alerts (``examples``) detected before ``cut`` in the
training villages, each weighted by the inverse of its logged propensity;
``evaluate`` judges it on a replay of ``[cut, as_of)`` in the other villages,
so no person's label helps judge its own score.

Artifacts go to ``<models_dir>/hardship/<version>/``: ``model.skops``, the
baseline ``baseline.skops`` (a logistic regression on five features, fitted
on the same rows), ``metrics.json`` and ``card.md`` (``templates/card.md.j2``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import skops.io as sio
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from wugan.errors import ModelError
from wugan.scoring.card import write_card
from wugan.scoring.evaluate import promote, validation_report
from wugan.scoring.examples import (
    in_validation,
    labelled_examples,
    propensity_weights,
    with_features,
)
from wugan.scoring.features import BASELINE_FEATURES, FEATURES
from wugan.scoring.score import NAME
from wugan.settings import Settings

__all__ = ["ModelResult", "baseline", "boosting", "retrain", "train"]

VALIDATION_DAYS = 28


@dataclass
class ModelResult:
    name: str
    version: str
    path: Path
    metrics: dict
    promoted: bool = False
    notes: list[str] = field(default_factory=list)


def boosting(seed: int) -> Pipeline:
    boost = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                           min_samples_leaf=40, l2_regularization=1.0, random_state=seed)
    return Pipeline([("model", CalibratedClassifierCV(boost, method="isotonic", cv=3))])


def baseline() -> Pipeline:
    """The plain logistic regression on ``BASELINE_FEATURES`` every challenger must beat."""
    return Pipeline([("scale", StandardScaler()), ("model", LogisticRegression(max_iter=1000))])


def _matrix(frame: pl.DataFrame, features: list[str]) -> np.ndarray:
    return frame.select(features).to_numpy().astype(np.float64)


def _version(as_of: dt.date, rows: pl.DataFrame) -> str:
    digest = hashlib.blake2b(rows.select("person_id", "as_of", "label").write_csv().encode(),
                             digest_size=3).hexdigest()
    return f"{as_of:%Y%m%d}-{digest}"


def train(settings: Settings, *, as_of: dt.date, cut: dt.date | None = None, seed: int = 0,
          name: str = NAME) -> ModelResult:
    """Fit on labelled alerts before ``cut`` (training villages), replay ``[cut, as_of)``; save the model."""
    cut = cut or as_of - dt.timedelta(days=VALIDATION_DAYS)
    examples = labelled_examples(settings, until=as_of)
    before = examples.filter(pl.col("as_of") <= cut)
    fit_rows = before.filter(pl.col("label").is_not_null() & ~in_validation(pl.col("village")))
    if fit_rows.height < 50 or fit_rows["label"].n_unique() < 2:
        raise ModelError(f"too few labelled visits before {cut} to train ({fit_rows.height})",
                         hint="record more visit outcomes, or train with a later --as-of")
    fit_rows = with_features(settings, fit_rows.with_columns(weight=propensity_weights(fit_rows)))
    y, w = fit_rows["label"].to_numpy(), fit_rows["weight"].to_numpy()
    model = boosting(seed).fit(_matrix(fit_rows, FEATURES), y, model__sample_weight=w)
    simple = baseline().fit(_matrix(fit_rows, BASELINE_FEATURES), y, model__sample_weight=w)

    version = _version(as_of, fit_rows)
    path = Path(settings.models_dir) / name / version
    path.mkdir(parents=True, exist_ok=True)
    sio.dump(model, path / "model.skops")
    sio.dump(simple, path / "baseline.skops")
    metrics = {
        "name": name, "version": version, "trained_on": as_of.isoformat(), "cut": cut.isoformat(),
        "as_of": as_of.isoformat(),
        "train": {"alerts": before.height, "labelled": fit_rows.height, "positives": int(y.sum()),
                  "first": str(fit_rows["as_of"].min()), "last": str(fit_rows["as_of"].max()),
                  "weight_max": float(w.max()), "explored": int((fit_rows["propensity"] < 1).sum())},
        "features": FEATURES, "baseline_features": BASELINE_FEATURES,
        "validation": validation_report(settings, version=version, cut=cut, as_of=as_of, name=name),
    }
    (path / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False, default=str),
                                       encoding="utf-8")
    write_card(path / "card.md", metrics)
    return ModelResult(name=name, version=version, path=path, metrics=metrics)


def retrain(settings: Settings, *, as_of: dt.date) -> ModelResult:
    """The weekly job: train on everything known before ``as_of``, promote if it beats the baselines."""
    result = train(settings, as_of=as_of)
    result.promoted, why = promote(settings, version=result.version, name=result.name)
    result.notes.append(why)
    return result
