"""Store screen: the buying counter, where staff buy used goods from the public.

The buyer, scanner in hand, finds the article (typed text, or its scanned GTIN), reads the
catalogue's grading guide and picks a grade, which brings the argus' quote and its buy offer;
the agreed price defaults to the offer (above it: a reason, within the role's bound, issue 6).
Lines pile up in the page (hidden inputs, see `counter_forms`), then the seller's identity and
the payment; recording calls the same handler as `POST /api/v1/purchases`, and a refusal
shows the page again with every value kept and nothing written. The purchase's labels then
have their own page, `/counter/purchases/{id}/labels`, to print and reprint.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from recommerce.catalog.model import Grade
from recommerce.errors import DomainError
from recommerce.money import Money
from recommerce.registers.police import RegisterBook
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.api import catalog as catalog_api
from recommerce.store.api import purchases as purchases_api
from recommerce.store.api.deps import NodeDep
from recommerce.store.api.schemas import CategoryOut, QuoteIn, QuoteOut
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db.repositories import SqlCatalog
from recommerce.store.services import catalog as catalog_service
from recommerce.store.ui.counter_forms import (
    MAX_LINES,
    PAYMENT_INPUTS,
    SELLER_INPUTS,
    Line,
    article_and_category,
    checked_new_line,
    grade_of,
    line_index,
    line_views,
    lines_of,
    new_line_values,
    payment_context,
    purchase_in,
    values_of,
)
from recommerce.store.ui.pages import PageStaff, forbidden, page

router = APIRouter(include_in_schema=False)

COUNTER = "counter/counter.html"
GTIN_LENGTHS = (8, 12, 13, 14)  # GTIN-8, UPC-A, EAN-13, GTIN-14: what a scanner reads
SEARCH_LIMIT = 12


def _placed(refusal: DomainError | None) -> dict[str, Any]:
    """Where the page shows a refusal: beside its input, else atop its part of the form."""
    field = refusal.field if refusal else None
    if refusal is None:
        place = None
    elif field in (*SELLER_INPUTS, *PAYMENT_INPUTS):
        place = "input"
    elif field and field.split(".")[0] in ("seller", "payment"):
        place = field.split(".")[0]
    elif field and field.startswith("lines"):
        place = "lines"
    else:
        place = "purchase"
    return {"refusal": refusal, "refusal_place": place, "refusal_line": line_index(field)}


def _purchase(
    node: StoreNode,
    lines: list[Line],
    values: dict[str, str],
    refusal: DomainError | None = None,
) -> dict[str, Any]:
    """The purchase being built: its lines, the payment choice for its total, any refusal."""
    views = line_views(node, lines)
    return {"lines": views, **payment_context(views, values), **_placed(refusal)}


def _quote(node: StoreNode, staff: StaffMember, quote: QuoteOut | None) -> dict[str, Any]:
    """The argus' quote, with how far above its offer this staff member's role may go."""
    if quote is None:
        return {"quote": None}
    bounds = node.policy.override_bounds
    return {
        "quote": quote,
        "ceiling_cents": bounds.ceiling(Money(quote.buy_offer_cents), staff.role).cents,
        "percent_above_offer": bounds.percent(staff.role),
    }


def _article(
    node: StoreNode,
    staff: StaffMember,
    article_id: str,
    *,
    grade: Grade | None = None,
    new: dict[str, str] | None = None,
    refusal: DomainError | None = None,
) -> dict[str, Any]:
    """The chosen article with its category's grading guide, and the quote once graded."""
    with node.reading() as conn:
        article, category = article_and_category(conn, article_id)
    quote = None
    if grade is not None:
        quote = catalog_api.quote(QuoteIn(article_id=article.id, grade=grade), node, staff)
    return {
        "article": article,
        "category": CategoryOut.of(category),
        "grade": grade.value if grade else None,
        "new": new or {},
        "line_refusal": refusal,
        **_quote(node, staff, quote),
    }


@router.get("/counter", response_class=HTMLResponse)
def counter(request: Request, node: NodeDep, staff: PageStaff) -> Response:
    if denied := forbidden(request, node, staff, Permission.BUY):
        return denied
    return page(request, node, staff, COUNTER, _purchase(node, [], {}))


