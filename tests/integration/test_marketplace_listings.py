"""Items online: a store publishes an item with its photos, central lists it and finds it, a
till sale takes it off the marketplace, a return brings it back (docs/marketplace.md)."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from store_and_central import (  # noqa: F401  (fixtures)
    STORE,
    Headers,
    buy,
    central_database_url,
    code,
    enrolled,
    pusher,
)

from recommerce.central.app import create_app as create_central_app
from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import sync_tables as central_tables
from recommerce.clock import FixedClock
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.seed import DEMO_PASSWORD
from recommerce.store.sync import state
from recommerce.store.sync.pusher import Pusher, PushStatus, occurred_at_text
from recommerce.sync.protocol import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SCHEMA_HEADER,
    batch_body,
)

DESCRIPTION = "Écran sans rayure, batterie à 89 %, livré avec son câble."


def jpeg(width: int = 1200, height: int = 900, *, gps: bool = False) -> bytes:
    image = Image.new("RGB", (width, height), (200, 40, 40))
    exif = Image.Exif()
    if gps:
        exif[0x8825] = {1: "N", 2: (45.0, 45.0, 0.0), 3: "E", 4: (4.0, 50.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def add_photo(client: TestClient, login: Headers, label: str, data: bytes | None = None) -> Any:
    return client.post(
        f"/api/v1/items/{label}/photos",
        files={"photo": ("photo.jpg", data or jpeg(), "image/jpeg")},
        headers=login("gerant"),
    )


def publish(client: TestClient, login: Headers, label: str, **body: Any) -> Any:
    return client.put(
        f"/api/v1/items/{label}/online",
        json={"published": True, "description": DESCRIPTION, **body},
        headers=login("gerant"),
    )


def listed_item(
    client: TestClient, login: Headers, article_id: Callable[[str], str]
) -> tuple[str, str]:
    """A phone bought, photographed and published at the store: its label and item id."""
    label = buy(client, login, article_id)
    assert add_photo(client, login, label).status_code == 201
    published = publish(client, login, label)
    assert published.status_code == 200, published.text
    return label, str(published.json()["item"]["id"])


def push_all(pusher: Pusher) -> None:
    while (result := pusher.push_once()).status is PushStatus.ACKED and result.retry_in == 0:
        pass
    assert result.status in (PushStatus.ACKED, PushStatus.IDLE), result


def search(central_client: TestClient, **params: Any) -> dict[str, Any]:
    assert central_client.app.state.indexer.wait_idle()  # type: ignore[attr-defined]
    response = central_client.get("/api/v1/marketplace/listings", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def sell(client: TestClient, login: Headers, label: str) -> dict[str, Any]:
    sold = client.post(
        "/api/v1/sales",
        json={
            "till": "T1",
            "lines": [{"label_code": label}],
            "tenders": [{"kind": "cash", "amount_cents": 100000}],
        },
        headers=login("caissier"),
    )
    assert sold.status_code == 201, sold.text
    return dict(sold.json())


def outbox_size(node: StoreNode) -> int:
    with node.reading() as conn:
        return int(conn.execute(select(func.count()).select_from(t.outbox)).scalar_one())


# --- at the store -----------------------------------------------------------------------------


def test_an_item_without_photo_or_description_cannot_go_online(
    client: TestClient, login: Headers, article_id: Callable[[str], str], node: StoreNode
) -> None:
    label = buy(client, login, article_id)
    before = outbox_size(node)
    refused = publish(client, login, label, description="Bon état")
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "not_ready_for_online"
    assert "add at least one photo" in problem["detail"]
    assert "at least 20 characters" in problem["detail"]
    assert outbox_size(node) == before  # nothing changed
    shown = client.get(f"/api/v1/items/{label}/online", headers=login("gerant")).json()
    assert shown["published"] is False
    assert shown["problems"] == ["add at least one photo", shown["problems"][1]]


def test_a_photo_loses_its_location_and_gets_a_thumbnail(
    client: TestClient, login: Headers, article_id: Callable[[str], str]
) -> None:
    label = buy(client, login, article_id)
    added = add_photo(client, login, label, jpeg(3000, 2000, gps=True))
    assert added.status_code == 201, added.text
    photo = added.json()["photos"][0]
    assert (photo["width"], photo["height"]) == (1600, 1067)
    served = client.get(photo["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(served.content)) as image:
        assert not image.getexif()  # no GPS, no camera metadata at all
    with Image.open(io.BytesIO(client.get(photo["thumbnail_url"]).content)) as thumb:
        assert max(thumb.size) == 400


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_changes(
    client: TestClient, login: Headers, article_id: Callable[[str], str], node: StoreNode
) -> None:
    label = buy(client, login, article_id)
    refused = add_photo(client, login, label, b"%PDF-1.7 not an image")
    assert refused.status_code == 422
    assert refused.json()["code"] == "photo_rejected"
    with node.reading() as conn:
        assert conn.execute(select(func.count()).select_from(t.item_photos)).scalar_one() == 0


def test_a_cashier_cannot_publish_items(
    client: TestClient, login: Headers, article_id: Callable[[str], str]
) -> None:
    label = buy(client, login, article_id)
    refused = client.put(
        f"/api/v1/items/{label}/online",
        json={"published": True, "description": DESCRIPTION},
        headers=login("caissier"),
    )
    assert refused.status_code == 403


# --- at central -------------------------------------------------------------------------------


def test_a_published_item_is_listed_with_its_photos_grade_and_store(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    _, item_id = listed_item(client, login, article_id)
    push_all(pusher)
    listing = central_client.get(f"/api/v1/marketplace/listings/{item_id}")
    assert listing.status_code == 200, listing.text
    body = listing.json()
    assert body["title"] == "Apple iPhone 12 64 Go"
    assert body["grade"] == "B"
    assert body["grade_definition"]
    assert body["description"] == DESCRIPTION
    assert body["store"] == {"number": STORE, "name": "Magasin de Lyon Part-Dieu", "city": "Lyon"}
    assert body["availability"] == "available"
    assert "Garantie légale de conformité" in body["guarantee"]
    photo = central_client.get(body["photos"][0]["url"])  # uploaded before the event
    assert photo.status_code == 200
    assert photo.headers["cache-control"].endswith("immutable")


def test_search_finds_a_listing_without_accents_with_a_typo_and_counts_facets(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    _, item_id = listed_item(client, login, article_id)
    push_all(pusher)
    for words in ("iphone", "IPHONE 12", "ipohne", "ecran rayure", "appl"):
        found = search(central_client, q=words)
        assert [i["item_id"] for i in found["items"]] == [item_id], words
    found = search(central_client, q="iphone", city="Lyon", grade=["B"], max_price_cents=100000)
    assert found["total"] == 1
    assert found["facets"]["city"] == {"Lyon": 1}
    assert found["facets"]["grade"] == {"B": 1}
    assert found["engine"].startswith("tantivy")
    assert search(central_client, q="iphone", grade=["A"])["total"] == 0
    assert search(central_client, q="samsung")["total"] == 0


def test_a_till_sale_takes_the_item_off_the_marketplace_and_a_return_brings_it_back(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    label, item_id = listed_item(client, login, article_id)
    push_all(pusher)
    assert search(central_client, q="iphone")["total"] == 1
    ticket = sell(client, login, label)
    push_all(pusher)
    gone = central_client.get(f"/api/v1/marketplace/listings/{item_id}")
    assert gone.status_code == 404
    assert gone.json()["code"] == "listing_not_found"
    assert search(central_client, q="iphone")["total"] == 0
    returned = client.post(
        "/api/v1/returns",
        json={"till": "T1", "sale_number": ticket["number"], "lines": [{"label_code": label}]},
        headers=login("gerant"),
    )
    assert returned.status_code == 201, returned.text
    push_all(pusher)
    assert search(central_client, q="iphone")["total"] == 1


def test_taking_an_item_offline_delists_it(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    label, item_id = listed_item(client, login, article_id)
    push_all(pusher)
    offline = client.put(
        f"/api/v1/items/{label}/online", json={"published": False}, headers=login("gerant")
    )
    assert offline.status_code == 200, offline.text
    assert offline.json()["description"] == DESCRIPTION  # kept for the next publication
    push_all(pusher)
    assert central_client.get(f"/api/v1/marketplace/listings/{item_id}").status_code == 404
    assert search(central_client)["total"] == 0


def test_a_silent_store_shows_its_items_as_being_confirmed(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
    central: CentralNode,
    clock: FixedClock,
) -> None:
    _, item_id = listed_item(client, login, article_id)
    push_all(pusher)
    clock.advance(timedelta(seconds=central.settings.store_silence_s + 1))
    body = central_client.get(f"/api/v1/marketplace/listings/{item_id}").json()
    assert body["availability"] == "being_confirmed"


def test_a_store_cannot_list_an_item_it_does_not_hold(
    enrolled: StoreNode, central_client: TestClient, central: CentralNode
) -> None:
    event = {
        "seq": 1,
        "event_id": "0193f1e2-0000-7000-8000-000000000001",
        "type": "ItemListingChanged",
        "schema_version": 1,
        "occurred_at": occurred_at_text(central.clock.now()),
        "payload": {
            "item_id": "00000000-0000-4000-8000-000000000099",
            "label_code": "2000000000992",
            "published": True,
            "article_id": "00000000-0000-4000-8000-000000000001",
            "grade": "B",
            "asking_price_cents": 10000,
            "description": DESCRIPTION,
            "photos": [],
            "staff_id": "someone",
        },
    }
    headers = _store_headers(enrolled)
    response = central_client.post(
        f"/api/v1/sync/stores/{STORE}/events",
        content=batch_body(1, 1, [event], protocol=2),
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["quarantined"] == 1
    with central.reading() as conn:
        reason = conn.execute(select(central_tables.quarantine.c.reason)).scalar_one()
    assert "only its store may list it" in reason


def _store_headers(node: StoreNode) -> dict[str, str]:
    with node.reading() as conn:
        current = state.load_state(conn, node.vault)
    assert current is not None
    return {
        "Authorization": f"Bearer {current.credential}",
        PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        SCHEMA_HEADER: "1",
        "Content-Type": "application/json",
    }


def test_the_search_index_is_rebuilt_from_the_database_when_it_is_lost(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
    central: CentralNode,
) -> None:
    _, item_id = listed_item(client, login, article_id)
    push_all(pusher)
    assert search(central_client, q="iphone")["total"] == 1
    central.listing_index.close()
    central.search_index = None
    shutil.rmtree(central.settings.effective_search_index_dir)
    with TestClient(create_central_app(central)) as restarted:
        assert restarted.app.state.indexer.wait_idle()  # type: ignore[attr-defined]
        found = restarted.get("/api/v1/marketplace/listings", params={"q": "iphone"}).json()
    assert [i["item_id"] for i in found["items"]] == [item_id]


@pytest.mark.parametrize("params", [{"limit": 0}, {"grade": "E"}, {"sort": "cheapest"}])
def test_a_bad_search_gets_a_problem(central_client: TestClient, params: dict[str, Any]) -> None:
    response = central_client.get("/api/v1/marketplace/listings", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_a_markdown_approved_by_a_manager_lowers_the_price_online(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
    clock: FixedClock,
) -> None:
    label, item_id = listed_item(client, login, article_id)
    push_all(pusher)
    before = central_client.get(f"/api/v1/marketplace/listings/{item_id}").json()["price_cents"]
    clock.advance(timedelta(days=31))
    manager, cashier = fresh_login(client, "gerant"), fresh_login(client, "caissier")
    answer = client.get("/api/v1/markdowns", headers=manager)
    assert answer.status_code == 200, answer.text
    due = answer.json()
    mine = next(m for m in due if m["label_code"] == label)
    assert mine["percent"] == 10
    refused = client.post("/api/v1/markdowns", json={"labels": [label]}, headers=cashier)
    assert refused.status_code == 403
    applied = client.post("/api/v1/markdowns", json={"labels": [label]}, headers=manager)
    assert applied.status_code == 200, applied.text
    push_all(pusher)
    after = central_client.get(f"/api/v1/marketplace/listings/{item_id}").json()["price_cents"]
    assert after == mine["new_price_cents"] < before
    assert search(central_client, q="iphone", sort="price_asc")["items"][0]["price_cents"] == after
    again = client.post("/api/v1/markdowns", json={"labels": [label]}, headers=manager)
    assert again.status_code == 409  # already marked down: nothing due


def fresh_login(client: TestClient, username: str) -> dict[str, str]:
    """Bearer headers from a login now (after the clock moved past older tokens' lifetime)."""
    response = client.post(
        "/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
