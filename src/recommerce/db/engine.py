"""Engines: SQLite in WAL mode by default, PostgreSQL when a URL says so."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

READ_ONLY = "recommerce_read_only"  # execution option of a connection that only reads

# SQLite has one writer at a time. Writers of this process queue on a lock of their own
# instead of polling the database lock (whose busy handler sleeps up to 100 ms a try).
_WRITE_LOCKS: dict[int, threading.RLock] = {}


def write_lock(engine: Engine) -> AbstractContextManager[object]:
    lock = _WRITE_LOCKS.get(id(engine))
    return lock if lock is not None else nullcontext()


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # The driver's own transaction handling is turned off so that every transaction starts
    # with BEGIN IMMEDIATE: writers queue on the database lock instead of failing later with
    # "database is locked" when two purchases race for the next register number.
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None}
    )

    _WRITE_LOCKS[id(engine)] = threading.RLock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a committed register entry survives a power cut
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A reader (READ_ONLY) starts a deferred transaction: in WAL mode it never waits for
        # nor blocks a writer.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
