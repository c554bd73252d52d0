"""The product feed Google Merchant Center fetches from central: an item a store publishes is
offered in both the XML and the TSV feed, with addresses that answer; a till sale withdraws
it (docs/marketplace.md)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

from fastapi.testclient import TestClient
from store_and_central import (  # noqa: F401  (fixtures)
    CENTRAL_URL,
    Headers,
    central_database_url,
    code,
    enrolled,
    pusher,
)
from test_marketplace_listings import DESCRIPTION, listed_item, push_all, sell

from recommerce.central.api.merchant_feed import feed_items
from recommerce.central.bootstrap import CentralNode
from recommerce.marketplace.merchant_feed import GOOGLE_NS
from recommerce.store.sync.pusher import Pusher

G = f"{{{GOOGLE_NS}}}"
IPHONE_12_GTIN = "019425340917"  # the catalogue's code of the new phone


def xml_offers(central_client: TestClient) -> dict[str, ET.Element]:
    response = central_client.get("/feeds/google-merchant.xml")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=900"
    channel = ET.fromstring(response.content).find("channel")
    assert channel is not None
    return {str(item.findtext(G + "id")): item for item in channel.findall("item")}


def tsv_offers(central_client: TestClient) -> dict[str, dict[str, str]]:
    response = central_client.get("/feeds/google-merchant.tsv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/tab-separated-values; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=900"
    header, *rows = (line.split("\t") for line in response.text.splitlines())
    offers = [dict(zip(header, row, strict=True)) for row in rows]
    return {offer["id"]: offer for offer in offers}


def test_a_published_item_is_offered_in_both_feeds_with_addresses_that_answer(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    label, item_id = listed_item(client, login, article_id)
    push_all(pusher)

    offer = xml_offers(central_client)[item_id]
    assert offer.findtext(G + "title") == "Apple iPhone 12 64 Go"
    assert offer.findtext(G + "condition") == "used"
    assert offer.findtext(G + "availability") == "in_stock"
    assert offer.findtext(G + "brand") == "Apple"
    assert offer.findtext(G + "identifier_exists") == "no"
    assert offer.find(G + "gtin") is None
    assert DESCRIPTION in (offer.findtext(G + "description") or "")
    link, image = offer.findtext(G + "link"), offer.findtext(G + "image_link")
    assert link == f"{CENTRAL_URL}/article/{item_id}"
    assert image is not None and image.startswith(f"{CENTRAL_URL}/api/v1/marketplace/photos/")
    assert central_client.get(link).status_code == 200
    photo = central_client.get(image)
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/jpeg"

    row = tsv_offers(central_client)[item_id]
    assert (row["link"], row["image_link"]) == (link, image)
    assert row["price"] == offer.findtext(G + "price")
    assert row["price"].endswith(" EUR")

    for feed in ("xml", "tsv"):
        text = central_client.get(f"/feeds/google-merchant.{feed}").text
        assert label not in text, feed
        assert IPHONE_12_GTIN not in text, feed


def test_a_till_sale_withdraws_the_item_from_both_feeds(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    label, item_id = listed_item(client, login, article_id)
    push_all(pusher)
    assert item_id in xml_offers(central_client)
    assert item_id in tsv_offers(central_client)
    sell(client, login, label)
    push_all(pusher)
    assert item_id not in xml_offers(central_client)
    assert item_id not in tsv_offers(central_client)


def test_the_feed_reads_every_listing_chunk_after_chunk_in_item_order(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central: CentralNode,
) -> None:
    listed = sorted(listed_item(client, login, article_id)[1] for _ in range(3))
    push_all(pusher)
    read = [item.id for item in feed_items(central, CENTRAL_URL, chunk=2)]
    assert read == listed
    assert [item.id for item in feed_items(central, CENTRAL_URL, chunk=3)] == listed
