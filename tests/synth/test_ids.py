"""Resident ID check digits (GB 11643 / ISO 7064 MOD 11-2)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wugan import ids

pytestmark = pytest.mark.filterwarnings("error")


@pytest.mark.parametrize(
    "id_number",
    [
        "11010519491231002X",  # the standard's own example (check character X)
        "440524188001010014",  # the standard's second example
        "110101199003074477",
    ],
)
def test_published_vectors_validate(id_number):
    assert ids.is_valid(id_number)
    assert ids.check_digit(id_number[:17]) == id_number[17]


def test_polars_expression_agrees():
    df = pl.DataFrame({"p": ["11010519491231002X", "440524188001010014", "440524188001010015", "4405241880010100"]})
    assert df.select(ids.valid_expr("p")).to_series().to_list() == [True, True, False, False]


bodies = st.builds(
    lambda region, day, seq: f"{region:06d}{day:%Y%m%d}{seq:03d}",
    st.integers(110000, 659999),
    st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)),
    st.integers(0, 999),
)


@settings(max_examples=300, deadline=None)
@given(bodies)
def test_every_generated_id_validates(body):
    assert ids.is_valid(body + ids.check_digit(body))


@settings(max_examples=300, deadline=None)
@given(bodies, st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_change_is_caught(body, pos, delta):
    # weights 2^(17-i) mod 11 are never 0 mod 11, so changing one digit changes the sum mod 11
    full = body + ids.check_digit(body)
    changed = body[:pos] + str((int(body[pos]) + delta) % 10) + body[pos + 1:]
    assert changed + full[17] != full
    assert ids.check_digit(changed) != full[17]


@settings(max_examples=300, deadline=None)
@given(bodies, st.integers(0, 15))
def test_adjacent_transposition_of_distinct_digits_is_caught(body, pos):
    # swapping a,b at i,i+1 changes the sum by (a-b)(w_i - w_{i+1}); adjacent weights always
    # differ mod 11 and |a-b| < 11, so MOD 11-2 catches every adjacent swap of distinct digits
    a, b = body[pos], body[pos + 1]
    if a == b:
        return
    swapped = body[:pos] + b + a + body[pos + 2:]
    assert ids.check_digit(swapped) != ids.check_digit(body)


def test_adjacent_weights_differ_mod_11():
    """The property the transposition test relies on, checked for all 16 adjacent pairs."""
    assert all((ids.WEIGHTS[i] - ids.WEIGHTS[i + 1]) % 11 for i in range(16))
