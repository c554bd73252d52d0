"""The outbox of customer messages: written with the change they tell of, delivered by the
notification port afterwards (at least once: a message whose delivery fails stays unsent and
is tried again)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from sqlalchemy import Connection, insert, or_, select, update

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import marketplace_tables as m
from recommerce.ids import new_id
from recommerce.marketplace.notifications import Message, Notifier

log = logging.getLogger("recommerce.central.notifications")


def queue_message(
    conn: Connection, order_id: str | None, message: Message, *, at: datetime
) -> None:
    conn.execute(
        insert(m.notifications).values(
            id=new_id(),
            order_id=order_id,
            recipient=message.recipient,
            subject=message.subject,
            body=message.body,
            created_at=at,
        )
    )


def order_link(node: CentralNode, number: str, email: str) -> str:
    """The customer's own page of an order, as the storefront serves it."""
    query = urlencode({"email": email})
    return f"{node.settings.public_url.rstrip('/')}/commande/{quote(number)}?{query}"


CLAIM = timedelta(seconds=60)  # how long a dispatcher holds a message it is sending


def deliver_pending(node: CentralNode, notifier: Notifier, *, limit: int = 100) -> int:
    """Hand the unsent messages to the notifier, oldest first; how many were sent.

    Each message is claimed before it is sent, so that two dispatchers (two replicas of
    central) do not both send it; a dispatcher that dies holding one lets it go when its claim
    runs out, and it is sent again: at least once, as e-mail goes."""
    now = node.clock.now()
    with node.reading() as conn:
        pending = conn.execute(
            select(m.notifications, m.orders.c.number.label("order_number"))
            .outerjoin(m.orders, m.orders.c.id == m.notifications.c.order_id)
            .where(
                m.notifications.c.sent_at.is_(None),
                or_(
                    m.notifications.c.claimed_until.is_(None),
                    m.notifications.c.claimed_until < now,
                ),
            )
            .order_by(m.notifications.c.created_at, m.notifications.c.id)
            .limit(limit)
        ).all()
    sent = 0
    for row in pending:
        with node.writing() as conn:
            claimed = conn.execute(
                update(m.notifications)
                .where(
                    m.notifications.c.id == row.id,
                    m.notifications.c.sent_at.is_(None),
                    or_(
                        m.notifications.c.claimed_until.is_(None),
                        m.notifications.c.claimed_until < now,
                    ),
                )
                .values(claimed_until=now + CLAIM)
            ).rowcount
        if not claimed:
            continue  # another dispatcher has it
        body = row.body
        if row.order_number is not None:
            body += (
                f"\n\nSuivre votre commande : {order_link(node, row.order_number, row.recipient)}"
            )
        try:
            notifier.send(Message(row.recipient, row.subject, body))
        except Exception:
            log.exception("message %s to %s not delivered; retried later", row.id, row.recipient)
            with node.writing() as conn:
                conn.execute(
                    update(m.notifications)
                    .where(m.notifications.c.id == row.id)
                    .values(claimed_until=None)
                )
            continue
        with node.writing() as conn:
            conn.execute(
                update(m.notifications)
                .where(m.notifications.c.id == row.id)
                .values(sent_at=node.clock.now())
            )
        sent += 1
    return sent
