"""Department extracts: no markup in text, only mobile numbers in phone fields, ID numbers from a real province.

A name like ``<script>`` or a phone field holding ``javascript:…`` would travel
to pages and notices; they are quarantined with a reason of their own. The
ID check is on the province (the first two digits, GB/T 2260): the address
code is where the number was first issued, so residents born elsewhere carry
other counties' codes and a check against the city's counties would refuse
them (docs/extracts.md says so).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wugan.ids import check_digit
from wugan.lake.contracts import CONTRACTS, REASONS
from wugan.lake.validate import validate

VILLAGE = "370102001001"
DELIVERY = dt.date(2025, 3, 1)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "extracts.md"
MOBILE = re.compile(r"1[3-9][0-9]{9}")
# GB/T 2260 province-level codes, and 81/82/83 of Hong Kong, Macao and Taiwan residents' permits
PROVINCES = {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
             "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83"}
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _id(prefix: str = "370102", birth: str = "19580317", serial: str = "202") -> str:
    body = prefix + birth + serial
    return body + check_digit(body)


def _person(**changes) -> dict[str, str | None]:
    row = {"person_id": _id(), "name": "赵桂兰", "sex": "F", "birth_date": "1958-03-17", "household_id": "H1",
           "hukou_village": VILLAGE, "phone": "13800000000", "employment": "rural", "alive": "true"}
    return row | changes


def _assistant(**changes) -> dict[str, str | None]:
    row = {"assistant_id": "A1", "name": "王协理", "village_code": VILLAGE, "phone": "13900000001",
           "weekly_capacity": "3"}
    return row | changes


def _check(table: str, rows: list[dict]):
    contract = CONTRACTS[table]
    raw = pl.DataFrame(rows, schema={c: pl.String for c in contract.names}).with_row_index("_line", offset=2)
    return validate(raw, contract, file=f"{table}/x.csv", delivery=DELIVERY, known_regions=pl.Series([VILLAGE]))


def _reasons(result) -> list[tuple[str, str]]:
    return list(zip(result.bad["field"].to_list(), result.bad["reason"].to_list(), strict=True))


def test_the_new_reasons_are_named_for_the_back_office():
    for reason in ("markup", "bad_phone", "bad_id_region"):
        assert reason in REASONS and REASONS[reason]


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "赵<b>桂兰</b>", "赵桂兰\x07", "=HYPERLINK(\"x\")",
                                  "javascript:alert(1)", "@SUM(1)", "赵\x00桂兰"])
def test_markup_in_a_name_is_quarantined(name):
    result = _check("persons", [_person(name=name)])
    assert result.good.height == 0 and _reasons(result) == [("name", "markup")]
    assert result.bad["value"][0].endswith("**")  # the quarantine shows a personal field masked


@pytest.mark.parametrize("hospital", ["<img src=x onerror=alert(1)>", "市立医院\x1b[31m"])
def test_markup_in_any_text_field_is_quarantined(hospital):
    row = {"birth_record_id": "Q1", "birth_date": "2025-02-10", "child_name": "", "child_sex": "M",
           "mother_id": _id(birth="19950808", serial="262"), "father_id": "", "hospital": hospital,
           "hukou_village": VILLAGE}
    assert _reasons(_check("births", [row])) == [("hospital", "markup")]


@pytest.mark.parametrize("name", ["赵桂兰", "阿依古丽·买买提", "欧阳 明", "Ann O'Neil"])
def test_ordinary_names_land(name):
    assert _check("persons", [_person(name=name)]).good.height == 1


@pytest.mark.parametrize("phone", ["javascript:alert(1)", "1380000000", "138000000001", "23800000000",
                                   "12800000000", "138-0000-0000", "+8613800000000", "tel:13800000000"])
def test_a_phone_field_holds_a_mobile_number_or_nothing(phone):
    for table, row in (("persons", _person(phone=phone)), ("assistants", _assistant(phone=phone))):
        result = _check(table, [row])
        assert result.good.height == 0, (table, phone)
        assert result.bad["field"].to_list() == ["phone"]
        assert result.bad["reason"][0] in ("bad_phone", "markup")


def test_a_persons_phone_may_be_missing_and_a_valid_one_lands():
    result = _check("persons", [_person(phone=None), _person(person_id=_id(serial="204"), phone="19912345678")])
    assert result.good.height == 2


@pytest.mark.parametrize("prefix", ["000102", "720102", "200102", "100102", "380102", "990102"])
def test_an_id_number_from_no_province_is_quarantined(prefix):
    result = _check("persons", [_person(person_id=_id(prefix=prefix))])
    assert _reasons(result) == [("person_id", "bad_id_region")]


@pytest.mark.parametrize("prefix", ["110105", "440304", "650102", "810000", "820000", "830000", "370102"])
def test_an_id_number_from_another_province_lands(prefix):
    """A resident born elsewhere (or a Hong Kong, Macao or Taiwan resident's permit) is no error."""
    assert _check("persons", [_person(person_id=_id(prefix=prefix))]).good.height == 1


def test_the_docs_promise_the_check_that_is_made():
    text = DOCS.read_text(encoding="utf-8")
    assert "a county of the city" not in text
    assert "province" in text and "bad_id_region" in text and "markup" in text and "bad_phone" in text


# ---------------------------------------------------------------- properties


def _stripped(text: str) -> str:
    return pl.Series([text]).str.strip_chars()[0]  # as the validator strips, whatever Python calls whitespace


def _markup(text: str) -> bool:
    """The reference: angle brackets, control characters, a script scheme or a spreadsheet formula."""
    stripped = _stripped(text)
    return (any(c in "<>" or ord(c) < 32 or ord(c) == 127 for c in stripped)
            or stripped[:1] in ("=", "@")
            or re.match(r"(?i)(javascript|vbscript|data):", stripped) is not None)


@SETTINGS
@given(name=st.text(max_size=12))
def test_a_name_lands_exactly_when_it_is_present_and_plain(name):
    result = _check("persons", [_person(name=name)])
    stripped = _stripped(name)
    if not stripped:
        assert _reasons(result) == [("name", "missing_required")]
    elif _markup(name):
        assert _reasons(result) == [("name", "markup")]
    else:
        assert result.good.height == 1 and result.good["name"][0] == stripped


@SETTINGS
@given(phone=st.one_of(st.text(alphabet="0123456789 +-()abc:", max_size=14),
                       st.from_regex(r"1[0-9]{10}", fullmatch=True)))
def test_a_phone_lands_exactly_when_it_is_a_mobile_number(phone):
    result = _check("assistants", [_assistant(phone=phone)])
    stripped = _stripped(phone)
    if not stripped:
        assert _reasons(result) == [("phone", "missing_required")]
    else:
        assert (result.good.height == 1) == bool(MOBILE.fullmatch(stripped)), phone


@SETTINGS
@given(province=st.integers(min_value=0, max_value=99), rest=st.from_regex(r"[0-9]{4}", fullmatch=True))
def test_an_id_lands_exactly_when_its_first_two_digits_are_a_province(province, rest):
    prefix = f"{province:02d}{rest}"
    result = _check("persons", [_person(person_id=_id(prefix=prefix))])
    assert (result.good.height == 1) == (prefix[:2] in PROVINCES), prefix
    if result.good.height == 0:
        assert _reasons(result) == [("person_id", "bad_id_region")]
