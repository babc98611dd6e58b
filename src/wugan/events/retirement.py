"""退休养老一件事: the statutory retirement month comes within the look-ahead window.

The retirement month is the rule set's own derived value, so detection and
assessment can never disagree about who retires when.
"""

from wugan.events.common import alive_on, in_county, not_opted_out
from wugan.events.window import Window

EVENT = "retirement"
RULESET = "retirement"
LOOK_AHEAD_DAYS = 90


def candidates_sql(window: Window, county: str | None) -> str:
    """People of an age that can retire soon, with the rule set's inputs."""
    until = f"DATE '{window.until.isoformat()}'"
    return f"""
    SELECT p.person_id, p.hukou_village, p.household_id, p.sex,
           CASE WHEN p.employment = 'cadre' THEN 'cadre' ELSE 'worker' END AS category,
           p.birth_date,
           coalesce(c.contribution_months, 0)::INTEGER AS contribution_months
    FROM persons p
    LEFT JOIN (SELECT person_id, sum(months) AS contribution_months FROM contributions GROUP BY person_id) c
      ON c.person_id = p.person_id
    WHERE p.employment IN ('employee', 'cadre', 'flexible')
      AND p.birth_date BETWEEN {until} - INTERVAL 64 YEAR AND {until} - INTERVAL 49 YEAR
      AND p.alive AND {alive_on("p.person_id", window)}
      AND NOT EXISTS (SELECT 1 FROM pensions pe WHERE pe.person_id = p.person_id AND pe.status = 'active')
      AND {in_county("p.hukou_village", county)}
      AND {not_opted_out("p.person_id", EVENT)}
    """


def sql(window: Window, evaluated: str) -> str:
    """``evaluated`` is the retirement rule set run over the candidates."""
    retire_on = "strptime(e.retirement_month || '-01', '%Y-%m-%d')::DATE"
    return f"""
    SELECT 'retirement:' || e.person_id || ':' || e.retirement_month AS key,
           e.person_id,
           e.person_id AS subject,
           e.hukou_village AS village_code,
           e.household_id,
           {retire_on} AS event_date,
           e.sex, e.category, e.birth_date, e.contribution_months
    FROM ({evaluated}) e
    WHERE {window.shifted_sql(retire_on, LOOK_AHEAD_DAYS)}
    """
