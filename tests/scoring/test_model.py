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
from wugan.scoring.train import (
    REVIEWED_TYPES,
    UntrustedModelError,
    _pipeline,
    champion,
    label_expr,
    labelled_examples,
    load_model,
    promote,
)


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


def test_training_writes_model_card_metrics(scoring_city):
    settings, result = scoring_city
    assert {p.name for p in result.path.iterdir()} == {"model.skops", "metrics.json", "card.md"}
    metrics = json.loads((result.path / "metrics.json").read_text())
    for key in ("visited", "truth"):
        model, rule = metrics["validation"][key]["model"], metrics["validation"][key]["rule"]
        assert 0.5 < model["roc_auc"] <= 1 and 0 <= model["ece"] <= 1
        assert model["visits"] == rule["visits"]  # the same capacity for both rankings
        assert set(metrics["validation"][key]["fairness"]) == {"county", "sex", "age_band"}
    card = (result.path / "card.md").read_text()
    assert "selection bias" in card.lower() and "Data window" in card
    assert metrics["validation"]["truth"]["model"]["roc_auc"] > metrics["validation"]["truth"]["rule"]["roc_auc"]


def test_a_worse_challenger_is_not_promoted(scoring_city, tmp_path):
    settings, result = scoring_city
    assert champion(settings) == result.version
    worse = result.path.with_name("99990101-worse")
    shutil.copytree(result.path, worse, dirs_exist_ok=True)
    rng = np.random.default_rng(0)
    noise = _pipeline(0).fit(rng.random((300, len(json.loads((result.path / "metrics.json").read_text())["features"]))),
                             rng.integers(0, 2, 300))
    sio.dump(noise, worse / "model.skops")
    promoted, why = promote(settings, version=worse.name)
    assert not promoted and "not promoted" in why
    assert champion(settings) == result.version


def test_model_loads_with_reviewed_types_only(scoring_city):
    _, result = scoring_city
    path = result.path / "model.skops"
    assert set(sio.get_untrusted_types(file=path)) <= set(REVIEWED_TYPES)
    assert load_model(path).predict_proba(np.zeros((1, 31))).shape == (1, 2)
    with pytest.raises(UntrustedModelError):
        load_model(path, trusted=[])


def _unreviewed(x):
    return x


def test_an_unexpected_type_is_refused(tmp_path):
    path = tmp_path / "model.skops"
    sio.dump(Pipeline([("f", FunctionTransformer(_unreviewed))]), path)
    with pytest.raises(UntrustedModelError, match="_unreviewed"):
        load_model(path)


def test_routing_uses_the_score(scoring_city):
    from wugan.pipeline import stage_assess, stage_detect

    settings, result = scoring_city
    events = stage_detect(settings, event_type="medical_hardship", day=START)
    decided = pl.read_parquet(stage_assess(settings, events_path=events))
    assert decided.height > 0
    assert decided["model_version"].unique().to_list() == [f"hardship/{result.version}"]
    assert decided["score"].is_between(0, 1).all()
    lift = (decided["priority"] - decided["score"]).round(9)
    assert set(lift.unique().to_list()) == {0.0, 2.0}  # forced visits sit above every score
    assert decided.filter(lift == 2)["priority"].min() > decided.filter(lift == 0)["priority"].max()


def test_without_a_champion_the_rule_orders(scoring_city, tmp_path):
    from wugan.assess import assess
    from wugan.pipeline import stage_detect

    settings, _ = scoring_city
    events = pl.read_parquet(stage_detect(settings, event_type="medical_hardship", day=START))
    bare = settings.model_copy(update={"models_dir": tmp_path})
    decided = assess(events, rules_dir=settings.rules_dir, settings=bare)
    assert decided["score"].null_count() == decided.height
    assert np.allclose(decided["priority"], decided["oop_12m"] / decided["income_prev_year"])
