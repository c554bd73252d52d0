"""The buying counter's screens: find the object, grade it, hear the argus' offer, take the
seller's identity, pay within the cash rules, record, print the labels (business-rules A, B)."""

from __future__ import annotations

from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from helpers import seller, table_counts

from recommerce.store.seed import DEMO_PASSWORD
from recommerce.web.i18n import euros_input, money

HTMX = {"HX-Request": "true"}


def log_in(client: Any, username: str = "acheteur") -> None:
    response = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def offer(client: Any, login: Any, article: str, grade: str) -> int:
    """The argus' buy offer, as the JSON API gives it."""
    response = client.post(
        "/api/v1/quotes", json={"article_id": article, "grade": grade}, headers=login("acheteur")
    )
    assert response.status_code == 200, response.text
    cents: int = response.json()["buy_offer_cents"]
    return cents


def seller_fields(**overrides: Any) -> dict[str, str]:
    """The seller's identity as the counter's form sends it (the API's field names)."""
    body = seller(**overrides)
    document = body.pop("document")
    fields = {f"seller.{name}": value for name, value in body.items()}
    fields.update({f"seller.document.{name}": value for name, value in document.items()})
    return fields


def purchase_form(
    lines: list[dict[str, Any]], *, method: str = "cash", **seller_overrides: Any
) -> dict[str, Any]:
    """The counter's form with its lines as hidden inputs, the seller and the payment."""
    names = [
        "article_id",
        "grade",
        "agreed_price_cents",
        "override_reason",
        "serial_number",
        "imei",
        "description",
        "weight_grams",
        "fineness",
    ]
    form: dict[str, Any] = {
        f"line.{name}": [str(line.get(name, "")) for line in lines] for name in names
    }
    form.update(seller_fields(**seller_overrides))
    form["payment.method"] = method
    return form


