"""The marketplace's JSON API: search the listings of every store, and one listing.

Search asks the index (`ListingIndex`) for a page of item ids, then reads those listings back
from the database: a listing sold a moment ago is dropped from the page even before the index
has caught up. An item sold, taken offline or unknown answers 404 `listing_not_found`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from recommerce.catalog.model import Grade
from recommerce.central.api.deps import AdminDep, CentralDep
from recommerce.central.bootstrap import CentralNode
from recommerce.central.services.listings import listings_by_id
from recommerce.central.services.search_index import ListingIndexer
from recommerce.errors import ErrorCode, NotFound
from recommerce.marketplace.search import MAX_LIMIT, ListingQuery, ListingResults, Sort
from recommerce.pos.receipts import GUARANTEE_TEXT

router = APIRouter(prefix="/api/v1/marketplace", tags=["marketplace"])

AVAILABLE = "available"
# The store has not been heard from lately: the item is shown, and cannot be paid for until
# the store confirms it still holds it (architecture.md section 3).
BEING_CONFIRMED = "being_confirmed"


class PhotoOut(BaseModel):
    url: str
    thumbnail_url: str
    width: int
    height: int


class StoreOut(BaseModel):
    number: int
    name: str
    city: str


class ListingOut(BaseModel):
    item_id: str
    title: str
    brand: str
    category_code: str
    category_name: str
    grade: str
    grade_definition: str | None = Field(description="what the grade means for this category")
    price_cents: int
    description: str
    photos: list[PhotoOut]
    store: StoreOut
    listed_at: datetime
    availability: str = Field(description=f"`{AVAILABLE}` or `{BEING_CONFIRMED}`")
    guarantee: str


class FacetsOut(BaseModel):
    category: dict[str, int]
    brand: dict[str, int]
    grade: dict[str, int]
    city: dict[str, int]


class SearchOut(BaseModel):
    total: int = Field(description="listings matching the search, all pages")
    offset: int
    limit: int
    items: list[ListingOut]
    facets: FacetsOut = Field(description="counts per value over all matching listings")
    engine: str = Field(description="the search engine that answered")


def photo_url(sha256: str) -> str:
    return f"/api/v1/marketplace/photos/{sha256}"


def availability(last_seen_at: datetime | None, now: datetime, silence: timedelta) -> str:
    if last_seen_at is None or now - last_seen_at > silence:
        return BEING_CONFIRMED
    return AVAILABLE


def listing_out(row: Any, now: datetime, silence: timedelta) -> ListingOut:
    return ListingOut(
        item_id=row.item_id,
        title=row.title,
        brand=row.brand,
        category_code=row.category_code,
        category_name=row.category_name,
        grade=row.grade,
        grade_definition=row.grade_definition,
        price_cents=row.price_cents,
        description=row.description,
        photos=[
            PhotoOut(
                url=photo_url(p["full_sha256"]),
                thumbnail_url=photo_url(p["thumb_sha256"]),
                width=p["width"],
                height=p["height"],
            )
            for p in row.photos
        ],
        store=StoreOut(number=row.store_number, name=row.store_name, city=row.city),
        listed_at=row.published_at,
        availability=availability(row.last_seen_at, now, silence),
        guarantee=GUARANTEE_TEXT,
    )


def search_listings(
    central: CentralNode, indexer: ListingIndexer, query: ListingQuery
) -> tuple[ListingResults, list[ListingOut]]:
    """A page of the search, each hit re-read from the database (sold ones dropped)."""
    results = indexer.index.search(query)
    with central.reading() as conn:
        rows = listings_by_id(conn, results.item_ids)
    now, silence = central.clock.now(), timedelta(seconds=central.settings.store_silence_s)
    page = [listing_out(rows[i], now, silence) for i in results.item_ids if i in rows]
    return results, page


def find_listing(central: CentralNode, item_id: str) -> ListingOut:
    with central.reading() as conn:
        row = listings_by_id(conn, [item_id]).get(item_id)
    if row is None:
        raise NotFound(
            f"item {item_id} is not on sale online (sold, taken offline, or unknown)",
            code=ErrorCode.LISTING_NOT_FOUND,
            field="item_id",
        )
    silence = timedelta(seconds=central.settings.store_silence_s)
    return listing_out(row, central.clock.now(), silence)


Text = Annotated[str, Query(max_length=200, description="words; accents and one typo forgiven")]
Cents = Annotated[int | None, Query(ge=0, le=100_000_000)]


@router.get("/listings", response_model=SearchOut, summary="Search the items of every store")
async def search(
    request: Request,
    central: CentralDep,
    q: Text = "",
    category: Annotated[str | None, Query(max_length=40)] = None,
    brand: Annotated[str | None, Query(max_length=120)] = None,
    grade: Annotated[list[Grade], Query(max_length=4, description="repeatable")] = [],  # noqa: B006
    min_price_cents: Cents = None,
    max_price_cents: Cents = None,
    city: Annotated[str | None, Query(max_length=120)] = None,
    store: Annotated[int | None, Query(ge=0, le=999)] = None,
    sort: Sort = Sort.RELEVANCE,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 24,
) -> SearchOut:
    query = ListingQuery(
        text=q,
        category=category,
        brand=brand,
        grades=tuple(g.value for g in grade),
        min_price_cents=min_price_cents,
        max_price_cents=max_price_cents,
        city=city,
        store_number=store,
        sort=sort,
        offset=offset,
        limit=limit,
    )
    indexer: ListingIndexer = request.app.state.indexer
    results, page = await run_in_threadpool(search_listings, central, indexer, query)
    f = results.facets
    return SearchOut(
        total=results.total,
        offset=offset,
        limit=limit,
        items=page,
        facets=FacetsOut(category=f.category, brand=f.brand, grade=f.grade, city=f.city),
        engine=indexer.index.engine,
    )


@router.get(
    "/listings/{item_id}",
    response_model=ListingOut,
    summary="One item on sale online",
    responses={404: {"description": "`listing_not_found`: sold, taken offline, or unknown"}},
)
async def get_listing(
    item_id: Annotated[str, Path(max_length=36)], central: CentralDep
) -> ListingOut:
    return await run_in_threadpool(find_listing, central, item_id)


@router.post(
    "/search/rebuild",
    summary="Rebuild the search index from the database (head office administrators)",
)
async def rebuild_index(request: Request, _admin: AdminDep) -> dict[str, int]:
    indexer: ListingIndexer = request.app.state.indexer
    return {"indexed": await run_in_threadpool(indexer.rebuild)}
