"""The police register over HTTP: append-only in the database, consulted only by a manager
who says why (every consultation logged), searched by serial, seller and date, corrected by
new linked entries, numbered per book without gaps, exported for the police as CSV and PDF
(business-rules A.2 to A.8, F.24)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from helpers import purchase_body, seller
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from recommerce.buyback.seller import DocumentType, IdentityDocument, SellerIdentity
from recommerce.money import Money
from recommerce.registers.export import CSV_COLUMNS
from recommerce.registers.police import EntryKind, RegisterBook, RegisteredObject, RegisterEntry
from recommerce.store.db import tables as t
from recommerce.store.seed import DEMO_PASSWORD

REGISTER = "/api/v1/police-register"
REASON = "Réquisition OPJ, commissariat de Lyon 2e, PV 2026/118"
DOCUMENT_NUMBER = "T7X2K9LM4"  # helpers.seller()'s identity document
VALID_IMEI = "490154203237518"
TRANSFER = {
    "method": "bank_transfer",
    "account_holder": "Sophie Martin",
    "iban": "FR1420041010050500013M02606",
}


@pytest.fixture
def article_id(article_id):
    """The conftest's look-up, remembered: it logs in once, and tokens die when the clock moves."""
    found = {}

    def find(query):
        if query not in found:
            found[query] = article_id(query)
        return found[query]

    return find


def fresh_headers(client, username):
    """A new bearer token, for after the clock has moved past the 12-hour token life."""
    response = client.post(
        "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def buy(client, headers, lines, **overrides):
    response = client.post(
        "/api/v1/purchases", json=purchase_body(lines, **overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def phone(article_id, price=10_000, **extra):  # the argus offers 104.00 EUR
    return {
        "article_id": article_id("iphone 12"),
        "grade": "B",
        "agreed_price_cents": price,
        **extra,
    }


def jewel(article_id, query="bague or", price=2_000):  # the argus offers 21.50 EUR
    return {
        "article_id": article_id(query),
        "grade": "B",
        "agreed_price_cents": price,
        "weight_grams": "3.2",
        "fineness": 750,
    }


def consultations(node):
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(t.register_consultations).order_by(t.register_consultations.c.at)
        ).all()
    return [row._mapping for row in rows]


def register_row(node, book, number):
    with node.engine.connect() as conn:
        row = conn.execute(
            select(t.police_register).where(
                t.police_register.c.book == book, t.police_register.c.number == number
            )
        ).one()
    return dict(row._mapping)


def numbers(entries):
    return [(e["book"], e["number"]) for e in entries]


# --- append-only ---------------------------------------------------------------------------


APPEND_ONLY_VIOLATIONS = [
    "UPDATE police_register SET seller_name = 'quelqu''un d''autre', total_cents = 1",
    "UPDATE police_register SET number = 99 WHERE number = 1",
    "DELETE FROM police_register",
    "DELETE FROM police_register WHERE book = 'general' AND number = 1",
]


def test_the_database_refuses_to_edit_or_delete_a_register_entry(client, login, article_id, node):
    buy(client, login("acheteur"), [phone(article_id, imei=VALID_IMEI)])
    before = register_row(node, "general", 1)
    for statement in APPEND_ONLY_VIOLATIONS:
        with pytest.raises(DBAPIError, match="append-only"), node.engine.begin() as conn:
            conn.execute(text(statement))
        assert register_row(node, "general", 1) == before, statement


def test_the_database_refuses_to_truncate_the_register_on_postgresql(
    client, login, article_id, node
):
    if node.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is a PostgreSQL statement; SQLite only knows DELETE")
    buy(client, login("acheteur"), [phone(article_id)])
    with pytest.raises(DBAPIError, match="append-only"), node.engine.begin() as conn:
        conn.execute(text("TRUNCATE police_register CASCADE"))
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.police_register)).scalar_one() == 1


# --- who may consult, and why --------------------------------------------------------------


READ_PATHS = [
    REGISTER,
    f"{REGISTER}/general/1",
    f"{REGISTER}/export.csv",
    f"{REGISTER}/export.pdf",
]


