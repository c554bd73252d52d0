"""The argus port at the store: quotes from the newest price guide central sent, read from the
store's own database (so the counter quotes offline), or the reference-price rule until one
has arrived."""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select

from recommerce.argus.guide import GuidedArgus, StatisticalGuide, guide_from_payload
from recommerce.buyback.quote import ArgusPort, Quote, ReferencePriceRule
from recommerce.catalog.model import Article, Grade
from recommerce.db.engine import READ_ONLY
from recommerce.store.db import tables as t

log = logging.getLogger("recommerce.argus")

KEPT_VERSIONS = 3  # older guides are deleted as new ones arrive


def save_guide(conn: Connection, payload: dict[str, Any], *, at: datetime) -> None:
    """Keep a guide central sent (`ArgusGuidePublished`); the same version again is ignored."""
    version = int(payload["version"])
    guide_from_payload(payload["guide"])  # refuse (ValueError) what the store could not load
    exists = conn.execute(
        select(t.argus_guides.c.version).where(t.argus_guides.c.version == version)
    ).first()
    if exists is None:
        conn.execute(
            insert(t.argus_guides).values(
                version=version,
                method=str(payload["method"]),
                trained_at=datetime.fromisoformat(str(payload["trained_at"])),
                received_at=at,
                payload=payload["guide"],
            )
        )
    conn.execute(delete(t.argus_guides).where(t.argus_guides.c.version <= version - KEPT_VERSIONS))


class StoredArgus:
    """Quotes with the newest guide in the store's database; the guide is parsed once per
    version and kept in memory."""

    def __init__(self, engine: Engine, fallback: ArgusPort | None = None) -> None:
        self._engine = engine
        self._fallback = fallback or ReferencePriceRule()
        self._lock = threading.Lock()
        self._version: int | None = None
        self._argus: ArgusPort = self._fallback

    def quote(self, article: Article, grade: Grade, *, on: date) -> Quote:
        return self._current().quote(article, grade, on=on)

    @property
    def version(self) -> int | None:
        self._current()
        return self._version

    def _current(self) -> ArgusPort:
        with self._engine.connect() as conn:
            conn = conn.execution_options(**{READ_ONLY: True})
            newest = conn.execute(select(func.max(t.argus_guides.c.version))).scalar()
            if newest is None or newest == self._version:
                return self._argus
            with self._lock:
                if newest != self._version:
                    payload = conn.execute(
                        select(t.argus_guides.c.payload).where(t.argus_guides.c.version == newest)
                    ).scalar_one()
                    guide: StatisticalGuide = guide_from_payload(payload)
                    self._argus = GuidedArgus(guide, self._fallback)
                    self._version = newest
                    log.info("quoting with argus guide %s", newest)
        return self._argus
