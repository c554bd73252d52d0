"""The downstream feed: central's catalogue and configuration changes for this store.

`pull_once()` long-polls `feed?after=<cursor>` and applies what comes back together with the
new cursor in ONE store transaction: a kill between the two can neither skip nor repeat a
row's effect. A store that has no cursor yet (just enrolled) or whose cursor central no longer
serves (410) loads the snapshot instead, also in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from recommerce.store.bootstrap import StoreNode
from recommerce.store.sync import state
from recommerce.store.sync.apply import apply_feed_event, apply_snapshot
from recommerce.store.sync.client import (
    CentralClient,
    CentralUnavailable,
    CursorTooOld,
    FeedPage,
    Refused,
    Snapshot,
    UpgradeRequired,
)
from recommerce.sync.backoff import Backoff

log = logging.getLogger("recommerce.sync.feed")

UPGRADE_RETRY_S = 300.0
REFUSED_RETRY_S = 60.0
NOT_ENROLLED_RETRY_S = 60.0


class PullStatus(StrEnum):
    APPLIED = "applied"  # rows applied (or skipped) and the cursor moved
    EMPTY = "empty"  # nothing new within the wait
    SNAPSHOT = "snapshot"  # the snapshot was loaded
    NOT_ENROLLED = "not_enrolled"
    UPGRADE_REQUIRED = "upgrade_required"
    REFUSED = "refused"
    UNAVAILABLE = "unavailable"
    STOPPED = "stopped"  # the worker stops: an answer arriving now is not applied


@dataclass(frozen=True, slots=True)
class PullResult:
    status: PullStatus
    applied: int = 0
    skipped: int = 0
    feed_seq: int | None = None
    retry_in: float = 0.0  # seconds before the next pull


@dataclass
class FeedPuller:
    node: StoreNode
    client: CentralClient
    backoff: Backoff = field(default_factory=Backoff)
    stop: state.StopSignal = field(default_factory=state.StopSignal)

    def pull_once(self, wait: int | None = None) -> PullResult:
        """One long poll (`wait` seconds, the setting by default) and what it brought."""
        wait = self.node.settings.sync_feed_wait_s if wait is None else wait
        with self.node.reading() as conn:
            current = state.load_state(conn, self.node.vault)
        if current is None:
            return PullResult(PullStatus.NOT_ENROLLED, retry_in=NOT_ENROLLED_RETRY_S)
        self.client.credential = current.credential  # the store may have enrolled again
        if current.feed_seq is None:
            return self.load_snapshot()
        try:
            answer = self.client.feed(current.feed_seq, wait=wait)
        except CentralUnavailable as exc:
            return self._unavailable(str(exc))
        match answer:
            case FeedPage(events=events):
                self.backoff.reset()
                return self._apply(current.feed_seq, events, waited=wait > 0)
            case CursorTooOld():
                log.warning(
                    "central no longer serves the feed after %s: loading the snapshot",
                    current.feed_seq,
                )
                return self.load_snapshot()
            case UpgradeRequired() | Refused():
                return self._refused(answer)

    def load_snapshot(self) -> PullResult:
        try:
            answer = self.client.snapshot()
        except CentralUnavailable as exc:
            return self._unavailable(str(exc))
        match answer:
            case Snapshot():
                with self.stop.writing(self.node) as conn:
                    if conn is None:
                        return PullResult(PullStatus.STOPPED)
                    apply_snapshot(
                        conn,
                        categories=answer.categories,
                        articles=answer.articles,
                        configuration=answer.configuration,
                        at=self.node.clock.now(),
                    )
                    for event in answer.events:  # each applied once, whatever comes again
                        apply_feed_event(
                            conn,
                            {**event, "schema_version": 1},
                            at=self.node.clock.now(),
                            zone=self.node.settings.zone,
                        )
                    state.save_feed_seq(conn, answer.feed_seq)
                self.backoff.reset()
                log.info(
                    "snapshot loaded: %s categories, %s articles, feed cursor %s",
                    len(answer.categories),
                    len(answer.articles),
                    answer.feed_seq,
                )
                return PullResult(
                    PullStatus.SNAPSHOT, applied=len(answer.articles), feed_seq=answer.feed_seq
                )
            case UpgradeRequired() | Refused():
                return self._refused(answer)

    def _apply(self, cursor: int, events: list[dict[str, Any]], *, waited: bool) -> PullResult:
        fresh = sorted((e for e in events if _seq(e) > cursor), key=_seq)
        if not fresh:
            # Without a wait central answered at once: do not ask again at once.
            return PullResult(PullStatus.EMPTY, feed_seq=cursor, retry_in=0.0 if waited else 1.0)
        now = self.node.clock.now()
        applied = 0
        with self.stop.writing(self.node) as conn:
            if conn is None:
                return PullResult(PullStatus.STOPPED, feed_seq=cursor)
            for event in fresh:
                applied += apply_feed_event(conn, event, at=now, zone=self.node.settings.zone)
            new_cursor = _seq(fresh[-1])
            state.save_feed_seq(conn, new_cursor)
        return PullResult(
            PullStatus.APPLIED,
            applied=applied,
            skipped=len(fresh) - applied,
            feed_seq=new_cursor,
        )

    def _refused(self, answer: UpgradeRequired | Refused) -> PullResult:
        if isinstance(answer, UpgradeRequired):
            reason = (
                f"central no longer serves protocol {self.client.protocol} "
                f"(it serves {list(answer.supported)}): upgrade the store"
            )
            status, delay = PullStatus.UPGRADE_REQUIRED, UPGRADE_RETRY_S
        else:
            reason = f"central refused the feed request: {answer.problem}"
            status, delay = PullStatus.REFUSED, REFUSED_RETRY_S
        log.error(reason)
        self._record(reason, self.node.clock.now())
        return PullResult(status, retry_in=delay)

    def _unavailable(self, reason: str) -> PullResult:
        if self.stop.is_set():  # the worker closed the connection of a long poll: not central
            return PullResult(PullStatus.STOPPED)
        delay = self.backoff.next_delay()
        log.warning("feed request failed, retrying in %.1f s: %s", delay, reason)
        self._record(reason, self.node.clock.now())
        return PullResult(PullStatus.UNAVAILABLE, retry_in=delay)

    def _record(self, reason: str, at: datetime) -> None:
        with self.stop.writing(self.node) as conn:
            if conn is not None:
                state.record_error(conn, f"feed: {reason}", at=at)


def _seq(event: dict[str, Any]) -> int:
    seq = event.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else -1
