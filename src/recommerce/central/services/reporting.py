"""What the back office's dashboards ask: sales, purchases and stock, by period, store and
category, read from the rollups (`recommerce.central.db.reporting_tables`) so that thirty years
of history answer as fast as a month.

A range is read month by month where it covers whole months and day by day at its ends: a
report from 15 March to 10 June reads 15-31 March and 1-10 June in the daily rollups and April
and May in the monthly ones. Sales by category are read from the rollups by category; the
others from the rollups by store, where each ticket counts once.

Periods are business days: the store's local date, as on its tickets and purchases.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    extract,
    func,
    null,
    select,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

from recommerce.central.db import catalog_tables as c
from recommerce.central.db import reporting_tables as r
from recommerce.central.db import sync_tables as s
from recommerce.central.services.rollups import UNKNOWN_CATEGORY, summed
from recommerce.inventory.model import ItemStatus

Grain = Literal["day", "month", "year"]
# The stock's ages, in days since the item was bought: 0-30, 31-90, 91-180, over 180.
AGES = ((None, 30), (31, 90), (91, 180), (181, None))

# The items the chain holds and may still sell: on the shelf, held for an online order, on
# their way to another store, or waiting for a repair.
STOCK_STATUSES = tuple(
    status.value
    for status in (
        ItemStatus.IN_STOCK,
        ItemStatus.RESERVED,
        ItemStatus.IN_TRANSIT,
        ItemStatus.TO_REPAIR,
    )
)


@dataclass(frozen=True, slots=True)
class SalesRow:
    """Sales of a period, store and category (None where the report does not group by it).

    Tickets are sale tickets (returns are not counted); grouped by category, or filtered on
    some categories, a ticket with items of two categories counts in each."""

    period: date | None  # first day of the day/month/year; None when not grouped by period
    store_number: int | None  # None when not grouped by store
    category_code: str | None  # None when not grouped by category
    items_sold: int  # items on sale tickets minus items returned
    tickets: int  # sale tickets (returns not counted)
    revenue_cents: int  # sales minus refunds, VAT included (what tickets total)
    cost_cents: int  # purchase price of the items sold (minus those returned)
    margin_cents: int  # revenue_cents - cost_cents (gross margin)


@dataclass(frozen=True, slots=True)
class PurchaseRow:
    period: date | None
    store_number: int | None
    category_code: str | None
    items_bought: int
    paid_cents: int


@dataclass(frozen=True, slots=True)
class StockRow:
    store_number: int | None
    category_code: str | None
    items: int
    cost_cents: int  # what the store paid for them
    asking_cents: int  # their asking prices
    # Items by days since they were bought (an item transferred keeps its first purchase day).
    age_0_30: int
    age_31_90: int
    age_91_180: int
    age_over_180: int


@dataclass(frozen=True)
class _Rollup:
    daily: Table
    monthly: Table
    measures: tuple[str, ...]


_SALES_MEASURES = ("tickets", "items_sold", "revenue_cents", "cost_cents")
_SALES_BY_CATEGORY = _Rollup(r.sales_daily, r.sales_monthly, _SALES_MEASURES)
_SALES_BY_STORE = _Rollup(r.store_sales_daily, r.store_sales_monthly, _SALES_MEASURES)
_PURCHASES = _Rollup(r.purchases_daily, r.purchases_monthly, ("items_bought", "paid_cents"))


def sales_report(
    conn: Connection,
    *,
    start: date,
    end: date,
    grain: Grain | None = "month",
    by_store: bool = False,
    by_category: bool = False,
    stores: Sequence[int] | None = None,
    categories: Sequence[str] | None = None,
) -> list[SalesRow]:
    """Sales from `start` to `end` (included), a row per period, store and category asked
    for, sorted by them; only the `stores` and `categories` given, when given."""
    rollup = _SALES_BY_CATEGORY if by_category or categories is not None else _SALES_BY_STORE
    rows = _report(conn, rollup, start, end, grain, by_store, by_category, stores, categories)
    periods = _Periods()
    return [
        SalesRow(periods(period), store, category, items, tickets, revenue, cost, revenue - cost)
        for period, store, category, tickets, items, revenue, cost in rows
    ]


def purchases_report(
    conn: Connection,
    *,
    start: date,
    end: date,
    grain: Grain | None = "month",
    by_store: bool = False,
    by_category: bool = False,
    stores: Sequence[int] | None = None,
    categories: Sequence[str] | None = None,
) -> list[PurchaseRow]:
    """Items bought from `start` to `end` (included), by the business day of their purchase;
    grouped, sorted and filtered as `sales_report`."""
    rows = _report(conn, _PURCHASES, start, end, grain, by_store, by_category, stores, categories)
    periods = _Periods()
    return [
        PurchaseRow(periods(period), store, category, items, paid)
        for period, store, category, items, paid in rows
    ]


def first_and_last_day(conn: Connection) -> tuple[date, date] | None:
    """The first and the last business day with sales or returns; None before the first."""
    day = r.store_sales_daily.c.business_day
    first, last = conn.execute(
        select(select(func.min(day)).scalar_subquery(), select(func.max(day)).scalar_subquery())
    ).one()
    return None if first is None else (first, last)


def stock_report(
    conn: Connection,
    *,
    today: date,
    by_store: bool = True,
    by_category: bool = False,
    stores: Sequence[int] | None = None,
    categories: Sequence[str] | None = None,
) -> list[StockRow]:
    """The items the chain holds now (STOCK_STATUSES), by store and category as asked, sorted
    by them, with their ages on `today`. An item in transit counts in the store it left."""
    if (stores is not None and not stores) or (categories is not None and not categories):
        return []
    items = s.items.c
    bought = s.purchases.c.business_day
    category = func.coalesce(c.articles.c.category_code, UNKNOWN_CATEGORY)

    def aged(newest: int | None, oldest: int | None) -> ColumnElement[int]:
        """How many items were bought `newest` to `oldest` days before `today`."""
        since = []
        if newest is not None:
            since.append(bought <= today - timedelta(days=newest))
        if oldest is not None:
            since.append(bought >= today - timedelta(days=oldest))
        return summed(case((and_(*since), 1), else_=0))

    groups: list[ColumnElement[Any]] = []
    if by_store:
        groups.append(items.store_number)
    if by_category:
        groups.append(category)
    query = (
        select(
            *groups,
            func.count(),
            summed(items.purchase_price_cents),
            summed(items.asking_price_cents),
            *(aged(newest, oldest) for newest, oldest in AGES),
        )
        .select_from(
            s.items.join(s.purchases, s.purchases.c.id == items.purchase_id).outerjoin(
                c.articles, c.articles.c.id == items.article_id
            )
        )
        .where(items.status.in_(STOCK_STATUSES))
        .group_by(*groups)
        .order_by(*groups)
    )
    if stores is not None:
        query = query.where(items.store_number.in_(list(stores)))
    if categories is not None:
        query = query.where(category.in_(list(categories)))
    result = []
    for row in conn.execute(query):
        store = row[0] if by_store else None
        code = row[len(groups) - 1] if by_category else None
        count, cost, asking, *ages = row[len(groups) :]
        if count:
            result.append(StockRow(store, code, count, cost, asking, *ages))
    return result


# --- reading the rollups ------------------------------------------------------------------------

# A report's rows before they become dataclasses: (period, store, category, *measures), with
# None where the report does not group by a key; the period as `_Periods` decodes it.
Row = Sequence[Any]


def _report(
    conn: Connection,
    rollup: _Rollup,
    start: date,
    end: date,
    grain: Grain | None,
    by_store: bool,
    by_category: bool,
    stores: Sequence[int] | None,
    categories: Sequence[str] | None,
) -> Iterable[Row]:
    """The rows of a report, in order, as the rollups' ranges give them."""
    if start > end or (stores is not None and not stores):
        return []
    if categories is not None and not categories:
        return []
    queries = []
    ranges = rollup_ranges(start, end, grain)
    for table_grain, first, last in ranges:
        table = rollup.daily if table_grain == "day" else rollup.monthly
        query = _query(table, rollup.measures, table_grain, grain, by_store, by_category)
        query = query.where(_period_column(table).between(first, last))
        if stores is not None:
            query = query.where(table.c.store_number.in_(list(stores)))
        if categories is not None:
            query = query.where(table.c.category_code.in_(list(categories)))
        queries.append(query)
    if grain in ("day", "month") or len(ranges) == 1:
        rows = _read(conn, queries)  # the ranges' periods follow each other: already in order
        if not (grain or by_store or by_category):  # one sum, NULL when there was nothing
            return [row for row in rows if row[3] is not None]
        return rows
    periods = _Periods()
    merged: dict[Row, list[int]] = {}  # a year, or the whole range, read from both rollups
    for row in _read(conn, queries):
        if row[3] is None:
            continue
        key = (periods(row[0]), row[1], row[2])
        sums = merged.get(key)
        if sums is None:
            merged[key] = list(row[3:])
        else:
            for i, value in enumerate(row[3:]):
                sums[i] += value
    return [(*key, *sums) for key, sums in sorted(merged.items(), key=_sort_key)]


