"""Online orders end to end, a store node and central in this process: checkout, the store's
RESERVED or REJECTED, payment captured only after RESERVED, no answer in time, collection at
the till, shipping and withdrawal, and the conflicts the ownership rule did not prevent
(architecture.md section 3, docs/marketplace.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from store_and_central import (  # noqa: F401  (fixtures)
    STORE,
    Headers,
    central_database_url,
    code,
    enrolled,
    puller,
    pusher,
)
from test_marketplace_listings import listed_item, push_all, search, sell

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import marketplace_tables as m
from recommerce.clock import FixedClock
from recommerce.marketplace.notifications import LogNotifier
from recommerce.marketplace.payments import DECLINED_CARD, SimulatedPaymentProvider
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.sync.feed import FeedPuller
from recommerce.store.sync.pusher import Pusher

CARD = {"number": "4242 4242 4242 4242", "expiry_month": 12, "expiry_year": 2030, "cvc": "123"}
CUSTOMER = {"name": "Camille Martin", "email": "camille@example.fr", "phone": "06 12 34 56 78"}
ADDRESS = {
    "name": "Camille Martin",
    "line1": "12 rue Mercière",
    "postcode": "69002",
    "city": "Lyon",
}


def order(central_client: TestClient, items: list[str], **body: Any) -> Any:
    return central_client.post(
        "/api/v1/marketplace/checkout",
        json={"items": items, "customer": CUSTOMER, "fulfilment": "collect", "card": CARD, **body},
    )


def placed(central_client: TestClient, items: list[str], **body: Any) -> dict[str, Any]:
    response = order(central_client, items, **body)
    assert response.status_code == 201, response.text
    orders = response.json()["orders"]
    assert len(orders) == 1
    return dict(orders[0])


def customer_view(central_client: TestClient, number: str) -> dict[str, Any]:
    response = central_client.get(
        f"/api/v1/marketplace/orders/{number}", params={"email": CUSTOMER["email"]}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def process(central_client: TestClient) -> None:
    """One pass of central's order processor (captures, voids, refunds, time-outs, messages)."""
    central_client.app.state.order_processor.step()  # type: ignore[attr-defined]


def sync(puller: FeedPuller, pusher: Pusher, central_client: TestClient) -> None:
    """The store reads its feed and answers; central takes the payment of what the store
    reserved, and the store hears that the order is paid."""
    puller.pull_once(wait=0)
    push_all(pusher)
    process(central_client)
    puller.pull_once(wait=0)


def payment(central: CentralNode, number: str) -> tuple[str, int, int]:
    with central.reading() as conn:
        auth = conn.execute(
            select(m.orders.c.authorization_id).where(m.orders.c.number == number)
        ).scalar_one()
    provider = central.payments
    assert isinstance(provider, SimulatedPaymentProvider)
    return provider.state(auth)


def messages_to_customer(central: CentralNode) -> list[str]:
    with central.reading() as conn:
        return list(
            conn.execute(
                select(m.notifications.c.subject).order_by(m.notifications.c.created_at)
            ).scalars()
        )


@pytest.fixture
def listed(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
) -> tuple[str, str]:
    """A phone published by store 42 and listed at central: (label, item id)."""
    label, item_id = listed_item(client, login, article_id)
    push_all(pusher)
    return label, item_id


def test_an_order_is_paid_only_once_the_store_has_reserved_the_item(
    listed: tuple[str, str],
    client: TestClient,
    login: Headers,
    puller: FeedPuller,
    pusher: Pusher,
    central_client: TestClient,
    central: CentralNode,
) -> None:
    label, item_id = listed
    mine = placed(central_client, [item_id])
    assert mine["status"] == "awaiting_store"
    assert mine["store_number"] == STORE
    assert payment(central, mine["number"]) == ("held", mine["total_cents"], 0)
    assert search(central_client, q="iphone")["total"] == 0  # held: no one else can order it
    assert order(central_client, [item_id]).json()["code"] == "listing_unavailable"

    sync(puller, pusher, central_client)
    refused = sell_response(client, login, label)
    assert refused.status_code == 409
    assert mine["number"] not in refused.json()["detail"]  # the store names central's order id
    assert "reserved for online order" in refused.json()["detail"]
    confirmed = customer_view(central_client, mine["number"])
    assert confirmed["status"] == "confirmed"
    assert confirmed["payment_state"] == "captured"
    assert payment(central, mine["number"]) == ("captured", mine["total_cents"], 0)
    assert messages_to_customer(central)[:2] == [
        f"Commande {mine['number']} reçue",
        f"Commande {mine['number']} confirmée",
    ]


