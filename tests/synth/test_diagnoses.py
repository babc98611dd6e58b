"""The mapping from diagnosis to disability is noisy, and eligibility has a date, as the synth's docs say."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from wugan.events.hardship import disabling_groups
from wugan.synth.hardship import FAMILIES, MILD, UNLISTED
from wugan.synth.visits import outcome_of

pytestmark = pytest.mark.filterwarnings("error")
PREFIXES = sorted({p for codes in disabling_groups().values() for p in codes})


def listed(code: pl.Expr) -> pl.Expr:
    return pl.any_horizontal([code.str.starts_with(p) for p in PREFIXES])


def _claims(root) -> pl.DataFrame:
    return pl.read_csv(root / "inbox" / "claims" / "*.csv", infer_schema=False).with_columns(
        pl.col("claim_date").str.to_date())


def test_the_generator_codes_disabling_conditions_with_listed_codes_and_the_noise_with_unlisted_ones():
    def is_listed(c):
        return any(c.startswith(p) for p in PREFIXES)

    assert all(is_listed(c) for fam in FAMILIES.values() for c in fam[4])
    assert all(is_listed(c) for c in MILD[2])
    assert not any(is_listed(c) for codes in UNLISTED.values() for c in codes)


def test_at_least_a_tenth_of_disabling_onsets_are_first_coded_off_the_list(clean_city):
    root, _ = clean_city
    truth = pl.read_parquet(root / "truth" / "persons.parquet").filter(pl.col("hardship_onset").is_not_null())
    first = _claims(root).join(truth.select("person_id", "hardship_onset"), on="person_id").filter(
        pl.col("claim_date") == pl.col("hardship_onset")).group_by("person_id").agg(
        listed=listed(pl.col("icd10")).any())
    assert first.height > 0.9 * truth.height, "the onset is the day of the first claim"
    share = 1 - first["listed"].mean()
    assert 0.10 <= share <= 0.25, share


def test_at_least_a_third_of_people_with_a_listed_code_never_become_eligible(clean_city):
    root, _ = clean_city
    truth = pl.read_parquet(root / "truth" / "persons.parquet", columns=["person_id", "eligible"])
    coded = _claims(root).filter(listed(pl.col("icd10")))["person_id"].unique()
    never = truth.filter(pl.col("person_id").is_in(coded.implode()))["eligible"].not_().mean()
    assert never >= 1 / 3, never


def test_every_eligible_person_has_an_onset(clean_city):
    root, _ = clean_city
    truth = pl.read_parquet(root / "truth" / "persons.parquet")
    assert truth.filter(pl.col("eligible"))["hardship_onset"].null_count() == 0


@pytest.mark.parametrize(("eligible", "onset", "day", "outcome"), [
    (True, dt.date(2025, 3, 1), dt.date(2025, 3, 1), "confirmed"),  # on the day of the onset
    (True, dt.date(2025, 3, 2), dt.date(2025, 3, 1), "not_eligible"),  # the day before: nothing to confirm yet
    (False, dt.date(2025, 1, 1), dt.date(2025, 3, 1), "not_eligible"),
    (True, None, dt.date(2025, 3, 1), "confirmed"),
])
def test_a_visit_before_the_onset_is_never_confirmed(eligible, onset, day, outcome):
    assert outcome_of(0.5, eligible=eligible, onset=onset, day=day) == outcome


def test_unreachable_and_declined_whatever_the_truth():
    assert outcome_of(0.01, eligible=True, onset=None, day=dt.date(2025, 3, 1)) == "unreachable"
    assert outcome_of(0.05, eligible=True, onset=None, day=dt.date(2025, 3, 1)) == "declined"
