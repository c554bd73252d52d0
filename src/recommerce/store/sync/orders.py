"""Central's reservation requests and cancellations, applied by the store that owns the items
(architecture.md section 3), in the transaction that also moves the feed cursor.

A request reserves all of the order's items or none: each must be here, in stock and out of
any legal hold; the till then refuses them and names the order. The answer (RESERVED or
REJECTED with the reason of each refused item) goes up the outbox in the same transaction, so
a store that crashes either has answered or will apply the request again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from recommerce.errors import DomainError
from recommerce.inventory.model import ItemStatus
from recommerce.pos.sale import check_sellable
from recommerce.store.db import tables as t
from recommerce.store.db.repositories import SqlItems, SqlOutbox
from recommerce.sync.events import Event
from recommerce.sync.reservations import (
    RESERVATION_ANSWERED,
    RESERVATION_RELEASED,
    Answer,
    ReservationRequest,
    cancellation_from_payload,
    confirmation_from_payload,
    reservation_request_from_payload,
)

log = logging.getLogger("recommerce.sync.orders")

AWAITING_PAYMENT = "awaiting_payment"  # reserved; central has not confirmed the payment yet
TO_PREPARE = "to_prepare"  # paid: prepare it, hand it over
REJECTED = "rejected"
CANCELLED = "cancelled"


def apply_reservation_request(
    conn: Connection, payload: Mapping[str, Any], *, at: datetime, zone: Any
) -> None:
    request = reservation_request_from_payload(payload)
    known = conn.execute(
        select(t.online_orders.c.status).where(t.online_orders.c.order_id == request.order_id)
    ).first()
    if known is not None:
        return  # asked again (a feed replayed): already answered
    items = SqlItems(conn)
    found = {}
    reasons = []
    for requested in request.items:
        item = items.get(requested.item_id)
        if item is None:
            reasons.append({"item_id": requested.item_id, "reason": "not in this store"})
            continue
        try:
            check_sellable(item, at, zone, field="item")
        except DomainError as exc:
            reasons.append({"item_id": item.id, "reason": exc.message})
            continue
        found[item.id] = item
    answer = Answer.REJECTED if reasons else Answer.RESERVED
    if answer is Answer.RESERVED:
        for item in found.values():
            previous = item.status
            item.set_status(ItemStatus.RESERVED)
            item.reserved_for = request.order_id
            items.save_status(item, previous=previous, at=at, by=CENTRAL_STAFF_ID)
    _record(conn, request, REJECTED if reasons else AWAITING_PAYMENT, reasons or None, at)
    SqlOutbox(conn).add(
        Event(
            type=RESERVATION_ANSWERED,
            occurred_at=at,
            payload={
                "order_id": request.order_id,
                "answer": answer.value,
                "items": [{"item_id": i.id, "label_code": i.label_code} for i in found.values()]
                if answer is Answer.RESERVED
                else [],
                "reasons": reasons,
            },
        )
    )
    log.info("online order %s: %s", request.order_number, answer.value)


def apply_order_confirmed(conn: Connection, payload: Mapping[str, Any], *, at: datetime) -> None:
    """Central captured the customer's payment: the order may be prepared and handed over."""
    order_id, number = confirmation_from_payload(payload)
    changed = conn.execute(
        update(t.online_orders)
        .where(
            t.online_orders.c.order_id == order_id,
            t.online_orders.c.status == AWAITING_PAYMENT,
        )
        .values(status=TO_PREPARE, updated_at=at)
    ).rowcount
    if not changed:
        log.warning("online order %s confirmed, but this store does not await its payment", number)


def apply_reservation_cancelled(
    conn: Connection, payload: Mapping[str, Any], *, at: datetime
) -> None:
    """The order ended at central: what the store reserved for it goes back on the shelf."""
    order_id, number, reason = cancellation_from_payload(payload)
    order = conn.execute(
        select(t.online_orders).where(t.online_orders.c.order_id == order_id)
    ).first()
    if order is not None and order.status in (CANCELLED, REJECTED):
        return
    items = SqlItems(conn)
    released = []
    for row in conn.execute(
        select(t.items.c.id).where(
            t.items.c.reserved_for == order_id, t.items.c.status == ItemStatus.RESERVED.value
        )
    ).all():
        item = items.get(row.id)
        assert item is not None
        item.set_status(ItemStatus.IN_STOCK)
        item.reserved_for = None
        items.save_status(item, previous=ItemStatus.RESERVED, at=at, by=CENTRAL_STAFF_ID)
        released.append({"item_id": item.id, "label_code": item.label_code})
    if order is not None:
        conn.execute(
            update(t.online_orders)
            .where(t.online_orders.c.order_id == order_id)
            .values(status=CANCELLED, reasons=[{"reason": reason}], updated_at=at)
        )
    if released:
        SqlOutbox(conn).add(
            Event(
                type=RESERVATION_RELEASED,
                occurred_at=at,
                payload={"order_id": order_id, "items": released},
            )
        )
    log.info(
        "online order %s cancelled by central (%s): %s items back", number, reason, len(released)
    )


def _record(
    conn: Connection,
    request: ReservationRequest,
    status: str,
    reasons: list[dict[str, str]] | None,
    at: datetime,
) -> None:
    conn.execute(
        insert(t.online_orders).values(
            order_id=request.order_id,
            number=request.order_number,
            fulfilment=request.fulfilment,
            customer_name=request.customer_name,
            items=[
                {
                    "item_id": i.item_id,
                    "label_code": i.label_code,
                    "title": i.title,
                    "price_cents": i.price_cents,
                }
                for i in request.items
            ],
            total_cents=request.total_cents,
            status=status,
            reasons=reasons,
            received_at=at,
            updated_at=at,
        )
    )


# Who moves an item at central's request: the inactive `central` account (migration 0005),
# which never logs in.
CENTRAL_STAFF_ID = "00000000-0000-4000-8000-00000000ce27"
