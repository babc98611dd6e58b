"""The detection candidates of a whole period in one query per event type.

Each detector of ``wugan.events`` looks at one window; here the same
conditions are written once over every day of a period, with an ``as_of``
column (the day the pipeline, run daily, would have seen the event), so a
rule set evaluates the whole period in one vectorised query with per-row
as-of dates.

**When a record is known.** Live deliveries count from their delivery day
(``_delivered``), as in the pipeline. The lake's first delivery of a feed is
a backfill of history (the claims of the previous 24 months arrive on the
first day), so a record of that first delivery counts from its own business
date (``claim_date``, ``death_date``, ``birth_date``) — the day it would have
been delivered had the lake existed then.

Opt-outs are not applied (they are the case store's, of today); the persons
and regions tables are the latest snapshot, as in the pipeline.
"""

from __future__ import annotations

import datetime as dt

from wugan.events.hardship import certification_sql, listed_diagnosis_sql

__all__ = ["KNOWN_SQL", "known_views", "candidates_sql", "TRIGGERED"]

# event types whose trigger is the rule set's own output (the others' candidates are their events)
TRIGGERED = {"medical_hardship": "cond_alert", "retirement": None}
RETIREMENT_LOOK_AHEAD_DAYS = 90


def _d(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


def _known(business: str) -> str:
    """The lake's first delivery day (of the registry: a feed's first file may hold no rows) is the backfill."""
    return (f"CASE WHEN _delivered > (SELECT min(_delivered) FROM raw_persons) THEN _delivered "
            f"ELSE least({business}, _delivered) END")


KNOWN_SQL = {
    "bt_claims": f"SELECT *, {_known('claim_date')} AS known FROM claims",
    "bt_deaths": f"SELECT *, {_known('death_date')} AS known FROM deaths",
    "bt_births": f"SELECT *, {_known('birth_date')} AS known FROM births",
}


def known_views(con) -> None:
    """Views ``bt_claims``, ``bt_deaths``, ``bt_births``: the lake's feeds with the day each row is known."""
    for name, sql in KNOWN_SQL.items():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
    con.execute("""CREATE OR REPLACE VIEW bt_death_known AS
                   SELECT person_id, min(known) AS known FROM bt_deaths GROUP BY person_id""")


def medical_hardship(start: dt.date, end: dt.date) -> str:
    """A person is re-examined on every day a claim of theirs becomes known, and everyone with claims on
    the lake's first day, as the pipeline's first run examines them (from 1 January of the start's year,
    so the one-event-per-person-per-year rule sees the year's earlier alerts)."""
    lo = dt.date(start.year, 1, 1)
    return f"""
    WITH c AS (
        SELECT person_id, claim_date, known, out_of_pocket::DECIMAL(18, 2) AS oop, inpatient_days, rehab,
               {listed_diagnosis_sql("icd10")} AS listed
        FROM bt_claims WHERE known <= {_d(end)} AND claim_date > {_d(lo)} - INTERVAL 366 DAY
    ),
    first_day AS (SELECT min(_delivered) AS day FROM raw_persons),
    days AS (
        SELECT DISTINCT person_id, known AS as_of FROM c WHERE known BETWEEN {_d(lo)} AND {_d(end)}
        UNION
        SELECT DISTINCT c.person_id, f.day FROM c, first_day f
        WHERE c.known <= f.day AND f.day BETWEEN {_d(lo)} AND {_d(end)}
    ),
    spend AS (
        SELECT d.person_id, d.as_of, sum(c.oop)::DOUBLE AS oop_12m,
               sum(c.inpatient_days)::BIGINT AS inpatient_days_12m, count(*) AS claims_12m,
               bool_or(c.rehab) AS rehab_12m, min(c.claim_date) FILTER (WHERE c.listed) AS first_disabling_dx
        FROM days d JOIN c ON c.person_id = d.person_id
         AND c.claim_date > d.as_of - INTERVAL 365 DAY AND c.claim_date <= d.as_of AND c.known <= d.as_of
        GROUP BY d.person_id, d.as_of
    )
    SELECT 'medical_hardship:' || p.person_id || ':' || year(s.as_of) AS key,
           p.person_id, p.hukou_village AS village_code, p.household_id, s.as_of AS event_date, s.as_of,
           s.oop_12m, r.income_prev_year, s.inpatient_days_12m, s.claims_12m, s.rehab_12m,
           s.first_disabling_dx, {certification_sql("s.person_id", "s.as_of", delivered=False)}
    FROM spend s
    JOIN persons p ON p.person_id = s.person_id
    JOIN regions r ON r.region_code = p.hukou_village
    LEFT JOIN bt_death_known dk ON dk.person_id = p.person_id
    WHERE coalesce(dk.known > s.as_of, p.alive)
    """


def old_age(start: dt.date, end: dt.date) -> str:
    birthday = "(p.birth_date + to_years(t.age))::DATE"
    return f"""
    SELECT 'old_age:' || p.person_id || ':' || t.age AS key,
           p.person_id, p.hukou_village AS village_code, p.household_id,
           {birthday} AS event_date, {birthday} AS as_of, t.age AS tier_age, p.birth_date,
           TRUE AS hukou_local, TRUE AS alive, p.hukou_village AS region_code
    FROM persons p CROSS JOIN (VALUES (80), (90), (100)) t(age)
    LEFT JOIN bt_death_known dk ON dk.person_id = p.person_id
    WHERE {birthday} BETWEEN {_d(start)} AND {_d(end)}
      AND coalesce(dk.known > {birthday}, p.alive)
    """


def birth(start: dt.date, end: dt.date) -> str:
    return f"""
    SELECT 'birth:' || b.birth_record_id AS key, b.mother_id AS person_id, b.birth_record_id AS subject,
           b.hukou_village AS village_code, m.household_id, b.birth_date AS event_date, b.known AS as_of,
           b.birth_date, b.child_sex, b.mother_id, b.father_id, b.hospital
    FROM bt_births b LEFT JOIN persons m ON m.person_id = b.mother_id
    WHERE b.known BETWEEN {_d(start)} AND {_d(end)}
    """


def death(start: dt.date, end: dt.date) -> str:
    return f"""
    WITH dead AS (
        SELECT * FROM bt_deaths WHERE known BETWEEN {_d(start)} AND {_d(end)}
    ),
    paid AS (SELECT person_id, sum(months) AS contribution_months FROM contributions GROUP BY person_id),
    kin AS (
        SELECT dead.person_id, arg_min(k.person_id, k.birth_date) AS next_of_kin_id
        FROM dead JOIN persons p ON p.person_id = dead.person_id
        JOIN persons k ON k.household_id = p.household_id AND k.person_id <> p.person_id
        WHERE k.birth_date <= dead.known - INTERVAL 18 YEAR
        GROUP BY dead.person_id
    )
    SELECT 'death:' || dead.person_id AS key, dead.person_id, p.hukou_village AS village_code, p.household_id,
           dead.death_date AS event_date, dead.known AS as_of, dead.death_date,
           coalesce(pe.status = 'active', false) AS pension_in_payment,
           coalesce(paid.contribution_months, 0)::INTEGER AS contribution_months,
           r.province_urban_income_prev_year, kin.next_of_kin_id
    FROM dead
    LEFT JOIN persons p ON p.person_id = dead.person_id
    LEFT JOIN pensions pe ON pe.person_id = dead.person_id
    LEFT JOIN paid ON paid.person_id = dead.person_id
    LEFT JOIN regions r ON r.region_code = p.hukou_village
    LEFT JOIN kin ON kin.person_id = dead.person_id
    QUALIFY row_number() OVER (PARTITION BY dead.person_id ORDER BY dead.known) = 1
    """


def retirement(start: dt.date, end: dt.date) -> str:
    """People who may retire within the period plus the look-ahead; the rule set's retirement month
    then says on which day (retirement day − 90) the pipeline sees each of them."""
    return f"""
    SELECT p.person_id, p.hukou_village AS village_code, p.household_id, p.sex,
           CASE WHEN p.employment = 'cadre' THEN 'cadre' ELSE 'worker' END AS category,
           p.birth_date, coalesce(c.contribution_months, 0)::INTEGER AS contribution_months,
           p.alive, (SELECT dk.known FROM bt_death_known dk WHERE dk.person_id = p.person_id) AS death_known
    FROM persons p
    LEFT JOIN (SELECT person_id, sum(months) AS contribution_months FROM contributions GROUP BY person_id) c
      ON c.person_id = p.person_id
    WHERE p.employment IN ('employee', 'cadre', 'flexible')
      AND p.birth_date BETWEEN {_d(start)} - INTERVAL 64 YEAR AND {_d(end)} - INTERVAL 49 YEAR
      AND NOT EXISTS (SELECT 1 FROM pensions pe WHERE pe.person_id = p.person_id AND pe.status = 'active')
    """


SQL = {"medical_hardship": medical_hardship, "old_age": old_age, "birth": birth, "death": death,
       "retirement": retirement}


def candidates_sql(event_type: str, start: dt.date, end: dt.date) -> str:
    return SQL[event_type](start, end)
