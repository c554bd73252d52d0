"""Reporting's figures (`recommerce bench`): a dashboard over thirty years of history.

- `report_monthly_by_store_category_ms`: `sales_report` from the first to the last day of the
  history, by month, store and category (60 stores, 30 years: some 240,000 rows), read from
  the rollups of a central database on SQLite; the median of a few runs, the cache warm.
- `report_sales_rows`: the sales the rollups hold (30,000,000 in the full bench).
- `report_raw_scan_ms`, the reference measured in the same run: the same grouping done by an
  in-memory columnar scan (pandas) of the raw sales, one row per item sold.

Building 30 million sales through the events would take hours: the sales are drawn with numpy
(seeded: the chain's traffic by weekday and month, growing over the years; the stores'
footfall; the categories' demand and prices; baskets of one to three items), summed into
rollup rows by numpy, and written through the rollups' own upsert.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Table, func, select

from recommerce.argus.history import (
    CATEGORY_PROFILES,
    CLOSED_ON,
    MARGIN_HIGH,
    MARGIN_LOW,
    MONTH_TRAFFIC,
    WEEKDAY_TRAFFIC,
    synthetic_stores,
)
from recommerce.central.bootstrap import CentralNode, bootstrap
from recommerce.central.db import reporting_tables as r
from recommerce.central.services.reporting import SalesRow, first_and_last_day, sales_report
from recommerce.central.services.stores import register_store
from recommerce.central.settings import CentralSettings
from recommerce.db.upsert import upsert_adding
from recommerce.sim.history_load import BASKET_SIZES, BASKET_WEIGHTS
from recommerce.sim.world import TIMEZONE

REPORT_GOALS = {"report_monthly_by_store_category_ms": 1000, "report_sales_rows": 30_000_000}
FULL_SALES, QUICK_SALES = 30_000_000, 1_000_000
YEARS, STORES = 30, 60
END = date(2025, 12, 31)
RESALE_SHARE = 0.45  # a second-hand price, against the category's median price new
PRICE_SIGMA = 0.6  # log-normal spread of the prices around it
WRITE_CHUNK = 100_000  # rollup rows per upsert
Progress = Callable[[str], None]


@dataclass(frozen=True)
class SyntheticSales:
    """One row per item sold, as columns; `day`, `store` and `category` index `days`,
    `store_numbers` and `categories`."""

    days: list[date]
    store_numbers: list[int]
    categories: list[str]
    day: NDArray[np.int32]
    store: NDArray[np.int16]
    category: NDArray[np.int8]
    price_cents: NDArray[np.int32]
    cost_cents: NDArray[np.int32]
    # 1 on the first item of its category on its ticket: summed, the tickets of a category.
    opens_category: NDArray[np.int8]
    ticket_day: NDArray[np.int32]  # one entry per ticket
    ticket_store: NDArray[np.int16]

    @property
    def months(self) -> NDArray[np.int32]:
        """The month of each day, counted from the first day's."""
        first = self.days[0]
        return np.array(
            [(d.year - first.year) * 12 + d.month - first.month for d in self.days], np.int32
        )


def synthetic_sales(
    sales: int, *, seed: int, stores: int, start: date, end: date
) -> SyntheticSales:
    """`sales` items sold in `stores` stores from `start` to `end`, drawn with numpy."""
    rng = np.random.default_rng(seed)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    traffic = np.array(
        [
            0.0
            if (d.month, d.day) in CLOSED_ON
            else WEEKDAY_TRAFFIC[d.weekday()] * MONTH_TRAFFIC[d.month - 1]
            for d in days
        ]
    ) * np.linspace(0.6, 1.4, len(days))  # the chain grew over the years
    places = synthetic_stores(stores)
    footfall = np.array([place.footfall for place in places])
    profiles = list(CATEGORY_PROFILES.values())
    demand = np.array([p.demand * p.share for p in profiles])

    sizes = rng.choice(
        np.array(BASKET_SIZES, np.int32),
        size=int(sales / np.dot(BASKET_SIZES, BASKET_WEIGHTS) * 1.05) + 10,
        p=np.array(BASKET_WEIGHTS) / sum(BASKET_WEIGHTS),
    )
    ends = np.cumsum(sizes)
    tickets = int(np.searchsorted(ends, sales)) + 1
    sizes = sizes[:tickets]
    sizes[-1] -= int(ends[tickets - 1]) - sales  # the last basket ends on the last sale
    ticket_day = np.sort(_draw(rng, traffic, tickets)).astype(np.int32)
    ticket_store = _draw(rng, footfall, tickets).astype(np.int16)
    item_ticket = np.repeat(np.arange(tickets, dtype=np.int32), sizes)
    category = _draw(rng, demand, sales).astype(np.int8)

    median = np.array([p.median_price * RESALE_SHARE for p in profiles])[category]
    low = np.array([p.low_price * RESALE_SHARE for p in profiles])[category]
    high = np.array([p.high_price for p in profiles])[category]
    euros = np.clip(median * np.exp(rng.normal(0.0, PRICE_SIGMA, sales)), low, high)
    price = (np.round(euros * 10) * 10).astype(np.int32)
    margin = rng.uniform(MARGIN_LOW, MARGIN_HIGH, sales)
    cost = (np.round(price * (1 - margin) / 50) * 50).astype(np.int32)

    opens = np.ones(sales, np.int8)  # baskets hold three items at most
    for back in (1, 2):
        same = (item_ticket[back:] == item_ticket[:-back]) & (category[back:] == category[:-back])
        opens[back:][same] = 0
    return SyntheticSales(
        days=days,
        store_numbers=[place.number for place in places],
        categories=[p.code for p in profiles],
        day=ticket_day[item_ticket],
        store=ticket_store[item_ticket],
        category=category,
        price_cents=price,
        cost_cents=cost,
        opens_category=opens,
        ticket_day=ticket_day,
        ticket_store=ticket_store,
    )


