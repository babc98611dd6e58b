"""Inject one known fault per chosen row, so the ingest's quarantine can be scored exactly.

Frames arrive as all-string columns plus `_day` (delivery day index) and `_lock`
(rows that must stay clean). Each chosen row gets one kind from the table's list;
`_kind`/`_field` record it and the writer turns them into manifest lines.
"""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["KINDS", "FILE_KINDS", "TABLE_FAULTS", "KEYS", "corrupt"]

KINDS = ("bad_check_digit", "id_birth_mismatch", "id_sex_mismatch", "impossible_date", "future_date",
         "negative_amount", "amount_mismatch", "unknown_region", "duplicate_key", "missing_required",
         "bad_value")
FILE_KINDS = ("missing_column", "unexpected_column")
KEYS = {"persons": "person_id", "contributions": "person_id", "pensions": "person_id", "claims": "claim_id",
        "disability_registry": "person_id", "benefits": "person_id", "births": "birth_record_id",
        "deaths": "death_record_id", "assistants": "assistant_id"}
# table → kind → candidate fields
TABLE_FAULTS: dict[str, dict[str, tuple[str, ...]]] = {
    "persons": {"bad_check_digit": ("person_id",), "id_birth_mismatch": ("birth_date",),
                "id_sex_mismatch": ("sex",), "unknown_region": ("hukou_village",), "duplicate_key": ("person_id",),
                "missing_required": ("name", "household_id"), "bad_value": ("sex", "employment")},
    "contributions": {"bad_check_digit": ("person_id",), "duplicate_key": ("person_id",),
                      "missing_required": ("months",), "bad_value": ("months",)},
    "pensions": {"bad_check_digit": ("person_id",), "impossible_date": ("start_date",),
                 "negative_amount": ("monthly_amount",), "duplicate_key": ("person_id",),
                 "missing_required": ("monthly_amount", "start_date"), "bad_value": ("status",)},
    "claims": {"bad_check_digit": ("person_id",), "impossible_date": ("claim_date",),
               "future_date": ("claim_date",), "negative_amount": ("total",), "amount_mismatch": ("total",),
               "duplicate_key": ("claim_id",), "missing_required": ("hospital", "icd10"),
               "bad_value": ("inpatient_days", "rehab")},
    "disability_registry": {"bad_check_digit": ("person_id",), "impossible_date": ("registered_date",),
                            "future_date": ("registered_date",), "duplicate_key": ("person_id",),
                            "missing_required": ("type",), "bad_value": ("grade", "type")},
    "benefits": {"bad_check_digit": ("person_id",), "impossible_date": ("start_date",),
                 "negative_amount": ("monthly_amount",), "duplicate_key": ("person_id",),
                 "missing_required": ("start_date",), "bad_value": ("benefit",)},
    "births": {"bad_check_digit": ("mother_id",), "impossible_date": ("birth_date",),
               "future_date": ("birth_date",), "unknown_region": ("hukou_village",), "duplicate_key": ("birth_record_id",),
               "missing_required": ("mother_id", "hospital"), "bad_value": ("child_sex",)},
    "deaths": {"bad_check_digit": ("person_id",), "impossible_date": ("death_date",),
               "future_date": ("death_date",), "duplicate_key": ("death_record_id",),
               "missing_required": ("death_date",), "bad_value": ("place",)},
    "assistants": {"unknown_region": ("village_code",), "duplicate_key": ("assistant_id",),
                   "missing_required": ("name",), "bad_value": ("weekly_capacity",)},
}
_BAD = {"sex": "X", "employment": "retired", "months": "abc", "status": "paused", "inpatient_days": "abc",
        "rehab": "maybe", "grade": "7", "type": "purple", "benefit": "bonus", "child_sex": "X",
        "place": "street", "weekly_capacity": "99"}
_CODES = "10X98765432"
_EVENT_TABLES = ("births", "deaths")


def _cents(s: pl.Series) -> np.ndarray:
    return np.round(s.cast(pl.Float64).to_numpy() * 100).astype(np.int64)


def _money(c: np.ndarray) -> pl.Series:
    return pl.Series([f"{'-' if v < 0 else ''}{abs(v) // 100}.{abs(v) % 100:02d}" for v in c], dtype=pl.Utf8)


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int32)).cast(pl.Date).cast(pl.Utf8)


