"""The lake's change log: every landing is a numbered batch.

Each delivered file has a ledger entry (``lake/_ledger/<table>/<name>.json``)
with its content hash, the batch it landed as and the Parquet files that hold
its rows and its quarantined rows. A corrected re-delivery lands as a new
batch; its entry keeps the versions it replaced, whose files stay on disk as
history. ``_manifest.parquet`` lists every version of every file: the
catalog's views read the current ones, the reconciler the batches after its
offset (and the version each replaced, whose persons must be re-examined).

Numbers are allocated and entries committed under one lock, so batches are
numbered in commit order: a reader that sees batch n in the manifest sees
every batch committed before it. A crash can burn a number (a gap), never
reuse one, because the counter moves before anything is written.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

__all__ = [
    "Entry",
    "Version",
    "locked",
    "next_batch",
    "read_entry",
    "write_entry",
    "entries",
    "manifest",
    "refresh_manifest",
    "MANIFEST_SCHEMA",
]

LEDGER = "_ledger"
MANIFEST = "_manifest.parquet"
MANIFEST_SCHEMA = {
    "table": pl.String,
    "file": pl.String,
    "day": pl.Date,
    "batch": pl.Int64,
    "data": pl.String,
    "quarantine": pl.String,
    "refused": pl.String,
    "rows": pl.Int64,
    "landed": pl.Int64,
    "quarantined": pl.Int64,
    "current": pl.Boolean,
    "replaced_by": pl.Int64,
    "snapshot": pl.String,
    "totals": pl.String,
}


@dataclass
class Version:
    """One landing of a file: its batch and where its rows went (paths relative to the lake)."""

    batch: int
    sha256: str
    data: str | None
    quarantine: str | None
    rows: int = 0
    landed: int = 0
    quarantined: int = 0
    refused: str | None = None
    snapshot: str | None = None  # a reference table's current state after this batch (``lake.snapshots``)
    totals: str | None = None  # per-person totals derived from that state (contributions)


@dataclass
class Entry:
    """A delivered file as the lake knows it: the current version and those it replaced."""

    table: str
    file: str
    day: str | None
    size: int
    mtime_ns: int
    current: Version
    history: list[Version] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        return cls(
            table=data["table"], file=data["file"], day=data["day"], size=data["size"],
            mtime_ns=data["mtime_ns"], current=Version(**data["current"]),
            history=[Version(**v) for v in data.get("history", [])],
        )

    def replaced_by(self, version: Version) -> Entry:
        """This entry after a corrected re-delivery landed as ``version``."""
        return Entry(table=self.table, file=self.file, day=self.day, size=self.size, mtime_ns=self.mtime_ns,
                     current=version, history=[*self.history, self.current])


def _ledger(root: Path) -> Path:
    return root / LEDGER


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (created with its folder), across processes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def locked(root: Path):
    """The one writer of batch numbers and ledger entries at a time (landers run in parallel)."""
    return file_lock(_ledger(root) / ".lock")


def next_batch(root: Path) -> int:
    """Allocate the next batch number (call under ``locked``); the counter moves first."""
    counter = _ledger(root) / "_batch"
    last = int(counter.read_text()) if counter.exists() else 0
    _atomic_write(counter, str(last + 1))
    return last + 1


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _entry_path(root: Path, table: str, name: str) -> Path:
    return _ledger(root) / table / f"{name}.json"


def read_entry(root: Path, table: str, name: str) -> Entry | None:
    path = _entry_path(root, table, name)
    return Entry.from_json(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else None


def write_entry(root: Path, entry: Entry) -> None:
    """The commit point of a landing (call under ``locked``)."""
    name = Path(entry.file).name
    _atomic_write(_entry_path(root, entry.table, name), json.dumps(asdict(entry), indent=1, ensure_ascii=False))


def entries(root: Path) -> list[Entry]:
    return [Entry.from_json(json.loads(p.read_text(encoding="utf-8")))
            for p in sorted(_ledger(root).glob("*/*.json"))]


def _manifest_frame(found: list[Entry]) -> pl.DataFrame:
    rows = []
    for entry in found:
        versions = [*entry.history, entry.current]
        for version, after in zip(versions, [*versions[1:], None], strict=True):
            rows.append({
                "table": entry.table, "file": entry.file,
                "day": dt.date.fromisoformat(entry.day) if entry.day else None,
                "batch": version.batch, "data": version.data, "quarantine": version.quarantine,
                "refused": version.refused, "rows": version.rows, "landed": version.landed,
                "quarantined": version.quarantined, "current": after is None,
                "replaced_by": after.batch if after else None,
                "snapshot": version.snapshot, "totals": version.totals,
            })
    return pl.DataFrame(rows, schema=MANIFEST_SCHEMA).sort("batch")


def manifest(root: Path) -> pl.DataFrame:
    """Every version of every landed file, by batch (empty before the first landing)."""
    path = root / MANIFEST
    return pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=MANIFEST_SCHEMA)


def refresh_manifest(root: Path) -> bool:
    """Rewrite the manifest from the ledger when they differ (call under ``locked``); True if rewritten."""
    fresh = _manifest_frame(entries(root))
    if (root / MANIFEST).exists() and manifest(root).equals(fresh):
        return False
    path = root / MANIFEST
    tmp = path.with_name(path.name + ".tmp")
    fresh.write_parquet(tmp)
    os.replace(tmp, path)
    return True
