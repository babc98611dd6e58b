"""Who is visited first, in one place: the champion model, its scores, and the one priority scale.

Every visit task — a hardship home visit, a death visit to the heirs, a
pension-claim explanation — is ordered by ``rules/visit_priority.yaml``:
probability of need × what is at stake, plus a deadline term. The probability
of a hardship visit is the champion model's calibrated score when a champion
exists (``<models_dir>/hardship/CHAMPION``), else the rule set's prior; the
forced-visit rule (a dated parameter there) sets it to 1. ``assess`` calls
``prioritise`` at decision time; the daily assignment calls
``priority_at`` to re-rank the backlog as deadlines approach.

Model files are skops; loading trusts skops' own types plus ``REVIEWED_TYPES``.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from wugan.errors import UntrustedModelError
from wugan.scoring.features import FEATURES, build_features

if TYPE_CHECKING:
    from wugan.rules import RuleSet
    from wugan.settings import Settings

__all__ = [
    "NAME",
    "PRIORITY_RULESET",
    "REVIEWED_TYPES",
    "UntrustedModelError",
    "backfill_day",
    "champion",
    "load_model",
    "predict",
    "priority_at",
    "priority_ruleset",
    "prioritise",
    "set_champion",
    "task_kind",
]

NAME = "hardship"
PRIORITY_RULESET = "visit_priority"
HARDSHIP = "medical_hardship"
# Types outside skops' defaults that a model file may hold, each reviewed: scikit-learn's own classes.
REVIEWED_TYPES = [
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
]
_PRIORITY_INPUTS = {"kind": pl.String, "probability": pl.Float64, "disabling_diagnosis": pl.Boolean,
                    "oop_share": pl.Float64, "lives_alone": pl.Boolean, "event_date": pl.Date, "deadline": pl.Date}


def load_model(path: Path, *, trusted: list[str] | None = None):
    """Load a skops file, refusing any type that is neither skops' default nor reviewed.

    Loaded once per process per file version: the pipeline scores every day.
    """
    trusted = tuple(REVIEWED_TYPES if trusted is None else trusted)
    path = Path(path)
    return _load_model(str(path), path.stat().st_mtime_ns, trusted)


@cache
def _load_model(path: str, mtime_ns: int, trusted: tuple[str, ...]):
    import skops.io as sio  # imports scikit-learn: only a day with a champion pays for it

    unknown = [t for t in sio.get_untrusted_types(file=path) if t not in trusted]
    if unknown:
        raise UntrustedModelError(f"{path} holds unreviewed types: {', '.join(unknown)}")
    return sio.load(path, trusted=list(trusted))


def champion(settings: Settings, *, name: str = NAME) -> str | None:
    pointer = Path(settings.models_dir) / name / "CHAMPION"
    return pointer.read_text(encoding="utf-8").strip() if pointer.exists() else None


def set_champion(settings: Settings, version: str, *, name: str = NAME) -> None:
    """Point the pipeline at ``version`` (atomically: a reader sees the old or the new one)."""
    pointer = Path(settings.models_dir) / name / "CHAMPION"
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(version + "\n", encoding="utf-8")
    tmp.replace(pointer)


def predict(model, frame: pl.DataFrame, features: list[str] | None = None) -> np.ndarray:
    """Probability of the positive class for each row."""
    if frame.is_empty():
        return np.zeros(0)
    matrix = frame.select(features or FEATURES).to_numpy().astype(np.float64)
    # one thread: the trees' OpenMP start-up costs more than the work on a day's alerts (10× on 2 cores)
    with threadpool_limits(1):
        return model.predict_proba(matrix)[:, 1]


def backfill_day(con) -> dt.date | None:
    """The lake's first claims delivery: it carries the history (see ``features``)."""
    return con.execute("SELECT min(_delivered) FROM claims").fetchall()[0][0]


def priority_ruleset(rules_dir: Path) -> RuleSet:
    """``rules/visit_priority.yaml``, parsed once per process until one of its files changes."""
    rules_dir = Path(rules_dir)
    files = [rules_dir / f"{PRIORITY_RULESET}.yaml",
             *sorted((rules_dir / "parameters" / PRIORITY_RULESET).glob("*.yaml"))]
    return _ruleset(str(rules_dir), tuple((str(p), p.stat().st_mtime_ns) for p in files if p.exists()))


