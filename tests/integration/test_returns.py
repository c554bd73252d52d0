"""Returns at the till: a counter-ticket that references the sale (rule D.16), refunded to
the original tenders or as a credit note, the item back on the shelf or off to repair."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import purchase_body
from sqlalchemy import select

from recommerce.store.db import tables as t
from recommerce.store.seed import DEMO_PASSWORD
from recommerce.store.services.fiscal import verify_store_journal


@pytest.fixture
def sold(client, login, article_id):
    """Three items bought and sold on one ticket, paid 50 cash + 100 card."""
    lines = [
        {
            "article_id": article_id("iphone 12"),
            "grade": "B",
            "agreed_price_cents": 2000,
            "asking_price_cents": 5000,
        }
        for _ in range(3)
    ]
    items = client.post(
        "/api/v1/purchases", json=purchase_body(lines), headers=login("acheteur")
    ).json()["items"]
    labels = [i["label_code"] for i in items]
    ticket = client.post(
        "/api/v1/sales",
        json={
            "till": "T1",
            "lines": [{"label_code": x} for x in labels],
            "tenders": [
                {"kind": "cash", "amount_cents": 5000},
                {"kind": "card", "amount_cents": 10000},
            ],
        },
        headers=login("caissier"),
    ).json()
    return ticket["number"], labels


def take_back(client, login, sale, labels, refund="original_tenders", to_repair=False):
    return client.post(
        "/api/v1/returns",
        json={
            "till": "T1",
            "sale_number": sale,
            "lines": [{"label_code": x, "to_repair": to_repair} for x in labels],
            "refund": refund,
        },
        headers=login("caissier"),
    )


def test_return_is_a_counter_ticket_referencing_the_sale(client, login, sold, node):
    sale, labels = sold
    response = take_back(client, login, sale, labels[:1])
    assert response.status_code == 201, response.text
    counter = response.json()
    assert counter["kind"] == "return"
    assert counter["refers_to"] == sale
    assert counter["total_cents"] == -5000
    assert counter["number"] == "042-T1-000002"
    # The sale itself is untouched, and the chain still verifies.
    assert (
        client.get(f"/api/v1/tickets/{sale}", headers=login("caissier")).json()["total_cents"]
        == 15000
    )
    assert verify_store_journal(node).ok


def test_refund_goes_back_to_the_card_first_then_cash(client, login, sold):
    sale, labels = sold
    first = take_back(client, login, sale, labels[:2]).json()
    assert [(x["kind"], x["amount_cents"]) for x in first["tenders"]] == [("card", -10000)]
    second = take_back(client, login, sale, labels[2:]).json()
    assert [(x["kind"], x["amount_cents"]) for x in second["tenders"]] == [("cash", -5000)]


def test_refund_as_a_credit_note_that_pays_a_later_sale(client, login, sold, article_id):
    sale, labels = sold
    counter = take_back(client, login, sale, labels[:1], refund="store_credit").json()
    (tender,) = counter["tenders"]
    assert tender["kind"] == "store_credit"
    code = tender["reference"]
    balance = client.get(f"/api/v1/store-credits/{code}", headers=login("caissier")).json()
    assert balance == {"code": code, "balance_cents": 5000}
    # The returned item is back on the shelf: sell it again with the credit note.
    again = client.post(
        "/api/v1/sales",
        json={
            "till": "T1",
            "lines": [{"label_code": labels[0]}],
            "tenders": [{"kind": "store_credit", "amount_cents": 5000, "reference": code}],
        },
        headers=login("caissier"),
    )
    assert again.status_code == 201, again.text
    spent = client.get(f"/api/v1/store-credits/{code}", headers=login("caissier")).json()
    assert spent["balance_cents"] == 0


def test_faulty_item_goes_to_repair_not_back_on_sale(client, login, sold, node):
    sale, labels = sold
    assert take_back(client, login, sale, labels[:1], to_repair=True).status_code == 201
    with node.engine.connect() as conn:
        status = conn.execute(
            select(t.items.c.status).where(t.items.c.label_code == labels[0])
        ).scalar_one()
    assert status == "to_repair"


def test_the_returns_event_tells_central_where_each_item_went(client, login, sold, node):
    sale, labels = sold
    take_back(client, login, sale, labels[:1], to_repair=True)
    take_back(client, login, sale, labels[1:2])
    with node.engine.connect() as conn:
        payloads = (
            conn.execute(
                select(t.outbox.c.payload)
                .where(t.outbox.c.type == "TicketValidated")
                .order_by(t.outbox.c.seq)
            )
            .scalars()
            .all()
        )
    sold_event, to_repair, to_shelf = payloads
    assert {i["status"] for i in sold_event["items"]} == {"sold"}
    assert [(i["label_code"], i["status"]) for i in to_repair["items"]] == [
        (labels[0], "to_repair")
    ]
    assert [(i["label_code"], i["status"]) for i in to_shelf["items"]] == [(labels[1], "in_stock")]


def test_an_item_cannot_be_returned_twice(client, login, sold):
    sale, labels = sold
    assert take_back(client, login, sale, labels[:1]).status_code == 201
    again = take_back(client, login, sale, labels[:1])
    assert again.status_code == 422
    assert again.json()["code"] == "return_not_allowed"


def test_an_item_not_on_the_ticket_cannot_be_returned_against_it(client, login, sold):
    sale, _ = sold
    response = take_back(client, login, sale, ["2042999999997"])
    assert response.status_code == 422
    assert response.json()["field"] == "lines[0].label_code"


def test_no_return_after_the_return_window(client, login, sold, clock):
    sale, labels = sold
    clock.advance(timedelta(days=31))
    token = client.post(
        "/api/v1/auth/token", json={"username": "caissier", "password": DEMO_PASSWORD}
    ).json()["access_token"]
    response = client.post(
        "/api/v1/returns",
        json={"till": "T1", "sale_number": sale, "lines": [{"label_code": labels[0]}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert "30 days" in response.json()["detail"]


def test_return_cancels_exactly_the_margin_vat_of_the_sale(client, login, sold, node):
    sale, labels = sold
    take_back(client, login, sale, labels)
    with node.engine.connect() as conn:
        records = (
            conn.execute(select(t.fiscal_journal.c.fields).order_by(t.fiscal_journal.c.seq))
            .scalars()
            .all()
        )
    assert records[0]["vat"][0]["vat_cents"] == 1500  # 3 x (50 - 20) x 20 / 120
    assert records[1]["vat"][0]["vat_cents"] == -1500
    assert records[0]["total_cents"] + records[1]["total_cents"] == 0
