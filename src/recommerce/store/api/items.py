"""Stock: items and their printable labels."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy import select

from recommerce.errors import ErrorCode, NotFound
from recommerce.inventory.labels import LabelContent, render_png, render_svg
from recommerce.inventory.model import Item, ItemStatus
from recommerce.pos.guarantee import guarantee_of
from recommerce.store.api.deps import NodeDep, StaffDep
from recommerce.store.api.schemas import ItemOut, StatusChangeIn
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.db.repositories import SqlCatalog, SqlItems, item_from_row
from recommerce.store.services import stock

router = APIRouter(prefix="/api/v1", tags=["stock"])


@router.get("/items", response_model=list[ItemOut], summary="Items in this store's custody")
def list_items(
    node: NodeDep,
    staff: StaffDep,
    status: ItemStatus | None = None,
    article_id: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[ItemOut]:
    query = select(t.items).order_by(t.items.c.created_at.desc(), t.items.c.label_code)
    if status is not None:
        query = query.where(t.items.c.status == status.value)
    if article_id is not None:
        query = query.where(t.items.c.article_id == article_id)
    with node.reading() as conn:
        rows = conn.execute(query.limit(limit).offset(offset)).all()
    return [ItemOut.of(item_from_row(r._mapping)) for r in rows]


def _item(node: StoreNode, id_or_label: str) -> Item:
    with node.reading() as conn:
        item = SqlItems(conn).get(id_or_label)
    if item is None:
        raise NotFound(f"no item {id_or_label!r}", code=ErrorCode.ITEM_NOT_FOUND, field="item")
    return item


@router.get("/items/{item}", response_model=ItemOut, summary="An item, by id or label code")
def get_item(item: str, node: NodeDep, staff: StaffDep) -> ItemOut:
    return ItemOut.of(_item(node, item))


@router.post(
    "/items/{item}/status",
    response_model=ItemOut,
    summary="Move an item by hand: to repair, back in stock, or scrapped (manager)",
)
def change_status(item: str, body: StatusChangeIn, node: NodeDep, staff: StaffDep) -> ItemOut:
    return ItemOut.of(stock.change_status(node, staff, item, body.status, reason=body.reason))


class GuaranteeOut(BaseModel):
    label_code: str
    ticket: str
    delivered_on: date
    ends_on: date
    presumption_ends_on: date
    status: str


@router.get(
    "/items/{item}/guarantee",
    response_model=GuaranteeOut,
    summary="The legal guarantee of a sold item, looked up by its label (rule E.21)",
)
def guarantee(item: str, node: NodeDep, staff: StaffDep) -> GuaranteeOut:
    found = _item(node, item)
    if found.status is not ItemStatus.SOLD or found.sold_on is None:
        raise NotFound(
            f"item {found.label_code} is not sold: no guarantee is running",
            code=ErrorCode.NOT_FOUND,
            field="item",
        )
    with node.reading() as conn:
        sold_at = conn.execute(
            select(t.tickets.c.occurred_at).where(t.tickets.c.display_number == found.sold_on)
        ).scalar_one()
    zone = node.settings.zone
    g = guarantee_of(found.label_code, found.sold_on, sold_at.astimezone(zone).date())
    return GuaranteeOut(
        label_code=g.label_code,
        ticket=g.ticket,
        delivered_on=g.delivered_on,
        ends_on=g.ends_on,
        presumption_ends_on=g.presumption_ends_on,
        status=g.status_on(node.clock.now().astimezone(zone).date()),
    )


def _label(node: StoreNode, id_or_label: str) -> LabelContent:
    item = _item(node, id_or_label)
    with node.reading() as conn:
        article = SqlCatalog(conn).article(item.article_id)
    price = str(item.asking_price).replace(".", ",")
    return LabelContent(
        code=item.label_code,
        article_name=article.name if article else item.article_id,
        grade=item.grade.value,
        price=price,
        register_number=item.register_number,
        store_number=item.store_number,
    )


@router.get(
    "/items/{item}/label.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
    summary="The item's label as SVG",
)
def label_svg(item: str, node: NodeDep, staff: StaffDep) -> Response:
    return Response(render_svg(_label(node, item)), media_type="image/svg+xml")


@router.get(
    "/items/{item}/label.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
    summary="The item's label as PNG (300 dpi)",
)
def label_png(item: str, node: NodeDep, staff: StaffDep) -> Response:
    return Response(render_png(_label(node, item)), media_type="image/png")
