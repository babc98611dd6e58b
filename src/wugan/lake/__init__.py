"""The lake: validated department extracts as Parquet, with a DuckDB catalog."""

from wugan.lake.catalog import connect, refresh_catalog
from wugan.lake.contracts import CONTRACTS, REASONS, contract_for
from wugan.lake.ingest import IngestReport, ingest

__all__ = ["CONTRACTS", "REASONS", "IngestReport", "connect", "contract_for", "ingest", "refresh_catalog"]
