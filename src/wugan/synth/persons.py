"""Residents of a chunk of villages: ages like the 2020 census, households, valid resident IDs.

Everything is a numpy draw over the whole chunk; households are formed by pairing
men and women by age rank within a village and attaching children, unmarried
adults and widowed elders to a couple of the right generation (searchsorted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .names import GIVEN_F, GIVEN_M, SURNAME_WEIGHTS, SURNAMES
from .regions import Regions

__all__ = ["AGE_BANDS", "People", "IdCounter", "make_people", "id_strings", "ymd"]

# Share of the population per 5-year age band, 0-4 … 95-99, 100+ (2020 census shape).
AGE_BANDS = np.array(
    [5.52, 6.38, 6.05, 5.27, 5.39, 6.59, 8.79, 6.99, 6.75, 8.16, 8.63, 7.20,
     4.75, 5.40, 3.64, 2.32, 1.53, 0.74, 0.25, 0.05, 0.01]
)
AGE_BANDS = AGE_BANDS / AGE_BANDS.sum()
EMPLOYMENT = np.array(["employee", "cadre", "flexible", "rural"])
_EMP_URBAN = np.array([0.60, 0.10, 0.22, 0.08])
_EMP_RURAL = np.array([0.06, 0.02, 0.04, 0.88])
_CHECK = np.array(list("10X98765432"))
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_PHONE_PREFIX = np.array([130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 156,
                          157, 158, 159, 166, 176, 177, 180, 181, 182, 186, 187, 188, 189, 199])
_ID_SPAN = 112 * 366  # birth days an ID counter can hold, counted back from the start date


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epoch days → (year, month, day) arrays."""
    d = np.asarray(days).astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    y = m.astype("datetime64[Y]").astype(np.int64) + 1970
    return y, m.astype(np.int64) % 12 + 1, (d - m).astype(np.int64) + 1


def id_strings(county: np.ndarray, birth: np.ndarray, seq3: np.ndarray) -> pl.Series:
    """18-character IDs: county code, birth date, sequence (odd = man), MOD 11-2 check character."""
    y, m, d = ymd(birth)
    body = county.astype(np.int64) * 10**11 + (y * 10000 + m * 100 + d) * 1000 + seq3
    total = np.zeros(len(body), dtype=np.int64)
    rest = body.copy()
    for w in _WEIGHTS[::-1]:
        total += (rest % 10) * w
        rest //= 10
    check = pl.Series(_CHECK[total % 11])
    return pl.Series(body).cast(pl.Utf8) + check


class IdCounter:
    """Sequence numbers already used per (county, birth date, sex), carried across chunks."""

    def __init__(self, n_counties: int, start_days: int):
        self.start = start_days
        self.used = np.zeros(n_counties * _ID_SPAN * 2, dtype=np.int32)

    def take(self, county_idx: np.ndarray, birth: np.ndarray, male: np.ndarray, rng) -> np.ndarray:
        off = self.start - birth
        if off.min() < 0 or off.max() >= _ID_SPAN:
            raise ValueError("birth date outside the ID counter span")
        g = (county_idx * _ID_SPAN + off) * 2 + male
        perm = rng.permutation(len(g))
        order = perm[np.argsort(g[perm], kind="stable")]
        gs = g[order]
        first = np.r_[0, np.flatnonzero(gs[1:] != gs[:-1]) + 1]
        run = np.repeat(first, np.diff(np.r_[first, len(gs)]))
        k = np.empty(len(g), dtype=np.int64)
        k[order] = np.arange(len(gs)) - run + self.used[gs]
        np.add.at(self.used, g, 1)
        if k.max(initial=0) >= 500:
            raise ValueError("more than 500 persons of one sex born on one day in one county")
        return 2 * k + male


@dataclass
class People:
    """One chunk's residents; index i is the same person in every array."""

    pid: pl.Series
    village: np.ndarray  # global village index
    birth: np.ndarray  # epoch days
    age: np.ndarray  # float years at the start date
    male: np.ndarray
    employment: np.ndarray  # index into EMPLOYMENT
    household: np.ndarray  # index (in chunk) of the household root person
    spouse: np.ndarray  # index of the spouse in chunk or -1
    hh_size: np.ndarray
    names: pl.Series
    surname: np.ndarray
    phone: pl.Series
    household_id: pl.Series

    def __len__(self) -> int:
        return len(self.birth)


