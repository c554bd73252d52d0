"""Store nodes for the benchmarks and the simulator: SQLite, the demo catalogue and staff."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import SecretStr

from recommerce.store.bootstrap import StoreNode, bootstrap
from recommerce.store.seed import seed_catalog, seed_demo_staff
from recommerce.store.settings import StoreSettings


def bench_store(workdir: Path, *, store_number: int = 1) -> StoreNode:
    """A store node on SQLite in `workdir` with the demo catalogue and staff."""
    settings = StoreSettings(
        environment="test",
        data_dir=workdir,
        # SQLite whatever RECOMMERCE_DATABASE_URL says: the figures are SQLite's.
        database_url=f"sqlite:///{(workdir / 'store.db').resolve()}",
        store_number=store_number,
        identity_key=SecretStr(Fernet.generate_key().decode()),
    )
    node = bootstrap(settings)
    with node.uow() as uow:
        seed_catalog(uow.conn)
        seed_demo_staff(uow.conn, at=datetime.now(UTC))
        uow.commit()
    return node