def sell_response(client: TestClient, login: Headers, label: str) -> Any:
    return client.post(
        "/api/v1/sales",
        json={
            "till": "T1",
            "lines": [{"label_code": label}],
            "tenders": [{"kind": "cash", "amount_cents": 100000}],
        },
        headers=login("caissier"),
    )


def test_click_and_collect_is_prepared_then_sold_at_the_till_paid_online(
    listed: tuple[str, str],
    client: TestClient,
    login: Headers,
    puller: FeedPuller,
    pusher: Pusher,
    central_client: TestClient,
    central: CentralNode,
) -> None:
    _, item_id = listed
    mine = placed(central_client, [item_id])
    sync(puller, pusher, central_client)
    to_prepare = client.get(
        "/api/v1/online-orders", params={"status": "to_prepare"}, headers=login("caissier")
    ).json()
    assert [o["number"] for o in to_prepare] == [mine["number"]]
    ready = client.post(f"/api/v1/online-orders/{mine['number']}/ready", headers=login("caissier"))
    assert ready.status_code == 200, ready.text
    collected = client.post(
        f"/api/v1/online-orders/{mine['number']}/hand-over",
        json={"till": "T1"},
        headers=login("caissier"),
    )
    assert collected.status_code == 200, collected.text
    ticket = client.get(
        f"/api/v1/tickets/{collected.json()['ticket_number']}", headers=login("caissier")
    ).json()
    assert ticket["tenders"] == [
        {"kind": "online", "amount_cents": mine["items_cents"], "reference": mine["number"]}
    ]
    push_all(pusher)
    process(central_client)
    assert customer_view(central_client, mine["number"])["status"] == "collected"
    with central.reading() as conn:
        assert conn.execute(select(m.item_holds)).all() == []
        assert conn.execute(select(m.conflicts)).all() == []  # the order's own ticket
    assert f"Commande {mine['number']} prête à retirer" in messages_to_customer(central)


def test_a_store_that_sold_the_item_rejects_the_order_and_nothing_is_charged(
    listed: tuple[str, str],
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    puller: FeedPuller,
    pusher: Pusher,
    central_client: TestClient,
    central: CentralNode,
) -> None:
    label, item_id = listed
    _, other_id = listed_item(client, login, article_id)  # the same phone, same grade
    push_all(pusher)
    mine = placed(central_client, [item_id])
    sell(client, login, label)  # the till sells it before the store reads its feed
    sync(puller, pusher, central_client)
    view = customer_view(central_client, mine["number"])
    assert view["status"] == "cancelled"
    assert view["payment_state"] == "voided"
    assert "already sold" in view["end_reason"]
    assert payment(central, mine["number"])[0] == "voided"
    with central.reading() as conn:
        body = conn.execute(
            select(m.notifications.c.body).where(
                m.notifications.c.subject == f"Commande {mine['number']} annulée"
            )
        ).scalar_one()
    assert f"/article/{other_id}" in body  # the same article, same grade, offered instead
    assert "n'a pas été débitée" in body


