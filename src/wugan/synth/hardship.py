"""Disabling conditions and the hidden truth of who a visit would confirm, and from when.

A few percent of people get a new disabling condition (onset in the 12 months
before the start or during the window). Whether a visit would confirm them for
disability assistance is a noisy logistic function of the condition's severity,
age, living alone and low income; people already registered at grade 1–2 are
not new and never count. Eligibility starts on the onset: a visit before it
finds nothing to confirm.

The mapping from diagnosis to disability is noisy, as in real claims: a share
``UNLISTED_FIRST`` of onsets is first coded with a diagnosis that is not on the
list of disabling conditions (``UNLISTED`` per family: a transient ischaemic
attack, a spinal fracture, a tremor...), the later claims with the listed one;
and many people get a listed diagnosis without any lasting disability
(``MILD``: a minor stroke that recovers, low vision before cataract surgery),
so well over a third of the people with a listed code never become eligible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FAMILIES", "Conditions", "draw_conditions", "eligibility"]

# family: (severity, acute cost median CNY, acute inpatient days lo/hi, rehab claims lo/hi, codes)
FAMILIES = {
    "stroke": (1.2, 45_000, (14, 35), (3, 8), ("I63.9", "I61.9", "I63.5")),
    "spinal": (2.2, 90_000, (21, 50), (4, 10), ("S14.1", "S24.1", "S34.1", "T09.3")),
    "amputation": (1.6, 55_000, (14, 30), (2, 6), ("S48.0", "S58.0", "S68.4", "S78.0", "S88.0", "S98.0")),
    "mental": (0.8, 18_000, (20, 45), (1, 4), ("F20.9", "F25.9", "F31.9")),
    "parkinson": (0.5, 12_000, (7, 15), (1, 4), ("G20",)),
    "cerebral_palsy": (2.0, 25_000, (10, 25), (4, 10), ("G80.9",)),
    "ms": (1.0, 30_000, (10, 20), (2, 5), ("G35",)),
    "blindness": (1.5, 12_000, (5, 12), (0, 2), ("H54.0", "H54.1")),
}
NAMES = list(FAMILIES)
# the first claim of a disabling onset is coded with one of these (not on the list) this often
UNLISTED_FIRST = 0.14
UNLISTED = {
    "stroke": ("G45.9", "R29.8"),  # transient ischaemic attack; other nervous-system symptoms
    "spinal": ("S32.0", "S22.0", "T08"),  # vertebral fractures without the cord injury coded
    "amputation": ("T14.9", "S61.0"),  # injury unspecified; open wound of a finger
    "mental": ("F29", "F39"),  # unspecified psychosis; unspecified mood disorder
    "parkinson": ("R25.1", "G25.9"),  # tremor; extrapyramidal disorder unspecified
    "cerebral_palsy": ("R62.0", "P91.9"),  # delayed milestones; neonatal cerebral disturbance
    "ms": ("G37.9", "R20.2"),  # demyelinating disease unspecified; paraesthesia
    "blindness": ("H35.3", "H40.9"),  # macular degeneration; glaucoma
}
# listed diagnoses that leave no lasting disability: (annual probability at 45, extra per year over 45, codes)
MILD = (0.002, 0.0002, ("I63.9", "I63.9", "I61.9", "H54.2", "H54.1", "F31.9", "G20", "S34.1"))
# weights of each family per age group: <6, 6-17, 18-44, 45-64, 65+
_W = np.array([
    # stroke spinal amput mental parkin cp  ms  blind
    [0.0, 0.05, 0.05, 0.0, 0.0, 0.9, 0.0, 0.0],
    [0.0, 0.25, 0.2, 0.35, 0.0, 0.1, 0.0, 0.1],
    [0.1, 0.25, 0.2, 0.3, 0.0, 0.0, 0.1, 0.05],
    [0.45, 0.12, 0.1, 0.1, 0.08, 0.0, 0.05, 0.1],
    [0.55, 0.05, 0.05, 0.03, 0.17, 0.0, 0.0, 0.15],
])
_AGE_EDGES = np.array([6, 18, 45, 65])


@dataclass
class Conditions:
    person: np.ndarray  # index in chunk
    family: np.ndarray  # index into NAMES
    code: np.ndarray  # ICD-10
    onset: np.ndarray  # epoch day


def draw_conditions(rng: np.random.Generator, age: np.ndarray, start: int, days: int) -> Conditions:
    p = 0.018 + 0.0008 * np.maximum(age - 40, 0)
    who = np.flatnonzero(rng.random(len(age)) < p)
    grp = np.searchsorted(_AGE_EDGES, age[who], side="right")
    cum = np.cumsum(_W[grp], axis=1)
    fam = (rng.random(len(who))[:, None] > cum / cum[:, -1:]).sum(axis=1)
    codes = np.empty(len(who), dtype=object)
    for f, name in enumerate(NAMES):
        m = fam == f
        cs = FAMILIES[name][4]
        codes[m] = np.array(cs)[rng.integers(0, len(cs), m.sum())]
    onset = start - 365 + rng.integers(0, 365 + days, len(who))
    return Conditions(person=who, family=fam, code=codes.astype(str), onset=onset)


def eligibility(rng: np.random.Generator, cond: Conditions, age: np.ndarray, alone: np.ndarray,
                low_income: np.ndarray, grade: np.ndarray, dead: np.ndarray) -> np.ndarray:
    """Per condition holder: would a visit confirm them? (grade 0 = not registered)."""
    sev = np.array([FAMILIES[n][0] for n in NAMES])[cond.family]
    i = cond.person
    logit = (sev + 0.02 * (age[i] - 60) + 0.7 * alone[i] + 0.9 * low_income[i] - 0.6
             - 1.5 * (grade[i] >= 3) + rng.normal(0, 0.8, len(i)))
    ok = rng.random(len(i)) < 1 / (1 + np.exp(-logit))
    return ok & ~((grade[i] >= 1) & (grade[i] <= 2)) & ~dead[i]
