"""The online orders and transfers screens, a store node and central in this process: an order
prepared and collected, a parcel shipped, and items sent to another store and received there."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from store_and_central import (  # noqa: F401  (fixtures)
    STORE,
    Headers,
    central_database_url,
    code,
    enrolled,
    puller,
    pusher,
)
from test_marketplace_listings import push_all
from test_online_orders import ADDRESS, customer_view, listed, placed, process, sync  # noqa: F401
from test_screens_stock import alerts, bought, log_in, said, unlabelled_fields
from test_transfers import OTHER, OtherStore, other  # noqa: F401

from recommerce.central.bootstrap import CentralNode
from recommerce.store.bootstrap import StoreNode
from recommerce.store.services import online_orders
from recommerce.store.services import transfers as transfer_service
from recommerce.store.sync.feed import FeedPuller
from recommerce.store.sync.pusher import Pusher


def test_a_stranger_is_sent_to_the_login_page(client: TestClient) -> None:
    for path in ("/orders", "/orders/W261120-ABCDE", "/transfers", "/transfers/TR-042-000001"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"


def test_an_online_order_prepared_and_collected_through_the_screens(
    listed: tuple[str, str],
    client: TestClient,
    puller: FeedPuller,
    pusher: Pusher,
    central_client: TestClient,
    central: CentralNode,
    enrolled: StoreNode,
) -> None:
    label, item_id = listed
    mine = placed(central_client, [item_id])
    number = mine["number"]
    sync(puller, pusher, central_client)
    log_in(client, "caissier")

    to_do = client.get("/orders")
    assert f'id="order-{number}"' in to_do.text
    assert "À préparer" in to_do.text
    assert unlabelled_fields(to_do.text) == []
    found = client.get("/orders", params={"number": number.lower()}, follow_redirects=False)
    assert found.status_code == 303  # the number the customer shows opens the order
    assert found.headers["location"] == f"/orders/{number}"

    order = client.get(f"/orders/{number}")
    assert 'id="mark-ready"' in order.text and label in order.text
    assert unlabelled_fields(order.text) == []
    prepared = client.post(f"/orders/{number}/ready")
    assert prepared.status_code == 200
    assert "La commande est préparée" in prepared.text
    assert re.search(r'id="order-status"[^>]*>Prête à retirer<', said(prepared))
    again = client.post(f"/orders/{number}/ready")
    assert again.status_code == 422
    assert alerts(again.text) == 1
    assert "Cette commande ne peut pas passer à ce statut." in said(again)

    no_till = client.post(f"/orders/{number}/hand-over", data={"till": ""})
    assert no_till.status_code == 422
    assert "say at which till the order is handed over" in said(no_till)
    collected = client.post(f"/orders/{number}/hand-over", data={"till": "T1"})
    assert collected.status_code == 200
    assert "La commande est remise au client." in said(collected)
    sold = online_orders.get_order(enrolled, number)
    assert sold["status"] == "collected"
    assert sold["ticket_number"] in collected.text
    assert client.get(f"/api/v1/items/{label}").json()["status"] == "sold"

    push_all(pusher)
    process(central_client)
    assert customer_view(central_client, number)["status"] == "collected"


def test_a_parcel_is_shipped_with_its_tracking_number(
    listed: tuple[str, str],
    client: TestClient,
    puller: FeedPuller,
    pusher: Pusher,
    central_client: TestClient,
    enrolled: StoreNode,
) -> None:
    _, item_id = listed
    number = placed(central_client, [item_id], fulfilment="ship", shipping_address=ADDRESS)[
        "number"
    ]
    sync(puller, pusher, central_client)
    log_in(client, "gerant")
    order = client.get(f"/orders/{number}", params={"lang": "en"})
    assert 'id="tracking-number"' in order.text and 'id="mark-ready"' not in order.text
    refused = client.post(f"/orders/{number}/hand-over", data={"tracking_number": ""})
    assert refused.status_code == 422
    assert "A parcel is shipped with its tracking number" in said(refused)
    shipped = client.post(f"/orders/{number}/hand-over", data={"tracking_number": "6A12345678901"})
    assert shipped.status_code == 200
    assert "The order is shipped." in shipped.text
    assert online_orders.get_order(enrolled, number)["tracking_number"] == "6A12345678901"


def test_items_sent_to_another_store_and_received_there_through_the_screens(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    enrolled: StoreNode,
    other: OtherStore,
) -> None:
    label, kept = bought(client, login, article_id, 2)
    log_in(client, "gerant")
    form = client.get("/transfers")
    assert 'id="transfer-labels"' in form.text
    assert unlabelled_fields(form.text) == []

    refused = client.post("/transfers", data={"to_store": str(STORE), "labels": label, "note": ""})
    assert refused.status_code == 422
    assert alerts(refused.text) == 1
    assert "the items are already in this store" in said(refused)
    assert label in refused.text  # the labels scanned stay in the form

    sent = client.post(
        "/transfers",
        data={"to_store": str(OTHER), "labels": f"{label}\r\n", "note": "Rééquilibrage"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    (transfer,) = transfer_service.list_transfers(enrolled)
    assert sent.headers["location"] == f"/transfers/{transfer.number}?done=sent"
    assert [(i.label_code, i.status) for i in transfer.items] == [(label, "in_transit")]
    page = client.get(sent.headers["location"])
    assert (
        transfer.number in page.text
        and "Le transfert est parti : ses objets sont en transit." in said(page)
    )
    stock = client.get(f"/stock/items/{label}")
    assert "En transit" in stock.text and transfer.number in stock.text

    push_all(pusher)
    other.puller.pull_once(wait=0)
    log_in(other.client, "gerant")
    incoming = other.client.get("/transfers")
    assert f'id="transfer-{transfer.number}"' in incoming.text
    expected = other.client.get(f"/transfers/{transfer.number}")
    assert 'id="receive-labels"' in expected.text
    assert unlabelled_fields(expected.text) == []
    stranger = other.client.post(f"/transfers/{transfer.number}/receive", data={"labels": kept})
    assert stranger.status_code == 422
    assert f"item {kept} is not in transfer {transfer.number}" in said(stranger)
    received = other.client.post(f"/transfers/{transfer.number}/receive", data={"labels": label})
    assert received.status_code == 200
    assert "Les objets scannés sont en stock ici." in said(received)
    (arrived,) = transfer_service.list_transfers(other.node)
    assert arrived.status == "received"
    assert other.client.get(f"/api/v1/items/{label}").json()["status"] == "in_stock"
