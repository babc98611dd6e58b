"""身后一件事: a death record stops payments and grants what the survivors are owed."""

from wugan.events.common import in_county, not_opted_out
from wugan.events.window import Window

EVENT = "death"
RULESET = "death"


def sql(window: Window, county: str | None) -> str:
    until = f"DATE '{window.until.isoformat()}'"
    return f"""
    WITH dead AS (
        SELECT d.* FROM deaths d
        WHERE {window.sql("d._delivered")}
    ),
    paid AS (
        SELECT person_id, sum(months) AS contribution_months FROM contributions GROUP BY person_id
    ),
    kin AS (  -- the next of kin who receives the notice: the oldest other adult of the household
        SELECT dead.person_id, arg_min(k.person_id, k.birth_date) AS next_of_kin_id
        FROM dead JOIN persons p ON p.person_id = dead.person_id
        JOIN persons k ON k.household_id = p.household_id AND k.person_id <> p.person_id
        WHERE k.birth_date <= {until} - INTERVAL 18 YEAR
        GROUP BY dead.person_id
    )
    SELECT 'death:' || dead.person_id AS key,
           dead.person_id,
           dead.person_id AS subject,
           p.hukou_village AS village_code,
           p.household_id,
           dead.death_date AS event_date,
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
    WHERE {in_county("p.hukou_village", county)}
      AND {not_opted_out("dead.person_id", EVENT)}
    """
