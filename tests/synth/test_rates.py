"""At 100k persons the city's vital rates and shares match their targets within sampling noise."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.slow]
DAYS = 60


@pytest.fixture(scope="module")
def city(tmp_path_factory, city_factory):
    return city_factory(tmp_path_factory.mktemp("rates"), persons=100_000, days=DAYS, seed=11)[0]


@pytest.mark.parametrize("table,per_1000", [("births", 6.4), ("deaths", 7.9)])
def test_vital_rates_within_poisson_noise(city, table, per_1000):
    expected = per_1000 / 1000 * 100_000 * DAYS / 365.25
    got = pl.read_parquet(city / "truth" / f"{table}.parquet").height
    assert abs(got - expected) < 4 * math.sqrt(expected) + 5  # 4 sd


def test_age_pyramid_and_disability_share(city):
    t = pl.read_parquet(city / "truth" / "persons.parquet")
    age = (dt.date(2025, 1, 1) - t["birth_date"]).dt.total_days() / 365.25
    assert abs((age < 15).mean() - 0.18) < 0.01
    assert abs((age >= 60).mean() - 0.19) < 0.01
    assert abs((age >= 80).mean() - 0.025) < 0.004
    registered = pl.read_csv(city / "inbox" / "disability_registry" / "*.csv", infer_schema=False).height
    assert abs(registered / t.height - 0.06) < 0.005
    assert 0.06 < t.filter(age >= 65)["lives_alone"].mean() < 0.14
    assert 0.02 <= t["disabling_condition"].is_not_null().mean() <= 0.04


def test_out_of_pocket_rule_is_only_moderately_precise(city):
    t = pl.read_parquet(city / "truth" / "persons.parquet")
    end = dt.date(2025, 1, 1) + dt.timedelta(days=DAYS)
    claims = pl.read_csv(city / "inbox" / "claims" / "*.csv", infer_schema=False).with_columns(
        pl.col("out_of_pocket").cast(pl.Float64), pl.col("claim_date").str.to_date())
    oop = claims.filter(pl.col("claim_date") >= end - dt.timedelta(days=365)).group_by("person_id").agg(
        pl.col("out_of_pocket").sum())
    regions = pl.read_csv(city / "inbox" / "regions" / "*.csv", infer_schema=False).select(
        hukou_village="region_code", income=pl.col("income_prev_year").cast(pl.Int64))
    x = t.join(regions, on="hukou_village").join(oop, on="person_id", how="left").with_columns(
        flag=pl.col("out_of_pocket").fill_null(0) > 0.5 * pl.col("income"))
    precision = x.filter("flag")["eligible"].mean()
    assert 0.2 < precision < 0.55
    # the signal is there: rehab claims concentrate eligibility far above its base rate
    rehab = claims.filter(pl.col("rehab") == "true")["person_id"].unique()
    assert x.filter(pl.col("person_id").is_in(rehab.implode()))["eligible"].mean() > 10 * x["eligible"].mean()
