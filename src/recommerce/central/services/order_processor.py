"""The order processor: brings each online order's money in line with its status, cancels the
orders whose store did not answer in time, and delivers the customers' messages.

Every step is state kept in the database, done with an idempotency key at the payment provider,
then recorded: a central killed between the provider's answer and the record simply does the
step again, and the provider answers as the first time. So every order ends fulfilled, or
cancelled with its authorisation voided or its payment refunded (architecture.md section 5,
invariant 6), whatever stops meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import marketplace_tables as m
from recommerce.central.services import feed
from recommerce.central.services.notifier import deliver_pending, queue_message
from recommerce.central.services.order_events import customer_of, end_order
from recommerce.errors import DomainError
from recommerce.marketplace import messages
from recommerce.marketplace.notifications import Notifier
from recommerce.marketplace.orders import OrderStatus
from recommerce.marketplace.payments import PaymentProvider
from recommerce.sync.reservations import (
    ORDER_CONFIRMED,
    RESERVATION_CANCELLED,
    order_confirmed,
    reservation_cancelled,
)

log = logging.getLogger("recommerce.central.orders")

INTERVAL_S = 1.0
BATCH = 100
NO_ANSWER = "le magasin n'a pas confirmé la disponibilité à temps"


@dataclass
class OrderProcessor:
    node: CentralNode
    payments: PaymentProvider
    notifier: Notifier
    # Told the items whose hold ended, so the search index shows them again.
    on_released: Callable[[set[str]], None] = lambda items: None
    _wake: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="order-processor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("the order processor failed a pass; it tries again")
            self._wake.wait(INTERVAL_S)
            self._wake.clear()

    def step(self) -> int:
        """One pass over the orders that need something; how many steps were done."""
        done = self._time_out() + self._capture() + self._settle_ended()
        done += deliver_pending(self.node, self.notifier)
        return done

    # -- the steps ------------------------------------------------------------------------

    def _time_out(self) -> int:
        """Orders whose store has not answered by the deadline are cancelled (nothing charged),
        and the store is told to put back anything it reserved late."""
        now = self.node.clock.now()
        with self.node.reading() as conn:
            late = (
                conn.execute(
                    select(m.orders.c.id)
                    .where(
                        m.orders.c.status == OrderStatus.AWAITING_STORE.value,
                        m.orders.c.reservation_deadline <= now,
                    )
                    .limit(BATCH)
                )
                .scalars()
                .all()
            )
        for order_id in late:
            self._cancel(order_id, NO_ANSWER, expect=OrderStatus.AWAITING_STORE)
        return len(late)

    def _capture(self) -> int:
        """The store reserved the items: take the payment, record it, confirm the order. The
        payment is recorded whatever the order became meanwhile (cancelled by a conflict, say):
        money taken is always known, and refunded if the order ended."""
        with self.node.reading() as conn:
            reserved = conn.execute(
                select(m.orders).where(m.orders.c.status == OrderStatus.RESERVED.value).limit(BATCH)
            ).all()
        for order in reserved:
            self._each(order, self._capture_one)
        return len(reserved)

    def _capture_one(self, order: Any) -> None:
        try:
            payment = self.payments.capture(order.authorization_id, key=f"{order.id}:capture")
        except DomainError as exc:
            log.error("order %s: the payment could not be captured: %s", order.number, exc)
            self._cancel(
                order.id, "le paiement n'a pas pu être encaissé", expect=OrderStatus.RESERVED
            )
            return
        now = self.node.clock.now()
        with self.node.writing() as conn:
            conn.execute(
                update(m.orders)
                .where(m.orders.c.id == order.id, m.orders.c.payment_state == "authorized")
                .values(payment_id=payment, payment_state="captured", updated_at=now)
            )
            confirmed = conn.execute(
                update(m.orders)
                .where(m.orders.c.id == order.id, m.orders.c.status == OrderStatus.RESERVED.value)
                .values(status=OrderStatus.CONFIRMED.value, updated_at=now)
            ).rowcount
            if confirmed:
                # Paid: the store may now prepare the order and hand it over.
                feed.append_to_feeds(
                    conn,
                    ORDER_CONFIRMED,
                    order_confirmed(order.id, order.number),
                    now=now,
                    stores=[order.store_number],
                    retention=self.node.settings.feed_retention_events,
                )
                customer = customer_of(conn, order.customer_id)
                queue_message(
                    conn,
                    order.id,
                    messages.order_confirmed(
                        customer.email, customer.name, order.number, order.fulfilment
                    ),
                    at=now,
                )

    def _settle_ended(self) -> int:
        """Ended orders still holding money: void the authorisation, or refund the payment."""
        ended = (OrderStatus.CANCELLED.value, OrderStatus.WITHDRAWN.value)
        with self.node.reading() as conn:
            orders = conn.execute(
                select(m.orders)
                .where(
                    m.orders.c.status.in_(ended),
                    m.orders.c.payment_state.in_(("authorized", "captured")),
                )
                .limit(BATCH)
            ).all()
        for order in orders:
            self._each(order, self._settle_one)
        return len(orders)

    def _settle_one(self, order: Any) -> None:
        if order.payment_state == "authorized":
            self.payments.void(order.authorization_id, key=f"{order.id}:void")
            values: dict[str, Any] = {"payment_state": "voided"}
        else:
            refund = order.total_cents - order.refunded_cents
            self.payments.refund(order.payment_id, refund, key=f"{order.id}:refund")
            values = {"payment_state": "refunded", "refunded_cents": order.total_cents}
        with self.node.writing() as conn:
            conn.execute(
                update(m.orders)
                .where(m.orders.c.id == order.id, m.orders.c.payment_state == order.payment_state)
                .values(updated_at=self.node.clock.now(), **values)
            )

    @staticmethod
    def _each(order: Any, step: Callable[[Any], None]) -> None:
        """One order's step; its failure is logged and retried next pass, the others go on."""
        try:
            step(order)
        except Exception:
            log.exception("order %s: step failed; retried on the next pass", order.number)

    def _cancel(self, order_id: str, reason: str, *, expect: OrderStatus) -> None:
        now = self.node.clock.now()
        with self.node.writing() as conn:
            order = conn.execute(select(m.orders).where(m.orders.c.id == order_id)).one()
            if order.status != expect.value:
                return  # the store answered meanwhile
            conn.execute(
                update(m.orders)
                .where(m.orders.c.id == order_id)
                .values(
                    status=OrderStatus.CANCELLED.value,
                    updated_at=now,
                    ended_at=now,
                    end_reason=reason,
                )
            )
            feed.append_to_feeds(
                conn,
                RESERVATION_CANCELLED,
                reservation_cancelled(order.id, order.number, reason),
                now=now,
                stores=[order.store_number],
                retention=self.node.settings.feed_retention_events,
            )
            released = end_order(conn, order, reason, now)
        log.warning("order %s cancelled: %s", order.number, reason)
        self.on_released(released)
