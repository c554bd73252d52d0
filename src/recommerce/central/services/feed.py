"""The downstream feed: one queue per store, with the store's own gapless `seq`.

A change central makes for the stores (a catalogue change, a setting) is appended to the feed
of every store in the transaction that makes the change: the store sees it if and only if it
happened. Each store's `feed_heads` row is locked while its next seqs are taken and stays
locked until commit, so seqs follow commit order and a reader that has seen `seq` N never
misses a row N' < N committed later. Stores read their feed after a cursor; a bounded history
is kept and a cursor older than it must reload the snapshot (docs/sync-protocol.md).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from recommerce.central.db import argus_tables as a
from recommerce.central.db import catalog_tables as c
from recommerce.central.db import marketplace_tables as m
from recommerce.central.db import sync_tables as s
from recommerce.central.db import tables as t
from recommerce.central.services import catalog_queries
from recommerce.central.services.feed_notifier import notify_after_commit
from recommerce.db.upsert import insert_missing
from recommerce.errors import DomainError, ErrorCode, NotFound
from recommerce.marketplace.orders import OrderStatus
from recommerce.sync.feed_events import (
    ARGUS_GUIDE_PUBLISHED,
    DEFAULT_FEED_RETENTION,
    FEED_SCHEMA_VERSION,
    article_upserted,
    category_upserted,
)
from recommerce.sync.reservations import (
    ORDER_CONFIRMED,
    RESERVATION_CANCELLED,
    RESERVATION_REQUESTED,
    RequestedItem,
    ReservationRequest,
    order_confirmed,
    reservation_cancelled,
    reservation_requested,
)

# A feed is pruned back to the retention once it holds this much more than it.
PRUNE_SLACK = 0.10
_INSERT_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class FeedEvent:
    type: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class FeedPage:
    """Rows after a cursor, in seq order, and the store's newest seq when they were read."""

    events: list[dict[str, Any]]
    head: int


def append_to_feeds(
    conn: Connection,
    type: str,
    payload: Mapping[str, Any],
    *,
    now: datetime,
    stores: Collection[int] | None = None,
    retention: int = DEFAULT_FEED_RETENTION,
) -> dict[int, int]:
    """Append one event to the feed of every registered store (or of `stores`); returns each
    store's seq of it. Runs in the caller's transaction."""
    return append_events(
        conn, [FeedEvent(type, payload)], now=now, stores=stores, retention=retention
    )


def append_events(
    conn: Connection,
    events: Sequence[FeedEvent],
    *,
    now: datetime,
    stores: Collection[int] | None = None,
    retention: int = DEFAULT_FEED_RETENTION,
) -> dict[int, int]:
    """Append events, in order, to the feeds; returns each store's new head seq."""
    numbers = _store_numbers(conn, stores)
    if not events or not numbers:
        return {}
    insert_missing(
        conn,
        c.feed_heads,
        [{"store_number": n, "head_seq": 0, "oldest_seq": 1} for n in numbers],
    )
    heads = _locked_heads(conn, numbers)
    conn.execute(
        update(c.feed_heads)
        .where(c.feed_heads.c.store_number.in_(numbers))
        .values(head_seq=c.feed_heads.c.head_seq + len(events))
    )
    rows = (
        {
            "store_number": head.store_number,
            "seq": head.head_seq + offset,
            "type": event.type,
            "schema_version": FEED_SCHEMA_VERSION,
            "created_at": now,
            "payload": dict(event.payload),
        }
        for head in heads
        for offset, event in enumerate(events, start=1)
    )
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == _INSERT_CHUNK:
            conn.execute(insert(c.feed), chunk)
            chunk = []
    if chunk:
        conn.execute(insert(c.feed), chunk)
    limit = math.floor(retention * (1 + PRUNE_SLACK))
    too_long = [
        head.store_number
        for head in heads
        if head.head_seq + len(events) - head.oldest_seq + 1 > limit
    ]
    if too_long:
        prune(conn, retention, stores=too_long)
    notify_after_commit(conn, numbers)
    return {head.store_number: head.head_seq + len(events) for head in heads}


