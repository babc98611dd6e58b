"""Validate one delivered file in bounded memory: row checks batch by batch, key checks over the whole file.

The row checks (types, allowed values, cross-field checks, regions) are
``validate`` on batches of the CSV; their good rows go to Parquet parts on
disk. The key checks need the whole file and every earlier landing, so they
run in DuckDB over the parts, against the landed files themselves (never
loaded into Python), and DuckDB spills to disk past its memory limit. The
result is the same quarantine, row for row, as ``validate`` over the whole
file at once; peak memory depends on the batch size, not on the file's.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from wugan.lake.contracts import Contract
from wugan.lake.validate import QUARANTINE_SCHEMA, key_columns, masked_value, quarantined, validate

__all__ = ["Streamed", "validate_file", "BATCH_ROWS", "duckdb_for"]

BATCH_ROWS = 250_000
MEMORY_LIMIT = "1GB"


@dataclass
class Streamed:
    """A validated file: its good rows in ``parts`` (typed, in line order), its quarantine, its row count."""

    parts: list[Path]
    bad: pl.DataFrame
    rows: int
    workdir: Path

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


def duckdb_for(spill: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB for one landing: bounded memory, spilling under the lake."""
    spill.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(spill),
                                  "preserve_insertion_order": True})


def _listed(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def _duplicates(con: duckdb.DuckDBPyConnection, parts: list[Path], contract: Contract,
                earlier: list[Path]) -> pl.DataFrame:
    """Lines whose key (or unique tuple) repeats an earlier line of the file or a landed file, in the order
    ``validate`` checks them: a row already a duplicate by the key is not checked again."""
    con.execute("SET preserve_insertion_order = false")  # the lines are sorted after
    con.execute(f"CREATE OR REPLACE TEMP VIEW parts AS SELECT * FROM read_parquet({_listed(parts)}, hive_partitioning = false)")
    found = []
    taken = "SELECT CAST(NULL AS BIGINT) AS _line WHERE false"
    for n, key in enumerate((contract.key, *contract.unique)):
        cols = ", ".join(f'"{k}"' for k in key)
        clean = f"(SELECT * FROM parts WHERE _line NOT IN ({taken}))"
        # every line of a repeated key after its first: an aggregate and a join, which spill to disk
        # (a window over the file would have to hold it in memory)
        repeats = f"""
            SELECT c._line FROM {clean} c JOIN (
                SELECT {cols}, min(_line) AS first FROM {clean} g GROUP BY {cols} HAVING count(*) > 1
            ) g USING ({cols}) WHERE c._line > g.first"""
        if contract.kind == "feed" and earlier:
            # the landed keys this file repeats, found by streaming the landed files past the file's own
            # keys: the hash table holds one file's keys, never the history's
            landed = (f"SELECT {cols} FROM read_parquet({_listed(earlier)}, hive_partitioning = false) "
                      f"SEMI JOIN parts USING ({cols})")
            repeats += f" UNION SELECT c._line FROM {clean} c SEMI JOIN ({landed}) l USING ({cols})"
        con.execute(f"CREATE OR REPLACE TEMP TABLE dup{n} AS {repeats}")
        found.append((n, key))
        taken = f"{taken} UNION ALL SELECT _line FROM dup{n}"
    frames = []
    for n, key in found:
        rows = con.sql(f"SELECT p._line, p.\"__raw_{key[0]}\" AS \"{key[0]}\" FROM parts p "
                       f"JOIN dup{n} USING (_line)").pl()
        frames.append(rows.with_columns(__field=pl.lit(key[0]), __value=masked_value(contract, key[0]),
                                        __reason=pl.lit("duplicate_key")))
    return pl.concat(frames, how="diagonal") if frames else pl.DataFrame()


def validate_file(path: Path, contract: Contract, *, file: str, delivery: dt.date, header: list[str],
                  known_regions: pl.Series, earlier: list[Path], spill: Path,
                  batch_rows: int = BATCH_ROWS) -> Streamed:
    """Validate ``path`` (a CSV with ``header``) against ``contract``; ``earlier`` are the data files already
    landed for the table (a feed's keys must not repeat them)."""
    spill.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="land-", dir=spill))
    scan = pl.scan_csv(path, infer_schema=False, schema_overrides={c: pl.String for c in header}).with_row_index(
        "_line", offset=2)
    if contract.table == "regions":  # a regions file may name its own parents
        known_regions = pl.concat([known_regions, scan.select(pl.col("region_code").str.strip_chars()).collect()[
            "region_code"]])
    parts, bad, rows = [], [], 0
    for n, raw in enumerate(scan.collect_batches(chunk_size=batch_rows)):
        rows += raw.height
        result = validate(raw.with_columns(pl.col("_line").cast(pl.Int64)), contract, file=file, delivery=delivery,
                          known_regions=known_regions, keys=False)
        part = workdir / f"part-{n:05d}.parquet"
        result.good.write_parquet(part)
        parts.append(part)
        bad.append(result.bad)
    if not parts:  # a header-only file
        empty = validate(pl.DataFrame(schema={c: pl.String for c in header} | {"_line": pl.Int64}), contract,
                         file=file, delivery=delivery, known_regions=known_regions, keys=False)
        parts.append(workdir / "part-00000.parquet")
        empty.good.write_parquet(parts[0])
    con = duckdb_for(workdir / "spill")
    try:
        dups = _duplicates(con, parts, contract, earlier)
    finally:
        con.close()
    if not dups.is_empty():
        bad.append(quarantined(dups, contract, file=file))
    quarantine = pl.concat(bad).sort("line") if bad else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    if not dups.is_empty():  # out of the parts they sit in, which keeps every part in line order
        lines = dups["_line"].implode()
        for part in parts:
            frame = pl.read_parquet(part)
            if frame["_line"].is_in(lines).any():
                frame.filter(~pl.col("_line").is_in(lines)).write_parquet(part)
    return Streamed(parts=parts, bad=quarantine, rows=rows, workdir=workdir)


def good_rows_sql(streamed: Streamed, contract: Contract) -> str:
    """The file's good rows in line order, the key columns' raw copies dropped."""
    raw = ", ".join(f'"__raw_{k}"' for k in key_columns(contract))
    return f"SELECT * EXCLUDE ({raw}) FROM read_parquet({_listed(streamed.parts)}, hive_partitioning = false)"