def test_consulting_the_register_needs_a_reason(client, login, article_id, node):
    buy(client, login("acheteur"), [phone(article_id)])
    for path in READ_PATHS:
        for params in ({}, {"reason": ""}, {"reason": "   "}):
            response = client.get(path, params=params, headers=login("gerant"))
            assert response.status_code == 422, (path, params)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["field"] == "reason"
    assert consultations(node) == []


def test_only_a_manager_may_consult_the_register(client, login, article_id, node):
    buy(client, login("acheteur"), [phone(article_id)])
    for path in READ_PATHS:
        for username in ("acheteur", "caissier"):
            response = client.get(path, params={"reason": REASON}, headers=login(username))
            assert response.status_code == 403, (path, username)
            assert response.json()["code"] == "forbidden"
            assert DOCUMENT_NUMBER not in response.text
    assert consultations(node) == []
    for path in READ_PATHS:
        assert (
            client.get(path, params={"reason": REASON}, headers=login("gerant")).status_code == 200
        )
    assert len(consultations(node)) == len(READ_PATHS)


def test_every_consultation_is_logged_with_who_when_what_and_why(
    client, login, article_id, node, clock
):
    buy(client, login("acheteur"), [phone(article_id, serial_number="XKJ-1")])
    manager = login("gerant")
    staff_id = client.get("/api/v1/auth/me", headers=manager).json()["id"]
    started = clock.now()
    consulted = [
        (REGISTER, {"serial": "xkj1"}),
        (f"{REGISTER}/general/1", {}),
        (f"{REGISTER}/export.csv", {"date_from": "2026-11-01", "date_to": "2026-11-30"}),
        (f"{REGISTER}/export.pdf", {"seller": "martin"}),
    ]
    for path, params in consulted:
        clock.advance(timedelta(minutes=1))
        response = client.get(path, params={"reason": REASON, **params}, headers=manager)
        assert response.status_code == 200, response.text

    logged = consultations(node)
    assert [c["action"] for c in logged] == ["search", "view", "export_csv", "export_pdf"]
    assert [c["at"] for c in logged] == [started + timedelta(minutes=n) for n in (1, 2, 3, 4)]
    assert {c["staff_id"] for c in logged} == {staff_id}
    assert {c["reason"] for c in logged} == {REASON}
    assert logged[0]["query"]["serial"] == "xkj1"
    assert logged[1]["query"] == {"book": "general", "number": 1}
    assert logged[2]["query"]["date_from"] == "2026-11-01"
    assert logged[2]["query"]["date_to"] == "2026-11-30"
    assert logged[3]["query"]["seller"] == "martin"
    assert [c["results"] for c in logged] == [1, 1, 1, 1]


