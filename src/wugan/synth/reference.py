"""Reference extracts of a chunk: disability registry, benefits, contributions, pensions, assistants."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from .hardship import FAMILIES, NAMES, Conditions
from .persons import AGE_BANDS, People, ymd
from .regions import Regions
from .retirement import first_day_of_month, month_index

__all__ = ["Registry", "Benefits", "draw_registry", "draw_benefits", "draw_contributions", "draw_pensions",
           "draw_assistants", "DIS_TYPES"]

DIS_TYPES = np.array(["visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple"])
_TYPE_P = np.array([0.12, 0.15, 0.01, 0.45, 0.07, 0.08, 0.12])
_FAMILY_TYPE = {"stroke": 3, "spinal": 3, "amputation": 3, "mental": 5, "parkinson": 3,
                "cerebral_palsy": 6, "ms": 3, "blindness": 0}
_mid = np.arange(len(AGE_BANDS)) * 5 + 2.5
_REG_C = 0.06 / float((AGE_BANDS * (0.3 + _mid / 40)).sum())
_EPOCH_2008 = 13879  # 2008-01-01


@dataclass
class Registry:
    person: np.ndarray
    grade: np.ndarray
    type: np.ndarray
    day: np.ndarray


@dataclass
class Benefits:
    person: np.ndarray
    kind: np.ndarray
    start: np.ndarray
    cents: np.ndarray


def draw_registry(rng, people: People, cond: Conditions, start: int) -> Registry:
    """About 6% registered, more with age; some of last year's disabling conditions are registered already."""
    n = len(people)
    reg = rng.random(n) < _REG_C * (0.3 + people.age / 40)
    reg[cond.person] = False
    grade = rng.choice([1, 2, 3, 4], n, p=[0.15, 0.25, 0.3, 0.3])
    typ = rng.choice(len(DIS_TYPES), n, p=_TYPE_P)
    lo = np.maximum(people.birth + 365, _EPOCH_2008)
    day = lo + (rng.random(n) * np.maximum(start - 1 - lo, 1)).astype(np.int64)
    # condition holders with onset > 60 days before the start: 20% already registered for it
    c_reg = (cond.onset < start - 60) & (rng.random(len(cond.person)) < 0.2)
    cp = cond.person[c_reg]
    reg[cp] = True
    sev = np.array([FAMILIES[f][0] for f in NAMES])[cond.family[c_reg]]
    grade[cp] = np.where(rng.random(len(cp)) < 0.35 + 0.2 * sev, rng.integers(1, 3, len(cp)), rng.integers(3, 5, len(cp)))
    typ[cp] = np.array([_FAMILY_TYPE[f] for f in NAMES])[cond.family[c_reg]]
    day[cp] = cond.onset[c_reg] + ((start - 1 - cond.onset[c_reg]) * rng.random(len(cp))).astype(np.int64)
    who = np.flatnonzero(reg)
    return Registry(person=who, grade=grade[who], type=DIS_TYPES[typ[who]], day=np.minimum(day[who], start - 1))


def draw_benefits(rng, people: People, regions: Regions, reg: Registry, start: int) -> tuple[Benefits, np.ndarray]:
    """Benefits in payment and the low-income mask (dibao or tekun)."""
    n = len(people)
    idx = np.arange(n)
    parts = []

    def add(who, kind, day, cents):
        parts.append((who, np.full(len(who), kind), np.minimum(day, start - 1), cents))

    a = people.age
    reached = _tier_reached(people.birth, start)
    old = np.flatnonzero((reached > 0) & (rng.random(n) < 0.75))
    bday80 = people.birth[old] + np.round(80 * 365.25).astype(np.int64)
    tier = allowance_cents(reached[old], regions.village_code[people.village[old]], start)
    add(old, "old_age_allowance", np.maximum(first_day_of_month(month_index(bday80) + 1), 16436), tier)

    registered = np.zeros(n, bool)
    registered[reg.person] = True
    grade = np.zeros(n, np.int64)
    grade[reg.person] = reg.grade
    rural = ~regions.urban[people.village]
    hh_flag = np.zeros(n, bool)
    np.logical_or.at(hh_flag, people.household, registered | (a >= 75))
    p_hh = np.where(rural, 0.036, 0.016) * np.where(hh_flag[people.household], 2.5, 1.0)
    roots = people.household == idx
    chosen = np.zeros(n, bool)
    chosen[roots] = rng.random(roots.sum()) < p_hh[roots]
    dibao = chosen[people.household]
    line = regions.dibao_line[people.village] * 100
    since = start - rng.integers(30, 5 * 365, n)
    since = since[people.household]
    dw = np.flatnonzero(dibao)
    add(dw, "dibao", np.maximum(since[dw], people.birth[dw]),
        np.round(line[dw] * rng.uniform(0.3, 0.9, len(dw)) / 100).astype(np.int64) * 100)
    tekun = ~dibao & (people.hh_size == 1) & (a >= 60) & rural & (rng.random(n) < 0.2)
    tw = np.flatnonzero(tekun)
    add(tw, "tekun", since[tw], np.round(line[tw] * 1.3 / 100).astype(np.int64) * 100)
    low = dibao | tekun
    sev = np.flatnonzero(registered & (grade <= 2) & (rng.random(n) < 0.8))
    add(sev, "severe_disability_care", np.maximum(since[sev], people.birth[sev] + 30), np.full(len(sev), 11_000))
    pd = np.flatnonzero(registered & low)
    add(pd, "poor_disabled_living", np.maximum(since[pd], people.birth[pd] + 30), np.full(len(pd), 10_000))
    kids = np.flatnonzero((a < 3) & (rng.random(n) < 0.6))
    add(kids, "childcare_subsidy", people.birth[kids] + 30, np.full(len(kids), 30_000))
    who, kind, day, cents = (np.concatenate(x) for x in zip(*parts, strict=True))
    o = np.lexsort((kind, who))
    return Benefits(who[o], kind[o], day[o], cents[o]), low


