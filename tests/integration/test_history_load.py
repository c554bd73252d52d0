"""The former system's history loaded into central: purchases, items sold and their tickets,
read back by the argus as central's own sales; loaded once."""

from __future__ import annotations

from collections import Counter
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from recommerce.central.bootstrap import CentralNode
from recommerce.central.bootstrap import bootstrap as bootstrap_central
from recommerce.central.db import catalog_tables as c
from recommerce.central.db import sync_tables as s
from recommerce.central.db import tables as t
from recommerce.central.services.argus import central_sales
from recommerce.central.settings import CentralSettings
from recommerce.clock import FixedClock
from recommerce.errors import Conflict, DomainError
from recommerce.fiscal.vat import tax_line
from recommerce.inventory.labels import parse_label_code
from recommerce.inventory.model import VatRegime
from recommerce.money import Money
from recommerce.pos.tenders import Tender, TenderKind
from recommerce.pos.ticket import Ticket, TicketKind, TicketLine
from recommerce.sim.history_load import (
    HISTORY_LABELS_FROM,
    HISTORY_TILL,
    HistoryPlan,
    load_history,
    plan_history,
)
from recommerce.sim.world import World, install

UNTIL = date(2026, 11, 19)  # the day before the fixtures' clock
PARIS = ZoneInfo("Europe/Paris")
OPEN_DAYS = 365 - 3  # the year up to UNTIL, less 25 December, 1 January and 1 May


def small_world(seed: int = 3) -> World:
    return World.generate(seed, stores=3, articles=400)


def year_in_three_stores(world: World) -> HistoryPlan:
    return plan_history(world, years=1, stores=3, until=UNTIL, daily_sales=4)


def count(central: CentralNode, table: Any) -> int:
    with central.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_year_of_three_stores_is_loaded_and_the_argus_learns_from_it(
    central: CentralNode,
) -> None:
    world = small_world()
    installed = install(central, world)
    assert (installed.stores, installed.articles) == (3, 400)
    plan = year_in_three_stores(world)
    assert plan.first_day == date(2025, 11, 20) and plan.last_day == UNTIL
    assert plan.sales == 4 * 3 * OPEN_DAYS

    advanced: list[int] = []
    loaded = load_history(central, world, plan, progress=advanced.append)

    assert loaded.sales == plan.sales == sum(advanced)
    assert count(central, s.purchases) == count(central, s.items) == plan.sales
    assert count(central, s.tickets) == loaded.tickets
    assert plan.sales / 3 <= loaded.tickets < plan.sales  # one to three items a ticket
    assert loaded.rows == 2 * plan.sales + loaded.tickets and loaded.rows_per_second > 0
    with central.reading() as conn:
        sales = list(central_sales(conn))
        items = {row.label_code: row for row in conn.execute(select(s.items))}
        tickets = list(conn.execute(select(s.tickets)))
        purchases = {row.id: row for row in conn.execute(select(s.purchases))}
        categories = dict(conn.execute(select(c.articles.c.id, c.articles.c.category_code)).all())
    assert len(sales) == plan.sales
    assert Counter(sale.price_cents for sale in sales) == Counter(
        item.asking_price_cents for item in items.values()
    )
    assert all(plan.first_day <= sale.sold_on <= plan.last_day for sale in sales)
    assert {item.status for item in items.values()} == {"sold"}
    assert {item.store_number for item in items.values()} == {1, 2, 3}
    for label, item in items.items():
        store, sequence = parse_label_code(label)
        assert store == item.store_number and sequence >= HISTORY_LABELS_FROM
        bought = purchases[item.purchase_id]
        assert bought.total_cents == item.purchase_price_cents and bought.item_count == 1
        assert bought.occurred_at <= item.status_at  # bought before it was sold
        if categories[item.article_id] == "jewellery" or bought.total_cents > 100_000:
            assert bought.payment_method != "cash"  # CMF L112-6
    for ticket in tickets:
        assert ticket.till == HISTORY_TILL and ticket.kind == "sale"
        assert plan.first_day <= ticket.business_day <= plan.last_day
        assert ticket.total_cents == sum(line["price_cents"] for line in ticket.lines)
        assert 10 <= ticket.occurred_at.astimezone(PARIS).hour < 19  # opening hours
    numbers = Counter(ticket.number.split("-")[0] for ticket in tickets)
    assert set(numbers) == {"001", "002", "003"}


