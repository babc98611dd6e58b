"""高龄津贴: turning 80, 90 or 100 with local household registration.

A date trigger: the highest tier a person had reached when the lake began
(its first delivery day), then each tier's birthday after it, is owed unless
already paid at that amount or more from that day (by the civil-affairs
system, the ``benefits`` extract; an earlier approval is superseded by a
higher tier). The rows depend on dates only, not on which day a run sees
them, so a skipped or late day raises the same tiers as an on-time one.
"""

from wugan.events.scope import Scope

EVENT = "old_age"
RULESET = "old_age_allowance"
TRIGGERED = True
AGES = (80, 90, 100)


def candidates_sql(scope: Scope) -> str:
    birthday = "(p.birth_date + to_years(t.age))::DATE"
    seen = f"greatest(p.birthday, {scope.first})"
    ages = ", ".join(f"({a})" for a in AGES)
    return f"""
    WITH reached AS (
        SELECT p.*, t.age AS tier_age, {birthday} AS birthday,
               'old_age:' || p.person_id || ':' || t.age AS key
        FROM persons p CROSS JOIN (VALUES {ages}) t(age)
        WHERE p.birth_date <= {scope.day} - INTERVAL {AGES[0]} YEAR AND {birthday} <= {scope.day}
          AND {scope.in_county("p.hukou_village")}
    ),
    owed AS (  -- the tier held when the lake began, and every later birthday of a tier
        SELECT * FROM reached
        QUALIFY birthday > {scope.first}
             OR birthday = max(CASE WHEN birthday <= {scope.first} THEN birthday END) OVER (PARTITION BY person_id)
    )
    SELECT p.key,
           p.person_id,
           p.person_id AS subject,
           p.hukou_village AS village_code,
           p.household_id,
           p.birthday AS event_date,
           {seen} AS as_of,  -- the standard in force when it is first paid
           {seen} AS seen,
           p.tier_age,
           p.birth_date,
           TRUE AS hukou_local,
           {scope.living("p.person_id", "p.alive", seen)} AS alive,
           p.hukou_village AS region_code,
           b.monthly_amount AS paid_monthly
    FROM owed p
    LEFT JOIN benefits b ON b.person_id = p.person_id AND b.benefit = 'old_age_allowance' AND b.start_date <= {seen}
    WHERE {scope.wanted("p.key", "p.person_id")}
      AND {scope.living("p.person_id", "p.alive", seen)}
      AND {scope.not_opted_out("p.person_id", EVENT)}
    """


def desired_sql(evaluated: str, scope: Scope) -> str:
    """Due: the rule approves the tier and nothing already pays that much."""
    return f"""
    SELECT key, person_id, subject, village_code, household_id, event_date, as_of, seen,
           old_age_allowance_route = 'instant_approve'
             AND coalesce(paid_monthly, 0) < coalesce(old_age_allowance_amount, 0) AS due,
           tier_age, birth_date, hukou_local, alive, region_code, paid_monthly
    FROM ({evaluated})
    """
