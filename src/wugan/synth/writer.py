"""CSV files in the inbox layout, appended chunk by chunk, with the fault manifest kept in step.

Every file is created with its header before any chunk is written, so a day
without rows still has its header-only file, and line numbers are known when a
block is appended.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

__all__ = ["COLUMNS", "REFERENCE", "FEEDS", "Sink", "dates", "money"]

COLUMNS = {
    "regions": ["region_code", "name", "level", "parent_code", "urban", "income_prev_year", "dibao_line",
                "province_urban_income_prev_year"],
    "persons": ["person_id", "name", "sex", "birth_date", "household_id", "hukou_village", "phone",
                "employment", "alive"],
    "contributions": ["person_id", "year", "months"],
    "pensions": ["person_id", "start_date", "monthly_amount", "status"],
    "claims": ["claim_id", "person_id", "claim_date", "hospital", "icd10", "total", "insurer_paid",
               "out_of_pocket", "inpatient_days", "rehab"],
    "disability_registry": ["person_id", "grade", "type", "registered_date"],
    "benefits": ["person_id", "benefit", "start_date", "monthly_amount"],
    "births": ["birth_record_id", "birth_date", "child_name", "child_sex", "mother_id", "father_id", "hospital",
               "hukou_village"],
    "deaths": ["death_record_id", "person_id", "death_date", "cause_icd10", "place"],
    "assistants": ["assistant_id", "name", "village_code", "phone", "weekly_capacity"],
}
REFERENCE = ("regions", "persons", "contributions", "pensions", "disability_registry", "benefits", "assistants")
FEEDS = ("births", "deaths", "claims")


def dates(days: np.ndarray) -> pl.Series:
    """Epoch days → ISO strings."""
    return pl.Series(np.asarray(days).astype(np.int32)).cast(pl.Date).cast(pl.Utf8)


def money(cents: np.ndarray) -> pl.Series:
    """Integer cents → '123.45' exactly (no float rounding)."""
    c = pl.Series(np.asarray(cents, dtype=np.int64))
    return (c // 100).cast(pl.Utf8) + "." + (c % 100).cast(pl.Utf8).str.zfill(2)


class Sink:
    def __init__(self, inbox: Path, start: dt.date, days: int, file_faults: dict[tuple[str, int], tuple[str, str]]):
        self.inbox, self.start, self.days = inbox, start, days
        self.file_faults = file_faults  # (table, day) → (kind, column)
        self.lines: dict[str, int] = {}
        self.rows: dict[str, int] = dict.fromkeys(COLUMNS, 0)
        self.manifest: list[pl.DataFrame] = []

    def rel(self, table: str, day: int) -> str:
        return f"{table}/{table}_{self.start + dt.timedelta(days=day)}.csv"

    def _columns(self, table: str, day: int) -> list[str]:
        cols = list(COLUMNS[table])
        kind, col = self.file_faults.get((table, day), (None, None))
        if kind == "missing_column":
            cols.remove(col)
        elif kind == "unexpected_column":
            cols.append(col)
        return cols

    def create_all(self) -> None:
        for table in COLUMNS:
            for day in range(self.days if table in FEEDS else 1):
                rel = self.rel(table, day)
                path = self.inbox / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes((",".join(self._columns(table, day)) + "\n").encode())
                self.lines[rel] = 1
        self.manifest.append(pl.DataFrame(
            [(t, self.rel(t, d), None, c, k) for (t, d), (k, c) in sorted(self.file_faults.items())],
            schema={"table": pl.Utf8, "file": pl.Utf8, "line": pl.Int64, "field": pl.Utf8, "kind": pl.Utf8},
            orient="row"))

    @property
    def files(self) -> int:
        return len(self.lines)

    def write(self, table: str, df: pl.DataFrame) -> None:
        """df: string columns + _day (+ _kind/_field/_ord from corrupt)."""
        if len(df) == 0:
            return
        if "_ord" in df.columns:
            df = df.sort(["_day", "_ord"], maintain_order=True)
        parts = df.partition_by("_day", as_dict=True, maintain_order=True) if table in FEEDS else {(0,): df}
        for (day,), part in parts.items():
            rel = self.rel(table, int(day))
            start_line = self.lines[rel]
            if "_kind" in part.columns:
                bad = part.with_row_index("_i").filter(pl.col("_kind").is_not_null())
                if len(bad):
                    self.manifest.append(bad.select(
                        table=pl.lit(table), file=pl.lit(rel),
                        line=(pl.col("_i").cast(pl.Int64) + start_line + 1), field=pl.col("_field"),
                        kind=pl.col("_kind")))
            cols = self._columns(table, int(day))
            out = part.with_columns(pl.lit("-").alias(c) for c in cols if c not in part.columns).select(cols)
            with open(self.inbox / rel, "ab") as fh:
                out.write_csv(fh, include_header=False, null_value="")
            self.lines[rel] = start_line + len(out)
            self.rows[table] += len(out)

    def manifest_frame(self) -> pl.DataFrame:
        return pl.concat(self.manifest, how="vertical_relaxed").sort("file", "line", nulls_last=False)
