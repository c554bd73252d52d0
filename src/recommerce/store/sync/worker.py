"""The sync worker: the push and the feed, each in its own daemon thread, with a clean stop.

The push thread wakes when a transaction that wrote to the outbox commits, and at least every
second for writes made by other processes. The feed thread long-polls central. Neither stops
the store from selling: whatever happens to central, events wait in the outbox.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import httpx
from prometheus_client import Counter

from recommerce.store.bootstrap import StoreNode
from recommerce.store.sync import state
from recommerce.store.sync.client import CentralClient, http_client
from recommerce.store.sync.feed import FeedPuller, PullStatus
from recommerce.store.sync.pusher import Pusher, PushStatus
from recommerce.sync.backoff import Backoff

log = logging.getLogger("recommerce.sync")

POLL_S = 1.0  # fallback poll of the outbox, for events written by another process
PUSH_ERRORS = frozenset(
    {
        PushStatus.UPGRADE_REQUIRED,
        PushStatus.REFUSED,
        PushStatus.UNAVAILABLE,
        PushStatus.HALTED,
    }
)

# Builds the HTTP client for central's URL (tests give central's TestClient).
HttpFactory = Callable[[str], httpx.Client]


class SyncWorker:
    def __init__(
        self,
        node: StoreNode,
        client_factory: HttpFactory | None = None,
        *,
        push_errors: Counter | None = None,
    ) -> None:
        self.node = node
        self._factory = client_factory
        self._push_errors = push_errors
        self._stop = state.StopSignal()
        self._threads: list[threading.Thread] = []
        self._http: list[httpx.Client] = []

    def _client(self, central_url: str, credential: str) -> CentralClient:
        settings = self.node.settings
        if self._factory is not None:
            http = self._factory(central_url)
        else:  # our own client, closed on stop
            http = http_client(
                central_url,
                timeout_s=settings.sync_timeout_s,
                feed_wait_s=settings.sync_feed_wait_s,
            )
            self._http.append(http)
        return CentralClient(
            http,
            store_number=settings.store_number,
            credential=credential,
            protocol=settings.sync_protocol_version,
        )

    def start(self) -> bool:
        """Start both threads; False (nothing started) while the store is not enrolled."""
        with self.node.reading() as conn:
            current = state.load_state(conn, self.node.vault)
        if current is None:
            return False
        url = self.node.settings.central_url or current.central_url
        self._stop.clear()
        self.pusher = Pusher(self.node, self._client(url, current.credential), stop=self._stop)
        self.puller = FeedPuller(self.node, self._client(url, current.credential), stop=self._stop)
        self._threads = [
            threading.Thread(target=self._push_loop, name="sync-push", daemon=True),
            threading.Thread(target=self._feed_loop, name="sync-feed", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        log.info("sync with %s started", url)
        return True

    def stop(self, timeout: float = 1.0) -> None:
        """Stop both threads without waiting for central: once the stop signal has returned
        no thread writes any more, so a thread still in a long poll or a push is left to
        end on its own (a batch central applied meanwhile is acknowledged again next time)."""
        self._stop.stop()
        self.node.outbox_written.set()  # out of the push thread's wait
        for thread in self._threads:
            thread.join(timeout)
        for http in self._http:
            http.close()
        self._http.clear()

    def join(self) -> None:
        """Wait for both threads (the foreground `sync run`)."""
        for thread in self._threads:
            while thread.is_alive():
                thread.join(1.0)

    def _push_loop(self) -> None:
        try:
            self._push_until_stopped()
        finally:
            self.pusher.close()

    def _push_until_stopped(self) -> None:
        wake = self.node.outbox_written
        trouble = Backoff()
        while not self._stop.is_set():
            wake.clear()  # before reading: a commit during the push sets it again
            try:
                result = self.pusher.push_once()
            except Exception:  # the store's own database: retried, the thread lives on
                log.exception("push failed on the store's side")
                self._stop.wait(trouble.next_delay())
                continue
            trouble.reset()
            if result.status in PUSH_ERRORS and self._push_errors is not None:
                self._push_errors.labels(result.status.value).inc()
            if result.status in (PushStatus.HALTED, PushStatus.STOPPED):
                return
            if result.retry_in is None:
                wake.wait(POLL_S)
            elif result.retry_in > 0:
                self._stop.wait(result.retry_in)

    def _feed_loop(self) -> None:
        trouble = Backoff()
        while not self._stop.is_set():
            try:
                result = self.puller.pull_once()
            except Exception:
                log.exception("feed failed on the store's side")
                self._stop.wait(trouble.next_delay())
                continue
            trouble.reset()
            if result.status is PullStatus.STOPPED:
                return
            if result.retry_in > 0:
                self._stop.wait(result.retry_in)


def start_worker(
    node: StoreNode,
    client_factory: HttpFactory | None = None,
    *,
    push_errors: Counter | None = None,
) -> SyncWorker | None:
    """The store app's worker: running while the store is enrolled and sync is enabled."""
    if not node.settings.sync_enabled:
        return None
    worker = SyncWorker(node, client_factory, push_errors=push_errors)
    return worker if worker.start() else None
