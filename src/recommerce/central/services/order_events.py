"""What a store's events mean for the online orders, applied by ingest in the batch's
transaction (docs/marketplace.md, "Orders").

- `ReservationAnswered`: RESERVED moves the order on (the order processor then captures the
  payment); REJECTED cancels it (the authorisation is voided, nothing is charged) and offers
  the customer the same article in the same grade at the nearest stores. An answer to an order
  already cancelled (no answer in time) asks the store to put the items back.
- `OnlineOrderUpdated`: prepared for collection, shipped, collected.
- A till sale of an item that its store had reserved for an online order, by a ticket that is
  not the order's own, is a conflict (architecture.md section 3): both facts are kept, the
  order is cancelled and refunded, and the customer is offered alternatives.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from recommerce.central.db import marketplace_tables as m
from recommerce.central.db import tables as t
from recommerce.central.services import feed
from recommerce.central.services.alternatives import alternatives_for
from recommerce.central.services.notifier import queue_message
from recommerce.ids import new_id
from recommerce.marketplace import messages
from recommerce.marketplace.orders import OrderStatus
from recommerce.pos.ticket import TicketKind
from recommerce.sync.reservations import (
    ONLINE_ORDER_UPDATED,
    RESERVATION_ANSWERED,
    RESERVATION_CANCELLED,
    Answer,
    reservation_cancelled,
)

log = logging.getLogger("recommerce.central.orders")

# Orders whose store confirmed the reservation: a till sale of their items is a conflict.
_CONFIRMED_BY_STORE = frozenset(
    {OrderStatus.RESERVED, OrderStatus.CONFIRMED, OrderStatus.READY_FOR_COLLECTION}
)
_UPDATES = {
    "ready_for_collection": (
        OrderStatus.READY_FOR_COLLECTION,
        frozenset({OrderStatus.CONFIRMED}),
    ),
    "shipped": (OrderStatus.SHIPPED, frozenset({OrderStatus.CONFIRMED})),
    "collected": (
        OrderStatus.COLLECTED,
        frozenset({OrderStatus.CONFIRMED, OrderStatus.READY_FOR_COLLECTION}),
    ),
}


class OrderEventRefused(Exception):
    """The event does not fit the order as central knows it: ingest quarantines it."""


def apply_order_events(
    conn: Connection,
    store_number: int,
    events: Iterable[tuple[str, dict[str, Any], datetime]],
    sales: Iterable[tuple[dict[str, Any], datetime]],
) -> set[str]:
    """Apply a batch's order events, then look for conflicts in its sales; the items whose
    hold ended (they may show online again)."""
    released: set[str] = set()
    for kind, payload, at in events:
        if kind == RESERVATION_ANSWERED:
            released |= _answered(conn, store_number, payload, at)
        elif kind == ONLINE_ORDER_UPDATED:
            released |= _updated(conn, store_number, payload, at)
    tickets = [(p, at) for p, at in sales if p["kind"] == TicketKind.SALE]
    if tickets:
        # One look for the whole batch: most sales touch no item an order holds.
        sold = [item["item_id"] for p, _ in tickets for item in p["items"]]
        held = {
            row.item_id
            for row in conn.execute(
                select(m.item_holds.c.item_id).where(
                    m.item_holds.c.item_id.in_(bindparam("ids", expanding=True))
                ),
                {"ids": sold},
            )
        }
        for payload, at in tickets:
            if any(item["item_id"] in held for item in payload["items"]):
                released |= _conflicts(conn, store_number, payload, at)
    return released


def _order(conn: Connection, store_number: int, order_id: str) -> Any:
    order = conn.execute(select(m.orders).where(m.orders.c.id == order_id)).first()
    if order is None or order.store_number != store_number:
        raise OrderEventRefused(f"order {order_id} is not an order of this store")
    return order


def _answered(conn: Connection, store: int, p: dict[str, Any], at: datetime) -> set[str]:
    order = _order(conn, store, p["order_id"])
    status = OrderStatus(order.status)
    if status is not OrderStatus.AWAITING_STORE:
        if p["answer"] == Answer.RESERVED and status is OrderStatus.CANCELLED:
            # Too late: the order was cancelled meanwhile. The store puts the items back.
            _ask_store_to_release(conn, order, "the order was cancelled before the answer", at)
        log.info("order %s: store answer %s after %s, ignored", order.number, p["answer"], status)
        return set()
    if p["answer"] == Answer.RESERVED:
        _move(conn, order.id, OrderStatus.RESERVED, at, answered_at=at)
        return set()
    reasons = p["reasons"]
    why = "; ".join(r["reason"] for r in reasons) or "the store could not reserve the items"
    _move(
        conn,
        order.id,
        OrderStatus.CANCELLED,
        at,
        answered_at=at,
        store_reasons=reasons,
        ended_at=at,
        end_reason=f"le magasin ne peut plus fournir l'article ({why})",
    )
    return end_order(conn, order, "l'article n'est plus disponible dans le magasin", at)


def _updated(conn: Connection, store: int, p: dict[str, Any], at: datetime) -> set[str]:
    order = _order(conn, store, p["order_id"])
    new, allowed_from = _UPDATES[p["status"]]
    if OrderStatus(order.status) not in allowed_from:
        raise OrderEventRefused(f"order {order.number} is {order.status}: it cannot be {new}")
    values: dict[str, Any] = {}
    if p.get("tracking_number"):
        values["tracking_number"] = p["tracking_number"]
    if p.get("ticket_number"):
        values["ticket_number"] = p["ticket_number"]
    if new in (OrderStatus.COLLECTED,):
        values["ended_at"] = at
    _move(conn, order.id, new, at, **values)
    customer = customer_of(conn, order.customer_id)
    if new is OrderStatus.READY_FOR_COLLECTION:
        store_row = conn.execute(select(t.stores).where(t.stores.c.number == store)).one()
        message = messages.order_ready(
            customer.email, customer.name, order.number, store_row.name, store_row.city
        )
    elif new is OrderStatus.SHIPPED:
        message = messages.order_shipped(
            customer.email, customer.name, order.number, p.get("tracking_number") or ""
        )
    else:
        message = messages.order_collected(customer.email, customer.name, order.number)
    queue_message(conn, order.id, message, at=at)
    if new in (OrderStatus.SHIPPED, OrderStatus.COLLECTED):
        return release_holds(conn, order.id)  # the items are sold: the holds have done
    return set()


def _conflicts(conn: Connection, store: int, ticket: dict[str, Any], at: datetime) -> set[str]:
    """A till sale of items held by an order the store had confirmed, by another ticket."""
    sold = [item["item_id"] for item in ticket["items"]]
    held = conn.execute(
        select(m.item_holds.c.item_id, m.orders)
        .join(m.orders, m.orders.c.id == m.item_holds.c.order_id)
        .where(m.item_holds.c.item_id.in_(bindparam("ids", expanding=True))),
        {"ids": sold},
    ).all()
    handed_over = ticket.get("online_order")  # the hand-over of this order: its own sale
    released: set[str] = set()
    for row in held:
        if row.id == handed_over or OrderStatus(row.status) not in _CONFIRMED_BY_STORE:
            continue  # the order's own ticket, or a store that has not answered yet (it rejects)
        conn.execute(
            insert(m.conflicts).values(
                id=new_id(),
                item_id=row.item_id,
                store_number=store,
                order_id=row.id,
                store_fact={
                    "ticket": ticket["number"],
                    "ticket_id": ticket["ticket_id"],
                    "till": ticket["till"],
                    "occurred_at": at.isoformat(),
                },
                online_fact={
                    "order": row.number,
                    "status": row.status,
                    "ordered_at": row.ordered_at.isoformat(),
                    "answered_at": row.answered_at.isoformat() if row.answered_at else None,
                },
                recorded_at=at,
                resolution="online order cancelled and refunded; the till sale stands",
            )
        )
        log.error(
            "conflict: item %s sold on ticket %s while reserved for order %s",
            row.item_id,
            ticket["number"],
            row.number,
        )
        _move(
            conn,
            row.id,
            OrderStatus.CANCELLED,
            at,
            ended_at=at,
            end_reason="l'article a été vendu en magasin avant la préparation de votre commande",
        )
        _ask_store_to_release(
            conn, row, "the order was cancelled: an item was sold at the till", at
        )
        released |= end_order(conn, row, "l'article a été vendu en magasin entre-temps", at)
    return released


def end_order(conn: Connection, order: Any, reason: str, at: datetime) -> set[str]:
    """An order cancelled: its holds released, its customer told, with the same article in
    the same grade at the nearest stores."""
    released = release_holds(conn, order.id)
    customer = customer_of(conn, order.customer_id)
    lines = conn.execute(select(m.order_lines).where(m.order_lines.c.order_id == order.id)).all()
    offers = [
        offer
        for line in lines
        for offer in alternatives_for(
            conn, line.article_id, line.grade, near=order.store_number, excluding=line.item_id
        )
    ]
    queue_message(
        conn,
        order.id,
        messages.order_cancelled(
            customer.email,
            customer.name,
            order.number,
            reason,
            offers,
            charged=order.payment_state == "captured",
        ),
        at=at,
    )
    return released


def _ask_store_to_release(conn: Connection, order: Any, reason: str, at: datetime) -> None:
    feed.append_to_feeds(
        conn,
        RESERVATION_CANCELLED,
        reservation_cancelled(order.id, order.number, reason),
        now=at,
        stores=[order.store_number],
    )


def release_holds(conn: Connection, order_id: str) -> set[str]:
    items = set(
        conn.execute(
            select(m.item_holds.c.item_id).where(m.item_holds.c.order_id == order_id)
        ).scalars()
    )
    conn.execute(delete(m.item_holds).where(m.item_holds.c.order_id == order_id))
    return items


def customer_of(conn: Connection, customer_id: str) -> Any:
    return conn.execute(select(m.customers).where(m.customers.c.id == customer_id)).one()


def _move(
    conn: Connection, order_id: str, status: OrderStatus, at: datetime, **values: Any
) -> None:
    conn.execute(
        update(m.orders)
        .where(m.orders.c.id == order_id)
        .values(status=status.value, updated_at=at, **values)
    )
