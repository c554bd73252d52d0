"""Request bodies and database counts shared by the integration tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from recommerce.store.bootstrap import StoreNode
from recommerce.sync.events import SCHEMA_VERSION
from recommerce.sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION, SCHEMA_HEADER


def seller(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "surname": "Martin",
        "first_names": "Sophie Anne",
        "birth_date": "1985-03-14",
        "address": "12 rue Mercière, 69002 Lyon",
        "document": {
            "type": "national_id",
            "number": "T7X2K9LM4",
            "issued_on": "2021-06-01",
            "issuing_authority": "Préfecture du Rhône",
            "expires_on": "2031-06-01",
        },
    }
    body.update(overrides)
    return body


def purchase_body(lines: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"seller": seller(), "payment": {"method": "cash"}, "lines": lines}
    body.update(overrides)
    return body


def table_counts(node: StoreNode) -> dict[str, int]:
    names = ["purchases", "items", "police_register", "outbox", "watchlist_alerts"]
    with node.engine.connect() as conn:
        return {n: conn.execute(text(f"SELECT COUNT(*) FROM {n}")).scalar_one() for n in names}


# --- central: a registered and enrolled store ---------------------------------------------------


def enrolment_code(client: Any, admin: dict[str, str], number: int) -> str:
    """Register store `number` at central (as its admin) and take a one-time enrolment code."""
    response = client.post(
        "/api/v1/stores",
        json={"number": number, "name": f"Magasin {number}", "city": "Lyon"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    response = client.post(f"/api/v1/stores/{number}/enrolment-codes", headers=admin)
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


def enrol(client: Any, number: int, code: str, *, protocol: int = PROTOCOL_VERSION) -> Any:
    """The store's enrolment call, as the store sends it."""
    return client.post(
        "/api/v1/sync/enrol",
        json={"store_number": number, "code": code},
        headers={PROTOCOL_HEADER: str(protocol)},
    )


def enrolled_store_headers(client: Any, admin: dict[str, str], number: int) -> dict[str, str]:
    """Register and enrol store `number`; the headers of its sync calls (credential, versions)."""
    response = enrol(client, number, enrolment_code(client, admin, number))
    assert response.status_code == 201, response.text
    return {
        "Authorization": f"Bearer {response.json()['credential']}",
        PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        SCHEMA_HEADER: str(SCHEMA_VERSION),
    }
