"""The catalogue master as head office reads it: articles found by their words, one article's
page, and the categories with the written definition of each grade (what a buyer and a
customer read of "B" for a phone or for a jacket).

The same search as the JSON API (`recommerce.central.services.catalog.search_articles`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from recommerce.catalog.model import Article, Category, Grade
from recommerce.central.api.deps import CentralDep
from recommerce.central.db import catalog_tables as c
from recommerce.central.services import catalog, catalog_queries
from recommerce.central.web.backoffice import exports
from recommerce.central.web.backoffice.exports import Column, Kind, Sheet
from recommerce.central.web.backoffice.pages import PREFIX, Pages, PageUser, not_found, page
from recommerce.errors import NotFound
from recommerce.web.i18n import gettext as _

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
TEXT_MAX = 200


def articles_sheet(articles: list[Article], names: dict[str, str]) -> Sheet:
    return Sheet(
        name="articles",
        title=_("Articles"),
        columns=[
            Column(_("Name")),
            Column(_("Brand")),
            Column(_("Model")),
            Column(_("Category")),
            Column(_("GTIN")),
            Column(_("Reference new price"), Kind.MONEY),
            Column(_("Released on"), Kind.DATE),
            Column(_("Article id")),
        ],
        rows=[
            [
                a.name,
                a.brand,
                a.model,
                names.get(a.category_code, a.category_code),
                a.gtin or "",
                a.reference_new_price.cents,
                a.released_on,
                a.id,
            ]
            for a in articles
        ],
    )


def categories_sheet(categories: list[Category], counts: dict[str, int]) -> Sheet:
    return Sheet(
        name="categories",
        title=_("Categories"),
        columns=[
            Column(_("Category")),
            Column(_("Code")),
            Column(_("Precious metal")),
            Column(_("Articles"), Kind.INTEGER),
            *(Column(_("Grade %(grade)s") % {"grade": g.value}) for g in Grade),
        ],
        rows=[
            [
                k.name,
                k.code,
                _("yes") if k.precious_metal else _("no"),
                counts.get(k.code, 0),
                *(k.grade_definition(g) for g in Grade),
            ]
            for k in categories
        ],
    )


@router.get(f"{PREFIX}/catalogue", response_class=HTMLResponse)
def search(
    request: Request,
    central: CentralDep,
    user: PageUser,
    q: Annotated[str, Query(max_length=TEXT_MAX)] = "",
    category: Annotated[str, Query(max_length=40)] = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    fmt = exports.wanted_format(request)
    with central.reading() as conn:
        categories = catalog_queries.categories(conn)
        if fmt is not None:
            found = catalog.search_articles(
                conn, text=q, category=category or None, limit=exports.MAX_EXPORT_ROWS
            )
        else:
            found = catalog.search_articles(
                conn,
                text=q,
                category=category or None,
                limit=PER_PAGE,
                offset=(page_number - 1) * PER_PAGE,
            )
    names = {k.code: k.name for k in categories}
    if fmt is not None:
        name = exports.file_name("articles", category, q[:40])
        return exports.download(fmt, [articles_sheet(found.articles, names)], name)
    return page(
        request,
        user,
        "catalogue.html",
        {
            "q": q,
            "category": category,
            "categories": categories,
            "names": names,
            "found": found,
            "pages": Pages.of(page_number, found.total, PER_PAGE),
        },
    )


@router.get(f"{PREFIX}/catalogue/categories", response_class=HTMLResponse)
def categories(request: Request, central: CentralDep, user: PageUser) -> Response:
    with central.reading() as conn:
        known = catalog_queries.categories(conn)
        counts: dict[str, int] = {
            code: n
            for code, n in conn.execute(
                select(c.articles.c.category_code, func.count()).group_by(
                    c.articles.c.category_code
                )
            )
        }
    fmt = exports.wanted_format(request)
    if fmt is not None:
        return exports.download(fmt, [categories_sheet(known, counts)], "categories")
    return page(
        request,
        user,
        "categories.html",
        {"categories": known, "counts": counts, "grades": list(Grade)},
    )


@router.get(f"{PREFIX}/catalogue/articles/{{article_id}}", response_class=HTMLResponse)
def article(request: Request, article_id: str, central: CentralDep, user: PageUser) -> Response:
    with central.reading() as conn:
        try:
            found = catalog.get_article(conn, article_id[:36])
        except NotFound as exc:
            return not_found(request, user, exc)
        category = catalog_queries.category(conn, found.category_code)
    return page(
        request,
        user,
        "article.html",
        {"article": found, "category": category, "grades": list(Grade)},
    )
