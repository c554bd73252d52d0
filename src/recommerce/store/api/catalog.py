"""Finding the article at the counter, the grade guide, and the argus quote."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from recommerce.catalog.model import Grade
from recommerce.errors import ErrorCode, NotFound
from recommerce.staff.model import Permission
from recommerce.store.api.deps import NodeDep, StaffDep
from recommerce.store.api.schemas import CategoryOut, QuoteIn, QuoteOut
from recommerce.store.db.repositories import SqlCatalog
from recommerce.store.services import catalog as catalog_service
from recommerce.web.schemas import ArticleOut

router = APIRouter(prefix="/api/v1", tags=["catalogue"])


@router.get("/articles", response_model=list[ArticleOut], summary="Search articles by text")
def search_articles(
    node: NodeDep,
    staff: StaffDep,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[ArticleOut]:
    with node.reading() as conn:
        return [ArticleOut.of(a) for a in catalog_service.search_articles(conn, q, limit=limit)]


@router.get(
    "/articles/by-gtin/{gtin}",
    response_model=ArticleOut,
    summary="Find the article of a scanned GTIN/EAN (check digit validated)",
)
def article_by_gtin(gtin: str, node: NodeDep, staff: StaffDep) -> ArticleOut:
    with node.reading() as conn:
        return ArticleOut.of(catalog_service.find_by_gtin(conn, gtin))


@router.get("/articles/{article_id}", response_model=ArticleOut)
def get_article(article_id: str, node: NodeDep, staff: StaffDep) -> ArticleOut:
    with node.reading() as conn:
        article = SqlCatalog(conn).article(article_id)
    if article is None:
        raise NotFound(f"no article {article_id!r}", field="article_id")
    return ArticleOut.of(article)


@router.get("/categories", response_model=list[CategoryOut], summary="Categories and grade guide")
def list_categories(node: NodeDep, staff: StaffDep) -> list[CategoryOut]:
    with node.reading() as conn:
        return [CategoryOut.of(c) for c in catalog_service.list_categories(conn)]


@router.post("/quotes", response_model=QuoteOut, summary="Ask the argus for a price")
def quote(body: QuoteIn, node: NodeDep, staff: StaffDep) -> QuoteOut:
    staff.require(Permission.BUY)
    with node.reading() as conn:
        catalog = SqlCatalog(conn)
        article = catalog.article(body.article_id)
        if article is None:
            raise NotFound(
                f"no article {body.article_id!r}",
                code=ErrorCode.ARTICLE_NOT_FOUND,
                field="article_id",
            )
        category = catalog.category(article.category_code)
    q = node.argus.quote(article, Grade(body.grade), on=node.clock.now().date())
    return QuoteOut(
        article_id=article.id,
        grade=body.grade,
        grade_definition=category.grade_definition(body.grade) if category else "",
        resale_price_cents=q.resale_price.cents,
        resale_low_cents=q.resale_low.cents,
        resale_high_cents=q.resale_high.cents,
        buy_offer_cents=q.buy_offer.cents,
        method=q.method,
    )