def test_viewing_an_unknown_entry_is_a_404_problem_and_is_not_logged_as_a_view(client, login, node):
    response = client.get(
        f"{REGISTER}/general/7", params={"reason": REASON}, headers=login("gerant")
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "register_entry_not_found"
    assert consultations(node) == []


# --- searching -----------------------------------------------------------------------------


def test_search_by_serial_number_ignores_case_spaces_and_dashes(client, login, article_id):
    buyer = login("acheteur")
    console = {
        "article_id": article_id("switch oled"),
        "grade": "B",
        "agreed_price_cents": 4_700,  # the argus' offer
        "serial_number": "abc-1",
    }
    buy(client, buyer, [console])
    buy(client, buyer, [phone(article_id, imei=VALID_IMEI)])
    manager = login("gerant")

    found = client.get(REGISTER, params={"reason": REASON, "serial": "abc 1"}, headers=manager)
    assert found.status_code == 200
    assert numbers(found.json()) == [("general", 1)]
    assert found.json()[0]["objects"][0]["serials"] == ["ABC1"]
    by_imei = client.get(REGISTER, params={"reason": REASON, "serial": VALID_IMEI}, headers=manager)
    assert numbers(by_imei.json()) == [("general", 2)]
    nothing = client.get(REGISTER, params={"reason": REASON, "serial": "ABC2"}, headers=manager)
    assert nothing.json() == []


def test_search_by_seller_ignores_case_and_accents(client, login, article_id):
    buyer = login("acheteur")
    buy(client, buyer, [phone(article_id)])
    other = seller(
        surname="Lefèvre",
        first_names="Éloïse",
        document={
            "type": "passport",
            "number": "18AB12345",
            "issued_on": "2020-01-01",
            "issuing_authority": "Préfecture de l'Isère",
        },
    )
    buy(client, buyer, [phone(article_id, price=10_400)], seller=other)
    manager = login("gerant")

    def search(query):
        response = client.get(REGISTER, params={"reason": REASON, "seller": query}, headers=manager)
        assert response.status_code == 200, response.text
        return response.json()

    for query in ("martin", "MARTIN", "MARTÍN", "Martín sophie", "  martin   SOPHIE "):
        found = search(query)
        assert numbers(found) == [("general", 1)], query
        assert found[0]["seller"]["surname"] == "Martin"
    for query in ("lefevre", "LEFÈVRE", "Lefèvre Éloïse", "eloise"):
        assert numbers(search(query)) == [("general", 2)], query
    assert search("dupont") == []


def test_search_by_seller_treats_wildcards_as_plain_characters(client, login, article_id):
    buy(client, login("acheteur"), [phone(article_id)])
    for query in ("%", "_"):
        found = client.get(
            REGISTER, params={"reason": REASON, "seller": query}, headers=login("gerant")
        )
        assert found.json() == [], query


def test_search_by_date_range(client, login, article_id, clock):
    article_id("iphone 12")
    buy(client, login("acheteur"), [phone(article_id)])  # 20 November
    clock.advance(timedelta(days=3))
    buy(client, fresh_headers(client, "acheteur"), [phone(article_id, price=10_400)])  # 23rd
    clock.advance(timedelta(days=3))
    buy(client, fresh_headers(client, "acheteur"), [phone(article_id, price=9_000)])  # 26th
    manager = fresh_headers(client, "gerant")

    def search(**params):
        response = client.get(REGISTER, params={"reason": REASON, **params}, headers=manager)
        assert response.status_code == 200, response.text
        return [e["number"] for e in response.json()]

    assert search(date_from="2026-11-21", date_to="2026-11-25") == [2]
    assert search(date_from="2026-11-23", date_to="2026-11-23") == [2]
    assert search(date_from="2026-11-23") == [2, 3]
    assert search(date_to="2026-11-20") == [1]
    assert search(date_from="2026-11-27") == []
    assert search() == [1, 2, 3]
    backwards = client.get(
        REGISTER,
        params={"reason": REASON, "date_from": "2026-11-25", "date_to": "2026-11-21"},
        headers=manager,
    )
    assert backwards.status_code == 422
    assert backwards.json()["field"] == "date_from"


def test_search_by_date_uses_the_stores_local_day(client, login, article_id, clock):
    article_id("iphone 12")
    clock.advance(timedelta(hours=13))  # 20 November 23:30 UTC = 21 November 00:30 in Paris
    buy(client, fresh_headers(client, "acheteur"), [phone(article_id)])
    manager = fresh_headers(client, "gerant")
    on_the_21st = client.get(
        REGISTER,
        params={"reason": REASON, "date_from": "2026-11-21", "date_to": "2026-11-21"},
        headers=manager,
    )
    assert [e["number"] for e in on_the_21st.json()] == [1]


# --- identity at rest ----------------------------------------------------------------------


def test_identity_document_number_is_shown_to_the_manager_but_stored_encrypted(
    client, login, article_id, node
):
    buy(client, login("acheteur"), [phone(article_id)])
    entry = client.get(f"{REGISTER}/general/1", params={"reason": REASON}, headers=login("gerant"))
    assert entry.json()["seller"]["document_number"] == DOCUMENT_NUMBER
    assert entry.json()["seller"]["document_issuing_authority"] == "Préfecture du Rhône"
    with node.engine.connect() as conn:
        raw = conn.execute(text("SELECT CAST(seller AS TEXT) FROM police_register")).scalar_one()
        stored = conn.execute(select(t.police_register.c.seller)).scalar_one()
    assert DOCUMENT_NUMBER not in raw
    assert DOCUMENT_NUMBER.lower() not in raw.lower()
    assert "number" not in stored["document"]
    assert stored["document"]["number_encrypted"]


# --- corrections ---------------------------------------------------------------------------


def correct(client, headers, number, body, book="general"):
    return client.post(f"{REGISTER}/{book}/{number}/corrections", json=body, headers=headers)


def test_a_correction_is_a_new_entry_linked_to_the_original_which_stays_unchanged(
    client, login, article_id, node
):
    purchase = buy(client, login("acheteur"), [phone(article_id, imei=VALID_IMEI)])
    buy(client, login("acheteur"), [phone(article_id, price=9_000)])  # entry 2
    label = purchase["items"][0]["label_code"]
    manager = login("gerant")
    original = client.get(f"{REGISTER}/general/1", params={"reason": REASON}, headers=manager)
    raw_original = register_row(node, "general", 1)

    response = correct(
        client,
        manager,
        1,
        {
            "reason": "description incomplète : rayure profonde oubliée",
            "objects": [{"label_code": label, "description": "rayure profonde au dos"}],
        },
    )
    assert response.status_code == 201, response.text
    correction = response.json()
    manager_id = client.get("/api/v1/auth/me", headers=manager).json()["id"]
    assert correction["book"] == "general"
    assert correction["number"] == 3
    assert correction["corrects"] == 1
    assert correction["kind"] == "correction"
    assert correction["reason"] == "description incomplète : rayure profonde oubliée"
    assert correction["recorded_by"] == manager_id
    assert correction["objects"][0]["description"] == "rayure profonde au dos"
    assert correction["objects"][0]["serials"] == [VALID_IMEI]
    assert correction["seller"] == original.json()["seller"]

    again = client.get(f"{REGISTER}/general/1", params={"reason": REASON}, headers=manager)
    assert again.json() == original.json()
    assert register_row(node, "general", 1) == raw_original
    listed = client.get(REGISTER, params={"reason": REASON}, headers=manager).json()
    assert [(e["number"], e["corrects"]) for e in listed] == [(1, None), (2, None), (3, 1)]


def test_a_correction_of_the_seller_keeps_the_document_number_encrypted(
    client, login, article_id, node
):
    buy(client, login("acheteur"), [phone(article_id)])
    moved = seller(address="3 place Bellecour, 69002 Lyon")
    response = correct(
        client, login("gerant"), 1, {"reason": "adresse mal recopiée", "seller": moved}
    )
    assert response.status_code == 201, response.text
    assert response.json()["seller"]["address"] == "3 place Bellecour, 69002 Lyon"
    assert response.json()["seller"]["document_number"] == DOCUMENT_NUMBER
    raw = register_row(node, "general", 2)["seller"]
    assert DOCUMENT_NUMBER not in str(raw)
    assert register_row(node, "general", 1)["seller"]["address"] == "12 rue Mercière, 69002 Lyon"


def test_a_correction_needs_a_reason(client, login, article_id, node):
    purchase = buy(client, login("acheteur"), [phone(article_id)])
    change = {"objects": [{"label_code": purchase["items"][0]["label_code"], "description": "x"}]}
    for reason in ({}, {"reason": ""}, {"reason": "   "}):
        response = correct(client, login("gerant"), 1, {**reason, **change})
        assert response.status_code == 422, reason
        assert response.json()["field"] == "reason"
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.police_register)).scalar_one() == 1