_FETCHED = 1_000  # rows fetched at a time: made into a report's rows before the next ones


def _read(conn: Connection, queries: Iterable[Select[Any]]) -> Iterator[Row]:
    """The queries' rows, one after the other, as the driver gives them. No column of a
    report's query needs converting (`_Periods` decodes the periods): making a Row of each
    row would be a quarter of a long report's time, and holding them all at once more still
    (the garbage collector goes through them again and again)."""
    for query in queries:
        result = conn.execute(query)
        try:
            while rows := result.cursor.fetchmany(_FETCHED):
                yield from rows
        finally:
            result.close()


def _sort_key(item: tuple[Row, list[int]]) -> tuple[date, int, str]:
    period, store, category = item[0]
    return (period or date.min, store or 0, category or "")


def rollup_ranges(start: date, end: date, grain: Grain | None) -> list[tuple[Grain, date, date]]:
    """The rollups a range reads: (grain of the rollup, first day, last day)."""
    if grain == "day":
        return [("day", start, end)]
    first_month = start if start.day == 1 else _next_month(start)
    end_month = _next_month(end)  # the first day after the last whole month
    if end_month - timedelta(days=1) != end:
        end_month = end.replace(day=1)
    if first_month >= end_month:
        return [("day", start, end)]
    ranges: list[tuple[Grain, date, date]] = []
    if start < first_month:
        ranges.append(("day", start, first_month - timedelta(days=1)))
    ranges.append(("month", first_month, end_month - timedelta(days=1)))
    if end_month <= end:
        ranges.append(("day", end_month, end))
    return ranges


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _period_column(table: Table) -> ColumnElement[Any]:
    return table.c.month if "month" in table.c else table.c.business_day


