"""A shadow version decides beside the live one on every run: stored, compared, never acted on."""

from __future__ import annotations

import shutil

import yaml
from sqlalchemy import func, select

from tests.factories import START
from wugan.cases.db import session_scope
from wugan.cases.models import Case, Decision, Notice, ShadowDecision, Task
from wugan.cases.shadow import disagreements
from wugan.pipeline import run_day
from wugan.settings import get_settings


def test_a_shadow_version_is_stored_beside_the_live_one_and_never_acted_on(city, tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(get_settings().rules_dir, rules)
    lifecycle = yaml.safe_load((rules / "lifecycle.yaml").read_text(encoding="utf-8"))
    draft = next(v for v in lifecycle["medical_hardship"] if v["status"] == "draft")
    # alerts almost nobody: spending five times the income, and no diagnosis trigger
    draft.update(shadow=True, set={"medical_hardship.oop_share": 5.0, "medical_hardship.disabling_dx_days": 0})
    (rules / "lifecycle.yaml").write_text(yaml.safe_dump(lifecycle, allow_unicode=True), encoding="utf-8")
    settings = get_settings(city).model_copy(update={"rules_dir": rules})

    run_day(settings, START)
    with session_scope(settings.case_store_url) as session:
        live = session.scalar(select(func.count()).select_from(Decision).where(
            Decision.event_type == "medical_hardship"))
        shadow = session.scalars(select(ShadowDecision)).all()
        assert live > 0 and len(shadow) == live
        assert {s.version_label for s in shadow} == {draft["version"]}
        assert all(s.live_route == "assistant_task" for s in shadow)
        flipped = [s for s in shadow if s.route != s.live_route]
        assert len(flipped) > 0.9 * live, "with a share of 5 the shadow alerts almost nobody"
        assert all(s.ruleset_version != s.live_ruleset_version for s in shadow)
        # Acted on: the live decisions only — one visit task each, no more.
        assert session.scalar(select(func.count()).select_from(Task).where(Task.kind == "home_visit")) == live
        counts = {(r[2], r[3]): r[4] for r in disagreements(session)}
        assert counts[("assistant_task", "no_action")] == len(flipped)
        cases, notices = (session.scalar(select(func.count()).select_from(t)) for t in (Case, Notice))

    run_day(settings, START)  # a rerun stores nothing more
    with session_scope(settings.case_store_url) as session:
        assert session.scalar(select(func.count()).select_from(ShadowDecision)) == live
        assert (session.scalar(select(func.count()).select_from(Case)),
                session.scalar(select(func.count()).select_from(Notice))) == (cases, notices)
