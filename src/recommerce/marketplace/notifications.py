"""The customer-message port: what an order's customer is told, and how it leaves.

Central writes each message in the transaction of the change it tells of (an outbox of
messages); a dispatcher hands them to the `Notifier`, so none is lost when central stops and
none is sent for a change that rolled back. In development they go to the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from babel.numbers import format_currency

log = logging.getLogger("recommerce.notifications")


@dataclass(frozen=True, slots=True)
class Message:
    recipient: str  # an e-mail address
    subject: str
    body: str


class Notifier(Protocol):
    def send(self, message: Message) -> None:
        """Deliver the message, or raise to have it retried later."""
        ...


class LogNotifier:
    """Development and the demo: each message is written to the log, whole."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.sent.append(message)
        log.info("message to %s: %s\n%s", message.recipient, message.subject, message.body)


def euros(cents: int) -> str:
    """An amount as French customers read it, in messages and on the storefront alike:
    "1 234,50 €" (with no-break spaces)."""
    return str(format_currency(Decimal(cents).scaleb(-2), "EUR", locale="fr_FR"))
