"""The catalogue master: categories with their grade guide, and articles.

Any head-office user reads; an admin writes. Every write reaches every store's feed in the
same transaction (`CategoryUpserted`, `ArticleUpserted`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from recommerce.central.api.catalog_schemas import (
    ArticleIn,
    ArticlePageOut,
    CategoryIn,
    CategoryOut,
    ImportOut,
)
from recommerce.central.api.deps import AdminDep, CentralDep, UserDep
from recommerce.central.bootstrap import CentralNode
from recommerce.central.services import catalog as service
from recommerce.central.services import catalog_queries
from recommerce.errors import Conflict, DomainError
from recommerce.web.schemas import ArticleOut

router = APIRouter(prefix="/api/v1/catalog", tags=["catalogue"])

MAX_IMPORT_BYTES = 20 * 1024 * 1024


@contextmanager
def writing(central: CentralNode) -> Iterator[Connection]:
    """One transaction; a unique value taken meanwhile by another change is a conflict."""
    try:
        with central.writing() as conn:
            yield conn
    except IntegrityError as exc:
        raise Conflict(
            "another change took the same GTIN, code or key meanwhile; try again"
        ) from exc


# --- categories -------------------------------------------------------------------------------


@router.get("/categories", response_model=list[CategoryOut], summary="Categories and grade guide")
def list_categories(central: CentralDep, _user: UserDep) -> list[CategoryOut]:
    with central.reading() as conn:
        return [CategoryOut.of(k) for k in catalog_queries.categories(conn)]


@router.get("/categories/{code}", response_model=CategoryOut, summary="One category")
def get_category(code: str, central: CentralDep, _user: UserDep) -> CategoryOut:
    with central.reading() as conn:
        return CategoryOut.of(service.get_category(conn, code))


@router.put(
    "/categories/{code}",
    response_model=CategoryOut,
    summary="Create or replace a category and its grade guide (201 when created)",
    responses={201: {"description": "Created", "model": CategoryOut}},
)
def put_category(
    code: str, body: CategoryIn, response: Response, central: CentralDep, _admin: AdminDep
) -> CategoryOut:
    with writing(central) as conn:
        category, created = service.put_category(
            conn,
            body.to_input(code),
            now=central.clock.now(),
            retention=central.settings.feed_retention_events,
        )
    if created:
        response.status_code = status.HTTP_201_CREATED
    return CategoryOut.of(category)


# --- articles ---------------------------------------------------------------------------------


@router.get("/articles", response_model=ArticlePageOut, summary="Search and page the articles")
def list_articles(
    central: CentralDep,
    _user: UserDep,
    q: Annotated[str, Query(max_length=100, description="Words of the name")] = "",
    category: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ArticlePageOut:
    with central.reading() as conn:
        page = service.search_articles(conn, text=q, category=category, limit=limit, offset=offset)
    return ArticlePageOut.of(page, limit=limit, offset=offset)


@router.get("/articles/{article_id}", response_model=ArticleOut, summary="One article")
def get_article(article_id: str, central: CentralDep, _user: UserDep) -> ArticleOut:
    with central.reading() as conn:
        return ArticleOut.of(service.get_article(conn, article_id))


@router.post(
    "/articles",
    response_model=ArticleOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create an article",
)
def create_article(body: ArticleIn, central: CentralDep, _admin: AdminDep) -> ArticleOut:
    with writing(central) as conn:
        article = service.create_article(
            conn,
            body.to_input(),
            now=central.clock.now(),
            retention=central.settings.feed_retention_events,
        )
    return ArticleOut.of(article)


@router.put("/articles/{article_id}", response_model=ArticleOut, summary="Replace an article")
def update_article(
    article_id: str, body: ArticleIn, central: CentralDep, _admin: AdminDep
) -> ArticleOut:
    with writing(central) as conn:
        article = service.update_article(
            conn,
            article_id,
            body.to_input(),
            now=central.clock.now(),
            retention=central.settings.feed_retention_events,
        )
    return ArticleOut.of(article)


@router.post(
    "/articles/import",
    response_model=ImportOut,
    summary="Create or update articles from a CSV file, all lines or none",
    description=(
        "The body is the CSV file itself (`Content-Type: text/csv`) or a form with a `file` "
        "field (`multipart/form-data`). The first line names the columns: `category_code`, "
        "`brand`, `model`, `reference_new_price_cents`, and optionally `id`, `name`, `gtin`, "
        "`released_on` and `attr:<name>`. A line updates the article of its `id`, else the one "
        "of its GTIN, else the only one with its category, brand and model; otherwise it "
        "creates one. One refused line refuses the file: the problem lists every line at "
        "fault in `errors` (`line`, `field`, `message`; the header is line 1)."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
)
async def import_articles(request: Request, central: CentralDep, _admin: AdminDep) -> ImportOut:
    text = _decode(await _csv_bytes(request))

    def run() -> ImportOut:
        with writing(central) as conn:
            result = service.import_articles_csv(
                conn,
                text,
                now=central.clock.now(),
                retention=central.settings.feed_retention_events,
            )
        return ImportOut(created=result.created, updated=result.updated, unchanged=result.unchanged)

    return await run_in_threadpool(run)


async def _csv_bytes(request: Request) -> bytes:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise DomainError("send the CSV file in the form field 'file'", field="file")
        data = await upload.read(MAX_IMPORT_BYTES + 1)
    elif kind in ("text/csv", "application/csv", "text/plain"):
        received = bytearray()
        async for chunk in request.stream():
            received += chunk
            if len(received) > MAX_IMPORT_BYTES:
                break
        data = bytes(received)
    else:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "send the CSV file as text/csv or as the field 'file' of multipart/form-data",
        )
    if len(data) > MAX_IMPORT_BYTES:
        raise HTTPException(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            f"a CSV import is {MAX_IMPORT_BYTES // (1024 * 1024)} MiB at most: split the file",
        )
    return data


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError(
            f"the file is not UTF-8 text (byte {exc.start}): save it as CSV UTF-8",
            field="file",
        ) from exc