@router.get("/counter/articles", response_class=HTMLResponse)
def search(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """Articles matching the typed text; a scanned GTIN opens its article directly."""
    if denied := forbidden(request, node, staff, Permission.BUY):
        return denied
    text = q.strip()
    context: dict[str, Any] = {"q": text, "results": None, "search_refusal": None}
    try:
        if text.isdigit() and len(text) in GTIN_LENGTHS:
            with node.reading() as conn:
                scanned = catalog_service.find_by_gtin(conn, text)
            context.update(_article(node, staff, scanned.id), scanned=scanned)
        elif text:
            with node.reading() as conn:
                context["results"] = catalog_service.search_articles(conn, text, limit=SEARCH_LIMIT)
    except DomainError as exc:
        context["search_refusal"] = exc
        return page(request, node, staff, "counter/_results.html", context, status_code=422)
    return page(request, node, staff, "counter/_results.html", context)


@router.get("/counter/articles/{article_id}", response_class=HTMLResponse)
def choose_article(article_id: str, request: Request, node: NodeDep, staff: PageStaff) -> Response:
    """The chosen article's grading guide, to grade the object in hand."""
    if denied := forbidden(request, node, staff, Permission.BUY):
        return denied
    try:
        context = _article(node, staff, article_id[:36])
    except DomainError as exc:
        return page(
            request, node, staff, "counter/_article.html", {"line_refusal": exc}, status_code=422
        )
    return page(request, node, staff, "counter/_article.html", context)


@router.get("/counter/quote", response_class=HTMLResponse)
def quote(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    article_id: Annotated[str, Query(alias="new.article_id")] = "",
    grade: Annotated[str, Query(alias="new.grade")] = "",
) -> Response:
    """The argus' quote for the grade chosen: range, expected sale price, buy offer."""
    if denied := forbidden(request, node, staff, Permission.BUY):
        return denied
    try:
        chosen = grade_of(grade, field="new.grade")
        found = catalog_api.quote(QuoteIn(article_id=article_id[:36], grade=chosen), node, staff)
    except DomainError as exc:
        return page(
            request, node, staff, "counter/_quote.html", {"quote_refusal": exc}, status_code=422
        )
    return page(
        request, node, staff, "counter/_quote.html", {"new": {}, **_quote(node, staff, found)}
    )


@router.post("/counter/lines", response_class=HTMLResponse)
async def add_line(request: Request, node: NodeDep, staff: PageStaff) -> Response:
    form = await request.form()
    return await run_in_threadpool(_add_line, request, node, staff, form)


def _add_line(request: Request, node: StoreNode, staff: StaffMember, form: FormData) -> Response:
    """The graded, priced object joins the purchase; a refusal keeps it in the panel."""
    if denied := forbidden(request, node, staff, Permission.BUY):
        return denied
    try:
        lines = lines_of(form)
        if len(lines) >= MAX_LINES:
            raise DomainError(f"a purchase holds at most {MAX_LINES} objects", field="lines")
        lines.append(checked_new_line(node, staff, form))
    except DomainError as exc:
        new = new_line_values(form)
        graded = new["new.grade"] if new["new.grade"] in Grade.__members__ else None
        try:
            context = _article(
                node,
                staff,
                new["new.article_id"],
                grade=Grade(graded) if graded else None,
                new=new,
                refusal=exc,
            )
        except DomainError as unknown:
            context = {"line_refusal": unknown}
        return page(request, node, staff, "counter/_article.html", context, status_code=422)
    context = _purchase(node, lines, values_of(form))
    return page(
        request, node, staff, "counter/_line_added.html", {**context, "added": context["lines"][-1]}
    )


@router.post("/counter/lines/remove", response_class=HTMLResponse)
async def remove_line(request: Request, node: NodeDep, staff: PageStaff) -> Response:
    form = await request.form()
    return await run_in_threadpool(_remove_line, request, node, staff, form)


def _remove_line(request: Request, node: StoreNode, staff: StaffMember, form: FormData) -> Response:
    """A line taken out of the purchase (the seller keeps that object)."""
    if denied := forbidden(request, node, staff, Permission.BUY):
        return denied
    values = values_of(form)
    try:
        lines = lines_of(form)
    except DomainError as exc:
        context = _purchase(node, [], values, exc)
        return page(request, node, staff, "counter/_lines_changed.html", context, status_code=422)
    index = str(form.get("remove", ""))
    if index.isdigit() and int(index) < len(lines):
        del lines[int(index)]
    context = _purchase(node, lines, values)
    return page(request, node, staff, "counter/_lines_changed.html", {**context, "removed": True})


@router.post("/counter/purchases", response_class=HTMLResponse)
async def record(request: Request, node: NodeDep, staff: PageStaff) -> Response:
    form = await request.form()
    return await run_in_threadpool(_record, request, node, staff, form)


def _record(request: Request, node: StoreNode, staff: StaffMember, form: FormData) -> Response:
    """Record the purchase with the API's handler; on refusal, the page again, nothing written."""
    if denied := forbidden(request, node, staff, Permission.BUY):
        return denied
    values = values_of(form)
    lines: list[Line] = []
    try:
        lines = lines_of(form)
        purchase = purchases_api.create_purchase(purchase_in(lines, values), node, staff)
    except DomainError as exc:
        context = _purchase(node, lines, values, exc)
        return page(request, node, staff, COUNTER, context, status_code=422)
    return RedirectResponse(f"/counter/purchases/{purchase.id}/labels", status_code=303)


@router.get("/counter/purchases/{purchase_id}/labels", response_class=HTMLResponse)
def labels(purchase_id: str, request: Request, node: NodeDep, staff: PageStaff) -> Response:
    """The labels of a purchase's items, to print now or to reprint later."""
    if denied := forbidden(request, node, staff, Permission.BUY):
        return denied
    try:
        purchase = purchases_api.get_purchase(purchase_id[:36], node, staff)
    except DomainError as exc:
        return page(request, node, staff, "counter/refused.html", {"error": exc}, status_code=404)
    with node.reading() as conn:
        catalog = SqlCatalog(conn)
        names = {}
        for item in purchase.items:
            article = catalog.article(item.article_id)
            names[item.article_id] = article.name if article else item.article_id
    precious = any(i.register_book == RegisterBook.PRECIOUS_METALS.value for i in purchase.items)
    return page(
        request,
        node,
        staff,
        "counter/labels.html",
        {"purchase": purchase, "names": names, "precious": precious},
    )
