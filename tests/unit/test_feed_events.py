"""The feed's payloads: what central tells a store about a category, an article, a setting."""

from __future__ import annotations

from datetime import date

import pytest

from recommerce.catalog.model import Article, Category, Grade
from recommerce.money import Money
from recommerce.sync.feed_events import (
    PayloadError,
    article_from_payload,
    article_upserted,
    category_from_payload,
    category_upserted,
    configuration_changed,
)

PHONES = Category(
    code="phones",
    name="Téléphones",
    precious_metal=False,
    grade_definitions={
        Grade.D: "Pour pièces.",
        Grade.A: "Comme neuf.",
        Grade.C: "Rayures.",
        Grade.B: "Micro-rayures.",
    },
)

IPHONE = Article(
    id="0193a000-0000-7000-8000-000000000001",
    category_code="phones",
    brand="Apple",
    model="iPhone 12 64 Go",
    name="Apple iPhone 12 64 Go",
    reference_new_price=Money(90900),
    gtin="0194253409175",
    released_on=date(2020, 10, 23),
    attributes={"colour": "noir"},
)


def test_a_category_carries_its_grade_guide_from_a_to_d() -> None:
    payload = category_upserted(PHONES)
    assert payload == {
        "code": "phones",
        "name": "Téléphones",
        "precious_metal": False,
        "grades": {
            "A": "Comme neuf.",
            "B": "Micro-rayures.",
            "C": "Rayures.",
            "D": "Pour pièces.",
        },
    }
    assert list(payload["grades"]) == ["A", "B", "C", "D"]
    assert category_from_payload(payload) == PHONES


def test_an_article_carries_every_field_with_its_price_in_cents_and_an_iso_date() -> None:
    payload = article_upserted(IPHONE)
    assert payload == {
        "id": IPHONE.id,
        "category_code": "phones",
        "brand": "Apple",
        "model": "iPhone 12 64 Go",
        "name": "Apple iPhone 12 64 Go",
        "gtin": "0194253409175",
        "reference_new_price_cents": 90900,
        "released_on": "2020-10-23",
        "attributes": {"colour": "noir"},
    }
    assert article_from_payload(payload) == IPHONE


def test_an_article_without_gtin_nor_release_date_says_null() -> None:
    ring = Article(
        id="r1",
        category_code="jewellery",
        brand="Sans marque",
        model="Bague or 18 carats",
        name="Sans marque Bague or 18 carats",
        reference_new_price=Money(35000),
    )
    payload = article_upserted(ring)
    assert (payload["gtin"], payload["released_on"], payload["attributes"]) == (None, None, {})
    assert article_from_payload(payload) == ring


def test_a_setting_carries_its_key_and_any_json_value() -> None:
    assert configuration_changed("cash.limit_cents", 100_000) == {
        "key": "cash.limit_cents",
        "value": 100_000,
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, "id"),
        ({"reference_new_price_cents": "909"}, "reference_new_price_cents"),
        ({"reference_new_price_cents": True}, "reference_new_price_cents"),
        ({"released_on": "23/10/2020"}, "released_on"),
        ({"gtin": 194253409175}, "gtin"),
    ],
)
def test_a_malformed_article_payload_is_refused_with_the_field_named(
    change: dict[str, object], message: str
) -> None:
    payload = {**article_upserted(IPHONE), **change}
    with pytest.raises(PayloadError, match=message):
        article_from_payload(payload)


def test_a_category_payload_with_an_unknown_grade_is_refused() -> None:
    payload = category_upserted(PHONES)
    payload["grades"]["E"] = "?"
    with pytest.raises(PayloadError, match="grades"):
        category_from_payload(payload)
    incomplete = category_upserted(PHONES)
    del incomplete["name"]
    with pytest.raises(PayloadError, match="name: missing"):
        category_from_payload(incomplete)
