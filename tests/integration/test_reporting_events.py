"""Reporting's rollups follow the stores' events: a real store buys, sells, takes a return and
pushes its outbox; central's reports then say what its tickets and items say, and a rebuild
from the read models writes the same rollups as the events did."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers import purchase_body
from sqlalchemy import Connection, func, select, update
from store_and_central import (  # noqa: F401  (fixtures)
    TODAY,
    Headers,
    central_database_url,
    code,
    enrolled,
    pusher,
)
from test_marketplace_listings import push_all

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import catalog_tables as c
from recommerce.central.db import reporting_tables as r
from recommerce.central.db import sync_tables as s
from recommerce.central.services.reporting import (
    PurchaseRow,
    SalesRow,
    StockRow,
    first_and_last_day,
    purchases_report,
    sales_report,
    stock_report,
)
from recommerce.central.services.rollups import rebuild
from recommerce.central.services.stores import register_store
from recommerce.clock import FixedClock
from recommerce.store.sync.pusher import Pusher

STORE = 42


def rollups(conn: Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table.name: sorted(tuple(row) for row in conn.execute(select(table))) for table in r.ROLLUPS
    }


@pytest.fixture
def trading_day(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    clock: FixedClock,
) -> dict[str, str]:
    """Store 42 bought a guitar 40 days ago, and today two phones and a console; sold a phone
    with the console on one ticket and the other phone on another; took the console back (it
    is on the shelf again); pushed everything to central. The labels, by name."""

    def buy(*lines: tuple[str, int, int]) -> list[str]:
        body = purchase_body(
            [
                {
                    "article_id": article_id(query),
                    "grade": "B",
                    "agreed_price_cents": paid,
                    "asking_price_cents": asking,
                }
                for query, paid, asking in lines
            ]
        )
        bought = client.post("/api/v1/purchases", json=body, headers=login("acheteur"))
        assert bought.status_code == 201, bought.text
        return [item["label_code"] for item in bought.json()["items"]]

    def sell(*labels: str) -> dict[str, Any]:
        sold = client.post(
            "/api/v1/sales",
            json={
                "till": "T1",
                "lines": [{"label_code": label} for label in labels],
                "tenders": [{"kind": "cash", "amount_cents": 100000}],
            },
            headers=login("caissier"),
        )
        assert sold.status_code == 201, sold.text
        return dict(sold.json())

    login("acheteur"), login("caissier")  # logged in today, they serve for the day 40 days back
    clock.advance(timedelta(days=-40))
    (guitar,) = buy(("guitare classique", 700, 3000))
    clock.advance(timedelta(days=40))
    phone, other_phone, console = buy(
        ("iphone 12", 5000, 12000), ("iphone 12", 4000, 11000), ("switch oled", 3000, 9000)
    )
    first = sell(phone, console)
    sell(other_phone)
    returned = client.post(
        "/api/v1/returns",
        json={
            "till": "T1",
            "sale_number": first["number"],
            "lines": [{"label_code": console}],
            "refund": "original_tenders",
        },
        headers=login("caissier"),
    )
    assert returned.status_code == 201, returned.text
    push_all(pusher)
    return {"guitar": guitar, "phone": phone, "other_phone": other_phone, "console": console}


def test_the_day_by_category_says_what_the_tickets_say(
    trading_day: dict[str, str], central: CentralNode
) -> None:
    with central.reading() as conn:
        rows = sales_report(
            conn, start=TODAY, end=TODAY, grain="day", by_store=True, by_category=True
        )
    assert rows == [
        # The console's ticket still counts; its return took its item, price and cost back out.
        SalesRow(TODAY, STORE, "consoles", 0, 1, 0, 0, 0),
        SalesRow(TODAY, STORE, "phones", 2, 2, 23000, 9000, 14000),
    ]


def test_the_chain_totals_are_those_of_the_tickets_and_of_the_items_sold(
    trading_day: dict[str, str], central: CentralNode
) -> None:
    with central.reading() as conn:
        (total,) = sales_report(conn, start=TODAY, end=TODAY, grain=None)
        tickets = conn.execute(
            select(func.count(), func.sum(s.tickets.c.total_cents)).where(
                s.tickets.c.kind == "sale"
            )
        ).one()
        refunds = conn.execute(
            select(func.sum(s.tickets.c.total_cents)).where(s.tickets.c.kind == "return")
        ).scalar_one()
        sold = conn.execute(
            select(func.count(), func.sum(s.items.c.purchase_price_cents)).where(
                s.items.c.status == "sold"
            )
        ).one()
    assert total.tickets == tickets[0] == 2  # the return is no ticket sold
    assert total.revenue_cents == tickets[1] + refunds == 23000
    assert (total.items_sold, total.cost_cents) == tuple(sold) == (2, 9000)
    assert total.margin_cents == 23000 - 9000


def test_purchases_are_reported_on_the_day_they_were_bought(
    trading_day: dict[str, str], central: CentralNode
) -> None:
    with central.reading() as conn:
        rows = purchases_report(
            conn, start=TODAY - timedelta(days=60), end=TODAY, grain="day", by_category=True
        )
        paid = conn.execute(select(func.sum(s.purchases.c.total_cents))).scalar_one()
    assert rows == [
        PurchaseRow(TODAY - timedelta(days=40), None, "instruments", 1, 700),
        PurchaseRow(TODAY, None, "consoles", 1, 3000),
        PurchaseRow(TODAY, None, "phones", 2, 9000),
    ]
    assert sum(row.paid_cents for row in rows) == paid


def test_the_stock_holds_the_items_not_sold_by_their_age(
    trading_day: dict[str, str], central: CentralNode
) -> None:
    with central.reading() as conn:
        by_category = stock_report(conn, today=TODAY, by_store=False, by_category=True)
        by_store = stock_report(conn, today=TODAY)
        phones = stock_report(conn, today=TODAY, categories=["phones"])
    assert by_category == [
        StockRow(None, "consoles", 1, 3000, 9000, 1, 0, 0, 0),  # back on the shelf
        StockRow(None, "instruments", 1, 700, 3000, 0, 1, 0, 0),  # bought 40 days ago
    ]
    assert by_store == [StockRow(STORE, None, 2, 3700, 12000, 1, 1, 0, 0)]
    assert phones == []  # both sold


def test_the_first_and_last_days_are_those_of_the_sales(
    trading_day: dict[str, str], central: CentralNode
) -> None:
    with central.reading() as conn:
        assert first_and_last_day(conn) == (TODAY, TODAY)


def test_a_rebuild_writes_the_rollups_the_events_wrote(
    trading_day: dict[str, str], central: CentralNode
) -> None:
    with central.reading() as conn:
        kept = rollups(conn)
    with central.writing() as conn:
        rebuilt = rebuild(conn)
        assert rollups(conn) == kept
    assert (rebuilt.tickets, rebuilt.items_bought) == (3, 4)


def test_a_rebuild_finds_an_item_sold_before_it_moved_to_another_store(
    trading_day: dict[str, str], central: CentralNode
) -> None:
    with central.writing() as conn:
        register_store(
            conn,
            number=43,
            name="Magasin de Villeurbanne",
            city="Villeurbanne",
            timezone="Europe/Paris",
            at=central.clock.now(),
        )
        kept = rollups(conn)
        # The console, back on the shelf, went to store 43 since (as a transfer moves it).
        conn.execute(
            update(s.items)
            .where(s.items.c.label_code == trading_day["console"])
            .values(store_number=43)
        )
        rebuild(conn)
        assert rollups(conn) == kept  # its sale and return stay store 42's, as consoles


def test_an_item_central_has_no_article_for_is_reported_under_no_category(
    trading_day: dict[str, str], central: CentralNode
) -> None:
    with central.writing() as conn:
        guitar = conn.execute(
            select(s.items.c.article_id).where(s.items.c.label_code == trading_day["guitar"])
        ).scalar_one()
        conn.execute(c.articles.delete().where(c.articles.c.id == guitar))
        rebuild(conn)
    with central.reading() as conn:
        rows = purchases_report(
            conn, start=date(2026, 1, 1), end=TODAY, grain=None, by_category=True
        )
    assert [(row.category_code, row.items_bought) for row in rows] == [
        ("", 1),
        ("consoles", 1),
        ("phones", 2),
    ]
