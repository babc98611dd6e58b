"""Alembic environment: runs migrations on the URL the caller configured."""

from alembic import context

from wugan.cases.db import engine_for
from wugan.cases.models import Base
from wugan.cases.users import User  # noqa: F401  (registers the users table)
from wugan.failpoints import failpoint

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # The case store's own engine: on SQLite it makes DDL transactional, so every migration of an upgrade
    # and the version stamp commit together or not at all.
    url = config.get_main_option("sqlalchemy.url").replace("%%", "%")
    with engine_for(url).connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          transactional_ddl=True, transaction_per_migration=False)
        with context.begin_transaction():
            context.run_migrations()
            failpoint("store.migrating")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
