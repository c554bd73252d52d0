"""The former system's history, loaded into central: years of the chain's purchases and sales.

The history is the synthetic one (`recommerce.argus.history.synthetic_sales`) of a world's
catalogue and stores. Each sale becomes what central's read models would hold had the store
pushed it: the purchase of the item from a seller (one item, `days_in_stock` days before its
sale, at the price the store paid), the item, sold, and its ticket (one to three items, paid
by card or in cash), whose `lines` hold each label's price as the till writes it, so that the
argus (`central_sales`) and reporting read the history as they read the stores' own sales.
The history's sales and purchases are added to reporting's rollups as they are built, in the
same transaction.

The former system's records are told apart from the stores' own: their tickets are on till
HISTORY_TILL, their labels use sequences from HISTORY_LABELS_FROM (far above what a store's own
labels reach), and their ids are UUIDv7 of their own time, drawn from the seed. The police
register and the fiscal journal of those years stay in the former system: a store's register
and journal start from its first day on this one, and their numbers must not clash.

Loading is one transaction: either the whole history is there or none of it, and a second
load is refused. PostgreSQL is fed with COPY, SQLite with executemany, indexes in place.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from functools import lru_cache
from itertools import accumulate, groupby
from random import Random
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, func, select

from recommerce.argus.history import (
    CLOSED_ON,
    FIRST_RELEASE_YEAR,
    MAX_DAYS_IN_STOCK,
    SaleRecord,
    synthetic_sales,
)
from recommerce.buyback.payment import CASH_LIMIT, PaymentMethod
from recommerce.catalog.model import Grade
from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import catalog_tables as c
from recommerce.central.db import sync_tables as s
from recommerce.central.db import tables as t
from recommerce.central.services.rollups import Rollups
from recommerce.errors import Conflict, DomainError
from recommerce.fiscal.vat import STANDARD_RATE, tax_line
from recommerce.ids import uuid7
from recommerce.inventory.labels import MAX_SEQUENCE, label_code
from recommerce.inventory.model import ItemStatus, VatRegime
from recommerce.money import Money
from recommerce.pos.tenders import CUSTOMER_CASH_LIMIT, TenderKind
from recommerce.pos.ticket import TicketKind, ticket_display_number
from recommerce.sim.world import TIMEZONE, World

HISTORY_TILL = "HIST"  # the till of every ticket of the former system
HISTORY_LABELS_FROM = 90_000_001  # the former system's labels: a store's own start at 1
DAILY_SALES = 25.0  # items sold by a store on an open day, on average
# The synthetic catalogue's articles came out from 2010 (the demo's three jewels excepted):
# a history starts then at the earliest.
CATALOGUE_FROM = date(FIRST_RELEASE_YEAR, 1, 1)
OPENS_AT, CLOSES_AT = 10 * 3600, 19 * 3600  # seconds after local midnight
BASKET_SIZES = (1, 2, 3)
BASKET_WEIGHTS = (0.72, 0.20, 0.08)
_BASKET_CUMULATIVE = tuple(accumulate(BASKET_WEIGHTS))
CASH_PURCHASE_SHARE = 0.7  # of purchases the law lets the store pay in cash
CHEQUE_SHARE = 0.2  # of the others; the rest by bank transfer
CASH_TICKET_SHARE = 0.3  # of tickets the law lets the customer pay in cash
FLUSH_ITEMS = 20_000  # rows buffered per table before they are written

PARIS = ZoneInfo(TIMEZONE)
_MARGIN = VatRegime.MARGIN.value
_RATE = str(STANDARD_RATE)  # as `Ticket.journal_fields` writes a rate
_CASH, _CARD = TenderKind.CASH.value, TenderKind.CARD.value
_SALE, _SOLD = TicketKind.SALE.value, ItemStatus.SOLD.value
_GRADES = {grade: grade.value for grade in Grade}
_PAID_CASH = PaymentMethod.CASH.value
_PAID_BY_CHEQUE, _PAID_BY_TRANSFER = PaymentMethod.CHEQUE.value, PaymentMethod.BANK_TRANSFER.value
_PURCHASES, _ITEMS, _TICKETS = s.purchases.name, s.items.name, s.tickets.name
ProgressCallback = Callable[[int], None]  # told each time this many more sales are written

PURCHASE_COLUMNS = (
    "id",
    "store_number",
    "occurred_at",
    "business_day",
    "payment_method",
    "total_cents",
    "item_count",
)
ITEM_COLUMNS = (
    "item_id",
    "store_number",
    "label_code",
    "article_id",
    "grade",
    "purchase_id",
    "purchase_price_cents",
    "asking_price_cents",
    "vat_regime",
    "status",
    "status_at",
    "sold_ticket_id",
)
TICKET_COLUMNS = (
    "id",
    "store_number",
    "number",
    "till",
    "kind",
    "occurred_at",
    "business_day",
    "total_cents",
    "refers_to",
    "lines",
    "tenders",
    "vat",
)
_LAYOUT: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (s.purchases, PURCHASE_COLUMNS),
    (s.items, ITEM_COLUMNS),
    (s.tickets, TICKET_COLUMNS),
)


@dataclass(frozen=True, slots=True)
class HistoryPlan:
    """What a load will write: `sales` items bought and sold in stores 1..`stores`."""

    first_day: date
    last_day: date
    stores: int
    sales: int


@dataclass(frozen=True, slots=True)
class HistoryLoaded:
    plan: HistoryPlan
    sales: int  # items sold, each with its purchase
    tickets: int
    seconds: float

    @property
    def rows(self) -> int:
        return 2 * self.sales + self.tickets  # purchases, items, tickets

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def plan_history(
    world: World, *, years: int, stores: int, until: date, daily_sales: float = DAILY_SALES
) -> HistoryPlan:
    """The `years` years up to `until` (included) in the world's first `stores` stores, from
    CATALOGUE_FROM at the earliest, with `daily_sales` items sold per store and open day."""
    if years < 1:
        raise DomainError("a history is at least one year long", field="years")
    if not 1 <= stores <= len(world.stores):
        raise DomainError(f"the world has stores 1 to {len(world.stores)}", field="stores")
    if daily_sales <= 0:
        raise DomainError("a store sells something every open day", field="daily_sales")
    try:
        start = until.replace(year=until.year - years) + timedelta(days=1)
    except ValueError:  # until is 29 February
        start = date(until.year - years, 3, 1)
    first_day = max(start, CATALOGUE_FROM)
    if first_day > until:
        raise DomainError(
            f"the catalogue's articles come out from {CATALOGUE_FROM.isoformat()}: "
            f"a history ending {until.isoformat()} has nothing to sell",
            field="until",
        )
    open_days = sum(
        1
        for n in range((until - first_day).days + 1)
        if ((day := first_day + timedelta(days=n)).month, day.day) not in CLOSED_ON
    )
    return HistoryPlan(first_day, until, stores, round(daily_sales * stores * open_days))


def load_history(
    node: CentralNode,
    world: World,
    plan: HistoryPlan,
    *,
    progress: ProgressCallback | None = None,
) -> HistoryLoaded:
    """Write the planned history into central's read models, in one transaction.

    The world must be in central (`recommerce.sim.world.install`). Refused (Conflict) when
    central already holds a history: nothing is written then."""
    _check_layout()
    started = time.perf_counter()
    with node.writing() as conn:
        _refuse_a_second_load(conn)
        _check_world_installed(conn, world, plan.stores)
        sink: _Sink = (
            _PostgresSink(conn) if conn.dialect.name == "postgresql" else _SqliteSink(conn)
        )
        with sink:
            builder = _Builder(world, plan, moment=sink.moment, day=sink.day)
            records = synthetic_sales(
                world.articles,
                seed=world.seed,
                sales=plan.sales,
                stores=plan.stores,
                start=plan.first_day,
                end=plan.last_day,
            )
            for sales in builder.batches(records):
                for table, _columns in _LAYOUT:
                    sink.write(table, builder.take(table))
                builder.write_rollups(conn)
                if progress is not None:
                    progress(sales)
            builder.rollups.write(conn)
    return HistoryLoaded(plan, builder.sales, builder.tickets, time.perf_counter() - started)


def _check_layout() -> None:
    for table, columns in _LAYOUT:
        if tuple(col.name for col in table.columns) != columns:
            raise RuntimeError(f"central's {table.name} table changed: the history loader must too")


def _refuse_a_second_load(conn: Connection) -> None:
    loaded = conn.execute(
        select(s.tickets.c.store_number, s.tickets.c.business_day)
        .where(s.tickets.c.till == HISTORY_TILL)
        .limit(1)
    ).first()
    if loaded is not None:
        raise Conflict(
            "central already holds the former system's history (tickets on till "
            f"{HISTORY_TILL}, e.g. store {loaded.store_number} on {loaded.business_day}): "
            "it is loaded once",
            field="history",
        )


def _check_world_installed(conn: Connection, world: World, stores: int) -> None:
    registered = set(conn.execute(select(t.stores.c.number)).scalars())
    missing = [s.number for s in world.stores[:stores] if s.number not in registered]
    if missing:
        raise DomainError(
            f"store {missing[0]} is not registered at central: install the world first",
            field="stores",
        )
    known = conn.execute(
        select(func.count())
        .select_from(c.articles)
        .where(c.articles.c.id.in_([a.id for a in world.articles]))
    ).scalar_one()
    if known != len(world.articles):
        raise DomainError(
            f"central lacks {len(world.articles) - known} of the world's articles: "
            "install the world first",
            field="articles",
        )


# --- the rows -----------------------------------------------------------------------------------


class _Builder:
    """Turns the stream of sales, a day at a time, into purchases, items and tickets."""

    def __init__(
        self,
        world: World,
        plan: HistoryPlan,
        *,
        moment: Callable[[datetime], Any],
        day: Callable[[date], Any],
    ) -> None:
        self.moment, self.day = moment, day  # values as the database takes them
        self.days: dict[date, Any] = {}
        precious = {cat.code for cat in world.categories if cat.precious_metal}
        self.articles = {a.id: (a.name, a.category_code in precious) for a in world.articles}
        self.rng = Random(f"recommerce-history-{world.seed}")
        self.rows: dict[str, list[tuple[Any, ...]]] = {
            _PURCHASES: [],
            _ITEMS: [],
            _TICKETS: [],
        }
        # Sums by day, written once no sale to come can add to them (`write_rollups`).
        self.rollups = Rollups()
        self.built_until: date | None = None  # the last day whose sales are built
        self.next_label: dict[int, int] = defaultdict(lambda: HISTORY_LABELS_FROM)
        self.next_ticket: dict[int, int] = defaultdict(lambda: 1)
        self.midnights: dict[date, datetime] = {}
        self.sales = 0
        self.tickets = 0

    def take(self, table: Table) -> list[tuple[Any, ...]]:
        rows = self.rows[table.name]
        self.rows[table.name] = []
        return rows

    def write_rollups(self, conn: Connection) -> None:
        """Add to the rollups the days no sale to come changes: the sales of the days built,
        the purchases of the days before the oldest a sale to come may have bought on."""
        if self.built_until is not None:
            after = self.built_until + timedelta(days=1)
            oldest_purchase = after - timedelta(days=MAX_DAYS_IN_STOCK)
            self.rollups.write(conn, sales_before=after, purchases_before=oldest_purchase)

    def batches(self, records: Iterator[SaleRecord]) -> Iterator[int]:
        """Build the rows day by day; yields the number of sales built since the last yield,
        whenever FLUSH_ITEMS items are ready (and at the end)."""
        pending = 0
        for day, sold in groupby(records, key=lambda r: r.sold_on):
            by_store: dict[int, list[SaleRecord]] = defaultdict(list)
            for record in sold:
                by_store[record.store_number].append(record)
            for store_number in sorted(by_store):
                pending += self._store_day(store_number, day, by_store[store_number])
            self.built_until = day
            if len(self.rows[_ITEMS]) >= FLUSH_ITEMS:
                yield pending
                pending = 0
        if pending or any(self.rows.values()):
            yield pending

    def _store_day(self, store: int, day: date, records: Sequence[SaleRecord]) -> int:
        rng = self.rng
        baskets = []
        i = 0
        while i < len(records):
            size = rng.choices(BASKET_SIZES, cum_weights=_BASKET_CUMULATIVE)[0]
            baskets.append(records[i : i + size])
            i += size
        times = sorted(rng.randrange(OPENS_AT, CLOSES_AT) for _ in baskets)
        for basket, second in zip(baskets, times, strict=True):
            self._ticket(store, day, second, basket)
        return len(records)

    def _ticket(self, store: int, day: date, second: int, basket: Sequence[SaleRecord]) -> None:
        """The ticket of a basket, its `lines`, `tenders` and `vat` as `Ticket.journal_fields`
        writes them (and so as the till's `TicketValidated` carries them)."""
        rng = self.rng
        sold_at = self._midnight(day) + timedelta(seconds=second)
        ticket_id = _history_id(sold_at, rng)
        sold_moment = self.moment(sold_at)
        lines = []
        total = vat = 0
        for record in basket:
            label = self._bought(store, record, day, second, sold_moment, ticket_id)
            price = record.price_cents
            line_vat = _margin_vat_cents(price, record.purchase_price_cents)
            total += price
            vat += line_vat
            lines.append(
                {
                    "label_code": label,
                    "article": self.articles[record.article_id][0],
                    "quantity": 1,
                    "unit_price_cents": price,
                    "discount_cents": 0,
                    "price_cents": price,
                    "vat_regime": _MARGIN,
                    "vat_rate": _RATE,
                    "vat_cents": line_vat,
                }
            )
        # Rule B.11 (CMF L112-6): a customer pays at most CUSTOMER_CASH_LIMIT in cash.
        cash = total <= CUSTOMER_CASH_LIMIT.cents and rng.random() < CASH_TICKET_SHARE
        tender = _CASH if cash else _CARD
        number = self.next_ticket[store]
        self.next_ticket[store] = number + 1
        self.rollups.ticket(
            day,
            store,
            _SALE,
            [(r.category_code, r.price_cents, r.purchase_price_cents) for r in basket],
        )
        self.rows[_TICKETS].append(
            (
                ticket_id,
                store,
                ticket_display_number(store, HISTORY_TILL, number),
                HISTORY_TILL,
                _SALE,
                sold_moment,
                self._day(day),
                total,
                None,
                json.dumps(lines),
                # What json.dumps writes of these few numbers and fixed words, written faster.
                f'[{{"kind": "{tender}", "amount_cents": {total}}}]',
                # Every line is under the margin scheme at the standard rate: one VAT row.
                f'[{{"regime": "{_MARGIN}", "rate": "{_RATE}", '
                f'"total_cents": {total}, "vat_cents": {vat}}}]',
            )
        )
        self.tickets += 1

    def _bought(
        self,
        store: int,
        record: SaleRecord,
        sold_on: date,
        sold_second: int,
        sold_moment: Any,
        ticket_id: str,
    ) -> str:
        """The purchase of the item sold in `record` and the item; its label."""
        rng = self.rng
        bought_on = sold_on - timedelta(days=record.days_in_stock)
        if record.days_in_stock:
            second = rng.randrange(OPENS_AT, CLOSES_AT)
        else:  # bought the day it sold: earlier that day
            second = OPENS_AT + int(rng.random() * (sold_second - OPENS_AT))
        bought_at = self._midnight(bought_on) + timedelta(seconds=second)
        purchase_id = _history_id(bought_at, rng)
        item_id = _history_id(bought_at, rng)
        sequence = self.next_label[store]
        if sequence > MAX_SEQUENCE:
            raise DomainError(f"store {store} has more history than its labels can number")
        self.next_label[store] = sequence + 1
        label = label_code(store, sequence)
        paid = record.purchase_price_cents
        self.rollups.bought(bought_on, store, record.category_code, paid)
        self.rows[_PURCHASES].append(
            (
                purchase_id,
                store,
                self.moment(bought_at),
                self._day(bought_on),
                self._payment(paid, precious=self.articles[record.article_id][1]),
                paid,
                1,
            )
        )
        self.rows[_ITEMS].append(
            (
                item_id,
                store,
                label,
                record.article_id,
                _GRADES[record.grade],
                purchase_id,
                paid,
                record.price_cents,
                _MARGIN,
                _SOLD,
                sold_moment,
                ticket_id,
            )
        )
        self.sales += 1
        return label

    def _payment(self, cents: int, *, precious: bool) -> str:
        """How the seller was paid: in cash only where the law allows it (CMF L112-6)."""
        rng = self.rng
        if not precious and cents <= CASH_LIMIT.cents and rng.random() < CASH_PURCHASE_SHARE:
            return _PAID_CASH
        return _PAID_BY_CHEQUE if rng.random() < CHEQUE_SHARE else _PAID_BY_TRANSFER

    def _day(self, day: date) -> Any:
        value = self.days.get(day)
        if value is None:
            value = self.days[day] = self.day(day)
        return value

    def _midnight(self, day: date) -> datetime:
        """The store's local midnight of `day`, in UTC (its offset taken at noon: clocks
        change at night, never during opening hours)."""
        moment = self.midnights.get(day)
        if moment is None:
            offset = datetime.combine(day, day_time(12), PARIS).utcoffset() or timedelta()
            moment = datetime.combine(day, day_time(0), UTC) - offset
            self.midnights[day] = moment
        return moment


@lru_cache(maxsize=1 << 16)
def _margin_vat_cents(price_cents: int, purchase_cents: int) -> int:
    """The line's margin VAT (CGI art. 297 A), as the till computes it; label prices and
    offers take few values, so the same pairs come back again and again."""
    return tax_line(VatRegime.MARGIN, Money(price_cents), Money(purchase_cents)).vat.cents


def _history_id(moment: datetime, rng: Random) -> str:
    """A UUIDv7 (`recommerce.ids`) for a record made at `moment`, its random bits drawn from
    the history's seed: the same history gets the same ids."""
    return uuid7(int(moment.timestamp()) * 1000, rng.getrandbits(74))


# --- writing ------------------------------------------------------------------------------------


def sqlite_moment(moment: datetime) -> str:
    """A UTC moment as `UtcDateTime` stores it on SQLite: "2024-03-09 14:05:00.000000"."""
    return moment.isoformat(" ", "microseconds")[:26]


class _Sink(Protocol):
    def __enter__(self) -> _Sink: ...

    def __exit__(self, *exc: object) -> None: ...

    def moment(self, value: datetime) -> Any:
        """A UTC moment as this database takes it."""

    def day(self, value: date) -> Any:
        """A date as this database takes it."""

    def write(self, table: Table, rows: list[tuple[Any, ...]]) -> None: ...


SQLITE_LOAD_CACHE_KIB = 256 * 1024  # the page cache while loading: the indexes stay in memory


class _SqliteSink:
    """executemany in the load's transaction, values as SQLAlchemy stores them on SQLite."""

    def __init__(self, conn: Connection) -> None:
        self.raw: Any = conn.connection.driver_connection
        self.cache_size = 0
        self.statements = {
            table.name: f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})"
            for table, columns in _LAYOUT
        }

    def __enter__(self) -> _SqliteSink:
        self.cache_size = self.raw.execute("PRAGMA cache_size").fetchone()[0]
        self.raw.execute(f"PRAGMA cache_size=-{SQLITE_LOAD_CACHE_KIB}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.raw.execute(f"PRAGMA cache_size={self.cache_size}")

    @staticmethod
    def moment(value: datetime) -> str:
        return sqlite_moment(value)

    @staticmethod
    def day(value: date) -> str:
        return value.isoformat()

    def write(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        self.raw.executemany(self.statements[table.name], rows)


class _PostgresSink:
    """COPY ... FROM STDIN in the load's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.raw: Any = conn.connection.driver_connection
        self.statements = {
            table.name: f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
            for table, columns in _LAYOUT
        }

    def __enter__(self) -> _PostgresSink:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @staticmethod
    def moment(value: datetime) -> datetime:
        return value

    @staticmethod
    def day(value: date) -> date:
        return value

    def write(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        with self.raw.cursor() as cursor, cursor.copy(self.statements[table.name]) as copy:
            for row in rows:
                copy.write_row(row)
