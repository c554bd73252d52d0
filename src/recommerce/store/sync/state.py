"""The store's sync state: one `sync_state` row, written only inside the caller's transaction.

The credential is kept encrypted with the node's identity key: a copy of the database alone
cannot push events in the store's name.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, insert, select, update

from recommerce.db.engine import write_lock
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.db.identity import IdentityVault

_ROW = t.sync_state.c.id == 1
ERROR_MAX = 2000  # characters of an error message kept


@dataclass(frozen=True, slots=True)
class SyncState:
    central_url: str
    credential: str
    enrolled_at: datetime
    acked_seq: int
    feed_seq: int | None  # None: the store has not loaded central's snapshot yet
    last_push_at: datetime | None
    last_ack_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    blocked_reason: str | None


@contextmanager
def transaction(node: StoreNode) -> Iterator[Connection]:
    """One store transaction: committed when the block ends, rolled back if it raises."""
    with write_lock(node.engine), node.engine.begin() as conn:
        yield conn


class StopSignal:
    """A sync worker's stop. Its threads write only through `writing()`: once `stop()` has
    returned, no write is under way and none will start, so a thread still waiting on central
    may be abandoned (its answer is dropped, the cursors stay where they were)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)

    def clear(self) -> None:
        self._event.clear()

    def stop(self) -> None:
        self._event.set()
        with self._lock:  # a write under way ends first
            pass

    @contextmanager
    def writing(self, node: StoreNode) -> Iterator[Connection | None]:
        """One store transaction, or None once stopping (write nothing then)."""
        with self._lock:
            if self._event.is_set():
                yield None
                return
            with transaction(node) as conn:
                yield conn


def load_state(conn: Connection, vault: IdentityVault) -> SyncState | None:
    """The store's sync state, or None while the store is not enrolled."""
    row = conn.execute(select(t.sync_state).where(_ROW)).first()
    if row is None:
        return None
    return SyncState(
        central_url=row.central_url,
        credential=vault.decrypt(row.credential),
        enrolled_at=row.enrolled_at,
        acked_seq=row.acked_seq,
        feed_seq=row.feed_seq,
        last_push_at=row.last_push_at,
        last_ack_at=row.last_ack_at,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
        blocked_reason=row.blocked_reason,
    )


def save_enrolment(
    conn: Connection, vault: IdentityVault, *, central_url: str, credential: str, at: datetime
) -> None:
    """Keep the new credential. Enrolling again keeps the push cursor (central keeps its own:
    a gap answer sets it right) and reloads the catalogue from a fresh snapshot."""
    values = {
        "central_url": central_url,
        "credential": vault.encrypt(credential),
        "enrolled_at": at,
        "feed_seq": None,
        "blocked_reason": None,
    }
    changed = conn.execute(update(t.sync_state).where(_ROW).values(**values)).rowcount
    if changed == 0:
        conn.execute(insert(t.sync_state).values(id=1, acked_seq=0, **values))


def record_ack(conn: Connection, acked_seq: int, *, at: datetime) -> None:
    """Central holds the outbox up to `acked_seq`: the cursor moves on (never back) and those
    outbox rows are marked acknowledged."""
    conn.execute(
        update(t.sync_state)
        .where(_ROW)
        .values(
            acked_seq=case(
                (t.sync_state.c.acked_seq < acked_seq, acked_seq), else_=t.sync_state.c.acked_seq
            ),
            last_push_at=at,
            last_ack_at=at,
            blocked_reason=None,
        )
    )
    conn.execute(
        update(t.outbox)
        .where(t.outbox.c.seq <= acked_seq, t.outbox.c.acked_at.is_(None))
        .values(acked_at=at)
    )


def restart_from(conn: Connection, expected_seq: int, *, at: datetime) -> None:
    """Central's cursor is the truth: it holds the outbox up to `expected_seq - 1`, no more (a
    restored central) and no less (an acknowledgement the store did not hear)."""
    conn.execute(
        update(t.sync_state)
        .where(_ROW)
        .values(acked_seq=expected_seq - 1, last_push_at=at, blocked_reason=None)
    )
    conn.execute(
        update(t.outbox)
        .where(t.outbox.c.seq >= expected_seq, t.outbox.c.acked_at.is_not(None))
        .values(acked_at=None)
    )
    conn.execute(
        update(t.outbox)
        .where(t.outbox.c.seq < expected_seq, t.outbox.c.acked_at.is_(None))
        .values(acked_at=at)
    )


def record_error(
    conn: Connection, message: str, *, at: datetime, blocked: bool = False, pushed: bool = False
) -> None:
    """Keep the last error for `sync status`; `blocked` also shows it as why pushing stalls."""
    values: dict[str, object] = {"last_error": message[:ERROR_MAX], "last_error_at": at}
    if blocked:
        values["blocked_reason"] = message[:ERROR_MAX]
    if pushed:
        values["last_push_at"] = at
    conn.execute(update(t.sync_state).where(_ROW).values(**values))


def save_feed_seq(conn: Connection, feed_seq: int) -> None:
    conn.execute(update(t.sync_state).where(_ROW).values(feed_seq=feed_seq))