def test_a_correction_that_changes_nothing_or_names_a_foreign_object_is_refused(
    client, login, article_id
):
    buy(client, login("acheteur"), [phone(article_id)])
    nothing = correct(client, login("gerant"), 1, {"reason": "pour voir"})
    assert nothing.status_code == 422
    assert nothing.json()["code"] == "invalid_input"
    foreign = correct(
        client,
        login("gerant"),
        1,
        {"reason": "erreur", "objects": [{"label_code": "2042000009999", "description": "x"}]},
    )
    assert foreign.status_code == 422
    assert foreign.json()["field"] == "objects[0].label_code"


def test_a_buyer_may_not_correct_the_register(client, login, article_id, node):
    purchase = buy(client, login("acheteur"), [phone(article_id)])
    label = purchase["items"][0]["label_code"]
    response = correct(
        client,
        login("acheteur"),
        1,
        {"reason": "erreur", "objects": [{"label_code": label, "description": "autre chose"}]},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    with node.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.police_register)).scalar_one() == 1


def test_a_buyer_learns_nothing_about_an_entry_by_trying_to_correct_it(client, login, article_id):
    buy(client, login("acheteur"), [phone(article_id)])
    response = correct(
        client,
        login("acheteur"),
        1,
        {"reason": "erreur", "objects": [{"label_code": "2042000009999", "description": "x"}]},
    )
    assert response.status_code == 403