def _tier_reached(birth: np.ndarray, day: int) -> np.ndarray:
    """The highest allowance tier (80, 90, 100; else 0) reached by ``day``, birthday by birthday."""
    born = pl.Series(birth.astype(np.int32)).cast(pl.Date)
    today = pl.Series([day], dtype=pl.Int32).cast(pl.Date)[0]
    reached = np.zeros(len(birth), np.int64)
    for age in (80, 90, 100):
        reached[(born.dt.offset_by(f"{age}y") <= today).to_numpy()] = age
    return reached


def allowance_cents(tier: np.ndarray, village: np.ndarray, day: int) -> np.ndarray:
    """What the old-age allowance rule (``rules/parameters/old_age_allowance``) pays per month, in cents:
    the civil-affairs system the extract comes from pays by the same standard."""
    from wugan.rules import load_parameter
    from wugan.settings import REPO_RULES_DIR

    when = dt.date(1970, 1, 1) + dt.timedelta(days=int(day))
    params = {age: load_parameter(f"old_age_allowance.tier_{age}", rules_dir=REPO_RULES_DIR) for age in (80, 90, 100)}
    pairs = list(zip(tier.tolist(), village.tolist(), strict=True))
    lookup = {(t, v): int(round(float(params[t].at(when, v)) * 100)) for t, v in set(pairs)}
    return np.array([lookup[pair] for pair in pairs], dtype=np.int64)


def draw_contributions(rng, people: People, retire_m: np.ndarray, start: int):
    """Months paid per year since 1996 or age 18–24, until retirement (rural: 60); ~85% reach 15 years."""
    y_start = int(ymd(np.array([start]))[0][0])
    by = ymd(people.birth)[0]
    rural = people.employment == 3
    first_y = np.maximum(1996, by + 18 + rng.integers(0, 7, len(people)))
    last_y = np.where(rural, by + 59, retire_m // 12)
    last_y = np.minimum(last_y, y_start - 1)
    length = np.where(people.age >= 18, np.maximum(last_y - first_y + 1, 0), 0)
    who = np.repeat(np.arange(len(people)), length)
    year = first_y[who] + np.arange(len(who)) - np.repeat(np.cumsum(length) - length, length)
    p = rng.beta(3.5, 1.0, len(people))
    paid = rng.random(len(who)) < p[who]
    months = np.where(rng.random(len(who)) < 0.85, 12, rng.integers(1, 12, len(who)))
    return who[paid], year[paid], months[paid]


def draw_pensions(rng, people: People, retire_m: np.ndarray, start: int):
    """Employee pensions from the statutory retirement month; residents' basic pension at 60."""
    start_m = month_index(np.array([start]))[0]
    rural = people.employment == 3
    m60 = month_index(people.birth) + 60 * 12 + 1
    pm = np.where(rural, np.maximum(m60, 2010 * 12), retire_m)
    who = np.flatnonzero(pm <= start_m)
    emp = people.employment[who]
    lo = np.array([3000, 4000, 2600, 150])[emp]
    hi = np.array([6000, 6500, 4000, 300])[emp]
    cents = np.round((lo + (hi - lo) * rng.beta(2, 3, len(who))) * 100).astype(np.int64)
    stopped = rng.random(len(who)) < 0.005
    return who, first_day_of_month(pm[who]), cents, stopped


def draw_assistants(rng, regions: Regions, villages: np.ndarray):
    k = rng.integers(1, 4, len(villages))
    v = np.repeat(villages, k)
    seq = np.arange(len(v)) - np.repeat(np.cumsum(k) - k, k) + 1
    return v, seq, rng.integers(3, 9, len(v))
