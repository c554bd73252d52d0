"""Online orders and conflicts in the back office: a real order placed on the storefront and
answered by its store, listed by status, read with its lines, customer, payment and history,
and a till sale of its item shown as a conflict; both lists downloadable."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import update
from store_and_central import (  # noqa: F401  (fixtures)
    Headers,
    central_database_url,
    code,
    enrolled,
    puller,
    pusher,
)
from test_backoffice_pages import Page, euros, log_in
from test_marketplace_listings import push_all, sell
from test_online_orders import CUSTOMER, listed, placed, process, sync  # noqa: F401

from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.sync.feed import FeedPuller
from recommerce.store.sync.pusher import Pusher
from recommerce.web.i18n import parse_euros


def test_head_office_finds_an_order_by_status_and_reads_its_life(
    listed: tuple[str, str],
    puller: FeedPuller,
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    _label, item_id = listed
    mine = placed(central_client, [item_id])
    sync(puller, pusher, central_client)
    assert log_in(central_client).status_code == 303

    confirmed = central_client.get(
        "/backoffice/orders", params={"status": "confirmed", "lang": "en"}
    )
    assert confirmed.status_code == 200
    listed_orders = Page(confirmed.text).text("orders")
    assert mine["number"] in listed_orders and CUSTOMER["name"] in listed_orders
    assert "Confirmed" in listed_orders and "Paid" in listed_orders
    assert euros(mine["total_cents"]) in listed_orders
    cancelled = Page(
        central_client.get("/backoffice/orders", params={"status": "cancelled", "lang": "en"}).text
    )
    assert mine["number"] not in cancelled.text("orders")
    by_email = Page(central_client.get("/backoffice/orders", params={"q": "CAMILLE@"}).text)
    assert mine["number"] in by_email.text("orders")

    order = central_client.get(f"/backoffice/orders/{mine['number']}", params={"lang": "en"})
    assert order.status_code == 200
    page = Page(order.text)
    assert page.text("order-status") == "Confirmed"
    assert page.text("order-payment") == "Paid"
    assert page.text("order-total") == euros(mine["total_cents"])
    assert mine["lines"][0]["title"] in page.text("order-lines")
    history = page.text("order-history")
    assert "Ordered and paid by card (authorised)" in history
    assert "The store answered" in history and "Message to the customer" in history

    download = central_client.get(
        "/backoffice/orders", params={"status": "confirmed", "format": "csv", "lang": "en"}
    )
    assert 'filename="orders-confirmed.csv"' in download.headers["content-disposition"]
    (row,) = csv.DictReader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";")
    assert row["Order"] == mine["number"] and row["Status"] == "Confirmed"
    assert parse_euros(row["Total"]) == mine["total_cents"]
    workbook = load_workbook(
        io.BytesIO(central_client.get("/backoffice/orders", params={"format": "xlsx"}).content)
    )
    sheet = workbook.active
    assert sheet is not None
    assert sheet["A2"].value == mine["number"]
    assert round(sheet["K2"].value * 100) == mine["total_cents"]  # Total, in euros


def test_a_till_sale_of_an_item_held_online_shows_as_a_conflict(
    listed: tuple[str, str],
    client: TestClient,
    login: Headers,
    puller: FeedPuller,
    pusher: Pusher,
    central_client: TestClient,
    node: StoreNode,
) -> None:
    label, item_id = listed
    mine = placed(central_client, [item_id])
    sync(puller, pusher, central_client)
    with node.engine.begin() as conn:  # the store restored from last night's backup
        conn.execute(
            update(t.items)
            .where(t.items.c.id == item_id)
            .values(status="in_stock", reserved_for=None)
        )
    ticket = sell(client, login, label)
    push_all(pusher)
    process(central_client)
    assert log_in(central_client).status_code == 303

    page = Page(central_client.get("/backoffice/conflicts", params={"lang": "en"}).text)
    shown = page.text("conflicts")
    assert ticket["number"] in shown and mine["number"] in shown and label in shown
    assert "online order cancelled and refunded" in shown
    order = Page(central_client.get(f"/backoffice/orders/{mine['number']}?lang=en").text)
    assert order.text("order-status") == "Cancelled"
    assert "Refunded" in order.text("order-payment")

    download = central_client.get("/backoffice/conflicts", params={"format": "csv", "lang": "en"})
    (row,) = csv.DictReader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";")
    assert (row["Store's ticket"], row["Order"], row["Item label"]) == (
        ticket["number"],
        mine["number"],
        label,
    )
