"""Property tests of the contract validator: any input is split, never dropped, never crashes."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wugan import ids
from wugan.lake.contracts import CONTRACTS
from wugan.lake.validate import validate

CELL = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.sampled_from(["", "0", "-1", "12", "abc", "2025-02-30", "2025-03-01", "true", "M", "F",
                     "11010519491231002X", "110105194912310021", "371402001001", "1.5", "99999999"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=st.sampled_from(sorted(CONTRACTS)), data=st.data())
def test_every_row_is_landed_or_quarantined_exactly_once(table, data):
    contract = CONTRACTS[table]
    n = data.draw(st.integers(min_value=0, max_value=12))
    raw = pl.DataFrame(
        {c: data.draw(st.lists(CELL, min_size=n, max_size=n)) for c in contract.names},
        schema={c: pl.String for c in contract.names},
    ).with_row_index("_line", offset=2)
    result = validate(raw, contract, file=f"{table}/x.csv", delivery=dt.date(2025, 3, 1),
                      known_regions=pl.Series(["371402001001"]))
    assert result.good.height + result.bad.height == n
    assert sorted(result.good["_line"].to_list() + result.bad["line"].to_list()) == list(range(2, n + 2))
    assert result.bad["reason"].null_count() == 0 and result.bad["field"].is_in(contract.names).all()
    for column in contract.columns:
        values = result.good[column.name]
        if column.required:
            assert values.null_count() == 0
        if column.type == "id":
            assert all(ids.is_valid(v) for v in values.drop_nulls())
        if column.allowed:
            assert values.drop_nulls().is_in(list(column.allowed)).all()
