"""The one place that wires the store node: settings -> engine, vault, clock, argus, policy."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction

from sqlalchemy import Connection, Engine

from recommerce.buyback.handlers import BuyingPolicy
from recommerce.buyback.quote import ArgusPort, ReferencePriceRule
from recommerce.clock import Clock, SystemClock, clock_from
from recommerce.db.engine import READ_ONLY, make_engine
from recommerce.fiscal.journal import FiscalKey
from recommerce.marketplace.photo_storage import PhotoStorage, open_photo_storage
from recommerce.pos.printer import FileReceiptPrinter, NetworkReceiptPrinter, ReceiptPrinter
from recommerce.pos.sale import TillPolicy
from recommerce.pos.terminal import PaymentTerminal, SimulatedPaymentTerminal
from recommerce.store.db.argus import StoredArgus
from recommerce.store.db.identity import IdentityVault
from recommerce.store.db.migrate import upgrade
from recommerce.store.db.uow import SqlUnitOfWork
from recommerce.store.services.staff import TokenCache
from recommerce.store.settings import StoreSettings
from recommerce.store.sync.wakeup import watch_outbox


@dataclass
class StoreNode:
    settings: StoreSettings
    engine: Engine
    vault: IdentityVault
    fiscal_key: FiscalKey
    clock: Clock = field(default_factory=SystemClock)
    argus: ArgusPort = field(default_factory=ReferencePriceRule)
    terminal: PaymentTerminal = field(default_factory=SimulatedPaymentTerminal)
    printer: ReceiptPrinter | None = None
    photo_storage: PhotoStorage | None = None
    tokens: TokenCache = field(default_factory=TokenCache)
    # Set after a transaction that wrote to the outbox commits: wakes the sync worker.
    outbox_written: threading.Event = field(default_factory=threading.Event)

    @property
    def policy(self) -> BuyingPolicy:
        return BuyingPolicy(
            store_number=self.settings.store_number,
            cash_split_window=self.settings.cash_split_window,
            precious_metal_hold=self.settings.precious_metal_hold,
            zone=self.settings.zone,
            override_bounds=self.settings.offer_override_bounds,
        )

    @property
    def till_policy(self) -> TillPolicy:
        return TillPolicy(
            store_number=self.settings.store_number,
            max_discount_without_approval=Fraction(self.settings.till_max_discount_percent, 100),
            zone=self.settings.zone,
            requires_open_till=self.settings.till_requires_open_session,
        )

    @property
    def receipt_printer(self) -> ReceiptPrinter:
        if self.printer is not None:
            return self.printer
        if self.settings.receipt_printer:
            host, _, port = self.settings.receipt_printer.partition(":")
            return NetworkReceiptPrinter(host, int(port or 9100))
        return FileReceiptPrinter(self.settings.data_dir / "receipts")

    @property
    def photos(self) -> PhotoStorage:
        """Where item photos are kept (by sha256): the store's data directory by default."""
        if self.photo_storage is None:
            self.photo_storage = open_photo_storage(
                self.settings.photo_store,
                self.settings.data_dir / "photos",
                endpoint_url=self.settings.photo_store_endpoint,
            )
        return self.photo_storage

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads only: never takes the write lock."""
        with self.engine.connect() as conn:
            yield conn.execution_options(**{READ_ONLY: True})

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.vault)


def bootstrap(
    settings: StoreSettings | None = None, *, clock: Clock | None = None, migrate: bool = True
) -> StoreNode:
    settings = settings or StoreSettings()
    engine = make_engine(settings.effective_database_url)
    if migrate:
        upgrade(engine)
    if settings.identity_key is not None:
        vault = IdentityVault(settings.identity_key.get_secret_value())
    else:
        vault = IdentityVault.from_file(settings.data_dir / "identity.key")
    node = StoreNode(
        settings=settings,
        engine=engine,
        vault=vault,
        fiscal_key=fiscal_key(settings),
        clock=clock or clock_from(settings.clock_file),
        argus=StoredArgus(engine),
    )
    watch_outbox(engine, node.outbox_written)
    return node


def fiscal_key(settings: StoreSettings, *, create: bool = False) -> FiscalKey:
    """The journal's signing key. `recommerce store init` creates it; outside production a
    missing key is created on first start so that a development store simply works."""
    path = settings.effective_fiscal_key_path
    if not path.exists() and (create or settings.environment != "production"):
        return FiscalKey.generate(path)
    return FiscalKey.load(path)
