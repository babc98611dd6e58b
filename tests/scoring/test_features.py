"""Features as of D see nothing dated or delivered on or after D."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from wugan.scoring.features import FEATURES, build_features, dx_group_expr

D = dt.date(2025, 3, 10)
BEFORE, AFTER = D - dt.timedelta(days=5), D


def _lake(claims: pl.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    day0 = dt.date(2025, 1, 1)
    tables = {
        "claims": claims,
        "persons": pl.DataFrame({"person_id": ["P1", "P2", "P3"], "birth_date": [dt.date(1950, 5, 1)] * 3,
                                 "sex": ["M", "F", "F"], "household_id": ["H1", "H2", "H2"],
                                 "hukou_village": ["371402001001"] * 3, "alive": [True] * 3,
                                 "_delivered": [day0] * 3}),
        "regions": pl.DataFrame({"region_code": ["371402001001"], "income_prev_year": [40_000],
                                 "_delivered": [day0]}),
        "benefits": pl.DataFrame({"person_id": ["P1", "P1"], "benefit": ["dibao", "tekun"],
                                  "start_date": [dt.date(2024, 1, 1), D], "monthly_amount": [500.0, 900.0],
                                  "_delivered": [day0, D]}),
        "disability_registry": pl.DataFrame({"person_id": ["P2", "P1"], "grade": [3, 1],
                                             "registered_date": [dt.date(2020, 1, 1), D + dt.timedelta(days=2)],
                                             "_delivered": [day0, D + dt.timedelta(days=2)]}),
        "deaths": pl.DataFrame({"person_id": ["P3"], "death_date": [D], "_delivered": [D]}),
    }
    for name, frame in tables.items():
        con.register(f"_{name}", frame.to_arrow())
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _{name}")
    return con


def _claims(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, orient="row", schema={
        "person_id": pl.String, "claim_date": pl.Date, "icd10": pl.String, "total": pl.Float64,
        "out_of_pocket": pl.Float64, "inpatient_days": pl.Int64, "rehab": pl.Boolean, "_delivered": pl.Date})


PAST = [
    ("P1", BEFORE, "I63.9", 30_000.0, 9_000.0, 20, False, BEFORE),
    ("P1", BEFORE - dt.timedelta(days=100), "I63.9", 10_000.0, 4_000.0, 0, True, BEFORE - dt.timedelta(days=99)),
    ("P2", BEFORE - dt.timedelta(days=200), "J06.9", 200.0, 150.0, 0, False, BEFORE - dt.timedelta(days=200)),
]
REQUESTS = pl.DataFrame({"person_id": ["P1", "P2", "P3"], "as_of": [D] * 3})


def _features(rows: list[tuple]) -> pl.DataFrame:
    return build_features(_lake(_claims(rows)), REQUESTS)


def test_features_count_what_came_before():
    f = _features(PAST).row(0, named=True)
    assert f["max_total_365d"] == 30_000 and f["max_oop_365d"] == 9_000 and f["max_stay_days_365d"] == 20
    assert f["dx_cerebrovascular"] == 1 and f["disabling_dx"] == 1 and f["dx_amputation"] == 0
    assert f["low_income"] == 1 and f["benefits_n"] == 1
    assert f["disability_registered"] == 0  # registered after D
    assert f["lives_alone"] == 1 and f["oop_share"] == pytest.approx(13_000 / 40_000)
    p2 = _features(PAST).row(1, named=True)
    assert p2["household_size"] == 2 and p2["disability_grade"] == 3  # P3's death is delivered on D


@pytest.mark.parametrize("late", [
    # a claim dated on D
    ("P1", D, "S14.1", 90_000.0, 50_000.0, 30, True, D),
    # a claim dated before D but delivered on D
    ("P1", D - dt.timedelta(days=1), "G80.9", 9_000.0, 9_000.0, 5, True, D),
    # a claim dated and delivered long after D
    ("P2", D + dt.timedelta(days=30), "F20.9", 5_000.0, 5_000.0, 12, False, D + dt.timedelta(days=31)),
])
def test_rows_on_or_after_d_change_nothing(late):
    assert _features(PAST).equals(_features([*PAST, late]))


def test_altering_later_rows_changes_nothing():
    later = ("P2", D + dt.timedelta(days=3), "I61.9", 1_000.0, 800.0, 3, False, D + dt.timedelta(days=3))
    altered = (*later[:4], 99_999.0, 99, True, later[7])
    assert _features([*PAST, later]).equals(_features([*PAST, altered]))


def test_nothing_grows_with_the_time_since_the_onset():
    """A first-run backlog (months of rehabilitation since the stroke) looks like the day of the stroke."""
    onset = D - dt.timedelta(days=200)
    fresh = [("P1", D - dt.timedelta(days=2), "I63.9", 45_000.0, 12_000.0, 25, False, D - dt.timedelta(days=2))]
    months = [("P1", onset, "I63.9", 45_000.0, 12_000.0, 25, False, onset)] + [
        ("P1", onset + dt.timedelta(days=25 * k), "I63.9", 14_000.0, 5_000.0, 20, True,
         onset + dt.timedelta(days=25 * k)) for k in range(1, 8)]
    first, later = _features(fresh).row(0, named=True), _features(months).row(0, named=True)
    assert {f: first[f] for f in FEATURES} == {f: later[f] for f in FEATURES}
    assert later["oop_share"] > first["oop_share"], "the scale's spending share does grow: it is no feature"


def test_all_features_present_and_numeric():
    f = _features(PAST)
    assert f.select(FEATURES).null_count().sum_horizontal().item() == 0
    assert f.height == REQUESTS.height and f["person_id"].to_list() == ["P1", "P2", "P3"]


@pytest.mark.parametrize(("code", "group"), [
    ("I69.3", "cerebrovascular"),  # I60–I69
    ("I70.0", None),  # atherosclerosis is not in the block
    ("F31.9", "severe_mental"),
    ("F32.9", None),  # depression is not a severe mental disorder of the list
    ("G45.9", None),  # a transient ischaemic attack is no stroke
    ("S14.1", "spinal_cord_injury"),  # cervical cord injury
    ("S14.2", None),  # a nerve root is not the cord
    ("S78.0", "amputation"),
    ("G20", "parkinson"),
])
def test_diagnosis_groups(code, group):
    assert pl.DataFrame({"icd10": [code]}).select(dx_group_expr()).item() == group
