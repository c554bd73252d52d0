"""The migrations build exactly the tables the code declares, for the store and for central:
a column added to a table without its migration (or the reverse) fails here, not in a store."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine

from recommerce.central.db import (  # noqa: F401
    argus_tables,
    catalog_tables,
    marketplace_tables,
    reporting_tables,
    sync_tables,
)
from recommerce.central.db import migrate as central_migrate
from recommerce.central.db import tables as central_tables
from recommerce.store.db import migrate as store_migrate
from recommerce.store.db import tables as store_tables


@pytest.mark.parametrize(
    ("upgrade", "metadata"),
    [
        (store_migrate.upgrade, store_tables.metadata),
        (central_migrate.upgrade, central_tables.metadata),
    ],
    ids=["store", "central"],
)
def test_the_migrations_build_the_declared_schema(upgrade, metadata: MetaData, tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert differences == []
