"""shadow decisions: a rule set version decided beside the live one, never acted on

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shadow_decisions",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=16), nullable=False),
        sa.Column("event_type", sa.String(length=20), nullable=False),
        sa.Column("ruleset", sa.String(length=40), nullable=False),
        sa.Column("version_label", sa.String(length=40), nullable=False),
        sa.Column("ruleset_version", sa.String(length=16), nullable=False),
        sa.Column("route", sa.String(length=20), nullable=False),
        sa.Column("live_ruleset_version", sa.String(length=16), nullable=False),
        sa.Column("live_route", sa.String(length=20), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("shadow_decisions") as batch:
        batch.create_index("ix_shadow_decisions_event_id", ["event_id"])
        batch.create_index("ix_shadow_decisions_event_type", ["event_type"])
        batch.create_index("ix_shadow_decisions_ruleset", ["ruleset"])
        batch.create_index("ix_shadow_decisions_decided_on", ["decided_on"])


def downgrade() -> None:
    op.drop_table("shadow_decisions")
