"""alerts for the back office; escalation dates on items and tasks

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=True),
        sa.Column("ruleset", sa.String(length=40), nullable=True),
        sa.Column("entity", sa.String(length=20), nullable=True),
        sa.Column("entity_id", sa.String(length=40), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alerts") as batch:
        batch.create_index("ix_alerts_kind", ["kind"])
        batch.create_index("ix_alerts_department", ["department"])
        batch.create_index("ix_alerts_created_on", ["created_on"])
        batch.create_index("ix_alerts_status", ["status"])
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("escalated_on", sa.Date(), nullable=True))
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("escalated_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("escalated_on")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("escalated_on")
    op.drop_table("alerts")
