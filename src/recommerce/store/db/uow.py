"""The unit of work: one database transaction; rollback unless `commit()` was called."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine

from recommerce.db.engine import write_lock
from recommerce.store.db.identity import IdentityVault
from recommerce.store.db.repositories import (
    SqlCatalog,
    SqlItems,
    SqlOfferOverrides,
    SqlOutbox,
    SqlPoliceRegister,
    SqlPurchases,
    SqlWatchlist,
)
from recommerce.store.db.till import SqlJournal, SqlStoreCredits, SqlTickets


class SqlUnitOfWork:
    catalog: SqlCatalog
    purchases: SqlPurchases
    register: SqlPoliceRegister
    items: SqlItems
    watchlist: SqlWatchlist
    offer_overrides: SqlOfferOverrides
    outbox: SqlOutbox
    tickets: SqlTickets
    journal: SqlJournal
    store_credits: SqlStoreCredits
    conn: Connection

    def __init__(self, engine: Engine, vault: IdentityVault) -> None:
        self._engine = engine
        self._vault = vault
        self._committed = False

    def __enter__(self) -> SqlUnitOfWork:
        self._lock = write_lock(self._engine)
        self._lock.__enter__()
        try:
            self.conn = self._engine.connect()
            self._transaction = self.conn.begin()
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        self._committed = False
        self.catalog = SqlCatalog(self.conn)
        self.purchases = SqlPurchases(self.conn, self._vault)
        self.register = SqlPoliceRegister(self.conn, self._vault)
        self.items = SqlItems(self.conn)
        self.watchlist = SqlWatchlist(self.conn)
        self.offer_overrides = SqlOfferOverrides(self.conn)
        self.outbox = SqlOutbox(self.conn)
        self.tickets = SqlTickets(self.conn)
        self.journal = SqlJournal(self.conn)
        self.store_credits = SqlStoreCredits(self.conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._transaction.is_active and not self._committed:
                self._transaction.rollback()
        finally:
            self.conn.close()
            self._lock.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        self._transaction.commit()
        self._committed = True