class _Periods:
    """Periods as the database gives them (ISO text on SQLite, a date on PostgreSQL, a year,
    or year * 100 + month), decoded once per distinct value."""

    def __init__(self) -> None:
        self.known: dict[Any, date | None] = {None: None}

    def __call__(self, value: Any) -> date | None:
        try:
            return self.known[value]
        except KeyError:
            pass
        if isinstance(value, str):
            known = date.fromisoformat(value)
        elif isinstance(value, date):
            known = value
        elif value < 10_000:
            known = date(value, 1, 1)
        else:
            known = date(value // 100, value % 100, 1)
        self.known[value] = known
        return known


def _query(
    table: Table,
    measures: tuple[str, ...],
    table_grain: Grain,
    grain: Grain | None,
    by_store: bool,
    by_category: bool,
) -> Select[Any]:
    """The rows of a report in one rollup: (period, store, category, *measures), a NULL where
    the report does not group by a key."""
    column = _period_column(table)
    period: ColumnElement[Any] = null()
    if grain == table_grain:
        # As the driver gives it: decoding a date on every row is a good part of a long
        # report's time, when a month's first day comes back hundreds of times.
        period = type_coerce(column, String)
    elif grain == "year":
        period = cast(extract("year", column), Integer)
    elif grain == "month":
        year, month = (
            cast(extract("year", column), Integer),
            cast(extract("month", column), Integer),
        )
        period = year * 100 + month
    store = table.c.store_number if by_store else null()
    category = table.c.category_code if by_category else null()
    groups = [
        key
        for key, wanted in ((period, grain), (store, by_store), (category, by_category))
        if wanted
    ]
    keyed = grain == table_grain and by_store and (by_category or "category_code" not in table.c)
    if keyed:  # one row of the rollup per row of the report
        query = select(period, store, category, *(table.c[name] for name in measures))
    else:
        sums = (summed(table.c[name]) for name in measures)
        query = select(period, store, category, *sums).group_by(*groups)
    return query.order_by(*groups)
