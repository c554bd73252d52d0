"""The product feed of the marketplace for Google Merchant Center: every item on sale online,
in Google's RSS 2.0 (XML) or tab-separated (TSV) format, so the items show in Google Shopping.

Each of our items is one offer of its own: its id is the item's id, never the store's label
code, and no `gtin` or `mpn` is sent (`identifier_exists` is `no`): a second-hand item is not
the new product a manufacturer's code names. The writers stream: they write one item at a
time and never hold the whole document in memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO, TextIO, cast
from xml.sax.saxutils import escape

from recommerce.catalog.model import Grade

GOOGLE_NS = "http://base.google.com/ns/1.0"
CURRENCY = "EUR"
IN_STOCK = "in_stock"
USED = "used"
# Google's limits on the length of a value, in characters.
MAX_TITLE = 150
MAX_DESCRIPTION = 5000
MAX_BRAND = 70
MAX_PRODUCT_TYPE = 750
MAX_ADDITIONAL_IMAGES = 10

# The columns of the TSV feed, in order: Google's attribute names.
TSV_COLUMNS = (
    "id",
    "title",
    "description",
    "link",
    "image_link",
    "additional_image_link",
    "availability",
    "price",
    "condition",
    "brand",
    "identifier_exists",
    "product_type",
)

# Characters XML 1.0 forbids even escaped (C0 controls but tab, line feed and carriage return;
# surrogates; U+FFFE and U+FFFF), and the C1 controls, which no product text needs.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# What breaks a TSV row or cell: every control character, and the Unicode line separators.
_NOT_TSV = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_XML_ENTITIES = {'"': "&quot;", "'": "&apos;"}


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One offer in the feed: what Google needs of an item on sale, with absolute addresses."""

    id: str  # our item id (a UUID, within Google's 50 characters), never the label code
    title: str  # the article's name, e.g. "Apple iPhone 12 64 Go"
    description: str  # article, grade and the store's own words
    link: str  # the item's page on the marketplace
    image_link: str  # the first photo, full size
    price_cents: int
    condition: str  # Google's value: always "used" here (see `google_condition`)
    brand: str  # "" when the article has none
    product_type: str  # our category's name, e.g. "Téléphones"
    additional_image_links: tuple[str, ...] = ()  # the other photos, at most ten
    availability: str = IN_STOCK  # only items on sale are exported


def google_condition(grade: str) -> str:
    """Google's `condition` of an item of this grade: "used", whatever the grade.

    Google knows three conditions: new, refurbished and used. Our items are bought from the
    public and resold second-hand; a store checks, cleans and grades them (A like new to
    D for parts) but does not restore them to a manufacturer's specification, which is what
    Google means by refurbished. Even grade A ("like new") is therefore "used": calling it new
    or refurbished would mislead the customer. An unknown grade is
    refused (ValueError), as it is everywhere else in the chain.
    """
    Grade(grade)
    return USED


def google_price(cents: int) -> str:
    """A price as Google reads it: "349.00 EUR"."""
    return f"{Decimal(cents).scaleb(-2):.2f} {CURRENCY}"


def feed_description(title: str, grade: str, grade_definition: str | None, description: str) -> str:
    """What a customer reads of the offer on Google: the article, what its grade means for
    its category, then the store's own description; cut to Google's 5000 characters."""
    condition = (
        f"État {grade} : {grade_definition.strip()}" if grade_definition else f"État {grade}"
    )
    parts = (title.strip(), condition, description.strip())
    return _cut("\n".join(part for part in parts if part), MAX_DESCRIPTION)


def feed_item(
    *,
    item_id: str,
    title: str,
    brand: str | None,
    category_name: str,
    grade: str,
    grade_definition: str | None,
    description: str,
    price_cents: int,
    link: str,
    photo_links: Sequence[str],
) -> FeedItem | None:
    """The offer of one item on sale, from its listing; None for an item without a photo,
    which Google refuses (`image_link` is required). `link` and `photo_links` are absolute."""
    if not photo_links:
        return None
    return FeedItem(
        id=item_id,
        title=_cut(title.strip(), MAX_TITLE),
        description=feed_description(title, grade, grade_definition, description),
        link=link,
        image_link=photo_links[0],
        additional_image_links=tuple(photo_links[1 : 1 + MAX_ADDITIONAL_IMAGES]),
        price_cents=price_cents,
        condition=google_condition(grade),
        brand=_cut((brand or "").strip(), MAX_BRAND),
        product_type=_cut(category_name.strip(), MAX_PRODUCT_TYPE),
    )


