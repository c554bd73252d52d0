"""The marketplace's product feed for Google Merchant Center, in XML (RSS 2.0) and in TSV: every
item on sale online, so Google Shopping can show it. Google fetches the file on a schedule.

The feed is written as it is read: listings come from the database a chunk at a time, in item
id order (each chunk after the last id sent, in its own short read), and go out to the client
in pieces, so neither the rows nor the document are ever held whole in memory. An item sold
while the feed is being read is left out if its chunk is read after the sale.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from recommerce.central.api.deps import CentralDep
from recommerce.central.api.marketplace import photo_url
from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import marketplace_tables as m
from recommerce.central.services.listings import listing_query
from recommerce.central.web.storefront import absolute_base, item_path
from recommerce.marketplace.merchant_feed import FeedItem, feed_item, tsv_chunks, xml_chunks

router = APIRouter(tags=["marketplace"])

CHUNK = 1000  # listings read from the database at a time
FLUSH_CHARS = 64 * 1024  # characters gathered before a piece is sent
CACHE = {"Cache-Control": "public, max-age=900"}  # Google and proxies may keep it 15 minutes
SHOP_TITLE = "recommerce — articles d'occasion de nos magasins"
XML_TYPE = "application/xml; charset=utf-8"
TSV_TYPE = "text/tab-separated-values; charset=utf-8"


def feed_item_of(row: Any, base: str) -> FeedItem | None:
    """The offer of a listing row (`listing_query()`), with addresses under `base`; the row's
    label code is the store's own and is never read."""
    return feed_item(
        item_id=row.item_id,
        title=row.title,
        brand=row.brand,
        category_name=row.category_name,
        grade=row.grade,
        grade_definition=row.grade_definition,
        description=row.description,
        price_cents=row.price_cents,
        link=base + item_path(row.item_id),
        photo_links=[base + photo_url(photo["full_sha256"]) for photo in row.photos],
    )


def _rows_after(central: CentralNode, after: str, limit: int) -> list[Any]:
    with central.reading() as conn:
        return list(
            conn.execute(
                listing_query()
                .where(m.listings.c.item_id > after)
                .order_by(m.listings.c.item_id)
                .limit(limit)
            ).all()
        )


def feed_items(central: CentralNode, base: str, *, chunk: int = CHUNK) -> Iterator[FeedItem]:
    """Every item on sale online as an offer, read from the database a chunk at a time."""
    after = ""
    while True:
        rows = _rows_after(central, after, chunk)
        for row in rows:
            item = feed_item_of(row, base)
            if item is not None:
                yield item
        if len(rows) < chunk:
            return
        after = rows[-1].item_id


def _gathered(pieces: Iterable[str], size: int = FLUSH_CHARS) -> Iterator[str]:
    """The pieces joined into parts of about `size` characters: one send per part, not one
    per item."""
    buffer: list[str] = []
    length = 0
    for piece in pieces:
        buffer.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer)


@router.get(
    "/feeds/google-merchant.xml",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/xml": {}}}},
    summary="Google Merchant Center product feed of the items on sale online (RSS 2.0)",
)
async def google_merchant_xml(request: Request, central: CentralDep) -> StreamingResponse:
    base = absolute_base(request)
    chunks = xml_chunks(feed_items(central, base), shop_title=SHOP_TITLE, shop_link=base + "/")
    return StreamingResponse(_gathered(chunks), media_type=XML_TYPE, headers=CACHE)


@router.get(
    "/feeds/google-merchant.tsv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/tab-separated-values": {}}}},
    summary="Google Merchant Center product feed of the items on sale online (TSV)",
)
async def google_merchant_tsv(request: Request, central: CentralDep) -> StreamingResponse:
    chunks = tsv_chunks(feed_items(central, absolute_base(request)))
    return StreamingResponse(_gathered(chunks), media_type=TSV_TYPE, headers=CACHE)
