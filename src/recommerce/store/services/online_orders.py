"""Online orders at the store that holds their items: prepare them for collection, hand them
over at the till, or ship them with a tracking number (docs/marketplace.md, "Orders").

Handing over (collected or shipped) is a sale: a ticket paid by the `online` tender, chained in
the fiscal journal like any other, that sells the items reserved for the order. The order's own
update is written in the sale's transaction, so the two never part.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, select, update

from recommerce.errors import DomainError, ErrorCode, NotFound
from recommerce.money import Money
from recommerce.pos.ports import TillUnitOfWork
from recommerce.pos.sale import RecordSale, SaleLineRequest, record_sale
from recommerce.pos.tenders import TenderKind, TenderRequest
from recommerce.pos.ticket import Ticket
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.db.repositories import SqlItems
from recommerce.store.sync.orders import TO_PREPARE
from recommerce.sync.events import Event
from recommerce.sync.reservations import ONLINE_ORDER_UPDATED

READY = "ready_for_collection"
SHIPPED = "shipped"
COLLECTED = "collected"
WEB_TILL = "WEB"  # the till of parcels: shipped orders are sold here, no drawer to open


def list_orders(node: StoreNode, *, status: str | None = None) -> list[dict[str, Any]]:
    query = select(t.online_orders).order_by(t.online_orders.c.received_at.desc())
    if status is not None:
        query = query.where(t.online_orders.c.status == status)
    with node.reading() as conn:
        return [dict(row._mapping) for row in conn.execute(query.limit(500))]


def get_order(node: StoreNode, number: str) -> dict[str, Any]:
    with node.reading() as conn:
        return dict(_order(conn, number)._mapping)


def mark_ready(node: StoreNode, staff: StaffMember, number: str) -> dict[str, Any]:
    """The items are set aside at the counter: the customer may come."""
    staff.require(Permission.SELL)
    with node.uow() as uow:
        order = _order(uow.conn, number)
        _expect(order, {TO_PREPARE}, "prepared")
        if order.fulfilment != "collect":
            raise DomainError(f"order {number} is shipped, not collected", field="number")
        now = node.clock.now()
        _update(uow.conn, order.order_id, READY, now)
        uow.outbox.add(_event(order.order_id, READY, staff, now))
        uow.commit()
    return get_order(node, number)


def hand_over(
    node: StoreNode,
    staff: StaffMember,
    number: str,
    *,
    till: str | None = None,
    tracking_number: str | None = None,
) -> dict[str, Any]:
    """Collected at `till`, or shipped with `tracking_number`: the sale of the order's items,
    paid online, and the order's update, in one transaction."""
    with node.reading() as conn:
        order = _order(conn, number)
        labels = {row.id: row.label_code for row in _reserved(conn, order.order_id)}
    shipping = order.fulfilment == "ship"
    if shipping:
        _expect(order, {TO_PREPARE}, "shipped")
        if not tracking_number:
            raise DomainError(
                "a parcel is shipped with its tracking number", field="tracking_number"
            )
        status, policy = SHIPPED, replace(node.till_policy, requires_open_till=False)
        till = WEB_TILL
    else:
        _expect(order, {TO_PREPARE, READY}, "collected")
        if till is None:
            raise DomainError("say at which till the order is handed over", field="till")
        status, policy = COLLECTED, node.till_policy
    items = order.items
    missing = [i["label_code"] for i in items if i["item_id"] not in labels]
    if missing:
        raise DomainError(
            f"items {', '.join(missing)} are no longer reserved for order {number}",
            code=ErrorCode.ITEM_NOT_SELLABLE,
        )
    with node.reading() as conn:
        asking = {item.id: item.asking_price for item in map(SqlItems(conn).get, labels) if item}
    paid = Money(sum(i["price_cents"] for i in items))
    lines = tuple(
        SaleLineRequest(
            label_code=i["label_code"],
            discount=max(Money(0), asking[i["item_id"]] - Money(i["price_cents"])),
        )
        for i in items
    )

    def settle_order(uow: TillUnitOfWork, ticket: Ticket) -> None:
        conn: Connection = uow.conn  # type: ignore[attr-defined]
        _update(
            conn,
            order.order_id,
            status,
            ticket.occurred_at,
            ticket_number=ticket.display_number,
            tracking_number=tracking_number,
        )
        uow.outbox.add(
            _event(
                order.order_id,
                status,
                staff,
                ticket.occurred_at,
                ticket_number=ticket.display_number,
                tracking_number=tracking_number,
            )
        )

    record_sale(
        RecordSale(
            till=till,
            staff=staff,
            lines=lines,
            tenders=(TenderRequest(TenderKind.ONLINE, paid, reference=number),),
            fulfils_order=order.order_id,
        ),
        node.uow,
        terminal=node.terminal,
        clock=node.clock,
        key=node.fiscal_key,
        policy=policy,
        also=settle_order,
    )
    return get_order(node, number)


def _order(conn: Connection, number: str) -> Any:
    row = conn.execute(select(t.online_orders).where(t.online_orders.c.number == number)).first()
    if row is None:
        raise NotFound(f"no online order {number} in this store", code=ErrorCode.ORDER_NOT_FOUND)
    return row


def _reserved(conn: Connection, order_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(t.items.c.id, t.items.c.label_code).where(t.items.c.reserved_for == order_id)
        ).all()
    )


def _expect(order: Any, allowed: set[str], doing: str) -> None:
    if order.status not in allowed:
        raise DomainError(
            f"order {order.number} is {order.status.replace('_', ' ')}: it cannot be {doing}",
            code=ErrorCode.ORDER_STATUS_TRANSITION_FORBIDDEN,
        )


def _update(conn: Connection, order_id: str, status: str, at: Any, **values: Any) -> None:
    conn.execute(
        update(t.online_orders)
        .where(t.online_orders.c.order_id == order_id)
        .values(status=status, updated_at=at, **{k: v for k, v in values.items() if v})
    )


def _event(
    order_id: str,
    status: str,
    staff: StaffMember,
    at: Any,
    *,
    ticket_number: str | None = None,
    tracking_number: str | None = None,
) -> Event:
    return Event(
        type=ONLINE_ORDER_UPDATED,
        occurred_at=at,
        payload={
            "order_id": order_id,
            "status": status,
            "tracking_number": tracking_number,
            "ticket_number": ticket_number,
            "staff_id": staff.id,
        },
    )
