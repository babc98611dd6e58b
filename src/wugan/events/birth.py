"""出生一件事: a hospital's birth record, one event (and one case) per child."""

from wugan.events.common import in_county, not_opted_out
from wugan.events.window import Window

EVENT = "birth"
RULESET = "childcare_subsidy"


def sql(window: Window, county: str | None) -> str:
    return f"""
    SELECT 'birth:' || b.birth_record_id AS key,
           b.mother_id AS person_id,
           b.birth_record_id AS subject,
           b.hukou_village AS village_code,
           m.household_id,
           b.birth_date AS event_date,
           b.birth_date,
           b.child_sex, b.mother_id, b.father_id, b.hospital
    FROM births b
    LEFT JOIN persons m ON m.person_id = b.mother_id
    WHERE {window.sql("b._delivered")}
      AND {in_county("b.hukou_village", county)}
      AND {not_opted_out("b.mother_id", EVENT)}
    """
