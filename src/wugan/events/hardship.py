"""残疾人救助一件事: heavy out-of-pocket medical spending, or a disabling diagnosis, raises a home visit.

Only people with new claims in the window are re-examined; the trigger is
the rule set's own alert, at most one event per person per year. The
diagnosis trigger and the registry's answer to "already certified?" are the
two clearly separated SQL pieces below (``listed_diagnosis_sql``,
``certification_sql``); the backtest uses the same ones.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from wugan.errors import ConfigError
from wugan.events.common import alive_on, in_county, not_opted_out
from wugan.events.window import Window

__all__ = ["EVENT", "RULESET", "candidates_sql", "sql", "disabling_groups", "listed_diagnosis_sql",
           "certification_sql"]

EVENT = "medical_hardship"
RULESET = "medical_hardship"
DIAGNOSES = Path("diagnoses") / "disabling.yaml"


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


def certification_sql(person: str, as_of: str, *, delivered: bool = True) -> str:
    """SQL select items ``disability_grade`` (null: not certified) and ``care_subsidy`` of ``person`` on ``as_of``.

    ``delivered``: count registry and benefit rows from their delivery, as the
    pipeline does; a backtest over history counts them from their own dates.
    """
    seen = (lambda t: f" AND {t}._delivered <= {as_of}") if delivered else (lambda t: "")
    return f"""(SELECT min(g.grade)::INTEGER FROM disability_registry g
                WHERE g.person_id = {person} AND g.registered_date <= {as_of}{seen("g")}) AS disability_grade,
               EXISTS (SELECT 1 FROM benefits b
                       WHERE b.person_id = {person} AND b.benefit = 'severe_disability_care'
                         AND b.start_date <= {as_of}{seen("b")}) AS care_subsidy"""


def candidates_sql(window: Window, county: str | None, rules_dir: Path | None = None) -> str:
    until = f"DATE '{window.until.isoformat()}'"
    return f"""
    WITH touched AS (
        SELECT DISTINCT person_id FROM claims WHERE {window.sql("_delivered")}
    ),
    spend AS (
        SELECT c.person_id, sum(c.out_of_pocket::DECIMAL(18, 2))::DOUBLE AS oop_12m  -- exact: the order of a parallel sum must not matter
              , sum(c.inpatient_days)::BIGINT AS inpatient_days_12m,
               count(*) AS claims_12m, bool_or(c.rehab) AS rehab_12m,
               min(c.claim_date) FILTER (WHERE {listed_diagnosis_sql("c.icd10", rules_dir)}) AS first_disabling_dx
        FROM claims c JOIN touched USING (person_id)
        WHERE c.claim_date > {until} - INTERVAL 365 DAY AND c.claim_date <= {until}
          AND c._delivered <= {until}
        GROUP BY c.person_id
    )
    SELECT p.person_id, p.hukou_village, p.household_id,
           s.oop_12m, r.income_prev_year, s.inpatient_days_12m, s.claims_12m, s.rehab_12m,
           s.first_disabling_dx, {certification_sql("s.person_id", until)}
    FROM spend s
    JOIN persons p ON p.person_id = s.person_id
    JOIN regions r ON r.region_code = p.hukou_village
    WHERE p.alive AND {alive_on("p.person_id", window)}
      AND {in_county("p.hukou_village", county)}
      AND {not_opted_out("p.person_id", EVENT)}
    """


def sql(window: Window, evaluated: str) -> str:
    year = window.until.year
    return f"""
    SELECT 'medical_hardship:' || e.person_id || ':{year}' AS key,
           e.person_id,
           e.person_id AS subject,
           e.hukou_village AS village_code,
           e.household_id,
           DATE '{window.until.isoformat()}' AS event_date,
           e.oop_12m, e.income_prev_year, e.inpatient_days_12m, e.claims_12m, e.rehab_12m,
           e.first_disabling_dx, e.disability_grade, e.care_subsidy
    FROM ({evaluated}) e
    WHERE e.cond_alert
    """
