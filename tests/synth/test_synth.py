"""The synthetic city: deterministic, valid when clean, and every injected fault recorded exactly."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib

import polars as pl
import pytest

from wugan import ids
from wugan.synth import COLUMNS, FILE_KINDS, KINDS
from wugan.synth.corrupt import KEYS, TABLE_FAULTS

pytestmark = pytest.mark.filterwarnings("error")
START = dt.date(2025, 1, 1)


def digest(root):
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def read(root, table):
    return pl.read_csv(root / "inbox" / table / "*.csv", infer_schema=False)


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path, city_factory):
    make_city = city_factory
    a = digest(make_city(tmp_path / "a", persons=3_000, days=5, corrupt=0.01)[0])
    b = digest(make_city(tmp_path / "b", persons=3_000, days=5, corrupt=0.01)[0])
    c = digest(make_city(tmp_path / "c", persons=3_000, days=5, corrupt=0.01, seed=8)[0])
    assert a == b
    assert a != c


def test_layout_headers_and_empty_days(clean_city):
    root, summary = clean_city
    for table, cols in COLUMNS.items():
        files = sorted((root / "inbox" / table).glob("*.csv"))
        assert len(files) == (14 if table in ("births", "deaths", "claims") else 1)
        for f in files:
            assert f.read_text(encoding="utf-8").splitlines()[0].split(",") == cols
    assert summary.corruptions == {}
    assert not pl.read_parquet(root / "truth" / "corruptions.parquet").height


def test_person_ids_valid_unique_and_consistent(clean_city):
    root, _ = clean_city
    p = read(root, "persons")
    counties = set(read(root, "regions").filter(pl.col("level") == "county")["region_code"])
    assert p["person_id"].n_unique() == p.height == 20_000
    checks = p.select(
        valid=ids.valid_expr("person_id"),
        birth=ids.birth_date_expr("person_id") == pl.col("birth_date").str.to_date(),
        sex=ids.sex_expr("person_id") == pl.col("sex"),
        county=pl.col("person_id").str.slice(0, 6).is_in(list(counties)),
        hukou=pl.col("person_id").str.slice(0, 6) == pl.col("hukou_village").str.slice(0, 6),
    )
    assert checks.select(pl.all().all()).row(0) == (True,) * 5
    assert all(ids.is_valid(x) for x in p["person_id"].head(500))


def test_clean_city_passes_extract_checks(clean_city):
    root, _ = clean_city
    c = read(root, "claims").with_columns(pl.col("total", "insurer_paid", "out_of_pocket").cast(pl.Float64))
    assert ((c["insurer_paid"] + c["out_of_pocket"] - c["total"]).abs() < 0.005).all()
    assert (c.select(pl.min_horizontal("total", "insurer_paid", "out_of_pocket")) >= 0).to_series().all()
    assert c["claim_id"].n_unique() == c.height
    assert (c["claim_date"].str.to_date() < START + dt.timedelta(days=14)).all()
    villages = set(read(root, "regions")["region_code"])
    for table, col in (("persons", "hukou_village"), ("births", "hukou_village"), ("assistants", "village_code")):
        assert read(root, table)[col].is_in(list(villages)).all()
    contributions = read(root, "contributions")
    assert contributions.select(pl.struct("person_id", "year").n_unique()).item() == contributions.height
    assert contributions["months"].cast(pl.Int64).is_between(0, 12).all()
    assert read(root, "disability_registry")["grade"].is_in(["1", "2", "3", "4"]).all()
    b = read(root, "births")
    assert (b["birth_record_id"].n_unique() == b.height) and b["mother_id"].is_in(read(root, "persons")["person_id"]).all()


def _bad(kind, field, value, row, header, day, table, seen, regions):
    def date_ok(v):
        try:
            dt.date.fromisoformat(v)
            return True
        except ValueError:
            return False

    if kind == "bad_check_digit":
        return len(value) == 18 and not ids.is_valid(value) and ids.birth_date_of(value) is not None
    if kind == "id_birth_mismatch":
        return ids.is_valid(row[header.index("person_id")]) and date_ok(value) and \
            dt.date.fromisoformat(value) != ids.birth_date_of(row[header.index("person_id")])
    if kind == "id_sex_mismatch":
        return value in ("M", "F") and value != ids.sex_of(row[header.index("person_id")])
    if kind == "impossible_date":
        return not date_ok(value)
    if kind == "future_date":
        return date_ok(value) and dt.date.fromisoformat(value) > day
    if kind == "negative_amount":
        return float(value) < 0
    if kind == "amount_mismatch":
        t, i, o = (float(row[header.index(c)]) for c in ("total", "insurer_paid", "out_of_pocket"))
        return abs(i + o - t) > 0.005
    if kind == "unknown_region":
        return value not in regions
    if kind == "missing_required":
        return value == ""
    if kind == "bad_value":
        return value in ("X", "retired", "abc", "paused", "maybe", "7", "purple", "bonus", "street", "99")
    if kind == "duplicate_key":
        return seen
    raise AssertionError(kind)


def test_every_manifest_row_points_at_a_real_fault(dirty_city):
    root, summary = dirty_city
    m = pl.read_parquet(root / "truth" / "corruptions.parquet")
    assert set(m["kind"]) == set(KINDS) | set(FILE_KINDS)
    assert m.filter(pl.col("kind").is_in(FILE_KINDS))["line"].is_null().all()
    assert m.filter(pl.col("table") == "regions").height == 0
    assert summary.corruptions == dict(m.group_by("kind").len().sort("kind").iter_rows())
    regions = set(read(root, "regions")["region_code"])
    by_file = m.filter(pl.col("line").is_not_null()).partition_by("file", as_dict=True)
    keys_before: dict[str, set] = {}
    for f in sorted((root / "inbox").rglob("*.csv")):
        rel = f.relative_to(root / "inbox").as_posix()
        table = rel.split("/")[0]
        day = dt.date.fromisoformat(f.stem.split("_")[-1])
        with f.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        header = rows[0]
        key_cols = [header.index(c) for c in (
            ("person_id", "year") if table == "contributions" else ("person_id", "benefit") if table == "benefits"
            else (KEYS.get(table, "region_code"),))]
        earlier = keys_before.setdefault(table, set())
        first_line = {}
        for i, r in enumerate(rows[1:], start=2):
            first_line.setdefault(tuple(r[c] for c in key_cols), i)
        faults = by_file.get((rel,))
        if faults is not None:
            for line, field, kind in faults.select("line", "field", "kind").iter_rows():
                assert kind in TABLE_FAULTS[table] and field in TABLE_FAULTS[table][kind]
                row = rows[line - 1]
                key = tuple(row[c] for c in key_cols)
                seen = key in earlier or first_line[key] < line
                assert _bad(kind, field, row[header.index(field)], row, header, day, table, seen, regions), \
                    (rel, line, field, kind, row)
        earlier.update(first_line)


def test_corruption_spares_mothers_and_the_dying(dirty_city):
    root, _ = dirty_city
    m = pl.read_parquet(root / "truth" / "corruptions.parquet").filter(pl.col("table") == "persons")
    lines = set(m["line"])
    persons = read(root, "persons").with_row_index("line", offset=2)
    spared = set(pl.read_parquet(root / "truth" / "births.parquet")["mother_id"]) | set(
        pl.read_parquet(root / "truth" / "deaths.parquet")["person_id"])
    hit = persons.filter(pl.col("line").is_in(list(lines)))
    assert not set(hit["person_id"]) & spared
