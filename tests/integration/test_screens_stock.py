"""The stock screens: search as one types, an item's page, its photos and its online listing,
a manager's moves and markdowns, in French and in English, every field with its label."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers import purchase_body
from test_marketplace_listings import DESCRIPTION, jpeg

from recommerce.clock import FixedClock
from recommerce.store.bootstrap import StoreNode
from recommerce.store.seed import DEMO_PASSWORD
from recommerce.store.services import online

Headers = Callable[[str], dict[str, str]]
HTMX = {"HX-Request": "true"}


class _Fields(HTMLParser):
    """The form fields of a page, the `for` of its labels, and its alerts."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.alerts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("input", "select", "textarea") and found.get("type") not in (
            "hidden",
            "submit",
        ):
            self.fields.append(found)
        if tag == "label" and found.get("for"):
            self.label_for.add(str(found["for"]))
        if found.get("role") == "alert":
            self.alerts += 1


def unlabelled_fields(html: str) -> list[str]:
    """The fields of a page that no `<label for>` (nor aria-label) names."""
    parsed = _Fields()
    parsed.feed(html)
    return [
        str(f.get("name") or f.get("id"))
        for f in parsed.fields
        if not f.get("aria-label") and f.get("id") not in parsed.label_for
    ]


def alerts(html: str) -> int:
    parsed = _Fields()
    parsed.feed(html)
    return parsed.alerts


def said(response: Any) -> str:
    """What a page says, as its reader reads it (entities such as `&#39;` decoded)."""
    return unescape(response.text)


def log_in(client: TestClient, username: str = "gerant") -> None:
    """A staff member logs in on the screens (the session cookie stays with the client)."""
    response = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def bought(
    client: TestClient, login: Headers, article_id: Callable[[str], str], n: int = 1
) -> list[str]:
    """`n` phones bought from the public: their labels."""
    lines = [
        {"article_id": article_id("iphone 12"), "grade": "B", "agreed_price_cents": 5000}
        for _ in range(n)
    ]
    response = client.post(
        "/api/v1/purchases", json=purchase_body(lines), headers=login("acheteur")
    )
    assert response.status_code == 201, response.text
    return [str(item["label_code"]) for item in response.json()["items"]]


