"""The window a detector looks at: deliveries and dates in (since, until]."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["Window", "window_for"]


@dataclass(frozen=True)
class Window:
    """``since`` is None on a detector's first run: everything delivered up to ``until`` is new."""

    since: dt.date | None
    until: dt.date

    def sql(self, column: str) -> str:
        """A predicate on a DATE column: inside the window."""
        lower = f"{column} > DATE '{self.since.isoformat()}' AND " if self.since else ""
        return f"({lower}{column} <= DATE '{self.until.isoformat()}')"

    def calendar_sql(self, column: str) -> str:
        """A calendar date (a birthday) in the window; a first run looks at ``until`` alone, not all history."""
        return Window(self.since or self.until - dt.timedelta(days=1), self.until).sql(column)

    def shifted_sql(self, column: str, days: int) -> str:
        """Inside the window moved ``days`` ahead; a first run looks from ``until`` on (a look-ahead)."""
        lower = (self.since or self.until - dt.timedelta(days=days)) + dt.timedelta(days=days)
        upper = self.until + dt.timedelta(days=days)
        return f"({column} > DATE '{lower.isoformat()}' AND {column} <= DATE '{upper.isoformat()}')"


def window_for(day: dt.date, watermark: dt.date | None) -> Window:
    """The window that ends on ``day`` given the detector's watermark.

    No watermark: a first run sees all history. A watermark before yesterday
    (days were skipped) widens the window back to it; a rerun of a day already
    seen looks at that day alone, so it finds only what it found before.
    """
    if watermark is None:
        return Window(None, day)
    return Window(min(watermark, day - dt.timedelta(days=1)), day)
