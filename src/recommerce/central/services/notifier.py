"""The outbox of customer messages: written with the change they tell of, delivered by the
notification port afterwards (at least once: a message whose delivery fails stays unsent and
is tried again)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

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


def deliver_pending(node: CentralNode, notifier: Notifier, *, limit: int = 100) -> int:
    """Hand the unsent messages to the notifier, oldest first; how many left."""
    with node.reading() as conn:
        pending = conn.execute(
            select(m.notifications)
            .where(m.notifications.c.sent_at.is_(None))
            .order_by(m.notifications.c.created_at, m.notifications.c.id)
            .limit(limit)
        ).all()
    sent = 0
    for row in pending:
        try:
            notifier.send(Message(row.recipient, row.subject, row.body))
        except Exception:
            log.exception("message %s to %s not delivered; retried later", row.id, row.recipient)
            continue
        with node.writing() as conn:
            conn.execute(
                update(m.notifications)
                .where(m.notifications.c.id == row.id)
                .values(sent_at=node.clock.now())
            )
        sent += 1
    return sent
