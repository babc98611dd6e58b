"""Training, evaluation, promotion, skops trust and routing on a small synthetic city."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import numpy as np
import polars as pl
import pytest
import skops.io as sio
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from tests.factories import START
from wugan.scoring.evaluate import beats, promote
from wugan.scoring.examples import label_expr, labelled_examples
from wugan.scoring.features import FEATURES
from wugan.scoring.score import (
    REVIEWED_TYPES,
    UntrustedModelError,
    champion,
    load_model,
    priority_ruleset,
)
from wugan.scoring.train import boosting


@pytest.mark.parametrize(("outcome", "label"), [
    ("confirmed", 1),  # the visit confirmed a new case
    ("not_eligible", 0),
    ("declined", 0),  # the person said no: not a case the visit opens
    ("unreachable", None),  # nobody seen: unknown, left out
    (None, None),  # not visited yet
])
def test_labels_come_from_outcomes(outcome, label):
    assert pl.DataFrame({"outcome": [outcome]}, schema={"outcome": pl.String}).select(label_expr()).item() == label


def test_examples_label_only_visits_known_in_time(scoring_city):
    settings, _ = scoring_city
    until = START - dt.timedelta(weeks=20)
    examples = labelled_examples(settings, until=until)
    assert examples["as_of"].max() < until
    labelled = examples.filter(pl.col("label").is_not_null())
    assert labelled["visited"].all() and labelled.height > 0
    assert examples.filter(~pl.col("visited"))["label"].null_count() == examples.filter(~pl.col("visited")).height


def test_training_writes_the_model_its_baseline_the_card_and_the_replay(scoring_city):
    settings, result = scoring_city
    assert {p.name for p in result.path.iterdir()} == {"model.skops", "baseline.skops", "metrics.json", "card.md"}
    metrics = json.loads((result.path / "metrics.json").read_text())
    rows = metrics["validation"]["rows"]
    assert list(rows) == ["rule", "logistic", "champion", "ceiling"]
    assert len({r["visits_month_1"] for r in rows.values()}) == 1, "the same visits for every order"
    for policy in ("rule", "logistic", "champion"):
        assert rows[policy]["eligible_visited_month_1"] <= rows["ceiling"]["eligible_visited_month_1"]
        assert rows[policy]["eligible_visited_week_1"] <= rows["ceiling"]["eligible_visited_week_1"]
    assert 0.5 < rows["champion"]["roc_auc"] <= 1 and 0 <= rows["champion"]["ece"] <= 1
    assert set(rows["champion"]["recall_by"]) == {"county", "sex", "age_band"}
    card = (result.path / "card.md").read_text()
    assert "selection bias" in card.lower() and "Data window" in card and "| ceiling |" in card
    assert f"| champion | {rows['champion']['eligible_visited_week_1']} |" in card


@pytest.mark.parametrize(("challenger", "other", "wins"), [
    ((10, 4), (9, 8), True),  # more eligible people visited in month 1
    ((10, 4), (10, 3), True),  # the same in month 1, more in week 1
    ((10, 4), (10, 4), False),  # a tie is not a win
    ((9, 9), (10, 1), False),  # week 1 does not make up for month 1
])
def test_beating_is_more_eligible_people_visited_in_month_1(challenger, other, wins):
    def row(m, w):
        return {"eligible_visited_month_1": m, "eligible_visited_week_1": w}

    assert beats({"c": row(*challenger), "o": row(*other)}, "c", "o") is wins


def test_a_worse_challenger_is_not_promoted(scoring_city, tmp_path):
    settings, result = scoring_city
    assert champion(settings) == result.version
    worse = result.path.with_name("99990101-worse")
    shutil.copytree(result.path, worse, dirs_exist_ok=True)
    rng = np.random.default_rng(0)
    noise = boosting(0).fit(rng.random((300, len(FEATURES))), rng.integers(0, 2, 300))
    sio.dump(noise, worse / "model.skops")
    promoted, why = promote(settings, version=worse.name)
    assert not promoted and "not promoted" in why
    assert champion(settings) == result.version


def test_model_loads_with_reviewed_types_only(scoring_city):
    _, result = scoring_city
    path = result.path / "model.skops"
    assert set(sio.get_untrusted_types(file=path)) <= set(REVIEWED_TYPES)
    assert load_model(path).predict_proba(np.zeros((1, len(FEATURES)))).shape == (1, 2)
    with pytest.raises(UntrustedModelError):
        load_model(path, trusted=[])


def _unreviewed(x):
    return x


def test_an_unexpected_type_is_refused(tmp_path):
    path = tmp_path / "model.skops"
    sio.dump(Pipeline([("f", FunctionTransformer(_unreviewed))]), path)
    with pytest.raises(UntrustedModelError, match="_unreviewed"):
        load_model(path)


def test_routing_puts_the_score_on_the_one_priority_scale(scoring_city):
    from wugan.pipeline import stage_assess, stage_detect

    settings, result = scoring_city
    events = stage_detect(settings, event_type="medical_hardship", day=START)
    decided = pl.read_parquet(stage_assess(settings, events_path=events))
    assert decided.height > 0
    assert decided["model_version"].unique().to_list() == [f"hardship/{result.version}"]
    assert decided["score"].is_between(0, 1).all()
    forced = decided["probability"] == 1.0
    # a hardship visit is worth 1 confirmed case and has no deadline: priority = probability of need
    assert np.allclose(decided["priority"], decided["probability"])
    assert np.allclose(decided.filter(~forced)["priority"], decided.filter(~forced)["score"])
    very_high = decided["oop_12m"] / decided["income_prev_year"] >= 2
    assert (very_high <= forced).all(), "spending twice the income forces the visit whatever the score"


def test_without_a_champion_the_rule_prior_orders_on_the_same_scale(scoring_city, tmp_path):
    from wugan.assess import assess
    from wugan.pipeline import stage_detect

    settings, _ = scoring_city
    events = pl.read_parquet(stage_detect(settings, event_type="medical_hardship", day=START))
    bare = settings.model_copy(update={"models_dir": tmp_path})
    decided = assess(events, rules_dir=settings.rules_dir, settings=bare)
    assert decided["score"].null_count() == decided.height
    p = priority_ruleset(settings.rules_dir).parameters_at(START)
    share = (decided["oop_12m"] / decided["income_prev_year"]).clip(0, 3).to_numpy()
    base = np.where(decided["first_disabling_dx"].is_not_null(), p["prior_dx"], p["prior_spending"])
    prior = np.minimum(0.95, base + p["spending_slope"] * share)
    forced = decided["probability"].to_numpy() == 1.0
    assert np.allclose(decided["priority"].to_numpy()[~forced], prior[~forced])
    assert forced.any() and (~forced).any()
