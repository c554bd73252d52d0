"""The argus as head office sees it: which price guide the stores quote with (its version, how
it was trained, on how many sales), what it learned (by grade and by category), and the price
guide of any article: for each grade, the resale range and median and the buy offer.

An article's figures are the stores' own: the newest guide, read back from what central
keeps (`recommerce.argus.guide.guide_from_payload`) with the buying rules the stores apply,
and the reference-price rule where the guide has learned nothing that applies, as at the
counter (`GuidedArgus`).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Connection, select

from recommerce.argus.guide import GRADES, GuidedArgus, Spread, StatisticalGuide, guide_from_payload
from recommerce.buyback.quote import Quote, ReferencePriceRule
from recommerce.catalog.model import Article, Grade
from recommerce.central.api.deps import CentralDep
from recommerce.central.db import argus_tables as a
from recommerce.central.services import catalog, catalog_queries
from recommerce.central.web.backoffice import exports
from recommerce.central.web.backoffice.exports import Column, Kind, Sheet
from recommerce.central.web.backoffice.pages import PREFIX, PageUser, not_found, page, today
from recommerce.errors import NotFound
from recommerce.web.i18n import gettext as _

router = APIRouter(include_in_schema=False)

VERSIONS_SHOWN = 20
FOUND_SHOWN = 20  # articles listed by the argus page's search


@dataclass(frozen=True, slots=True)
class GuideVersion:
    version: int
    method: str
    trained_at: datetime
    sales: int
    source: str


@dataclass(frozen=True, slots=True)
class GuideFacts:
    """What a guide holds, in numbers: how much of the catalogue it knows on its own."""

    article_grades: int
    articles: int
    learned_article_grades: int
    brands: int
    categories: int


class _NewestGuide:
    """The newest guide, parsed once per version (a chain's guide is megabytes of JSON)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, int, datetime] | None = None
        self._guide: StatisticalGuide | None = None

    def get(self, conn: Connection, place: str, row: GuideVersion) -> StatisticalGuide:
        key = (place, row.version, row.trained_at)
        with self._lock:
            if self._key != key or self._guide is None:
                payload = conn.execute(
                    select(a.argus_guides.c.payload).where(a.argus_guides.c.version == row.version)
                ).scalar_one()
                self._guide, self._key = guide_from_payload(payload), key
            return self._guide


_newest = _NewestGuide()


def versions(conn: Connection, limit: int = VERSIONS_SHOWN) -> list[GuideVersion]:
    g = a.argus_guides
    rows = conn.execute(
        select(g.c.version, g.c.method, g.c.trained_at, g.c.sales, g.c.source)
        .order_by(g.c.version.desc())
        .limit(limit)
    )
    return [GuideVersion(**row._mapping) for row in rows]


def newest_guide(conn: Connection, place: str) -> tuple[GuideVersion, StatisticalGuide] | None:
    """The guide the stores quote with now, or None before the first training."""
    found = versions(conn, 1)
    if not found:
        return None
    return found[0], _newest.get(conn, place, found[0])


def facts(guide: StatisticalGuide) -> GuideFacts:
    return GuideFacts(
        article_grades=len(guide.articles),
        articles=len({article for article, _grade in guide.articles}),
        learned_article_grades=len(guide.learned),
        brands=len({(category, brand) for category, brand, _grade in guide.brands}),
        categories=len({category for category, _grade in guide.categories}),
    )


def share(log_share: float) -> float:
    """A level of the guide (log of a share of the new price) as a plain share."""
    return math.exp(log_share)


def _spread_cells(spread: Spread) -> list[Any]:
    return [
        share(spread.median + spread.low),
        share(spread.median),
        share(spread.median + spread.high),
        round(spread.weight),
    ]


def learned_sheet(guide: StatisticalGuide, names: dict[str, str]) -> Sheet:
    """What the guide learned: by grade over the chain, then by category and grade, as shares
    of the new price at release, with each category's loss of value per year."""
    rows: list[list[Any]] = [
        [_("All categories"), grade.value, *_spread_cells(spread), None]
        for grade, spread in sorted(guide.overall.items())
    ]
    for (code, grade), spread in sorted(guide.categories.items()):
        yearly = guide.depreciation.get(code, 0.0)
        rows.append(
            [names.get(code, code), grade.value, *_spread_cells(spread), 1 - math.exp(yearly)]
        )
    return Sheet(
        name="argus-learned",
        title=_("What the argus learned"),
        columns=[
            Column(_("Category")),
            Column(_("Grade")),
            Column(_("Low (p10), share of new price"), Kind.PERCENT),
            Column(_("Median, share of new price"), Kind.PERCENT),
            Column(_("High (p90), share of new price"), Kind.PERCENT),
            Column(_("Sales behind it (weighted)"), Kind.INTEGER),
            Column(_("Value lost per year"), Kind.PERCENT),
        ],
        rows=rows,
    )


@dataclass(frozen=True, slots=True)
class GradeQuote:
    grade: Grade
    quote: Quote
    support: float | None  # the article's own sales behind the figure (effective number)


def quotes(article: Article, guide: StatisticalGuide | None, *, on: Any) -> list[GradeQuote]:
    """The article's figures for each grade, as a store would quote them today."""
    out = []
    for grade in GRADES:
        if guide is None:
            out.append(GradeQuote(grade, ReferencePriceRule().quote(article, grade, on=on), None))
            continue
        found = guide.price(article, grade, on=on)
        out.append(
            GradeQuote(
                grade,
                GuidedArgus(guide).quote(article, grade, on=on),
                found.support if found is not None else None,
            )
        )
    return out


def quotes_sheet(article: Article, rows: list[GradeQuote]) -> Sheet:
    return Sheet(
        name="price-guide",
        title=_("Price guide"),
        columns=[
            Column(_("Grade")),
            Column(_("Resale low"), Kind.MONEY),
            Column(_("Resale median"), Kind.MONEY),
            Column(_("Resale high"), Kind.MONEY),
            Column(_("Buy offer"), Kind.MONEY),
            Column(_("Method")),
            Column(_("Article's own sales (weighted)"), Kind.INTEGER),
        ],
        rows=[
            [
                row.grade.value,
                row.quote.resale_low.cents,
                row.quote.resale_price.cents,
                row.quote.resale_high.cents,
                row.quote.buy_offer.cents,
                row.quote.method,
                round(row.support) if row.support is not None else None,
            ]
            for row in rows
        ],
    )


@router.get(f"{PREFIX}/argus", response_class=HTMLResponse)
def argus_page(
    request: Request,
    central: CentralDep,
    user: PageUser,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    place = central.settings.effective_database_url
    with central.reading() as conn:
        newest = newest_guide(conn, place)
        history = versions(conn)
        names = {k.code: k.name for k in catalog_queries.categories(conn)}
        found = catalog.search_articles(conn, text=q, limit=FOUND_SHOWN) if q.strip() else None
    learned = learned_sheet(newest[1], names) if newest else None
    fmt = exports.wanted_format(request)
    if fmt is not None and learned is not None and newest is not None:
        name = exports.file_name("argus", f"v{newest[0].version}")
        return exports.download(fmt, [learned], name)
    return page(
        request,
        user,
        "argus.html",
        {
            "newest": newest[0] if newest else None,
            "facts": facts(newest[1]) if newest else None,
            "learned": learned,
            "history": history,
            "q": q,
            "found": found,
            "names": names,
        },
    )


@router.get(f"{PREFIX}/argus/articles/{{article_id}}", response_class=HTMLResponse)
def article_guide(
    request: Request, article_id: str, central: CentralDep, user: PageUser
) -> Response:
    on = today(central)
    with central.reading() as conn:
        try:
            article = catalog.get_article(conn, article_id[:36])
        except NotFound as exc:
            return not_found(request, user, exc)
        category = catalog_queries.category(conn, article.category_code)
        newest = newest_guide(conn, central.settings.effective_database_url)
    rows = quotes(article, newest[1] if newest else None, on=on)
    fmt = exports.wanted_format(request)
    if fmt is not None:
        return exports.download(
            fmt, [quotes_sheet(article, rows)], exports.file_name("price-guide", article.id)
        )
    return page(
        request,
        user,
        "argus_article.html",
        {
            "article": article,
            "category": category,
            "newest": newest[0] if newest else None,
            "rows": rows,
            "on": on,
        },
    )
