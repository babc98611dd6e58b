"""What one reconcile pass looks at, as SQL pieces every desired-state query shares.

A pass examines the persons whose data changed since the reconciler's last
batch (the ``touched`` table; everyone on a first run) and, for date
triggers, everyone whose date has come. Nothing here depends on when a file
arrived: a record counts from its own date (birth, death, claim date), so a
late or corrected delivery leads to the same events as an on-time one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["Scope", "date_sql"]


def date_sql(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


@dataclass(frozen=True)
class Scope:
    """``today``: the day reconciled; ``everyone``: no ``touched`` restriction (a first run, a backtest);
    ``first_day``: when watching began (the lake's first delivery day; a backtest's first day);
    ``replay``: a backtest, which asks who was alive on each event's day rather than today."""

    today: dt.date
    first_day: dt.date
    everyone: bool = True
    county: str | None = None
    replay: bool = False
    part: tuple[int, int] = (0, 1)  # (k, n): the k-th of n hash parts of the persons, for a first run's big joins

    @property
    def day(self) -> str:
        return date_sql(self.today)

    @property
    def first(self) -> str:
        return date_sql(self.first_day)

    def known(self, date: str) -> str:
        """A record (a birth, a death, a claim) counts whatever its date once it has landed: a pass for an
        earlier day may come after a later day's run consumed it. A replay stops at its ``today``."""
        return f"{date} <= {self.day}" if self.replay else "TRUE"

    def touched(self, person: str) -> str:
        """The person is one whose data changed (always true when ``everyone``)."""
        return "TRUE" if self.everyone else f"{person} IN (SELECT person_id FROM touched)"

    def in_part(self, person: str) -> str:
        """The person falls in this pass's part (always, when there is one part)."""
        k, n = self.part
        return "TRUE" if n == 1 else f"hash({person}) % {n} = {k}"

    def in_county(self, village: str) -> str:
        return "TRUE" if self.county is None else f"starts_with({village}, '{self.county}')"

    def living(self, person: str, alive: str, at: str) -> str:
        """Alive: the registry (``alive``) says so and no death record has arrived, whenever it arrived;
        replaying, not dead by ``at`` (an SQL date), so one who died later counts on the day of their event."""
        died = f"EXISTS (SELECT 1 FROM deaths d WHERE d.person_id = {person})"
        if not self.replay:
            return f"({alive} AND NOT {died})"
        return (f"(({alive} OR {died}) AND NOT EXISTS "
                f"(SELECT 1 FROM deaths d WHERE d.person_id = {person} AND d.death_date <= {at}))")

    @staticmethod
    def not_opted_out(person: str, service: str) -> str:
        """Citizens' opt-outs (the case store's, loaded into ``opt_outs``) are honoured."""
        return (f"NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.person_id = {person} "
                f"AND o.service IN ('{service}', 'all'))")

    def wanted(self, key: str, person: str) -> str:
        """Rows the pass decides on: events the case store lacks (its keys are in ``existing``), and the
        events it holds of persons whose data changed, which are re-examined."""
        return f"({key} NOT IN (SELECT key FROM existing) OR {self.touched(person)})"
