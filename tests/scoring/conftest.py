"""A small synthetic city with a replayed history of visits and a champion model, shared by the module."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import START, synth_city

HISTORY_WEEKS = 40
CUT = START - dt.timedelta(weeks=12)


@pytest.fixture(scope="session")
def scoring_city(tmp_path_factory):
    """Settings of a 6,000-person city: lake landed, history replayed, a model trained and made champion."""
    from wugan.lake import ingest
    from wugan.scoring.score import set_champion
    from wugan.scoring.train import train
    from wugan.settings import get_settings
    from wugan.synth.visits import simulate_history

    home = synth_city(tmp_path_factory.mktemp("scoring"), persons=6_000, days=2, seed=11)
    settings = get_settings(home).model_copy(update={"models_dir": home / "models"})
    ingest(settings, until=START + dt.timedelta(days=1))
    simulate_history(settings, start=START, weeks=HISTORY_WEEKS, seed=3)
    result = train(settings, as_of=START, cut=CUT)
    set_champion(settings, result.version)
    return settings, result