def _transform(rng, kind: str, field: str, vals: pl.Series, day_idx: np.ndarray, start: int) -> pl.Series:
    n = len(vals)
    if kind == "bad_check_digit":
        pos = np.array([_CODES.index(c) for c in vals.str.slice(17, 1).to_list()])
        wrong = np.array(list(_CODES))[(pos + rng.integers(1, 11, n)) % 11]
        return vals.str.slice(0, 17) + pl.Series(wrong)
    if kind == "id_birth_mismatch":
        d = vals.str.to_date().cast(pl.Int32).to_numpy() - rng.integers(1, 400, n)
        return _dates(d)
    if kind == "id_sex_mismatch":
        return pl.Series(np.where(vals.to_numpy() == "M", "F", "M"))
    if kind == "impossible_date":
        bad = np.array(["-02-30", "-04-31", "-13-01", "-06-31", "-00-10"])[rng.integers(0, 5, n)]
        return vals.str.slice(0, 4) + pl.Series(bad)
    if kind == "future_date":
        return _dates(start + day_idx + rng.integers(1, 60, n))
    if kind == "negative_amount":
        return "-" + vals
    if kind == "amount_mismatch":
        return _money(_cents(vals) + rng.integers(1, 50_000, n))
    if kind == "unknown_region":
        return vals.str.slice(0, 9) + "000"
    if kind == "missing_required":
        return pl.Series([None] * n, dtype=pl.Utf8)
    if kind == "bad_value":
        return pl.Series([_BAD[field]] * n, dtype=pl.Utf8)
    raise ValueError(kind)


def corrupt(df: pl.DataFrame, table: str, rate: float, rng: np.random.Generator, *, start: int, days: int,
            forbid_days: frozenset[int] = frozenset(), force: bool = False) -> pl.DataFrame:
    """Returns df with `_kind`, `_field`, `_ord` columns (duplicates appended); sort by (_day, _ord)."""
    n = len(df)
    df = df.with_columns(_ord=pl.int_range(n, dtype=pl.Int64), _kind=pl.lit(None, pl.Utf8),
                         _field=pl.lit(None, pl.Utf8))
    if rate <= 0 or n == 0:
        return df
    faults = TABLE_FAULTS[table]
    kinds = list(faults)
    day = df["_day"].to_numpy()
    ok = ~df["_lock"].to_numpy() & ~np.isin(day, list(forbid_days))
    cand = np.flatnonzero(ok)
    k = rng.binomial(len(cand), rate)
    if force:
        k = max(k, len(kinds))
    k = min(k, len(cand))
    rows = np.sort(rng.choice(cand, k, replace=False))
    ks = np.r_[np.arange(len(kinds)), rng.integers(0, len(kinds), max(0, k - len(kinds)))][:k]
    ks = rng.permutation(ks)
    kind_col = np.full(n, None, dtype=object)
    field_col = np.full(n, None, dtype=object)
    cols = {c: df[c] for c in df.columns}
    dups = []
    for ki, kind in enumerate(kinds):
        r = rows[ks == ki]
        if len(r) == 0:
            continue
        fields = faults[kind]
        fi = rng.integers(0, len(fields), len(r))
        for j, field in enumerate(fields):
            rr = r[fi == j]
            if len(rr) == 0:
                continue
            kind_col[rr], field_col[rr] = kind, field
            if kind == "duplicate_key":
                dups.append(rr)
                continue
            new = _transform(rng, kind, field, cols[field].gather(rr), day[rr], start)
            cols[field] = cols[field].scatter(rr, new)
            if kind == "negative_amount" and table == "claims":
                for other in ("insurer_paid", "out_of_pocket"):
                    v = cols[other].gather(rr)
                    cols[other] = cols[other].scatter(rr, pl.Series(np.where(_cents(v) > 0, ("-" + v).to_numpy(), v.to_numpy())))
    out = pl.DataFrame(cols)
    if dups:
        d = np.sort(np.concatenate(dups))
        copies = out[d].with_columns(_kind=pl.Series(kind_col[d].tolist(), dtype=pl.Utf8),
                                     _field=pl.Series(field_col[d].tolist(), dtype=pl.Utf8),
                                     _ord=pl.int_range(n, n + len(d), dtype=pl.Int64))
        if table in _EVENT_TABLES:
            nxt = copies["_day"].to_numpy() + 1
            later = (nxt < days) & ~np.isin(nxt, list(forbid_days))
            copies = copies.with_columns(_day=pl.Series(np.where(later, nxt, nxt - 1)).cast(copies["_day"].dtype))
        kind_col[d] = None
        field_col[d] = None
        out = pl.concat([out.with_columns(_kind=pl.Series(kind_col.tolist(), dtype=pl.Utf8),
                                          _field=pl.Series(field_col.tolist(), dtype=pl.Utf8)), copies])
        return out
    return out.with_columns(_kind=pl.Series(kind_col.tolist(), dtype=pl.Utf8), _field=pl.Series(field_col.tolist(), dtype=pl.Utf8))