def test_correcting_an_unknown_entry_is_a_404_problem(client, login, article_id):
    buy(client, login("acheteur"), [phone(article_id)])
    response = correct(
        client,
        login("gerant"),
        5,
        {"reason": "erreur", "seller": seller(address="3 place Bellecour, 69002 Lyon")},
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "register_entry_not_found"
    assert response.json()["field"] == "number"
    missing_book = correct(client, login("gerant"), 1, {"reason": "x"}, book="precious_metals")
    assert missing_book.status_code == 404


def test_a_correction_is_announced_in_the_outbox(client, login, article_id, node):
    buy(client, login("acheteur"), [phone(article_id)])
    manager = login("gerant")
    response = correct(
        client,
        manager,
        1,
        {"reason": "adresse mal recopiée", "seller": seller(address="3 place Bellecour")},
    )
    assert response.status_code == 201, response.text
    with node.engine.connect() as conn:
        events = conn.execute(select(t.outbox).order_by(t.outbox.c.seq)).all()
    assert [(e.seq, e.type) for e in events] == [
        (1, "PurchaseRecorded"),
        (2, "RegisterEntryCorrected"),
    ]
    payload = events[1].payload
    assert payload["book"] == "general"
    assert payload["number"] == 2
    assert payload["corrects"] == 1
    assert payload["reason"] == "adresse mal recopiée"
    assert payload["staff_id"] == client.get("/api/v1/auth/me", headers=manager).json()["id"]
    assert DOCUMENT_NUMBER not in str(payload)


# --- numbering -----------------------------------------------------------------------------


def test_each_book_is_numbered_from_one_without_gaps(client, login, article_id, node):
    buyer = login("acheteur")
    game = article_id("mario kart")
    buy(client, buyer, [phone(article_id)])  # general 1
    buy(client, buyer, [jewel(article_id)], payment=TRANSFER)  # precious 1
    refused = client.post(
        "/api/v1/purchases",
        json=purchase_body([jewel(article_id, "chaine or", 3_500)]),  # cash: refused
        headers=buyer,
    )
    assert refused.status_code == 422
    buy(  # general 2 (lot of two games) and 3 (console)
        client,
        buyer,
        [
            {"article_id": game, "grade": "B", "agreed_price_cents": 450},
            {"article_id": game, "grade": "C", "agreed_price_cents": 350},
            {
                "article_id": article_id("playstation 5 standard"),
                "grade": "B",
                "agreed_price_cents": 6_250,
            },
        ],
    )
    mixed = buy(  # precious 2 and 3 (never grouped in lots), general 4
        client,
        buyer,
        [
            jewel(article_id, "bracelet argent", 700),
            jewel(article_id, "chaine or", 3_500),
            phone(article_id, price=9_000),
        ],
        payment=TRANSFER,
    )
    assert sorted(numbers(mixed["register_entries"])) == [
        ("general", 4),
        ("precious_metals", 2),
        ("precious_metals", 3),
    ]
    correction = correct(
        client,
        login("gerant"),
        2,
        {"reason": "titre mal lu", "seller": seller(address="3 place Bellecour")},
        book="precious_metals",
    )
    assert (correction.json()["book"], correction.json()["number"]) == ("precious_metals", 4)

    manager = login("gerant")
    for book, expected in (("general", [1, 2, 3, 4]), ("precious_metals", [1, 2, 3, 4])):
        found = client.get(REGISTER, params={"reason": REASON, "book": book}, headers=manager)
        assert [e["number"] for e in found.json()] == expected
        assert {e["book"] for e in found.json()} == {book}
    with node.engine.connect() as conn:
        rows = conn.execute(
            select(t.police_register.c.book, t.police_register.c.number).order_by(
                t.police_register.c.book, t.police_register.c.number
            )
        ).all()
        weights = conn.execute(
            select(t.police_register.c.objects).where(t.police_register.c.book == "precious_metals")
        ).scalars()
        assert all(o["weight_grams"] and o["fineness"] for objs in weights for o in objs)
    assert [tuple(r) for r in rows] == [("general", n) for n in range(1, 5)] + [
        ("precious_metals", n) for n in range(1, 5)
    ]


# --- exports -------------------------------------------------------------------------------


def read_csv(response):
    assert response.content.startswith("\ufeff".encode())  # Excel needs the BOM for UTF-8
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def test_csv_export_has_a_header_and_one_row_per_object_of_a_lot(client, login, article_id):
    game = article_id("mario kart")
    console = article_id("playstation 5 standard")  # the argus offers 62.50 EUR in grade B
    purchase = buy(
        client,
        login("acheteur"),
        [
            {"article_id": game, "grade": "B", "agreed_price_cents": 450},
            {"article_id": console, "grade": "B", "agreed_price_cents": 6_000},
        ],
    )
    assert numbers(purchase["register_entries"]) == [("general", 1)]
    response = client.get(
        f"{REGISTER}/export.csv", params={"reason": REASON}, headers=login("gerant")
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    header = response.content.decode("utf-8-sig").splitlines()[0].split(";")
    assert tuple(header) == CSV_COLUMNS
    rows = read_csv(response)
    assert len(rows) == 2
    assert {r["numero"] for r in rows} == {"1"}
    assert {r["piece_numero"] for r in rows} == {DOCUMENT_NUMBER}
    assert {r["vendeur_nom"] for r in rows} == {"Martin"}
    assert sorted(r["etiquette"] for r in rows) == sorted(
        i["label_code"] for i in purchase["items"]
    )
    assert sorted(r["prix_eur"] for r in rows) == ["4,50", "60,00"]


def test_csv_export_selects_like_the_search(client, login, article_id):
    buyer = login("acheteur")
    buy(client, buyer, [phone(article_id, serial_number="abc-1")])
    buy(client, buyer, [phone(article_id, price=9_000)])
    response = client.get(
        f"{REGISTER}/export.csv",
        params={"reason": REASON, "serial": "ABC1"},
        headers=login("gerant"),
    )
    assert [r["numero"] for r in read_csv(response)] == ["1"]


def test_pdf_export_is_a_pdf(client, login, article_id):
    buy(client, login("acheteur"), [phone(article_id, imei=VALID_IMEI)])
    response = client.get(
        f"{REGISTER}/export.pdf", params={"reason": REASON}, headers=login("gerant")
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response.content.rstrip().endswith(b"%%EOF")


def _append_entries(node, count):
    """Register entries written straight through the repository: quicker than purchases."""
    person = SellerIdentity(
        surname="Martin",
        first_names="Sophie",
        birth_date=date(1985, 3, 14),
        address="12 rue Mercière, 69002 Lyon",
        document=IdentityDocument(
            DocumentType.NATIONAL_ID, DOCUMENT_NUMBER, date(2021, 6, 1), "Préfecture du Rhône"
        ),
    )
    with node.uow() as uow:
        staff_id = uow.conn.execute(
            select(t.staff.c.id).where(t.staff.c.username == "acheteur")
        ).scalar_one()
        for _ in range(count):
            number = uow.register.next_number(RegisterBook.GENERAL)
            uow.register.append(
                RegisterEntry(
                    book=RegisterBook.GENERAL,
                    number=number,
                    recorded_at=node.clock.now(),
                    kind=EntryKind.ACQUISITION,
                    seller=person,
                    objects=(
                        RegisteredObject(
                            label_code=f"2042{number:09d}",
                            nature="Jeux vidéo",
                            characteristics="Nintendo Mario Kart 8 Deluxe, grade B",
                            description="",
                            provenance="achat à un particulier",
                            price=Money(1_000),
                        ),
                    ),
                    payment_method="cash",
                    payment_summary="espèces",
                    recorded_by=staff_id,
                    purchase_id=None,
                )
            )
        uow.commit()


def test_csv_export_for_the_police_is_never_silently_cut(client, login, node):
    _append_entries(node, 1_001)
    response = client.get(
        f"{REGISTER}/export.csv", params={"reason": REASON}, headers=login("gerant")
    )
    assert response.status_code == 200
    assert len(read_csv(response)) == 1_001


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_date_no_register_can_hold_is_a_typing_error(client, login, day):
    response = client.get(
        "/api/v1/police-register/export.csv",
        params={"reason": "contrôle", "date_to": day},
        headers=login("gerant"),
    )
    assert response.status_code == 422
    assert response.json()["field"] == "date_to"
