"""A decision's explanation as the pages show it: read as ``assess`` wrote it (``assess.Explanation``).

Labels come with the explanation (conditions from the rule set, values from
their ``label:`` in the rule YAML); here values are only put in words: numbers
grouped, booleans as 是/否, codes masked where they could be an ID number.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from wugan.assess import Explanation
from wugan.cases.bundles import load_bundles
from wugan.cases.models import Decision
from wugan.ids import redact
from wugan.web.texts import REVIEW_LABELS, ROUTE_LABELS, label
from wugan.web.views import ConditionView, ExplanationView, ValueView

__all__ = ["explain", "fmt", "service_labels"]


def fmt(value: Any) -> str:
    """A stored value in plain words."""
    if value is None:
        return "空"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    text = str(value)
    if text in ("true", "false"):
        return "是" if text == "true" else "否"
    if text.isdigit() and len(text) >= 6:  # a code (region, record number), not a quantity
        return redact(text) or ""
    try:
        number = float(text)
    except ValueError:
        return redact(text) or ""
    return fmt(number) if "." in text or len(text) > 4 else text


@cache
def _service_labels(rules_dir: str) -> dict[str, str]:
    bundles = load_bundles(Path(rules_dir)).values()
    labels = {i.service: i.label for b in bundles for i in b.items}
    labels |= {i.outcome: i.label for b in bundles for i in b.items if i.outcome}
    return labels | {"home_visit": "协理员上门核实"}


def service_labels(rules_dir: Path) -> dict[str, str]:
    """Bundle item (or rule outcome) → its Chinese label."""
    return _service_labels(str(rules_dir))


def explain(decision: Decision, *, rules_dir: Path) -> ExplanationView:
    """The decision's stored ``Explanation`` with the decision's own facts, in words."""
    raw = Explanation.model_validate(decision.explanation or {})
    names = service_labels(rules_dir)
    outcomes = {}
    for o in raw.outcomes:
        text = label(ROUTE_LABELS, o.route)
        if o.amount not in (None, 0, 0.0):
            text += f" ¥{o.amount:,.2f}"
        outcomes[names.get(o.name, o.name)] = text
    return ExplanationView(
        decision_id=decision.id, route=decision.route, route_label=label(ROUTE_LABELS, decision.route),
        ruleset=decision.ruleset, ruleset_version=decision.ruleset_version, model_version=decision.model_version,
        score=decision.score, decided_on=decision.decided_on,
        conditions=[ConditionView(name=c.name, label=c.label, holds=c.holds) for c in raw.conditions],
        values=[ValueView(name=v.name, label=v.label, value=fmt(v.value)) for v in raw.values],
        outcomes=outcomes, reference=raw.reference, review=decision.review,
        review_label=label(REVIEW_LABELS, decision.review), purged=raw.purged_on is not None,
    )
