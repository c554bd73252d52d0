"""The upstream push: the outbox, in order, to central, in contiguous batches.

One `push_once()` sends one batch and says when to try again; the worker loops on it and
tests drive it step by step. The outbox is never deleted: it is the store's own history of
what it told central, and `outbox.acked_at` says which rows central holds.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select

from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.db.repositories import OUTBOX_COUNTER
from recommerce.store.sync import state
from recommerce.store.sync.client import (
    Acked,
    CentralClient,
    CentralUnavailable,
    Refused,
    SeqGap,
    UpgradeRequired,
)
from recommerce.sync.backoff import Backoff
from recommerce.sync.events import ITEM_LISTING_CHANGED

log = logging.getLogger("recommerce.sync.push")

UPGRADE_RETRY_S = 300.0  # a store too old for central asks again every few minutes
REFUSED_CAP_S = 300.0  # a refused credential or batch is retried, slowly
FOREIGN_EVENTS = (
    "central holds events this store never wrote (a store database restored from a backup, "
    "or two stores sharing one credential?)"
)


class PushStatus(StrEnum):
    IDLE = "idle"  # nothing to send
    ACKED = "acked"  # a batch was acknowledged
    RESTARTED = "restarted"  # central's cursor was elsewhere: the next batch starts there
    UPGRADE_REQUIRED = "upgrade_required"  # central no longer serves this protocol (426)
    REFUSED = "refused"  # central refused the batch or the credential
    UNAVAILABLE = "unavailable"  # network error or central failing: back off
    STOPPED = "stopped"  # the worker stops: an answer arriving now is not recorded
    HALTED = "halted"  # central holds events the store does not have: a misconfiguration


@dataclass(frozen=True, slots=True)
class PushResult:
    status: PushStatus
    sent: int = 0
    acked_seq: int | None = None
    # Seconds before the next try: 0 at once (more to send), None when waiting for new events.
    retry_in: float | None = None


def occurred_at_text(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, as the protocol's events carry it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def head_seq(conn: Connection) -> int:
    """The store's newest outbox seq (the outbox counter moves with each committed row)."""
    value = conn.execute(
        select(t.counters.c.value).where(t.counters.c.name == OUTBOX_COUNTER)
    ).scalar_one_or_none()
    return int(value or 0)


def pending_events(conn: Connection, after: int, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(t.outbox).where(t.outbox.c.seq > after).order_by(t.outbox.c.seq).limit(limit)
    )
    return [
        {
            "seq": row.seq,
            "event_id": row.event_id,
            "type": row.type,
            "schema_version": row.schema_version,
            "occurred_at": occurred_at_text(row.occurred_at),
            "payload": row.payload,
        }
        for row in rows
    ]


def photos_named(events: list[dict[str, Any]]) -> list[str]:
    """The photo files (sha256) that the listing events of a batch show, each once."""
    named: dict[str, None] = {}
    for event in events:
        if event["type"] == ITEM_LISTING_CHANGED:
            for photo in event["payload"].get("photos", ()):
                named[photo["full_sha256"]] = None
                named[photo["thumb_sha256"]] = None
    return list(named)


