"""Wake the sync worker when a transaction that wrote to the outbox has committed.

`SqlOutbox.add` flags the connection; the engine's `commit` event sees the flag, but fires
before the database commits, so the signal waits for the connection's return to the pool,
after the commit. Another process's writes are found by the worker's fallback poll.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Connection, Engine, event

from recommerce.store.db.repositories import OUTBOX_WRITTEN

_COMMITTED = "recommerce_outbox_committed"


def watch_outbox(engine: Engine, wake: threading.Event) -> None:
    @event.listens_for(engine, "commit")
    def _commit(conn: Connection) -> None:
        if conn.info.pop(OUTBOX_WRITTEN, False):
            conn.info[_COMMITTED] = True

    @event.listens_for(engine, "rollback")
    def _rollback(conn: Connection) -> None:
        conn.info.pop(OUTBOX_WRITTEN, None)

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(_COMMITTED, False):
            wake.set()
