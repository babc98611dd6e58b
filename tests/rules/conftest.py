"""Fixtures for rule tests: a private copy of the repository's rules to break or change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO_RULES = Path(__file__).resolve().parents[2] / "rules"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/rules" in str(item.fspath):
            item.add_marker(pytest.mark.filterwarnings("error"))


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    dest = tmp_path / "rules"
    shutil.copytree(REPO_RULES, dest)
    return dest


MINIMAL = """\
description: a small rule set for tests
inputs:
  birth_date: {type: DATE}
  income: {type: DOUBLE}
parameters:
  share: medical_hardship.oop_share
derived:
  threshold:
    expr: share * income
conditions:
  born:
    expr: birth_date <= as_of
    label: 已出生
outcomes:
  item:
    route:
      - when: born
        route: instant_approve
      - route: no_action
    amount: threshold
"""


@pytest.fixture
def minimal() -> str:
    """A valid small rule set text, to break in one place per test."""
    return MINIMAL
