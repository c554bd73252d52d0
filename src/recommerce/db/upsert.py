"""Insert-or-ignore, insert-or-update and insert-or-add in portable SQL: SQLite and
PostgreSQL both say ON CONFLICT, each through its own dialect's `insert`."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(conn: Connection) -> Any:
    """The connection's dialect's `insert`, the one that knows ON CONFLICT."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def insert_missing(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert the rows whose primary key is not there yet; leave existing rows untouched."""
    if not rows:
        return
    conn.execute(dialect_insert(conn)(table).on_conflict_do_nothing(), list(rows))


def upsert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert the rows, or replace the non-key columns of those whose primary key exists."""
    if not rows:
        return
    conn.execute(_upsert_statement(conn.dialect.name, table), list(rows))


def upsert_adding(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert the rows, or add their non-key columns to those of the row whose primary key
    exists (sums kept by key). The rows' keys must be distinct: PostgreSQL refuses to update
    a row twice in one statement."""
    if not rows:
        return
    conn.execute(_adding_statement(conn.dialect.name, table), list(rows))


@functools.cache
def _adding_statement(dialect: str, table: Table) -> Any:
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    keys = [c.name for c in table.primary_key.columns]
    added = {
        c.name: table.c[c.name] + statement.excluded[c.name]
        for c in table.columns
        if c.name not in keys
    }
    return statement.on_conflict_do_update(index_elements=keys, set_=added)


@functools.cache
def _upsert_statement(dialect: str, table: Table) -> Any:
    """Built once per table: building it costs far more than running it (a catalogue
    snapshot upserts thousands of articles)."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    keys = [c.name for c in table.primary_key.columns]
    changed = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=changed)
