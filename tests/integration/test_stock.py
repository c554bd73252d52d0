"""Stock in the store: items listed and found by label, and moved by hand only as the item
lifecycle allows."""

from __future__ import annotations

import pytest
from helpers import purchase_body
from sqlalchemy import select

from recommerce.store.db import tables as t


@pytest.fixture
def label(client, login, article_id) -> str:
    purchase = client.post(
        "/api/v1/purchases",
        json=purchase_body(
            [{"article_id": article_id("dyson"), "grade": "B", "agreed_price_cents": 6000}]
        ),
        headers=login("acheteur"),
    ).json()
    return purchase["items"][0]["label_code"]


def move(client, login, label, status, who="gerant", reason="contrôle qualité"):
    return client.post(
        f"/api/v1/items/{label}/status",
        json={"status": status, "reason": reason},
        headers=login(who),
    )


def test_item_is_found_by_its_scanned_label(client, login, label):
    response = client.get(f"/api/v1/items/{label}", headers=login("caissier"))
    assert response.status_code == 200
    assert response.json()["label_code"] == label
    listed = client.get("/api/v1/items", params={"status": "in_stock"}, headers=login("caissier"))
    assert [i["label_code"] for i in listed.json()] == [label]


def test_faulty_item_goes_to_repair_and_back_on_the_shelf(client, login, label, node):
    assert move(client, login, label, "to_repair").json()["status"] == "to_repair"
    assert move(client, login, label, "in_stock").json()["status"] == "in_stock"
    with node.engine.connect() as conn:
        events = conn.execute(
            select(t.outbox.c.type, t.outbox.c.payload).order_by(t.outbox.c.seq)
        ).all()
    assert [e.type for e in events] == [
        "PurchaseRecorded",
        "ItemStatusChanged",
        "ItemStatusChanged",
    ]
    assert events[1].payload["from"] == "in_stock"
    assert events[1].payload["to"] == "to_repair"


def test_scrapped_item_can_never_come_back(client, login, label, node):
    assert move(client, login, label, "scrapped").status_code == 200
    response = move(client, login, label, "in_stock")
    assert response.status_code == 409
    assert response.json()["code"] == "item_status_transition_forbidden"
    with node.engine.connect() as conn:
        assert conn.execute(select(t.items.c.status)).scalar_one() == "scrapped"


def test_an_item_cannot_be_marked_sold_by_hand(client, login, label):
    response = move(client, login, label, "sold")
    assert response.status_code == 409
    assert response.json()["field"] == "status"


def test_buyer_may_not_move_stock_by_hand(client, login, label):
    assert move(client, login, label, "to_repair", who="acheteur").status_code == 403


def test_unknown_label_is_a_clear_404(client, login):
    response = client.get("/api/v1/items/2042999999997", headers=login("caissier"))
    assert response.status_code == 404
    assert response.json()["code"] == "item_not_found"
