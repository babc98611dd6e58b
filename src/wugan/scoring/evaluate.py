"""Metrics of a visit ranking: discrimination, calibration, precision at the assistants' capacity, fairness.

Everything takes a frame with ``score`` (model), ``rule`` (the plain rule:
out-of-pocket share of income), ``label`` (0/1, null when unknown),
``village``, ``county``, ``sex``, ``age`` and ``capacity`` (visits the
village's assistants can make in the window).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score, roc_auc_score

__all__ = ["AGE_BANDS", "ece", "at_capacity", "metrics", "fairness", "report"]

AGE_BANDS = [(0, 45, "<45"), (45, 65, "45-64"), (65, 80, "65-79"), (80, 200, "80+")]


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


def at_capacity(frame: pl.DataFrame, score: str) -> pl.Series:
    """Chosen for a visit: within each village, the ``capacity`` highest by ``score``."""
    ranked = frame.with_row_index("_i").with_columns(
        _rank=pl.col(score).rank("ordinal", descending=True).over("village"))
    return ranked.select((pl.col("_rank") <= pl.col("capacity")).alias("chosen")).to_series()


def metrics(frame: pl.DataFrame, score: str) -> dict[str, float]:
    """AUC, AP, ECE (model scores only), precision and recall at capacity on the labelled rows."""
    chosen = at_capacity(frame, score)
    known = frame.with_columns(chosen=chosen).filter(pl.col("label").is_not_null())
    y = known["label"].to_numpy().astype(int)
    p = known[score].to_numpy().astype(float)
    c = known["chosen"].to_numpy()
    both = 0 < y.sum() < len(y)
    out = {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "visits": int(c.sum()),
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "average_precision": float(average_precision_score(y, p)) if both else float("nan"),
        "precision_at_capacity": float(y[c].mean()) if c.any() else float("nan"),
        "recall_at_capacity": float(y[c].sum() / y.sum()) if y.sum() else float("nan"),
    }
    if score == "score":
        out["ece"] = ece(y, p)
    return out


def _band(age: pl.Expr) -> pl.Expr:
    expr = pl.lit(None, pl.String)
    for lo, hi, name in reversed(AGE_BANDS):
        expr = pl.when((age >= lo) & (age < hi)).then(pl.lit(name)).otherwise(expr)
    return expr


def fairness(frame: pl.DataFrame) -> dict[str, dict]:
    """The model's metrics by county, sex and age band, with the gap (max − min) of each."""
    frame = frame.with_columns(age_band=_band(pl.col("age")), chosen=at_capacity(frame, "score"))
    out: dict[str, dict] = {}
    for by in ("county", "sex", "age_band"):
        groups = {}
        for (value,), part in frame.group_by(by, maintain_order=True):
            known = part.filter(pl.col("label").is_not_null())
            y = known["label"].to_numpy().astype(int)
            p = known["score"].to_numpy().astype(float)
            c = known["chosen"].to_numpy()
            both = 0 < y.sum() < len(y)
            groups[str(value)] = {
                "n": int(len(y)),
                "base_rate": float(y.mean()) if len(y) else float("nan"),
                "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
                "average_precision": float(average_precision_score(y, p)) if both else float("nan"),
                "precision_at_capacity": float(y[c].mean()) if c.any() else float("nan"),
                "recall_at_capacity": float(y[c].sum() / y.sum()) if y.sum() else float("nan"),
                "ece": ece(y, p),
            }
        gaps = {}
        for m in ("roc_auc", "average_precision", "precision_at_capacity", "recall_at_capacity", "ece"):
            vals = [g[m] for g in groups.values() if g["n"] >= 30 and not np.isnan(g[m])]
            gaps[m] = float(max(vals) - min(vals)) if len(vals) > 1 else float("nan")
        out[by] = {"groups": dict(sorted(groups.items())), "gap": gaps}
    return out


def report(frame: pl.DataFrame) -> dict:
    """The model next to the plain rule, with the fairness table."""
    return {"model": metrics(frame, "score"), "rule": metrics(frame, "rule"), "fairness": fairness(frame)}
