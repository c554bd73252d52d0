"""Keeping the marketplace's search index in step with the listings in the database.

Ingest tells `ListingIndexer.touched` which items a committed batch may have listed or delisted;
one thread reads those items' listings back from the database and upserts or removes them in
the index, many items per index commit. The database stays the truth: at start the indexer
compares the index with it and rebuilds it when they differ (a crash between a commit and its
index update, a new index, an index from a backup), and `rebuild` can be asked for at any time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from sqlalchemy import Connection, bindparam, func, select

from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import marketplace_tables as m
from recommerce.central.db import sync_tables as s
from recommerce.central.services.listings import all_docs, doc_of, listings_by_id, on_sale
from recommerce.marketplace.search import ListingIndex

log = logging.getLogger("recommerce.central.search")

_LISTED = select(m.listings.c.item_id).where(
    m.listings.c.item_id.in_(bindparam("ids", expanding=True))
)


def listings_on_sale(conn: Connection) -> int:
    """How many listings customers can see and buy now."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(m.listings)
            .join(s.items, s.items.c.item_id == m.listings.c.item_id)
            .where(on_sale())
        ).scalar_one()
    )


class ListingIndexer:
    """The one writer of the search index, fed with the items that committed batches touched."""

    def __init__(self, node: CentralNode, index: ListingIndex) -> None:
        self.node = node
        self.index = index
        self._pending: set[str] = set()
        self._wake = threading.Condition()
        self._idle = threading.Event()
        self._idle.set()
        self._stop = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._idle.clear()  # until the index is checked against the database
        self._thread = threading.Thread(target=self._run, name="search-indexer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stop = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def touched(self, item_ids: Iterable[str]) -> None:
        """Items whose listing may have changed in a transaction that has committed."""
        ids = set(item_ids)
        if not ids:
            return
        with self._wake:
            self._pending |= ids
            self._idle.clear()
            self._wake.notify()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Whether every touched item reached the index within `timeout` (tests, benchmarks)."""
        return self._idle.wait(timeout)

    def rebuild(self) -> int:
        """Index every listing on sale anew from the database; how many."""
        started = time.perf_counter()
        with self.node.reading() as conn:
            self.index.rebuild(all_docs(conn))
        count = self.index.count()
        log.info(
            "search index rebuilt: %s listings in %.1f s", count, time.perf_counter() - started
        )
        return count

    def check(self) -> None:
        """Rebuild the index when it does not hold as many listings as the database."""
        with self.node.reading() as conn:
            in_database = listings_on_sale(conn)
        in_index = self.index.count()
        if in_database != in_index:
            log.warning(
                "the search index holds %s listings, the database %s: rebuilding",
                in_index,
                in_database,
            )
            self.rebuild()

    def sync(self, item_ids: set[str]) -> None:
        """Put these items' listings in the index as the database has them now."""
        with self.node.reading() as conn:
            listed = set(conn.execute(_LISTED, {"ids": list(item_ids)}).scalars())
            if not listed:
                return  # items never listed: nothing online to change
            on_sale = listings_by_id(conn, listed)
        if on_sale:
            self.index.upsert(doc_of(row) for row in on_sale.values())
        gone = listed - set(on_sale)
        if gone:
            self.index.remove(gone)

    def _run(self) -> None:
        try:
            self.check()
        except Exception:
            log.exception("the search index could not be checked against the database")
        while True:
            with self._wake:
                while not self._pending and not self._stop:
                    self._idle.set()
                    self._wake.wait()
                if self._stop:
                    return
                batch, self._pending = self._pending, set()
            try:
                self.sync(batch)
            except Exception:
                log.exception("the search index missed %s items; they are retried", len(batch))
                time.sleep(1.0)
                with self._wake:
                    self._pending |= batch
