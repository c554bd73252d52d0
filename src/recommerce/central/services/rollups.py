"""Keeping reporting's rollups (`recommerce.central.db.reporting_tables`) equal to the read
models: what every ticket and every item bought adds to its business day and its month.

A ticket adds its lines to the rollups of its store and business day: a sale counts its items,
its total and what the store paid for those items; a return (a counter-ticket) takes its items
back out, its negative total lowering the revenue as it lowers the till's. The category of a
line is its item's article's; an item whose article central does not know is counted under
UNKNOWN_CATEGORY. A purchase adds each item it bought, at the price paid, to the business day
of the purchase.

Three writers share `Rollups`, the sums of a run of tickets and items: the ingest of a batch of
events (`add_batch`, in the batch's transaction), the load of the former system's history, and
`rebuild`, which writes every rollup again from the read models. A run's sums are added to the
rows already there (one upsert per table), so runs may overlap a day or a month.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, Connection, Table, cast, delete, func, select, text
from sqlalchemy.sql.elements import ColumnElement

from recommerce.central.db import catalog_tables as c
from recommerce.central.db import reporting_tables as r
from recommerce.central.db import sync_tables as s
from recommerce.central.db import tables as t
from recommerce.db.upsert import upsert_adding
from recommerce.pos.ticket import TicketKind

UNKNOWN_CATEGORY = ""  # the category of an item whose article central does not know
SALE = TicketKind.SALE.value
REBUILD_CHUNK = 10_000  # tickets, or items bought, read at a time by a rebuild
MAX_CELLS = 200_000  # sums a rebuild holds before it writes them
ItemFacts = tuple[str, int]  # an item's category and the price the store paid for it
_UNKNOWN_ITEM: ItemFacts = (UNKNOWN_CATEGORY, 0)


def summed(value: ColumnElement[Any]) -> ColumnElement[int]:
    """SUM as an integer on both databases (PostgreSQL sums a BIGINT as a NUMERIC)."""
    return cast(func.sum(value), BigInteger)


class _Cells:
    """Sums by (business day, store[, category]), written to a daily and a monthly rollup."""

    def __init__(self, daily: Table, monthly: Table) -> None:
        self.daily, self.monthly = daily, monthly
        self.daily_columns = [col.name for col in daily.columns]
        self.monthly_columns = [col.name for col in monthly.columns]
        self.width = len(daily.columns) - len(daily.primary_key.columns)
        self.sums: dict[tuple[Any, ...], list[int]] = {}

    def cell(self, key: tuple[Any, ...]) -> list[int]:
        sums = self.sums.get(key)
        if sums is None:
            sums = self.sums[key] = [0] * self.width
        return sums

    def write(self, conn: Connection, before: date | None) -> None:
        """Add the sums of the days before `before` (all of them when None), then forget them."""
        keys = [key for key in self.sums if before is None or key[0] < before]
        if not keys:
            return
        months: dict[tuple[Any, ...], list[int]] = {}
        daily = []
        for key in keys:
            sums = self.sums.pop(key)
            daily.append(dict(zip(self.daily_columns, (*key, *sums), strict=True)))
            month = months.setdefault((key[0].replace(day=1), *key[1:]), [0] * self.width)
            for i, value in enumerate(sums):
                month[i] += value
        upsert_adding(conn, self.daily, daily)
        upsert_adding(
            conn,
            self.monthly,
            [
                dict(zip(self.monthly_columns, (*key, *sums), strict=True))
                for key, sums in months.items()
            ],
        )


class Rollups:
    """The sums of a run of tickets and items bought, until `write` adds them to the tables."""

    def __init__(self) -> None:
        self.sales = _Cells(r.sales_daily, r.sales_monthly)
        self.store_sales = _Cells(r.store_sales_daily, r.store_sales_monthly)
        self.purchases = _Cells(r.purchases_daily, r.purchases_monthly)

    def __len__(self) -> int:
        return len(self.sales.sums) + len(self.store_sales.sums) + len(self.purchases.sums)

    def ticket(
        self, day: date, store: int, kind: str, lines: Iterable[tuple[str, int, int]]
    ) -> None:
        """A ticket of the store's business day; `lines` are (category, price on the ticket,
        purchase price of the item). Measures: tickets, items_sold, revenue_cents, cost_cents."""
        sale = kind == SALE
        sign = 1 if sale else -1
        total = self.store_sales.cell((day, store))
        if sale:
            total[0] += 1
        seen: set[str] = set()
        for category, price, cost in lines:
            sums = self.sales.cell((day, store, category))
            if sale and category not in seen:  # a ticket counts once in each of its categories
                seen.add(category)
                sums[0] += 1
            sums[1] += sign
            sums[2] += price
            sums[3] += sign * cost
            total[1] += sign
            total[2] += price
            total[3] += sign * cost

    def bought(
        self, day: date, store: int, category: str, paid_cents: int, *, items: int = 1
    ) -> None:
        """Items bought on the store's business day, for `paid_cents` in all. Measures:
        items_bought, paid_cents."""
        sums = self.purchases.cell((day, store, category))
        sums[0] += items
        sums[1] += paid_cents

    def write(
        self,
        conn: Connection,
        *,
        sales_before: date | None = None,
        purchases_before: date | None = None,
    ) -> None:
        """Add the sums to the rollups: those of the days before the given ones (every day
        when None), which are then forgotten."""
        self.sales.write(conn, sales_before)
        self.store_sales.write(conn, sales_before)
        self.purchases.write(conn, purchases_before)


# --- the facts a ticket line needs --------------------------------------------------------------


def item_facts(conn: Connection, labels: Collection[tuple[int, str]]) -> dict[str, ItemFacts]:
    """The category and purchase price of the items of these (store, label) pairs, by label
    (a label names one item in the whole chain). An item is looked for in the store of the
    ticket first, then in every store: it may have moved since, through a transfer."""
    by_store: dict[int, list[str]] = {}
    for store, label in labels:
        by_store.setdefault(store, []).append(label)
    found: dict[str, ItemFacts] = {}
    for store, store_labels in by_store.items():
        found.update(_items(conn, [s.items.c.store_number == store], store_labels))
    missing = {label for _store, label in labels} - found.keys()
    if missing:  # through the (store_number, label_code) index, store by store
        every_store = list(conn.execute(select(t.stores.c.number)).scalars())
        found.update(_items(conn, [s.items.c.store_number.in_(every_store)], sorted(missing)))
    return found


def _items(conn: Connection, where: list[Any], labels: list[str]) -> dict[str, ItemFacts]:
    category = func.coalesce(c.articles.c.category_code, UNKNOWN_CATEGORY)
    rows = conn.execute(
        select(s.items.c.label_code, category, s.items.c.purchase_price_cents)
        .select_from(s.items.outerjoin(c.articles, c.articles.c.id == s.items.c.article_id))
        .where(*where, s.items.c.label_code.in_(labels))
    )
    return {label: (code, cents) for label, code, cents in rows}


def article_categories(conn: Connection, article_ids: Collection[str]) -> dict[str, str]:
    if not article_ids:
        return {}
    rows = conn.execute(
        select(c.articles.c.id, c.articles.c.category_code).where(
            c.articles.c.id.in_(list(article_ids))
        )
    )
    return {article: code for article, code in rows}


def add_tickets(rollups: Rollups, conn: Connection, tickets: Sequence[Mapping[Any, Any]]) -> None:
    """Add ticket rows (as `sync_tables.tickets` holds them) to `rollups`."""
    labels = {
        (ticket["store_number"], line["label_code"])
        for ticket in tickets
        for line in ticket["lines"]
    }
    facts = item_facts(conn, labels)
    for ticket in tickets:
        lines = []
        for line in ticket["lines"]:
            category, cost = facts.get(line["label_code"], _UNKNOWN_ITEM)
            lines.append((category, line["price_cents"], cost))
        rollups.ticket(ticket["business_day"], ticket["store_number"], ticket["kind"], lines)


def add_batch(
    conn: Connection,
    *,
    tickets: Sequence[Mapping[str, Any]],
    purchases: Sequence[Mapping[str, Any]],
    items: Iterable[Mapping[str, Any]],
) -> None:
    """Add the rows a batch of events wrote (tickets, purchases and the items they bought) to
    the rollups, in the batch's transaction, once the rows are in the read models."""
    rollups = Rollups()
    if tickets:
        add_tickets(rollups, conn, tickets)
    if purchases:
        days = {p["id"]: (p["business_day"], p["store_number"]) for p in purchases}
        bought = list(items)
        categories = article_categories(conn, {item["article_id"] for item in bought})
        for item in bought:
            day, store = days[item["purchase_id"]]
            category = categories.get(item["article_id"], UNKNOWN_CATEGORY)
            rollups.bought(day, store, category, item["purchase_price_cents"])
    rollups.write(conn)


