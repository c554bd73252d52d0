"""In-memory fakes of the buying ports, and builders for sellers, payments and purchases.

The fake unit of work keeps a committed state (what the store's database holds) and stages
every write in a copy of it: `commit()` replaces the committed state with the staged one,
leaving the `with` block without a commit throws the staged copy away. So a handler that
forgets to roll back, or commits too early, shows up as writes in the store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from recommerce.buyback.handlers import BuyingPolicy, record_purchase
from recommerce.buyback.offer import OfferOverride
from recommerce.buyback.payment import Payment, PaymentMethod
from recommerce.buyback.purchase import Purchase, PurchaseLine, RecordPurchase
from recommerce.buyback.quote import ArgusPort, Quote, ReferencePriceRule
from recommerce.buyback.seller import DocumentType, IdentityDocument, SellerIdentity
from recommerce.buyback.watchlist import WatchlistEntry, normalise_serial
from recommerce.catalog.model import Article, Category, Grade
from recommerce.clock import FixedClock
from recommerce.inventory.model import Item
from recommerce.money import Money
from recommerce.registers.police import RegisterBook, RegisterEntry
from recommerce.staff.model import Role
from recommerce.sync.events import Event

NOW = datetime(2025, 6, 2, 10, 30, tzinfo=UTC)
TODAY = NOW.date()
STORE_NUMBER = 42
STAFF_ID = "staff-buyer-1"

VALID_IMEI = "490154203237518"
SELLER_IBAN = "FR1420041010050500013M02606"


# --- catalogue -------------------------------------------------------------------------

PHONES = Category(code="phones", name="Téléphones")
BOOKS = Category(code="books", name="Livres")
GOLD = Category(code="gold", name="Bijoux en or", precious_metal=True)

IPHONE = Article(
    id="art-iphone-12",
    category_code="phones",
    brand="Apple",
    model="iPhone 12",
    name="Apple iPhone 12, 64 GB",
    reference_new_price=Money.euros(900),
    released_on=date(2020, 10, 23),
)
NOVEL = Article(
    id="art-novel",
    category_code="books",
    brand="Gallimard",
    model="Folio",
    name="Un roman de poche",
    reference_new_price=Money.euros(9),
)
RING = Article(
    id="art-gold-ring",
    category_code="gold",
    brand="-",
    model="Bague",
    name="Bague en or 18 carats",
    reference_new_price=Money.euros(400),
)


# --- the argus ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FixedOfferArgus:
    """An argus that offers the same buy price for every object (the resale price is the
    reference-price rule's)."""

    offer: Money
    rule: ReferencePriceRule = field(default_factory=ReferencePriceRule)

    def quote(self, article: Article, grade: Grade, *, on: date) -> Quote:
        return replace(
            self.rule.quote(article, grade, on=on), buy_offer=self.offer, method="fixed-offer"
        )


# The counter's tests that are about other rules (payments, registers, the watchlist) agree
# prices up to 1,500 EUR: their argus offers that much, so that their prices are negotiated,
# not overrides. The override rule has its own tests (test_offer_overrides.py).
OFFER_ABOVE_EVERY_TEST_PRICE = Money.euros(1500)


# --- the committed state and its staged copies -------------------------------------------


@dataclass
class StoreState:
    purchases: list[Purchase] = field(default_factory=list)
    register: list[RegisterEntry] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    outbox: list[tuple[int, Event]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    offer_overrides: list[OfferOverride] = field(default_factory=list)
    # Counters, like the store's counter rows: handed out in the transaction, rolled back with it.
    label_sequence: int = 0
    register_counters: dict[RegisterBook, int] = field(default_factory=dict)

    def copy(self) -> StoreState:
        return StoreState(
            purchases=list(self.purchases),
            register=list(self.register),
            items=list(self.items),
            outbox=list(self.outbox),
            alerts=list(self.alerts),
            offer_overrides=list(self.offer_overrides),
            label_sequence=self.label_sequence,
            register_counters=dict(self.register_counters),
        )


class FakeStore:
    """What one store's database holds: catalogue and watchlist (read), and what buying wrote."""

    def __init__(
        self,
        *,
        articles: Iterable[Article] = (IPHONE, NOVEL, RING),
        categories: Iterable[Category] = (PHONES, BOOKS, GOLD),
        watchlist: Iterable[WatchlistEntry] = (),
    ) -> None:
        self.articles = {a.id: a for a in articles}
        self.categories = {c.code: c for c in categories}
        self.watchlist = list(watchlist)
        self.state = StoreState()
        self.commits = 0
        self.fail_register_append = False  # fault injection: the register write fails

    # What a test looks at.
    @property
    def purchases(self) -> list[Purchase]:
        return self.state.purchases

    @property
    def register(self) -> list[RegisterEntry]:
        return self.state.register

    @property
    def items(self) -> list[Item]:
        return self.state.items

    @property
    def events(self) -> list[Event]:
        return [e for _, e in self.state.outbox]

    @property
    def alerts(self) -> list[dict[str, Any]]:
        return self.state.alerts

    @property
    def offer_overrides(self) -> list[OfferOverride]:
        return self.state.offer_overrides

    def snapshot(self) -> dict[str, Any]:
        s = self.state
        return {
            "purchases": list(s.purchases),
            "register": list(s.register),
            "items": list(s.items),
            "outbox": list(s.outbox),
            "alerts": list(s.alerts),
            "offer_overrides": list(s.offer_overrides),
        }

    def holds_no_purchase(self) -> bool:
        s = self.state
        return not (s.purchases or s.register or s.items or s.outbox or s.offer_overrides)


class _Repo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _state(self) -> StoreState:
        return self._uow.staged


class FakeCatalog:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    def article(self, article_id: str) -> Article | None:
        return self._store.articles.get(article_id)

    def category(self, code: str) -> Category | None:
        return self._store.categories.get(code)


class FakePurchases(_Repo):
    def add(self, purchase: Purchase) -> None:
        self._state.purchases.append(purchase)

    def cash_paid_to_seller_since(self, seller_key: str, since: datetime) -> Money:
        return Money(
            sum(
                p.total.cents
                for p in self._state.purchases
                if p.seller_key == seller_key
                and p.payment.method is PaymentMethod.CASH
                and p.occurred_at >= since
            )
        )


class FakePoliceRegister(_Repo):
    def next_number(self, book: RegisterBook) -> int:
        counters = self._state.register_counters
        counters[book] = counters.get(book, 0) + 1
        return counters[book]

    def append(self, entry: RegisterEntry) -> None:
        if self._uow.store.fail_register_append:
            raise OSError("the register could not be written")
        # Append-only: a number is used once per book, and only once it was handed out.
        assert self.get(entry.book, entry.number) is None, "register number used twice"
        assert entry.number <= self._state.register_counters.get(entry.book, 0), "unissued number"
        self._state.register.append(entry)

    def get(self, book: RegisterBook, number: int) -> RegisterEntry | None:
        return next(
            (e for e in self._state.register if e.book is book and e.number == number), None
        )


class FakeItems(_Repo):
    def next_label_sequence(self) -> int:
        self._state.label_sequence += 1
        return self._state.label_sequence

    def add(self, item: Item) -> None:
        assert all(i.label_code != item.label_code for i in self._state.items), "label reused"
        self._state.items.append(item)


class FakeWatchlist(_Repo):
    def matches(self, serials: Iterable[str]) -> list[WatchlistEntry]:
        wanted = {normalise_serial(s) for s in serials}
        return [e for e in self._uow.store.watchlist if e.serial in wanted]

    def record_alert(
        self, *, at: datetime, staff_id: str, seller_name: str, matches: list[WatchlistEntry]
    ) -> None:
        self._state.alerts.append(
            {"at": at, "staff_id": staff_id, "seller_name": seller_name, "matches": matches}
        )


class FakeOfferOverrides(_Repo):
    def add(self, override: OfferOverride) -> None:
        self._state.offer_overrides.append(override)


class FakeOutbox(_Repo):
    def add(self, event: Event) -> int:
        seq = len(self._state.outbox) + 1
        self._state.outbox.append((seq, event))
        return seq


class FakeUnitOfWork:
    """One transaction on a FakeStore: writes are staged and kept only on commit."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self._staged: StoreState | None = None
        self.catalog = FakeCatalog(store)
        self.purchases = FakePurchases(self)
        self.register = FakePoliceRegister(self)
        self.items = FakeItems(self)
        self.watchlist = FakeWatchlist(self)
        self.offer_overrides = FakeOfferOverrides(self)
        self.outbox = FakeOutbox(self)

    @property
    def staged(self) -> StoreState:
        if self._staged is None:
            raise RuntimeError("used outside its `with` block")
        return self._staged

    def __enter__(self) -> FakeUnitOfWork:
        if self._staged is not None:
            raise RuntimeError("a unit of work is not re-entrant")
        self._staged = self.store.state.copy()
        return self

    def __exit__(self, *exc: object) -> None:
        self._staged = None  # whatever was not committed is gone: rollback is the default

    def commit(self) -> None:
        self.store.state = self.staged.copy()
        self.store.commits += 1


class FakeIdentityKeys:
    def seller_key(self, document: IdentityDocument) -> str:
        raw = f"{document.type.value}:{document.number}".encode()
        return "seller-" + hashlib.sha256(raw).hexdigest()[:16]


# --- builders ------------------------------------------------------------------------


def make_seller(**changes: Any) -> SellerIdentity:
    document_changes = changes.pop("document", {})
    document = replace(
        IdentityDocument(
            type=DocumentType.NATIONAL_ID,
            number="X4RTBPFW4",
            issued_on=date(2021, 3, 1),
            issuing_authority="Préfecture du Rhône",
            expires_on=date(2031, 2, 28),
        ),
        **document_changes,
    )
    seller = SellerIdentity(
        surname="Dupont",
        first_names="Marie Claire",
        birth_date=date(1985, 4, 12),
        address="12 rue de la République, 69002 Lyon",
        document=document,
    )
    return replace(seller, **changes)


CASH = Payment(PaymentMethod.CASH)


def transfer_to(holder: str = "Marie Dupont", iban: str = SELLER_IBAN) -> Payment:
    return Payment(PaymentMethod.BANK_TRANSFER, account_holder=holder, iban=iban)


def line(article: Article = IPHONE, price: str | int = 250, **changes: Any) -> PurchaseLine:
    changes.setdefault("grade", Grade.B)
    return PurchaseLine(article_id=article.id, agreed_price=Money.euros(price), **changes)


def gold_line(price: str | int = 300, **changes: Any) -> PurchaseLine:
    facts: dict[str, Any] = {"weight_grams": "4.20", "fineness": 750}
    facts.update(changes)
    return line(RING, price, **facts)


def purchase_of(
    *lines: PurchaseLine,
    seller: SellerIdentity | None = None,
    payment: Payment = CASH,
    group_lots: bool = True,
    role: Role = Role.BUYER,
) -> RecordPurchase:
    return RecordPurchase(
        seller=seller or make_seller(),
        payment=payment,
        lines=lines,
        staff_id=STAFF_ID,
        staff_role=role,
        group_lots=group_lots,
    )


@dataclass
class Counter:
    """The buying counter of one store, wired on fakes."""

    store: FakeStore
    clock: FixedClock
    policy: BuyingPolicy = field(default_factory=lambda: BuyingPolicy(store_number=STORE_NUMBER))
    argus: ArgusPort = field(default_factory=lambda: FixedOfferArgus(OFFER_ABOVE_EVERY_TEST_PRICE))
    keys: FakeIdentityKeys = field(default_factory=FakeIdentityKeys)

    def uow_factory(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)

    def buy(self, cmd: RecordPurchase) -> Purchase:
        return record_purchase(
            cmd,
            self.uow_factory,
            argus=self.argus,
            clock=self.clock,
            keys=self.keys,
            policy=self.policy,
        )