def test_the_history_tickets_read_as_the_till_writes_them(central: CentralNode) -> None:
    world = small_world()
    install(central, world)
    load_history(central, world, year_in_three_stores(world))
    with central.reading() as conn:
        stored = conn.execute(
            select(s.tickets).where(s.tickets.c.store_number == 2).order_by(s.tickets.c.number)
        ).first()
        assert stored is not None
        items = {
            row.label_code: row
            for row in conn.execute(select(s.items).where(s.items.c.sold_ticket_id == stored.id))
        }
        names = dict(conn.execute(select(c.articles.c.id, c.articles.c.name)).all())
    assert stored.number == "002-HIST-000001"
    lines = []
    for line in stored.lines:
        item = items[line["label_code"]]
        price = Money(item.asking_price_cents)
        lines.append(
            TicketLine(
                item_id=item.item_id,
                label_code=item.label_code,
                article_name=names[item.article_id],
                unit_price=price,
                discount=Money.zero(),
                taxed=tax_line(VatRegime.MARGIN, price, Money(item.purchase_price_cents)),
            )
        )
    tender = TenderKind(stored.tenders[0]["kind"])
    till = Ticket(
        id=stored.id,
        store_number=2,
        till=HISTORY_TILL,
        number=1,
        kind=TicketKind.SALE,
        occurred_at=stored.occurred_at,
        staff_id="history",
        lines=tuple(lines),
        tenders=(Tender(tender, Money(stored.total_cents)),),
        change=Money.zero(),
    ).journal_fields()
    assert till["number"] == stored.number
    assert (stored.lines, stored.tenders, stored.vat) == (
        till["lines"],
        till["tenders"],
        till["vat"],
    )
    assert stored.vat[0]["rate"] == str(Fraction(20))


def test_a_second_load_is_refused_and_changes_nothing(central: CentralNode) -> None:
    world = small_world()
    install(central, world)
    plan = year_in_three_stores(world)
    load_history(central, world, plan)
    before = count(central, s.items), count(central, s.tickets), count(central, s.purchases)
    with pytest.raises(Conflict, match="already holds"):
        load_history(central, world, plan)
    assert install(central, world).articles == 0
    assert (
        count(central, s.items),
        count(central, s.tickets),
        count(central, s.purchases),
    ) == before


def test_the_history_needs_the_world_at_central(central: CentralNode) -> None:
    world = small_world()
    with pytest.raises(DomainError, match="install the world first"):
        load_history(central, world, year_in_three_stores(world))
    assert count(central, s.items) == 0


def test_the_world_reaches_every_store_through_its_feed(central: CentralNode) -> None:
    world = small_world()
    install(central, world)
    with central.reading() as conn:
        stores = list(conn.execute(select(t.stores).order_by(t.stores.c.number)))
        per_store: dict[int, int] = dict(
            conn.execute(
                select(c.feed.c.store_number, func.count())
                .where(c.feed.c.type == "ArticleUpserted")
                .group_by(c.feed.c.store_number)
            ).all()
        )
    assert [(row.number, row.name, row.city) for row in stores] == [
        (1, "Magasin de Paris", "Paris"),
        (2, "Magasin de Marseille", "Marseille"),
        (3, "Magasin de Lyon", "Lyon"),
    ]
    assert (stores[2].latitude, stores[2].longitude) == (45.764, 4.8357)
    assert per_store == {1: 400, 2: 400, 3: 400}


def test_the_history_starts_when_the_catalogue_does() -> None:
    world = World.generate(1, stores=2, articles=100)
    plan = plan_history(world, years=30, stores=2, until=date(2026, 6, 30), daily_sales=1)
    assert plan.first_day == date(2010, 1, 1)
    with pytest.raises(DomainError, match="stores 1 to 2"):
        plan_history(world, years=1, stores=3, until=UNTIL)
    with pytest.raises(DomainError, match="at least one year"):
        plan_history(world, years=0, stores=1, until=UNTIL)


def test_the_same_seed_loads_the_same_history(tmp_path: Path, clock: FixedClock) -> None:
    def loaded(name: str) -> list[Any]:
        settings = CentralSettings(
            environment="test",
            data_dir=tmp_path / name,
            database_url=f"sqlite:///{tmp_path / name}.db",
        )
        central = bootstrap_central(settings, clock=clock)
        try:
            world = World.generate(8, stores=2, articles=200)
            install(central, world)
            load_history(
                central, world, plan_history(world, years=1, stores=2, until=UNTIL, daily_sales=2)
            )
            with central.reading() as conn:
                return list(conn.execute(select(s.tickets).order_by(s.tickets.c.id))) + list(
                    conn.execute(select(s.items).order_by(s.items.c.item_id))
                )
        finally:
            central.engine.dispose()

    assert loaded("first") == loaded("again")


def test_head_office_loads_the_history_on_the_command_line(
    central: CentralNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from recommerce.cli import app

    monkeypatch.setenv("RECOMMERCE_CENTRAL_DATA_DIR", str(central.settings.data_dir))
    arguments = [
        "history",
        "load",
        *("--years", "1", "--stores", "2", "--seed", "5", "--articles", "300"),
        *("--until", "2026-11-19", "--daily-sales", "2"),
        *("--database-url", central.settings.effective_database_url),
    ]
    runner = CliRunner()
    first = runner.invoke(app, arguments)
    assert first.exit_code == 0, first.output
    assert "rows/s" in first.output
    assert count(central, s.items) == 2 * 2 * OPEN_DAYS
    again = runner.invoke(app, arguments)
    assert again.exit_code == 2
    assert "already holds" in again.output
    refused = runner.invoke(app, [*arguments, "--until", "2026-13-01"])
    assert refused.exit_code == 2 and "not a date" in refused.output
