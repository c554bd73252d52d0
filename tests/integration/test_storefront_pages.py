"""The marketplace's storefront pages: a customer finds an item a store put online, reads its
page, and search engines read its schema.org description and the sitemap."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from helpers import purchase_body
from PIL import Image
from store_and_central import (  # noqa: F401  (fixtures)
    Headers,
    central_database_url,
    code,
    enrolled,
    pusher,
)

from recommerce.central.web import storefront
from recommerce.marketplace.search import ListingQuery, Sort
from recommerce.store.sync.pusher import Pusher, PushStatus

DESCRIPTION = "Écran sans rayure, batterie à 89 %, livré avec son câble."


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (30, 90, 160)).save(out, "JPEG")
    return out.getvalue()


def bought(
    client: TestClient, login: Headers, article_id: Callable[[str], str], price_cents: int
) -> str:
    """A phone bought from the public, to be sold at this price: its label."""
    line = {
        "article_id": article_id("iphone 12"),
        "grade": "B",
        "agreed_price_cents": 5000,
        "asking_price_cents": price_cents,
    }
    done = client.post("/api/v1/purchases", json=purchase_body([line]), headers=login("acheteur"))
    assert done.status_code == 201, done.text
    return str(done.json()["items"][0]["label_code"])


def listed_item(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    *,
    description: str = DESCRIPTION,
    price_cents: int = 34900,
) -> tuple[str, str]:
    """A phone bought, photographed and published at the store: its label and item id."""
    label = bought(client, login, article_id, price_cents)
    photo = client.post(
        f"/api/v1/items/{label}/photos",
        files={"photo": ("photo.jpg", jpeg(), "image/jpeg")},
        headers=login("gerant"),
    )
    assert photo.status_code == 201, photo.text
    published = client.put(
        f"/api/v1/items/{label}/online",
        json={"published": True, "description": description},
        headers=login("gerant"),
    )
    assert published.status_code == 200, published.text
    return label, str(published.json()["item"]["id"])


def push_all(pusher: Pusher, central_client: TestClient) -> None:
    """Every store event sent to central, and central's search index caught up."""
    while (result := pusher.push_once()).status is PushStatus.ACKED and result.retry_in == 0:
        pass
    assert result.status in (PushStatus.ACKED, PushStatus.IDLE), result
    assert central_client.app.state.indexer.wait_idle()  # type: ignore[attr-defined]


def page(central_client: TestClient, path: str, **params: Any) -> str:
    response = central_client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return str(response.text)


class _Scripts(HTMLParser):
    """The JSON-LD blocks of a page, and every script element it has."""

    def __init__(self) -> None:
        super().__init__()
        self.json_ld: list[str] = []
        self.scripts: list[str | None] = []
        self._in_json_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            kind = dict(attrs).get("type")
            self.scripts.append(kind)
            self._in_json_ld = kind == "application/ld+json"
            if self._in_json_ld:
                self.json_ld.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_json_ld = False

    def handle_data(self, data: str) -> None:
        if self._in_json_ld:
            self.json_ld[-1] += data


def scripts_of(html: str) -> _Scripts:
    parser = _Scripts()
    parser.feed(html)
    return parser


def product_of(html: str) -> dict[str, Any]:
    blocks = scripts_of(html).json_ld
    assert len(blocks) == 1
    return dict(json.loads(blocks[0]))


def item_ids_in(html: str) -> list[str]:
    return re.findall(r'href="/article/([0-9a-f-]{36})"', html)


# --- units ------------------------------------------------------------------------------------


def test_amounts_read_the_french_way() -> None:
    assert storefront.euros(123450) == "1\u202f234,50\xa0€"
    assert storefront.euros(34900) == "349,00\xa0€"
    assert storefront.schema_price(34900) == "349.00"


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("150", 15000), ("149,90", 14990), ("149.9", 14990), (" 1 200 € ", 120000)],
)
def test_a_price_typed_in_euros_becomes_cents(typed: str, cents: int) -> None:
    assert storefront.cents_of_euros(typed) == cents


@pytest.mark.parametrize("typed", ["abc", "12,345", "-5", "1e3", "9999999999"])
def test_something_else_than_a_price_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        storefront.cents_of_euros(typed)


