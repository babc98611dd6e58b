"""A decision's explanation takes condition labels from its rule set; a broken rule set is not hidden."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from wugan.cases.models import Decision
from wugan.errors import RuleError
from wugan.web.queries import explain

REPO_RULES = Path(__file__).resolve().parents[2] / "rules"


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    dest = tmp_path / "rules"
    shutil.copytree(REPO_RULES, dest)
    return dest


def _decision(ruleset: str) -> Decision:
    # conditions stored without labels (an older explanation shape): the rule set supplies them
    return Decision(id="d1", event_id="e1", event_type="old_age", route="instant_approve", ruleset=ruleset,
                    ruleset_version="a1b2c3d4", decided_on=dt.date(2025, 3, 1),
                    explanation={"conditions": {"old_enough": True, "local_hukou": False}})


def test_labels_come_from_the_rule_set(rules_dir):
    labels = {c.name: c.label for c in explain(_decision("old_age_allowance"), rules_dir=rules_dir).conditions}
    assert labels == {"old_enough": "年满80周岁（生日当天起算）", "local_hukou": "具有本地户籍"}


def test_a_rule_set_no_longer_present_shows_the_names(rules_dir):
    (rules_dir / "old_age_allowance.yaml").rename(rules_dir / "old_age_allowance.yaml.retired")
    labels = {c.name: c.label for c in explain(_decision("old_age_allowance"), rules_dir=rules_dir).conditions}
    assert labels == {"old_enough": "old_enough", "local_hukou": "local_hukou"}


def test_a_broken_rule_set_is_an_error_not_missing_labels(rules_dir):
    path = rules_dir / "old_age_allowance.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("age_years >= 80", "age_yeers >= 80"), encoding="utf-8")
    with pytest.raises(RuleError, match=r"old_age_allowance.yaml:\d+: unknown column 'age_yeers'"):
        explain(_decision("old_age_allowance"), rules_dir=rules_dir)
