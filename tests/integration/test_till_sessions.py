"""Till sessions: open with a float, cash in and out with a reason, close with the counted
amounts per tender; expected, counted and the difference are recorded."""

from __future__ import annotations

import pytest
from helpers import purchase_body
from sqlalchemy import select

from recommerce.store.db import tables as t

pytestmark = pytest.mark.till_sessions


def till_call(client, login, action, body, till="T1", who="caissier"):
    return client.post(f"/api/v1/tills/{till}/{action}", json=body, headers=login(who))


@pytest.fixture
def labels(client, login, article_id):
    lines = [
        {
            "article_id": article_id("iphone 12"),
            "grade": "B",
            "agreed_price_cents": 1000,
            "asking_price_cents": 4000,
        }
        for _ in range(3)
    ]
    items = client.post(
        "/api/v1/purchases", json=purchase_body(lines), headers=login("acheteur")
    ).json()["items"]
    return [i["label_code"] for i in items]


def sell(client, login, label, tenders, till="T1"):
    return client.post(
        "/api/v1/sales",
        json={"till": till, "lines": [{"label_code": label}], "tenders": tenders},
        headers=login("caissier"),
    )


def test_a_till_that_is_not_open_takes_no_sale(client, login, labels):
    response = sell(client, login, labels[0], [{"kind": "cash", "amount_cents": 4000}])
    assert response.status_code == 409
    assert response.json()["code"] == "till_session"
    assert "open" in response.json()["detail"]


def test_closing_compares_counted_with_expected_per_tender(client, login, labels, node):
    opened = till_call(client, login, "open", {"float_cents": 15000})
    assert opened.status_code == 201, opened.text
    sell(client, login, labels[0], [{"kind": "cash", "amount_cents": 5000}])  # change 10.00
    sell(client, login, labels[1], [{"kind": "card", "amount_cents": 4000}])
    moved = till_call(
        client, login, "cash-movements", {"amount_cents": -10000, "reason": "dépôt banque"}
    )
    assert moved.json()["expected"]["cash"] == 15000 + 4000 - 10000
    closed = till_call(client, login, "close", {"counted": {"cash": 8800, "card": 4000}})
    assert closed.status_code == 200, closed.text
    session = closed.json()
    assert session["expected"] == {"cash": 9000, "card": 4000, "store_credit": 0}
    assert session["difference"] == {"cash": -200, "card": 0, "store_credit": 0}
    assert [m["reason"] for m in session["movements"]] == ["dépôt banque"]
    with node.engine.connect() as conn:
        events = conn.execute(select(t.outbox.c.type)).scalars().all()
    assert "TillSessionClosed" in events
    # Closed: no more sales until it is opened again.
    assert (
        sell(client, login, labels[2], [{"kind": "cash", "amount_cents": 4000}]).status_code == 409
    )


def test_a_till_cannot_be_opened_twice(client, login):
    assert till_call(client, login, "open", {"float_cents": 0}).status_code == 201
    again = till_call(client, login, "open", {"float_cents": 0})
    assert again.status_code == 409
    assert again.json()["code"] == "till_session"


def test_closing_a_till_that_is_not_open_is_refused(client, login):
    response = till_call(client, login, "close", {"counted": {"cash": 0}})
    assert response.status_code == 409


def test_an_unknown_tender_in_the_count_is_refused(client, login):
    till_call(client, login, "open", {"float_cents": 0})
    response = till_call(client, login, "close", {"counted": {"bitcoin": 5}})
    assert response.status_code == 422
    assert response.json()["field"] == "counted"
