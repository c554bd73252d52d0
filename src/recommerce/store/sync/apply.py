"""Central's feed applied to the store's tables: categories, grade guide, articles, settings.

Central owns the catalogue: a store replaces its copy of a category or an article whole. Every
function writes on the caller's connection, inside the transaction that also saves the feed
cursor, so a row and the cursor that covers it are never apart.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from recommerce.catalog.model import Article, Category
from recommerce.db.catalog_rows import article_row
from recommerce.db.upsert import upsert
from recommerce.store.db import tables as t
from recommerce.store.db.argus import save_guide
from recommerce.store.sync.orders import (
    apply_order_confirmed,
    apply_reservation_cancelled,
    apply_reservation_request,
)
from recommerce.store.sync.transfers import apply_transfer_incoming
from recommerce.sync.feed_events import (
    ARGUS_GUIDE_PUBLISHED,
    ARTICLE_UPSERTED,
    CATEGORY_UPSERTED,
    CONFIGURATION_CHANGED,
    FEED_SCHEMA_VERSION,
    TRANSFER_INCOMING,
    PayloadError,
    article_from_payload,
    category_from_payload,
)
from recommerce.sync.reservations import (
    ORDER_CONFIRMED,
    RESERVATION_CANCELLED,
    RESERVATION_REQUESTED,
)

log = logging.getLogger("recommerce.sync.feed")

CONFIGURATION_KEY_MAX = 100


def save_category(conn: Connection, category: Category) -> None:
    upsert(
        conn,
        t.categories,
        [{"code": category.code, "name": category.name, "precious_metal": category.precious_metal}],
    )
    conn.execute(
        delete(t.grade_definitions).where(t.grade_definitions.c.category_code == category.code)
    )
    if category.grade_definitions:
        conn.execute(
            insert(t.grade_definitions),
            [
                {"category_code": category.code, "grade": grade.value, "definition": text}
                for grade, text in category.grade_definitions.items()
            ],
        )


def save_article(conn: Connection, article: Article) -> None:
    save_articles(conn, [article])


def save_articles(conn: Connection, articles: Sequence[Article]) -> None:
    """Central's articles, added or replaced, in two statements whatever their number."""
    gtins = {a.gtin: a.id for a in articles if a.gtin is not None}
    if gtins:
        # A GTIN names one article. If a local article holds it under another id (a store's
        # own entry before enrolment), central's article takes it; the old one keeps its
        # items but is no longer found by scanning.
        holders = conn.execute(
            select(t.articles.c.id, t.articles.c.gtin).where(t.articles.c.gtin.in_(list(gtins)))
        ).all()
        taken = [row.id for row in holders if gtins[row.gtin] != row.id]
        if taken:
            conn.execute(update(t.articles).where(t.articles.c.id.in_(taken)).values(gtin=None))
            for row in holders:
                if row.id in taken:
                    log.warning("GTIN %s moves to central's article %s", row.gtin, gtins[row.gtin])
    upsert(conn, t.articles, [article_row(a) for a in articles])


def save_configuration(conn: Connection, key: str, value: Any, *, at: datetime) -> None:
    upsert(conn, t.store_configuration, [{"key": key, "value": value, "updated_at": at}])


def _configuration_change(payload: Mapping[str, Any]) -> tuple[str, Any]:
    key = payload.get("key")
    if not isinstance(key, str) or not 0 < len(key) <= CONFIGURATION_KEY_MAX:
        raise PayloadError(f"key: expected a string of 1 to {CONFIGURATION_KEY_MAX} characters")
    if "value" not in payload:
        raise PayloadError("value: missing")
    return key, payload["value"]


def apply_feed_event(
    conn: Connection, event: Mapping[str, Any], *, at: datetime, zone: tzinfo = UTC
) -> bool:
    """Apply one feed row; False when it was skipped (a type or version this store does not
    know, or a payload it cannot read): central may be newer than the store."""
    kind, version, payload = event.get("type"), event.get("schema_version"), event.get("payload")
    if not isinstance(payload, Mapping) or not isinstance(version, int):
        log.error("feed row %s skipped: no payload or schema version", event.get("seq"))
        return False
    if version > FEED_SCHEMA_VERSION:
        log.warning(
            "feed row %s skipped: %s schema version %s is newer than this store reads",
            event.get("seq"),
            kind,
            version,
        )
        return False
    try:
        if kind == CATEGORY_UPSERTED:
            save_category(conn, category_from_payload(payload))
        elif kind == ARTICLE_UPSERTED:
            save_article(conn, article_from_payload(payload))
        elif kind == CONFIGURATION_CHANGED:
            key, value = _configuration_change(payload)
            save_configuration(conn, key, value, at=at)
        elif kind == RESERVATION_REQUESTED:
            apply_reservation_request(conn, payload, at=at, zone=zone)
        elif kind == ARGUS_GUIDE_PUBLISHED:
            try:
                save_guide(conn, dict(payload), at=at)
            except (KeyError, TypeError, ValueError) as exc:
                raise PayloadError(f"price guide: {exc}") from exc
        elif kind == ORDER_CONFIRMED:
            apply_order_confirmed(conn, payload, at=at)
        elif kind == RESERVATION_CANCELLED:
            apply_reservation_cancelled(conn, payload, at=at)
        elif kind == TRANSFER_INCOMING:
            apply_transfer_incoming(conn, payload)
        else:
            log.warning("feed row %s skipped: unknown type %r", event.get("seq"), kind)
            return False
    except PayloadError as exc:
        log.error("feed row %s (%s) skipped: %s", event.get("seq"), kind, exc)
        return False
    return True


def apply_snapshot(
    conn: Connection,
    *,
    categories: Sequence[Mapping[str, Any]],
    articles: Sequence[Mapping[str, Any]],
    configuration: Mapping[str, Any],
    at: datetime,
) -> None:
    """Central's whole catalogue and configuration. Articles the snapshot lacks stay: the
    store's items still name them. Configuration keys it lacks are gone."""
    for payload in categories:
        try:
            category = category_from_payload(payload)
        except PayloadError as exc:
            log.error("snapshot category %r skipped: %s", payload.get("code"), exc)
            continue
        save_category(conn, category)
    readable = []
    for payload in articles:
        try:
            readable.append(article_from_payload(payload))
        except PayloadError as exc:
            log.error("snapshot article %r skipped: %s", payload.get("id"), exc)
    save_articles(conn, readable)
    conn.execute(
        delete(t.store_configuration).where(t.store_configuration.c.key.not_in(list(configuration)))
    )
    for key, value in configuration.items():
        save_configuration(conn, key, value, at=at)