def test_an_order_the_store_does_not_answer_in_time_is_cancelled_and_the_item_comes_back(
    listed: tuple[str, str],
    client: TestClient,
    login: Headers,
    puller: FeedPuller,
    pusher: Pusher,
    central_client: TestClient,
    central: CentralNode,
    clock: FixedClock,
    node: StoreNode,
) -> None:
    label, item_id = listed
    mine = placed(central_client, [item_id])
    clock.advance(timedelta(seconds=central.settings.reservation_timeout_s + 1))
    process(central_client)
    view = customer_view(central_client, mine["number"])
    assert (view["status"], view["payment_state"]) == ("cancelled", "voided")
    # The store, back online, reads the request and then the cancellation: the item returns
    # to the shelf and online.
    clock.advance(timedelta(seconds=1))
    sync(puller, pusher, central_client)
    with node.reading() as conn:
        status = conn.execute(select(t.items.c.status).where(t.items.c.id == item_id)).scalar()
    assert status == "in_stock"
    assert search(central_client, q="iphone")["total"] == 1
    assert sell_response(client, login, label).status_code == 201


def test_a_till_sale_of_an_item_reserved_online_is_a_recorded_conflict_and_a_refund(
    listed: tuple[str, str],
    client: TestClient,
    login: Headers,
    puller: FeedPuller,
    pusher: Pusher,
    central_client: TestClient,
    central: CentralNode,
    node: StoreNode,
    central_admin: dict[str, str],
) -> None:
    label, item_id = listed
    mine = placed(central_client, [item_id])
    sync(puller, pusher, central_client)
    assert customer_view(central_client, mine["number"])["status"] == "confirmed"
    # A state mistake at the store (say, a database restored from last night's backup): the
    # item is back on the shelf there, and a cashier sells it.
    with node.engine.begin() as conn:
        conn.execute(
            update(t.items)
            .where(t.items.c.id == item_id)
            .values(status="in_stock", reserved_for=None)
        )
    ticket = sell(client, login, label)
    push_all(pusher)
    process(central_client)
    view = customer_view(central_client, mine["number"])
    assert (view["status"], view["payment_state"]) == ("cancelled", "refunded")
    assert view["refunded_cents"] == mine["total_cents"]
    assert payment(central, mine["number"]) == (
        "captured",
        mine["total_cents"],
        mine["total_cents"],
    )
    conflicts = central_client.get("/api/v1/conflicts", headers=central_admin).json()
    assert len(conflicts) == 1
    assert conflicts[0]["order_number"] == mine["number"]
    assert conflicts[0]["store_fact"]["ticket"] == ticket["number"]
    assert conflicts[0]["online_fact"]["status"] == "confirmed"


@pytest.fixture
def delivered(
    listed: tuple[str, str],
    client: TestClient,
    login: Headers,
    puller: FeedPuller,
    pusher: Pusher,
    central_client: TestClient,
    central_admin: dict[str, str],
) -> dict[str, Any]:
    """An order shipped by the store with its tracking number, and delivered by the carrier."""
    _, item_id = listed
    mine = placed(central_client, [item_id], fulfilment="ship", shipping_address=ADDRESS)
    assert mine["delivery_cents"] == 690
    sync(puller, pusher, central_client)
    shipped = client.post(
        f"/api/v1/online-orders/{mine['number']}/hand-over",
        json={"tracking_number": "6A12345678901"},
        headers=login("gerant"),
    )
    assert shipped.status_code == 200, shipped.text
    push_all(pusher)
    assert customer_view(central_client, mine["number"])["tracking_number"] == "6A12345678901"
    done = central_client.post(f"/api/v1/orders/{mine['number']}/delivered", headers=central_admin)
    assert done.status_code == 200, done.text
    return mine


def withdraw(central_client: TestClient, number: str) -> Any:
    return central_client.post(
        f"/api/v1/marketplace/orders/{number}/withdrawal", json={"email": CUSTOMER["email"]}
    )


def test_a_shipped_order_may_be_withdrawn_within_14_days_of_delivery_with_delivery_refunded(
    delivered: dict[str, Any], central_client: TestClient, clock: FixedClock
) -> None:
    clock.advance(timedelta(days=14))
    withdrawn = withdraw(central_client, delivered["number"])
    assert withdrawn.status_code == 200, withdrawn.text
    process(central_client)
    view = customer_view(central_client, delivered["number"])
    assert (view["status"], view["payment_state"]) == ("withdrawn", "refunded")
    assert view["refunded_cents"] == delivered["items_cents"] + 690  # standard delivery included


