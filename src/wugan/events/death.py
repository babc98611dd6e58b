"""身后一件事: a death record stops payments and grants what the survivors are owed.

A deceased person's own opt-outs end with them: the bundle (and the stop of
every payment, ``reconcile.reversals``) always follows a death record.
"""

from wugan.events.scope import Scope

EVENT = "death"
RULESET = "death"
TRIGGERED = False


def candidates_sql(scope: Scope) -> str:
    key = "'death:' || d.person_id"
    return f"""
    WITH dead AS (
        SELECT d.* FROM deaths d
        WHERE {scope.known("d.death_date")} AND {scope.wanted(key, "d.person_id")}
    ),
    paid AS (
        SELECT person_id, sum(months) AS contribution_months FROM contributions
        WHERE person_id IN (SELECT person_id FROM dead) GROUP BY person_id
    ),
    kin AS (  -- the next of kin who receives the notice: the oldest other adult of the household
        SELECT dead.person_id, arg_min(k.person_id, k.birth_date) AS next_of_kin_id
        FROM dead JOIN persons p ON p.person_id = dead.person_id
        JOIN persons k ON k.household_id = p.household_id AND k.person_id <> p.person_id
        WHERE k.birth_date <= dead.death_date - INTERVAL 18 YEAR
        GROUP BY dead.person_id
    )
    SELECT 'death:' || dead.person_id AS key,
           dead.person_id,
           dead.person_id AS subject,
           p.hukou_village AS village_code,
           p.household_id,
           dead.death_date AS event_date,
           dead.death_date AS as_of,
           dead.death_date AS seen,
           TRUE AS due,
           dead.death_date,
           coalesce(pe.status = 'active', false) AS pension_in_payment,
           coalesce(paid.contribution_months, 0)::INTEGER AS contribution_months,
           r.province_urban_income_prev_year,
           kin.next_of_kin_id
    FROM dead
    LEFT JOIN persons p ON p.person_id = dead.person_id
    LEFT JOIN pensions pe ON pe.person_id = dead.person_id
    LEFT JOIN paid ON paid.person_id = dead.person_id
    LEFT JOIN regions r ON r.region_code = p.hukou_village
    LEFT JOIN kin ON kin.person_id = dead.person_id
    WHERE {scope.in_county("p.hukou_village")}
    """
