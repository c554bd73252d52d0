"""Alembic environment: the engine comes from the caller (settings), never from an ini file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from recommerce.central.db import (  # noqa: F401  (they register their tables on metadata)
    argus_tables,
    catalog_tables,
    marketplace_tables,
    reporting_tables,
    sync_tables,
)
from recommerce.central.db.tables import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line: RECOMMERCE_CENTRAL_DATABASE_URL or the default
    from recommerce.central.settings import CentralSettings

    engine = create_engine(CentralSettings().effective_database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()