# --- rebuilding ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rebuilt:
    tickets: int
    items_bought: int


def rebuild(conn: Connection, *, progress: Callable[[int], None] | None = None) -> Rebuilt:
    """Write every rollup again from the read models (tickets, items, purchases), in the
    caller's transaction: for a database whose rollups were never filled, or after a repair.
    `progress` is told the tickets read so far, chunk by chunk."""
    if conn.dialect.name == "postgresql":
        # Ingest adds to the rollups as batches arrive: those committed before the lock are in
        # what the rebuild reads; the others wait for it to commit, then add theirs.
        names = ", ".join(table.name for table in r.ROLLUPS)
        conn.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
    for table in r.ROLLUPS:
        conn.execute(delete(table))
    rollups = Rollups()
    tickets = _rebuild_sales(conn, rollups, progress)
    items = _rebuild_purchases(conn, rollups)
    rollups.write(conn)
    return Rebuilt(tickets=tickets, items_bought=items)


def _rebuild_sales(
    conn: Connection, rollups: Rollups, progress: Callable[[int], None] | None
) -> int:
    columns = (
        s.tickets.c.id,
        s.tickets.c.store_number,
        s.tickets.c.business_day,
        s.tickets.c.kind,
        s.tickets.c.lines,
    )
    done, after = 0, ""
    while True:
        chunk = conn.execute(
            select(*columns)
            .where(s.tickets.c.id > after)
            .order_by(s.tickets.c.id)
            .limit(REBUILD_CHUNK)
        ).all()
        if not chunk:
            return done
        add_tickets(rollups, conn, [row._mapping for row in chunk])
        done += len(chunk)
        after = chunk[-1].id
        if len(rollups) > MAX_CELLS:
            rollups.write(conn)
        if progress is not None:
            progress(done)


def _rebuild_purchases(conn: Connection, rollups: Rollups) -> int:
    """The items bought, summed by the database: a row per day, store and category."""
    category = func.coalesce(c.articles.c.category_code, UNKNOWN_CATEGORY)
    day, store = s.purchases.c.business_day, s.purchases.c.store_number
    query = (
        select(day, store, category, func.count(), summed(s.items.c.purchase_price_cents))
        .select_from(
            s.items.join(s.purchases, s.purchases.c.id == s.items.c.purchase_id).outerjoin(
                c.articles, c.articles.c.id == s.items.c.article_id
            )
        )
        .group_by(day, store, category)
    )
    done = 0
    result = conn.execute(query.execution_options(yield_per=REBUILD_CHUNK))
    for chunk in result.partitions():
        for bought_on, number, code, items, paid in chunk:
            rollups.bought(bought_on, number, code, paid, items=items)
            done += items
        if len(rollups) > MAX_CELLS:
            rollups.write(conn)
    return done
