"""A decision's explanation is typed: ``assess`` writes it, the case store keeps it, the pages read it as it is.

Labels come from the rule YAML (``label:`` on conditions, inputs and derived
values), so no page shows a code and no label lives in Python.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from wugan.assess import Explanation, assess
from wugan.cases.act import act
from wugan.cases.db import migrate, session_scope
from wugan.cases.models import Decision
from wugan.rules.loader import load_all, load_ruleset
from wugan.settings import get_settings
from wugan.synth.events import birth_events
from wugan.web.explain import explain

DAY = dt.date(2025, 3, 3)
RULES = get_settings().rules_dir

pytestmark = pytest.mark.filterwarnings("error")


def test_the_stored_explanation_is_the_typed_one_with_labels_from_the_yaml(store_url):
    migrate(store_url)
    with session_scope(store_url) as session:
        act(session, assess(birth_events(1, day=DAY), rules_dir=RULES), day=DAY, rules_dir=RULES)
    with session_scope(store_url) as session:
        decision = session.scalars(select(Decision)).one()
        stored = Explanation.model_validate(decision.explanation)
        shown = explain(decision, rules_dir=RULES)
    labels = load_ruleset("childcare_subsidy", rules_dir=RULES).labels
    assert {v.name for v in stored.values} == set(labels)
    assert {v.label for v in stored.values} == set(labels.values())
    assert [c.holds for c in stored.conditions if c.name == "born"] == [True]
    # born 2025-03-03: paid the 36 months after the birth month, 300 CNY each; shown grouped, with its label
    assert {v.label: v.value for v in shown.values}["补贴总额（元）"] == "10,800"
    assert shown.outcomes == {"育儿补贴": "秒批 ¥10,800.00"}


@pytest.mark.parametrize("ruleset", sorted(load_all(rules_dir=RULES)))
def test_every_input_and_derived_value_has_a_label(ruleset):
    rs = load_ruleset(ruleset, rules_dir=RULES)
    missing = [name for name in [*rs.inputs, *rs.derived] if not rs.labels.get(name)]
    assert missing == [], f"{ruleset}: give these a `label:` in rules/{ruleset}.yaml"


def test_a_label_is_presentation_not_a_new_version(tmp_path: Path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    before = load_ruleset("death", rules_dir=rules).version
    path = rules / "death.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("label: 丧葬补助金（元）", "label: 丧葬费"),
                    encoding="utf-8")
    changed = load_ruleset("death", rules_dir=rules)
    assert changed.labels["funeral_grant"] == "丧葬费"
    assert changed.version == before


def test_a_purged_decision_explains_nothing(tmp_path):
    decision = Decision(id="d1", event_id="e1", event_type="old_age", route="instant_approve",
                        ruleset="old_age_allowance", ruleset_version="a1b2c3d4", decided_on=dt.date(2025, 3, 1),
                        explanation={"purged_on": "2028-03-01"})
    shown = explain(decision, rules_dir=RULES)
    assert shown.purged and shown.conditions == [] and shown.values == []
