"""The till over HTTP: a sale is one transaction (ticket, items sold, signed journal record,
outbox event); margin VAT item by item; tenders and the cash limit; items that cannot be sold
(business-rules A.8, B.11, C.12-C.14, D.16-D.18)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import purchase_body
from sqlalchemy import select, text

from recommerce.errors import DomainError
from recommerce.money import Money
from recommerce.pos.sale import RecordSale, SaleLineRequest, record_sale
from recommerce.pos.tenders import TenderKind, TenderRequest
from recommerce.store.db import tables as t
from recommerce.store.seed import DEMO_PASSWORD
from recommerce.store.services.fiscal import verify_store_journal
from recommerce.store.services.staff import authenticate


@pytest.fixture
def stock(client, login, article_id):
    """Buy items at given purchase and asking prices (euros) and return their labels."""

    def buy(*prices: tuple[int, int], regime: str = "margin", article: str = "iphone 12"):
        lines = [
            {
                "article_id": article_id(article),
                "grade": "B",
                "agreed_price_cents": bought * 100,
                "asking_price_cents": asking * 100,
                "vat_regime": regime,
            }
            for bought, asking in prices
        ]
        response = client.post(
            "/api/v1/purchases",
            json=purchase_body(
                lines,
                payment={
                    "method": "bank_transfer",
                    "account_holder": "Sophie Martin",
                    "iban": "FR1420041010050500013M02606",
                },
            ),
            headers=login("acheteur"),
        )
        assert response.status_code == 201, response.text
        return [item["label_code"] for item in response.json()["items"]]

    return buy


def sell(client, login, labels, tenders, who="caissier", till="T1", **extra):
    lines = [label if isinstance(label, dict) else {"label_code": label} for label in labels]
    return client.post(
        "/api/v1/sales",
        json={"till": till, "lines": lines, "tenders": tenders, **extra},
        headers=login(who),
    )


def cash(euros):
    return {"kind": "cash", "amount_cents": euros * 100}


def journal_fields(node):
    with node.engine.connect() as conn:
        return [
            r.fields
            for r in conn.execute(select(t.fiscal_journal).order_by(t.fiscal_journal.c.seq))
        ]


def test_margin_vat_bought_100_sold_160_is_10_euros_in_the_journal(client, login, stock, node):
    (label,) = stock((100, 160))
    response = sell(client, login, [label], [cash(160)])
    assert response.status_code == 201, response.text
    (record,) = journal_fields(node)
    assert record["lines"][0]["vat_cents"] == 1000
    assert record["vat"] == [
        {"regime": "margin", "rate": "20", "total_cents": 16000, "vat_cents": 1000}
    ]


def test_margin_vat_bought_100_sold_90_is_zero(client, login, stock, node):
    (label,) = stock((100, 90))
    assert sell(client, login, [label], [cash(90)]).status_code == 201
    assert journal_fields(node)[0]["lines"][0]["vat_cents"] == 0


def test_mixed_basket_with_a_normal_vat_item(client, login, stock, node):
    margin_gain, margin_loss = stock((100, 160), (100, 90))
    (refurbished,) = stock((80, 120), regime="normal", article="macbook")
    response = sell(client, login, [margin_gain, margin_loss, refurbished], [cash(400)])
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["total_cents"] == 37000
    assert ticket["change_cents"] == 3000
    # The receipt hides the margin VAT but shows the normal one (rule C.14).
    assert ticket["vat"] == [
        {"regime": "margin", "rate": "20", "total_cents": 25000, "vat_cents": None},
        {"regime": "normal", "rate": "20", "total_cents": 12000, "vat_cents": 2000},
    ]
    assert ticket["mentions"] == ["Régime particulier – Biens d'occasion"]
    # The journal keeps the margin VAT: 10.00 on the gain, nothing on the loss.
    assert journal_fields(node)[0]["vat"][0]["vat_cents"] == 1000


def test_one_sale_writes_ticket_items_sold_journal_record_and_outbox_event(
    client, login, stock, node
):
    labels = stock((10, 25), (10, 30), (10, 45))
    response = sell(client, login, labels, [cash(50), {"kind": "card", "amount_cents": 5000}])
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["number"] == "042-T1-000001"
    assert [x["kind"] for x in ticket["tenders"]] == ["cash", "card"]
    assert ticket["tenders"][1]["reference"]  # the terminal's authorisation code
    with node.engine.connect() as conn:
        statuses = conn.execute(select(t.items.c.status, t.items.c.sold_on)).all()
        events = conn.execute(select(t.outbox.c.type).order_by(t.outbox.c.seq)).scalars().all()
    assert set(statuses) == {("sold", "042-T1-000001")}
    assert events[-1] == "TicketValidated"
    assert verify_store_journal(node).ok


def test_ticket_numbers_are_per_till_without_gap(client, login, stock):
    labels = stock((10, 20), (10, 20), (10, 20))
    numbers = [
        sell(client, login, [labels[0]], [cash(20)], till="T1").json()["number"],
        sell(client, login, [labels[1]], [cash(20)], till="T2").json()["number"],
        sell(client, login, [labels[2]], [cash(20)], till="T1").json()["number"],
    ]
    assert numbers == ["042-T1-000001", "042-T2-000001", "042-T1-000002"]


def test_refused_card_leaves_nothing_written(client, login, stock, node):
    (label,) = stock((10, 20))
    response = sell(client, login, [label], [cash(7), {"kind": "card", "amount_cents": 1300 + 13}])
    assert response.status_code == 402
    assert response.json()["code"] == "card_declined"
    assert journal_fields(node) == []
    with node.engine.connect() as conn:
        assert conn.execute(select(t.items.c.status)).scalar_one() == "in_stock"
        assert conn.execute(text("SELECT COUNT(*) FROM tickets")).scalar_one() == 0


def test_customer_cannot_pay_more_than_1000_eur_in_cash(client, login, stock):
    (label,) = stock((120, 1200), article="macbook")  # bought at the argus' offer or below
    response = sell(client, login, [label], [cash(1200)])
    assert response.status_code == 422
    assert response.json()["code"] == "cash_limit_exceeded"
    split = sell(client, login, [label], [cash(1000), {"kind": "card", "amount_cents": 20000}])
    assert split.status_code == 201, split.text


def test_non_resident_with_proof_may_pay_up_to_15000_eur_in_cash(client, login, stock, node):
    (label,) = stock((120, 1200), article="macbook")  # bought at the argus' offer or below
    response = sell(client, login, [label], [cash(1200)], non_resident_proof="passeport CH X123")
    assert response.status_code == 201, response.text
    assert journal_fields(node)[0]["non_resident_proof"] == "passeport CH X123"


def test_item_already_sold_is_refused_naming_the_ticket(client, login, stock):
    (label,) = stock((10, 20))
    first = sell(client, login, [label], [cash(20)]).json()["number"]
    again = sell(client, login, [label], [cash(20)])
    assert again.status_code == 409
    assert first in again.json()["detail"]


def test_item_reserved_online_is_refused_naming_the_order(client, login, stock, node):
    (label,) = stock((10, 20))
    with node.engine.begin() as conn:
        conn.execute(
            t.items.update()
            .where(t.items.c.label_code == label)
            .values(status="reserved", reserved_for="CMD-2026-00042")
        )
    response = sell(client, login, [label], [cash(20)])
    assert response.status_code == 409
    assert "CMD-2026-00042" in response.json()["detail"]


def test_precious_metal_under_withdrawal_period_is_refused_with_its_date(
    client, login, article_id, node, clock
):
    line = {
        "article_id": article_id("bague or"),
        "grade": "B",
        "agreed_price_cents": 2_000,  # the argus offers 21.50 EUR
        "asking_price_cents": 20_000,
        "weight_grams": "3.2",
        "fineness": 750,
    }
    bought = client.post(
        "/api/v1/purchases",
        json=purchase_body([line], payment={"method": "cheque", "account_holder": "Sophie Martin"}),
        headers=login("acheteur"),
    ).json()
    label = bought["items"][0]["label_code"]
    refused = sell(client, login, [label], [cash(200)])
    assert refused.status_code == 409
    assert "22/11/2026" in refused.json()["detail"]  # 48 h after 20/11 11:30 Paris
    clock.advance(timedelta(hours=49))
    token = client.post(
        "/api/v1/auth/token", json={"username": "caissier", "password": DEMO_PASSWORD}
    ).json()["access_token"]
    later = client.post(
        "/api/v1/sales",
        json={"till": "T1", "lines": [{"label_code": label}], "tenders": [cash(200)]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert later.status_code == 201, later.text


def test_discount_above_10_percent_needs_a_manager(client, login, stock):
    (label,) = stock((10, 100))
    line = {"label_code": label, "discount_cents": 2000}
    refused = sell(client, login, [line], [cash(80)])
    assert refused.status_code == 422
    assert refused.json()["code"] == "discount_needs_approval"
    wrong = sell(
        client, login, [line], [cash(80)], approval={"username": "gerant", "password": "nope"}
    )
    assert wrong.status_code == 422
    approved = sell(
        client,
        login,
        [line],
        [cash(80)],
        approval={"username": "gerant", "password": DEMO_PASSWORD},
    )
    assert approved.status_code == 201, approved.text
    assert approved.json()["total_cents"] == 8000


def test_small_discount_needs_no_approval(client, login, stock):
    (label,) = stock((10, 100))
    response = sell(client, login, [{"label_code": label, "discount_cents": 1000}], [cash(90)])
    assert response.status_code == 201


def test_buyer_cannot_sell_at_the_till(client, login, stock):
    (label,) = stock((10, 20))
    assert sell(client, login, [label], [cash(20)], who="acheteur").status_code == 403


def test_two_tills_selling_the_same_item_at_once_exactly_one_succeeds(stock, node):
    (label,) = stock((10, 20))
    with node.uow() as uow:
        cashier = authenticate(uow.conn, "caissier", DEMO_PASSWORD)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def till(name: str) -> None:
        barrier.wait()
        try:
            record_sale(
                RecordSale(
                    till=name,
                    staff=cashier,
                    lines=(SaleLineRequest(label),),
                    tenders=(TenderRequest(TenderKind.CASH, Money(2000)),),
                ),
                node.uow,
                terminal=node.terminal,
                clock=node.clock,
                key=node.fiscal_key,
                policy=node.till_policy,
            )
            outcomes.append("sold")
        except DomainError as exc:
            outcomes.append(exc.code.value)

    threads = [threading.Thread(target=till, args=(name,)) for name in ("T1", "T2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["item_not_sellable", "sold"]
    assert verify_store_journal(node).ok


def test_receipt_copy_carries_number_guarantee_and_margin_mention(client, login, stock):
    (label,) = stock((10, 25))
    number = sell(client, login, [label], [cash(30)]).json()["number"]
    html = client.get(f"/api/v1/tickets/{number}/receipt.html", headers=login("caissier"))
    assert html.status_code == 200
    assert number in html.text
    assert "Garantie légale de conformité" in html.text
    assert "Régime particulier – Biens d&#39;occasion" in html.text or (
        "Régime particulier – Biens d'occasion" in html.text
    )
    pdf = client.get(f"/api/v1/tickets/{number}/receipt.pdf", headers=login("caissier"))
    assert pdf.content.startswith(b"%PDF")


def test_receipt_prints_as_escpos_to_the_configured_printer(client, login, stock, node):
    (label,) = stock((10, 25))
    number = sell(client, login, [label], [cash(25)]).json()["number"]
    printed = client.post(f"/api/v1/tickets/{number}/print", headers=login("caissier"))
    assert printed.status_code == 200, printed.text
    data = Path(printed.json()["printed_to"]).read_bytes()
    assert data.startswith(b"\x1b@")
    assert number.encode() in data


def test_receipt_goes_to_a_network_printer_over_tcp(client, login, stock, node):
    import socket

    from recommerce.pos.printer import NetworkReceiptPrinter

    server = socket.create_server(("127.0.0.1", 0))
    received = bytearray()

    def printer() -> None:
        conn, _ = server.accept()
        with conn:
            while chunk := conn.recv(65536):
                received.extend(chunk)

    thread = threading.Thread(target=printer)
    thread.start()
    node.printer = NetworkReceiptPrinter("127.0.0.1", server.getsockname()[1])
    (label,) = stock((10, 25))
    number = sell(client, login, [label], [cash(25)]).json()["number"]
    response = client.post(f"/api/v1/tickets/{number}/print", headers=login("caissier"))
    thread.join(timeout=10)
    server.close()
    assert response.status_code == 200, response.text
    assert bytes(received).startswith(b"\x1b@")
    assert len(received) == response.json()["bytes"]


def test_unreachable_printer_is_a_clear_error(client, login, stock, node):
    from recommerce.pos.printer import NetworkReceiptPrinter

    node.printer = NetworkReceiptPrinter("127.0.0.1", 9, timeout_s=1)
    (label,) = stock((10, 25))
    number = sell(client, login, [label], [cash(25)]).json()["number"]
    response = client.post(f"/api/v1/tickets/{number}/print", headers=login("caissier"))
    assert response.status_code == 503
    assert response.json()["code"] == "printer_unavailable"


def test_a_sold_items_guarantee_is_looked_up_by_its_label(client, login, stock):
    (label,) = stock((10, 25))
    assert (
        client.get(f"/api/v1/items/{label}/guarantee", headers=login("caissier")).status_code == 404
    )
    number = sell(client, login, [label], [cash(25)]).json()["number"]
    guarantee = client.get(f"/api/v1/items/{label}/guarantee", headers=login("caissier")).json()
    assert guarantee["ticket"] == number
    assert guarantee["delivered_on"] == "2026-11-20"
    assert guarantee["ends_on"] == "2028-11-20"
    assert guarantee["presumption_ends_on"] == "2027-11-20"
