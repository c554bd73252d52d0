"""The dashboard: sales, purchases, gross margin, stock value and age, and sell-through, for a
period, by store and by category, with charts; every table downloadable.

The filters are a plain GET form (the page's address says what it shows, a link shares it);
htmx swaps the dashboard in place when the form is sent. A period too long for its grain
(years by day) is shown by a coarser one, and the page says so: a chart of thousands of bars
reads as nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import Connection, select
from starlette.datastructures import QueryParams

from recommerce.central.api.deps import CentralDep
from recommerce.central.db import tables as t
from recommerce.central.services import catalog_queries, reporting
from recommerce.central.services.reporting import Grain
from recommerce.central.web.backoffice import exports, figures
from recommerce.central.web.backoffice.charts import Kind, Series, svg
from recommerce.central.web.backoffice.figures import GRAINS, Dashboard, Period
from recommerce.central.web.backoffice.pages import PREFIX, PageUser, page, today
from recommerce.web.i18n import gettext as _

router = APIRouter(include_in_schema=False)

PRESETS = ("30d", "year", "all")
DEFAULT_PRESET = "30d"
# The most periods a chart shows at each grain; beyond, the next grain up.
MOST_PERIODS: dict[Grain, int] = {"day": 92, "month": 120}
COARSER: dict[Grain, Grain] = {"day": "month", "month": "year"}
LONGEST_SPAN = timedelta(days=100 * 366)


@dataclass(frozen=True, slots=True)
class Asked:
    """What the filters asked for, once read: the period, and what the page must say."""

    period: Period
    preset: str | None
    problem: str | None = None  # a filter could not be read: the default was used
    coarsened: bool = False  # the grain asked for had too many periods


def _date(text: str | None) -> date | None:
    if not text:
        return None
    return date.fromisoformat(text)


def preset_period(preset: str, today: date, known: tuple[date, date] | None) -> tuple[date, date]:
    """The days of a preset: the last 30 days, this year so far, or all the chain's days."""
    if preset == "year":
        return date(today.year, 1, 1), today
    if preset == "all":
        return (known[0], max(known[1], today)) if known else (today, today)
    return today - timedelta(days=29), today


def default_grain(start: date, end: date) -> Grain:
    days = (end - start).days + 1
    return "day" if days <= 31 else "month" if days <= 3 * 366 else "year"


def read_filters(params: QueryParams, *, today: date, known: tuple[date, date] | None) -> Asked:
    """The dashboard's filters from its address; anything unreadable falls back to the
    default (the last 30 days) and the page says it."""
    problem = None
    preset = params.get("preset") or None
    try:
        start, end = _date(params.get("start")), _date(params.get("end"))
        store_text = params.get("store") or ""
        store = int(store_text) if store_text else None
        if store is not None and not 0 <= store <= 999:
            raise ValueError(store_text)
    except ValueError:
        problem = _("Please check what you entered.")
        start = end = store = None
        preset = DEFAULT_PRESET
    if preset not in PRESETS:
        preset = None
    if preset is None and (start is None or end is None):
        preset = DEFAULT_PRESET if start is None and end is None else None
        start = start or end
        end = end or start
    if preset is not None:
        start, end = preset_period(preset, today, known)
    assert start is not None and end is not None
    if start > end:
        start, end = end, start
    # A typing slip (year 0001, 9999) reads a century at most, and no further than next year.
    end = min(end, today + timedelta(days=366))
    start = min(max(start, end - LONGEST_SPAN), end)
    # A preset comes with the grain that suits it; the grain field applies to the days typed.
    grain_text = params.get("grain") if preset is None else None
    grain: Grain = next((g for g in GRAINS if g == grain_text), default_grain(start, end))
    coarsened = False
    while grain != "year" and figures.period_count(start, end, grain) > MOST_PERIODS[grain]:
        grain, coarsened = COARSER[grain], True
    category = (params.get("category") or "").strip()[:40] or None
    return Asked(
        period=Period(start=start, end=end, grain=grain, store=store, category=category),
        preset=preset,
        problem=problem,
        coarsened=coarsened,
    )


