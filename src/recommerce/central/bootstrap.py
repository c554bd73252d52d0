"""The one place that wires central: settings -> engine, clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine

from recommerce.central.db.migrate import upgrade
from recommerce.central.settings import CentralSettings
from recommerce.clock import Clock, SystemClock, clock_from
from recommerce.db.engine import READ_ONLY, make_engine, write_lock
from recommerce.marketplace.notifications import LogNotifier, Notifier
from recommerce.marketplace.payments import PaymentProvider, SimulatedPaymentProvider
from recommerce.marketplace.photo_storage import PhotoStorage, open_photo_storage
from recommerce.marketplace.search import ListingIndex
from recommerce.marketplace.tantivy_index import TantivyListingIndex


@dataclass
class CentralNode:
    settings: CentralSettings
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)
    photo_storage: PhotoStorage | None = None
    search_index: ListingIndex | None = None
    payment_provider: PaymentProvider | None = None
    notifier: Notifier = field(default_factory=LogNotifier)

    @property
    def payments(self) -> PaymentProvider:
        """The online payment provider: the simulated one, with its ledger in the data dir."""
        if self.payment_provider is None:
            self.payment_provider = SimulatedPaymentProvider(self.settings.payments_ledger)
        return self.payment_provider

    @property
    def photos(self) -> PhotoStorage:
        """The marketplace's photo files, by sha256, as the stores upload them."""
        if self.photo_storage is None:
            self.photo_storage = open_photo_storage(
                self.settings.photo_store,
                self.settings.photos_dir,
                endpoint_url=self.settings.photo_store_endpoint,
            )
        return self.photo_storage

    @property
    def listing_index(self) -> ListingIndex:
        """The marketplace's search index, opened once per process (it has one writer)."""
        if self.search_index is None:
            self.search_index = TantivyListingIndex(self.settings.effective_search_index_dir)
        return self.search_index

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection that only reads: on SQLite it never waits for a writer."""
        with self.engine.connect() as conn:
            yield conn.execution_options(**{READ_ONLY: True})

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with write_lock(self.engine), self.engine.begin() as conn:
            yield conn


def bootstrap(
    settings: CentralSettings | None = None, *, clock: Clock | None = None, migrate: bool = True
) -> CentralNode:
    settings = settings or CentralSettings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    if migrate:
        upgrade(engine)
    return CentralNode(
        settings=settings, engine=engine, clock=clock or clock_from(settings.clock_file)
    )
