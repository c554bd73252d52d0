"""The dashboard's figures for a period, read from central's reporting
(`recommerce.central.services.reporting`), as key figures and as tables.

Each table is an export `Sheet`: the page shows it, its charts draw it, and a download writes
it, so that all three say the same. Sell-through is the share of the goods on offer that
sold: the items sold in the period over those items plus the items in stock today.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date
from sqlalchemy import Connection

from recommerce.central.services import reporting
from recommerce.central.services.reporting import Grain
from recommerce.central.web.backoffice.exports import Column, Kind, Sheet
from recommerce.web.i18n import current_locale
from recommerce.web.i18n import gettext as _

GRAINS: tuple[Grain, ...] = ("day", "month", "year")
AGE_BUCKETS = ("age_0_30", "age_31_90", "age_91_180", "age_over_180")


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # included
    grain: Grain
    store: int | None = None
    category: str | None = None


@dataclass(frozen=True, slots=True)
class KeyFigures:
    revenue_cents: int
    cost_cents: int
    margin_cents: int
    margin_rate: float | None
    items_sold: int
    tickets: int
    items_bought: int
    paid_cents: int
    stock_items: int
    stock_cost_cents: int
    stock_asking_cents: int
    sell_through: float | None


@dataclass(frozen=True, slots=True)
class Dashboard:
    period: Period
    today: date
    figures: KeyFigures
    labels: list[str]  # the periods of the time tables, as the reader's language writes them
    sales: Sheet  # by period
    purchases: Sheet  # by period
    stores: Sheet  # sales and stock by store
    categories: Sheet  # sales and stock by category
    stock_age: Sheet  # stock by store and age

    @property
    def sheets(self) -> dict[str, Sheet]:
        """The tables by the name a download asks for (`?table=`)."""
        return {sheet.name: sheet for sheet in self.tables}

    @property
    def tables(self) -> list[Sheet]:
        return [self.sales, self.purchases, self.stores, self.categories, self.stock_age]


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def sell_through(sold: int, in_stock: int) -> float | None:
    return rate(sold, sold + in_stock)


def period_start(day: date, grain: Grain) -> date:
    if grain == "year":
        return date(day.year, 1, 1)
    if grain == "month":
        return date(day.year, day.month, 1)
    return day


def period_count(start: date, end: date, grain: Grain) -> int:
    """How many periods from `start` to `end`, counted without listing them."""
    if grain == "year":
        return end.year - start.year + 1
    if grain == "month":
        return (end.year - start.year) * 12 + end.month - start.month + 1
    return (end - start).days + 1


def periods(start: date, end: date, grain: Grain) -> list[date]:
    """The first day of each period from `start` to `end`: the time axis, gaps included."""
    out: list[date] = []
    current = period_start(start, grain)
    while current <= end:
        out.append(current)
        if grain == "year":
            current = date(current.year + 1, 1, 1)
        elif grain == "month":
            current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
        else:
            current = date.fromordinal(current.toordinal() + 1)
    return out


def period_label(day: date, grain: Grain) -> str:
    """A period as the reader's language writes it: `20 nov.`, `nov. 2026`, `2026` (the table
    beneath the chart gives each day in full)."""
    if grain == "year":
        return str(day.year)
    pattern = "MMM y" if grain == "month" else "d MMM"
    return str(format_date(day, pattern, locale=current_locale()))


def period_key(day: date, grain: Grain) -> date | str:
    """A period in a table: the day itself, or `2026-11`, `2026` (sortable, in any language)."""
    if grain == "year":
        return str(day.year)
    if grain == "month":
        return f"{day.year}-{day.month:02d}"
    return day


def store_label(number: int) -> str:
    return f"{number:03d}"


def read(
    conn: Connection,
    period: Period,
    *,
    today: date,
    store_names: Mapping[int, str],
    category_names: Mapping[str, str],
) -> Dashboard:
    """Every figure of the dashboard for a period (stock: as it stands today). The key
    figures are the sums of the time series: each ticket and purchase is on one day."""
    stores = [period.store] if period.store is not None else None
    categories = [period.category] if period.category else None
    scope: dict[str, Any] = {"stores": stores, "categories": categories}
    window: dict[str, Any] = {"start": period.start, "end": period.end, **scope}
    sales_in_time = reporting.sales_report(conn, grain=period.grain, **window)
    purchases_in_time = reporting.purchases_report(conn, grain=period.grain, **window)
    sales_by_store = reporting.sales_report(conn, grain=None, by_store=True, **window)
    sales_by_category = reporting.sales_report(conn, grain=None, by_category=True, **window)
    stock_by_store = reporting.stock_report(conn, today=today, by_store=True, **scope)
    stock_by_category = reporting.stock_report(
        conn, today=today, by_store=False, by_category=True, **scope
    )
    total_sales, total_purchases = sales_in_time, purchases_in_time

    sold = sum(r.items_sold for r in total_sales)
    revenue = sum(r.revenue_cents for r in total_sales)
    margin = sum(r.margin_cents for r in total_sales)
    in_stock = sum(r.items for r in stock_by_store)
    figures = KeyFigures(
        revenue_cents=revenue,
        cost_cents=sum(r.cost_cents for r in total_sales),
        margin_cents=margin,
        margin_rate=rate(margin, revenue),
        items_sold=sold,
        tickets=sum(r.tickets for r in total_sales),
        items_bought=sum(r.items_bought for r in total_purchases),
        paid_cents=sum(r.paid_cents for r in total_purchases),
        stock_items=in_stock,
        stock_cost_cents=sum(r.cost_cents for r in stock_by_store),
        stock_asking_cents=sum(r.asking_cents for r in stock_by_store),
        sell_through=sell_through(sold, in_stock),
    )
    axis = periods(period.start, period.end, period.grain)
    return Dashboard(
        period=period,
        today=today,
        figures=figures,
        labels=[period_label(day, period.grain) for day in axis],
        sales=_sales_sheet(sales_in_time, axis, period.grain),
        purchases=_purchases_sheet(purchases_in_time, axis, period.grain),
        stores=_by_sheet(
            "stores",
            _("Stores"),
            [Column(_("Store")), Column(_("Name"))],
            {r.store_number: r for r in sales_by_store if r.store_number is not None},
            {r.store_number: r for r in stock_by_store if r.store_number is not None},
            lambda number: [store_label(number), store_names.get(number, "")],
        ),
        categories=_by_sheet(
            "categories",
            _("Categories"),
            [Column(_("Category")), Column(_("Code"))],
            {r.category_code: r for r in sales_by_category if r.category_code is not None},
            {r.category_code: r for r in stock_by_category if r.category_code is not None},
            lambda code: [category_names.get(code, code) or _("Unknown category"), code],
        ),
        stock_age=_stock_age_sheet(stock_by_store, store_names),
    )


def _sales_sheet(rows: Sequence[Any], axis: list[date], grain: Grain) -> Sheet:
    by_period = {period_start(r.period, grain): r for r in rows if r.period is not None}
    out: list[list[Any]] = []
    for day in axis:
        r = by_period.get(day)
        if r is None:
            out.append([period_key(day, grain), 0, 0, 0, 0, 0, None])
            continue
        out.append(
            [
                period_key(day, grain),
                r.items_sold,
                r.tickets,
                r.revenue_cents,
                r.cost_cents,
                r.margin_cents,
                rate(r.margin_cents, r.revenue_cents),
            ]
        )
    return Sheet(
        name="sales",
        title=_("Sales"),
        columns=[
            Column(_("Period"), Kind.DATE if grain == "day" else Kind.TEXT),
            Column(_("Items sold"), Kind.INTEGER),
            Column(_("Tickets"), Kind.INTEGER),
            Column(_("Revenue"), Kind.MONEY),
            Column(_("Cost of goods sold"), Kind.MONEY),
            Column(_("Gross margin"), Kind.MONEY),
            Column(_("Margin rate"), Kind.PERCENT),
        ],
        rows=out,
    )


def _purchases_sheet(rows: Sequence[Any], axis: list[date], grain: Grain) -> Sheet:
    by_period = {period_start(r.period, grain): r for r in rows if r.period is not None}
    out = []
    for day in axis:
        r = by_period.get(day)
        out.append([period_key(day, grain), r.items_bought if r else 0, r.paid_cents if r else 0])
    return Sheet(
        name="purchases",
        title=_("Purchases"),
        columns=[
            Column(_("Period"), Kind.DATE if grain == "day" else Kind.TEXT),
            Column(_("Items bought"), Kind.INTEGER),
            Column(_("Paid to sellers"), Kind.MONEY),
        ],
        rows=out,
    )


def _by_sheet(
    name: str,
    title: str,
    heading: list[Column],
    sales: dict[Any, Any],
    stock: dict[Any, Any],
    describe: Callable[[Any], list[str]],
) -> Sheet:
    """Sales of the period and stock today, side by side, for each store or category that
    has either."""
    out = []
    for key in sorted(set(sales) | set(stock)):
        s, k = sales.get(key), stock.get(key)
        sold = s.items_sold if s else 0
        revenue = s.revenue_cents if s else 0
        margin = s.margin_cents if s else 0
        items = k.items if k else 0
        out.append(
            [
                *describe(key),
                sold,
                revenue,
                margin,
                rate(margin, revenue),
                items,
                k.cost_cents if k else 0,
                k.asking_cents if k else 0,
                sell_through(sold, items),
            ]
        )
    return Sheet(
        name=name,
        title=title,
        columns=[
            *heading,
            Column(_("Items sold"), Kind.INTEGER),
            Column(_("Revenue"), Kind.MONEY),
            Column(_("Gross margin"), Kind.MONEY),
            Column(_("Margin rate"), Kind.PERCENT),
            Column(_("Items in stock"), Kind.INTEGER),
            Column(_("Stock at cost"), Kind.MONEY),
            Column(_("Stock at asking price"), Kind.MONEY),
            Column(_("Sell-through"), Kind.PERCENT),
        ],
        rows=out,
    )


def _stock_age_sheet(rows: Sequence[Any], store_names: Mapping[int, str]) -> Sheet:
    out = [
        [
            store_label(r.store_number),
            store_names.get(r.store_number, ""),
            r.items,
            *(getattr(r, bucket) for bucket in AGE_BUCKETS),
            r.cost_cents,
        ]
        for r in sorted(rows, key=lambda r: r.store_number)
        if r.store_number is not None
    ]
    return Sheet(
        name="stock-age",
        title=_("Stock by age"),
        columns=[
            Column(_("Store")),
            Column(_("Name")),
            Column(_("Items in stock"), Kind.INTEGER),
            *(Column(title, Kind.INTEGER) for title in age_titles()),
            Column(_("Stock at cost"), Kind.MONEY),
        ],
        rows=out,
    )


def age_titles() -> list[str]:
    return [_("0–30 days"), _("31–90 days"), _("91–180 days"), _("Over 180 days")]
