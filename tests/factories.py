"""Factories shared by the tests: synthetic cities and case-store seeds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from wugan.lake.contracts import CONTRACTS

START = dt.date(2025, 3, 1)


def synth_city(home: Path, *, persons: int, days: int, seed: int = 7, corrupt: float = 0.0) -> Path:
    from wugan.settings import get_settings
    from wugan.synth import generate

    settings = get_settings(home)
    generate(inbox=settings.inbox, truth=settings.truth, persons=persons, seed=seed, start=START, days=days,
             corrupt=corrupt)
    return home


def write_lake(home: Path, table: str, rows: list[dict]) -> None:
    """One delivery of ``table`` landed in the lake (typed rows, no CSV)."""
    from wugan.lake.ingest import land_frame
    from wugan.settings import get_settings

    contract = CONTRACTS[table]
    types = {"str": pl.String, "id": pl.String, "region": pl.String, "int": pl.Int64, "float": pl.Float64,
             "date": pl.Date, "bool": pl.Boolean}
    schema = {c.name: types[c.type] for c in contract.columns}
    frame = pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema, orient="row")
    land_frame(get_settings(home), table, frame, day=START, name=f"{table}_{START.isoformat()}.csv")
