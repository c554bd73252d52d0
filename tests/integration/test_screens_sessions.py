"""The till session screen (opening with a float, cash in and out with a reason, closing with
the counted amounts: expected, counted, difference) and the daily closing screen (the day's
figures, its signed closing with the perpetual grand total, refusals said clearly; rule D.19)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers import purchase_body
from sqlalchemy import select
from test_screens_till import Headers, log_in, parsed, said, unlabelled_fields

from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t

pytestmark = pytest.mark.till_sessions


@pytest.fixture
def labels(client: TestClient, login: Headers, article_id) -> list[str]:
    """Three phones in stock at 40 euros."""
    lines = [
        {
            "article_id": article_id("iphone 12"),
            "grade": "B",
            "agreed_price_cents": 1000,
            "asking_price_cents": 4000,
        }
        for _ in range(3)
    ]
    response = client.post(
        "/api/v1/purchases", json=purchase_body(lines), headers=login("acheteur")
    )
    assert response.status_code == 201, response.text
    return [i["label_code"] for i in response.json()["items"]]


def sell(client: TestClient, login: Headers, label: str, tenders: list[dict]) -> None:
    response = client.post(
        "/api/v1/sales",
        json={"till": "T1", "lines": [{"label_code": label}], "tenders": tenders},
        headers=login("caissier"),
    )
    assert response.status_code == 201, response.text


def open_till(client: TestClient, float_amount: str = "150") -> Any:
    return client.post("/sessions/open", data={"till": "T1", "float_amount": float_amount})


def sessions(node: StoreNode) -> list[dict[str, Any]]:
    with node.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t.till_sessions))]


def test_a_cashier_opens_a_till_with_its_float(client, node):
    log_in(client)
    page = client.get("/sessions")
    assert page.status_code == 200
    assert {"float", "open-till"} <= parsed(page.text).ids
    opened = open_till(client, "150,00")
    assert opened.status_code == 200, opened.text
    assert opened.url.path == "/sessions"
    assert 'id="session-notice"' in opened.text
    assert {"current-session", "movement-amount", "counted-cash", "close-till"} <= parsed(
        opened.text
    ).ids
    (session,) = sessions(node)
    assert session["float_cents"] == 15000
    assert session["till"] == "T1"


def test_a_till_cannot_be_opened_twice(client):
    log_in(client)
    assert open_till(client).status_code == 200
    again = open_till(client)
    assert again.status_code == 422
    assert "session-error" in parsed(again.text).alerts
    assert "T1 is already open" in said(again)


def test_a_cash_movement_needs_its_reason(client, node):
    log_in(client)
    open_till(client)
    refused = client.post(
        "/sessions/cash", data={"till": "T1", "direction": "out", "amount": "100", "reason": " "}
    )
    assert refused.status_code == 422
    assert "say why cash moves" in said(refused)
    with node.engine.connect() as conn:
        assert conn.execute(select(t.cash_movements)).first() is None


def test_closing_shows_expected_counted_and_the_difference(client, login, labels, node):
    log_in(client)
    open_till(client, "150")
    sell(client, login, labels[0], [{"kind": "cash", "amount_cents": 5000}])  # change 10.00
    sell(client, login, labels[1], [{"kind": "card", "amount_cents": 4000}])
    moved = client.post(
        "/sessions/cash",
        data={"till": "T1", "direction": "out", "amount": "100", "reason": "dépôt banque"},
    )
    assert moved.status_code == 200, moved.text
    assert "dépôt banque" in said(moved)
    assert "-100,00\xa0€" in moved.text
    closed = client.post(
        "/sessions/close", data={"till": "T1", "counted_cash": "88", "counted_card": "40"}
    )
    assert closed.status_code == 200, closed.text
    text = said(closed)
    cash = re.search(r'<tr id="result-cash">(.*?)</tr>', text, re.S)
    assert cash is not None
    assert re.findall(r"-?[\d\u202f]+,\d\d\xa0€", cash.group(1)) == [
        "90,00\xa0€",
        "88,00\xa0€",
        "-2,00\xa0€",
    ]
    assert "manquant" in cash.group(1)
    assert 'id="day-sessions"' in text
    (session,) = sessions(node)
    assert session["difference"] == {"cash": -200, "card": 0, "store_credit": 0}
    assert {"float", "open-till"} <= parsed(closed.text).ids  # ready to open it again


def test_every_field_of_the_session_screens_has_a_label(client, login, labels):
    log_in(client)
    closed_till = client.get("/sessions")
    opened_till = open_till(client)
    log_in(client, "gerant")
    closing = client.get("/closing")
    for response in (closed_till, opened_till, closing):
        assert response.status_code == 200
        assert parsed(response.text).fields
        assert unlabelled_fields(response.text) == []


def test_a_cashier_may_not_close_the_day(client):
    log_in(client)
    assert client.get("/closing").status_code == 403
    assert client.post("/closing", data={"day": "2026-11-20"}).status_code == 403


def test_the_closing_screen_warns_of_a_till_still_open(client):
    log_in(client)
    open_till(client)
    log_in(client, "gerant")
    page = client.get("/closing")
    assert page.status_code == 200
    assert "open-tills" in parsed(page.text).alerts
    assert 'href="/sessions?till=T1"' in page.text


def test_a_manager_closes_the_day_and_sees_the_grand_total(client, login, labels, node):
    log_in(client)
    open_till(client)
    sell(client, login, labels[0], [{"kind": "cash", "amount_cents": 4000}])
    sell(client, login, labels[1], [{"kind": "card", "amount_cents": 4000}])
    log_in(client, "gerant")
    before = client.get("/closing")
    assert 'id="day-net">80,00\xa0€<' in before.text
    closed = client.post("/closing", data={"day": "2026-11-20"})
    assert closed.status_code == 200, closed.text
    assert 'id="closing-notice"' in closed.text
    assert 'id="grand-total">80,00\xa0€<' in closed.text
    assert 'id="closing-total">80,00\xa0€<' in closed.text
    with node.engine.connect() as conn:
        (closing,) = conn.execute(select(t.closings)).all()
    assert closing.label == "2026-11-20"
    assert closing.grand_total_cents == 8000
    again = client.post("/closing", data={"day": "2026-11-20"}, params={"lang": "en"})
    assert again.status_code == 422
    assert "closing-error" in parsed(again.text).alerts
    assert "it is closed already, or a later day is" in said(again)


def test_a_day_not_over_cannot_be_closed(client):
    log_in(client, "gerant")
    refused = client.post("/closing", data={"day": "2026-11-21"})
    assert refused.status_code == 422
    assert "not over yet" in said(refused)
