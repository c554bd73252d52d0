"""The outbox port: events written in the business transaction, pushed to central later."""

from __future__ import annotations

from typing import Protocol

from recommerce.sync.events import Event


class Outbox(Protocol):
    def add(self, event: Event) -> int:
        """Append the event; returns its gapless sequence number in the store."""
        ...
