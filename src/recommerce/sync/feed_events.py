"""The downstream feed's vocabulary: what central tells a store, and the payload of each type.

Central builds payloads with these functions; a store reads them back with the `*_from_payload`
functions, so both sides agree on one shape. The snapshot a store loads when its cursor is
too old carries its categories and articles in the same shapes as the events.

A store that meets a type it does not know logs it and moves on: central may be newer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from recommerce.catalog.model import Article, Category, Grade
from recommerce.inventory.model import Item, VatRegime
from recommerce.money import Money

FEED_SCHEMA_VERSION = 1

T = TypeVar("T")

CATEGORY_UPSERTED = "CategoryUpserted"
ARTICLE_UPSERTED = "ArticleUpserted"
CONFIGURATION_CHANGED = "ConfigurationChanged"
# A price guide trained at central: the store quotes with it (recommerce.argus.guide).
ARGUS_GUIDE_PUBLISHED = "ArgusGuidePublished"
# Items another store sent this one (its `ItemsTransferred`): expect them, receive them.
TRANSFER_INCOMING = "TransferIncoming"

FEED_TYPES = frozenset(
    {
        CATEGORY_UPSERTED,
        ARTICLE_UPSERTED,
        CONFIGURATION_CHANGED,
        ARGUS_GUIDE_PUBLISHED,
        TRANSFER_INCOMING,
    }
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


@dataclass(frozen=True, slots=True)
class TransferredItem:
    """What a store needs to hold an item another store sent it: one entry of the `items` of
    `ItemsTransferred` (upstream) and of `TransferIncoming` (down the receiving store's feed)."""

    item_id: str
    label_code: str  # unchanged: it carries the acquiring store's number, so it is chain-unique
    store_number: int  # the store that acquired it: its police register holds the entry
    article_id: str
    grade: Grade
    purchase_id: str
    purchased_at: datetime
    purchase_price_cents: int
    asking_price_cents: int
    vat_regime: VatRegime
    register_book: str
    register_number: int
    serials: tuple[str, ...]
    accessories: tuple[str, ...]
    description: str
    resale_blocked_until: datetime | None
    weight_grams: str | None
    fineness: int | None


@dataclass(frozen=True, slots=True)
class IncomingTransfer:
    transfer_id: str
    number: str
    from_store: int
    to_store: int
    note: str
    sent_at: datetime
    items: tuple[TransferredItem, ...]


def transferred_item(item: Item) -> dict[str, Any]:
    """An item as a transfer carries it (the sending store builds it from its own row)."""
    return {
        "item_id": item.id,
        "label_code": item.label_code,
        "store_number": item.store_number,
        "article_id": item.article_id,
        "grade": item.grade.value,
        "purchase_id": item.purchase_id,
        "purchased_at": item.created_at.isoformat(),
        "purchase_price_cents": item.purchase_price.cents,
        "asking_price_cents": item.asking_price.cents,
        "vat_regime": item.vat_regime.value,
        "register_book": item.register_book,
        "register_number": item.register_number,
        "serials": list(item.serials),
        "accessories": list(item.accessories),
        "description": item.description,
        "resale_blocked_until": (
            item.resale_blocked_until.isoformat() if item.resale_blocked_until else None
        ),
        "weight_grams": item.weight_grams,
        "fineness": item.fineness,
    }


def transfer_incoming(transferred: Mapping[str, Any], sent_at: datetime) -> dict[str, Any]:
    """`TransferIncoming`: the sending store's `ItemsTransferred` payload, as the receiving
    store reads it (the sender's staff id stays at central)."""
    return {
        "transfer_id": transferred["transfer_id"],
        "number": transferred["number"],
        "from_store": transferred["from_store"],
        "to_store": transferred["to_store"],
        "note": transferred["note"],
        "sent_at": sent_at.isoformat(),
        "items": [dict(item) for item in transferred["items"]],
    }


def incoming_transfer_from_payload(payload: Mapping[str, Any]) -> IncomingTransfer:
    items = _field(payload, "items", list)
    if not items:
        raise PayloadError("items: empty")
    return IncomingTransfer(
        transfer_id=_field(payload, "transfer_id", str),
        number=_field(payload, "number", str),
        from_store=_integer(payload, "from_store"),
        to_store=_integer(payload, "to_store"),
        note=_field(payload, "note", str),
        sent_at=_instant(payload, "sent_at"),
        items=tuple(transferred_item_from_payload(raw) for raw in items),
    )


def transferred_item_from_payload(raw: Any) -> TransferredItem:
    if not isinstance(raw, Mapping):
        raise PayloadError("items: expected objects")
    try:
        grade = Grade(_field(raw, "grade", str))
        regime = VatRegime(_field(raw, "vat_regime", str))
    except ValueError as exc:
        raise PayloadError(f"items: {exc}") from exc
    blocked = raw.get("resale_blocked_until")
    weight = raw.get("weight_grams")
    fineness = raw.get("fineness")
    if weight is not None and not isinstance(weight, str):
        raise PayloadError("weight_grams: expected a string or null")
    if fineness is not None and (not isinstance(fineness, int) or isinstance(fineness, bool)):
        raise PayloadError("fineness: expected an integer or null")
    return TransferredItem(
        item_id=_field(raw, "item_id", str),
        label_code=_field(raw, "label_code", str),
        store_number=_integer(raw, "store_number"),
        article_id=_field(raw, "article_id", str),
        grade=grade,
        purchase_id=_field(raw, "purchase_id", str),
        purchased_at=_instant(raw, "purchased_at"),
        purchase_price_cents=_integer(raw, "purchase_price_cents"),
        asking_price_cents=_integer(raw, "asking_price_cents"),
        vat_regime=regime,
        register_book=_field(raw, "register_book", str),
        register_number=_integer(raw, "register_number"),
        serials=_strings(raw, "serials"),
        accessories=_strings(raw, "accessories"),
        description=_field(raw, "description", str),
        resale_blocked_until=None if blocked is None else _instant(raw, "resale_blocked_until"),
        weight_grams=weight,
        fineness=fineness,
    )


def _integer(payload: Mapping[str, Any], name: str) -> int:
    value = _field(payload, name, int)
    if isinstance(value, bool):
        raise PayloadError(f"{name}: expected an integer")
    return value


def _strings(payload: Mapping[str, Any], name: str) -> tuple[str, ...]:
    values = _field(payload, name, list)
    if not all(isinstance(v, str) for v in values):
        raise PayloadError(f"{name}: expected a list of strings")
    return tuple(values)


def _instant(payload: Mapping[str, Any], name: str) -> datetime:
    """An ISO 8601 instant with its offset."""
    text = _field(payload, name, str)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise PayloadError(f"{name}: not an ISO 8601 instant: {text!r}") from exc
    if moment.utcoffset() is None:
        raise PayloadError(f"{name}: the instant has no offset: {text!r}")
    return moment


def _field(payload: Mapping[str, Any], name: str, kind: type[T]) -> T:
    if name not in payload:
        raise PayloadError(f"{name}: missing")
    value = payload[name]
    if not isinstance(value, kind):
        raise PayloadError(f"{name}: expected {kind.__name__}, got {type(value).__name__}")
    return value
