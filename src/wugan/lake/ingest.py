"""Land department extracts from ``inbox/`` into the lake, enforcing their contracts.

A file is landed whole or refused whole, as one numbered batch of the lake's
change log (``ledger``): its good rows become one Parquet file under
``lake/<table>/day=<delivery day>/``, its bad rows one under
``lake/quarantine/``, and its ledger entry is written last. A file already in
the ledger with the same content is skipped, so ingest can be rerun at will; a
crash before the ledger entry leaves only files no entry names, and the rerun
lands the file as a later batch. A corrected re-delivery (same name, new
content) lands as a new batch that replaces the earlier version, whatever day
it arrives.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import os
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from wugan.failpoints import failpoint
from wugan.lake import ledger
from wugan.lake.catalog import refresh_catalog
from wugan.lake.contracts import CONTRACTS, INGEST_ORDER, Contract
from wugan.lake.validate import QUARANTINE_SCHEMA, validate
from wugan.settings import Settings

__all__ = ["Delivery", "IngestReport", "deliveries", "ingest", "land_frame", "write_parquet"]

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
        self.committed = 0
        self.regions = self._landed("regions", ["region_code"])["region_code"]

    def _landed(self, table: str, columns: list[str], *, excluding: str | None = None) -> pl.DataFrame:
        current = ledger.manifest(self.root).filter(
            (pl.col("table") == table) & pl.col("current") & pl.col("data").is_not_null())
        if excluding is not None:
            current = current.filter(pl.col("file") != excluding)
        if current.is_empty():
            contract = CONTRACTS[table]
            return pl.DataFrame(schema={c: {"int": pl.Int64}.get(contract.column(c).type, pl.String) for c in columns})
        return pl.scan_parquet([self.root / p for p in current["data"]]).select(columns).collect()

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

    def data_path(self, table: str, day: dt.date, stem: str, batch: int) -> str:
        return f"{table}/day={day.isoformat()}/{stem}__b{batch}.parquet"

    def quarantine_path(self, table: str, day: dt.date, stem: str, batch: int) -> str:
        return f"quarantine/day={day.isoformat()}/{table}__{stem}__b{batch}.parquet"

    def commit(self, delivery: Delivery, rel: str, *, good: pl.DataFrame | None, bad: pl.DataFrame,
               digest: str, rows: int, refused: str | None = None) -> ledger.Entry:
        """Land one version of a file as the next batch: its rows, its quarantine, then its ledger entry."""
        day = delivery.day or UNKNOWN_DAY
        stat = delivery.path.stat() if delivery.path.exists() else None
        size, mtime = (stat.st_size, stat.st_mtime_ns) if stat else (0, 0)
        with ledger.locked(self.root):
            batch = ledger.next_batch(self.root)
            marks = {"_batch": pl.lit(batch, pl.Int64), "_delivered": pl.lit(day, pl.Date)}
            data = None
            if good is not None:
                data = self.data_path(delivery.table, day, delivery.stem, batch)
                write_parquet(good.with_columns(pl.col("_line").cast(pl.Int64), **marks), self.root / data)
            quarantine = self.quarantine_path(delivery.table, day, delivery.stem, batch)
            write_parquet(bad.with_columns(**marks), self.root / quarantine)
            version = ledger.Version(
                batch=batch, sha256=digest, data=data, quarantine=quarantine, rows=rows,
                landed=0 if good is None else good.height, quarantined=bad.height if refused is None else 0,
                refused=refused,
            )
            before = ledger.read_entry(self.root, delivery.table, delivery.path.name)
            entry = before.replaced_by(version) if before else ledger.Entry(
                table=delivery.table, file=rel, day=delivery.day.isoformat() if delivery.day else None,
                size=size, mtime_ns=mtime, current=version)
            entry.size, entry.mtime_ns = size, mtime
            ledger.write_entry(self.root, entry)
            self.committed += 1
        return entry


UNKNOWN_DAY = dt.date(1970, 1, 1)  # an unrecognised file has no delivery day


def _refuse(lake: _Lake, delivery: Delivery, rel: str, reason: str, fields: list[str], digest: str,
            report: IngestReport) -> None:
    """Record why a malformed file is refused whole, then move it aside (the record first: a crash loses nothing)."""
    rows = _count_rows(delivery.path)
    folder = f"inbox/{REFUSED}/{delivery.path.parent.name}/"
    entry = pl.DataFrame(
        {
            "table": [delivery.table] * len(fields),
            "file": [rel] * len(fields),
            "line": [None] * len(fields),
            "field": fields,
            "value": [None] * len(fields),
            "reason": [reason] * len(fields),
            "message": [f"{rel}: {reason} {name!r}; the whole file ({rows} rows) was refused and moved to {folder}"
                        for name in fields],
        },
        schema=QUARANTINE_SCHEMA,
    )
    lake.commit(delivery, rel, good=None, bad=entry, digest=digest, rows=rows, refused=reason)
    failpoint("ingest.refused")
    _move_aside(lake, delivery)
    report.files_refused += 1
    report.reasons[reason] += len(fields)
    log.warning("refused %s: %s %s", rel, reason, ", ".join(fields))


def _move_aside(lake: _Lake, delivery: Delivery) -> None:
    target = lake.settings.inbox / REFUSED / delivery.path.parent.name / delivery.path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(delivery.path, target)


def _count_rows(path: Path) -> int:
    with open(path, "rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), [])


def _unchanged(lake: _Lake, delivery: Delivery) -> tuple[bool, str | None]:
    """Already landed with this content? Size and mtime first; the hash only when they differ."""
    entry = ledger.read_entry(lake.root, delivery.table, delivery.path.name)
    if entry is None:
        return False, None
    stat = delivery.path.stat()
    if (stat.st_size, stat.st_mtime_ns) == (entry.size, entry.mtime_ns):
        return True, entry.current.sha256
    digest = _sha256(delivery.path)
    return digest == entry.current.sha256, digest


def _land(lake: _Lake, delivery: Delivery, report: IngestReport) -> None:
    inbox = lake.settings.inbox
    rel = delivery.path.relative_to(inbox).as_posix()
    same, digest = _unchanged(lake, delivery)
    if same:
        entry = ledger.read_entry(lake.root, delivery.table, delivery.path.name)
        if entry is not None and entry.current.refused:
            _move_aside(lake, delivery)  # refused and recorded, but not yet moved when a run died
        report.files_skipped += 1
        return
    digest = digest or _sha256(delivery.path)
    if delivery.day is None:
        _refuse(lake, delivery, rel, "unknown_table", [delivery.path.name], digest, report)
        return
    contract = CONTRACTS[delivery.table]

    header = _header(delivery.path)
    missing = [c for c in contract.names if c not in header]
    unexpected = [c for c in header if c not in contract.names]
    if missing:
        _refuse(lake, delivery, rel, "missing_column", missing, digest, report)
        return
    if unexpected:
        _refuse(lake, delivery, rel, "unexpected_column", unexpected, digest, report)
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
    lake.commit(delivery, rel, good=result.good, bad=result.bad, digest=digest, rows=raw.height)
    failpoint("ingest.landed")
    lake.remember(contract, result.good)
    report.files_landed += 1
    report.rows[contract.table] += result.good.height
    report.quarantined[contract.table] += result.bad.height
    report.reasons.update(result.bad["reason"].to_list())
    log.info("landed %s: %d rows, %d quarantined", rel, result.good.height, result.bad.height)


def land_frame(settings: Settings, table: str, frame: pl.DataFrame, *, day: dt.date, name: str) -> ledger.Entry:
    """Land rows that are already typed as one delivery named ``name``, as ingest lands a file's good rows.

    For deliveries that come from a program rather than a department's CSV
    (a test's fixture, a migration from another system); the frame has the
    contract's columns.
    """
    contract = CONTRACTS[table]
    good = frame.select(contract.names).with_columns(
        _line=pl.int_range(2, frame.height + 2, dtype=pl.Int64), _file=pl.lit(f"{table}/{name}"))
    delivery = Delivery(settings.inbox / table / name, table, day)
    lake = _Lake(settings)
    entry = lake.commit(delivery, f"{table}/{name}", good=good, bad=pl.DataFrame(schema=QUARANTINE_SCHEMA),
                        digest=hashlib.sha256(good.write_ipc(None).getvalue()).hexdigest(), rows=good.height)
    with ledger.locked(settings.lake):
        ledger.refresh_manifest(settings.lake)
    refresh_catalog(settings)
    return entry


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
    with ledger.locked(settings.lake):  # a run that died after a commit left the manifest behind the ledger
        ledger.refresh_manifest(settings.lake)
    lake = _Lake(settings)
    for delivery in pending:
        _land(lake, delivery, report)
        if progress is not None:
            progress(delivery)
    with ledger.locked(settings.lake):
        changed = ledger.refresh_manifest(settings.lake)
    if changed or not settings.catalog.exists():
        refresh_catalog(settings)
    return report
