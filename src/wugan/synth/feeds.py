"""What happens in the window: deaths (age-dependent Gompertz hazard) and births (fertility by age).

Rates are calibrated on the census age shape so a city shows about 7.9 deaths and
6.4 births per 1,000 people per year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .persons import AGE_BANDS, People

__all__ = ["DEATH_RATE", "BIRTH_RATE", "Deaths", "Births", "draw_deaths", "draw_births", "annual_mortality"]

DEATH_RATE, BIRTH_RATE = 7.9 / 1000, 6.4 / 1000
_GOMPERTZ_B = 0.088
_grid = np.arange(0.25, 105, 0.5)
_share = np.repeat(AGE_BANDS, 10)[: len(_grid)] / 10
_GOMPERTZ_A = DEATH_RATE / float((_share * np.exp(_GOMPERTZ_B * _grid)).sum() / _share.sum())
DEATH_CAUSES = np.array(["I63.9", "I21.9", "C34.9", "J44.1", "I50.9", "C16.9", "E11.9", "I61.9", "J18.9", "V89.2"])
_CAUSE_P = np.array([0.2, 0.15, 0.12, 0.12, 0.1, 0.07, 0.07, 0.07, 0.06, 0.04])
PLACES = np.array(["hospital", "home", "other"])


def annual_mortality(age: np.ndarray) -> np.ndarray:
    return np.minimum(0.6, _GOMPERTZ_A * np.exp(_GOMPERTZ_B * age))


@dataclass
class Deaths:
    person: np.ndarray  # index in chunk
    day: np.ndarray  # epoch day of death
    deliver: np.ndarray  # window day index on which the record arrives
    cause: np.ndarray
    place: np.ndarray


@dataclass
class Births:
    mother: np.ndarray
    day: np.ndarray
    deliver: np.ndarray
    male: np.ndarray
    named: np.ndarray  # whether child_name is already known


def draw_deaths(rng: np.random.Generator, people: People, start: int, days: int) -> Deaths:
    p = 1 - (1 - annual_mortality(people.age)) ** (days / 365.25)
    who = np.flatnonzero(rng.random(len(people)) < p)
    off = rng.integers(0, days, len(who))
    lag = np.minimum(rng.integers(0, 2, len(who)), days - 1 - off)
    return Deaths(
        person=who, day=start + off, deliver=off + lag,
        cause=DEATH_CAUSES[rng.choice(len(DEATH_CAUSES), len(who), p=_CAUSE_P)],
        place=PLACES[rng.choice(3, len(who), p=[0.55, 0.4, 0.05])],
    )


def draw_births(rng: np.random.Generator, people: People, start: int, days: int, dying: np.ndarray) -> Births:
    """Mothers are women 20–42 who live through the window; fertility peaks near 29."""
    ok = ~people.male & (people.age >= 20) & (people.age < 42)
    ok[dying] = False
    cand = np.flatnonzero(ok)
    n = min(len(cand), rng.poisson(BIRTH_RATE * len(people) * days / 365.25))
    w = np.exp(-0.5 * ((people.age[cand] - 29) / 5) ** 2) * np.where(people.spouse[cand] >= 0, 1.0, 0.15)
    mother = np.sort(rng.choice(cand, n, replace=False, p=w / w.sum())) if n else cand[:0]
    off = rng.integers(0, days, n)
    lag = np.minimum(rng.integers(0, 2, n), days - 1 - off)
    return Births(mother=mother, day=start + off, deliver=off + lag,
                  male=rng.random(n) < 0.52, named=rng.random(n) < 0.65)
