"""The web app's few reads from the lake: persons, village names, assistants' capacity."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from wugan.ids import mask
from wugan.lake import connect
from wugan.settings import Settings

__all__ = ["Person", "persons", "village_names", "capacity_by_village"]


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


def village_names(settings: Settings, codes: Iterable[str | None]) -> dict[str, str]:
    """Village code → "township village" (or the code when the lake does not know it)."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    with _cursor(settings) as con:
        rows = con.execute(
            "SELECT v.region_code, coalesce(t.name || ' ', '') || v.name FROM regions v "
            "LEFT JOIN regions t ON t.region_code = v.parent_code "
            "WHERE v.region_code IN (SELECT unnest(?))",
            [wanted],
        ).fetchall()
    found = dict(rows)
    return {c: found.get(c, c) for c in wanted}


def persons(settings: Settings, person_ids: Iterable[str | None]) -> dict[str, Person]:
    wanted = sorted({p for p in person_ids if p})
    if not wanted:
        return {}
    with _cursor(settings) as con:
        rows = con.execute(
            "SELECT person_id, name, phone, hukou_village FROM persons WHERE person_id IN (SELECT unnest(?))",
            [wanted],
        ).fetchall()
    names = village_names(settings, (r[3] for r in rows))
    return {
        pid: Person(name=name, id_masked=mask(pid) or "", phone=phone, village_code=village,
                    address=names.get(village, village or ""))
        for pid, name, phone, village in rows
    }


def capacity_by_village(settings: Settings) -> dict[str, int]:
    """Sum of the assistants' weekly visit capacity per village."""
    with _cursor(settings) as con:
        return dict(con.execute(
            "SELECT village_code, CAST(sum(weekly_capacity) AS INTEGER) FROM assistants GROUP BY village_code"
        ).fetchall())