def test_withdrawal_after_14_days_is_refused(
    delivered: dict[str, Any], central_client: TestClient, clock: FixedClock
) -> None:
    clock.advance(timedelta(days=15))
    refused = withdraw(central_client, delivered["number"])
    assert refused.status_code == 409
    assert refused.json()["code"] == "withdrawal_not_allowed"


def test_a_declined_card_orders_nothing_and_holds_nothing(
    listed: tuple[str, str], central_client: TestClient, central: CentralNode
) -> None:
    _, item_id = listed
    refused = order(central_client, [item_id], card={**CARD, "number": DECLINED_CARD})
    assert refused.status_code == 402
    assert refused.json()["code"] == "payment_declined"
    with central.reading() as conn:
        assert conn.execute(select(m.orders)).all() == []
        assert conn.execute(select(m.item_holds)).all() == []
    assert search(central_client, q="iphone")["total"] == 1


def test_an_order_of_a_silent_store_cannot_be_paid(
    listed: tuple[str, str], central_client: TestClient, central: CentralNode, clock: FixedClock
) -> None:
    _, item_id = listed
    clock.advance(timedelta(seconds=central.settings.store_silence_s + 1))
    refused = order(central_client, [item_id])
    assert refused.status_code == 409
    assert "has not confirmed its availability" in refused.json()["detail"]


def test_a_shipped_order_needs_an_address(
    listed: tuple[str, str], central_client: TestClient
) -> None:
    _, item_id = listed
    refused = order(central_client, [item_id], fulfilment="ship")
    assert refused.status_code == 422


def test_a_store_starting_over_from_the_snapshot_still_answers_its_pending_orders(
    listed: tuple[str, str],
    puller: FeedPuller,
    pusher: Pusher,
    central_client: TestClient,
    node: StoreNode,
) -> None:
    _, item_id = listed
    mine = placed(central_client, [item_id])
    loaded = puller.load_snapshot()  # as after a cursor too old to serve (410)
    assert loaded.status.value == "snapshot"
    with node.reading() as conn:
        row = conn.execute(
            select(t.items.c.status, t.items.c.reserved_for).where(t.items.c.id == item_id)
        ).one()
    assert (row.status, row.reserved_for) == ("reserved", customer_order_id(central_client, mine))
    push_all(pusher)
    process(central_client)
    assert customer_view(central_client, mine["number"])["status"] == "confirmed"


def customer_order_id(central_client: TestClient, mine: dict[str, Any]) -> str:
    central: CentralNode = central_client.app.state.central  # type: ignore[attr-defined]
    with central.reading() as conn:
        return str(
            conn.execute(
                select(m.orders.c.id).where(m.orders.c.number == mine["number"])
            ).scalar_one()
        )


def test_each_message_to_the_customer_links_to_the_order_page(
    listed: tuple[str, str], central_client: TestClient, central: CentralNode
) -> None:
    _, item_id = listed
    mine = placed(central_client, [item_id])
    process(central_client)  # delivers the "order received" message
    notifier = central.notifier
    assert isinstance(notifier, LogNotifier)
    [received] = notifier.sent
    assert received.recipient == CUSTOMER["email"]
    assert received.body.endswith(
        f"http://localhost:8000/commande/{mine['number']}?email=camille%40example.fr"
    )


def test_a_store_starting_over_from_the_snapshot_learns_which_orders_are_paid(
    listed: tuple[str, str],
    client: TestClient,
    login: Headers,
    puller: FeedPuller,
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    _, item_id = listed
    mine = placed(central_client, [item_id])
    puller.pull_once(wait=0)  # the store reserves and answers
    push_all(pusher)
    process(central_client)  # central takes the payment: OrderConfirmed goes down the feed
    assert customer_view(central_client, mine["number"])["status"] == "confirmed"
    puller.load_snapshot()  # the store starts over instead of reading its feed
    order = client.get(f"/api/v1/online-orders/{mine['number']}", headers=login("caissier"))
    assert order.json()["status"] == "to_prepare"
