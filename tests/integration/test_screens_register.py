"""The police register screen: consulted by a manager with a reason, each consultation logged
(business-rules A.5), exported for the police as CSV and PDF (A.6), refused to a cashier."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from test_screens_stock import alerts, bought, log_in, said, unlabelled_fields

from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t

Headers = Callable[[str], dict[str, str]]
REASON = "Réquisition du commissariat n° 2026-118"


def consultations(node: StoreNode) -> list[Any]:
    with node.reading() as conn:
        return list(
            conn.execute(
                select(t.register_consultations, t.staff.c.username)
                .join(t.staff, t.staff.c.id == t.register_consultations.c.staff_id)
                .order_by(t.register_consultations.c.at)
            ).all()
        )


def test_a_stranger_is_sent_to_the_login_page(client: TestClient) -> None:
    for path in ("/register", "/register/export.csv", "/register/export.pdf"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"


def test_a_cashier_may_not_consult_the_register(
    client: TestClient, login: Headers, article_id: Callable[[str], str], node: StoreNode
) -> None:
    bought(client, login, article_id)
    log_in(client, "caissier")
    for path in ("/register", "/register/export.csv", "/register/export.pdf"):
        refused = client.get(path, params={"reason": REASON})
        assert refused.status_code == 403
        assert alerts(refused.text) == 1
        assert "Vous n'êtes pas autorisé à faire cela." in said(refused)
        assert "MARTIN" not in refused.text and 'id="register-reason"' not in refused.text
    assert consultations(node) == []


def test_a_manager_consults_the_register_and_the_consultation_is_logged(
    client: TestClient, login: Headers, article_id: Callable[[str], str], node: StoreNode
) -> None:
    (label,) = bought(client, login, article_id)
    log_in(client, "gerant")
    form = client.get("/register")
    assert form.status_code == 200
    assert unlabelled_fields(form.text) == []
    assert consultations(node) == []  # the form alone consults nothing

    found = client.get("/register", params={"reason": REASON, "date_from": "2026-11-20"})
    assert found.status_code == 200
    assert "MARTIN Sophie Anne" in found.text and label in found.text
    assert 'id="entry-general-1"' in found.text
    (logged,) = consultations(node)
    assert (logged.username, logged.action, logged.reason, logged.results) == (
        "gerant",
        "search",
        REASON,
        1,
    )
    assert logged.query["date_from"] == "2026-11-20"
    assert REASON in said(client.get("/register"))  # the latest consultations, shown

    later = client.get("/register", params={"reason": REASON, "date_from": "2026-11-21"})
    assert "MARTIN" not in later.text
    assert consultations(node)[-1].results == 0


def test_a_consultation_without_a_reason_or_with_a_mistyped_date_is_refused(
    client: TestClient, login: Headers, article_id: Callable[[str], str], node: StoreNode
) -> None:
    bought(client, login, article_id)
    log_in(client, "gerant")
    no_reason = client.get("/register", params={"reason": " ", "lang": "en"})
    assert no_reason.status_code == 422
    assert alerts(no_reason.text) == 1
    assert "Say why the register is consulted" in said(no_reason)
    bad_day = client.get("/register", params={"reason": REASON, "date_from": "20/11/2026"})
    assert bad_day.status_code == 422
    assert "is not a date" in said(bad_day)
    assert REASON in said(bad_day)  # what was typed stays in the form
    assert consultations(node) == []


def test_the_register_is_exported_as_csv_and_pdf_and_each_export_is_logged(
    client: TestClient, login: Headers, article_id: Callable[[str], str], node: StoreNode
) -> None:
    (label,) = bought(client, login, article_id)
    log_in(client, "gerant")
    csv = client.get("/register/export.csv", params={"reason": REASON, "book": "general"})
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.headers["content-disposition"].startswith("attachment")
    assert label in csv.text
    pdf = client.get("/register/export.pdf", params={"reason": REASON})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert [(c.action, c.reason) for c in consultations(node)] == [
        ("export_csv", REASON),
        ("export_pdf", REASON),
    ]
    refused = client.get("/register/export.csv", params={"reason": ""})
    assert refused.status_code == 422
    assert alerts(refused.text) == 1
    assert len(consultations(node)) == 2


def test_the_register_page_reads_in_english(client: TestClient) -> None:
    log_in(client, "admin")
    english = client.get("/register", params={"lang": "en"})
    assert "Reason for consulting" in english.text and "Export as PDF" in english.text
    french = client.get("/register", params={"lang": "fr"})
    assert "Motif de la consultation" in french.text
