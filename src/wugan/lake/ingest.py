"""Land department extracts from ``inbox/`` into the lake, enforcing their contracts.

A file is landed whole or refused whole: its good rows become one Parquet
file under ``lake/<table>/day=<delivery day>/``, its bad rows one under
``lake/quarantine/``, and a ledger entry is written last. A file already in
the ledger with the same content is skipped, so ingest can be rerun at will;
a crash before the ledger entry is repaired by the rerun, which overwrites
the same paths.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from wugan.lake.catalog import refresh_catalog
from wugan.lake.contracts import CONTRACTS, INGEST_ORDER, Contract
from wugan.lake.validate import QUARANTINE_SCHEMA, validate
from wugan.settings import Settings

__all__ = ["Delivery", "IngestReport", "deliveries", "ingest", "write_parquet"]

log = logging.getLogger(__name__)

FILE_NAME = re.compile(r"^(?P<table>[a-z_]+)_(?P<day>\d{4}-\d{2}-\d{2})(?:_(?P<part>\d+))?\.csv$")
REFUSED = "_refused"


@dataclass(frozen=True)
class Delivery:
    path: Path
    table: str
    day: dt.date | None

    @property
    def stem(self) -> str:
        return self.path.stem


@dataclass
class IngestReport:
    files_landed: int = 0
    files_skipped: int = 0
    files_refused: int = 0
    rows: Counter = field(default_factory=Counter)
    quarantined: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)

    def merge(self, other: IngestReport) -> None:
        self.files_landed += other.files_landed
        self.files_skipped += other.files_skipped
        self.files_refused += other.files_refused
        self.rows.update(other.rows)
        self.quarantined.update(other.quarantined)
        self.reasons.update(other.reasons)


def deliveries(inbox: Path, *, until: dt.date | None = None, tables: Iterable[str] | None = None) -> list[Delivery]:
    """Files waiting in the inbox, in landing order: by day, regions first, then by name.

    A file whose name matches no table (``day`` None) comes first on a full ingest, to be refused.
    """
    found: list[Delivery] = []
    for path in inbox.glob("*/*.csv"):
        if path.parent.name == REFUSED:
            continue
        match = FILE_NAME.match(path.name)
        if match is None or match["table"] != path.parent.name or match["table"] not in CONTRACTS:
            if tables is None:
                found.append(Delivery(path, path.parent.name, None))
            continue
        day = dt.date.fromisoformat(match["day"])
        if (tables is None or match["table"] in tables) and (until is None or day <= until):
            found.append(Delivery(path, match["table"], day))
    order = {t: i for i, t in enumerate(INGEST_ORDER)}
    return sorted(found, key=lambda d: (d.day or dt.date.min, order.get(d.table, -1), d.path.name))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_parquet(frame: pl.DataFrame, path: Path) -> Path:
    """Write whole or not at all: a reader never sees half a file, a crash leaves only a ``.tmp``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, path)
    return path