@cache
def _ruleset(rules_dir: str, signature: tuple) -> RuleSet:
    from wugan.rules import load_ruleset

    return load_ruleset(PRIORITY_RULESET, rules_dir=Path(rules_dir))


def priority_at(frame: pl.DataFrame, *, as_of: dt.date | str, rules_dir: Path) -> pl.DataFrame:
    """``frame`` with ``priority``, ``need`` (probability used), ``due`` and ``forced`` from the one scale.

    ``frame`` has any of the rule set's inputs (kind, probability,
    disabling_diagnosis, oop_share, lives_alone, event_date, deadline); missing
    ones are null. ``as_of`` is a date or a DATE column.
    """
    inputs = frame.select(
        *[(pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c) for c, t in _PRIORITY_INPUTS.items()],
        *([pl.col(as_of).cast(pl.Date)] if isinstance(as_of, str) and as_of not in _PRIORITY_INPUTS else []),
    )
    evaluated = priority_ruleset(rules_dir).evaluate_frame(inputs, as_of=as_of)
    return frame.with_columns(
        priority=evaluated["priority"].cast(pl.Float64).fill_null(0.0),
        need=evaluated["need"].cast(pl.Float64),
        due=evaluated["due"].cast(pl.Date),
        forced=evaluated["cond_forced_visit"].fill_null(False),
    )


def task_kind(decided: pl.DataFrame, *, outcomes: list[str], opens_on_visit: bool) -> pl.Expr:
    """The kind of the task a decision creates, as ``act`` names it: the outcome sent to an assistant."""
    if opens_on_visit:
        return pl.lit("home_visit")
    kinds = [pl.when(pl.col(f"{o}_route") == "assistant_task").then(pl.lit(o)) for o in outcomes]
    return pl.coalesce(kinds) if kinds else pl.lit(None, pl.String)


def _hardship_inputs(settings: Settings | None, decided: pl.DataFrame) -> pl.DataFrame:
    """Model score and the forced-visit inputs of hardship decisions (one row each, in order)."""
    base = decided.select(
        "id",
        disabling_diagnosis=pl.col("cond_disabling_diagnosis") if "cond_disabling_diagnosis" in decided.columns
        else pl.lit(None, pl.Boolean),
        oop_share=(pl.col("oop_12m") / pl.col("income_prev_year")).cast(pl.Float64),
        lives_alone=pl.lit(None, pl.Boolean),
        probability=pl.lit(None, pl.Float64),
        model_version=pl.lit(None, pl.String),
    )
    if settings is None:
        return base
    from wugan import lake

    con = lake.connect(settings)
    requests = decided.select("person_id", as_of=pl.col("detected_on") + pl.duration(days=1))
    feats = build_features(con, requests, backfill=backfill_day(con))
    base = base.with_columns(lives_alone=feats["lives_alone"] > 0)
    version = champion(settings)
    if version is None:
        return base
    model = load_model(Path(settings.models_dir) / NAME / version / "model.skops")
    return base.with_columns(probability=pl.Series(predict(model, feats), dtype=pl.Float64),
                             model_version=pl.lit(f"{NAME}/{version}"))


def prioritise(decided: pl.DataFrame, *, event_type: str, kind: pl.Expr, rules_dir: Path,
               settings: Settings | None = None) -> pl.DataFrame:
    """Decided events with ``priority``, ``probability`` (the need used), ``deadline``, ``score`` and
    ``model_version``: the same scale for every event type, with or without a champion model."""
    frame = decided.with_columns(kind=kind, event_date=pl.col("event_date").cast(pl.Date))
    if event_type == HARDSHIP:
        frame = frame.with_columns(_hardship_inputs(settings, decided).drop("id"))
    else:
        frame = frame.with_columns(probability=pl.lit(None, pl.Float64), model_version=pl.lit(None, pl.String))
    ranked = priority_at(frame, as_of="detected_on", rules_dir=rules_dir)
    return decided.with_columns(
        priority=ranked["priority"],
        probability=ranked["need"],
        deadline=ranked["due"],
        score=ranked["probability"],
        model_version=ranked["model_version"],
    )
