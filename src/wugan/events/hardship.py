"""残疾人救助一件事: heavy out-of-pocket medical spending, or a disabling diagnosis, raises a home visit.

The trailing 12 months are summed as of each claim date of a touched person
from the start of the year watching began (and as of the lake's first day,
for spending or a diagnosis already there); the alert is the rule set's own,
and the event is dated on the first day of a year it held, by the claims' own
dates: a late or corrected claims file gives the same event as an on-time
one. At most one event per person per year. The diagnosis trigger and the
registry's answer to "already certified?" are the two SQL pieces below
(``listed_diagnosis_sql``, ``certification_sql``), as of the same day.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from wugan.errors import ConfigError
from wugan.events.scope import Scope

__all__ = ["EVENT", "RULESET", "TRIGGERED", "candidates_sql", "desired_sql", "disabling_groups",
           "listed_diagnosis_sql", "certification_sql"]

EVENT = "medical_hardship"
RULESET = "medical_hardship"
TRIGGERED = True
DIAGNOSES = Path("diagnoses") / "disabling.yaml"
# A first run sums every person's trailing year at each claim date: past this many claims the persons are
# taken in hash parts, so the join's memory stays bounded whatever the city's size.
CLAIMS_PER_PART = 5_000_000


@cache
def _groups(path: str, mtime_ns: int) -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    groups: dict[str, tuple[str, ...]] = {}
    for cat in data["categories"].values():
        for name, group in cat["groups"].items():
            codes = tuple(str(c) for c in group["icd10"])
            bad = [c for c in codes if not c.replace(".", "").isalnum() or "'" in c]
            if bad or not codes:
                raise ConfigError(f"group {name!r} has invalid ICD-10 codes {bad or codes}", path=path)
            groups[name] = codes
    return groups


def disabling_groups(rules_dir: Path | None = None) -> dict[str, tuple[str, ...]]:
    """Group name → ICD-10 code prefixes of ``rules/diagnoses/disabling.yaml``."""
    if rules_dir is None:
        from wugan.settings import get_settings

        rules_dir = get_settings().rules_dir
    path = Path(rules_dir) / DIAGNOSES
    return _groups(str(path), path.stat().st_mtime_ns)


def listed_diagnosis_sql(icd10: str, rules_dir: Path | None = None) -> str:
    """SQL boolean: the claim's main diagnosis ``icd10`` starts with a code of the list."""
    prefixes = sorted({p for codes in disabling_groups(rules_dir).values() for p in codes})
    return "(" + " OR ".join(f"starts_with({icd10}, '{p}')" for p in prefixes) + ")"


def certification_sql(person: str, as_of: str) -> str:
    """SQL select items ``disability_grade`` (null: not certified) and ``care_subsidy`` of ``person`` on
    ``as_of``, by the registry's and the benefits' own dates like every other record."""
    return f"""(SELECT min(g.grade)::INTEGER FROM disability_registry g
                WHERE g.person_id = {person} AND g.registered_date <= {as_of}) AS disability_grade,
               EXISTS (SELECT 1 FROM benefits b
                       WHERE b.person_id = {person} AND b.benefit = 'severe_disability_care'
                         AND b.start_date <= {as_of}) AS care_subsidy"""


def candidates_sql(scope: Scope, rules_dir: Path | None = None) -> str:
    key = "'medical_hardship:' || s.person_id || ':' || year(s.as_of)"
    year = f"date_trunc('year', {scope.first})::DATE"
    return f"""
    WITH who AS (
        SELECT p.person_id, p.hukou_village, p.household_id FROM persons p
        WHERE {scope.touched("p.person_id")} AND {scope.in_part("p.person_id")}
          AND {scope.living("p.person_id", "p.alive", scope.first)}
          AND {scope.in_county("p.hukou_village")}
          AND {scope.not_opted_out("p.person_id", EVENT)}
    ),
    c AS (
        SELECT c.person_id, c.claim_date, c.out_of_pocket::DECIMAL(18, 2) AS oop, c.inpatient_days, c.rehab,
               {listed_diagnosis_sql("c.icd10", rules_dir)} AS listed
        FROM claims c JOIN who USING (person_id)
        WHERE c.claim_date > {year} - INTERVAL 365 DAY AND {scope.known("c.claim_date")}
    ),
    days AS (
        SELECT DISTINCT person_id, claim_date AS as_of FROM c WHERE claim_date >= {year}
        UNION
        SELECT DISTINCT person_id, {scope.first} AS as_of FROM c
    ),
    spend AS (  -- exact decimals: the order of a parallel sum must not matter
        SELECT d.person_id, d.as_of, sum(c.oop)::DOUBLE AS oop_12m,
               sum(c.inpatient_days)::BIGINT AS inpatient_days_12m,
               count(*) AS claims_12m, bool_or(c.rehab) AS rehab_12m,
               min(c.claim_date) FILTER (WHERE c.listed) AS first_disabling_dx
        FROM days d JOIN c ON c.person_id = d.person_id
         AND c.claim_date > d.as_of - INTERVAL 365 DAY AND c.claim_date <= d.as_of
        GROUP BY d.person_id, d.as_of
    )
    SELECT {key} AS key,
           s.person_id, s.person_id AS subject, w.hukou_village AS village_code, w.household_id,
           s.as_of AS event_date, s.as_of, greatest(s.as_of, {scope.first}) AS seen,
           s.oop_12m, r.income_prev_year, s.inpatient_days_12m, s.claims_12m, s.rehab_12m,
           s.first_disabling_dx, {certification_sql("s.person_id", "s.as_of")}
    FROM spend s
    JOIN who w ON w.person_id = s.person_id
    JOIN regions r ON r.region_code = w.hukou_village
    WHERE {scope.wanted(key, "s.person_id")}
    """


def desired_sql(evaluated: str, scope: Scope) -> str:
    """One row per key: the first day of its year the alert held, else (for a key the store holds, to
    be re-examined) the latest day, not due."""
    return f"""
    SELECT key, person_id, subject, village_code, household_id, event_date, as_of, seen, cond_alert AS due,
           oop_12m, income_prev_year, inpatient_days_12m, claims_12m, rehab_12m,
           first_disabling_dx, disability_grade, care_subsidy
    FROM ({evaluated})
    QUALIFY row_number() OVER (
        PARTITION BY key ORDER BY cond_alert DESC, CASE WHEN cond_alert THEN as_of END, as_of DESC) = 1
    """