@dataclass(frozen=True, slots=True)
class Charts:
    """Each chart of the dashboard; None where it has nothing to draw."""

    sales: Markup | None
    purchases: Markup | None
    stores: Markup | None
    categories: Markup | None
    stock_age: Markup | None


def charts(board: Dashboard) -> Charts:
    """The dashboard's charts, each drawn from the table shown with it."""
    over_time = Kind.OVER_TIME
    stores, categories = board.stores.rows, board.categories.rows
    return Charts(
        sales=svg(
            "chart-sales",
            _("Sales and gross margin over time"),
            board.labels,
            [
                Series(_("Revenue"), [row[3] for row in board.sales.rows]),
                Series(_("Gross margin"), [row[5] for row in board.sales.rows]),
            ],
            kind=over_time,
        ),
        purchases=svg(
            "chart-purchases",
            _("Purchases over time"),
            board.labels,
            [Series(_("Paid to sellers"), [row[2] for row in board.purchases.rows])],
            kind=over_time,
        ),
        stores=svg(
            "chart-stores",
            _("Sales by store"),
            [f"{row[0]} {row[1]}" for row in stores],
            [
                Series(_("Revenue"), [row[3] for row in stores]),
                Series(_("Gross margin"), [row[4] for row in stores]),
            ],
        ),
        categories=svg(
            "chart-categories",
            _("Sales by category"),
            [row[0] for row in categories],
            [
                Series(_("Revenue"), [row[3] for row in categories]),
                Series(_("Gross margin"), [row[4] for row in categories]),
            ],
        ),
        stock_age=svg(
            "chart-stock-age",
            _("Stock by age (items)"),
            [f"{row[0]} {row[1]}" for row in board.stock_age.rows],
            [
                Series(title, [row[3 + n] for row in board.stock_age.rows])
                for n, title in enumerate(figures.age_titles())
            ],
            kind=Kind.STACKED,
            amounts=False,
        ),
    )


def _choices(conn: Connection) -> tuple[list[tuple[int, str]], list[tuple[str, str]]]:
    """The stores and categories the filters offer."""
    stores = [
        (number, name)
        for number, name in conn.execute(
            select(t.stores.c.number, t.stores.c.name).order_by(t.stores.c.number)
        )
    ]
    return stores, [(c.code, c.name) for c in catalog_queries.categories(conn)]


@router.get(f"{PREFIX}/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, central: CentralDep, user: PageUser) -> Response:
    now = today(central)
    with central.reading() as conn:
        asked = read_filters(
            request.query_params, today=now, known=reporting.first_and_last_day(conn)
        )
        stores, categories = _choices(conn)
        board = figures.read(
            conn,
            asked.period,
            today=now,
            store_names=dict(stores),
            category_names=dict(categories),
        )
    fmt = exports.wanted_format(request)
    if fmt is not None:
        return _download(request, board, fmt)
    return page(
        request,
        user,
        "dashboard.html",
        {
            "asked": asked,
            "board": board,
            "charts": charts(board),
            "stores": stores,
            "categories": categories,
            "grains": GRAINS,
        },
    )


def _download(request: Request, board: Dashboard, fmt: str) -> Response:
    """One table (`?table=`), or in XLSX the whole dashboard, one tab per table."""
    period = board.period
    name = request.query_params.get("table")
    chosen = board.sheets.get(name) if name else None
    if chosen is None and fmt == "csv":
        chosen = board.sales
    sheets = [chosen] if chosen is not None else board.tables
    filename = exports.file_name(
        "dashboard",
        chosen.name if chosen is not None else None,
        period.start.isoformat(),
        period.end.isoformat(),
        f"store-{period.store:03d}" if period.store is not None else None,
        period.category,
    )
    return exports.download(fmt, sheets, filename)
