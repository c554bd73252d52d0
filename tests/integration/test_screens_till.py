"""The till screen: scanning into a basket, refusals said at once with their reason, cash with
its change, the card terminal, the cash limit, a manager's approval, the receipt on screen and
on the printer, reprints, returns; in French and in English, every field with its label
(business-rules A.8, B.11, C.14, D.16-D.18, E.21)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers import purchase_body
from sqlalchemy import func, select

from recommerce.clock import FixedClock
from recommerce.pos.printer import NetworkReceiptPrinter
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.seed import DEMO_PASSWORD
from recommerce.store.services.fiscal import verify_store_journal

Headers = Callable[[str], dict[str, str]]
HTMX = {"HX-Request": "true"}


class _Page(HTMLParser):
    """The form fields of a page, the `for` of its labels, its alerts and its ids."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.alerts: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            self.fields.append(found)
        if tag == "label" and found.get("for"):
            self.label_for.add(str(found["for"]))
        if found.get("role") == "alert":
            self.alerts.append(str(found.get("id") or tag))
        if found.get("id"):
            self.ids.add(str(found["id"]))


def parsed(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def unlabelled_fields(html: str) -> list[str]:
    """The fields of a page that no `<label for>` (nor aria-label) names."""
    page = parsed(html)
    return [
        str(f.get("name") or f.get("id"))
        for f in page.fields
        if not f.get("aria-label") and f.get("id") not in page.label_for
    ]


def said(response: Any) -> str:
    """What a page says, as its reader reads it (entities such as `&#39;` decoded)."""
    return unescape(response.text)


def log_in(client: TestClient, username: str = "caissier") -> None:
    """A staff member logs in on the screens (the session cookie stays with the client)."""
    response = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def stock(client: TestClient, login: Headers, article_id: Callable[[str], str]):
    """Buy items at (purchase, asking) prices in cents; their labels."""

    def buy(*prices: tuple[int, int], article: str = "iphone 12") -> list[str]:
        lines = [
            {
                "article_id": article_id(article),
                "grade": "B",
                "agreed_price_cents": bought,
                "asking_price_cents": asking,
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


def api_sale(client: TestClient, login: Headers, labels: list[str], tenders: list[dict]) -> str:
    response = client.post(
        "/api/v1/sales",
        json={"till": "T1", "lines": [{"label_code": x} for x in labels], "tenders": tenders},
        headers=login("caissier"),
    )
    assert response.status_code == 201, response.text
    number: str = response.json()["number"]
    return number


def scan(
    client: TestClient, label: str, basket: tuple[str, ...] = (), lang: str = "fr", **fields: str
) -> Any:
    return client.post(
        f"/till/scan?lang={lang}",
        data={"till": "T1", "label": list(basket), "discount": [""] * len(basket), "scan": label}
        | fields,
        headers=HTMX,
    )


def pay(client: TestClient, labels: list[str], discounts: list[str] | None = None, **tenders: str):
    """Pay the basket as the screen posts it (no htmx: the answer is the ticket's page)."""
    return client.post(
        "/till/pay",
        data={
            "till": "T1",
            "label": labels,
            "discount": discounts or [""] * len(labels),
            **tenders,
        },
    )


def tickets(node: StoreNode) -> int:
    with node.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.tickets)).scalar_one())


def item_status(node: StoreNode, label: str) -> str:
    with node.engine.connect() as conn:
        return str(
            conn.execute(select(t.items.c.status).where(t.items.c.label_code == label)).scalar_one()
        )


