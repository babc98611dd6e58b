"""Validating a file in batches quarantines exactly what validating it whole does.

Duplicates are the part that needs the whole file: a key repeated across
batches, a row repeating a key another file landed, a unique column (a death
recorded twice for one person). Hypothesis draws files full of such repeats
and faults and compares the streamed result, batch size 3, with ``validate``
over the whole file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wugan import ids
from wugan.lake.contracts import CONTRACTS
from wugan.lake.stream import good_rows_sql, validate_file
from wugan.lake.validate import validate

DAY = dt.date(2025, 3, 5)
VILLAGE = "371402001001"
PEOPLE = [body + ids.check_digit(body) for body in ("37140219500101001", "37140219610203002",
                                                    "37140219700304003", "37140219800405004")]
DEATH_FIELDS = {
    "death_record_id": st.sampled_from(["D1", "D2", "D3", "D1 ", ""]),
    "person_id": st.sampled_from([*PEOPLE, PEOPLE[0].lower(), "123"]),
    "death_date": st.sampled_from(["2025-03-01", "2025-03-04", "2025-03-09", "2025-02-30"]),
    "cause_icd10": st.sampled_from(["I63.9", ""]),
    "place": st.sampled_from(["home", "hospital", "moon"]),
}


def _whole(csv: Path, earlier: pl.DataFrame | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    contract = CONTRACTS["deaths"]
    raw = pl.read_csv(csv, infer_schema=False).with_row_index("_line", offset=2).with_columns(
        pl.col("_line").cast(pl.Int64))
    keys = None
    if earlier is not None:
        keys = {k: earlier.select(list(k)) for k in (contract.key, *contract.unique)}
    result = validate(raw, contract, file="deaths/x.csv", delivery=DAY, known_regions=pl.Series([VILLAGE]),
                      earlier_keys=keys)
    return result.good, result.bad


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.fixed_dictionaries(DEATH_FIELDS), max_size=14),
       landed=st.lists(st.fixed_dictionaries(DEATH_FIELDS), max_size=3), batch=st.integers(1, 5))
def test_streamed_validation_equals_whole_file_validation(tmp_path_factory, rows, landed, batch):
    tmp = tmp_path_factory.mktemp("stream")
    contract = CONTRACTS["deaths"]
    csv = tmp / "deaths.csv"
    pl.DataFrame(rows, schema={c: pl.String for c in contract.names}).write_csv(csv)
    earlier_path = tmp / "earlier.parquet"
    earlier = None
    if landed:  # an earlier file's good rows, as the lake holds them
        prior = tmp / "prior.csv"
        pl.DataFrame(landed, schema={c: pl.String for c in contract.names}).write_csv(prior)
        earlier, _ = _whole(prior, None)
        earlier.write_parquet(earlier_path)
    good, bad = _whole(csv, earlier)
    streamed = validate_file(csv, contract, file="deaths/x.csv", delivery=DAY, header=contract.names,
                             known_regions=pl.Series([VILLAGE]), earlier=[earlier_path] if landed else [],
                             spill=tmp / "spill", batch_rows=batch)
    try:
        assert streamed.rows == len(rows)
        assert streamed.bad.to_dicts() == bad.to_dicts()
        landed_rows = duckdb.connect().sql(good_rows_sql(streamed, contract)).pl()
        assert landed_rows.select(good.columns).to_dicts() == good.to_dicts()
    finally:
        streamed.cleanup()
