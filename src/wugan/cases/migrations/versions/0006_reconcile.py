"""reconcile: consumer offsets into the lake's change log, item versions and reversals, opt-out provenance

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("watermarks")
    op.create_table(
        "offsets",
        sa.Column("detector", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("detector", "scope"),
    )
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("supersedes", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("superseded_by", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("reverses", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("starts_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("period", sa.String(length=10), nullable=True))
        batch.drop_index("ix_items_case_service")
        batch.create_index("ix_items_case_service", ["case_id", "service", "version"], unique=True)
        batch.create_index("ix_items_superseded_by", ["superseded_by"])
    with op.batch_alter_table("opt_outs") as batch:
        batch.add_column(sa.Column("recorded_by", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("opt_outs") as batch:
        batch.drop_column("reason")
        batch.drop_column("recorded_by")
    with op.batch_alter_table("items") as batch:
        batch.drop_index("ix_items_superseded_by")
        batch.drop_index("ix_items_case_service")
        batch.create_index("ix_items_case_service", ["case_id", "service"], unique=True)
        for column in ("period", "starts_on", "reverses", "superseded_by", "supersedes", "version"):
            batch.drop_column(column)
    op.drop_table("offsets")
    op.create_table(
        "watermarks",
        sa.Column("detector", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("detector", "scope"),
    )
