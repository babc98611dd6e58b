"""the web app's day: idempotent submissions, ticked visit checklists, server-side flash, forced password change, items by decision

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("path", sa.String(length=120), nullable=False),
        sa.Column("entity_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("submissions") as batch:
        batch.create_index("ix_submissions_entity_id", ["entity_id"])
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("checklist", sa.JSON(), nullable=True))
    with op.batch_alter_table("items") as batch:  # a decision's items: the back office's scope and its history
        batch.create_index("ix_items_decision_id", ["decision_id"])
    with op.batch_alter_table("web_sessions") as batch:
        batch.add_column(sa.Column("flash", sa.JSON(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("flash")
    with op.batch_alter_table("items") as batch:
        batch.drop_index("ix_items_decision_id")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("checklist")
    op.drop_table("submissions")
