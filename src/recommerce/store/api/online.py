"""An item's online listing at its store: photos, description, ready for online."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Response, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from recommerce.errors import DomainError, ErrorCode, NotFound
from recommerce.marketplace.listing import MAX_DESCRIPTION
from recommerce.marketplace.photos import MAX_UPLOAD_BYTES
from recommerce.store.api.deps import NodeDep, StaffDep
from recommerce.store.api.schemas import ItemOut, Strict
from recommerce.store.services import online
from recommerce.store.services import online_orders as orders
from recommerce.store.services.online import OnlineListing

router = APIRouter(prefix="/api/v1", tags=["online"])

Sha256 = Annotated[str, Path(pattern="^[0-9a-f]{64}$")]


class PhotoOut(BaseModel):
    position: int
    width: int
    height: int
    url: str
    thumbnail_url: str


class OnlineListingOut(BaseModel):
    item: ItemOut
    description: str
    published: bool = Field(description="staff marked the item ready for online")
    online: bool = Field(description="published, and customers can buy it now")
    problems: list[str] = Field(description="why it cannot be published now")
    photos: list[PhotoOut]

    @classmethod
    def of(cls, listing: OnlineListing) -> OnlineListingOut:
        return cls(
            item=ItemOut.of(listing.item),
            description=listing.description,
            published=listing.published,
            online=listing.online,
            problems=listing.problems,
            photos=[
                PhotoOut(
                    position=p.position,
                    width=p.width,
                    height=p.height,
                    url=f"/api/v1/photos/{p.full_sha256}",
                    thumbnail_url=f"/api/v1/photos/{p.thumb_sha256}",
                )
                for p in listing.photos
            ],
        )


class PublishIn(Strict):
    published: bool
    description: Annotated[str | None, Field(max_length=MAX_DESCRIPTION)] = None


@router.get(
    "/items/{item}/online",
    response_model=OnlineListingOut,
    summary="The item's online listing: photos, description, and what it lacks to go online",
)
def get_listing(item: str, node: NodeDep, staff: StaffDep) -> OnlineListingOut:
    return OnlineListingOut.of(online.listing_of(node, item))


@router.put(
    "/items/{item}/online",
    response_model=OnlineListingOut,
    summary="Mark the item ready for online (or take it offline), with its description",
)
def put_listing(item: str, body: PublishIn, node: NodeDep, staff: StaffDep) -> OnlineListingOut:
    listing = online.publish(
        node, staff, item, published=body.published, description=body.description
    )
    return OnlineListingOut.of(listing)


@router.post(
    "/items/{item}/photos",
    response_model=OnlineListingOut,
    status_code=201,
    summary="Add a photo (JPEG, PNG or WebP); location metadata is removed, a thumbnail made",
)
async def add_photo(
    item: str,
    node: NodeDep,
    staff: StaffDep,
    photo: Annotated[UploadFile, File(description="the image file")],
) -> OnlineListingOut:
    raw = await photo.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        raise DomainError(
            f"the photo is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB",
            code=ErrorCode.PHOTO_REJECTED,
            field="photo",
        )
    listing = await run_in_threadpool(online.add_photo, node, staff, item, raw)
    return OnlineListingOut.of(listing)


@router.delete(
    "/items/{item}/photos/{position}",
    response_model=OnlineListingOut,
    summary="Remove one photo of the item",
)
def remove_photo(item: str, position: int, node: NodeDep, staff: StaffDep) -> OnlineListingOut:
    return OnlineListingOut.of(online.remove_photo(node, staff, item, position))


@router.get(
    "/photos/{sha256}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
    summary="A photo file, by its sha256 (cacheable forever: its address is its content)",
)
def photo_file(sha256: Sha256, node: NodeDep) -> Response:
    data = node.photos.get(sha256)
    if data is None:
        raise NotFound(f"no photo {sha256}", code=ErrorCode.NOT_FOUND, field="sha256")
    return Response(
        data,
        media_type="image/jpeg",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


# --- online orders to serve -------------------------------------------------------------------


class OnlineOrderOut(BaseModel):
    order_id: str
    number: str
    fulfilment: str
    customer_name: str
    items: list[dict[str, Any]]
    total_cents: int
    status: str
    reasons: list[dict[str, Any]] | None
    received_at: datetime
    tracking_number: str | None
    ticket_number: str | None


class HandOverIn(Strict):
    till: Annotated[str | None, Field(max_length=20)] = None
    tracking_number: Annotated[str | None, Field(min_length=3, max_length=64)] = None


@router.get(
    "/online-orders",
    response_model=list[OnlineOrderOut],
    summary="Online orders of this store's items: to prepare, ready, handed over...",
)
def online_orders(
    node: NodeDep, staff: StaffDep, status: str | None = None
) -> list[OnlineOrderOut]:
    return [OnlineOrderOut.model_validate(o) for o in orders.list_orders(node, status=status)]


@router.get("/online-orders/{number}", response_model=OnlineOrderOut, summary="An online order")
def online_order(number: str, node: NodeDep, staff: StaffDep) -> OnlineOrderOut:
    return OnlineOrderOut.model_validate(orders.get_order(node, number))


@router.post(
    "/online-orders/{number}/ready",
    response_model=OnlineOrderOut,
    summary="Prepared: the customer may come and collect it",
)
def order_ready(number: str, node: NodeDep, staff: StaffDep) -> OnlineOrderOut:
    return OnlineOrderOut.model_validate(orders.mark_ready(node, staff, number))


@router.post(
    "/online-orders/{number}/hand-over",
    response_model=OnlineOrderOut,
    summary="Collected at a till, or shipped with its tracking number: the sale of its items",
)
def order_hand_over(
    number: str, body: HandOverIn, node: NodeDep, staff: StaffDep
) -> OnlineOrderOut:
    order = orders.hand_over(
        node, staff, number, till=body.till, tracking_number=body.tracking_number
    )
    return OnlineOrderOut.model_validate(order)