class _Lake:
    """What one ingest call knows about the lake: regions and keys already landed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.lake
        self._keys: dict[str, dict[tuple[str, ...], pl.DataFrame]] = {}
        self.regions = self._landed("regions", ["region_code"])["region_code"]

    def _landed(self, table: str, columns: list[str], *, excluding: str | None = None) -> pl.DataFrame:
        files = sorted((self.root / table).glob("day=*/*.parquet"))
        if not files:
            contract = CONTRACTS[table]
            return pl.DataFrame(schema={c: {"int": pl.Int64}.get(contract.column(c).type, pl.String) for c in columns})
        scan = pl.scan_parquet(files)
        if excluding is not None:
            scan = scan.filter(pl.col("_file") != excluding)
        return scan.select(columns).collect()

    def earlier_keys(self, contract: Contract, file: str) -> dict[tuple[str, ...], pl.DataFrame] | None:
        """Keys landed from other files: event feeds never repeat a record across days."""
        if contract.kind != "feed":
            return None
        if contract.table not in self._keys:
            self._keys[contract.table] = {
                key: self._landed(contract.table, list(key), excluding=file)
                for key in (contract.key, *contract.unique)
            }
        return self._keys[contract.table]

    def remember(self, contract: Contract, good: pl.DataFrame) -> None:
        if contract.table == "regions":
            self.regions = pl.concat([self.regions, good["region_code"]]).unique()
        if contract.table in self._keys:
            for key, frame in self._keys[contract.table].items():
                self._keys[contract.table][key] = pl.concat([frame, good.select(list(key))])

    def ledger(self, delivery: Delivery) -> Path:
        return self.root / "_ledger" / delivery.table / f"{delivery.path.name}.json"

    def data_path(self, delivery: Delivery) -> Path:
        return self.root / delivery.table / f"day={delivery.day.isoformat()}" / f"{delivery.stem}.parquet"

    def quarantine_path(self, delivery: Delivery) -> Path:
        return self.root / "quarantine" / f"day={delivery.day.isoformat()}" / f"{delivery.stem}.parquet"


def _refuse(lake: _Lake, delivery: Delivery, rel: str, reason: str, fields: list[str], report: IngestReport) -> None:
    """Move a malformed file aside whole and say why in the quarantine."""
    rows = _count_rows(delivery.path)
    target = lake.settings.inbox / REFUSED / delivery.path.parent.name / delivery.path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(delivery.path, target)
    day = delivery.day or dt.date(1970, 1, 1)  # an unrecognised file has no delivery day
    entry = pl.DataFrame(
        {
            "table": [delivery.table] * len(fields),
            "file": [rel] * len(fields),
            "line": [None] * len(fields),
            "field": fields,
            "value": [None] * len(fields),
            "reason": [reason] * len(fields),
            "message": [
                f"{rel}: {reason} {name!r}; the whole file ({rows} rows) was refused and moved to "
                f"inbox/{REFUSED}/{delivery.path.parent.name}/"
                for name in fields
            ],
        },
        schema=QUARANTINE_SCHEMA,
    )
    path = lake.root / "quarantine" / f"day={day.isoformat()}" / f"{delivery.table}__{delivery.stem}__refused.parquet"
    write_parquet(entry, path)
    report.files_refused += 1
    report.reasons[reason] += len(fields)
    log.warning("refused %s: %s %s", rel, reason, ", ".join(fields))


def _count_rows(path: Path) -> int:
    with open(path, "rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), [])


def _land(lake: _Lake, delivery: Delivery, report: IngestReport) -> None:
    inbox = lake.settings.inbox
    rel = delivery.path.relative_to(inbox).as_posix()
    if delivery.day is None:
        _refuse(lake, delivery, rel, "unknown_table", [delivery.path.name], report)
        return
    contract = CONTRACTS[delivery.table]
    digest = _sha256(delivery.path)
    ledger = lake.ledger(delivery)
    if ledger.exists() and json.loads(ledger.read_text())["sha256"] == digest:
        report.files_skipped += 1
        return

    header = _header(delivery.path)
    missing = [c for c in contract.names if c not in header]
    unexpected = [c for c in header if c not in contract.names]
    if missing:
        _refuse(lake, delivery, rel, "missing_column", missing, report)
        return
    if unexpected:
        _refuse(lake, delivery, rel, "unexpected_column", unexpected, report)
        return

    raw = pl.read_csv(
        delivery.path, infer_schema=False, schema_overrides={c: pl.String for c in header}
    ).with_row_index("_line", offset=2)
    result = validate(
        raw,
        contract,
        file=rel,
        delivery=delivery.day,
        known_regions=lake.regions if contract.table != "regions" else pl.concat(
            [lake.regions, raw["region_code"].str.strip_chars()]
        ),
        earlier_keys=lake.earlier_keys(contract, rel),
    )
    write_parquet(result.good.with_columns(pl.col("_line").cast(pl.Int64)), lake.data_path(delivery))
    write_parquet(result.bad, lake.quarantine_path(delivery))
    lake.remember(contract, result.good)
    ledger.parent.mkdir(parents=True, exist_ok=True)
    ledger.write_text(
        json.dumps(
            {"file": rel, "sha256": digest, "rows": raw.height, "landed": result.good.height,
             "quarantined": result.bad.height},
            indent=1,
        )
    )
    report.files_landed += 1
    report.rows[contract.table] += result.good.height
    report.quarantined[contract.table] += result.bad.height
    report.reasons.update(result.bad["reason"].to_list())
    log.info("landed %s: %d rows, %d quarantined", rel, result.good.height, result.bad.height)


def ingest(
    settings: Settings,
    *,
    until: dt.date | None = None,
    tables: Iterable[str] | None = None,
    progress: Callable[[Delivery], None] | None = None,
) -> IngestReport:
    """Land every waiting delivery up to ``until`` (all when None) and refresh the catalog."""
    report = IngestReport()
    pending = deliveries(settings.inbox, until=until, tables=tables)
    lake = _Lake(settings)
    for delivery in pending:
        _land(lake, delivery, report)
        if progress is not None:
            progress(delivery)
    refresh_catalog(settings)
    return report
