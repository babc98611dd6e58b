"""SQL pieces every detector shares: who opted out, who died, which county."""

from __future__ import annotations

from wugan.events.window import Window

__all__ = ["not_opted_out", "alive_on", "in_county"]


def not_opted_out(person: str, service: str) -> str:
    """Citizens' opt-outs (loaded from the case store into the ``opt_outs`` table) are honoured."""
    return (
        f"NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.person_id = {person} "
        f"AND o.service IN ('{service}', 'all'))"
    )


def alive_on(person: str, window: Window) -> str:
    return (
        f"NOT EXISTS (SELECT 1 FROM deaths d WHERE d.person_id = {person} "
        f"AND d._delivered <= DATE '{window.until.isoformat()}')"
    )


def in_county(village: str, county: str | None) -> str:
    return "TRUE" if county is None else f"starts_with({village}, '{county}')"
