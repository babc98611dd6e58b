"""server-side web sessions, random user ids' session versions, the access log, purge dates

Revision ID: 0005
Revises: 0004

The access log is append-only in the database itself: a trigger refuses
UPDATE and DELETE on SQLite and PostgreSQL alike.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = "access_log is append-only"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=16), nullable=False),
        sa.Column("user_version", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_sessions") as batch:
        batch.create_index("ix_web_sessions_user_id", ["user_id"])
        batch.create_index("ix_web_sessions_expires_at", ["expires_at"])
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=120), nullable=False),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_ids", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("access_log") as batch:
        batch.create_index("ix_access_log_at", ["at"])
        batch.create_index("ix_access_log_actor", ["actor"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("purged_on", sa.Date(), nullable=True))

    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER access_log_no_{verb.lower()} BEFORE {verb} ON access_log "
                       f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")
    else:
        op.execute("CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$")
        op.execute("CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON access_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER access_log_append_only ON access_log")
        op.execute("DROP FUNCTION access_log_append_only()")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("purged_on")
    op.drop_table("access_log")  # SQLite drops the table's triggers with it
    op.drop_table("web_sessions")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
