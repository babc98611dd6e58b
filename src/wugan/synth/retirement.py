"""Statutory retirement month under the 2025 gradual reform (implemented apart from the rules).

Men 60→63 and women cadres 55→58 gain one month per 4 birth months from births
1965-01 / 1970-01; women workers 50→55 one month per 2 birth months from 1975-01.
"""

from __future__ import annotations

import numpy as np

__all__ = ["retirement_month", "month_index", "first_day_of_month"]

# (base age in years, first birth month affected as year*12+month-1, step in months, max delay)
MEN = (60, 1965 * 12, 4, 36)
WOMEN_CADRE = (55, 1970 * 12, 4, 36)
WOMEN_WORKER = (50, 1975 * 12, 2, 60)


def month_index(days: np.ndarray) -> np.ndarray:
    """Epoch days → year*12 + month-1."""
    m = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return m + 1970 * 12


def first_day_of_month(month_idx: np.ndarray) -> np.ndarray:
    """year*12 + month-1 → epoch days of that month's first day."""
    return (np.asarray(month_idx) - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _delay(bm: np.ndarray, first: int, step: int, cap: int) -> np.ndarray:
    return np.where(bm < first, 0, np.minimum(cap, (bm - first) // step + 1))


def retirement_month(birth_days: np.ndarray, male: np.ndarray, cadre: np.ndarray) -> np.ndarray:
    """Retirement month index (year*12+month-1): birth month + statutory age in months."""
    bm = month_index(birth_days)
    out = np.empty_like(bm)
    for mask, (base, first, step, cap) in (
        (male, MEN),
        (~male & cadre, WOMEN_CADRE),
        (~male & ~cadre, WOMEN_WORKER),
    ):
        out[mask] = bm[mask] + base * 12 + _delay(bm[mask], first, step, cap)
    return out
