"""A year of the former system's history, loaded into central, fills reporting's rollups in the
same transaction: the reports say what its tickets and purchases say, by month, store and
category, over any range; a rebuild, the migration of a database that held the history before
the rollups existed, and the `rollups-rebuild` command all write the same rollups."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, inspect, select
from typer.testing import CliRunner

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import catalog_tables as c
from recommerce.central.db import reporting_tables as r
from recommerce.central.db import sync_tables as s
from recommerce.central.db.migrate import MIGRATIONS
from recommerce.central.services import rollups as rollups_service
from recommerce.central.services.reporting import (
    first_and_last_day,
    purchases_report,
    sales_report,
)
from recommerce.central.services.rollups import rebuild
from recommerce.cli import app as cli_app
from recommerce.db.migrate import alembic_config
from recommerce.sim.history_load import HistoryPlan, load_history, plan_history
from recommerce.sim.world import World, install

UNTIL = date(2026, 11, 19)
LONG_AGO = date(2020, 1, 1)  # before the purchases of the items the history sold


@pytest.fixture
def history(central: CentralNode) -> HistoryPlan:
    """A year of three stores, four items sold a day in each."""
    world = World.generate(3, stores=3, articles=400)
    install(central, world)
    plan = plan_history(world, years=1, stores=3, until=UNTIL, daily_sales=4)
    load_history(central, world, plan)
    return plan


def rollups(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table.name: sorted(tuple(row) for row in conn.execute(select(table))) for table in r.ROLLUPS
    }


def month(day: date) -> date:
    return day.replace(day=1)


def test_the_history_fills_the_rollups_with_its_tickets_and_purchases(
    history: HistoryPlan, central: CentralNode
) -> None:
    expected: dict[date, Counter[str]] = defaultdict(Counter)
    bought: dict[date, Counter[str]] = defaultdict(Counter)
    with central.reading() as conn:
        for ticket in conn.execute(select(s.tickets)):
            sums = expected[month(ticket.business_day)]
            sums.update(tickets=1, items=len(ticket.lines), revenue=ticket.total_cents)
        sold = select(s.tickets.c.business_day, s.items.c.purchase_price_cents).join(
            s.items, s.items.c.sold_ticket_id == s.tickets.c.id
        )
        for day, cost in conn.execute(sold):
            expected[month(day)]["cost"] += cost
        for purchase in conn.execute(select(s.purchases)):
            bought[month(purchase.business_day)].update(
                items=purchase.item_count, paid=purchase.total_cents
            )
        sales = sales_report(conn, start=history.first_day, end=history.last_day)
        purchases = purchases_report(conn, start=LONG_AGO, end=history.last_day)
    assert len(sales) == 13  # 20 November 2025 to 19 November 2026
    assert {
        row.period: Counter(
            tickets=row.tickets,
            items=row.items_sold,
            revenue=row.revenue_cents,
            cost=row.cost_cents,
        )
        for row in sales
    } == expected
    assert sum(row.items_sold for row in sales) == history.sales
    assert {
        row.period: Counter(items=row.items_bought, paid=row.paid_cents) for row in purchases
    } == bought


@pytest.mark.parametrize("chunk", [rollups_service.REBUILD_CHUNK, 500], ids=["whole", "chunked"])
def test_a_rebuild_writes_the_rollups_the_load_wrote(
    history: HistoryPlan, central: CentralNode, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In small chunks, the sums are written while the tickets and items are still being read.
    monkeypatch.setattr(rollups_service, "REBUILD_CHUNK", chunk)
    monkeypatch.setattr(rollups_service, "MAX_CELLS", chunk)
    with central.reading() as conn:
        loaded = rollups(conn)
    with central.writing() as conn:
        rebuilt = rebuild(conn)
        assert rollups(conn) == loaded
    assert rebuilt.items_bought == history.sales


def test_the_reports_group_by_store_and_category_and_filter_on_them(
    history: HistoryPlan, central: CentralNode
) -> None:
    span = (history.first_day, history.last_day)
    with central.reading() as conn:
        everything = sales_report(conn, start=span[0], end=span[1], grain=None)
        by_store = sales_report(conn, start=span[0], end=span[1], grain=None, by_store=True)
        store_2 = sales_report(conn, start=span[0], end=span[1], by_store=True, stores=[2])
        by_month = sales_report(conn, start=span[0], end=span[1], by_store=True)
        cells = sales_report(conn, start=span[0], end=span[1], by_store=True, by_category=True)
        phones = sales_report(conn, start=span[0], end=span[1], categories=["phones"])
        nothing = sales_report(conn, start=span[0], end=span[1], stores=[])
        tickets = Counter(conn.execute(select(s.tickets.c.store_number)).scalars())
        categories = set(conn.execute(select(c.articles.c.category_code)).scalars())
        assert first_and_last_day(conn) == span

    (total,) = everything
    assert (total.period, total.store_number, total.category_code) == (None, None, None)
    assert {row.store_number: row.tickets for row in by_store} == tickets  # each ticket once
    assert sum(row.revenue_cents for row in by_store) == total.revenue_cents
    assert store_2 == [row for row in by_month if row.store_number == 2]
    assert [(row.period, row.store_number) for row in by_month] == sorted(
        (row.period, row.store_number) for row in by_month
    )
    keys = [(row.period, row.store_number, row.category_code) for row in cells]
    assert keys == sorted(keys, key=lambda key: (key[0], key[1], key[2] or ""))
    assert {row.category_code for row in cells} <= categories
    assert sum(row.items_sold for row in cells) == total.items_sold
    assert sum(row.margin_cents for row in cells) == total.margin_cents
    for row in phones:
        assert row.category_code is None  # filtered on, not grouped by
        assert row.items_sold == sum(
            cell.items_sold
            for cell in cells
            if cell.period == row.period and cell.category_code == "phones"
        )
    assert nothing == []


def test_a_range_reads_whole_months_and_its_ends_alike(
    history: HistoryPlan, central: CentralNode
) -> None:
    start, end = date(2026, 3, 15), date(2026, 6, 10)
    with central.reading() as conn:
        days = sales_report(conn, start=start, end=end, grain="day", by_category=True)
        months = sales_report(conn, start=start, end=end, grain="month", by_category=True)
        years = sales_report(conn, start=history.first_day, end=history.last_day, grain="year")
        monthly = sales_report(conn, start=history.first_day, end=history.last_day)
    assert {row.period for row in days} <= {
        date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)
    }
    assert sorted({row.period for row in months}) == [
        date(2026, 3, 1),
        date(2026, 4, 1),
        date(2026, 5, 1),
        date(2026, 6, 1),
    ]
    for figure in ("tickets", "items_sold", "revenue_cents", "cost_cents"):
        by_month: Counter[tuple[date, str]] = Counter()
        for row in days:
            assert row.period is not None and row.category_code is not None
            by_month[(month(row.period), row.category_code)] += getattr(row, figure)
        assert {
            (row.period, row.category_code): getattr(row, figure)
            for row in months
            if getattr(row, figure)
        } == +by_month
        by_year: Counter[date] = Counter()
        for row in monthly:
            assert row.period is not None
            by_year[row.period.replace(month=1)] += getattr(row, figure)
        assert {row.period: getattr(row, figure) for row in years} == by_year


@pytest.fixture
def central_env(central: CentralNode, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command line's settings point at the test's central."""
    monkeypatch.setenv("RECOMMERCE_CENTRAL_DATABASE_URL", central.settings.effective_database_url)
    monkeypatch.setenv("RECOMMERCE_CENTRAL_DATA_DIR", str(Path(central.settings.data_dir)))
    yield


def test_the_rollups_rebuild_command_repairs_the_rollups(
    history: HistoryPlan, central: CentralNode, central_env: None
) -> None:
    with central.writing() as conn:
        loaded = rollups(conn)
        conn.execute(r.sales_monthly.delete())
        conn.execute(r.purchases_daily.delete().where(r.purchases_daily.c.store_number == 1))
    result = CliRunner().invoke(cli_app, ["central", "rollups-rebuild"])
    assert result.exit_code == 0, result.output
    assert f"{history.sales:,} items bought" in result.output
    with central.reading() as conn:
        assert rollups(conn) == loaded


def test_the_migration_fills_the_rollups_of_a_database_that_held_the_history(
    history: HistoryPlan, central: CentralNode
) -> None:
    with central.reading() as conn:
        loaded = rollups(conn)
    config = alembic_config(central.engine, MIGRATIONS)
    command.downgrade(config, "0006")  # as central was before the rollups
    assert not {table.name for table in r.ROLLUPS} & set(inspect(central.engine).get_table_names())
    command.upgrade(config, "head")
    with central.reading() as conn:
        assert rollups(conn) == loaded
