"""Wakes the long polls of a store's feed as soon as a row for that store is committed.

A transaction that appends to a feed marks the stores it touched on its connection
(`notify_after_commit`). Engine events carry the mark through the commit and signal the
waiting requests once the connection is handed back to the pool, that is after the commit:
a woken request always finds the new rows. A rolled-back transaction signals nothing.

The notifier only knows this process. Rows written by another process (the command line,
another replica of central) are found by the long poll's periodic look at the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event

_PENDING = "recommerce.feed.pending"  # stores touched by the open transaction
_COMMITTED = "recommerce.feed.committed"  # stores touched by a committed one, not yet signalled


class Listener:
    """One waiting request: woken from any thread, awaited in its event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def wake(self) -> None:
        # A closed loop means the request is gone: nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> bool:
        """True when woken within `timeout` seconds; ready to wait again afterwards."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._event.clear()


class FeedNotifier:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[int, set[Listener]] = {}

    @contextmanager
    def listening(self, store_number: int) -> Iterator[Listener]:
        """Listen for new rows of one store's feed; call from the request's event loop,
        before reading the feed, so that no commit between the read and the wait is missed."""
        listener = Listener(asyncio.get_running_loop())
        with self._lock:
            self._listeners.setdefault(store_number, set()).add(listener)
        try:
            yield listener
        finally:
            with self._lock:
                waiting = self._listeners.get(store_number)
                if waiting is not None:
                    waiting.discard(listener)
                    if not waiting:
                        del self._listeners[store_number]

    def notify(self, store_numbers: Iterable[int]) -> None:
        with self._lock:
            listeners = [
                listener for number in store_numbers for listener in self._listeners.get(number, ())
            ]
        for listener in listeners:
            listener.wake()


_NOTIFIERS: weakref.WeakKeyDictionary[Engine, FeedNotifier] = weakref.WeakKeyDictionary()
_INSTALL_LOCK = threading.Lock()


def notifier_for(engine: Engine) -> FeedNotifier:
    """The notifier of this engine's database, its commit hooks installed on first use."""
    with _INSTALL_LOCK:
        notifier = _NOTIFIERS.get(engine)
        if notifier is None:
            notifier = _NOTIFIERS[engine] = FeedNotifier()
            _install(engine, notifier)
        return notifier


def notify_after_commit(conn: Connection, store_numbers: Iterable[int]) -> None:
    """Wake the long polls of these stores once the connection's transaction commits."""
    notifier_for(conn.engine)
    conn.info.setdefault(_PENDING, set()).update(store_numbers)


def _install(engine: Engine, notifier: FeedNotifier) -> None:
    def on_commit(conn: Connection) -> None:
        pending = conn.info.pop(_PENDING, None)
        if pending:
            conn.info.setdefault(_COMMITTED, set()).update(pending)

    def on_rollback(conn: Connection) -> None:
        conn.info.pop(_PENDING, None)

    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # Back in the pool: the commit is done and visible to every reader.
        if record is None:
            return
        record.info.pop(_PENDING, None)  # an unfinished transaction is rolled back on checkin
        committed = record.info.pop(_COMMITTED, None)
        if committed:
            notifier.notify(committed)

    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    event.listen(engine, "checkin", on_checkin)