# --- XML (RSS 2.0 with Google's namespace) ------------------------------------------------------


def xml_chunks(items: Iterable[FeedItem], *, shop_title: str, shop_link: str) -> Iterator[str]:
    """The RSS 2.0 document, a piece at a time: the channel's head, one piece per item, and
    the closing tags."""
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" xmlns:g="{GOOGLE_NS}">\n<channel>\n'
        f"<title>{_xml(shop_title)}</title>\n"
        f"<link>{_xml(shop_link)}</link>\n"
        f"<description>{_xml(shop_title)}</description>\n"
    )
    for item in items:
        yield xml_item(item)
    yield "</channel>\n</rss>\n"


def xml_item(item: FeedItem) -> str:
    """One `<item>` of the XML feed, every attribute in Google's namespace."""
    elements = [
        ("id", item.id),
        ("title", item.title),
        ("description", item.description),
        ("link", item.link),
        ("image_link", item.image_link),
        *(("additional_image_link", link) for link in item.additional_image_links),
        ("availability", item.availability),
        ("price", google_price(item.price_cents)),
        ("condition", item.condition),
        *((("brand", item.brand),) if item.brand else ()),
        ("identifier_exists", "no"),
        *((("product_type", item.product_type),) if item.product_type else ()),
    ]
    body = "".join(f"<g:{name}>{_xml(value)}</g:{name}>\n" for name, value in elements)
    return f"<item>\n{body}</item>\n"


def write_xml(
    items: Iterable[FeedItem], out: TextIO | BinaryIO, *, shop_title: str, shop_link: str
) -> None:
    """Write the XML feed to a text file or a binary one (UTF-8), an item at a time."""
    write = _writer(out)
    for chunk in xml_chunks(items, shop_title=shop_title, shop_link=shop_link):
        write(chunk)


# --- TSV ----------------------------------------------------------------------------------------


def tsv_chunks(items: Iterable[FeedItem]) -> Iterator[str]:
    """The TSV feed, a line at a time: the header of Google's attribute names, then one line
    per item."""
    yield "\t".join(TSV_COLUMNS) + "\n"
    for item in items:
        yield tsv_row(item)


def tsv_row(item: FeedItem) -> str:
    """One line of the TSV feed; the other photos are comma-separated, as Google asks."""
    values = {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "link": item.link,
        "image_link": item.image_link,
        "additional_image_link": ",".join(item.additional_image_links),
        "availability": item.availability,
        "price": google_price(item.price_cents),
        "condition": item.condition,
        "brand": item.brand,
        "identifier_exists": "no",
        "product_type": item.product_type,
    }
    return "\t".join(_tsv(values[column]) for column in TSV_COLUMNS) + "\n"


def write_tsv(items: Iterable[FeedItem], out: TextIO | BinaryIO) -> None:
    """Write the TSV feed to a text file or a binary one (UTF-8), a line at a time."""
    write = _writer(out)
    for chunk in tsv_chunks(items):
        write(chunk)


# --- helpers ------------------------------------------------------------------------------------


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _xml(value: str) -> str:
    """A value as XML text: forbidden characters become spaces, markup is escaped."""
    return escape(_NOT_XML.sub(" ", value), _XML_ENTITIES)


def _tsv(value: str) -> str:
    """A value as one TSV cell: tabs, line breaks and other controls become spaces. A value
    holding a quotation mark is quoted, its quotes doubled: Google reads quoted fields (the
    default of a data source), where a bare quote would open one."""
    cell = _NOT_TSV.sub(" ", value)
    return '"' + cell.replace('"', '""') + '"' if '"' in cell else cell


def _writer(out: TextIO | BinaryIO) -> Callable[[str], object]:
    """How to write text to `out`: as is to a text file, encoded in UTF-8 to a binary one."""
    try:
        cast(TextIO, out).write("")  # a binary file refuses text
    except TypeError:
        binary = cast(BinaryIO, out)
        return lambda text: binary.write(text.encode("utf-8"))
    return cast(TextIO, out).write