class Controls(HTMLParser):
    """The form controls of a page and the `for` of its labels."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "label" and found.get("for"):
            self.labelled.add(str(found["for"]))
        if tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            self.controls.append(found)

    def unlabelled(self) -> list[dict[str, str | None]]:
        return [
            c
            for c in self.controls
            if not c.get("aria-label") and (not c.get("id") or c["id"] not in self.labelled)
        ]


def controls(html: str) -> Controls:
    parsed = Controls()
    parsed.feed(html)
    return parsed


def test_a_stranger_is_sent_to_log_in_before_the_counter(client):
    response = client.get("/counter", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/counter"


def test_a_cashier_is_told_the_counter_is_for_buyers(client):
    log_in(client, "caissier")
    response = client.get("/counter")
    assert response.status_code == 403
    assert "Vous n'êtes pas autorisé à faire cela." in unescape(response.text)
    assert 'id="article-search"' not in response.text
    assert client.get("/counter/articles", params={"q": "iphone"}).status_code == 403


def test_the_counter_opens_on_the_search_field(client):
    log_in(client)
    response = client.get("/counter")
    assert response.status_code == 200
    assert "Comptoir de rachat" in response.text
    page = controls(response.text)
    focused = [c["id"] for c in page.controls if "autofocus" in c]
    assert focused == ["article-search"]


def test_the_search_finds_articles_by_the_words_of_their_name(client):
    log_in(client)
    response = client.get("/counter/articles", params={"q": "switch oled"}, headers=HTMX)
    assert response.status_code == 200
    assert "Nintendo Switch OLED" in response.text
    assert 'id="article-choice-1"' in response.text
    assert "<html" not in response.text  # a fragment for htmx, not a page


def test_a_scanned_gtin_opens_its_article_with_the_grading_guide(client, login, article_id):
    log_in(client)
    found = client.get(
        f"/api/v1/articles/{article_id('switch oled')}", headers=login("acheteur")
    ).json()
    response = client.get("/counter/articles", params={"q": found["gtin"]}, headers=HTMX)
    assert response.status_code == 200
    assert 'id="article-panel"' in response.text and 'hx-swap-oob="true"' in response.text
    assert "Nintendo Switch OLED" in response.text
    # The category's own wording of each grade, to choose with the arrow keys.
    assert "Comme neuve, avec manette d'origine et câbles" in unescape(response.text)
    for grade in "ABCD":
        assert f'id="grade-{grade}"' in response.text


def test_a_scanned_gtin_with_a_wrong_check_digit_says_why(client):
    log_in(client)
    response = client.get("/counter/articles", params={"q": "4006381333932"}, headers=HTMX)
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert "Ce code-barres (GTIN) n'est pas valide." in unescape(response.text)


def test_the_quote_shows_the_range_the_sale_price_and_the_buy_offer(client, login, article_id):
    log_in(client)
    phone = article_id("iphone 13")
    expected = client.post(
        "/api/v1/quotes", json={"article_id": phone, "grade": "B"}, headers=login("acheteur")
    ).json()
    response = client.get(
        "/counter/quote", params={"new.article_id": phone, "new.grade": "B"}, headers=HTMX
    )
    assert response.status_code == 200
    text = response.text
    assert money(expected["buy_offer_cents"]) in text
    assert money(expected["resale_price_cents"]) in text
    assert money(expected["resale_low_cents"]) in text
    assert money(expected["resale_high_cents"]) in text
    # The agreed price starts at the offer.
    assert f'value="{euros_input(expected["buy_offer_cents"])}"' in text


def test_a_graded_object_added_at_the_offer_joins_the_purchase(client, login, article_id):
    log_in(client)
    phone = article_id("iphone 12")
    cents = offer(client, login, phone, "B")
    response = client.post(
        "/counter/lines",
        data={
            "new.article_id": phone,
            "new.grade": "B",
            "new.agreed_price": euros_input(cents),
            "new.imei": "490154203237518",
        },
        headers=HTMX,
    )
    assert response.status_code == 200, response.text
    assert f'name="line.article_id" value="{phone}"' in response.text
    assert f'name="line.agreed_price_cents" value="{cents}"' in response.text
    assert 'id="purchase-total"' in response.text
    assert money(cents) in response.text
    # The search field comes back empty and focused for the next object.
    assert 'id="search-box" hx-swap-oob="true"' in response.text


def test_paying_above_the_offer_without_a_reason_is_refused_while_the_object_is_in_hand(
    client, login, article_id
):
    log_in(client)
    phone = article_id("iphone 12")
    cents = offer(client, login, phone, "B")
    response = client.post(
        "/counter/lines",
        data={
            "new.article_id": phone,
            "new.grade": "B",
            "new.agreed_price": euros_input(cents + 500),
        },
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "Payer au-dessus de l'offre demande un motif." in unescape(response.text)
    assert 'id="new-override-reason" name="new.override_reason"' in response.text
    assert "line.article_id" not in response.text  # nothing joined the purchase


def test_an_object_taken_out_of_the_purchase_leaves_the_others(client, login, article_id):
    log_in(client)
    game, console = article_id("mario kart"), article_id("playstation 5 standard")
    form = purchase_form(
        [
            {"article_id": game, "grade": "B", "agreed_price_cents": 450},
            {"article_id": console, "grade": "B", "agreed_price_cents": 6250},
        ]
    )
    response = client.post("/counter/lines/remove", data={**form, "remove": "0"}, headers=HTMX)
    assert response.status_code == 200
    assert f'value="{game}"' not in response.text
    assert f'name="line.article_id" value="{console}"' in response.text
    assert money(6250) in response.text


def test_a_purchase_recorded_through_the_counter_shows_its_labels(client, login, article_id, node):
    log_in(client)
    phone = article_id("iphone 12")
    cents = offer(client, login, phone, "B")
    response = client.post(
        "/counter/purchases",
        data=purchase_form(
            [{"article_id": phone, "grade": "B", "agreed_price_cents": cents}], method="cash"
        ),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    where = response.headers["location"]
    assert where.startswith("/counter/purchases/") and where.endswith("/labels")
    purchase_id = where.split("/")[3]
    recorded = client.get(f"/api/v1/purchases/{purchase_id}", headers=login("acheteur")).json()
    assert recorded["payment_method"] == "cash"
    assert recorded["total_cents"] == cents
    assert recorded["seller_name"].startswith("MARTIN")
    (item,) = recorded["items"]

    labels = client.get(where)
    assert labels.status_code == 200
    assert f'id="label-code-1">{item["label_code"]}<' in labels.text
    assert f'src="/api/v1/items/{item["label_code"]}/label.svg"' in labels.text
    assert "Apple iPhone 12 64 Go" in labels.text
    assert money(item["asking_price_cents"]) in labels.text
    assert 'id="print-labels"' in labels.text and 'id="next-purchase"' in labels.text
    assert client.get(item["label_svg_url"]).status_code == 200  # the image the page shows
    assert table_counts(node)["purchases"] == 1


def test_the_labels_of_an_unknown_purchase_are_not_found(client):
    log_in(client)
    response = client.get("/counter/purchases/no-such-purchase/labels")
    assert response.status_code == 404
    assert "Introuvable." in response.text


def test_a_seller_under_18_is_refused_in_french_and_nothing_is_recorded(
    client, login, article_id, node
):
    log_in(client)
    phone = article_id("iphone 12")
    cents = offer(client, login, phone, "B")
    response = client.post(
        "/counter/purchases",
        data=purchase_form(
            [{"article_id": phone, "grade": "B", "agreed_price_cents": cents}],
            birth_date="2010-01-01",
        ),
    )
    assert response.status_code == 422
    assert "Nous ne pouvons pas acheter à un vendeur de moins de 18 ans." in response.text
    # Beside the birth date, which takes the focus; what was typed is kept.
    assert 'id="seller-birth-date-error" class="error" role="alert"' in response.text
    assert 'value="2010-01-01" autocomplete="off" required aria-invalid="true"' in response.text
    assert 'value="Martin"' in response.text
    assert f'name="line.article_id" value="{phone}"' in response.text
    assert table_counts(node) == {
        "purchases": 0,
        "items": 0,
        "police_register": 0,
        "outbox": 0,
        "watchlist_alerts": 0,
    }


def test_cash_above_the_legal_limit_is_announced_then_refused(client, login, article_id, node):
    log_in(client)
    tv = article_id("oled55c1")
    cents = offer(client, login, tv, "A")
    count = 100_000 // cents + 1  # just above 1,000 EUR
    lines = [{"article_id": tv, "grade": "A", "agreed_price_cents": cents}] * count
    form = purchase_form(lines)
    # The payment choice says so before anything is tried...
    shown = client.post("/counter/lines/remove", data={**form, "remove": ""}, headers=HTMX)
    assert "non autorisé au-delà de 1 000,00 €" in shown.text.replace("\u202f", " ").replace(
        "\xa0", " "
    )
    # ...and the purchase's handler refuses it.
    response = client.post("/counter/purchases", data=form)
    assert response.status_code == 422
    assert "Ce montant ne peut pas être payé en espèces." in response.text
    assert table_counts(node)["purchases"] == 0


def test_a_bank_transfer_needs_the_sellers_iban(client, login, article_id, node):
    log_in(client)
    phone = article_id("iphone 12")
    cents = offer(client, login, phone, "B")
    form = purchase_form(
        [{"article_id": phone, "grade": "B", "agreed_price_cents": cents}],
        method="bank_transfer",
    )
    form["payment.account_holder"] = "Sophie Martin"
    response = client.post("/counter/purchases", data=form)
    assert response.status_code == 422
    assert "Il manque les coordonnées de paiement." in response.text
    assert 'id="payment-iban-error"' in response.text
    form["payment.iban"] = "FR76 3000 6000 0112 3456 7890 189"
    response = client.post("/counter/purchases", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert table_counts(node)["purchases"] == 1


def test_precious_metal_is_paid_to_the_sellers_account_and_held_before_resale(
    client, login, article_id
):
    log_in(client)
    ring = article_id("bague or")
    line = {
        "article_id": ring,
        "grade": "B",
        "agreed_price_cents": offer(client, login, ring, "B"),
        "weight_grams": "4.2",
        "fineness": "750",
    }
    shown = client.post("/counter/lines/remove", data=purchase_form([line]), headers=HTMX)
    assert "jamais pour les métaux précieux" in shown.text
    form = purchase_form([line], method="bank_transfer")
    form["payment.account_holder"] = "Sophie Martin"
    form["payment.iban"] = "FR76 3000 6000 0112 3456 7890 189"
    response = client.post("/counter/purchases", data=form)
    assert response.status_code == 200, response.text
    assert "/contract.pdf" in response.text  # the written contract with its withdrawal form
    assert "Pas en vente avant" in response.text  # the seller may still withdraw


def test_a_purchase_without_any_object_is_refused(client):
    log_in(client)
    response = client.post("/counter/purchases", data=purchase_form([]))
    assert response.status_code == 422
    assert 'id="purchase-error"' in response.text


def test_the_counter_speaks_english_when_asked(client):
    log_in(client)
    response = client.get("/counter", params={"lang": "en"})
    assert response.status_code == 200
    assert '<html lang="en">' in response.text
    assert "<h1>Buying counter</h1>" in response.text
    assert "Record the purchase and print the labels" in response.text
    assert "Comptoir de rachat" not in response.text


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_input_of_the_counter_has_a_label(client, login, article_id, lang):
    log_in(client)
    ring = article_id("bague or")  # precious metal: weight and fineness too
    pages = [
        client.get("/counter", params={"lang": lang}).text,
        client.get(f"/counter/articles/{ring}", headers=HTMX).text,
        client.get(
            "/counter/quote", params={"new.article_id": ring, "new.grade": "B"}, headers=HTMX
        ).text,
    ]
    for html in pages:
        parsed = controls(html)
        assert parsed.controls
        assert parsed.unlabelled() == []
        assert len(parsed.ids) == len(set(parsed.ids)), "an id is used twice"
    assert "new.weight_grams" in pages[1] and "new.fineness" in pages[1]
