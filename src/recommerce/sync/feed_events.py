"""The downstream feed's vocabulary: what central tells a store, and the payload of each type.

Central builds payloads with these functions; a store reads them back with the `*_from_payload`
functions, so both sides agree on one shape. The snapshot a store loads when its cursor is
too old carries its categories and articles in the same shapes as the events.

A store that meets a type it does not know logs it and moves on: central may be newer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

from recommerce.catalog.model import Article, Category, Grade
from recommerce.money import Money

FEED_SCHEMA_VERSION = 1

T = TypeVar("T")

CATEGORY_UPSERTED = "CategoryUpserted"
ARTICLE_UPSERTED = "ArticleUpserted"
CONFIGURATION_CHANGED = "ConfigurationChanged"
# A price guide trained at central: the store quotes with it (recommerce.argus.guide).
ARGUS_GUIDE_PUBLISHED = "ArgusGuidePublished"

FEED_TYPES = frozenset(
    {CATEGORY_UPSERTED, ARTICLE_UPSERTED, CONFIGURATION_CHANGED, ARGUS_GUIDE_PUBLISHED}
)

# How many events central keeps per store by default; a store further behind reloads the
# snapshot. 100,000 is weeks of catalogue changes for a chain's catalogue.
DEFAULT_FEED_RETENTION = 100_000


class PayloadError(ValueError):
    """A feed payload is missing a field or has one of the wrong type."""


def category_upserted(category: Category) -> dict[str, Any]:
    """`CategoryUpserted`: the category and its written definition of every grade."""
    return {
        "code": category.code,
        "name": category.name,
        "precious_metal": category.precious_metal,
        "grades": {
            grade.value: category.grade_definitions[grade]
            for grade in Grade
            if grade in category.grade_definitions
        },
    }


def article_upserted(article: Article) -> dict[str, Any]:
    """`ArticleUpserted`: every field of the article (a store replaces its copy whole)."""
    return {
        "id": article.id,
        "category_code": article.category_code,
        "brand": article.brand,
        "model": article.model,
        "name": article.name,
        "gtin": article.gtin,
        "reference_new_price_cents": article.reference_new_price.cents,
        "released_on": article.released_on.isoformat() if article.released_on else None,
        "attributes": dict(article.attributes),
    }


def configuration_changed(key: str, value: Any) -> dict[str, Any]:
    """`ConfigurationChanged`: one chain-wide setting and its new value (any JSON value)."""
    return {"key": key, "value": value}


def category_from_payload(payload: Mapping[str, Any]) -> Category:
    grades = _field(payload, "grades", dict)
    try:
        definitions = {Grade(g): str(d) for g, d in grades.items()}
    except ValueError as exc:
        raise PayloadError(f"grades: {exc}") from exc
    return Category(
        code=_field(payload, "code", str),
        name=_field(payload, "name", str),
        precious_metal=_field(payload, "precious_metal", bool),
        grade_definitions=definitions,
    )


def article_from_payload(payload: Mapping[str, Any]) -> Article:
    released = payload.get("released_on")
    try:
        released_on = date.fromisoformat(released) if released is not None else None
    except (TypeError, ValueError) as exc:
        raise PayloadError(f"released_on: not an ISO date: {released!r}") from exc
    gtin = payload.get("gtin")
    if gtin is not None and not isinstance(gtin, str):
        raise PayloadError("gtin: expected a string or null")
    cents = _field(payload, "reference_new_price_cents", int)
    if isinstance(cents, bool):
        raise PayloadError("reference_new_price_cents: expected an integer")
    attributes = _field(payload, "attributes", dict)
    return Article(
        id=_field(payload, "id", str),
        category_code=_field(payload, "category_code", str),
        brand=_field(payload, "brand", str),
        model=_field(payload, "model", str),
        name=_field(payload, "name", str),
        reference_new_price=Money(cents),
        gtin=gtin,
        released_on=released_on,
        attributes={str(k): str(v) for k, v in attributes.items()},
    )


def _field(payload: Mapping[str, Any], name: str, kind: type[T]) -> T:
    if name not in payload:
        raise PayloadError(f"{name}: missing")
    value = payload[name]
    if not isinstance(value, kind):
        raise PayloadError(f"{name}: expected {kind.__name__}, got {type(value).__name__}")
    return value
