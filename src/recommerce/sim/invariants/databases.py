"""The chain's databases, opened for reading only.

The checker never writes: SQLite connections run with `PRAGMA query_only`, PostgreSQL ones
in read-only transactions, so a mistake here fails loudly instead of changing the evidence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url

from recommerce.db.engine import READ_ONLY, make_engine
from recommerce.fiscal.journal import FiscalKey
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db.identity import IdentityVault
from recommerce.store.settings import StoreSettings


@dataclass(frozen=True)
class StoreHandle:
    """A store of the chain as the checker reads it: its settings say where its database and
    its fiscal key are, and its number and time zone."""

    settings: StoreSettings

    @property
    def number(self) -> int:
        return self.settings.store_number

    @property
    def database_url(self) -> str:
        return self.settings.effective_database_url


def read_only_engine(url: str) -> Engine:
    """An engine whose connections cannot write. A SQLite database must exist: opening a
    missing file would create an empty one."""
    parsed = make_url(url)
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file and file != ":memory:" and not Path(file).is_file():
        raise FileNotFoundError(f"no database at {file}")
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _query_only(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA query_only = ON")
            cursor.close()

        return engine
    return engine.execution_options(postgresql_readonly=True)


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """One read transaction (on SQLite, one that never waits for a writer)."""
    with engine.connect() as conn:
        yield conn.execution_options(**{READ_ONLY: True})


class OpenStore:
    """A store's database opened read-only, with its fiscal key loaded lazily: the journal's
    verification (`verify_store_journal`) takes a store node, so the store is one."""

    def __init__(self, handle: StoreHandle) -> None:
        self.handle = handle
        self.number = handle.number
        self.zone = handle.settings.zone
        self.engine = read_only_engine(handle.database_url)
        self._node: StoreNode | None = None

    def reading(self) -> AbstractContextManager[Connection]:
        return reading(self.engine)

    def node(self) -> StoreNode:
        """The store as a node for its own services: the key is read from its file, never
        created; the identity vault is not used by a check and holds a throwaway key unless
        the settings give one."""
        if self._node is None:
            settings = self.handle.settings
            identity = settings.identity_key
            vault_key = identity.get_secret_value() if identity else Fernet.generate_key().decode()
            self._node = StoreNode(
                settings=settings,
                engine=self.engine,
                vault=IdentityVault(vault_key),
                fiscal_key=FiscalKey.load(settings.effective_fiscal_key_path),
            )
        return self._node

    def close(self) -> None:
        self.engine.dispose()


@dataclass
class Databases:
    central: Engine
    stores: list[OpenStore]
    central_data_dir: Path | None

    def central_reading(self) -> AbstractContextManager[Connection]:
        return reading(self.central)


@contextmanager
def opened(
    central_database_url: str, stores: Sequence[StoreHandle], central_data_dir: Path | None
) -> Iterator[Databases]:
    central = read_only_engine(central_database_url)
    opened_stores: list[OpenStore] = []
    try:
        for handle in sorted(stores, key=lambda h: h.number):
            opened_stores.append(OpenStore(handle))
        yield Databases(central, opened_stores, central_data_dir)
    finally:
        for store in opened_stores:
            store.close()
        central.dispose()
