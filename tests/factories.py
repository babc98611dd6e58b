"""Factories shared by the tests: synthetic cities and case-store seeds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

START = dt.date(2025, 3, 1)


def synth_city(home: Path, *, persons: int, days: int, seed: int = 7, corrupt: float = 0.0) -> Path:
    from wugan.settings import get_settings
    from wugan.synth import generate

    settings = get_settings(home)
    generate(inbox=settings.inbox, truth=settings.truth, persons=persons, seed=seed, start=START, days=days,
             corrupt=corrupt)
    return home

