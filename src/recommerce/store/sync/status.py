"""Where the store stands with central: what `sync status`, the API and the metrics show."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.sync.pusher import head_seq


@dataclass(frozen=True, slots=True)
class SyncStatus:
    store_number: int
    enrolled: bool
    central_url: str | None
    head_seq: int  # the store's newest outbox event
    acked_seq: int  # central holds every event up to this one
    queue_events: int  # events central does not hold yet
    oldest_unacked_at: datetime | None
    lag_seconds: float  # the age of the oldest event central does not hold (0 when none)
    last_push_at: datetime | None
    last_ack_at: datetime | None
    feed_seq: int | None  # the last feed row applied (None: the snapshot is not loaded yet)
    last_error: str | None
    last_error_at: datetime | None
    blocked_reason: str | None

    def as_json(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


def sync_status(node: StoreNode) -> SyncStatus:
    """Read without the write lock. Events are gapless, so the queue is head - acked and its
    oldest event is the one after the acknowledged seq (no scan of the outbox)."""
    with node.reading() as conn:
        row = conn.execute(select(t.sync_state).where(t.sync_state.c.id == 1)).first()
        head = head_seq(conn)
        acked = row.acked_seq if row is not None else 0
        oldest = conn.execute(
            select(t.outbox.c.occurred_at).where(t.outbox.c.seq == acked + 1)
        ).scalar_one_or_none()
    lag = max(0.0, (node.clock.now() - oldest).total_seconds()) if oldest is not None else 0.0
    return SyncStatus(
        store_number=node.settings.store_number,
        enrolled=row is not None,
        central_url=node.settings.central_url or (row.central_url if row is not None else None),
        head_seq=head,
        acked_seq=acked,
        queue_events=max(0, head - acked),
        oldest_unacked_at=oldest,
        lag_seconds=lag,
        last_push_at=row.last_push_at if row is not None else None,
        last_ack_at=row.last_ack_at if row is not None else None,
        feed_seq=row.feed_seq if row is not None else None,
        last_error=row.last_error if row is not None else None,
        last_error_at=row.last_error_at if row is not None else None,
        blocked_reason=row.blocked_reason if row is not None else None,
    )
