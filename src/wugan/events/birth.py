"""出生一件事: a hospital's birth record, one event (and one case) per child."""

from wugan.events.scope import Scope

EVENT = "birth"
RULESET = "childcare_subsidy"
TRIGGERED = False


def candidates_sql(scope: Scope) -> str:
    key = "'birth:' || b.birth_record_id"
    return f"""
    SELECT {key} AS key,
           b.mother_id AS person_id,
           b.birth_record_id AS subject,
           b.hukou_village AS village_code,
           m.household_id,
           b.birth_date AS event_date,
           b.birth_date AS as_of,
           b.birth_date AS seen,
           TRUE AS due,
           b.birth_date,
           b.child_sex, b.mother_id, b.father_id, b.hospital
    FROM births b
    LEFT JOIN persons m ON m.person_id = b.mother_id
    WHERE {scope.known("b.birth_date")}
      AND {scope.wanted(key, "b.mother_id")}
      AND {scope.in_county("b.hukou_village")}
      AND {scope.not_opted_out("b.mother_id", EVENT)}
    """
