from __future__ import annotations

import datetime as dt
import shutil

import pytest

from tests.factories import START
from wugan import lake
from wugan.settings import get_settings

DAYS = 21


@pytest.fixture(scope="package")
def lake_home(city_template, tmp_path_factory):
    """The clean city's three weeks ingested (claims history: the 24 months before the start)."""
    home = tmp_path_factory.mktemp("backtest") / "home"
    shutil.copytree(city_template, home)
    settings = get_settings(home)
    lake.ingest(settings, until=START + dt.timedelta(days=DAYS - 1))
    return settings
