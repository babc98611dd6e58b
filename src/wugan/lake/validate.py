"""Vectorised enforcement of a data contract on one delivered file.

Every row gets at most one reason, the first failing check in a fixed order
(field by field, then cross-field checks, then regions, then keys), so a
quarantine entry names exactly one field the sender must correct.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from wugan import ids
from wugan.lake.contracts import PROVINCES, REASONS, Column, Contract

__all__ = ["Validated", "validate", "quarantined", "key_columns", "masked_value", "QUARANTINE_SCHEMA"]

QUARANTINE_SCHEMA = {
    "table": pl.String,
    "file": pl.String,
    "line": pl.Int64,
    "field": pl.String,
    "value": pl.String,
    "reason": pl.String,
    "message": pl.String,
}


@dataclass(frozen=True)
class Validated:
    good: pl.DataFrame
    bad: pl.DataFrame


def _parsed(column: Column) -> pl.Expr:
    raw = pl.col(column.name)
    match column.type:
        case "int":
            return raw.cast(pl.Int64, strict=False)
        case "float":
            return raw.cast(pl.Float64, strict=False)
        case "date":
            return raw.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        case "bool":
            return raw.str.to_lowercase().replace_strict(
                {"true": True, "false": False}, default=None, return_dtype=pl.Boolean
            )
        case "id":
            return raw.str.to_uppercase()
        case _:
            return raw


# Text that pages or notices would render: angle brackets, control characters, a script link, or a
# spreadsheet formula (quarantine files are opened in spreadsheets).
MARKUP = r"[<>\x00-\x1F\x7F]|^[=@]|^(?i:javascript|vbscript|data):"
MOBILE = r"^1[3-9][0-9]{9}$"


def _masked(column: Column) -> pl.Expr:
    raw = pl.col(column.name)
    if column.type == "id":
        return ids.mask_expr(raw)
    if column.personal:
        return raw.str.slice(0, 1) + pl.lit("**")
    return raw


def _field_faults(column: Column, delivery: dt.date) -> list[tuple[str, pl.Expr]]:
    raw, typed = pl.col(column.name), pl.col(f"__{column.name}")
    present = raw.is_not_null()
    unparsed = {"date": "impossible_date", "id": "bad_check_digit"}.get(column.type, "bad_value")
    faults: list[tuple[str, pl.Expr]] = []
    if column.required:
        faults.append(("missing_required", raw.is_null()))
    faults.append((unparsed, present & typed.is_null()))
    if column.type == "id":
        faults.append(("bad_check_digit", present & ~ids.valid_expr(typed)))
        faults.append(("bad_id_region", present & ~typed.str.slice(0, 2).is_in(sorted(PROVINCES))))
    if column.type == "str":
        faults.append(("markup", present & typed.str.contains(MARKUP)))
    if column.phone:
        faults.append(("bad_phone", present & ~typed.str.contains(MOBILE)))
    if column.allowed is not None:
        faults.append(("bad_value", present & ~typed.is_in(list(column.allowed))))
    if column.minimum is not None:
        reason = "negative_amount" if column.money else "bad_value"
        faults.append((reason, typed < column.minimum))
    if column.maximum is not None:
        faults.append(("bad_value", typed > column.maximum))
    if column.not_after_delivery:
        faults.append(("future_date", typed > pl.lit(delivery)))
    return faults


def _check_fault(kind: str, fields: tuple[str, ...]) -> pl.Expr:
    t = [pl.col(f"__{f}") for f in fields]
    match kind:
        case "id_birth":
            return ids.birth_date_expr(t[0]) != t[1]
        case "id_sex":
            return ids.sex_expr(t[0]) != t[1]
        case "id_female":
            return ids.sex_expr(t[0]) != pl.lit("F")
        case "amount_sum":
            return ((t[0] + t[1]) - t[2]).abs() > 0.01
    raise ValueError(f"unknown check kind {kind!r}")


def validate(
    raw: pl.DataFrame,
    contract: Contract,
    *,
    file: str,
    delivery: dt.date,
    known_regions: pl.Series,
    earlier_keys: dict[tuple[str, ...], pl.DataFrame] | None = None,
    keys: bool = True,
) -> Validated:
    """Split a file's rows (all strings, with ``_line``) into typed good rows and quarantined ones.

    ``earlier_keys`` maps a key or unique column tuple to the values already landed
    from other files; a row repeating one is a duplicate. With ``keys`` false the
    key checks are left to the caller (``lake.stream`` checks them over a whole
    file, batch by batch), and the good rows keep each key column's raw value as
    ``__raw_<column>`` for the message of a duplicate.
    """
    cols = contract.columns
    frame = raw.with_columns(
        [pl.col(c.name).str.strip_chars().replace("", None) for c in cols]
    ).with_columns([_parsed(c).alias(f"__{c.name}") for c in cols])

    faults: list[tuple[str, str, pl.Expr]] = []
    for column in cols:
        faults += [(reason, column.name, mask) for reason, mask in _field_faults(column, delivery)]
    for check in contract.checks:
        faults.append((check.reason, check.field, _check_fault(check.kind, check.fields)))
    for column in cols:
        if column.type == "region":
            known = known_regions.implode()
            faults.append(("unknown_region", column.name, pl.col(column.name).is_not_null()
                           & ~pl.col(f"__{column.name}").is_in(known)))
    faults = [(r, f, m.fill_null(False)) for r, f, m in faults]

    any_fault = pl.any_horizontal([m for _, _, m in faults]) if faults else pl.lit(False)
    frame = frame.with_columns(__faulty=any_fault)

    # Keys: the first clean occurrence lands; a later copy, or a copy of what landed before, is a duplicate.
    for n, key in enumerate((contract.key, *contract.unique) if keys else ()):
        dup, typed_key = f"__dup{n}", pl.struct([f"__{k}" for k in key])
        clean = ~pl.col("__faulty")
        repeat = clean & ~typed_key.is_first_distinct().over("__faulty")
        previous = (earlier_keys or {}).get(key)
        if previous is not None and previous.height:
            landed = previous.select(pl.struct([pl.col(k).alias(f"__{k}") for k in key]).alias("k"))["k"]
            repeat = repeat | (clean & typed_key.is_in(landed.implode()))
        frame = frame.with_columns(repeat.alias(dup)).with_columns(__faulty=pl.col("__faulty") | pl.col(dup))
        faults.append(("duplicate_key", key[0], pl.col(dup)))

    def first(pick) -> pl.Expr:
        """What the first failing check says: one when-chain over the checks in order."""
        (r, f, m), *rest = faults
        chain = pl.when(m).then(pick(r, f))
        for r, f, m in rest:
            chain = chain.when(m).then(pick(r, f))
        return chain

    reason = first(lambda r, f: pl.lit(r))
    field = first(lambda r, f: pl.lit(f))
    value = first(lambda r, f: _masked(contract.column(f)).cast(pl.String))
    frame = frame.with_columns(__reason=reason, __field=field, __value=value)

    raw_keys = [] if keys else [pl.col(k).alias(f"__raw_{k}") for k in key_columns(contract)]
    good = frame.filter(pl.col("__reason").is_null()).select(
        [pl.col(f"__{c.name}").alias(c.name) for c in cols] + [pl.col("_line"), *raw_keys]
    ).with_columns(_file=pl.lit(file))
    bad = quarantined(frame.filter(pl.col("__reason").is_not_null()), contract, file=file)
    return Validated(good=good, bad=bad)


def key_columns(contract: Contract) -> list[str]:
    """The columns a duplicate is named by: the first of the key and of each unique tuple."""
    return list(dict.fromkeys(k[0] for k in (contract.key, *contract.unique)))


def masked_value(contract: Contract, field: str) -> pl.Expr:
    """A quarantined value as the back office sees it (ID numbers and names masked), from ``field``."""
    return _masked(contract.column(field)).cast(pl.String)


def quarantined(frame: pl.DataFrame, contract: Contract, *, file: str) -> pl.DataFrame:
    """Quarantine rows from ``_line``, ``__field``, ``__value`` (masked) and ``__reason``."""
    labels = pl.col("__reason").replace(REASONS)
    return frame.select(
        table=pl.lit(contract.table),
        file=pl.lit(file),
        line=pl.col("_line").cast(pl.Int64),
        field=pl.col("__field"),
        value=pl.col("__value"),
        reason=pl.col("__reason"),
        message=pl.concat_str(
            [
                pl.lit(f"{file} line "),
                pl.col("_line").cast(pl.String),
                pl.lit(": "),
                pl.col("__field"),
                pl.lit(" = "),
                pl.col("__value").fill_null("(empty)"),
                pl.lit(": "),
                labels,
            ]
        ),
    ).cast(QUARANTINE_SCHEMA)