@dataclass
class Pusher:
    node: StoreNode
    client: CentralClient
    backoff: Backoff = field(default_factory=Backoff)
    stop: state.StopSignal = field(default_factory=state.StopSignal)
    halted: bool = False
    # While central applies a batch, the next one is read from the outbox (a store catching
    # up after an outage): (the seq it follows, its events and the head).
    _next: tuple[int, Future[tuple[list[dict[str, Any]], int]]] | None = None
    _reader: ThreadPoolExecutor | None = None
    _photos_sent: set[str] = field(default_factory=set)  # photo files central holds

    def _read(self, after: int) -> tuple[list[dict[str, Any]], int]:
        with self.node.reading() as conn:
            events = pending_events(conn, after, self.node.settings.sync_batch_size)
            head = head_seq(conn)  # read after the events: never older than the last of them
        return events, head

    def _batch_after(self, after: int) -> tuple[list[dict[str, Any]], int]:
        """The events after `after`: read ahead during the previous push, or now. Outbox rows
        never change once committed, so a batch read ahead is still the truth."""
        ahead, self._next = self._next, None
        if ahead is not None and ahead[0] == after:
            return ahead[1].result()
        return self._read(after)

    def _read_ahead(self, after: int) -> None:
        if self._reader is None:
            self._reader = ThreadPoolExecutor(1, thread_name_prefix="sync-read-ahead")
        self._next = (after, self._reader.submit(self._read, after))

    def close(self) -> None:
        """Let the read-ahead thread go (a read under way ends on its own)."""
        if self._reader is not None:
            self._reader.shutdown(wait=False, cancel_futures=True)
            self._reader = None
        self._next = None

    def push_once(self) -> PushResult:
        if self.halted:
            return PushResult(PushStatus.HALTED)
        with self.node.reading() as conn:
            current = state.load_state(conn, self.node.vault)
        if current is None:
            return PushResult(PushStatus.IDLE)
        self.client.credential = current.credential  # the store may have enrolled again
        events, head = self._batch_after(current.acked_seq)
        if not events:
            return PushResult(PushStatus.IDLE)
        first = events[0]["seq"]
        if first != current.acked_seq + 1:
            # Outbox rows are never deleted; a hole means the database was tampered with.
            return self._halt(
                f"the outbox has no event {current.acked_seq + 1}: it starts at {first}"
            )
        if events[-1]["seq"] < head:
            self._read_ahead(events[-1]["seq"])
        try:
            refused = self._send_photos(events)
            answer = refused or self.client.push(first, head, events)
        except CentralUnavailable as exc:
            return self._unavailable(str(exc))
        now = self.node.clock.now()
        match answer:
            case Acked(acked_seq=acked) if acked > events[-1]["seq"]:
                return self._halt(
                    f"central acknowledges event {acked} but the store sent events up to "
                    f"{events[-1]['seq']}: {FOREIGN_EVENTS}"
                )
            case Acked(acked_seq=acked):
                self.backoff.reset()
                with self.stop.writing(self.node) as conn:
                    if conn is None:
                        return PushResult(PushStatus.STOPPED)
                    state.record_ack(conn, acked, at=now)
                more = acked < head
                log.info(
                    "central acknowledged events %s to %s (applied %s, duplicates %s, "
                    "quarantined %s)",
                    first,
                    acked,
                    answer.applied,
                    answer.duplicates,
                    answer.quarantined,
                )
                return PushResult(
                    PushStatus.ACKED, len(events), acked, retry_in=0.0 if more else None
                )
            case SeqGap(expected_seq=expected):
                return self._restart(expected, head, now)
            case UpgradeRequired():
                reason = (
                    f"central no longer accepts protocol {self.client.protocol} "
                    f"(it serves {list(answer.supported)}): upgrade the store"
                )
                log.error("%s; the store keeps selling and queueing", reason)
                self._record(reason, now, blocked=True)
                return PushResult(PushStatus.UPGRADE_REQUIRED, retry_in=UPGRADE_RETRY_S)
            case Refused(problem=problem):
                blocked = problem.status in (401, 403)
                reason = f"central refused the batch: {problem}"
                if blocked:
                    reason = f"central refuses the store's credential ({problem}): enrol again"
                log.error(reason)
                self._record(reason, now, blocked=blocked)
                delay = min(REFUSED_CAP_S, max(self.backoff.next_delay(), 30.0))
                return PushResult(PushStatus.REFUSED, retry_in=delay)

    def _send_photos(self, events: list[dict[str, Any]]) -> Refused | UpgradeRequired | None:
        """Central receives the photo files that a batch's listings show before the batch, so
        that a listing never names a photo central lacks. Files are addressed by content:
        one central holds already is not sent again."""
        for sha256 in photos_named(events):
            if sha256 in self._photos_sent or self.client.has_photo(sha256):
                self._photos_sent.add(sha256)
                continue
            data = self.node.photos.get(sha256)
            if data is None:
                log.error("photo %s of a listing is missing from the store's photo storage", sha256)
                continue
            refused = self.client.put_photo(sha256, data)
            if refused is not None:
                return refused
            self._photos_sent.add(sha256)
        return None

    def _restart(self, expected: int, head: int, now: datetime) -> PushResult:
        if expected > head + 1:
            return self._halt(
                f"central expects event {expected} but the store's newest is {head}: "
                f"{FOREIGN_EVENTS}"
            )
        log.warning("central expects event %s: the push restarts there", expected)
        with self.stop.writing(self.node) as conn:
            if conn is None:
                return PushResult(PushStatus.STOPPED)
            state.restart_from(conn, expected, at=now)
        return PushResult(PushStatus.RESTARTED, acked_seq=expected - 1, retry_in=0.0)

    def _halt(self, reason: str) -> PushResult:
        self.halted = True
        log.error("pushing stops: %s", reason)
        self._record(f"pushing stopped: {reason}", self.node.clock.now(), blocked=True)
        return PushResult(PushStatus.HALTED)

    def _unavailable(self, reason: str) -> PushResult:
        if self.stop.is_set():  # the worker closed the connection of a push: not central
            return PushResult(PushStatus.STOPPED)
        delay = self.backoff.next_delay()
        log.warning("push failed, retrying in %.1f s: %s", delay, reason)
        self._record(reason, self.node.clock.now())
        return PushResult(PushStatus.UNAVAILABLE, retry_in=delay)

    def _record(self, reason: str, at: datetime, *, blocked: bool = False) -> None:
        with self.stop.writing(self.node) as conn:
            if conn is not None:
                state.record_error(conn, f"push: {reason}", at=at, blocked=blocked, pushed=True)
