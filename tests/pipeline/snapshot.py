"""A comparable picture of a case store: every table's rows, sorted, without surrogate ids."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

SKIP_COLUMNS = {"audit_log": {"id"}}


def snapshot(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
        out = {}
        with engine.connect() as conn:
            for table in sorted(tables):
                columns = [c["name"] for c in inspect(engine).get_columns(table)
                           if c["name"] not in SKIP_COLUMNS.get(table, set())]
                rows = conn.execute(text(f"SELECT {', '.join(columns)} FROM {table}")).all()
                out[table] = sorted(tuple(str(v) for v in row) for row in rows)
        return out
    finally:
        engine.dispose()
