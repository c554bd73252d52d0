"""What the buying handlers need from the outside world, as interfaces.

The store app implements them on its database; unit tests implement them in memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from recommerce.buyback.offer import OfferOverride
from recommerce.buyback.purchase import Purchase
from recommerce.buyback.seller import IdentityDocument
from recommerce.buyback.watchlist import WatchlistEntry
from recommerce.catalog.model import Article, Category
from recommerce.inventory.model import Item
from recommerce.money import Money
from recommerce.registers.police import RegisterBook, RegisterEntry
from recommerce.sync.outbox import Outbox
from recommerce.uow import UnitOfWork


class Catalog(Protocol):
    def article(self, article_id: str) -> Article | None: ...
    def category(self, code: str) -> Category | None: ...


class Purchases(Protocol):
    def add(self, purchase: Purchase) -> None: ...
    def cash_paid_to_seller_since(self, seller_key: str, since: datetime) -> Money: ...


class PoliceRegister(Protocol):
    def next_number(self, book: RegisterBook) -> int: ...
    def append(self, entry: RegisterEntry) -> None: ...
    def get(self, book: RegisterBook, number: int) -> RegisterEntry | None: ...


class Items(Protocol):
    def next_label_sequence(self) -> int: ...
    def add(self, item: Item) -> None: ...


class Watchlist(Protocol):
    def matches(self, serials: Iterable[str]) -> list[WatchlistEntry]: ...
    def record_alert(
        self, *, at: datetime, staff_id: str, seller_name: str, matches: list[WatchlistEntry]
    ) -> None: ...


class OfferOverrides(Protocol):
    """The log of prices agreed above the argus' offer: written with the purchase, never changed."""

    def add(self, override: OfferOverride) -> None: ...


class BuyingUnitOfWork(UnitOfWork, Protocol):
    """One database transaction: everything written through it commits together or not at all."""

    @property
    def catalog(self) -> Catalog: ...
    @property
    def purchases(self) -> Purchases: ...
    @property
    def register(self) -> PoliceRegister: ...
    @property
    def items(self) -> Items: ...
    @property
    def watchlist(self) -> Watchlist: ...
    @property
    def offer_overrides(self) -> OfferOverrides: ...
    @property
    def outbox(self) -> Outbox: ...


class IdentityKeys(Protocol):
    def seller_key(self, document: IdentityDocument) -> str:
        """A stable pseudonym of an identity document, to recognise a returning seller."""
        ...
