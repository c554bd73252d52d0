"""Reporting's rollups: sales and purchases summed by business day and by month, kept up to
date as the stores' events arrive (`recommerce.central.services.rollups`), so that a dashboard
over thirty years of history reads a few hundred thousand rows, never the tickets.

Each rollup is keyed by its period (a business day, or a month's first day), the store and,
for the by-category ones, the category of the items' articles; the measures are sums, so that
a batch of events adds to them and a rebuild writes them again from the read models. Sales are
kept twice: by category, and by store alone, where a ticket counts once whatever categories its
items are of. The tables are clustered on their key on SQLite (WITHOUT ROWID): a report reads
its range in key order, without a lookup per row.

The tables live on the same `metadata` as the registry so one migration history covers them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Index, String, Table
from sqlalchemy.schema import SchemaItem

from recommerce.central.db import sync_tables as s
from recommerce.central.db.tables import metadata

CATEGORY = 40  # as catalog_tables.categories.code


def _sales(name: str, period: str, *, by_category: bool) -> Table:
    columns: list[SchemaItem] = [
        Column(period, Date, primary_key=True),
        Column("store_number", ForeignKey("stores.number"), primary_key=True, autoincrement=False),
    ]
    if by_category:
        columns.append(Column("category_code", String(CATEGORY), primary_key=True))
    columns += [
        Column("tickets", BigInteger, nullable=False),  # sale tickets; returns are not counted
        Column("items_sold", BigInteger, nullable=False),  # items sold less items returned
        Column("revenue_cents", BigInteger, nullable=False),  # what the tickets total, VAT in
        Column("cost_cents", BigInteger, nullable=False),  # what the store paid for those items
    ]
    return Table(name, metadata, *columns, sqlite_with_rowid=False)


def _purchases(name: str, period: str) -> Table:
    return Table(
        name,
        metadata,
        Column(period, Date, primary_key=True),
        Column("store_number", ForeignKey("stores.number"), primary_key=True, autoincrement=False),
        Column("category_code", String(CATEGORY), primary_key=True),
        Column("items_bought", BigInteger, nullable=False),
        Column("paid_cents", BigInteger, nullable=False),  # what the sellers were paid
        sqlite_with_rowid=False,
    )


# By category: a ticket with items of two categories counts as a ticket in each.
sales_daily = _sales("sales_daily", "business_day", by_category=True)
sales_monthly = _sales("sales_monthly", "month", by_category=True)
# By store: each ticket once.
store_sales_daily = _sales("store_sales_daily", "business_day", by_category=False)
store_sales_monthly = _sales("store_sales_monthly", "month", by_category=False)
purchases_daily = _purchases("purchases_daily", "business_day")
purchases_monthly = _purchases("purchases_monthly", "month")

ROLLUPS = (
    sales_daily,
    sales_monthly,
    store_sales_daily,
    store_sales_monthly,
    purchases_daily,
    purchases_monthly,
)

# The stock report reads the items the chain still holds: few next to the items sold over the
# years, found by their status rather than by reading them all.
Index("ix_items_status", s.items.c.status)
