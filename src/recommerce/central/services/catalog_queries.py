"""Reads of the catalogue master as catalogue models: the API, the fan-out of changes and the
stores' snapshot all see an article or a category the same way."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, select

from recommerce.catalog.model import Article, Category, Grade
from recommerce.central.db import catalog_tables as c
from recommerce.money import Money


def article_from_row(row: Any) -> Article:
    return Article(
        id=row.id,
        category_code=row.category_code,
        brand=row.brand,
        model=row.model,
        name=row.name,
        gtin=row.gtin,
        reference_new_price=Money(row.reference_new_price_cents),
        released_on=row.released_on,
        attributes=dict(row.attributes or {}),
    )


def categories(conn: Connection, codes: Collection[str] | None = None) -> list[Category]:
    """Categories with their grade guide, by name; all of them, or those of `codes`."""
    query = select(c.categories).order_by(c.categories.c.name, c.categories.c.code)
    grades = select(c.grade_definitions)
    if codes is not None:
        query = query.where(c.categories.c.code.in_(list(codes)))
        grades = grades.where(c.grade_definitions.c.category_code.in_(list(codes)))
    definitions: dict[str, dict[Grade, str]] = {}
    for row in conn.execute(grades):
        definitions.setdefault(row.category_code, {})[Grade(row.grade)] = row.definition
    return [
        Category(
            code=row.code,
            name=row.name,
            precious_metal=row.precious_metal,
            grade_definitions=dict(sorted(definitions.get(row.code, {}).items())),
        )
        for row in conn.execute(query)
    ]


def category(conn: Connection, code: str) -> Category | None:
    found = categories(conn, [code])
    return found[0] if found else None


def article(conn: Connection, article_id: str) -> Article | None:
    row = conn.execute(select(c.articles).where(c.articles.c.id == article_id)).first()
    return article_from_row(row) if row else None


def all_articles(conn: Connection) -> list[Article]:
    rows = conn.execute(select(c.articles).order_by(c.articles.c.id))
    return [article_from_row(row) for row in rows]


def configuration(conn: Connection) -> dict[str, Any]:
    rows = conn.execute(select(c.configuration.c.key, c.configuration.c.value))
    return {row.key: row.value for row in rows}
