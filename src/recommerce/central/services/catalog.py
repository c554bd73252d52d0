"""The catalogue master: head office creates and changes categories (with their grade guide)
and articles; every change reaches every store through its feed, in the same transaction.

A write that changes nothing (the same category put again, a CSV line identical to the
article) appends nothing to the feeds, so re-importing a file costs the stores nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from recommerce.catalog.gtin import normalise_gtin
from recommerce.catalog.model import Article, Category, Grade
from recommerce.catalog.search import search_words
from recommerce.catalog.seed_data import demo_articles, demo_categories
from recommerce.central.db import catalog_tables as c
from recommerce.central.services import catalog_queries
from recommerce.central.services.feed import FeedEvent, append_events
from recommerce.db.catalog_rows import article_row
from recommerce.errors import Conflict, DomainError, ErrorCode, NotFound
from recommerce.ids import new_id
from recommerce.money import Money
from recommerce.sync.feed_events import (
    ARTICLE_UPSERTED,
    CATEGORY_UPSERTED,
    DEFAULT_FEED_RETENTION,
    article_upserted,
    category_upserted,
)

CATEGORY_CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")
MAX_PRICE_CENTS = 100_000_000  # 1,000,000 EUR: beyond it, a typing mistake
MAX_ATTRIBUTES = 50
MAX_IMPORT_ERRORS = 100  # the first ones are enough to fix a file


@dataclass(frozen=True, slots=True)
class CategoryInput:
    code: str
    name: str
    precious_metal: bool
    grades: Mapping[str, str]  # a written definition of each grade, A to D


@dataclass(frozen=True, slots=True)
class ArticleInput:
    category_code: str
    brand: str
    model: str
    reference_new_price_cents: int
    name: str | None = None  # default: "brand model"
    gtin: str | None = None
    released_on: date | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ArticlePage:
    articles: list[Article]
    total: int


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


# --- categories -------------------------------------------------------------------------------


def put_category(
    conn: Connection,
    data: CategoryInput,
    *,
    now: datetime,
    retention: int = DEFAULT_FEED_RETENTION,
) -> tuple[Category, bool]:
    """Create or replace a category and its grade guide; returns it and whether it is new."""
    category = _validated_category(data)
    existing = conn.execute(
        select(c.categories.c.code).where(c.categories.c.code == category.code).with_for_update()
    ).first()
    if existing is not None and catalog_queries.category(conn, category.code) == category:
        return category, False
    values = {
        "name": category.name,
        "precious_metal": category.precious_metal,
        "updated_at": now,
    }
    if existing is None:
        conn.execute(insert(c.categories).values(code=category.code, **values))
    else:
        conn.execute(
            update(c.categories).where(c.categories.c.code == category.code).values(**values)
        )
        conn.execute(
            delete(c.grade_definitions).where(c.grade_definitions.c.category_code == category.code)
        )
    conn.execute(
        insert(c.grade_definitions),
        [
            {"category_code": category.code, "grade": grade.value, "definition": text}
            for grade, text in category.grade_definitions.items()
        ],
    )
    append_events(
        conn,
        [FeedEvent(CATEGORY_UPSERTED, category_upserted(category))],
        now=now,
        retention=retention,
    )
    return category, existing is None


def get_category(conn: Connection, code: str) -> Category:
    category = catalog_queries.category(conn, code)
    if category is None:
        raise NotFound(f"no category {code!r}", field="code")
    return category


def _validated_category(data: CategoryInput) -> Category:
    code = data.code.strip()
    if not CATEGORY_CODE.fullmatch(code):
        raise DomainError(
            "a category code is 2 to 40 lower-case letters, digits or _, starting with a letter",
            field="code",
        )
    name = _text(data.name, "name", 120)
    expected = {grade.value for grade in Grade}
    given = set(data.grades)
    if given != expected:
        missing, unknown = sorted(expected - given), sorted(given - expected)
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unknown {', '.join(unknown)}" if unknown else "",
            )
            if part
        )
        raise DomainError(f"give a definition of each grade A to D ({detail})", field="grades")
    definitions = {Grade(g): _text(data.grades[g.value], f"grades.{g.value}", 2000) for g in Grade}
    return Category(
        code=code, name=name, precious_metal=data.precious_metal, grade_definitions=definitions
    )


# --- articles ---------------------------------------------------------------------------------


def create_article(
    conn: Connection,
    data: ArticleInput,
    *,
    now: datetime,
    retention: int = DEFAULT_FEED_RETENTION,
    article_id: str | None = None,
) -> Article:
    article = validated_article(data, article_id=article_id or new_id(), categories=_codes(conn))
    _check_gtin_free(conn, article)
    conn.execute(insert(c.articles).values(**_row(article, now)))
    append_events(
        conn, [FeedEvent(ARTICLE_UPSERTED, article_upserted(article))], now=now, retention=retention
    )
    return article


def update_article(
    conn: Connection,
    article_id: str,
    data: ArticleInput,
    *,
    now: datetime,
    retention: int = DEFAULT_FEED_RETENTION,
) -> Article:
    """Replace an article's fields (its id stays)."""
    row = conn.execute(
        select(c.articles).where(c.articles.c.id == article_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"no article {article_id!r}", field="article_id")
    article = validated_article(data, article_id=article_id, categories=_codes(conn))
    if catalog_queries.article_from_row(row) == article:
        return article
    _check_gtin_free(conn, article)
    conn.execute(
        update(c.articles).where(c.articles.c.id == article_id).values(**_row(article, now))
    )
    append_events(
        conn, [FeedEvent(ARTICLE_UPSERTED, article_upserted(article))], now=now, retention=retention
    )
    return article


def get_article(conn: Connection, article_id: str) -> Article:
    article = catalog_queries.article(conn, article_id)
    if article is None:
        raise NotFound(f"no article {article_id!r}", field="article_id")
    return article


def search_articles(
    conn: Connection,
    *,
    text: str = "",
    category: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> ArticlePage:
    """Articles whose name or category has words starting with each word of `text`, by name;
    one page of them and how many match in all."""
    conditions = [
        c.articles.c.search_text.contains(word, autoescape=True) for word in search_words(text)
    ]
    if category:
        conditions.append(c.articles.c.category_code == category)
    total = conn.execute(
        select(func.count()).select_from(c.articles).where(*conditions)
    ).scalar_one()
    rows = conn.execute(
        select(c.articles)
        .where(*conditions)
        .order_by(c.articles.c.name, c.articles.c.id)
        .limit(limit)
        .offset(offset)
    )
    return ArticlePage([catalog_queries.article_from_row(r) for r in rows], total)


def validated_article(data: ArticleInput, *, article_id: str, categories: set[str]) -> Article:
    """The article as it will be stored, or a DomainError naming the field at fault."""
    if data.category_code not in categories:
        raise DomainError(f"no category {data.category_code!r}", field="category_code")
    brand = _text(data.brand, "brand", 120)
    model = _text(data.model, "model", 200)
    name = _text(data.name, "name", 300) if data.name and data.name.strip() else f"{brand} {model}"
    if len(name) > 300:
        raise DomainError("the name is 300 characters at most", field="name")
    cents = data.reference_new_price_cents
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise DomainError(
            "the reference new price is a whole number of cents",
            code=ErrorCode.INVALID_AMOUNT,
            field="reference_new_price_cents",
        )
    if not 0 <= cents <= MAX_PRICE_CENTS:
        raise DomainError(
            f"the reference new price is between 0 and {MAX_PRICE_CENTS} cents",
            code=ErrorCode.INVALID_AMOUNT,
            field="reference_new_price_cents",
        )
    gtin = normalise_gtin(data.gtin.strip()) if data.gtin and data.gtin.strip() else None
    if len(data.attributes) > MAX_ATTRIBUTES:
        raise DomainError(f"{MAX_ATTRIBUTES} attributes at most", field="attributes")
    attributes = {
        _text(k, "attributes", 64): _text(v, f"attributes.{k}", 200, empty=True)
        for k, v in data.attributes.items()
    }
    return Article(
        id=article_id,
        category_code=data.category_code,
        brand=brand,
        model=model,
        name=name,
        reference_new_price=Money(cents),
        gtin=gtin,
        released_on=data.released_on,
        attributes=dict(sorted(attributes.items())),
    )


def _text(value: str, where: str, max_length: int, *, empty: bool = False) -> str:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text and not empty:
        raise DomainError(f"{where} must not be empty", field=where)
    if len(text) > max_length:
        raise DomainError(f"{where} is {max_length} characters at most", field=where)
    if "\x00" in text:
        raise DomainError(f"{where} contains a NUL character", field=where)
    return text


def _codes(conn: Connection) -> set[str]:
    return set(conn.execute(select(c.categories.c.code)).scalars())


def _check_gtin_free(conn: Connection, article: Article) -> None:
    if article.gtin is None:
        return
    other = conn.execute(
        select(c.articles.c.id).where(
            c.articles.c.gtin == article.gtin, c.articles.c.id != article.id
        )
    ).scalar()
    if other is not None:
        raise Conflict(f"GTIN {article.gtin} is already article {other}'s", field="gtin")


def _row(article: Article, now: datetime) -> dict[str, Any]:
    return {**article_row(article), "updated_at": now}


# --- CSV import -------------------------------------------------------------------------------

REQUIRED_COLUMNS = ("category_code", "brand", "model", "reference_new_price_cents")
OPTIONAL_COLUMNS = ("id", "name", "gtin", "released_on")
ATTRIBUTE_PREFIX = "attr:"  # `attr:colour` is the article's attribute `colour`


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    data: ArticleInput
    article_id: str | None


class _Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, line: int, field: str | None, message: str) -> None:
        if len(self.items) < MAX_IMPORT_ERRORS:
            self.items.append({"line": line, "field": field, "message": message})

    def raise_if_any(self) -> None:
        if not self.items:
            return
        self.items.sort(key=lambda item: int(item["line"]))
        first = self.items[0]
        more = f" (and {len(self.items) - 1} more)" if len(self.items) > 1 else ""
        raise DomainError(
            f"nothing was imported: line {first['line']}: {first['message']}{more}",
            field="file",
            errors=self.items,
        )


def import_articles_csv(
    conn: Connection,
    text: str,
    *,
    now: datetime,
    retention: int = DEFAULT_FEED_RETENTION,
) -> ImportResult:
    """Create or update articles from a CSV file, all of them or none.

    The first line names the columns: `category_code`, `brand`, `model`,
    `reference_new_price_cents` (integer cents), and optionally `id`, `name`, `gtin`,
    `released_on` (YYYY-MM-DD) and `attr:<name>` columns. A line updates the article of its
    `id`, else the one with its GTIN, else the only one with its category, brand and model;
    otherwise it creates an article. Commas or semicolons separate the fields.

    Any refused line refuses the whole file: the error lists each line at fault (the header
    is line 1)."""
    errors = _Errors()
    lines = _parse(text, errors)  # lines that parse are checked too: one answer lists all
    categories = _codes(conn)
    existing = {row.id: row for row in conn.execute(select(c.articles))}
    by_gtin = {row.gtin: row.id for row in existing.values() if row.gtin}
    by_key: dict[tuple[str, str, str], list[str]] = {}
    for row in existing.values():
        by_key.setdefault(_key(row.category_code, row.brand, row.model), []).append(row.id)

    planned: list[tuple[Article, bool]] = []  # (article, is new)
    seen_ids: dict[str, int] = {}
    gtin_owner: dict[str, tuple[str, int]] = {}  # gtin -> (article id, line) after the import
    for line in lines:
        try:
            article_id = _match(line, existing, by_gtin, by_key)
            article = validated_article(
                line.data, article_id=article_id or new_id(), categories=categories
            )
        except DomainError as exc:
            errors.add(line.number, exc.field, exc.message)
            continue
        if article.id in seen_ids:
            errors.add(line.number, "id", f"the same article as line {seen_ids[article.id]}")
            continue
        seen_ids[article.id] = line.number
        if article.gtin is not None:
            owner = gtin_owner.get(article.gtin)
            if owner is not None and owner[0] != article.id:
                errors.add(line.number, "gtin", f"GTIN {article.gtin} is also on line {owner[1]}")
                continue
            gtin_owner[article.gtin] = (article.id, line.number)
        planned.append((article, article_id is None))
    # A GTIN may only move to another article if the file also moves it away from its owner.
    for article, _ in planned:
        holder = by_gtin.get(article.gtin) if article.gtin else None
        if holder is not None and holder != article.id and holder not in seen_ids:
            errors.add(
                seen_ids[article.id], "gtin", f"GTIN {article.gtin} is already article {holder}'s"
            )
    errors.raise_if_any()

    created = [a for a, new in planned if new]
    changed = [
        a for a, new in planned if not new and catalog_queries.article_from_row(existing[a.id]) != a
    ]
    moved_gtins = [a.id for a in changed if a.gtin != existing[a.id].gtin]
    if moved_gtins:  # free them first: two articles may swap GTINs
        conn.execute(update(c.articles).where(c.articles.c.id.in_(moved_gtins)).values(gtin=None))
    for article in changed:
        conn.execute(
            update(c.articles).where(c.articles.c.id == article.id).values(**_row(article, now))
        )
    if created:
        conn.execute(insert(c.articles), [_row(a, now) for a in created])
    append_events(
        conn,
        [FeedEvent(ARTICLE_UPSERTED, article_upserted(a)) for a in [*changed, *created]],
        now=now,
        retention=retention,
    )
    return ImportResult(
        created=len(created),
        updated=len(changed),
        unchanged=len(planned) - len(created) - len(changed),
    )


def _key(category_code: str, brand: str, model: str) -> tuple[str, str, str]:
    return (category_code, " ".join(brand.split()).casefold(), " ".join(model.split()).casefold())


def _match(
    line: _Line,
    existing: Mapping[str, Any],
    by_gtin: Mapping[str, str],
    by_key: Mapping[tuple[str, str, str], list[str]],
) -> str | None:
    """The id of the article this line updates, or None for a new article."""
    if line.article_id:
        if line.article_id not in existing:
            raise DomainError(f"no article {line.article_id!r}", field="id")
        return line.article_id
    data = line.data
    if data.gtin and data.gtin.strip():
        holder = by_gtin.get(normalise_gtin(data.gtin.strip()))
        if holder is not None:
            return holder
    same = by_key.get(_key(data.category_code, data.brand, data.model), [])
    return same[0] if len(same) == 1 else None


def _parse(text: str, errors: _Errors) -> list[_Line]:
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        errors.add(1, "file", "the file is empty: the first line names the columns")
        return []
    except csv.Error as exc:
        errors.add(1, "file", f"unreadable header: {exc}")
        return []
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    for name in header:
        if name not in known and not (name.startswith(ATTRIBUTE_PREFIX) and name[5:].strip()):
            errors.add(1, name, f"unknown column {name!r}")
    for name in REQUIRED_COLUMNS:
        if name not in header:
            errors.add(1, name, f"missing column {name!r}")
    duplicated = {name for name in header if header.count(name) > 1}
    for name in sorted(duplicated):
        errors.add(1, name, f"column {name!r} appears twice")
    if errors.items:
        return []

    lines: list[_Line] = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.add(reader.line_num, "file", f"unreadable line: {exc}")
            break
        number = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are allowed (a spreadsheet's trailing rows)
        if len(cells) != len(header):
            errors.add(number, None, f"{len(cells)} fields where the header has {len(header)}")
            continue
        row = dict(zip(header, (cell.strip() for cell in cells), strict=True))
        try:
            lines.append(_line(number, row))
        except DomainError as exc:
            errors.add(number, exc.field, exc.message)
    if not lines and not errors.items:
        errors.add(2, "file", "the file has no article line")
    return lines


def _line(number: int, row: Mapping[str, str]) -> _Line:
    price = row["reference_new_price_cents"]
    if not re.fullmatch(r"\d{1,12}", price):
        raise DomainError(
            f"reference_new_price_cents: {price!r} is not a whole number of cents",
            code=ErrorCode.INVALID_AMOUNT,
            field="reference_new_price_cents",
        )
    released = row.get("released_on") or None
    try:
        released_on = date.fromisoformat(released) if released else None
    except ValueError as exc:
        raise DomainError(
            f"released_on: {released!r} is not a date (YYYY-MM-DD)", field="released_on"
        ) from exc
    attributes = {
        name[len(ATTRIBUTE_PREFIX) :].strip(): value
        for name, value in row.items()
        if name.startswith(ATTRIBUTE_PREFIX) and value
    }
    return _Line(
        number=number,
        article_id=row.get("id") or None,
        data=ArticleInput(
            category_code=row["category_code"],
            brand=row["brand"],
            model=row["model"],
            reference_new_price_cents=int(price),
            name=row.get("name") or None,
            gtin=row.get("gtin") or None,
            released_on=released_on,
            attributes=attributes,
        ),
    )


# --- the demo catalogue -----------------------------------------------------------------------


def seed_demo_catalogue(
    conn: Connection, *, now: datetime, retention: int = DEFAULT_FEED_RETENTION
) -> int:
    """Add the demo catalogue's missing categories and articles (never changing one that is
    there, nor one whose GTIN another article has); returns how many articles it added."""
    present = _codes(conn)
    for category in demo_categories():
        if category.code not in present:
            put_category(
                conn,
                CategoryInput(
                    code=category.code,
                    name=category.name,
                    precious_metal=category.precious_metal,
                    grades={g.value: d for g, d in category.grade_definitions.items()},
                ),
                now=now,
                retention=retention,
            )
    ids = set(conn.execute(select(c.articles.c.id)).scalars())
    gtins = set(
        conn.execute(select(c.articles.c.gtin).where(c.articles.c.gtin.is_not(None))).scalars()
    )
    added = [a for a in demo_articles() if a.id not in ids and a.gtin not in gtins]
    if added:
        conn.execute(insert(c.articles), [_row(a, now) for a in added])
        append_events(
            conn,
            [FeedEvent(ARTICLE_UPSERTED, article_upserted(a)) for a in added],
            now=now,
            retention=retention,
        )
    return len(added)
