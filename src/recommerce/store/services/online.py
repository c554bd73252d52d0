"""An item's online listing at its store: photos, a description for customers, and publishing.

The store owns its items (architecture.md section 3): it alone says which of them are offered
online. Publishing writes an `ItemListingChanged` event in the same transaction; central lists
the item while it is published and in stock (a till sale ends the listing, a return brings it
back). Photo files are kept by content (sha256) in the node's photo storage before the row
that names them is written, so a rolled-back upload leaves at most an unnamed file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from recommerce.errors import DomainError, ErrorCode, NotFound
from recommerce.inventory.model import Item
from recommerce.marketplace.listing import MAX_DESCRIPTION, MAX_PHOTOS, publication_problems
from recommerce.marketplace.photos import PhotoRejected, process_photo
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.db.repositories import SqlItems
from recommerce.store.db.uow import SqlUnitOfWork
from recommerce.sync.events import ITEM_LISTING_CHANGED, Event


@dataclass(frozen=True, slots=True)
class Photo:
    position: int
    full_sha256: str
    thumb_sha256: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class OnlineListing:
    """What the store offers online of one item, and whether customers can see it now."""

    item: Item
    description: str
    published: bool
    photos: list[Photo]
    problems: list[str]  # why it cannot be published now; empty when it can

    @property
    def online(self) -> bool:
        return self.published and not self.problems


def listing_of(node: StoreNode, id_or_label: str) -> OnlineListing:
    with node.reading() as conn:
        return _listing(conn, _item(SqlItems(conn), id_or_label), node.clock.now())


def add_photo(node: StoreNode, staff: StaffMember, id_or_label: str, raw: bytes) -> OnlineListing:
    """Clean (location metadata removed), resize and keep one photo, shown after the others."""
    staff.require(Permission.MANAGE_STOCK)
    try:
        processed = process_photo(raw)
    except PhotoRejected as exc:
        raise DomainError(str(exc), code=ErrorCode.PHOTO_REJECTED, field="photo") from exc
    for variant in (processed.full, processed.thumb):
        node.photos.put(variant.sha256, variant.data, variant.content_type)
    with node.uow() as uow:
        item = _item(uow.items, id_or_label)
        photos = _photos(uow.conn, item.id)
        if len(photos) >= MAX_PHOTOS:
            raise DomainError(
                f"item {item.label_code} has {MAX_PHOTOS} photos already: remove one first",
                code=ErrorCode.PHOTO_REJECTED,
                field="photo",
            )
        now = node.clock.now()
        uow.conn.execute(
            insert(t.item_photos).values(
                item_id=item.id,
                position=max((p.position for p in photos), default=0) + 1,
                full_sha256=processed.full.sha256,
                thumb_sha256=processed.thumb.sha256,
                width=processed.full.width,
                height=processed.full.height,
                added_at=now,
                added_by=staff.id,
            )
        )
        return _changed(uow, item, staff, now)


def remove_photo(
    node: StoreNode, staff: StaffMember, id_or_label: str, position: int
) -> OnlineListing:
    """Take one photo off the item; a published item keeps at least one."""
    staff.require(Permission.MANAGE_STOCK)
    with node.uow() as uow:
        item = _item(uow.items, id_or_label)
        removed = uow.conn.execute(
            delete(t.item_photos).where(
                t.item_photos.c.item_id == item.id, t.item_photos.c.position == position
            )
        ).rowcount
        if removed != 1:
            raise NotFound(
                f"item {item.label_code} has no photo {position}",
                code=ErrorCode.NOT_FOUND,
                field="position",
            )
        if _published(uow.conn, item.id) and not _photos(uow.conn, item.id):
            raise DomainError(
                "a published item keeps at least one photo: take it offline first",
                code=ErrorCode.NOT_READY_FOR_ONLINE,
                field="position",
            )
        return _changed(uow, item, staff, node.clock.now())


def publish(
    node: StoreNode,
    staff: StaffMember,
    id_or_label: str,
    *,
    published: bool,
    description: str | None = None,
) -> OnlineListing:
    """Mark the item ready for online (or take it offline), with its text for customers."""
    staff.require(Permission.MANAGE_STOCK)
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise DomainError(
            f"the description has {len(description)} characters, at most {MAX_DESCRIPTION}",
            field="description",
        )
    with node.uow() as uow:
        item = _item(uow.items, id_or_label)
        now = node.clock.now()
        text = description.strip() if description is not None else _description(uow.conn, item)
        if published:
            problems = publication_problems(
                item, photos=len(_photos(uow.conn, item.id)), description=text, now=now
            )
            if problems:
                raise DomainError(
                    f"item {item.label_code} cannot go online: " + "; ".join(problems),
                    code=ErrorCode.NOT_READY_FOR_ONLINE,
                    field="published",
                    problems=problems,
                )
        row = {
            "description": text,
            "published": published,
            "updated_at": now,
            "updated_by": staff.id,
        }
        if (
            uow.conn.execute(
                update(t.online_listings)
                .where(t.online_listings.c.item_id == item.id)
                .values(**row)
            ).rowcount
            == 0
        ):
            uow.conn.execute(insert(t.online_listings).values(item_id=item.id, **row))
        return _changed(uow, item, staff, now, force=True)


def _changed(
    uow: SqlUnitOfWork, item: Item, staff: StaffMember, now: datetime, *, force: bool = False
) -> OnlineListing:
    """Commit, telling central when what customers may see has changed."""
    listing = _listing(uow.conn, item, now)
    if listing.published or force:
        uow.outbox.add(
            Event(type=ITEM_LISTING_CHANGED, occurred_at=now, payload=_payload(listing, staff))
        )
    uow.commit()
    return listing


def _payload(listing: OnlineListing, staff: StaffMember) -> dict[str, Any]:
    item = listing.item
    return {
        "item_id": item.id,
        "label_code": item.label_code,
        "published": listing.published,
        "article_id": item.article_id,
        "grade": item.grade.value,
        "asking_price_cents": item.asking_price.cents,
        "description": listing.description,
        "photos": [
            {
                "full_sha256": p.full_sha256,
                "thumb_sha256": p.thumb_sha256,
                "width": p.width,
                "height": p.height,
            }
            for p in listing.photos
        ],
        "staff_id": staff.id,
    }


def _item(items: SqlItems, id_or_label: str) -> Item:
    item = items.get(id_or_label)
    if item is None:
        raise NotFound(f"no item {id_or_label!r}", code=ErrorCode.ITEM_NOT_FOUND, field="item")
    return item


def _listing(conn: Connection, item: Item, now: datetime) -> OnlineListing:
    photos = _photos(conn, item.id)
    description = _description(conn, item)
    return OnlineListing(
        item=item,
        description=description,
        published=_published(conn, item.id),
        photos=photos,
        problems=publication_problems(item, photos=len(photos), description=description, now=now),
    )


def _photos(conn: Connection, item_id: str) -> list[Photo]:
    rows = conn.execute(
        select(t.item_photos)
        .where(t.item_photos.c.item_id == item_id)
        .order_by(t.item_photos.c.position)
    )
    return [Photo(r.position, r.full_sha256, r.thumb_sha256, r.width, r.height) for r in rows]


def _description(conn: Connection, item: Item) -> str:
    """The listing's text; before one is written, what the buyer noted at the counter."""
    text = conn.execute(
        select(t.online_listings.c.description).where(t.online_listings.c.item_id == item.id)
    ).scalar_one_or_none()
    return item.description if text is None else str(text)


def _published(conn: Connection, item_id: str) -> bool:
    return bool(
        conn.execute(
            select(func.coalesce(t.online_listings.c.published, False)).where(
                t.online_listings.c.item_id == item_id
            )
        ).scalar_one_or_none()
    )