def read_feed(conn: Connection, store: int, after: int, limit: int) -> FeedPage:
    """The store's rows with `after < seq`, at most `limit` of them.

    A cursor older than the history kept (`after < oldest_seq - 1`), or one ahead of the
    store's head (central restored from an older backup), cannot be served: the store must
    reload the snapshot (410 `feed_cursor_too_old`)."""
    head, oldest = _head(conn, store)
    _check_cursor(store, after, head, oldest)
    rows = conn.execute(
        select(c.feed)
        .where(c.feed.c.store_number == store, c.feed.c.seq > after, c.feed.c.seq <= head)
        .order_by(c.feed.c.seq)
        .limit(limit)
    ).all()
    if (rows and rows[0].seq != after + 1) or (not rows and after < head):
        # Pruned between the two reads (each statement sees the latest commit on PostgreSQL).
        _, oldest = _head(conn, store)
        raise _too_old(store, after, head, oldest)
    return FeedPage(
        events=[
            {
                "seq": row.seq,
                "type": row.type,
                "schema_version": row.schema_version,
                "created_at": row.created_at,
                "payload": row.payload,
            }
            for row in rows
        ],
        head=head,
    )


def prune(conn: Connection, keep: int, *, stores: Collection[int] | None = None) -> int:
    """Keep the newest `keep` rows of each store's feed (or of `stores`) and advance its
    oldest seq; returns how many rows were deleted."""
    if keep < 0:
        raise DomainError("keep at least 0 events per store", field="keep")
    query = select(c.feed_heads.c.store_number)
    if stores is not None:
        query = query.where(c.feed_heads.c.store_number.in_(list(stores)))
    heads = _locked_heads(conn, list(conn.execute(query).scalars()))
    deleted = 0
    for head in heads:
        oldest = max(head.oldest_seq, head.head_seq - keep + 1)
        if oldest == head.oldest_seq:
            continue
        result = conn.execute(
            delete(c.feed).where(c.feed.c.store_number == head.store_number, c.feed.c.seq < oldest)
        )
        deleted += result.rowcount
        conn.execute(
            update(c.feed_heads)
            .where(c.feed_heads.c.store_number == head.store_number)
            .values(oldest_seq=oldest)
        )
    return deleted


def snapshot(conn: Connection, store: int, *, now: datetime) -> dict[str, Any]:
    """Everything a store needs to start over: the catalogue and the settings, and the feed
    seq they are consistent with. The store then reads its feed `after=feed_seq`.

    Read in one transaction that sees one state of the database (REPEATABLE READ on
    PostgreSQL; a SQLite read transaction always does): every change with a seq up to
    `feed_seq` is in it, none after. Call it on a connection that has not started yet."""
    if conn.dialect.name == "postgresql":
        if conn.in_transaction():
            raise RuntimeError("the snapshot needs a connection of its own")
        conn.execution_options(isolation_level="REPEATABLE READ")
    head, _ = _head(conn, store)
    return {
        "feed_seq": head,
        "categories": [category_upserted(k) for k in catalog_queries.categories(conn)],
        "articles": [article_upserted(a) for a in catalog_queries.all_articles(conn)],
        "configuration": catalog_queries.configuration(conn),
        # Feed events a store starting over must still apply: its online orders not yet
        # settled, and the newest price guide.
        "events": order_requests(conn, store, now) + argus_guide(conn),
    }


def argus_guide(conn: Connection) -> list[dict[str, Any]]:
    """The newest price guide, as the feed event that brought it: a store starting over quotes
    with it at once."""
    row = conn.execute(
        select(a.argus_guides).order_by(a.argus_guides.c.version.desc()).limit(1)
    ).first()
    if row is None:
        return []
    payload = {
        "version": row.version,
        "method": row.method,
        "trained_at": row.trained_at.isoformat(),
        "guide": row.payload,
    }
    return [{"type": ARGUS_GUIDE_PUBLISHED, "payload": payload}]


# The orders of the last days a store starting over hears of again (older ones have long been
# answered or cancelled, and their cancellation applied).
ORDERS_IN_SNAPSHOT = timedelta(days=7)


