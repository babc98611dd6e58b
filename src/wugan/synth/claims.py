"""Medical-insurance claims: everyday care plus costly episodes, some disabling, most not.

Costs are lognormal with a Pareto tail. Cancer, heart attacks, fractures, surgery
and childbirth make plenty of people with high out-of-pocket spending who are not
disabled, so an income-share rule alone is imprecise; disabling conditions add
long inpatient stays and rehabilitation claims (rehab = true).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .feeds import Births
from .hardship import FAMILIES, MILD, NAMES, UNLISTED, UNLISTED_FIRST, Conditions
from .persons import People

__all__ = ["Claims", "make_claims"]

HISTORY_DAYS = 730
_OUT_CODES = np.array(["J06.9", "I10", "E11.9", "K29.7", "M54.5", "J20.9", "N39.0", "L30.9", "H10.9",
                       "K02.9", "R51", "M17.9", "I25.9", "J45.9", "Z00.0"])
_IN_CODES = np.array(["J18.9", "I10", "E11.9", "K29.7", "I25.9", "N20.0", "K80.2", "J44.1", "I48.9", "M51.2"])
# kind: (annual probability at 40 or younger, extra per year over the pivot age, pivot, acute median,
#        sigma, inpatient days lo/hi, follow-up claims lo/hi, follow-up median, follow-up rehab, codes)
_EPISODES = {
    "cancer": (0.0008, 0.00025, 40, 60_000, 0.4, (12, 25), (4, 8), 12_000, False,
               ("C34.9", "C16.9", "C18.9", "C50.9", "C22.0", "C53.9", "C61")),
    "cardiac": (0.0004, 0.0002, 40, 50_000, 0.35, (7, 12), (1, 3), 3_000, True, ("I21.9", "I25.1")),
    "fracture": (0.002, 0.0003, 50, 35_000, 0.4, (8, 20), (1, 3), 8_000, True,
                 ("S72.0", "S82.2", "S52.5", "S42.2", "S32.0")),
    "surgery": (0.003, 0.0, 40, 12_000, 0.35, (4, 8), (0, 1), 1_500, False, ("K35.8", "K80.2", "K40.9", "N20.0")),
    "pneumonia": (0.0, 0.0012, 65, 15_000, 0.5, (10, 20), (0, 1), 2_000, False, ("J18.9",)),
}


@dataclass
class Claims:
    person: np.ndarray
    day: np.ndarray
    icd: np.ndarray
    total: np.ndarray  # cents
    oop: np.ndarray  # cents
    inpatient: np.ndarray
    rehab: np.ndarray
    deliver: np.ndarray  # window day index of the file that carries it

    def __len__(self) -> int:
        return len(self.person)


def _cost(rng, median, sigma, n):
    c = median * rng.lognormal(0, sigma, n)
    tail = rng.random(n) < 0.04
    c[tail] *= 1 + rng.pareto(2.2, tail.sum())
    return np.round(c * 100).astype(np.int64)


def make_claims(rng: np.random.Generator, people: People, cond: Conditions, births: Births,
                death_day: np.ndarray, start: int, days: int) -> Claims:
    n = len(people)
    span = HISTORY_DAYS + days
    first = start - HISTORY_DAYS
    parts: list[tuple] = []

    def add(who, day, icd, total, inpatient, rehab):
        parts.append((who, day, icd, total, inpatient, rehab))

    # everyday care: ~4 a year on average, more for the old
    rate = 1.0 + 0.075 * people.age
    k = rng.poisson(rate * span / 365.25)
    who = np.repeat(np.arange(n), k)
    m = len(who)
    inp = rng.random(m) < 0.03 + 0.0015 * people.age[who]
    icd = np.where(inp, _IN_CODES[rng.integers(0, len(_IN_CODES), m)], _OUT_CODES[rng.integers(0, len(_OUT_CODES), m)])
    total = np.where(inp, _cost(rng, 6_000, 0.7, m), _cost(rng, 180, 0.9, m))
    add(who, first + rng.integers(0, span, m), icd, total,
        np.where(inp, 2 + rng.poisson(5, m), 0), np.zeros(m, bool))

    def episode(who, day0, median, sigma, dlo_hi, flo_hi, fmed, frehab, codes, fdays=(0, 0)):
        c = np.array(codes)[rng.integers(0, len(codes), len(who))]
        add(who, day0, c, _cost(rng, median, sigma, len(who)),
            rng.integers(dlo_hi[0], dlo_hi[1] + 1, len(who)), np.zeros(len(who), bool))
        kf = rng.integers(flo_hi[0], flo_hi[1] + 1, len(who))
        fw = np.repeat(np.arange(len(who)), kf)
        step = np.arange(len(fw)) - np.repeat(np.cumsum(kf) - kf, kf) + 1
        fday = day0[fw] + 20 * step + rng.integers(0, 15, len(fw))
        add(who[fw], fday, c[fw], _cost(rng, fmed, 0.4, len(fw)),
            rng.integers(fdays[0], fdays[1] + 1, len(fw)), np.full(len(fw), frehab))

    for p0, slope, pivot, med, sig, dd, ff, fmed, frehab, codes in _EPISODES.values():
        p = (p0 + slope * np.maximum(people.age - pivot, 0)) * span / 365.25
        w = np.flatnonzero(rng.random(n) < p)
        episode(w, first + rng.integers(0, span, len(w)), med, sig, dd, ff, fmed, frehab, codes,
                fdays=(5, 14) if frehab else (2, 6))

    # childbirth: the window's mothers on the day, and past deliveries
    past = np.flatnonzero(~people.male & (people.age > 21) & (people.age < 42)
                          & (rng.random(n) < 0.03 * HISTORY_DAYS / 365.25))
    mothers = np.r_[births.mother, past]
    bday = np.r_[births.day, first + rng.integers(0, HISTORY_DAYS, len(past))]
    cs = rng.random(len(mothers)) < 0.4
    add(mothers, bday, np.where(cs, "O82.0", "O80"), np.where(cs, _cost(rng, 9_000, 0.3, len(mothers)),
        _cost(rng, 5_000, 0.3, len(mothers))), rng.integers(3, 7, len(mothers)), np.zeros(len(mothers), bool))

    # listed diagnoses without lasting disability: a short stay, a check-up or two, no rehabilitation
    p_mild = (MILD[0] + MILD[1] * np.maximum(people.age - 45, 0)) * span / 365.25
    w = np.flatnonzero((rng.random(n) < p_mild) & (people.age >= 18))
    episode(w, first + rng.integers(0, span, len(w)), 15_000, 0.4, (4, 12), (0, 2), 1_200, False, MILD[2])

    # disabling conditions: a costly acute stay (first coded off the list now and then), then long
    # inpatient rehabilitation under the listed diagnosis
    for f, name in enumerate(NAMES):
        sev, med, dd, rr, _codes = FAMILIES[name]
        sel = cond.family == f
        w, d0, codes = cond.person[sel], cond.onset[sel], cond.code[sel]
        off = np.array(UNLISTED[name])[rng.integers(0, len(UNLISTED[name]), len(w))]
        first_code = np.where(rng.random(len(w)) < UNLISTED_FIRST, off, codes)
        add(w, d0, first_code, _cost(rng, med, 0.35, len(w)), rng.integers(dd[0], dd[1] + 1, len(w)),
            np.zeros(len(w), bool))
        kr = rng.integers(rr[0], rr[1] + 1, len(w))
        rw = np.repeat(np.arange(len(w)), kr)
        step = np.arange(len(rw)) - np.repeat(np.cumsum(kr) - kr, kr) + 1
        add(w[rw], d0[rw] + 25 * step + rng.integers(0, 10, len(rw)), codes[rw],
            _cost(rng, 14_000, 0.4, len(rw)), rng.integers(10, 31, len(rw)), np.ones(len(rw), bool))

    who, day, icd, total, inpatient, rehab = (np.concatenate(x) for x in zip(*parts, strict=True))
    keep = (day >= np.maximum(first, people.birth[who])) & (day < start + days)
    keep &= (death_day[who] < 0) | (day <= death_day[who])
    who, day, icd, total, inpatient, rehab = who[keep], day[keep], icd[keep], total[keep], inpatient[keep], rehab[keep]
    m = len(who)
    insured_well = people.employment[who] <= 1  # employee, cadre
    share = np.where(inpatient > 0,
                     np.where(insured_well, rng.uniform(0.18, 0.32, m), rng.uniform(0.3, 0.5, m)),
                     rng.uniform(0.5, 1.0, m))
    share = np.where(rehab, share + 0.1, share)
    oop = np.minimum(total, np.round(total * share).astype(np.int64))
    lag = rng.integers(0, 3, m)
    deliver = np.where(day < start, 0, np.minimum(day - start + lag, days - 1))
    o = np.lexsort((who, day, deliver))
    return Claims(person=who[o], day=day[o], icd=icd[o].astype(str), total=total[o], oop=oop[o],
                  inpatient=inpatient[o].astype(np.int64), rehab=rehab[o], deliver=deliver[o])
