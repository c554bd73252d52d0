"""Reading online orders, and what happens to them after the store: the carrier's delivery and
the customer's withdrawal from a distance sale (rule E.22)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, update

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import marketplace_tables as m
from recommerce.central.db import tables as t
from recommerce.central.services.notifier import queue_message
from recommerce.errors import ErrorCode, NotFound
from recommerce.marketplace import messages
from recommerce.marketplace.orders import (
    Fulfilment,
    OrderStatus,
    check_move,
    check_withdrawal,
    withdrawal_refund_cents,
)

# The marketplace sells in France: days (delivery, withdrawal) are French days.
MARKET_ZONE = ZoneInfo("Europe/Paris")


def order_by_number(conn: Connection, number: str, *, email: str | None = None) -> Any:
    """The order and its customer; with `email`, only if it is the customer's (a customer
    proves an order is theirs with its number and their address)."""
    row = conn.execute(
        select(
            m.orders,
            m.customers.c.email,
            m.customers.c.name.label("customer_name"),
            t.stores.c.name.label("store_name"),
            t.stores.c.city.label("store_city"),
        )
        .join(m.customers, m.customers.c.id == m.orders.c.customer_id)
        .join(t.stores, t.stores.c.number == m.orders.c.store_number)
        .where(m.orders.c.number == number)
    ).first()
    if row is None or (email is not None and row.email != email.strip().lower()):
        raise NotFound(f"no order {number} for this address", code=ErrorCode.ORDER_NOT_FOUND)
    return row


def order_lines(conn: Connection, order_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(m.order_lines)
            .where(m.order_lines.c.order_id == order_id)
            .order_by(m.order_lines.c.title)
        ).all()
    )


def record_delivery(node: CentralNode, number: str) -> Any:
    """The carrier delivered the parcel: the 14-day withdrawal period starts (L221-18)."""
    now = node.clock.now()
    with node.writing() as conn:
        order = order_by_number(conn, number)
        check_move(OrderStatus(order.status), OrderStatus.DELIVERED, order_number=number)
        conn.execute(
            update(m.orders)
            .where(m.orders.c.id == order.id)
            .values(
                status=OrderStatus.DELIVERED.value, delivered_at=now, ended_at=now, updated_at=now
            )
        )
        return order_by_number(conn, number)


def withdraw(node: CentralNode, number: str, email: str) -> Any:
    """The customer withdraws from a shipped order within 14 days of delivery: refunded in
    full, standard delivery included (rule E.22, L221-18, L221-24). The processor refunds."""
    now = node.clock.now()
    zone = MARKET_ZONE
    with node.writing() as conn:
        order = order_by_number(conn, number, email=email)
        delivered_on = order.delivered_at.astimezone(zone).date() if order.delivered_at else None
        check_withdrawal(
            fulfilment=Fulfilment(order.fulfilment),
            status=OrderStatus(order.status),
            delivered_on=delivered_on,
            today=now.astimezone(zone).date(),
        )
        conn.execute(
            update(m.orders)
            .where(m.orders.c.id == order.id)
            .values(
                status=OrderStatus.WITHDRAWN.value,
                ended_at=now,
                updated_at=now,
                end_reason="rétractation du client",
            )
        )
        refund = withdrawal_refund_cents(order.items_cents, order.delivery_cents)
        queue_message(
            conn,
            order.id,
            messages.order_withdrawn(order.email, order.customer_name, number, refund),
            at=now,
        )
        return order_by_number(conn, number)