def order_requests(conn: Connection, store: int, now: datetime) -> list[dict[str, Any]]:
    """What a store starting over must still hear of its online orders, as feed events: the
    requests it has not answered, and the cancellations of the last days (so that nothing
    stays reserved for an order that ended)."""
    events: list[dict[str, Any]] = []
    orders = conn.execute(
        select(m.orders, m.customers.c.name.label("customer_name"))
        .join(m.customers, m.customers.c.id == m.orders.c.customer_id)
        .where(
            m.orders.c.store_number == store,
            m.orders.c.status.in_(
                (
                    OrderStatus.AWAITING_STORE.value,
                    OrderStatus.CONFIRMED.value,
                    OrderStatus.CANCELLED.value,
                )
            ),
            m.orders.c.ordered_at >= now - ORDERS_IN_SNAPSHOT,
        )
        .order_by(m.orders.c.ordered_at)
    ).all()
    for order in orders:
        if order.status == OrderStatus.CONFIRMED.value:
            events.append(
                {"type": ORDER_CONFIRMED, "payload": order_confirmed(order.id, order.number)}
            )
            continue
        if order.status == OrderStatus.CANCELLED.value:
            events.append(
                {
                    "type": RESERVATION_CANCELLED,
                    "payload": reservation_cancelled(
                        order.id, order.number, order.end_reason or "cancelled"
                    ),
                }
            )
            continue
        lines = conn.execute(
            select(m.order_lines, s.items.c.label_code)
            .join(s.items, s.items.c.item_id == m.order_lines.c.item_id)
            .where(m.order_lines.c.order_id == order.id)
        ).all()
        request = ReservationRequest(
            order_id=order.id,
            order_number=order.number,
            fulfilment=order.fulfilment,
            customer_name=order.customer_name,
            total_cents=order.total_cents,
            items=tuple(
                RequestedItem(line.item_id, line.label_code, line.title, line.price_cents)
                for line in lines
            ),
        )
        events.append({"type": RESERVATION_REQUESTED, "payload": reservation_requested(request)})
    return events


def _store_numbers(conn: Connection, stores: Collection[int] | None) -> list[int]:
    registered = set(conn.execute(select(t.stores.c.number)).scalars())
    if stores is None:
        return sorted(registered)
    unknown = set(stores) - registered
    if unknown:
        raise NotFound(
            f"no store {min(unknown)}", code=ErrorCode.STORE_NOT_FOUND, field="store_number"
        )
    return sorted(set(stores))


def _locked_heads(conn: Connection, numbers: list[int]) -> list[Any]:
    """The heads of these stores, locked until commit, always in store order (two
    transactions that lock several heads never wait for each other in a circle)."""
    if not numbers:
        return []
    return list(
        conn.execute(
            select(c.feed_heads)
            .where(c.feed_heads.c.store_number.in_(numbers))
            .order_by(c.feed_heads.c.store_number)
            .with_for_update()
        )
    )


def _head(conn: Connection, store: int) -> tuple[int, int]:
    row = conn.execute(
        select(c.feed_heads.c.head_seq, c.feed_heads.c.oldest_seq).where(
            c.feed_heads.c.store_number == store
        )
    ).first()
    return (row.head_seq, row.oldest_seq) if row else (0, 1)


def _check_cursor(store: int, after: int, head: int, oldest: int) -> None:
    if after < oldest - 1:
        raise _too_old(store, after, head, oldest)
    if after > head:
        raise DomainError(
            f"cursor {after} is ahead of store {store}'s feed (head {head}): reload the snapshot",
            code=ErrorCode.FEED_CURSOR_TOO_OLD,
            field="after",
            oldest_seq=oldest,
            head_seq=head,
        )


def _too_old(store: int, after: int, head: int, oldest: int) -> DomainError:
    return DomainError(
        f"store {store}'s feed keeps seq {oldest} onwards; cursor {after} is too old: "
        "reload the snapshot",
        code=ErrorCode.FEED_CURSOR_TOO_OLD,
        field="after",
        oldest_seq=oldest,
        head_seq=head,
    )
