"""Transfers between stores, two store nodes and central in this process: the owner sends items
(in transit, the till refuses them), central tells the other store, which receives them and
sells them; ownership moves with the items (architecture.md section 3)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from helpers import purchase_body
from pydantic import SecretStr
from sqlalchemy import func, select, update
from store_and_central import (  # noqa: F401  (fixtures)
    CENTRAL_URL,
    STORE,
    Headers,
    central_database_url,
    code,
    enrolled,
    puller,
    pusher,
)
from test_marketplace_listings import add_photo, listed_item, publish, push_all, search, sell
from test_online_orders import placed

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import catalog_tables as c
from recommerce.central.db import sync_tables as s
from recommerce.clock import FixedClock
from recommerce.store.app import create_app
from recommerce.store.bootstrap import StoreNode, bootstrap
from recommerce.store.db import tables as t
from recommerce.store.seed import DEMO_PASSWORD, seed_catalog, seed_demo_staff
from recommerce.store.settings import StoreSettings
from recommerce.store.sync import state
from recommerce.store.sync.apply import apply_feed_event
from recommerce.store.sync.client import CentralClient
from recommerce.store.sync.enrolment import enrol
from recommerce.store.sync.feed import FeedPuller
from recommerce.store.sync.pusher import Pusher
from recommerce.sync.events import ITEMS_TRANSFERRED, Event
from recommerce.sync.feed_events import TRANSFER_INCOMING
from recommerce.sync.validation import event_error

OTHER = 43  # the receiving store


@dataclass
class OtherStore:
    node: StoreNode
    client: TestClient
    login: Headers
    pusher: Pusher
    puller: FeedPuller


@pytest.fixture
def other(
    enrolled: StoreNode,
    central_client: TestClient,
    central_admin: dict[str, str],
    tmp_path: Path,
    clock: FixedClock,
) -> Iterator[OtherStore]:
    """Store 43, registered and enrolled at the same central as store 42."""
    settings = StoreSettings(
        environment="test",
        data_dir=tmp_path / "store-43",
        database_url=f"sqlite:///{tmp_path / 'store-43' / 'store.db'}",
        store_number=OTHER,
        store_name="Magasin de Villeurbanne",
        store_city="Villeurbanne",
        identity_key=SecretStr(Fernet.generate_key().decode()),
        till_requires_open_session=False,
        sync_enabled=False,
    )
    node = bootstrap(settings, clock=clock)
    with node.uow() as uow:
        seed_catalog(uow.conn)
        seed_demo_staff(uow.conn, at=clock.now())
        uow.commit()
    registered = central_client.post(
        "/api/v1/stores",
        json={"number": OTHER, "name": "Magasin de Villeurbanne", "city": "Villeurbanne"},
        headers=central_admin,
    )
    assert registered.status_code == 201, registered.text
    issued = central_client.post(f"/api/v1/stores/{OTHER}/enrolment-codes", headers=central_admin)
    assert issued.status_code == 201, issued.text
    enrol(node, central_client, central_url=CENTRAL_URL, code=issued.json()["code"])
    with node.reading() as conn:
        current = state.load_state(conn, node.vault)
    assert current is not None
    sync = CentralClient(
        central_client,
        store_number=OTHER,
        credential=current.credential,
        protocol=settings.sync_protocol_version,
    )
    with TestClient(create_app(node), raise_server_exceptions=False) as client:
        tokens: dict[str, dict[str, str]] = {}

        def login(username: str) -> dict[str, str]:
            if username not in tokens:
                response = client.post(
                    "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
                )
                assert response.status_code == 200, response.text
                tokens[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
            return tokens[username]

        yield OtherStore(node, client, login, Pusher(node, sync), FeedPuller(node, sync))
    node.engine.dispose()


def bought(
    client: TestClient, login: Headers, article_id: Callable[[str], str], n: int
) -> list[str]:
    """`n` phones bought from the public in one purchase: their labels."""
    lines = [
        {"article_id": article_id("iphone 12"), "grade": "B", "agreed_price_cents": 5000}
        for _ in range(n)
    ]
    response = client.post(
        "/api/v1/purchases", json=purchase_body(lines), headers=login("acheteur")
    )
    assert response.status_code == 201, response.text
    return [str(item["label_code"]) for item in response.json()["items"]]


def send(client: TestClient, login: Headers, labels: list[str], to_store: int = OTHER) -> Any:
    return client.post(
        "/api/v1/transfers",
        json={"to_store": to_store, "labels": labels, "note": "Rééquilibrage du stock"},
        headers=login("gerant"),
    )


def sent(client: TestClient, login: Headers, labels: list[str]) -> dict[str, Any]:
    response = send(client, login, labels)
    assert response.status_code == 201, response.text
    return dict(response.json())


def receive(store: OtherStore, transfer_id: str, labels: list[str]) -> Any:
    return store.client.post(
        f"/api/v1/transfers/{transfer_id}/receive",
        json={"labels": labels},
        headers=store.login("gerant"),
    )


def try_to_sell(client: TestClient, login: Headers, label: str) -> Any:
    return client.post(
        "/api/v1/sales",
        json={
            "till": "T1",
            "lines": [{"label_code": label}],
            "tenders": [{"kind": "cash", "amount_cents": 100000}],
        },
        headers=login("caissier"),
    )


def item_at(client: TestClient, login: Headers, label: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/items/{label}", headers=login("gerant"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def central_item(central: CentralNode, label: str) -> Any:
    with central.reading() as conn:
        return conn.execute(select(s.items).where(s.items.c.label_code == label)).one()


def central_transfer(central: CentralNode, number: str) -> tuple[Any, dict[str, str]]:
    """The transfer as central holds it, and the status of each of its items by label."""
    with central.reading() as conn:
        row = conn.execute(select(s.transfers).where(s.transfers.c.number == number)).one()
        lines = conn.execute(
            select(s.transfer_items.c.label_code, s.transfer_items.c.status).where(
                s.transfer_items.c.transfer_id == row.id
            )
        ).all()
    return row, {line.label_code: line.status for line in lines}


def central_counts(central: CentralNode) -> dict[str, int]:
    with central.reading() as conn:
        return {
            "transfers": conn.execute(select(func.count()).select_from(s.transfers)).scalar_one(),
            "transfer_items": conn.execute(
                select(func.count()).select_from(s.transfer_items)
            ).scalar_one(),
            "incoming_feed_rows": conn.execute(
                select(func.count()).where(c.feed.c.type == TRANSFER_INCOMING)
            ).scalar_one(),
            "quarantined": conn.execute(
                select(func.count()).select_from(s.quarantine)
            ).scalar_one(),
        }


def store_counts(node: StoreNode) -> dict[str, int]:
    with node.reading() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (t.transfers, t.transfer_items, t.items, t.outbox)
        }


# --- sending ------------------------------------------------------------------------------------


def test_an_item_sent_to_another_store_is_sold_there_and_central_follows_its_owner(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central: CentralNode,
    other: OtherStore,
) -> None:
    label, kept = bought(client, login, article_id, 2)
    before = item_at(client, login, label)
    transfer = sent(client, login, [label])
    assert transfer["status"] == "sent"
    assert transfer["number"] == f"TR-{STORE:03d}-000001"
    assert (transfer["from_store"], transfer["to_store"]) == (STORE, OTHER)
    assert transfer["items"] == [
        {"item_id": before["id"], "label_code": label, "status": "in_transit"}
    ]
    assert item_at(client, login, label)["status"] == "in_transit"

    refused = try_to_sell(client, login, label)
    assert refused.status_code == 409
    assert refused.json()["code"] == "item_not_sellable"
    assert f"in transit to store {OTHER:03d}" in refused.json()["detail"]
    assert transfer["number"] in refused.json()["detail"]
    assert try_to_sell(client, login, kept).status_code == 201  # the rest of the stock sells

    push_all(pusher)
    in_transit = central_item(central, label)
    assert (in_transit.store_number, in_transit.status) == (STORE, "in_transit")
    assert central_transfer(central, transfer["number"])[0].status == "sent"

    other.puller.pull_once(wait=0)
    incoming = other.client.get(
        "/api/v1/transfers", params={"direction": "incoming"}, headers=other.login("gerant")
    ).json()
    assert [(x["number"], x["status"], x["from_store"]) for x in incoming] == [
        (transfer["number"], "expected", STORE)
    ]
    assert try_to_sell(other.client, other.login, label).status_code == 404  # not here yet

    received = receive(other, transfer["id"], [label])
    assert received.status_code == 200, received.text
    assert received.json()["status"] == "received"
    assert received.json()["missing"] == []
    held = item_at(other.client, other.login, label)
    assert held["status"] == "in_stock"
    # The same item under the same label; its register reference stays the acquiring store's.
    for key in ("id", "label_code", "store_number", "purchase_id", "register_book"):
        assert held[key] == before[key]
    assert held["register_number"] == before["register_number"]
    assert held["asking_price_cents"] == before["asking_price_cents"]

    ticket = sell(other.client, other.login, label)
    push_all(other.pusher)
    owned = central_item(central, label)
    assert (owned.store_number, owned.status) == (OTHER, "sold")
    assert owned.sold_ticket_id == ticket["id"]
    row, lines = central_transfer(central, transfer["number"])
    assert row.status == "received"
    assert lines == {label: "received"}
    assert central_counts(central)["quarantined"] == 0


def test_a_listed_item_goes_offline_when_sent_and_online_again_once_its_new_store_publishes_it(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
    other: OtherStore,
) -> None:
    label, item_id = listed_item(client, login, article_id)
    push_all(pusher)
    assert search(central_client, q="iphone")["total"] == 1

    transfer = sent(client, login, [label])
    assert item_at(client, login, label)["status"] == "in_transit"
    online = client.get(f"/api/v1/items/{label}/online", headers=login("gerant")).json()
    assert online["published"] is False
    push_all(pusher)
    assert search(central_client, q="iphone")["total"] == 0
    assert central_client.get(f"/api/v1/marketplace/listings/{item_id}").status_code == 404

    other.puller.pull_once(wait=0)
    assert receive(other, transfer["id"], [label]).status_code == 200
    push_all(other.pusher)
    assert search(central_client, q="iphone")["total"] == 0  # not published by its new store

    assert add_photo(other.client, other.login, label).status_code == 201
    assert publish(other.client, other.login, label).status_code == 200
    push_all(other.pusher)
    hits = search(central_client, q="iphone")
    assert hits["total"] == 1
    listing = central_client.get(f"/api/v1/marketplace/listings/{item_id}")
    assert listing.status_code == 200, listing.text
    assert listing.json()["store"]["number"] == OTHER


def test_an_item_reserved_for_an_online_order_cannot_be_transferred(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    puller: FeedPuller,
    central_client: TestClient,
    enrolled: StoreNode,
) -> None:
    label, item_id = listed_item(client, login, article_id)
    push_all(pusher)
    placed(central_client, [item_id])
    puller.pull_once(wait=0)
    assert item_at(client, login, label)["status"] == "reserved"
    before = store_counts(enrolled)

    refused = send(client, login, [label])
    assert refused.status_code == 409
    assert "reserved for online order" in refused.json()["detail"]
    assert refused.json()["field"] == "labels[0]"
    assert item_at(client, login, label)["status"] == "reserved"
    assert store_counts(enrolled) == before


def test_sold_unknown_or_already_sent_items_are_refused_and_nothing_is_sent(
    client: TestClient, login: Headers, article_id: Callable[[str], str], node: StoreNode
) -> None:
    first, second = bought(client, login, article_id, 2)
    sell(client, login, first)
    before = store_counts(node)

    sold = send(client, login, [second, first])
    assert sold.status_code == 409
    assert "was sold on ticket" in sold.json()["detail"]
    assert sold.json()["field"] == "labels[1]"
    unknown = send(client, login, [second, "2043000000017"])
    assert unknown.status_code == 404
    assert "no item with label 2043000000017 in this store" in unknown.json()["detail"]
    to_itself = send(client, login, [second], to_store=STORE)
    assert to_itself.status_code == 422
    assert store_counts(node) == before
    assert item_at(client, login, second)["status"] == "in_stock"

    sent(client, login, [second])
    again = send(client, login, [second], to_store=44)
    assert again.status_code == 409
    assert f"in transit to store {OTHER:03d}" in again.json()["detail"]

    cashier = client.post(
        "/api/v1/transfers",
        json={"to_store": OTHER, "labels": [second]},
        headers=login("caissier"),
    )
    assert cashier.status_code == 403


# --- receiving ----------------------------------------------------------------------------------


def test_an_item_missing_on_reception_stays_in_transit_and_is_listed_until_it_turns_up(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central: CentralNode,
    other: OtherStore,
) -> None:
    arrived, lost = bought(client, login, article_id, 2)
    transfer = sent(client, login, [arrived, lost])
    push_all(pusher)
    other.puller.pull_once(wait=0)

    counted = receive(other, transfer["number"], [arrived])
    assert counted.status_code == 200, counted.text
    assert counted.json()["status"] == "partially_received"
    assert counted.json()["missing"] == [lost]
    listed = other.client.get(
        "/api/v1/transfers", params={"status": "partially_received"}, headers=other.login("gerant")
    ).json()
    assert [x["missing"] for x in listed] == [[lost]]
    assert try_to_sell(other.client, other.login, lost).status_code == 404
    push_all(other.pusher)
    missing = central_item(central, lost)
    assert (missing.store_number, missing.status) == (STORE, "in_transit")
    assert (central_item(central, arrived).store_number, central_item(central, arrived).status) == (
        OTHER,
        "in_stock",
    )
    row, lines = central_transfer(central, transfer["number"])
    assert row.status == "partially_received"
    assert lines == {arrived: "received", lost: "missing"}

    assert receive(other, transfer["id"], [arrived]).status_code == 409  # counted once
    late = receive(other, transfer["id"], [lost])
    assert late.status_code == 200, late.text
    assert late.json()["status"] == "received"
    assert late.json()["missing"] == []
    push_all(other.pusher)
    found = central_item(central, lost)
    assert (found.store_number, found.status) == (OTHER, "in_stock")
    assert central_transfer(central, transfer["number"])[0].status == "received"
    assert receive(other, transfer["id"], [lost]).status_code == 409


def test_a_label_not_in_the_transfer_is_refused_on_reception(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    other: OtherStore,
) -> None:
    first, not_sent = bought(client, login, article_id, 2)
    transfer = sent(client, login, [first])
    push_all(pusher)
    other.puller.pull_once(wait=0)
    before = store_counts(other.node)

    refused = receive(other, transfer["id"], [first, not_sent])
    assert refused.status_code == 404
    assert f"not in transfer {transfer['number']}" in refused.json()["detail"]
    assert store_counts(other.node) == before
    outgoing = other.client.post(
        f"/api/v1/transfers/{transfer['id']}/receive",
        json={"labels": [first]},
        headers=other.login("caissier"),
    )
    assert outgoing.status_code == 403
    assert receive(other, "TR-042-999999", [first]).status_code == 404


def test_an_item_sent_back_to_the_store_it_came_from_is_in_stock_there_again(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    puller: FeedPuller,
    central: CentralNode,
    other: OtherStore,
) -> None:
    (label,) = bought(client, login, article_id, 1)
    there = sent(client, login, [label])
    push_all(pusher)
    other.puller.pull_once(wait=0)
    assert receive(other, there["id"], [label]).status_code == 200

    back = other.client.post(
        "/api/v1/transfers",
        json={"to_store": STORE, "labels": [label]},
        headers=other.login("gerant"),
    )
    assert back.status_code == 201, back.text
    assert back.json()["number"] == f"TR-{OTHER:03d}-000001"
    push_all(other.pusher)
    puller.pull_once(wait=0)
    home = client.post(
        f"/api/v1/transfers/{back.json()['id']}/receive",
        json={"labels": [label]},
        headers=login("gerant"),
    )
    assert home.status_code == 200, home.text
    assert item_at(client, login, label)["status"] == "in_stock"
    assert try_to_sell(client, login, label).status_code == 201
    push_all(pusher)
    owned = central_item(central, label)
    assert (owned.store_number, owned.status) == (STORE, "sold")


# --- exactly once -------------------------------------------------------------------------------


def test_replayed_feed_and_upstream_events_change_nothing(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central: CentralNode,
    enrolled: StoreNode,
    other: OtherStore,
) -> None:
    (label,) = bought(client, login, article_id, 1)
    transfer = sent(client, login, [label])
    push_all(pusher)
    other.puller.pull_once(wait=0)
    assert receive(other, transfer["id"], [label]).status_code == 200
    push_all(other.pusher)
    at_central = central_counts(central)
    at_other = store_counts(other.node)
    assert at_central["incoming_feed_rows"] == 1

    # The receiving store reads the announcement again (a feed read twice).
    with central.reading() as conn:
        row = conn.execute(select(c.feed).where(c.feed.c.type == TRANSFER_INCOMING)).one()
    with other.node.uow() as uow:
        event = {
            "seq": row.seq,
            "type": row.type,
            "schema_version": row.schema_version,
            "payload": row.payload,
        }
        assert apply_feed_event(uow.conn, event, at=other.node.clock.now())
        uow.commit()
    assert store_counts(other.node) == at_other
    assert item_at(other.client, other.login, label)["status"] == "in_stock"

    # Both stores lose central's acknowledgements and send everything again.
    for node, store_pusher in ((enrolled, pusher), (other.node, other.pusher)):
        with state.transaction(node) as conn:
            conn.execute(update(t.sync_state).values(acked_seq=0))
        push_all(store_pusher)
    assert central_counts(central) == at_central

    # The sender writes the same transfer again under a new event: refused, quarantined.
    with enrolled.uow() as uow:
        first = uow.conn.execute(select(t.outbox).where(t.outbox.c.type == ITEMS_TRANSFERRED)).one()
        uow.outbox.add(
            Event(type=ITEMS_TRANSFERRED, occurred_at=first.occurred_at, payload=first.payload)
        )
        uow.commit()
    push_all(pusher)
    after = central_counts(central)
    assert after == {**at_central, "quarantined": at_central["quarantined"] + 1}
    with central.reading() as conn:
        reason = conn.execute(select(s.quarantine.c.reason)).scalar_one()
    assert f"transfer {transfer['number']} is known already" in reason
    owned = central_item(central, label)
    assert (owned.store_number, owned.status) == (OTHER, "in_stock")


def _transferred_payload(node: StoreNode) -> dict[str, Any]:
    with node.reading() as conn:
        payload = conn.execute(
            select(t.outbox.c.payload).where(t.outbox.c.type == ITEMS_TRANSFERRED)
        ).scalar_one()
    return dict(payload)


def test_malformed_transfer_events_are_refused_with_the_reason(
    client: TestClient, login: Headers, article_id: Callable[[str], str], node: StoreNode
) -> None:
    (label,) = bought(client, login, article_id, 1)
    sent(client, login, [label])
    payload = _transferred_payload(node)

    def error(kind: str, body: dict[str, Any], store: int = STORE) -> str | None:
        envelope = {
            "seq": 7,
            "event_id": "0193a000-0000-7000-8000-0000000000aa",
            "type": kind,
            "schema_version": 1,
            "occurred_at": "2026-11-20T10:30:00+00:00",
            "payload": body,
        }
        return event_error(envelope, store)

    assert error(ITEMS_TRANSFERRED, payload) is None
    assert error(ITEMS_TRANSFERRED, payload, store=OTHER) == (
        f"payload.from_store is {STORE}, but store {OTHER} sent it"
    )
    assert error(ITEMS_TRANSFERRED, {**payload, "items": []}) == (
        "payload.items has 0 entries, expected at least 1"
    )
    broken = [{**payload["items"][0], "purchased_at": "yesterday"}]
    assert error(ITEMS_TRANSFERRED, {**payload, "items": broken}) == (
        "payload.items[0].purchased_at is not an ISO 8601 instant with its offset"
    )
    twice = payload["items"] * 2
    assert error(ITEMS_TRANSFERRED, {**payload, "items": twice}) == "payload names an item twice"

    ref = {"item_id": payload["items"][0]["item_id"], "label_code": label}
    reception = {
        "transfer_id": payload["transfer_id"],
        "number": payload["number"],
        "from_store": STORE,
        "to_store": OTHER,
        "staff_id": "someone",
        "received": [ref],
        "missing": [],
    }
    assert error("TransferReceived", reception, store=OTHER) is None
    assert error("TransferReceived", reception, store=STORE) == (
        f"payload.to_store is {OTHER}, but store {STORE} sent it"
    )
    assert error("TransferReceived", {**reception, "missing": [ref]}, store=OTHER) == (
        "payload names an item twice"
    )
    assert error("TransferReceived", {**reception, "received": []}, store=OTHER) == (
        "payload names no item: a reception says which items came and which did not"
    )


def test_a_transfer_to_a_store_central_does_not_know_is_quarantined(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central: CentralNode,
) -> None:
    (label,) = bought(client, login, article_id, 1)
    assert send(client, login, [label], to_store=77).status_code == 201
    push_all(pusher)
    with central.reading() as conn:
        reason = conn.execute(select(s.quarantine.c.reason)).scalar_one()
    assert "goes to store 077, unknown to central" in reason
    assert central_item(central, label).status == "in_stock"  # as the store last told central
