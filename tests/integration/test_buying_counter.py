"""The buying counter over HTTP: one purchase writes its register entries, items, labels and
outbox event together; a refused one writes nothing (business-rules A and B)."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import pytest
from helpers import purchase_body, seller, table_counts
from sqlalchemy import select
from stdnum import ean

from recommerce.store.db import tables as t
from recommerce.store.seed import DEMO_PASSWORD

VALID_IMEI = "490154203237518"


def test_buyer_finds_the_article_by_scanning_its_gtin(client, login, article_id):
    found = client.get("/api/v1/articles", params={"q": "switch oled"}, headers=login("acheteur"))
    gtin = found.json()[0]["gtin"]
    response = client.get(f"/api/v1/articles/by-gtin/{gtin}", headers=login("acheteur"))
    assert response.status_code == 200
    assert response.json()["name"] == "Nintendo Switch OLED"


def test_scanned_gtin_with_a_wrong_check_digit_is_refused(client, login):
    response = client.get("/api/v1/articles/by-gtin/4006381333932", headers=login("acheteur"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_gtin"
    assert response.json()["field"] == "gtin"


def test_quote_gives_a_range_around_the_resale_price_and_a_lower_buy_offer(
    client, login, article_id
):
    response = client.post(
        "/api/v1/quotes",
        json={"article_id": article_id("iphone 13"), "grade": "B"},
        headers=login("acheteur"),
    )
    quote = response.json()
    assert response.status_code == 200
    assert quote["resale_low_cents"] <= quote["resale_price_cents"] <= quote["resale_high_cents"]
    assert 0 < quote["buy_offer_cents"] < quote["resale_price_cents"]
    assert "Micro-rayures" in quote["grade_definition"]


def test_purchase_writes_register_entry_items_with_labels_and_outbox_event(
    client, login, article_id, node
):
    phone = article_id("iphone 12")
    response = client.post(
        "/api/v1/purchases",
        json=purchase_body(
            [
                {
                    "article_id": phone,
                    "grade": "B",
                    "agreed_price_cents": 10000,  # the argus offers 104.00 EUR
                    "imei": VALID_IMEI,
                    "accessories": ["chargeur"],
                    "description": "rayure au dos",
                }
            ]
        ),
        headers=login("acheteur"),
    )
    assert response.status_code == 201, response.text
    purchase = response.json()
    assert purchase["register_entries"] == [{"book": "general", "number": 1}]
    (item,) = purchase["items"]
    assert item["status"] == "in_stock"
    assert item["register_number"] == 1
    assert item["label_code"].startswith("2042")  # restricted-circulation prefix 2 + store 042
    assert ean.is_valid(item["label_code"])
    assert table_counts(node) == {
        "purchases": 1,
        "items": 1,
        "police_register": 1,
        "outbox": 1,
        "watchlist_alerts": 0,
    }
    with node.engine.connect() as conn:
        event = conn.execute(select(t.outbox)).one()
        who = conn.execute(select(t.items.c.created_by)).scalar_one()
    assert event.seq == 1
    assert event.type == "PurchaseRecorded"
    assert event.payload["items"][0]["label_code"] == item["label_code"]
    assert "document" not in str(event.payload)  # the ID document stays in the store register
    assert who == purchase["staff_id"]


def test_label_shows_article_grade_price_and_register_order_number(client, login, article_id):
    purchase = client.post(
        "/api/v1/purchases",
        json=purchase_body(
            [
                {
                    "article_id": article_id("playstation 5 standard"),
                    "grade": "A",
                    "agreed_price_cents": 8000,  # the argus' offer
                    "asking_price_cents": 39900,
                }
            ]
        ),
        headers=login("acheteur"),
    ).json()
    item = purchase["items"][0]
    svg = client.get(item["label_svg_url"], headers=login("caissier"))
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    text = " ".join(node.text or "" for node in ElementTree.fromstring(svg.text).iter())
    assert "PlayStation 5" in text
    assert "Grade A" in text
    assert "399,00" in text
    assert f"Registre n° {item['register_number']}" in text
    png = client.get(item["label_png_url"], headers=login("caissier"))
    assert png.status_code == 200
    assert png.content.startswith(b"\x89PNG")


def test_objects_of_60_eur_or_less_share_one_lot_entry(client, login, article_id, node):
    game = article_id("mario kart")
    console = article_id("playstation 5 standard")
    lines = [  # at the argus' offers
        {"article_id": game, "grade": "B", "agreed_price_cents": 450},
        {"article_id": game, "grade": "C", "agreed_price_cents": 350},
        {"article_id": console, "grade": "B", "agreed_price_cents": 6250, "serial_number": "XKJ1"},
    ]
    purchase = client.post(
        "/api/v1/purchases", json=purchase_body(lines), headers=login("acheteur")
    ).json()
    assert purchase["register_entries"] == [
        {"book": "general", "number": 1},
        {"book": "general", "number": 2},
    ]
    numbers = sorted(i["register_number"] for i in purchase["items"])
    assert numbers == [1, 1, 2]  # the two games are lot no. 1, the console entry no. 2


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"birth_date": "2010-01-01"}, "seller_under_18", "seller.birth_date"),
        (
            {
                "document": {
                    "type": "passport",
                    "number": "18AB12345",
                    "issued_on": "2010-01-01",
                    "issuing_authority": "Préfecture du Rhône",
                    "expires_on": "2020-01-01",
                }
            },
            "identity_document_expired",
            "seller.document.expires_on",
        ),
        ({"address": "   "}, "identity_field_missing", "seller.address"),
    ],
)
def test_seller_the_law_forbids_is_refused_and_nothing_is_written(
    client, login, article_id, node, change, code, field
):
    response = client.post(
        "/api/v1/purchases",
        json=purchase_body(
            [{"article_id": article_id("iphone 12"), "grade": "B", "agreed_price_cents": 10000}],
            seller=seller(**change),
        ),
        headers=login("acheteur"),
    )
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert response.json()["field"] == field
    assert set(table_counts(node).values()) == {0}


def test_purchase_over_1000_eur_cannot_be_paid_cash(client, login, article_id, node):
    tv = article_id("lg oled")  # the argus offers 254.50 EUR for one in grade A
    response = client.post(
        "/api/v1/purchases",
        json=purchase_body(
            [
                {"article_id": tv, "grade": "A", "agreed_price_cents": price}
                for price in (25_000, 25_000, 25_000, 25_001)
            ]
        ),
        headers=login("acheteur"),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "cash_limit_exceeded"
    assert set(table_counts(node).values()) == {0}


def test_purchase_over_1000_eur_is_paid_by_transfer(client, login, article_id):
    response = client.post(
        "/api/v1/purchases",
        json=purchase_body(
            [{"article_id": article_id("lg oled"), "grade": "A", "agreed_price_cents": 24_000}] * 5,
            payment={
                "method": "bank_transfer",
                "account_holder": "Sophie Martin",
                "iban": "FR14 2004 1010 0505 0001 3M02 606",
            },
        ),
        headers=login("acheteur"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["payment_method"] == "bank_transfer"


def test_a_purchase_split_to_stay_under_the_cash_cap_is_refused(
    client, login, article_id, node, clock
):
    laptop = article_id("thinkpad")  # the argus offers 221.50 EUR in grade A, 174.50 in B
    first = purchase_body([{"article_id": laptop, "grade": "A", "agreed_price_cents": 22_000}] * 3)
    assert (
        client.post("/api/v1/purchases", json=first, headers=login("acheteur")).status_code == 201
    )
    clock.advance(timedelta(hours=2))
    second = purchase_body([{"article_id": laptop, "grade": "B", "agreed_price_cents": 17_450}] * 2)
    response = client.post("/api/v1/purchases", json=second, headers=login("acheteur"))
    assert response.status_code == 422
    assert response.json()["code"] == "cash_split_suspected"
    assert table_counts(node)["purchases"] == 1
    clock.advance(timedelta(days=2))  # outside the window, a new purchase is a new purchase
    token = client.post(
        "/api/v1/auth/token", json={"username": "acheteur", "password": DEMO_PASSWORD}
    ).json()["access_token"]
    again = client.post(
        "/api/v1/purchases", json=second, headers={"Authorization": f"Bearer {token}"}
    )
    assert again.status_code == 201


def test_precious_metals_are_never_paid_cash(client, login, article_id, node):
    ring = article_id("bague or")
    line = {
        "article_id": ring,
        "grade": "B",
        "agreed_price_cents": 2_000,  # the argus offers 21.50 EUR
        "weight_grams": "3.2",
        "fineness": 750,
    }
    response = client.post(
        "/api/v1/purchases", json=purchase_body([line]), headers=login("acheteur")
    )
    assert response.status_code == 422
    assert response.json()["code"] == "precious_metal_cash_forbidden"
    assert set(table_counts(node).values()) == {0}


def test_precious_metals_go_to_their_own_register_and_are_held_48_hours(
    client, login, article_id, clock
):
    ring = article_id("bague or")
    line = {
        "article_id": ring,
        "grade": "B",
        "agreed_price_cents": 2_000,  # the argus offers 21.50 EUR
        "weight_grams": "3.2",
        "fineness": 750,
    }
    response = client.post(
        "/api/v1/purchases",
        json=purchase_body(
            [line],
            payment={
                "method": "bank_transfer",
                "account_holder": "Mme Sophie MARTIN",
                "iban": "FR1420041010050500013M02606",
            },
        ),
        headers=login("acheteur"),
    )
    assert response.status_code == 201, response.text
    purchase = response.json()
    assert purchase["register_entries"] == [{"book": "precious_metals", "number": 1}]
    held_until = purchase["items"][0]["resale_blocked_until"]
    assert held_until.startswith((clock.now() + timedelta(hours=48)).date().isoformat())


def test_precious_metals_paid_to_someone_elses_account_are_refused(client, login, article_id):
    line = {
        "article_id": article_id("chaine or"),
        "grade": "A",
        "agreed_price_cents": 4_500,  # the argus offers 46.00 EUR
        "weight_grams": "8",
        "fineness": 750,
    }
    response = client.post(
        "/api/v1/purchases",
        json=purchase_body(
            [line],
            payment={
                "method": "bank_transfer",
                "account_holder": "Jean Dupont",
                "iban": "FR1420041010050500013M02606",
            },
        ),
        headers=login("acheteur"),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "account_not_in_seller_name"


def test_imei_with_a_wrong_check_digit_is_refused(client, login, article_id, node):
    response = client.post(
        "/api/v1/purchases",
        json=purchase_body(
            [
                {
                    "article_id": article_id("iphone 12"),
                    "grade": "B",
                    "agreed_price_cents": 10000,
                    "imei": "490154203237519",
                }
            ]
        ),
        headers=login("acheteur"),
    )
    assert response.status_code == 422
    assert response.json() | {"detail": None} == {
        "type": "urn:recommerce:problem:invalid_imei",
        "title": "Unprocessable content",
        "status": 422,
        "detail": None,
        "code": "invalid_imei",
        "field": "lines[0].imei",
        "instance": "/api/v1/purchases",
    }
    assert set(table_counts(node).values()) == {0}


def test_serial_on_the_watchlist_refuses_the_purchase_and_alerts_the_manager(
    client, login, article_id, node
):
    imported = client.post(
        "/api/v1/watchlist/import",
        content=f"imei,source,reference\n{VALID_IMEI},Commissariat Lyon 2e,PV-2026-118\n",
        headers={**login("gerant"), "content-type": "text/csv"},
    )
    assert imported.json() == {"imported": 1}
    response = client.post(
        "/api/v1/purchases",
        json=purchase_body(
            [
                {
                    "article_id": article_id("iphone 12"),
                    "grade": "B",
                    "agreed_price_cents": 20000,
                    "imei": VALID_IMEI,
                }
            ]
        ),
        headers=login("acheteur"),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "serial_on_watchlist"
    counts = table_counts(node)
    assert (counts["purchases"], counts["items"], counts["police_register"], counts["outbox"]) == (
        0,
        0,
        0,
        0,
    )
    alerts = client.get("/api/v1/watchlist/alerts", headers=login("gerant")).json()
    assert len(alerts) == 1
    assert alerts[0]["serials"] == [VALID_IMEI]
    assert alerts[0]["details"][0]["reference"] == "PV-2026-118"
    assert client.get("/api/v1/watchlist/alerts", headers=login("acheteur")).status_code == 403


def test_unknown_article_in_a_line_names_the_line(client, login, node):
    response = client.post(
        "/api/v1/purchases",
        json=purchase_body([{"article_id": "nope", "grade": "B", "agreed_price_cents": 1000}]),
        headers=login("acheteur"),
    )
    assert response.status_code == 422
    assert response.json()["field"] == "lines[0].article_id"
    assert set(table_counts(node).values()) == {0}


def test_malformed_purchase_gets_a_problem_naming_the_field(client, login, node):
    body = purchase_body([{"article_id": "x", "grade": "Z", "agreed_price_cents": -5}])
    response = client.post("/api/v1/purchases", json=body, headers=login("acheteur"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert {e["field"] for e in problem["errors"]} >= {
        "lines[0].grade",
        "lines[0].agreed_price_cents",
    }
    assert set(table_counts(node).values()) == {0}


def test_cashier_may_not_buy_from_the_public(client, login, article_id):
    response = client.post(
        "/api/v1/purchases",
        json=purchase_body(
            [{"article_id": article_id("iphone 12"), "grade": "B", "agreed_price_cents": 1000}]
        ),
        headers=login("caissier"),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_api_refuses_requests_without_a_token(client):
    response = client.get("/api/v1/items")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["www-authenticate"] == "Bearer"


def test_precious_metals_purchase_comes_with_a_contract_and_withdrawal_form(
    client, login, article_id
):
    line = {
        "article_id": article_id("bague or"),
        "grade": "B",
        "agreed_price_cents": 2_000,  # the argus offers 21.50 EUR
        "weight_grams": "3.2",
        "fineness": 750,
    }
    purchase = client.post(
        "/api/v1/purchases",
        json=purchase_body(
            [line],
            payment={
                "method": "cheque",
                "account_holder": "Sophie Martin",
                "crossed": True,
            },
        ),
        headers=login("acheteur"),
    ).json()
    contract = client.get(
        f"/api/v1/purchases/{purchase['id']}/contract.pdf", headers=login("acheteur")
    )
    assert contract.status_code == 200
    assert contract.headers["content-type"] == "application/pdf"
    assert contract.content.startswith(b"%PDF")


def test_a_purchase_without_precious_metals_has_no_contract(client, login, article_id):
    purchase = client.post(
        "/api/v1/purchases",
        json=purchase_body(
            [{"article_id": article_id("iphone 12"), "grade": "B", "agreed_price_cents": 9000}]
        ),
        headers=login("acheteur"),
    ).json()
    response = client.get(
        f"/api/v1/purchases/{purchase['id']}/contract.pdf", headers=login("acheteur")
    )
    assert response.status_code == 404


def test_nul_characters_are_refused_everywhere_with_a_problem(client, login, article_id, node):
    headers = login("gerant")
    body = purchase_body(
        [{"article_id": article_id("iphone 12"), "grade": "B", "agreed_price_cents": 9000}],
        seller=seller(surname="Mar\x00tin"),
    )
    refused = [
        client.post("/api/v1/purchases", json=body, headers=headers),
        client.get("/api/v1/articles", params={"q": "a\x00b"}, headers=headers),
        client.get("/api/v1/items/20420%0000001", headers=headers),
        client.post("/api/v1/auth/token", json={"username": "a\x00", "password": "x"}),
        client.post(
            "/api/v1/watchlist/import",
            content="serial\nAB\x00C\n",
            headers={**headers, "content-type": "text/csv"},
        ),
    ]
    assert [r.status_code for r in refused] == [422] * 5
    assert {r.headers["content-type"] for r in refused} == {"application/problem+json"}
    assert set(table_counts(node).values()) == {0}


def test_seller_turning_18_today_in_the_stores_time_zone_may_sell(client, login, article_id, clock):
    # 23:30 UTC on 20 November is already 21 November in Paris: the seller is 18 there.
    clock.advance(timedelta(hours=13))
    token = client.post(
        "/api/v1/auth/token", json={"username": "acheteur", "password": DEMO_PASSWORD}
    ).json()["access_token"]
    response = client.post(
        "/api/v1/purchases",
        json=purchase_body(
            [{"article_id": article_id("iphone 12"), "grade": "B", "agreed_price_cents": 9000}],
            seller=seller(birth_date="2008-11-21"),
        ),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
