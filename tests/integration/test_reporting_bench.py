"""The reporting bench's synthetic sales, summed by numpy into the rollups, read back whole by
the reports: the bench measures reports over the sales it drew."""

from __future__ import annotations

from datetime import date

import numpy as np

from recommerce.argus.history import synthetic_stores
from recommerce.central.bootstrap import CentralNode
from recommerce.central.report_bench import synthetic_sales, write_rollups
from recommerce.central.services.reporting import first_and_last_day, sales_report
from recommerce.central.services.stores import register_store
from recommerce.sim.world import TIMEZONE


def test_the_bench_rollups_hold_every_sale_it_drew(central: CentralNode) -> None:
    sales = synthetic_sales(
        20_000, seed=5, stores=4, start=date(2024, 12, 1), end=date(2025, 12, 31)
    )
    with central.writing() as conn:
        for place in synthetic_stores(4):
            register_store(
                conn,
                number=place.number,
                name=place.name,
                city=place.city,
                timezone=TIMEZONE,
                at=central.clock.now(),
            )
    written = write_rollups(central, sales, lambda _: None)
    with central.reading() as conn:
        span = first_and_last_day(conn)
        assert span is not None
        cells = sales_report(conn, start=span[0], end=span[1], by_store=True, by_category=True)
        stores = sales_report(conn, start=span[0], end=span[1], grain=None, by_store=True)
    assert date(2024, 12, 1) <= span[0] < span[1] <= date(2025, 12, 31)
    assert written["sales_monthly"] == len(cells)
    assert sum(row.items_sold for row in cells) == 20_000 == len(sales.day)
    assert sum(row.revenue_cents for row in cells) == int(sales.price_cents.sum())
    assert sum(row.cost_cents for row in cells) == int(sales.cost_cents.sum())
    assert [row.tickets for row in stores] == np.bincount(sales.ticket_store).tolist()
    phones = sales.categories.index("phones")
    assert sum(row.tickets for row in cells if row.category_code == "phones") == int(
        sales.opens_category[sales.category == phones].sum()
    )
