"""Request bodies and database counts shared by the integration tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from recommerce.store.bootstrap import StoreNode


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