def test_a_stranger_is_sent_to_log_in_before_the_till(client):
    response = client.get("/till", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/till"


def test_a_buyer_may_not_open_the_till(client):
    log_in(client, "acheteur")
    response = client.get("/till")
    assert response.status_code == 403
    assert 'id="scan"' not in response.text
    assert client.post("/till/scan", data={"scan": "2042000000015"}).status_code == 403


def test_scanning_a_label_adds_its_line_to_the_basket(client, stock):
    (label,) = stock((1000, 4000))
    log_in(client)
    response = scan(client, label)
    assert response.status_code == 200, response.text
    assert "<html" not in response.text  # the sale form alone, for htmx to swap in
    page = parsed(response.text)
    assert {"sale", "scan", "basket", f"line-{label}", "pay"} <= page.ids
    assert f'<input type="hidden" name="label" value="{label}">' in response.text
    assert "Apple iPhone 12" in response.text
    assert "40,00\xa0€" in response.text
    assert not page.alerts


def test_the_same_item_is_not_added_twice(client, stock):
    (label,) = stock((1000, 4000))
    log_in(client)
    response = scan(client, label, basket=(label,))
    assert response.status_code == 422
    assert "sale-error" in parsed(response.text).alerts
    assert response.text.count('name="label"') == 1


def test_a_cashier_sees_why_an_item_already_sold_cannot_be_sold(client, login, stock):
    (label,) = stock((1000, 4000))
    number = api_sale(client, login, [label], [{"kind": "cash", "amount_cents": 4000}])
    log_in(client)
    response = scan(client, label)
    assert response.status_code == 422
    assert "sale-error" in parsed(response.text).alerts
    assert f"Déjà vendu sur le ticket {number}." in said(response)
    assert 'name="label"' not in response.text


def test_a_cashier_sees_which_online_order_holds_a_reserved_item(client, stock, node):
    (label,) = stock((1000, 4000))
    with node.engine.begin() as conn:
        conn.execute(
            t.items.update()
            .where(t.items.c.label_code == label)
            .values(status="reserved", reserved_for="CMD-2026-00042")
        )
    log_in(client)
    french = scan(client, label)
    assert french.status_code == 422
    assert "Réservé pour la commande en ligne CMD-2026-00042." in said(french)
    english = scan(client, label, lang="en")
    assert "is reserved for online order CMD-2026-00042" in said(english)


def test_a_precious_metal_item_waits_for_the_sellers_withdrawal_period(
    client, login, article_id, clock: FixedClock
):
    line = {
        "article_id": article_id("bague or"),
        "grade": "B",
        "agreed_price_cents": 2_000,
        "asking_price_cents": 20_000,
        "weight_grams": "3.2",
        "fineness": 750,
    }
    bought = client.post(
        "/api/v1/purchases",
        json=purchase_body([line], payment={"method": "cheque", "account_holder": "Sophie Martin"}),
        headers=login("acheteur"),
    )
    assert bought.status_code == 201, bought.text
    label = bought.json()["items"][0]["label_code"]
    log_in(client)
    refused = scan(client, label)
    assert refused.status_code == 422
    assert "22/11/2026" in said(refused)  # 48 h after 20/11 11:30 Paris (rule A.8)
    clock.advance(timedelta(hours=49))
    log_in(client)
    assert scan(client, label).status_code == 200


def test_removing_a_line_takes_it_out_of_the_basket(client, stock):
    first, second = stock((1000, 4000), (1000, 2500))
    log_in(client)
    response = client.post(
        "/till/scan",
        data={"till": "T1", "label": [first, second], "discount": ["", ""], "remove_line": first},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert f'value="{first}"' not in response.text
    assert f'value="{second}"' in response.text
    assert 'id="basket-total">25,00\xa0€' in response.text


def test_a_cash_sale_through_the_form_records_a_ticket_and_shows_the_change_and_receipt(
    client, stock, node
):
    (label,) = stock((1000, 4000))
    log_in(client)
    response = pay(client, [label], cash_given="50")
    assert response.status_code == 200, response.text
    assert response.url.path == "/till/ticket"
    text = said(response)
    assert 'id="ticket-number">042-T1-000001<' in text
    assert re.search(r'id="change">10,00\xa0€<', text)
    assert "Régime particulier – Biens d'occasion" in text  # rule C.14
    assert "Garantie légale de conformité" in text  # rule E.21
    assert "<svg" in text  # the receipt's QR code, in its HTML copy
    assert 'id="scan"' in text  # the next customer can be scanned at once
    assert tickets(node) == 1
    assert item_status(node, label) == "sold"
    assert verify_store_journal(node).ok


def test_a_sale_validated_through_htmx_goes_to_its_ticket(client, stock):
    (label,) = stock((1000, 4000))
    log_in(client)
    response = client.post(
        "/till/pay",
        data={"till": "T1", "label": [label], "discount": [""], "cash_given": "40"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/till/ticket?number=042-T1-000001"


def test_a_card_sale_goes_through_the_payment_terminal(client, stock, node):
    (label,) = stock((1000, 4000))
    log_in(client)
    response = pay(client, [label], card_amount="40,00")
    assert response.status_code == 200, response.text
    assert ("charge", 4000) in [op[:2] for op in node.terminal.operations]
    authorisation = node.terminal.operations[-1][2]
    assert authorisation in response.text
    assert 'id="change">0,00\xa0€<' in response.text


def test_a_declined_card_is_said_and_nothing_is_recorded(client, stock, node):
    (label,) = stock((1000, 4013))  # the simulated terminal declines amounts ending in .13
    log_in(client)
    response = pay(client, [label], card_amount="40,13")
    assert response.status_code == 422
    assert "La carte a été refusée." in said(response)
    assert tickets(node) == 0
    assert f'value="{label}"' in response.text  # the basket is still there


def test_split_tenders_cash_card_and_a_credit_note(client, login, stock, node):
    first, second = stock((1000, 3000), (1000, 6000))
    number = api_sale(client, login, [first], [{"kind": "cash", "amount_cents": 3000}])
    credit = client.post(
        "/api/v1/returns",
        json={
            "till": "T1",
            "sale_number": number,
            "lines": [{"label_code": first}],
            "refund": "store_credit",
        },
        headers=login("caissier"),
    ).json()["tenders"][0]["reference"]
    log_in(client)
    shown = scan(client, "", basket=(second,), credit_code=credit)
    assert "30,00\xa0€" in said(shown)  # the credit note's balance
    response = pay(client, [second], cash_given="20", card_amount="15", credit_code=credit)
    assert response.status_code == 200, response.text
    assert 'id="change">5,00\xa0€<' in response.text
    with node.engine.connect() as conn:
        balance = conn.execute(
            select(t.store_credits.c.balance_cents).where(t.store_credits.c.code == credit)
        ).scalar_one()
    assert balance == 0


def test_cash_above_the_legal_limit_is_refused_and_nothing_is_recorded(client, stock, node):
    (label,) = stock((12000, 120000), article="macbook")
    log_in(client)
    refused = pay(client, [label], cash_given="1200")
    assert refused.status_code == 422
    assert "Ce montant ne peut pas être payé en espèces." in said(refused)  # rule B.11
    assert "over the legal limit" in said(refused)
    assert tickets(node) == 0
    assert item_status(node, label) == "in_stock"
    split = pay(client, [label], cash_given="1000", card_amount="200")
    assert split.status_code == 200, split.text
    assert tickets(node) == 1


def test_a_large_discount_needs_a_managers_approval(client, stock):
    (label,) = stock((1000, 10000))
    log_in(client)
    refused = pay(client, [label], ["20"], cash_given="80")
    assert refused.status_code == 422
    assert "Cette remise demande l'accord d'un responsable." in said(refused)
    assert re.search(r'<details id="approval" open>', refused.text)
    wrong = pay(
        client,
        [label],
        ["20"],
        cash_given="80",
        approval_username="gerant",
        approval_password="nope",
    )
    assert wrong.status_code == 422
    approved = pay(
        client,
        [label],
        ["20"],
        cash_given="80",
        approval_username="gerant",
        approval_password=DEMO_PASSWORD,
    )
    assert approved.status_code == 200, approved.text
    assert 'id="ticket-total">80,00\xa0€<' in approved.text


def test_a_past_ticket_is_found_by_its_number_and_printed_again(client, login, stock, node):
    (label,) = stock((1000, 2500))
    number = api_sale(client, login, [label], [{"kind": "cash", "amount_cents": 2500}])
    log_in(client)
    missing = client.get("/till/ticket", params={"number": "042-T1-999999"})
    assert missing.status_code == 404
    assert "lookup-error" in parsed(missing.text).alerts
    found = client.get("/till/ticket", params={"number": number})
    assert found.status_code == 200
    assert f'id="ticket-number">{number}<' in found.text
    for _ in range(2):  # printed, then printed again
        printed = client.post("/till/ticket/print", data={"number": number})
        assert printed.status_code == 200, printed.text
        assert 'id="ticket-notice"' in printed.text
    data = (Path(node.settings.data_dir) / "receipts" / f"{number}.escpos").read_bytes()
    assert data.startswith(b"\x1b@")
    assert number.encode() in data


def test_an_unavailable_printer_is_said_and_the_sale_stays_recorded(client, stock, node):
    node.printer = NetworkReceiptPrinter("127.0.0.1", 9, timeout_s=1)
    (label,) = stock((1000, 2500))
    log_in(client)
    sold = pay(client, [label], cash_given="25")
    number = "042-T1-000001"
    assert f'id="ticket-number">{number}<' in sold.text
    response = client.post("/till/ticket/print", data={"number": number})
    assert response.status_code == 422
    assert "L'imprimante n'est pas disponible." in said(response)
    assert "ticket-error" in parsed(response.text).alerts
    assert 'id="ticket-notice"' in response.text
    assert tickets(node) == 1


def test_a_return_through_the_form_gives_a_counter_ticket(client, login, stock, node):
    kept, faulty = stock((1000, 3000), (1000, 2000))
    number = api_sale(client, login, [kept, faulty], [{"kind": "cash", "amount_cents": 5000}])
    log_in(client)
    form = client.get("/till/return", params={"number": number})
    assert form.status_code == 200
    assert {"return-0", "return-1", "repair-1", "refund-credit", "confirm-return"} <= parsed(
        form.text
    ).ids
    response = client.post(
        "/till/return",
        data={
            "number": number,
            "till": "T1",
            "return": [faulty],
            "repair": [faulty],
            "refund": "store_credit",
        },
    )
    assert response.status_code == 200, response.text
    text = said(response)
    assert 'id="ticket-number">042-T1-000002<' in text
    assert f"Annule le ticket {number}" in text  # rule D.16: the counter-ticket refers to it
    assert re.search(r'class="tender-ref">AV[0-9A-Z]{10}<', text)  # the credit note's code
    assert item_status(node, faulty) == "to_repair"
    assert item_status(node, kept) == "sold"
    again = client.post("/till/return", data={"number": number, "till": "T1", "return": [faulty]})
    assert again.status_code == 422
    assert "return-error" in parsed(again.text).alerts
    assert "already returned" in said(again)


def test_the_till_speaks_english_with_lang_en(client):
    log_in(client)
    french = client.get("/till")
    assert "Panier" in french.text and "Payer" in french.text
    english = client.get("/till", params={"lang": "en"})
    assert english.status_code == 200
    assert "<caption>Basket</caption>" in english.text
    assert "Pay <kbd>F9</kbd>" in english.text


def test_every_input_of_the_till_page_has_a_label(client, login, stock):
    labels = stock((1000, 4000), (1000, 2500))
    number = api_sale(client, login, labels[:1], [{"kind": "cash", "amount_cents": 4000}])
    log_in(client)
    pages = [
        client.get("/till"),
        scan(client, labels[1]),
        client.get("/till/ticket", params={"number": number}),
        client.get("/till/return", params={"number": number}),
    ]
    for response in pages:
        assert response.status_code == 200, response.text
        assert parsed(response.text).fields
        assert unlabelled_fields(response.text) == []


@pytest.mark.till_sessions
def test_a_till_not_opened_takes_no_sale_and_says_where_to_open_it(client, stock, node):
    (label,) = stock((1000, 4000))
    log_in(client)
    page = client.get("/till")
    assert 'href="/sessions?till=T1"' in page.text
    refused = pay(client, [label], cash_given="40")
    assert refused.status_code == 422
    assert "La session de caisse ne le permet pas." in said(refused)
    assert tickets(node) == 0
