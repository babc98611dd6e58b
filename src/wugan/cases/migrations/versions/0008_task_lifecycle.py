"""task lifecycle: one priority scale, deadlines, queues beyond the village, retries, exploration

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("probability", sa.Float(), nullable=True))
        batch.add_column(sa.Column("deadline", sa.Date(), nullable=True))
        batch.add_column(sa.Column("queue", sa.String(length=16), nullable=False, server_default="village"))
        batch.add_column(sa.Column("assigned_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_try", sa.Date(), nullable=True))
        batch.add_column(sa.Column("propensity", sa.Float(), nullable=True))
        batch.add_column(sa.Column("explored", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index("ix_tasks_status_village", ["status", "village_code"])


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_index("ix_tasks_status_village")
        for column in ("explored", "propensity", "next_try", "attempts", "assigned_on", "queue", "deadline",
                       "probability"):
            batch.drop_column(column)
