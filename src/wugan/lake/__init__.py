"""The lake: validated department extracts as Parquet, with a DuckDB catalog."""

from wugan.lake.catalog import connect, people, refresh_catalog
from wugan.lake.contracts import CONTRACTS, REASONS, contract_for
from wugan.lake.ingest import IngestReport, ingest

__all__ = ["CONTRACTS", "REASONS", "IngestReport", "connect", "contract_for", "ingest", "people", "refresh_catalog"]
