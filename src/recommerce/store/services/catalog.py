"""Catalogue look-ups at the counter: by scanned GTIN or by text, and the grade guide."""

from __future__ import annotations

from sqlalchemy import Connection, select

from recommerce.catalog.gtin import normalise_gtin
from recommerce.catalog.model import Article, Category
from recommerce.errors import ErrorCode, NotFound
from recommerce.store.db import tables as t
from recommerce.store.db.repositories import SqlCatalog, article_from_row, fold


def find_by_gtin(conn: Connection, scanned: str) -> Article:
    gtin = normalise_gtin(scanned)
    candidates = {gtin, gtin.zfill(14), gtin.lstrip("0").zfill(13)}
    row = conn.execute(select(t.articles).where(t.articles.c.gtin.in_(candidates))).first()
    if row is None:
        raise NotFound(
            f"no article with GTIN {gtin} in the catalogue",
            code=ErrorCode.NOT_FOUND,
            field="gtin",
        )
    return article_from_row(row._mapping)


def search_articles(conn: Connection, text: str, *, limit: int = 20) -> list[Article]:
    words = fold(text).split()
    conditions = [t.articles.c.search_text.contains(" " + w) for w in words]
    rows = conn.execute(
        select(t.articles).where(*conditions).order_by(t.articles.c.name).limit(limit)
    ).all()
    return [article_from_row(r._mapping) for r in rows]


def list_categories(conn: Connection) -> list[Category]:
    catalog = SqlCatalog(conn)
    codes = conn.execute(select(t.categories.c.code).order_by(t.categories.c.name)).scalars()
    return [c for c in (catalog.category(code) for code in codes) if c is not None]
