"""Small synthetic cities, generated once per session."""

from __future__ import annotations

import datetime as dt

import pytest

from wugan.synth import generate

START = dt.date(2025, 1, 1)


def make_city(root, *, persons, seed=7, days=14, corrupt=0.0):
    summary = generate(inbox=root / "inbox", truth=root / "truth", persons=persons, seed=seed, start=START,
                       days=days, corrupt=corrupt)
    return root, summary


@pytest.fixture(scope="session")
def clean_city(tmp_path_factory):
    return make_city(tmp_path_factory.mktemp("clean"), persons=20_000)


@pytest.fixture(scope="session")
def dirty_city(tmp_path_factory):
    return make_city(tmp_path_factory.mktemp("dirty"), persons=20_000, corrupt=0.01)


@pytest.fixture(scope="session")
def city_factory():
    return make_city
