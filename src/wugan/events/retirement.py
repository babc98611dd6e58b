"""退休养老一件事: the statutory retirement month comes within the look-ahead.

A date trigger over everyone who may claim a pension and has none: the
retirement month is the rule set's own derived value, so detection and
assessment never disagree about who retires when. One event per person; a
corrected birth date or category moves its month by a correction, not by a
second event.
"""

from wugan.events.scope import Scope

EVENT = "retirement"
RULESET = "retirement"
TRIGGERED = True
LOOK_AHEAD_DAYS = 90
YOUNGEST = 50  # no statutory retirement age is lower


def candidates_sql(scope: Scope) -> str:
    """People of an age that can retire soon who draw no pension, with the rule set's inputs."""
    key = "'retirement:' || p.person_id"
    return f"""
    SELECT {key} AS key,
           p.person_id, p.person_id AS subject, p.hukou_village AS village_code, p.household_id,
           p.sex,
           CASE WHEN p.employment = 'cadre' THEN 'cadre' ELSE 'worker' END AS category,
           p.birth_date,
           coalesce(c.contribution_months, 0)::INTEGER AS contribution_months
    FROM persons p
    LEFT JOIN (SELECT person_id, sum(months) AS contribution_months FROM contributions GROUP BY person_id) c
      ON c.person_id = p.person_id
    WHERE p.employment IN ('employee', 'cadre', 'flexible')
      AND p.birth_date <= {scope.day} + INTERVAL {LOOK_AHEAD_DAYS} DAY - INTERVAL {YOUNGEST} YEAR
      AND {scope.wanted(key, "p.person_id")}
      AND {scope.living("p.person_id", "p.alive", scope.first)}
      AND NOT EXISTS (SELECT 1 FROM pensions pe WHERE pe.person_id = p.person_id)
      AND {scope.in_county("p.hukou_village")}
      AND {scope.not_opted_out("p.person_id", EVENT)}
    """


def desired_sql(evaluated: str, scope: Scope) -> str:
    """Due: the retirement month starts within the look-ahead (or has passed with no pension)."""
    return f"""
    SELECT key, person_id, subject, village_code, household_id,
           retirement_date AS event_date, retirement_date AS as_of,
           greatest(retirement_date - INTERVAL {LOOK_AHEAD_DAYS} DAY, {scope.first})::DATE AS seen,
           retirement_date <= {scope.day} + INTERVAL {LOOK_AHEAD_DAYS} DAY AS due,
           sex, category, birth_date, contribution_months
    FROM ({evaluated})
    WHERE retirement_date IS NOT NULL
    """
