"""Applying a store's upstream batch exactly once (docs/sync-protocol.md, "Upstream").

The store's cursor row is the dedupe: it is locked for the whole batch (SELECT ... FOR UPDATE on
PostgreSQL; on SQLite the transaction's BEGIN IMMEDIATE already serialises writers), events at
or below `last_applied_seq` are duplicates (a success), a batch starting after
`last_applied_seq + 1` is a gap (409 with the seq central expects), and the new events are
applied, quarantined or both, then the cursor moves, all in the caller's one transaction.

Speed matters (thousands of events a second): each new event costs one validation and one
gathering step in Python; the rows are written with one statement per table. Should a row
clash with what central already holds, the batch is replayed event by event, each in its own
savepoint, so that only the clashing event is quarantined.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import DataError, IntegrityError

from recommerce.central.db import sync_tables as s
from recommerce.central.db import tables as t
from recommerce.central.services import read_models
from recommerce.db.upsert import insert_missing
from recommerce.errors import DomainError, ErrorCode
from recommerce.sync.protocol import batch_checksum, contiguity_error
from recommerce.sync.validation import (
    PAYLOAD_SCHEMAS,
    event_error,
    parse_occurred_at,
    storable,
)

log = logging.getLogger("recommerce.central.ingest")

OTHER_TYPE = "other"  # the metrics' label for a type central does not know


@dataclass
class BatchResult:
    """The answer to the store, and the counts by event type for the metrics."""

    acked_seq: int
    applied: int = 0
    duplicates: int = 0
    quarantined: int = 0
    applied_types: Counter[str] = field(default_factory=Counter)
    duplicate_types: Counter[str] = field(default_factory=Counter)
    quarantined_types: Counter[str] = field(default_factory=Counter)
    # Items whose place on the marketplace the batch may have changed: for the search index.
    marketplace_items: set[str] = field(default_factory=set)

    def answer(self) -> dict[str, int]:
        return {
            "acked_seq": self.acked_seq,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
        }


def type_label(event: Any) -> str:
    """The event's type as a metrics label: known types only, so labels stay few."""
    kind = event.get("type") if isinstance(event, dict) else None
    return kind if isinstance(kind, str) and kind in PAYLOAD_SCHEMAS else OTHER_TYPE


def refuse_damaged(events: Sequence[Any], checksum: str | None, *, protocol: int) -> None:
    """From protocol 2 on, a batch carries the sha256 of its events: one damaged on the way
    is refused whole, before anything is applied."""
    if protocol < 2:
        return
    if checksum is None:
        raise DomainError(
            "a protocol 2 batch carries its checksum",
            code=ErrorCode.BATCH_INVALID,
            field="checksum",
        )
    if batch_checksum(events) != checksum:
        raise DomainError(
            "the batch's checksum does not match its events: nothing was applied",
            code=ErrorCode.BATCH_INVALID,
            field="checksum",
        )


def apply_batch(
    conn: Connection, store_number: int, batch: Mapping[str, Any], *, now: datetime
) -> BatchResult:
    """Apply `{"first_seq", "head_seq", "events"}` of the store in the caller's transaction.

    Raises DomainError (nothing written) for a malformed batch (BATCH_INVALID) or a gap
    (SEQ_GAP with `expected_seq`)."""
    first_seq: int = batch["first_seq"]
    head_seq: int = batch["head_seq"]
    events: Sequence[Any] = batch["events"]
    if any(type(event) is not dict for event in events):
        raise DomainError(
            "every event of a batch is an object", code=ErrorCode.BATCH_INVALID, field="events"
        )
    broken = contiguity_error(first_seq, events)
    if broken is not None:
        raise DomainError(
            f"the batch is not contiguous: {broken}", code=ErrorCode.BATCH_INVALID, field="events"
        )
    last_seq = first_seq + len(events) - 1
    if head_seq < last_seq:
        raise DomainError(
            f"head_seq {head_seq} is before the batch's last event {last_seq}",
            code=ErrorCode.BATCH_INVALID,
            field="head_seq",
        )

    cursor = _locked_cursor(conn, store_number)
    last_applied: int = cursor.last_applied_seq
    if first_seq > last_applied + 1:
        raise DomainError(
            f"events {last_applied + 1} to {first_seq - 1} are missing: "
            f"send from seq {last_applied + 1}",
            code=ErrorCode.SEQ_GAP,
            expected_seq=last_applied + 1,
        )

    result = BatchResult(acked_seq=max(last_applied, last_seq))
    skip = max(0, last_applied - first_seq + 1)
    for event in events[:skip]:
        result.duplicate_types[type_label(event)] += 1
    result.duplicates = min(skip, len(events))
    new = events[skip:]
    if new:
        _apply_new(conn, store_number, new, now=now, result=result)

    values: dict[str, Any] = {
        "last_applied_seq": result.acked_seq,
        "store_head_seq": max(head_seq, result.acked_seq),  # as the store last said it
        "last_seen_at": now,
    }
    if new:
        values["last_batch_at"] = now
    conn.execute(
        update(s.sync_cursors).where(s.sync_cursors.c.store_number == store_number).values(values)
    )
    return result


