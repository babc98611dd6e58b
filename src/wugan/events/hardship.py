"""残疾人救助一件事: heavy out-of-pocket medical spending raises a home visit.

Only people with new claims in the window are re-examined; the threshold is
the rule set's own alert, at most one event per person per year.
"""

from wugan.events.common import alive_on, in_county, not_opted_out
from wugan.events.window import Window

EVENT = "medical_hardship"
RULESET = "medical_hardship"


def candidates_sql(window: Window, county: str | None) -> str:
    until = f"DATE '{window.until.isoformat()}'"
    return f"""
    WITH touched AS (
        SELECT DISTINCT person_id FROM claims WHERE {window.sql("_delivered")}
    ),
    spend AS (
        SELECT c.person_id, sum(c.out_of_pocket::DECIMAL(18, 2))::DOUBLE AS oop_12m  -- exact: the order of a parallel sum must not matter
              , sum(c.inpatient_days)::BIGINT AS inpatient_days_12m,
               count(*) AS claims_12m, bool_or(c.rehab) AS rehab_12m
        FROM claims c JOIN touched USING (person_id)
        WHERE c.claim_date > {until} - INTERVAL 365 DAY AND c.claim_date <= {until}
          AND c._delivered <= {until}
        GROUP BY c.person_id
    )
    SELECT p.person_id, p.hukou_village, p.household_id,
           s.oop_12m, r.income_prev_year, s.inpatient_days_12m, s.claims_12m, s.rehab_12m
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
           e.oop_12m, e.income_prev_year, e.inpatient_days_12m, e.claims_12m, e.rehab_12m
    FROM ({evaluated}) e
    WHERE e.cond_alert
    """
