"""高龄津贴: turning 80, 90 or 100 with local household registration."""

from wugan.events.common import alive_on, in_county, not_opted_out
from wugan.events.window import Window

EVENT = "old_age"
RULESET = "old_age_allowance"
AGES = (80, 90, 100)


def sql(window: Window, county: str | None) -> str:
    ages = ", ".join(f"({a})" for a in AGES)
    birthday = "(p.birth_date + to_years(t.age))::DATE"
    return f"""
    SELECT 'old_age:' || p.person_id || ':' || t.age AS key,
           p.person_id,
           p.person_id AS subject,
           p.hukou_village AS village_code,
           p.household_id,
           {birthday} AS event_date,
           t.age AS tier_age,
           p.birth_date,
           TRUE AS hukou_local,
           p.alive AND {alive_on("p.person_id", window)} AS alive,
           p.hukou_village AS region_code
    FROM persons p CROSS JOIN (VALUES {ages}) t(age)
    WHERE {window.calendar_sql(birthday)}
      AND p.alive AND {alive_on("p.person_id", window)}
      AND {in_county("p.hukou_village", county)}
      AND {not_opted_out("p.person_id", EVENT)}
    """
