"""Counties, townships and villages of a Dezhou-like city, sized to the population.

Region rows are few (one per ~1,500 people), so a loop per township is fine here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .names import PLACE_SYLLABLES

__all__ = ["COUNTIES", "Regions", "build_regions"]

# Real county-level divisions of Dezhou (GB/T 2260 prefix 3714), with an urban share of townships.
COUNTIES = (
    ("371402", "德城区", 0.85),
    ("371403", "陵城区", 0.3),
    ("371422", "宁津县", 0.2),
    ("371423", "庆云县", 0.2),
    ("371424", "临邑县", 0.2),
    ("371425", "齐河县", 0.25),
    ("371426", "平原县", 0.2),
    ("371427", "夏津县", 0.2),
    ("371428", "武城县", 0.2),
    ("371481", "乐陵市", 0.3),
    ("371482", "禹城市", 0.3),
)
URBAN_INCOME, RURAL_INCOME, PROVINCE_URBAN_INCOME = 51_800, 21_700, 53_000
URBAN_DIBAO, RURAL_DIBAO = 1_000, 800
PERSONS_PER_VILLAGE, VILLAGES_PER_TOWNSHIP, TOWNSHIPS_PER_COUNTY = 1_500, 15, 12


@dataclass(frozen=True)
class Regions:
    """The regions table as delivered, plus per-village arrays the generators index into."""

    table: pl.DataFrame
    village_code: np.ndarray  # str, 12 digits
    county_code: np.ndarray  # str, 6 digits, per village
    urban: np.ndarray  # bool per village
    income: np.ndarray  # int per village
    dibao_line: np.ndarray  # int per village
    population: np.ndarray  # persons per village (sums to the city size)


def _names(rng: np.random.Generator, n: int, suffix: np.ndarray) -> list[str]:
    """n distinct two-syllable names (distinct within the parent) with their suffix."""
    k = len(PLACE_SYLLABLES)
    pairs = rng.choice(k * k, size=n, replace=n > k * k)
    return [PLACE_SYLLABLES[p // k] + PLACE_SYLLABLES[p % k] + s for p, s in zip(pairs, suffix, strict=True)]


def build_regions(rng: np.random.Generator, persons: int) -> Regions:
    n_v = max(4, round(persons / PERSONS_PER_VILLAGE))
    n_t = max(2, round(n_v / VILLAGES_PER_TOWNSHIP))
    n_c = min(len(COUNTIES), max(2, round(n_t / TOWNSHIPS_PER_COUNTY)))
    n_t = max(n_t, n_c)
    rows: list[tuple] = []
    v_code, v_county, v_urban, v_income, v_dibao = [], [], [], [], []
    townships_per_county = np.array_split(np.arange(n_t), n_c)
    villages_per_township = np.array_split(np.arange(n_v), n_t)
    for (c_code, c_name, urban_share), towns in zip(COUNTIES[:n_c], townships_per_county, strict=False):
        c_urban = urban_share > 0.5
        c_income = round((URBAN_INCOME if c_urban else RURAL_INCOME * 1.1) * rng.uniform(0.9, 1.1))
        c_dibao = round((URBAN_DIBAO if c_urban else RURAL_DIBAO) * rng.uniform(0.92, 1.08))
        rows.append((c_code, c_name, "county", None, c_urban, c_income, c_dibao))
        n_urban_t = round(urban_share * len(towns))
        t_urban = np.arange(len(towns)) < n_urban_t
        t_names = _names(rng, len(towns), np.where(t_urban, "街道", np.where(rng.random(len(towns)) < 0.8, "镇", "乡")))
        for j, (t, tu, tn) in enumerate(zip(towns, t_urban, t_names, strict=True)):
            t_code = f"{c_code}{j + 1:03d}"
            base = URBAN_INCOME if tu else RURAL_INCOME
            t_income = round(base * rng.uniform(0.88, 1.12))
            t_dibao = round((URBAN_DIBAO if tu else RURAL_DIBAO) * rng.uniform(0.9, 1.1))
            rows.append((t_code, tn, "township", c_code, bool(tu), t_income, t_dibao))
            vils = villages_per_township[t]
            vn = _names(rng, len(vils), np.full(len(vils), "社区" if tu else "村"))
            for i, name in enumerate(vn):
                code = f"{t_code}{i + 1:03d}"
                inc = round(t_income * rng.uniform(0.9, 1.1))
                dib = round(t_dibao * rng.uniform(0.95, 1.05))
                rows.append((code, name, "village", t_code, bool(tu), inc, dib))
                v_code.append(code)
                v_county.append(c_code)
                v_urban.append(bool(tu))
                v_income.append(inc)
                v_dibao.append(dib)
    table = pl.DataFrame(
        rows,
        schema={
            "region_code": pl.Utf8, "name": pl.Utf8, "level": pl.Utf8, "parent_code": pl.Utf8,
            "urban": pl.Boolean, "income_prev_year": pl.Int64, "dibao_line": pl.Int64,
        },
        orient="row",
    ).with_columns(province_urban_income_prev_year=pl.lit(PROVINCE_URBAN_INCOME, pl.Int64))
    urban = np.array(v_urban)
    weight = rng.uniform(0.6, 1.4, n_v) * np.where(urban, 1.3, 1.0)
    share = weight / weight.sum() * persons
    pop = np.floor(share).astype(np.int64)
    rest = persons - pop.sum()
    pop[np.argsort(-(share - pop), kind="stable")[:rest]] += 1
    return Regions(
        table=table,
        village_code=np.array(v_code),
        county_code=np.array(v_county),
        urban=urban,
        income=np.array(v_income, dtype=np.int64),
        dibao_line=np.array(v_dibao, dtype=np.int64),
        population=pop,
    )
