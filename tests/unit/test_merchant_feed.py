"""The marketplace's product feed for Google Merchant Center: the XML and TSV files Google reads,
their required attributes, their escaping, and what they must never say."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from types import SimpleNamespace
from typing import Any

import pytest

from recommerce.central.api.merchant_feed import feed_item_of
from recommerce.marketplace.merchant_feed import (
    GOOGLE_NS,
    MAX_DESCRIPTION,
    TSV_COLUMNS,
    FeedItem,
    feed_item,
    google_condition,
    google_price,
    write_tsv,
    write_xml,
)

G = f"{{{GOOGLE_NS}}}"
BASE = "https://www.recommerce.example"
SHA = "ab" * 32
THUMB = "cd" * 32
LABEL = "2000000000992"
REQUIRED = ("id", "title", "description", "link", "image_link", "availability", "price")


def _item(**changes: Any) -> FeedItem:
    values: dict[str, Any] = {
        "item_id": "0193f1e2-0000-7000-8000-000000000001",
        "title": "Apple iPhone 12 64 Go",
        "brand": "Apple",
        "category_name": "Téléphones",
        "grade": "B",
        "grade_definition": "Bon état, rayures légères.",
        "description": "Écran sans rayure, batterie à 89 %, livré avec son câble.",
        "price_cents": 34900,
        "link": f"{BASE}/article/0193f1e2-0000-7000-8000-000000000001",
        "photo_links": [f"{BASE}/api/v1/marketplace/photos/{SHA}"],
    }
    values.update(changes)
    item = feed_item(**values)
    assert item is not None
    return item


def _row(**changes: Any) -> SimpleNamespace:
    """A row as `listing_query()` returns it, label code included."""
    values: dict[str, Any] = {
        "item_id": "0193f1e2-0000-7000-8000-000000000001",
        "store_number": 42,
        "article_id": "00000000-0000-4000-8000-000000000001",
        "grade": "B",
        "price_cents": 34900,
        "description": "Écran sans rayure, batterie à 89 %, livré avec son câble.",
        "photos": [{"full_sha256": SHA, "thumb_sha256": THUMB, "width": 1600, "height": 1200}],
        "label_code": LABEL,
        "title": "Apple iPhone 12 64 Go",
        "brand": "Apple",
        "category_code": "phones",
        "category_name": "Téléphones",
        "grade_definition": "Bon état, rayures légères.",
        "store_name": "Magasin de Lyon Part-Dieu",
        "city": "Lyon",
    }
    values.update(changes)
    return SimpleNamespace(**values)


def _xml(*items: FeedItem) -> str:
    out = io.StringIO()
    write_xml(items, out, shop_title="recommerce", shop_link=f"{BASE}/")
    return out.getvalue()


def _tsv(*items: FeedItem) -> str:
    out = io.StringIO()
    write_tsv(items, out)
    return out.getvalue()


def _offers(document: str) -> list[ET.Element]:
    root = ET.fromstring(document)
    assert root.tag == "rss" and root.get("version") == "2.0"
    return root.findall("./channel/item")


def _tsv_rows(document: str) -> list[dict[str, str]]:
    lines = document.split("\n")
    assert lines[-1] == ""  # the file ends with a line break
    header, *rows = (line.split("\t") for line in lines[:-1])
    assert all(len(row) == len(header) for row in rows)
    return [dict(zip(header, row, strict=True)) for row in rows]


# --- XML ----------------------------------------------------------------------------------------


def test_the_xml_feed_is_rss_with_every_attribute_in_googles_namespace() -> None:
    offers = _offers(_xml(_item(), _item(item_id="0193f1e2-0000-7000-8000-000000000002")))
    assert len(offers) == 2
    for offer in offers:
        assert len(offer) > 0
        assert all(child.tag.startswith(G) for child in offer)


def test_an_offer_has_every_attribute_google_requires_of_a_second_hand_item() -> None:
    (offer,) = _offers(_xml(_item()))
    for name in REQUIRED:
        assert (offer.findtext(G + name) or "").strip(), name
    assert offer.findtext(G + "condition") == "used"
    assert offer.findtext(G + "brand") == "Apple"
    assert offer.findtext(G + "identifier_exists") == "no"
    assert offer.findtext(G + "availability") == "in_stock"
    assert offer.findtext(G + "price") == "349.00 EUR"
    assert offer.findtext(G + "product_type") == "Téléphones"
    assert offer.findtext(G + "link") == f"{BASE}/article/0193f1e2-0000-7000-8000-000000000001"


def test_an_article_without_brand_still_says_it_has_no_identifier() -> None:
    (offer,) = _offers(_xml(_item(brand="")))
    assert offer.find(G + "brand") is None
    assert offer.findtext(G + "identifier_exists") == "no"


def test_no_offer_ever_carries_a_gtin_or_an_mpn() -> None:
    document = _xml(_item(), _item(brand=None))
    for offer in _offers(document):
        assert offer.find(G + "gtin") is None
        assert offer.find(G + "mpn") is None
    assert "gtin" not in document and "mpn" not in document
    assert "gtin" not in _tsv(_item()) and "mpn" not in _tsv(_item())


def test_the_store_label_code_never_appears_in_either_feed() -> None:
    item = feed_item_of(_row(), BASE)
    assert item is not None
    assert LABEL not in _xml(item)
    assert LABEL not in _tsv(item)
    assert item.id == "0193f1e2-0000-7000-8000-000000000001"


def test_a_listing_row_gives_absolute_links_to_its_page_and_full_size_photos() -> None:
    photos = [
        {"full_sha256": f"{n:064x}", "thumb_sha256": THUMB, "width": 800, "height": 600}
        for n in range(1, 4)
    ]
    item = feed_item_of(_row(photos=photos), BASE)
    assert item is not None
    assert item.link == f"{BASE}/article/0193f1e2-0000-7000-8000-000000000001"
    assert item.image_link == f"{BASE}/api/v1/marketplace/photos/{1:064x}"
    assert item.additional_image_links == tuple(
        f"{BASE}/api/v1/marketplace/photos/{n:064x}" for n in (2, 3)
    )
    (offer,) = _offers(_xml(item))
    assert [e.text for e in offer.findall(G + "additional_image_link")] == list(
        item.additional_image_links
    )
    assert THUMB not in _xml(item)


def test_an_item_without_a_photo_is_left_out_of_the_feed() -> None:
    assert feed_item_of(_row(photos=[]), BASE) is None


def test_markup_ampersands_and_quotes_in_store_words_are_escaped() -> None:
    words = 'Câble <USB-C> & étui "cuir" d\'origine, 12" écran'
    item = _item(title='TV 55" <QLED> & Co', description=words, brand="Bang & Olufsen")
    document = _xml(item)
    assert "<USB-C>" not in document and "& " not in document
    (offer,) = _offers(document)
    assert offer.findtext(G + "title") == 'TV 55" <QLED> & Co'
    assert offer.findtext(G + "brand") == "Bang & Olufsen"
    assert words in (offer.findtext(G + "description") or "")


def test_control_characters_in_store_words_become_spaces_and_the_xml_stays_readable() -> None:
    item = _item(description="Bon\x00état\x07 général\x1b, écran\ufffe propre et sans rayure")
    (offer,) = _offers(_xml(item))  # parsing fails on a control character
    assert "Bon état  général , écran  propre" in (offer.findtext(G + "description") or "")


def test_the_xml_feed_writes_utf8_to_a_binary_file() -> None:
    out = io.BytesIO()
    write_xml([_item()], out, shop_title="recommerce", shop_link=f"{BASE}/")
    (offer,) = _offers(out.getvalue().decode("utf-8"))
    assert offer.findtext(G + "product_type") == "Téléphones"
    assert ET.fromstring(out.getvalue()).find("channel/title") is not None


def test_an_empty_marketplace_gives_a_valid_feed_without_offers() -> None:
    assert _offers(_xml()) == []
    assert _tsv() == "\t".join(TSV_COLUMNS) + "\n"


# --- TSV ----------------------------------------------------------------------------------------


def test_the_tsv_header_names_googles_attributes() -> None:
    header = _tsv(_item()).split("\n")[0].split("\t")
    assert header[:2] == ["id", "title"]
    assert set(REQUIRED) | {"condition", "brand", "identifier_exists"} <= set(header)


def test_tabs_and_line_breaks_in_store_words_become_spaces_in_the_tsv() -> None:
    item = _item(description="Première ligne\tavec tab\r\nseconde ligne\u2028fin", brand="A\tB")
    (row,) = _tsv_rows(_tsv(item))
    assert row["brand"] == "A B"
    assert row["description"].endswith("Première ligne avec tab  seconde ligne fin")
    assert row["price"] == "349.00 EUR"
    assert row["condition"] == "used"
    assert row["identifier_exists"] == "no"


def test_a_tsv_value_with_quotes_is_quoted_with_its_quotes_doubled() -> None:
    (row,) = _tsv_rows(_tsv(_item(title='TV 55" QLED')))
    assert row["title"] == '"TV 55"" QLED"'


def test_the_other_photos_are_comma_separated_in_the_tsv() -> None:
    links = [f"{BASE}/p/{n}" for n in range(3)]
    (row,) = _tsv_rows(_tsv(_item(photo_links=links)))
    assert row["image_link"] == links[0]
    assert row["additional_image_link"] == f"{links[1]},{links[2]}"


# --- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cents", "price"),
    [(34900, "349.00 EUR"), (1, "0.01 EUR"), (1050, "10.50 EUR"), (123456789, "1234567.89 EUR")],
)
def test_a_price_is_written_in_euros_with_two_decimals_and_its_currency(
    cents: int, price: str
) -> None:
    assert google_price(cents) == price


@pytest.mark.parametrize("grade", ["A", "B", "C", "D"])
def test_every_grade_even_like_new_is_a_used_item_for_google(grade: str) -> None:
    assert google_condition(grade) == "used"


def test_an_unknown_grade_is_refused() -> None:
    with pytest.raises(ValueError):
        google_condition("E")


def test_the_description_tells_the_article_its_grade_and_the_store_words() -> None:
    item = _item()
    assert item.description == (
        "Apple iPhone 12 64 Go\n"
        "État B : Bon état, rayures légères.\n"
        "Écran sans rayure, batterie à 89 %, livré avec son câble."
    )
    assert _item(grade_definition=None).description.split("\n")[1] == "État B"


def test_a_long_description_is_cut_to_googles_limit() -> None:
    item = _item(description="très bon état " * 1000)
    assert len(item.description) == MAX_DESCRIPTION
    assert item.description.startswith("Apple iPhone 12 64 Go\n")
    (offer,) = _offers(_xml(item))
    assert len(offer.findtext(G + "description") or "") == MAX_DESCRIPTION