def _draw(rng: np.random.Generator, weights: NDArray[Any], count: int) -> NDArray[np.int64]:
    cumulative = np.cumsum(weights)
    drawn: NDArray[np.int64] = np.searchsorted(
        cumulative, rng.random(count) * cumulative[-1], side="right"
    ).astype(np.int64)
    return drawn


# --- the rollups --------------------------------------------------------------------------------


def write_rollups(
    central: CentralNode, sales: SyntheticSales, progress: Progress
) -> dict[str, int]:
    """Sum the sales into every sales rollup and write them; the rows written, by table."""
    n_days, n_stores, n_categories = (
        len(sales.days),
        len(sales.store_numbers),
        len(sales.categories),
    )
    by_category = (sales.day.astype(np.int64) * n_stores + sales.store) * n_categories
    by_category += sales.category
    by_store = sales.day.astype(np.int64) * n_stores + sales.store
    tickets_by_store = sales.ticket_day.astype(np.int64) * n_stores + sales.ticket_store
    n_cells, n_store_cells = n_days * n_stores * n_categories, n_days * n_stores
    daily = {
        r.sales_daily: _sums(
            by_category,
            sales,
            np.bincount(by_category, weights=sales.opens_category, minlength=n_cells),
        ),
        r.store_sales_daily: _sums(
            by_store, sales, np.bincount(tickets_by_store, minlength=n_store_cells)
        ),
    }
    first_of_month = np.flatnonzero(np.diff(sales.months, prepend=-1))
    month_days = [sales.days[i] for i in first_of_month]
    written = {}
    with central.writing() as conn:
        for table, monthly_table in (
            (r.sales_daily, r.sales_monthly),
            (r.store_sales_daily, r.store_sales_monthly),
        ):
            sums = daily[table]
            per_day = sums.shape[0] // n_days
            monthly = np.add.reduceat(sums.reshape(n_days, per_day, 4), first_of_month, axis=0)
            for target, cells, periods in (
                (table, sums, sales.days),
                (monthly_table, monthly.reshape(-1, 4), month_days),
            ):
                progress(f"writing {target.name}")
                written[target.name] = _write(conn, target, cells, periods, sales)
    return written


def _sums(
    cell: NDArray[np.int64], sales: SyntheticSales, tickets: NDArray[Any]
) -> NDArray[np.int64]:
    """(tickets, items_sold, revenue_cents, cost_cents) of each cell, by cell number."""
    size = len(tickets)
    return np.stack(
        [
            tickets,
            np.bincount(cell, minlength=size),
            np.bincount(cell, weights=sales.price_cents, minlength=size),
            np.bincount(cell, weights=sales.cost_cents, minlength=size),
        ],
        axis=1,
    ).astype(np.int64)  # sums of cents well below 2**53: exact in the float weights


