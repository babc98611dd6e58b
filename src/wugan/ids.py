"""Resident ID numbers (GB 11643-1999): check digit, parsing, masking.

The scalar functions serve tests and the generator; the ``*_expr`` functions
are the same checks as polars expressions, so contracts validate a whole
column at once.
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

__all__ = [
    "WEIGHTS",
    "check_digit",
    "is_valid",
    "birth_date_of",
    "sex_of",
    "mask",
    "redact",
    "valid_expr",
    "birth_date_expr",
    "sex_expr",
    "mask_expr",
]

# ISO 7064 MOD 11-2 weights 2^(17-i) mod 11 for positions 1..17.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CODES = "10X98765432"  # indexed by the weighted sum mod 11


def check_digit(body17: str) -> str:
    """The 18th character for the first 17 digits."""
    if len(body17) != 17 or not body17.isdigit():
        raise ValueError("an ID body is 17 digits")
    return _CODES[sum(int(c) * w for c, w in zip(body17, WEIGHTS, strict=True)) % 11]


def is_valid(id_number: str) -> bool:
    """Format, a real birth date and the check digit."""
    if not isinstance(id_number, str) or len(id_number) != 18 or not id_number[:17].isdigit():
        return False
    if birth_date_of(id_number) is None:
        return False
    return id_number[17].upper() == check_digit(id_number[:17])


def birth_date_of(id_number: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(id_number[6:14], "%Y%m%d").date()
    except ValueError:
        return None


def sex_of(id_number: str) -> str:
    """Digit 17 is odd for men and even for women."""
    return "M" if int(id_number[16]) % 2 else "F"


def mask(id_number: str | None) -> str | None:
    """Keep the region prefix and the last four: 371402**********123X."""
    if id_number is None:
        return None
    if len(id_number) < 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


# An 18-character ID inside free text, also typed with spaces or hyphens between its parts.
_IN_TEXT = re.compile(r"(?<![0-9])([0-9]{6})[ -]?([0-9]{8})[ -]?([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")


def redact(text: str | None) -> str | None:
    """Free text (notes, reasons) with every ID number in it masked, however it was spaced."""
    if text is None:
        return None
    return _IN_TEXT.sub(lambda m: mask("".join(m.groups()).upper()) or "", text)


def _digit(col: pl.Expr, i: int) -> pl.Expr:
    return col.str.slice(i, 1).cast(pl.Int64, strict=False)


def valid_expr(col: str | pl.Expr) -> pl.Expr:
    """True where the column holds a well-formed ID with a correct check digit and a real date."""
    c = pl.col(col) if isinstance(col, str) else col
    weighted = pl.sum_horizontal([_digit(c, i) * w for i, w in enumerate(WEIGHTS)])
    expected = pl.lit(_CODES).str.slice((weighted % 11).cast(pl.Int64), 1)
    well_formed = c.str.contains(r"^\d{17}[\dXx]$")
    return (
        well_formed.fill_null(False)
        & (c.str.slice(17, 1).str.to_uppercase() == expected).fill_null(False)
        & birth_date_expr(c).is_not_null()
    )


def birth_date_expr(col: str | pl.Expr) -> pl.Expr:
    c = pl.col(col) if isinstance(col, str) else col
    return c.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)


def sex_expr(col: str | pl.Expr) -> pl.Expr:
    c = pl.col(col) if isinstance(col, str) else col
    return pl.when(_digit(c, 16) % 2 == 1).then(pl.lit("M")).otherwise(pl.lit("F"))


def mask_expr(col: str | pl.Expr) -> pl.Expr:
    c = pl.col(col) if isinstance(col, str) else col
    return c.str.slice(0, 6) + pl.lit("*" * 8) + c.str.slice(-4, 4)