def _locked_cursor(conn: Connection, store_number: int) -> Any:
    """The store's cursor, locked until the transaction ends; created on its first batch."""
    locked = select(s.sync_cursors).where(s.sync_cursors.c.store_number == store_number)
    locked = locked.with_for_update()
    row = conn.execute(locked).first()
    if row is None:
        insert_missing(
            conn,
            s.sync_cursors,
            [{"store_number": store_number, "last_applied_seq": 0, "store_head_seq": 0}],
        )
        row = conn.execute(locked).one()
    return row


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _apply_new(
    conn: Connection,
    store_number: int,
    events: Sequence[dict[str, Any]],
    *,
    now: datetime,
    result: BatchResult,
) -> None:
    zone = _zone(
        conn.execute(
            select(t.stores.c.timezone).where(t.stores.c.number == store_number)
        ).scalar_one()
    )
    taken = _event_ids_taken(conn, events)
    valid: list[tuple[dict[str, Any], datetime]] = []
    bad: list[tuple[dict[str, Any], str]] = []
    for event in events:
        reason = event_error(event, store_number)
        if reason is None:
            event_id = event["event_id"]
            if event_id in taken:
                reason = f"event id {event_id} was already applied under another seq"
            else:
                taken.add(event_id)
        if reason is None:
            at = parse_occurred_at(event["occurred_at"])
            assert at is not None  # checked by event_error
            valid.append((event, at))
        else:
            bad.append((event, reason))

    if valid:
        try:
            with conn.begin_nested():
                result.marketplace_items |= _write(conn, store_number, valid, zone=zone, now=now)
        except (IntegrityError, DataError, read_models.Clash):
            # A row clashes with central's data: find which events, one savepoint each.
            result.marketplace_items.clear()
            bad += _write_one_by_one(conn, store_number, valid, zone=zone, now=now, result=result)
            clashing = {id(event) for event, _ in bad}
            valid = [(event, at) for event, at in valid if id(event) not in clashing]

    for event, _ in valid:
        result.applied_types[event["type"]] += 1
    result.applied = len(valid)
    if bad:
        bad.sort(key=lambda pair: pair[0]["seq"])
        conn.execute(insert(s.quarantine), [_quarantined(store_number, e, r, now) for e, r in bad])
        for event, reason in bad:
            result.quarantined_types[type_label(event)] += 1
            log.warning(
                "store %03d event %s quarantined: %s", store_number, event.get("seq"), reason
            )
        result.quarantined = len(bad)


_TAKEN = select(s.events.c.event_id).where(
    s.events.c.event_id.in_(bindparam("ids", expanding=True))
)


def _event_ids_taken(conn: Connection, events: Sequence[dict[str, Any]]) -> set[str]:
    """Which of these event ids central's log already holds (under any store or seq)."""
    ids = [e["event_id"] for e in events if type(e.get("event_id")) is str]
    if not ids:
        return set()
    return set(conn.execute(_TAKEN, {"ids": ids}).scalars())


def _write(
    conn: Connection,
    store_number: int,
    valid: Sequence[tuple[dict[str, Any], datetime]],
    *,
    zone: Any,
    now: datetime,
) -> set[str]:
    """Write the events' rows; return the items whose place on the marketplace may change."""
    changes = read_models.Changes(store_number=store_number, zone=zone)
    log_rows = []
    for event, at in valid:
        payload = event["payload"]
        log_rows.append(
            {
                "store_number": store_number,
                "seq": event["seq"],
                "event_id": event["event_id"],
                "type": event["type"],
                "schema_version": event["schema_version"],
                "occurred_at": at,
                "received_at": now,
                "payload": payload,
            }
        )
        read_models.gather(changes, event["type"], payload, at)
    conn.execute(insert(s.events), log_rows)
    read_models.write(conn, changes)
    return changes.marketplace_items


def _write_one_by_one(
    conn: Connection,
    store_number: int,
    valid: Sequence[tuple[dict[str, Any], datetime]],
    *,
    zone: Any,
    now: datetime,
    result: BatchResult,
) -> list[tuple[dict[str, Any], str]]:
    """Apply each event in its own savepoint; return those that clash, with the reason."""
    clashes: list[tuple[dict[str, Any], str]] = []
    for event, at in valid:
        try:
            with conn.begin_nested():
                items = _write(conn, store_number, [(event, at)], zone=zone, now=now)
            result.marketplace_items |= items
        except read_models.Clash as exc:
            clashes.append((event, f"clashes with central's data: {exc}"))
        except (IntegrityError, DataError) as exc:
            detail = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            clashes.append((event, f"clashes with central's data: {detail}"))
    return clashes


def _quarantined(
    store_number: int, event: dict[str, Any], reason: str, now: datetime
) -> dict[str, Any]:
    event_id, kind = event.get("event_id"), event.get("type")
    return {
        "store_number": store_number,
        "seq": event["seq"],
        "event_id": None if event_id is None else _text(event_id),
        "type": None if kind is None else _text(kind),
        "reason": _text(reason),
        "event": event,
        "quarantined_at": now,
    }


def _text(value: Any) -> str:
    """A bad event's field as text a database column takes (escaped when it would not be)."""
    text = value if isinstance(value, str) else repr(value)
    return text if storable(text) else ascii(text)