def _write(
    conn: Connection,
    table: Table,
    cells: NDArray[np.int64],
    periods: list[date],
    sales: SyntheticSales,
) -> int:
    """Write the cells that sold something, through the rollups' upsert, a chunk at a time."""
    names = [col.name for col in table.columns]
    per_period = cells.shape[0] // len(periods)
    stores, categories = sales.store_numbers, sales.categories
    with_category = "category_code" in table.c
    sold = np.flatnonzero(cells[:, 1])
    for chunk in _chunks(sold):
        period, rest = np.divmod(chunk, per_period)
        if with_category:
            store, category = np.divmod(rest, len(categories))
        else:
            store, category = rest, np.zeros_like(rest)
        rows = []
        for p, s, c, sums in zip(
            period.tolist(), store.tolist(), category.tolist(), cells[chunk].tolist(), strict=True
        ):
            key = (
                (periods[p], stores[s], categories[c]) if with_category else (periods[p], stores[s])
            )
            rows.append(dict(zip(names, (*key, *sums), strict=True)))
        upsert_adding(conn, table, rows)
    return len(sold)


def _chunks(values: NDArray[np.int64]) -> Iterator[NDArray[np.int64]]:
    for i in range(0, len(values), WRITE_CHUNK):
        yield values[i : i + WRITE_CHUNK]


# --- the measures -------------------------------------------------------------------------------


def raw_scan_ms(sales: SyntheticSales, repeats: int) -> float:
    """The month x store x category grouping of the raw sales, by pandas, in memory."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "day": sales.day,
            "store": sales.store,
            "category": sales.category,
            "price": sales.price_cents,
            "cost": sales.cost_cents,
            "opens": sales.opens_category,
        }
    )
    months = sales.months
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        frame["month"] = months[frame["day"].to_numpy()]
        frame.groupby(["month", "store", "category"], sort=True).agg(
            items=("price", "size"),
            tickets=("opens", "sum"),
            revenue=("price", "sum"),
            cost=("cost", "sum"),
        )
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 1)


def bench_reports(
    workdir: Path, *, quick: bool, progress: Progress | None = None
) -> dict[str, Any]:
    """Build the history's rollups in a central database on SQLite, then time the report."""
    say = progress or _say
    count = QUICK_SALES if quick else FULL_SALES
    start = END.replace(year=END.year - YEARS) + timedelta(days=1)
    started = time.perf_counter()
    sales = synthetic_sales(count, seed=30, stores=STORES, start=start, end=END)
    drawn_s = time.perf_counter() - started
    say(f"{count:,} sales drawn in {drawn_s:.0f} s")
    central = bootstrap(
        CentralSettings(
            environment="test", data_dir=workdir, database_url=f"sqlite:///{workdir / 'central.db'}"
        )
    )
    try:
        now = datetime.now(UTC)
        with central.writing() as conn:
            for place in synthetic_stores(STORES):
                register_store(
                    conn,
                    number=place.number,
                    name=place.name,
                    city=place.city,
                    timezone=TIMEZONE,
                    at=now,
                )
        started = time.perf_counter()
        written = write_rollups(central, sales, say)
        build_s = time.perf_counter() - started
        say(f"rollups written in {build_s:.0f} s; timing the report")
        repeats = 3 if quick else 5
        with central.reading() as conn:
            held = conn.execute(select(func.sum(r.store_sales_monthly.c.items_sold))).scalar_one()
            span = first_and_last_day(conn)
            assert span is not None
            samples: list[float] = []
            rows: list[SalesRow] = []
            for _ in range(repeats):
                rows = []  # each run starts as a request does: without the last run's rows
                gc.collect()
                began = time.perf_counter()
                rows = sales_report(
                    conn, start=span[0], end=span[1], grain="month", by_store=True, by_category=True
                )
                samples.append((time.perf_counter() - began) * 1000)
        if sum(row.items_sold for row in rows) != count:
            raise RuntimeError("the report does not hold every sale drawn")
        say("timing the columnar scan of the raw sales")
        raw_ms = raw_scan_ms(sales, repeats)
    finally:
        central.engine.dispose()
    return {
        "figures": {
            "report_monthly_by_store_category_ms": round(statistics.median(samples), 1),
            "report_sales_rows": int(held),
            "report_raw_scan_ms": raw_ms,
        },
        "setup": {
            "database": "sqlite (WAL, synchronous=FULL), rollups clustered on their key",
            "stores": STORES,
            "first_day": span[0].isoformat(),
            "last_day": span[1].isoformat(),
            "report_rows": len(rows),
            "rollup_rows": written,
            "draw_s": round(drawn_s, 1),
            "build_s": round(build_s, 1),
            "repeats": repeats,
            "raw_scan": "pandas groupby (month, store, category) of one row per item sold",
        },
    }


def _say(message: str) -> None:
    print(f"reporting bench: {message}", file=sys.stderr, flush=True)
