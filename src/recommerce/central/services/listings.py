"""The marketplace's listings at central: written by ingest, read by the storefront and the
search index (docs/marketplace.md).

A listing is on the marketplace while its store publishes it and its item is in stock in
central's read model. Ingest applies a till sale by moving the item to sold in the batch's
transaction, so the sale takes the listing off the marketplace the moment it commits; the
search index follows just after, and every page re-reads its hits here, so a sold item never
shows even while the index catches up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, select

from recommerce.central.db import catalog_tables as c
from recommerce.central.db import marketplace_tables as m
from recommerce.central.db import sync_tables as s
from recommerce.central.db import tables as t
from recommerce.db.upsert import dialect_insert
from recommerce.inventory.model import ItemStatus
from recommerce.marketplace.search import ListingDoc


class ListingRefused(Exception):
    """A store lists an item it does not hold: ingest quarantines the event."""


def save_listings(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace the listings of one store's batch; the first publication's time is
    kept (customers sort by it). Only the store holding an item may list it."""
    store_number = rows[0]["store_number"]
    ids = [row["item_id"] for row in rows]
    holders = dict(
        conn.execute(
            select(s.items.c.item_id, s.items.c.store_number).where(
                s.items.c.item_id.in_(bindparam("ids", expanding=True))
            ),
            {"ids": ids},
        ).all()
    )
    for item_id in ids:
        holder = holders.get(item_id)
        if holder != store_number:
            where = "unknown to central" if holder is None else f"held by store {holder:03d}"
            raise ListingRefused(f"item {item_id} is {where}: only its store may list it")
    articles = {row["article_id"] for row in rows}
    known = set(
        conn.execute(
            select(c.articles.c.id).where(c.articles.c.id.in_(bindparam("ids", expanding=True))),
            {"ids": list(articles)},
        ).scalars()
    )
    if articles - known:
        raise ListingRefused(
            f"article {sorted(articles - known)[0]} is unknown to central's catalogue"
        )
    statement = dialect_insert(conn)(m.listings)
    kept = {"item_id", "published_at"}
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["item_id"],
            set_={
                col.name: statement.excluded[col.name]
                for col in m.listings.c
                if col.name not in kept
            },
        ),
        list(rows),
    )


def on_sale() -> Any:
    """The condition of a listing customers can see and buy: published, item in stock, and
    no open online order holding it."""
    held = select(m.item_holds.c.item_id).where(m.item_holds.c.item_id == m.listings.c.item_id)
    return and_(
        m.listings.c.published.is_(True),
        s.items.c.status == ItemStatus.IN_STOCK.value,
        ~held.exists(),
    )


def listing_query() -> Select[Any]:
    """The listings on the marketplace, with what the storefront shows of each."""
    return (
        select(
            m.listings,
            s.items.c.label_code,
            c.articles.c.name.label("title"),
            c.articles.c.brand,
            c.articles.c.category_code,
            c.categories.c.name.label("category_name"),
            c.grade_definitions.c.definition.label("grade_definition"),
            t.stores.c.name.label("store_name"),
            t.stores.c.city,
            t.stores.c.latitude,
            t.stores.c.longitude,
            s.sync_cursors.c.last_seen_at,
        )
        .join(s.items, s.items.c.item_id == m.listings.c.item_id)
        .join(c.articles, c.articles.c.id == m.listings.c.article_id)
        .join(c.categories, c.categories.c.code == c.articles.c.category_code)
        .join(t.stores, t.stores.c.number == m.listings.c.store_number)
        .outerjoin(
            c.grade_definitions,
            and_(
                c.grade_definitions.c.category_code == c.articles.c.category_code,
                c.grade_definitions.c.grade == m.listings.c.grade,
            ),
        )
        .outerjoin(s.sync_cursors, s.sync_cursors.c.store_number == m.listings.c.store_number)
        .where(on_sale())
    )


def listings_by_id(conn: Connection, item_ids: Iterable[str]) -> dict[str, Any]:
    """The rows of those of these items that are on the marketplace now, by item id."""
    ids = list(item_ids)
    if not ids:
        return {}
    rows = conn.execute(listing_query().where(m.listings.c.item_id.in_(ids)))
    return {row.item_id: row for row in rows}


def doc_of(row: Any) -> ListingDoc:
    return ListingDoc(
        item_id=row.item_id,
        title=row.title,
        description=row.description,
        category_code=row.category_code,
        brand=row.brand,
        grade=row.grade,
        price_cents=row.price_cents,
        store_number=row.store_number,
        city=row.city,
        listed_at=row.published_at,
    )


def all_docs(conn: Connection, *, chunk: int = 5000) -> Iterator[ListingDoc]:
    """Every listing on the marketplace, for rebuilding the search index: the listings' ids
    read in chunks by key (never the whole table in memory, never a sort of all of it), then
    those of each chunk that are on sale."""
    after = ""
    while True:
        ids = list(
            conn.execute(
                select(m.listings.c.item_id)
                .where(m.listings.c.item_id > after)
                .order_by(m.listings.c.item_id)
                .limit(chunk)
            ).scalars()
        )
        if not ids:
            return
        rows = listings_by_id(conn, ids)
        for item_id in ids:
            if item_id in rows:
                yield doc_of(rows[item_id])
        after = ids[-1]
