"""Checkout: a customer's cart becomes one order per store, each a reservation request to the
store that holds its items (architecture.md section 3; docs/marketplace.md, "Orders").

In one transaction per checkout: the customer, the orders and their lines, a hold on every item
(its primary key lets one open order at a time have an item, whichever replica of central took
it), the payment's authorisation (captured only after the store's RESERVED), the reservation
request down the store's feed, and the customer's first message. Anything refused leaves
nothing behind: an authorisation already given is voided.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import marketplace_tables as m
from recommerce.central.services import feed
from recommerce.central.services.listings import listings_by_id
from recommerce.central.services.notifier import queue_message
from recommerce.errors import DomainError, ErrorCode
from recommerce.ids import new_id
from recommerce.marketplace import messages
from recommerce.marketplace.orders import (
    Fulfilment,
    OrderStatus,
    delivery_cents,
    reservation_deadline,
)
from recommerce.marketplace.payments import CardDetails, PaymentProvider
from recommerce.sync.reservations import (
    RESERVATION_REQUESTED,
    RequestedItem,
    ReservationRequest,
    reservation_requested,
)

MAX_ITEMS = 20
_NUMBER_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True, slots=True)
class Customer:
    name: str
    email: str
    phone: str


@dataclass(frozen=True, slots=True)
class Checkout:
    item_ids: tuple[str, ...]
    customer: Customer
    fulfilment: Fulfilment
    card: CardDetails
    shipping_address: dict[str, str] | None = None


def order_number(at: datetime) -> str:
    """What the customer quotes: W, the day, and five unambiguous characters."""
    suffix = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(5))
    return f"W{at:%y%m%d}-{suffix}"


def checkout(node: CentralNode, payments: PaymentProvider, request: Checkout) -> list[Any]:
    """Place the orders of a cart; their rows, one per store. Raises DomainError (nothing
    placed, nothing charged) when an item is not available or the card is refused."""
    ids = list(dict.fromkeys(request.item_ids))
    if not ids or len(ids) > MAX_ITEMS:
        raise DomainError(f"a cart holds 1 to {MAX_ITEMS} items", field="items")
    if request.fulfilment is Fulfilment.SHIP and not request.shipping_address:
        raise DomainError("a shipped order needs a delivery address", field="shipping_address")
    now = node.clock.now()
    silence = timedelta(seconds=node.settings.store_silence_s)
    timeout = timedelta(seconds=node.settings.reservation_timeout_s)
    authorized: list[str] = []
    try:
        with node.writing() as conn:
            rows = listings_by_id(conn, ids)
            for item_id in ids:
                row = rows.get(item_id)
                if row is None:
                    raise DomainError(
                        f"item {item_id} is no longer for sale (sold, or ordered by someone else)",
                        code=ErrorCode.LISTING_UNAVAILABLE,
                        field="items",
                        item_id=item_id,
                    )
                if row.last_seen_at is None or now - row.last_seen_at > silence:
                    raise DomainError(
                        f"{row.title}: its store ({row.city}) has not confirmed its availability "
                        "lately; try again in a few minutes",
                        code=ErrorCode.LISTING_UNAVAILABLE,
                        field="items",
                        item_id=item_id,
                    )
            customer_id = _customer(conn, request.customer, now)
            by_store: dict[int, list[Any]] = defaultdict(list)
            for item_id in ids:
                by_store[rows[item_id].store_number].append(rows[item_id])
            checkout_id = new_id()
            placed = []
            for store_number, lines in sorted(by_store.items()):
                order_id, number = new_id(), order_number(now)
                items_cents = sum(line.price_cents for line in lines)
                delivery = delivery_cents(request.fulfilment)
                total = items_cents + delivery
                conn.execute(
                    insert(m.orders).values(
                        id=order_id,
                        number=number,
                        checkout_id=checkout_id,
                        customer_id=customer_id,
                        store_number=store_number,
                        fulfilment=request.fulfilment.value,
                        shipping_address=request.shipping_address,
                        status=OrderStatus.AWAITING_STORE.value,
                        items_cents=items_cents,
                        delivery_cents=delivery,
                        total_cents=total,
                        payment_state="authorizing",
                        refunded_cents=0,
                        ordered_at=now,
                        reservation_deadline=reservation_deadline(now, timeout),
                        updated_at=now,
                    )
                )
                conn.execute(
                    insert(m.order_lines),
                    [
                        {
                            "order_id": order_id,
                            "item_id": line.item_id,
                            "article_id": line.article_id,
                            "title": line.title,
                            "grade": line.grade,
                            "price_cents": line.price_cents,
                        }
                        for line in lines
                    ],
                )
                _hold(conn, [line.item_id for line in lines], order_id, now)
                authorization = payments.authorize(
                    key=f"{order_id}:authorize",
                    amount_cents=total,
                    card=request.card,
                    description=f"recommerce order {number}",
                )
                authorized.append(authorization)
                conn.execute(
                    update(m.orders)
                    .where(m.orders.c.id == order_id)
                    .values(authorization_id=authorization, payment_state="authorized")
                )
                request_payload = reservation_requested(
                    ReservationRequest(
                        order_id=order_id,
                        order_number=number,
                        fulfilment=request.fulfilment.value,
                        customer_name=request.customer.name,
                        total_cents=total,
                        items=tuple(
                            RequestedItem(
                                line.item_id, line.label_code, line.title, line.price_cents
                            )
                            for line in lines
                        ),
                    )
                )
                feed.append_to_feeds(
                    conn,
                    RESERVATION_REQUESTED,
                    request_payload,
                    now=now,
                    stores=[store_number],
                    retention=node.settings.feed_retention_events,
                )
                queue_message(
                    conn,
                    order_id,
                    messages.order_received(
                        request.customer.email, request.customer.name, number, lines, total
                    ),
                    at=now,
                )
                placed.append(order_id)
            return list(conn.execute(select(m.orders).where(m.orders.c.id.in_(placed))).all())
    except BaseException:
        for authorization in authorized:  # the orders rolled back: release the money held
            payments.void(authorization, key=f"{authorization}:void-checkout")
        raise


def _customer(conn: Connection, customer: Customer, at: datetime) -> str:
    email = customer.email.strip().lower()
    found = conn.execute(select(m.customers.c.id).where(m.customers.c.email == email)).scalar()
    if found is not None:
        conn.execute(
            update(m.customers)
            .where(m.customers.c.id == found)
            .values(name=customer.name, phone=customer.phone)
        )
        return str(found)
    customer_id = new_id()
    conn.execute(
        insert(m.customers).values(
            id=customer_id, email=email, name=customer.name, phone=customer.phone, created_at=at
        )
    )
    return customer_id


def _hold(conn: Connection, item_ids: list[str], order_id: str, at: datetime) -> None:
    try:
        with conn.begin_nested():
            conn.execute(
                insert(m.item_holds),
                [{"item_id": i, "order_id": order_id, "held_at": at} for i in item_ids],
            )
    except IntegrityError as exc:
        raise DomainError(
            "an item of the cart was just ordered by someone else",
            code=ErrorCode.LISTING_UNAVAILABLE,
            field="items",
        ) from exc