def test_the_address_of_a_search_page_keeps_only_the_filters_it_applies() -> None:
    query = ListingQuery(text="télé", grades=("A", "B"), min_price_cents=14990, sort=Sort.NEWEST)
    assert storefront.search_url(query, 3) == (
        "/recherche?q=t%C3%A9l%C3%A9&etat=A&etat=B&prix_min=149%2C90&tri=nouveautes&page=3"
    )
    assert storefront.search_url(ListingQuery()) == "/recherche"


@pytest.mark.parametrize("grade", ["A", "B", "C", "D"])
def test_every_grade_is_a_used_condition(grade: str) -> None:
    assert storefront.item_condition(grade) == "https://schema.org/UsedCondition"


# --- the pages --------------------------------------------------------------------------------


def test_the_home_page_shows_the_newest_listing_and_the_categories(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    _, item_id = listed_item(client, login, article_id)
    push_all(pusher, central_client)
    html = page(central_client, "/")
    assert '<html lang="fr">' in html
    assert item_ids_in(html) == [item_id]
    assert "Apple iPhone 12 64 Go" in html
    assert 'alt="Apple iPhone 12 64 Go"' in html
    assert re.search(
        r'href="/recherche\?categorie=[a-z_]+">[^<]+<span class="n">\(1\)</span>', html
    )


def test_a_search_without_accents_finds_an_accented_description_and_counts_filters(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    _, item_id = listed_item(client, login, article_id)
    push_all(pusher, central_client)
    html = page(central_client, "/recherche", q="ecran cable")
    assert item_ids_in(html) == [item_id]
    assert "1 article" in html
    assert '<option value="Lyon">Lyon (1)</option>' in html
    assert '<option value="Apple">Apple (1)</option>' in html
    assert 'name="etat" value="B">' in html
    assert "B — Bon état (1)" in html
    assert "A — Comme neuf (0)" in html
    filtered = page(central_client, "/recherche", q="iphone", etat=["A"], ville="Lyon")
    assert item_ids_in(filtered) == []
    assert "Aucun article ne correspond à votre recherche." in filtered


def test_a_search_filters_by_a_price_typed_in_euros(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    _, item_id = listed_item(client, login, article_id, price_cents=34900)
    listed_item(client, login, article_id, price_cents=123450)
    push_all(pusher, central_client)
    assert "1\u202f234,50\xa0€" in page(central_client, "/recherche", prix_min="1000")
    assert "349,00\xa0€" in page(central_client, "/recherche", q="iphone")
    assert item_ids_in(page(central_client, "/recherche", prix_min="349", prix_max="349,00")) == [
        item_id
    ]
    assert item_ids_in(page(central_client, "/recherche", prix_max="348,99")) == []


def test_a_bad_price_filter_gets_a_french_message_and_the_search_still_runs(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    _, item_id = listed_item(client, login, article_id)
    push_all(pusher, central_client)
    html = page(central_client, "/recherche", q="iphone", prix_min="pas cher", page="deux")
    assert "Le prix minimum « pas cher » n'est pas un montant en euros" in unescape(html)
    assert item_ids_in(html) == [item_id]
    assert 'value="pas cher"' in html  # shown back as typed
    reversed_prices = page(central_client, "/recherche", prix_min="500", prix_max="100")
    assert "Le prix minimum est supérieur au prix maximum" in reversed_prices
    assert item_ids_in(reversed_prices) == [item_id]


def test_results_come_in_pages_of_twenty_four(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(storefront, "PER_PAGE", 1)
    first = listed_item(client, login, article_id, price_cents=10000)[1]
    second = listed_item(client, login, article_id, price_cents=20000)[1]
    push_all(pusher, central_client)
    one = page(central_client, "/recherche", tri="prix-croissant", ville="Lyon")
    assert "Page 1 sur 2" in one
    assert 'href="/recherche?ville=Lyon&amp;tri=prix-croissant&amp;page=2" rel="next"' in one
    two = page(central_client, "/recherche", tri="prix-croissant", ville="Lyon", page="2")
    assert (item_ids_in(one), item_ids_in(two)) == ([first], [second])
    assert 'rel="prev"' in two


def test_the_item_page_tells_search_engines_a_used_product_with_its_own_sku(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    label, item_id = listed_item(client, login, article_id, price_cents=34900)
    push_all(pusher, central_client)
    html = page(central_client, f"/article/{item_id}")
    assert "Disponible" in html
    assert "Garantie légale de conformité" in html
    assert DESCRIPTION in html
    assert '<button type="submit">Ajouter au panier</button>' in html
    product = product_of(html)
    assert product["@type"] == "Product"
    assert product["name"] == "Apple iPhone 12 64 Go"
    assert product["brand"] == {"@type": "Brand", "name": "Apple"}
    assert product["sku"] == item_id != label
    assert label not in html
    assert "gtin" not in json.dumps(product)
    assert all(
        url.startswith("http://testserver/api/v1/marketplace/photos/") for url in product["image"]
    )
    offer = product["offers"]
    assert offer["itemCondition"] == "https://schema.org/UsedCondition"
    assert offer["priceCurrency"] == "EUR"
    assert offer["price"] == "349.00"
    assert offer["availability"] == "https://schema.org/InStock"
    assert offer["url"] == f"http://testserver/article/{item_id}"
    assert offer["seller"] == {"@type": "Organization", "name": "Magasin de Lyon Part-Dieu"}
    photo = central_client.get(product["image"][0].removeprefix("http://testserver"))
    assert photo.status_code == 200


def test_a_description_with_a_script_tag_is_shown_as_text(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    hostile = "Très bon état <script>alert('x')</script></script><b>gras</b> & co"
    _, item_id = listed_item(client, login, article_id, description=hostile)
    push_all(pusher, central_client)
    html = page(central_client, f"/article/{item_id}")
    assert "<script>" not in html
    assert "<b>gras</b>" not in html
    assert "&lt;script&gt;alert(" in html
    assert scripts_of(html).scripts == ["application/ld+json"]  # only the page's own
    assert product_of(html)["description"] == hostile
    assert item_ids_in(page(central_client, "/recherche", q="tres bon etat")) == [item_id]


def test_a_sold_or_unknown_item_answers_a_french_404_page(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
) -> None:
    label, item_id = listed_item(client, login, article_id)
    push_all(pusher, central_client)
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
    push_all(pusher, central_client)
    for path in (f"/article/{item_id}", "/article/inconnu", "/article/" + "x" * 300):
        gone = central_client.get(path)
        assert gone.status_code == 404, path
        assert gone.headers["content-type"].startswith("text/html")
        assert "Cet article n'est plus en vente" in unescape(gone.text)
        assert 'href="/"' in gone.text


def test_the_sitemap_lists_every_item_on_sale_in_files_of_limited_size(
    client: TestClient,
    login: Headers,
    article_id: Callable[[str], str],
    pusher: Pusher,
    central_client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = listed_item(client, login, article_id)[1]
    second = listed_item(client, login, article_id)[1]
    push_all(pusher, central_client)
    index = central_client.get("/sitemap.xml")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("application/xml")
    assert re.findall(r"<loc>([^<]+)</loc>", index.text) == ["http://testserver/sitemap-1.xml"]
    whole = central_client.get("/sitemap-1.xml").text
    assert re.findall(r"<loc>([^<]+)</loc>", whole) == [
        "http://testserver/",
        *(f"http://testserver/article/{i}" for i in sorted([first, second])),
    ]
    assert "<lastmod>2026-11-20</lastmod>" in whole

    monkeypatch.setattr(storefront, "SITEMAP_URLS", 2)  # the home and two items: two files
    monkeypatch.setattr(storefront, "SITEMAP_CHUNK", 1)
    index = central_client.get("/sitemap.xml").text
    assert re.findall(r"<loc>([^<]+)</loc>", index) == [
        "http://testserver/sitemap-1.xml",
        "http://testserver/sitemap-2.xml",
    ]
    files = [central_client.get(f"/sitemap-{n}.xml").text for n in (1, 2)]
    locations = [re.findall(r"<loc>([^<]+)</loc>", text) for text in files]
    assert locations == [
        ["http://testserver/", f"http://testserver/article/{min(first, second)}"],
        [f"http://testserver/article/{max(first, second)}"],
    ]
    assert central_client.get("/sitemap-3.xml").status_code == 404
    assert central_client.get("/sitemap-0.xml").status_code == 404


def test_the_stylesheet_is_cached_under_its_version(central_client: TestClient) -> None:
    html = page(central_client, "/")
    href = re.search(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert href is not None
    css = central_client.get(href.group(1))
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "immutable" in css.headers["cache-control"]
    assert "@media (max-width: 600px)" in css.text
