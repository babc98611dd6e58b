"""残疾人救助一件事: heavy out-of-pocket medical spending raises a home visit.

The trailing 12 months are summed as of each claim date of a touched person
from the start of the year watching began (and as of the lake's first day,
for spending that was already high then); the alert is the rule set's own,
and the event is dated on the first day of a year it held, by the claims' own
dates: a late or corrected claims file gives the same event as an on-time
one. At most one event per person per year.
"""

from wugan.events.scope import Scope

EVENT = "medical_hardship"
RULESET = "medical_hardship"
TRIGGERED = True
# A first run sums every person's trailing year at each claim date: past this many claims the persons are
# taken in hash parts, so the join's memory stays bounded whatever the city's size.
CLAIMS_PER_PART = 5_000_000


def candidates_sql(scope: Scope) -> str:
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
        SELECT c.person_id, c.claim_date, c.out_of_pocket::DECIMAL(18, 2) AS oop, c.inpatient_days, c.rehab
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
               count(*) AS claims_12m, bool_or(c.rehab) AS rehab_12m
        FROM days d JOIN c ON c.person_id = d.person_id
         AND c.claim_date > d.as_of - INTERVAL 365 DAY AND c.claim_date <= d.as_of
        GROUP BY d.person_id, d.as_of
    )
    SELECT {key} AS key,
           s.person_id, s.person_id AS subject, w.hukou_village AS village_code, w.household_id,
           s.as_of AS event_date, s.as_of, greatest(s.as_of, {scope.first}) AS seen,
           s.oop_12m, r.income_prev_year, s.inpatient_days_12m, s.claims_12m, s.rehab_12m
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
           oop_12m, income_prev_year, inpatient_days_12m, claims_12m, rehab_12m
    FROM ({evaluated})
    QUALIFY row_number() OVER (
        PARTITION BY key ORDER BY cond_alert DESC, CASE WHEN cond_alert THEN as_of END, as_of DESC) = 1
    """