@pytest.mark.parametrize("path", ["/stock", "/stock/items/2042000000017", "/stock/markdowns"])
def test_a_stranger_is_sent_to_the_login_page(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


def test_the_stock_search_finds_an_item_by_its_label_as_one_types(
    client: TestClient, login: Headers, article_id: Callable[[str], str]
) -> None:
    first, second = bought(client, login, article_id, 2)
    log_in(client, "caissier")
    typed = client.get("/stock", params={"q": first[:10]}, headers=HTMX)
    assert typed.status_code == 200
    assert "<html" not in typed.text and 'id="stock-table"' in typed.text  # the table alone
    assert f'id="item-{first}"' in typed.text and f'id="item-{second}"' in typed.text

    by_words = client.get("/stock", params={"q": "IPHONE 12"}, headers=HTMX)
    assert f'id="item-{first}"' in by_words.text
    nothing = client.get("/stock", params={"q": "iphone", "status": "sold"}, headers=HTMX)
    assert "item-" not in nothing.text
    assert "Aucun objet ne correspond." in nothing.text

    scanned = client.get("/stock", params={"q": first}, follow_redirects=False)
    assert scanned.status_code == 303  # a label scanned, then Enter: the item's page
    assert scanned.headers["location"] == f"/stock/items/{first}"


def test_the_stock_page_reads_in_french_and_in_english_and_every_field_has_its_label(
    client: TestClient, login: Headers, article_id: Callable[[str], str]
) -> None:
    bought(client, login, article_id)
    log_in(client)
    french = client.get("/stock")
    assert "Étiquette ou article" in french.text and "En stock" in french.text
    english = client.get("/stock", params={"lang": "en"})
    assert "Label or article" in english.text and "In stock" in english.text
    assert unlabelled_fields(english.text) == []


def test_the_item_page_says_what_the_item_is_where_it_stands_and_its_history(
    client: TestClient, login: Headers, article_id: Callable[[str], str]
) -> None:
    (label,) = bought(client, login, article_id)
    log_in(client)
    response = client.get(f"/stock/items/{label}", params={"lang": "en"})
    assert response.status_code == 200
    text = response.text
    assert "iPhone 12" in text and label in text
    assert re.search(r'id="item-status"[^>]*>In stock<', text)
    assert "On the shelf: it may be sold at the till or online." in text
    assert "Bought from the public" in text
    assert "add at least one photo" in text  # what it lacks to go online
    assert f"/api/v1/items/{label}/label.svg" in text
    assert unlabelled_fields(text) == []

    missing = client.get("/stock/items/2042999999995", params={"lang": "fr"})
    assert missing.status_code == 404
    assert "Aucun objet de ce magasin ne porte cette étiquette." in said(missing)


def test_a_manager_adds_a_photo_and_puts_the_item_online(
    client: TestClient, login: Headers, article_id: Callable[[str], str], node: StoreNode
) -> None:
    (label,) = bought(client, login, article_id)
    log_in(client)
    too_soon = client.post(
        f"/stock/items/{label}/online", data={"action": "publish", "description": DESCRIPTION}
    )
    assert too_soon.status_code == 422
    assert alerts(too_soon.text) == 1
    assert "Cet objet n'est pas prêt pour la mise en ligne." in said(too_soon)
    assert "add at least one photo" in too_soon.text
    assert DESCRIPTION in too_soon.text  # what was typed is kept

    uploaded = client.post(
        f"/stock/items/{label}/photos",
        files={"photo": ("photo.jpg", jpeg(), "image/jpeg")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303
    page = client.get(uploaded.headers["location"])
    assert "La photo est ajoutée." in page.text
    (photo,) = online.listing_of(node, label).photos
    assert f"/api/v1/photos/{photo.thumb_sha256}" in page.text

    published = client.post(
        f"/stock/items/{label}/online", data={"action": "publish", "description": DESCRIPTION}
    )
    assert published.status_code == 200
    assert "L'objet est prêt pour la vente en ligne." in said(published)
    listing = online.listing_of(node, label)
    assert listing.online and listing.description == DESCRIPTION
    assert 'id="take-offline"' in published.text

    offline = client.post(
        f"/stock/items/{label}/online", data={"action": "offline", "description": DESCRIPTION}
    )
    assert offline.status_code == 200
    assert not online.listing_of(node, label).published


def test_a_file_that_is_not_a_photo_is_refused_with_the_reason(
    client: TestClient, login: Headers, article_id: Callable[[str], str], node: StoreNode
) -> None:
    (label,) = bought(client, login, article_id)
    log_in(client, "gerant")
    refused = client.post(
        f"/stock/items/{label}/photos",
        files={"photo": ("notes.txt", b"not a photo at all", "text/plain")},
        params={"lang": "en"},
    )
    assert refused.status_code == 422
    assert alerts(refused.text) == 1
    assert "not a photo that can be read" in refused.text
    empty = client.post(
        f"/stock/items/{label}/photos", files={"photo": ("", b"", "")}, params={"lang": "fr"}
    )
    assert empty.status_code == 422
    assert "Cette photo a été refusée." in empty.text
    assert online.listing_of(node, label).photos == []


def test_a_cashier_sees_the_item_but_a_manager_changes_it(
    client: TestClient, login: Headers, article_id: Callable[[str], str], node: StoreNode
) -> None:
    (label,) = bought(client, login, article_id)
    log_in(client, "caissier")
    seen = client.get(f"/stock/items/{label}")
    assert seen.status_code == 200
    assert 'id="photo-file"' not in seen.text and 'id="status-new"' not in seen.text
    refused = client.post(
        f"/stock/items/{label}/online", data={"action": "publish", "description": DESCRIPTION}
    )
    assert refused.status_code == 422
    assert "Vous n'êtes pas autorisé à faire cela." in said(refused)
    assert not online.listing_of(node, label).published


def test_a_manager_sends_an_item_to_repair_saying_why(
    client: TestClient, login: Headers, article_id: Callable[[str], str]
) -> None:
    (label,) = bought(client, login, article_id)
    log_in(client)
    no_reason = client.post(f"/stock/items/{label}/status", data={"status": "to_repair"})
    assert no_reason.status_code == 422
    assert alerts(no_reason.text) == 1
    moved = client.post(
        f"/stock/items/{label}/status", data={"status": "to_repair", "reason": "Écran fissuré"}
    )
    assert moved.status_code == 200
    assert re.search(r'id="item-status"[^>]*>À réparer<', moved.text)
    assert client.get(f"/api/v1/items/{label}").json()["status"] == "to_repair"


def test_an_item_long_on_the_shelf_is_marked_down_by_a_manager(
    client: TestClient, login: Headers, article_id: Callable[[str], str], clock: FixedClock
) -> None:
    (label,) = bought(client, login, article_id)
    log_in(client)
    before = client.get(f"/api/v1/items/{label}").json()
    clock.advance(timedelta(days=45))
    log_in(client)  # the session of 45 days ago has expired
    due = client.get("/stock/markdowns")
    assert f'id="markdown-{label}"' in due.text
    assert unlabelled_fields(due.text) == []
    applied = client.post("/stock/markdowns", data={"labels": [label]})
    assert applied.status_code == 200
    assert "La démarque est appliquée." in applied.text
    after = client.get(f"/api/v1/items/{label}").json()
    assert after["asking_price_cents"] < before["asking_price_cents"]
    history = client.get(f"/stock/items/{label}", params={"lang": "en"}).text
    assert "Price changed from" in history
    again = client.post("/stock/markdowns", data={"labels": [label]})
    assert again.status_code == 422  # no longer due: said, nothing changed
    assert alerts(again.text) == 1