def _pair(rng, village, age, men, women):
    """Pair men and women of a village by age rank; returns (man, woman) index arrays."""
    mo = men[np.lexsort((age[men] - 2.5, village[men]))]
    wo = women[np.lexsort((age[women], village[women]))]
    nv = village.max() + 1
    cm = np.bincount(village[mo], minlength=nv)
    cw = np.bincount(village[wo], minlength=nv)
    sm = np.r_[0, np.cumsum(cm)[:-1]]
    sw = np.r_[0, np.cumsum(cw)[:-1]]
    vm, vw = village[mo], village[wo]
    rm, rw = np.arange(len(mo)) - sm[vm], np.arange(len(wo)) - sw[vw]
    few_men = cm[vm] <= cw[vm]
    pm1 = mo[few_men]
    pw1 = wo[sw[vm[few_men]] + rm[few_men] * cw[vm[few_men]] // cm[vm[few_men]]]
    few_w = cw[vw] < cm[vw]
    pw2 = wo[few_w]
    pm2 = mo[sm[vw[few_w]] + rw[few_w] * cm[vw[few_w]] // cw[vw[few_w]]]
    return np.r_[pm1, pm2], np.r_[pw1, pw2]


def _attach(rng, village, age, wives, members, gap_lo, gap_hi, direction):
    """A couple household for each member whose wife is `direction * gap` years older; -1 if none."""
    key_c = village[wives] * 1000 + np.floor(age[wives]).astype(np.int64)
    o = np.argsort(key_c, kind="stable")
    key_c, wives = key_c[o], wives[o]
    target = np.floor(age[members]) + direction * rng.integers(gap_lo, gap_hi + 1, len(members))
    key = village[members] * 1000 + np.clip(target, 0, 999).astype(np.int64)
    left = np.searchsorted(key_c, key, "left")
    right = np.searchsorted(key_c, key, "right")
    pos = np.where(right > left, left + (rng.random(len(members)) * (right - left)).astype(np.int64),
                   np.minimum(left, len(key_c) - 1))
    if len(key_c) == 0:
        return np.full(len(members), -1)
    ok = (village[wives[pos]] == village[members]) & (np.abs(age[wives[pos]] - target) <= 4)
    return np.where(ok, wives[pos], -1)


def _cap_households(rng, household, spouse, idx, cap=6):
    """Members beyond `cap` (never the root couple) move out together into a household of their own."""
    core = (household == idx) | (spouse == household) | ((spouse >= 0) & (household == spouse))
    order = np.lexsort((rng.random(len(idx)), ~core, household))
    hs = household[order]
    first = np.r_[0, np.flatnonzero(hs[1:] != hs[:-1]) + 1]
    rank = np.arange(len(hs)) - np.repeat(first, np.diff(np.r_[first, len(hs)]))
    moved = order[rank >= cap]
    if len(moved) == 0:
        return household
    out = household.copy()
    # the first mover of each old household becomes the new root
    mh = household[moved]
    o = np.argsort(mh, kind="stable")
    mh_s, mv_s = mh[o], moved[o]
    head = np.r_[True, mh_s[1:] != mh_s[:-1]]
    new_root = mv_s[head][np.cumsum(head) - 1]
    out[mv_s] = new_root
    # an old-household couple that moved stays together
    sp = spouse[mv_s]
    both = (sp >= 0) & np.isin(sp, mv_s)
    out[mv_s[both]] = out[sp[both]]
    return out


def make_people(rng: np.random.Generator, regions: Regions, villages: np.ndarray, start_days: int,
                ids: IdCounter, county_index: dict[str, int]) -> People:
    pop = regions.population[villages]
    n = int(pop.sum())
    village = np.repeat(villages, pop)
    band = rng.choice(len(AGE_BANDS), size=n, p=AGE_BANDS)
    age = band * 5 + rng.random(n) * 5
    birth = start_days - np.floor(age * 365.25).astype(np.int64) - 1
    age = (start_days - birth) / 365.25
    p_male = np.where(age < 60, 0.51, np.where(age < 80, 0.48, 0.40))
    male = rng.random(n) < p_male
    urban = regions.urban[village]
    emp = np.where(urban, rng.choice(4, n, p=_EMP_URBAN), rng.choice(4, n, p=_EMP_RURAL))

    # households
    idx = np.arange(n)
    alone = (age >= 65) & (rng.random(n) < 0.04)
    p_married = np.select([age < 22, age < 25, age < 30, age < 65, age < 80], [0, 0.3, 0.65, 0.9, 0.75], 0.45)
    marry = ~alone & (rng.random(n) < p_married)
    hm, hw = _pair(rng, village, age, idx[marry & male], idx[marry & ~male])
    household = idx.copy()
    spouse = np.full(n, -1)
    spouse[hm], spouse[hw] = hw, hm
    household[hm] = hw
    in_couple = spouse >= 0
    young_couples = hw[age[hw] < 62]
    child = ~alone & ~in_couple & (age < 22)
    single_adult = ~alone & ~in_couple & (age >= 22) & (age < 55)
    elder = ~alone & ~in_couple & (age >= 55)
    elder_couple_w = hw[(age[hw] >= 62) & (rng.random(len(hw)) < 0.3)]
    joins = [
        (idx[child], 22, 36, 1),
        (idx[single_adult & (rng.random(n) < np.where(age < 35, 0.55, 0.25))], 22, 34, 1),
        (idx[elder & (rng.random(n) < 0.9)], 24, 36, -1),
        (elder_couple_w, 24, 36, -1),
    ]
    for members, lo, hi, direction in joins:
        root = _attach(rng, village, age, young_couples, members, lo, hi, direction)
        got = root >= 0
        household[members[got]] = root[got]
    # an elderly husband follows his wife into their child's household
    household[hm] = household[hw]
    household = _cap_households(rng, _cap_households(rng, household, spouse, idx), spouse, idx)
    hh_size = np.bincount(household, minlength=n)[household]

    county = regions.county_code[village]
    cidx = np.array([county_index[c] for c in regions.county_code[villages]])[np.repeat(np.arange(len(villages)), pop)]
    seq3 = ids.take(cidx, birth, male.astype(np.int64), rng)
    pid = id_strings(county.astype(np.int64), birth, seq3)

    # names: children take the father's surname when he is in the household
    surname = rng.choice(len(SURNAMES), n, p=SURNAME_WEIGHTS)
    head_man = np.where(spouse[household] >= 0, spouse[household], household)
    kin = (household != idx) & ~in_couple
    surname = np.where(kin & male[head_man], surname[head_man], surname)
    g1 = np.where(male, rng.integers(0, len(GIVEN_M), n), rng.integers(0, len(GIVEN_F), n))
    two = rng.random(n) < 0.7
    g2 = np.where(male, rng.integers(0, len(GIVEN_M), n), rng.integers(0, len(GIVEN_F), n))
    gm, gf = np.array(GIVEN_M + ("",)), np.array(GIVEN_F + ("",))
    g2 = np.where(two, g2, np.where(male, len(GIVEN_M), len(GIVEN_F)))
    given1 = np.where(male, gm[np.minimum(g1, len(gm) - 1)], gf[np.minimum(g1, len(gf) - 1)])
    given2 = np.where(male, gm[np.minimum(g2, len(gm) - 1)], gf[np.minimum(g2, len(gf) - 1)])
    names = pl.Series(np.array(SURNAMES)[surname]) + pl.Series(given1) + pl.Series(given2)

    phone = pl.Series(_PHONE_PREFIX[rng.integers(0, len(_PHONE_PREFIX), n)] * 10**8
                      + rng.integers(0, 10**8, n)).cast(pl.Utf8)

    # household ids: H + village code + sequence of the household within the village
    is_root = household == idx
    roots = idx[is_root]
    vstart = np.r_[0, np.cumsum(np.bincount(village[roots] - villages[0], minlength=len(villages)))[:-1]]
    seq = np.zeros(n, dtype=np.int64)
    seq[roots] = np.arange(len(roots)) - vstart[village[roots] - villages[0]] + 1
    vcode = pl.Series(regions.village_code[village])
    household_id = "H" + vcode + pl.Series(seq[household]).cast(pl.Utf8).str.zfill(4)
    return People(pid=pid, village=village, birth=birth, age=age, male=male, employment=emp,
                  household=household, spouse=spouse, hh_size=hh_size, names=names, surname=surname,
                  phone=phone, household_id=household_id)
