"""The web app's few reads from the lake: persons, family contacts, village names, assistants, name search."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from wugan.ids import mask
from wugan.lake import connect
from wugan.settings import Settings

__all__ = ["Person", "Contact", "Assistant", "persons", "family_contacts", "village_names", "capacity_by_village",
           "assistants_near", "person_ids_named"]


REFRESH_SECONDS = 60.0
_lock = threading.Lock()
_cache: dict[Path, tuple[float, duckdb.DuckDBPyConnection]] = {}


def _cursor(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A cursor on one shared in-memory catalog per lake, rebuilt every minute to see new deliveries."""
    key = Path(settings.lake).resolve()
    with _lock:
        made, con = _cache.get(key, (0.0, None))
        if con is None or time.monotonic() - made > REFRESH_SECONDS:
            con = connect(settings)  # the old one closes when its last cursor goes
            _cache[key] = (time.monotonic(), con)
        return con.cursor()


@dataclass(frozen=True)
class Person:
    """What a page may show about a person: the ID number is masked here, once."""

    name: str
    id_masked: str
    phone: str | None
    village_code: str | None
    address: str
    household_id: str | None = None


@dataclass(frozen=True)
class Contact:
    """Whom an assistant calls about a deceased person: a living adult of the same household."""

    name: str
    phone: str | None
    relation: str


@dataclass(frozen=True)
class Assistant:
    assistant_id: str
    name: str
    village_code: str
    village_name: str


_ADDRESS = ("SELECT v.region_code, concat_ws(' ', c.name, t.name, v.name) FROM regions v "
            "LEFT JOIN regions t ON t.region_code = v.parent_code "
            "LEFT JOIN regions c ON c.region_code = t.parent_code "
            "WHERE v.region_code IN (SELECT unnest(?))")


def village_names(settings: Settings, codes: Iterable[str | None], *, full: bool = False) -> dict[str, str]:
    """Village code → "township village", or with ``full`` "county township village"; the code when unknown."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    query = _ADDRESS if full else (
        "SELECT v.region_code, coalesce(t.name || ' ', '') || v.name FROM regions v "
        "LEFT JOIN regions t ON t.region_code = v.parent_code WHERE v.region_code IN (SELECT unnest(?))")
    with _cursor(settings) as con:
        found = dict(con.execute(query, [wanted]).fetchall())
    return {c: found.get(c, c) for c in wanted}


def persons(settings: Settings, person_ids: Iterable[str | None]) -> dict[str, Person]:
    """Persons by ID with their full registered address (county, township, village)."""
    wanted = sorted({p for p in person_ids if p})
    if not wanted:
        return {}
    with _cursor(settings) as con:
        rows = con.execute(
            "SELECT person_id, name, phone, hukou_village, household_id FROM persons "
            "WHERE person_id IN (SELECT unnest(?))",
            [wanted],
        ).fetchall()
    names = village_names(settings, (r[3] for r in rows), full=True)
    return {
        pid: Person(name=name, id_masked=mask(pid) or "", phone=phone, village_code=village,
                    address=names.get(village, village or ""), household_id=household)
        for pid, name, phone, village, household in rows
    }


def family_contacts(settings: Settings, person_ids: Iterable[str | None], *, on: dt.date) -> dict[str, Contact]:
    """For each (deceased) person, the eldest living adult of the household with a phone first."""
    wanted = sorted({p for p in person_ids if p})
    if not wanted:
        return {}
    adult = dt.date(on.year - 18, on.month, min(on.day, 28))
    with _cursor(settings) as con:
        rows = con.execute(
            """SELECT d.person_id, m.name, m.phone, m.sex FROM persons d
               JOIN persons m ON m.household_id = d.household_id AND m.person_id <> d.person_id
               WHERE d.person_id IN (SELECT unnest(?)) AND m.alive AND m.birth_date <= ?
               QUALIFY row_number() OVER (PARTITION BY d.person_id
                                          ORDER BY m.phone IS NULL, m.birth_date, m.person_id) = 1""",
            [wanted, adult],
        ).fetchall()
    return {pid: Contact(name=name, phone=phone, relation="同户家属") for pid, name, phone, _ in rows}


def capacity_by_village(settings: Settings) -> dict[str, int]:
    """Sum of the assistants' weekly visit capacity per village."""
    with _cursor(settings) as con:
        return dict(con.execute(
            "SELECT village_code, CAST(sum(weekly_capacity) AS INTEGER) FROM assistants GROUP BY village_code"
        ).fetchall())


def assistants_near(settings: Settings, village_code: str) -> list[Assistant]:
    """The assistants of a village's township (its own village first): whom an overdue visit can go to."""
    with _cursor(settings) as con:
        rows = con.execute(
            """SELECT a.assistant_id, a.name, a.village_code FROM assistants a
               JOIN regions v ON v.region_code = a.village_code
               WHERE v.parent_code = (SELECT parent_code FROM regions WHERE region_code = ?)
               ORDER BY a.village_code <> ?, a.village_code, a.assistant_id""",
            [village_code, village_code],
        ).fetchall()
    names = village_names(settings, (r[2] for r in rows))
    return [Assistant(assistant_id=a, name=n, village_code=v, village_name=names.get(v, v)) for a, n, v in rows]


def person_ids_named(settings: Settings, name: str, *, limit: int = 200) -> list[str]:
    """IDs of persons whose name starts with ``name`` (a surname finds a family; a full name, the person)."""
    text = name.strip()
    if not text:
        return []
    with _cursor(settings) as con:
        return [r[0] for r in con.execute(
            "SELECT person_id FROM persons WHERE starts_with(name, ?) ORDER BY name, person_id LIMIT ?",
            [text, limit]).fetchall()]
