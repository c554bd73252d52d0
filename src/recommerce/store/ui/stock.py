"""Store screen: the stock. Search the store's items as one types, an item's page (what it is,
where it stands and why, its history), its photos and its online listing, a manager's moves.

Every change goes through the service the JSON API uses (`services.online`, `services.stock`,
`services.markdowns`); a refusal is shown on the item's page, nothing changed. A change that
succeeds answers with a redirect to the page (post/redirect/get), so reloading repeats nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from babel.support import LazyProxy
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, and_, func, or_, select
from starlette.concurrency import run_in_threadpool

from recommerce.catalog.model import Grade
from recommerce.catalog.search import search_words
from recommerce.errors import DomainError, NotFound
from recommerce.inventory.model import Item, ItemStatus
from recommerce.marketplace.listing import MAX_DESCRIPTION, MAX_PHOTOS, MIN_DESCRIPTION
from recommerce.marketplace.photos import MAX_UPLOAD_BYTES
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.api.deps import NodeDep
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.db.repositories import SqlCatalog
from recommerce.store.services import markdowns, online, stock
from recommerce.store.services.catalog import list_categories
from recommerce.store.ui.pages import PageStaff, forbidden, page, refused
from recommerce.web.i18n import lazy_gettext
from recommerce.web.screens import is_partial

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50

# An item's status and grade, in the reader's language.
ITEM_STATUS_NAMES = {
    ItemStatus.IN_STOCK: lazy_gettext("In stock"),
    ItemStatus.RESERVED: lazy_gettext("Reserved for an online order"),
    ItemStatus.SOLD: lazy_gettext("Sold"),
    ItemStatus.IN_TRANSIT: lazy_gettext("In transit"),
    ItemStatus.TO_REPAIR: lazy_gettext("To repair"),
    ItemStatus.SCRAPPED: lazy_gettext("Scrapped"),
    ItemStatus.WITHDRAWN: lazy_gettext("Given back to the seller"),
}
GRADE_NAMES = {
    Grade.A: lazy_gettext("like new"),
    Grade.B: lazy_gettext("good"),
    Grade.C: lazy_gettext("fair"),
    Grade.D: lazy_gettext("for parts"),
}
# What a change that succeeded says on the page it leads back to (`?done=`).
DONE = {
    "photo": lazy_gettext("The photo is added."),
    "photo_removed": lazy_gettext("The photo is removed."),
    "published": lazy_gettext("The item is ready for online."),
    "offline": lazy_gettext("The item is offline."),
    "described": lazy_gettext("The description is saved."),
    "status": lazy_gettext("The item's status is changed."),
    "markdown": lazy_gettext("The markdown is applied."),
}
Text = Annotated[str, Form(max_length=MAX_DESCRIPTION + 100)]


def _names() -> dict[str, Any]:
    return {"status_names": ITEM_STATUS_NAMES, "grade_names": GRADE_NAMES}


def _notice(done: str | None) -> LazyProxy | None:
    """Said in the page's language once it is known (at rendering)."""
    return DONE.get(done or "")


# --- the search -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StockSearch:
    """What the search form holds: a label (or its start) or words of the article's name."""

    q: str = ""
    status: ItemStatus | None = None
    category: str | None = None
    page: int = 1

    def params(self, **changed: Any) -> dict[str, Any]:
        values = {"q": self.q, "status": self.status or "", "category": self.category or ""}
        return {**values, "page": self.page, **changed}


def _search(conn: Connection, search: StockSearch) -> tuple[list[Any], int]:
    """One page of the matching items, newest first, and how many match in all."""
    conditions = []
    text = search.q.strip()
    if text:
        words = [t.articles.c.search_text.contains(w, autoescape=True) for w in search_words(text)]
        by_label = t.items.c.label_code.startswith(text, autoescape=True)
        conditions.append(or_(by_label, and_(*words)))
    if search.status is not None:
        conditions.append(t.items.c.status == search.status.value)
    if search.category:
        conditions.append(t.articles.c.category_code == search.category)
    joined = t.items.join(t.articles, t.articles.c.id == t.items.c.article_id)
    total = conn.execute(select(func.count()).select_from(joined).where(*conditions)).scalar_one()
    rows = conn.execute(
        select(
            t.items.c.label_code,
            t.items.c.grade,
            t.items.c.status,
            t.items.c.asking_price_cents,
            t.items.c.created_at,
            t.articles.c.name.label("article_name"),
        )
        .select_from(joined)
        .where(*conditions)
        .order_by(t.items.c.created_at.desc(), t.items.c.label_code)
        .limit(PAGE_SIZE)
        .offset((search.page - 1) * PAGE_SIZE)
    ).all()
    return list(rows), int(total)


def _status(value: str | None) -> ItemStatus | None:
    try:
        return ItemStatus(value) if value else None
    except ValueError:
        return None


@router.get("/stock", response_class=HTMLResponse)
def stock_page(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    q: Annotated[str, Query(max_length=100)] = "",
    status: Annotated[str | None, Query(max_length=20)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    search = StockSearch(q, _status(status), category or None, page_number)
    partial = is_partial(request)
    if denied := forbidden(request, node, staff, Permission.VIEW_STOCK):
        return denied
    with node.reading() as conn:
        rows, total = _search(conn, search)
        categories = list_categories(conn)
    exact = [r for r in rows if r.label_code == search.q.strip()]
    if exact and not partial:  # a label scanned, then Enter: straight to the item
        return RedirectResponse(f"/stock/items/{exact[0].label_code}", status_code=303)
    context = {
        "search": search,
        "rows": rows,
        "total": total,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "categories": categories,
        "statuses": list(ItemStatus),
        **_names(),
    }
    name = "stock/_results.html" if partial else "stock/index.html"
    return page(request, node, staff, name, context)


# --- an item's page ---------------------------------------------------------------------------


def _history(conn: Connection, item: Item) -> list[dict[str, Any]]:
    """What happened to the item, oldest first, from the records each step leaves."""
    item_id = item.id
    events: list[dict[str, Any]] = [{"at": item.created_at, "kind": "bought"}]
    for r in conn.execute(select(t.price_changes).where(t.price_changes.c.item_id == item_id)):
        events.append({"at": r.at, "kind": "price", "from": r.from_cents, "to": r.to_cents})
    tickets = (
        select(t.tickets.c.occurred_at, t.tickets.c.kind, t.tickets.c.display_number)
        .add_columns(t.ticket_lines.c.price_cents)
        .join(t.ticket_lines, t.ticket_lines.c.ticket_id == t.tickets.c.id)
        .where(t.ticket_lines.c.item_id == item_id)
    )
    for r in conn.execute(tickets):
        events.append(
            {
                "at": r.occurred_at,
                "kind": r.kind,
                "ticket": r.display_number,
                "price": r.price_cents,
            }
        )
    transfers = (
        select(t.transfers, t.transfer_items.c.status.label("line_status"))
        .join(t.transfer_items, t.transfer_items.c.transfer_id == t.transfers.c.id)
        .where(t.transfer_items.c.item_id == item_id)
    )
    for r in conn.execute(transfers):
        kind = "sent" if r.direction == "outgoing" else "announced"
        events.append({"at": r.sent_at, "kind": kind, "transfer": r, "line": r.line_status})
        if r.direction == "incoming" and r.line_status == "received" and r.received_at:
            events.append({"at": r.received_at, "kind": "received", "transfer": r})
    photos = select(t.item_photos.c.added_at).where(t.item_photos.c.item_id == item_id)
    for added_at in conn.execute(photos).scalars():
        events.append({"at": added_at, "kind": "photo"})
    return sorted(events, key=lambda e: e["at"])


def _item_context(node: StoreNode, label: str) -> dict[str, Any]:
    listing = online.listing_of(node, label)
    item = listing.item
    with node.reading() as conn:
        catalog = SqlCatalog(conn)
        article = catalog.article(item.article_id)
        category = catalog.category(article.category_code) if article else None
        order = None
        if item.reserved_for:
            order = conn.execute(
                select(t.online_orders).where(t.online_orders.c.order_id == item.reserved_for)
            ).first()
        history = _history(conn, item)
    in_transit = [e["transfer"] for e in history if e["kind"] == "sent" and e["line"] != "received"]
    due = []
    if item.status is ItemStatus.IN_STOCK:
        due = [m for m in markdowns.due(node) if m.item_id == item.id]
    return {
        "item": item,
        "listing": listing,
        "article": article,
        "category": category,
        "order": order,
        "transit": in_transit[-1] if in_transit else None,
        "history": history,
        "markdown": due[0] if due else None,
        "now": node.clock.now(),
        "manual_statuses": [s for s in ItemStatus if s in stock.MANUAL_STATUSES - {item.status}],
        "max_photos": MAX_PHOTOS,
        "min_description": MIN_DESCRIPTION,
        "max_description": MAX_DESCRIPTION,
        "max_upload_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        **_names(),
    }


def _item_page(
    request: Request,
    node: StoreNode,
    staff: StaffMember,
    label: str,
    *,
    error: DomainError | None = None,
    notice: LazyProxy | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    try:
        context = _item_context(node, label)
    except NotFound as exc:
        return page(request, node, staff, "stock/index.html", {"error": exc}, status_code=404)
    context.update(notice=notice, form=form or {}, manager=staff.may(Permission.MANAGE_STOCK))
    if error is not None:
        return refused(request, node, staff, "stock/item.html", error, context)
    return page(request, node, staff, "stock/item.html", context)


def _done(label: str, what: str) -> Response:
    return RedirectResponse(f"/stock/items/{label}?done={what}", status_code=303)


@router.get("/stock/items/{label}", response_class=HTMLResponse)
def item_page(
    request: Request, node: NodeDep, staff: PageStaff, label: str, done: str | None = None
) -> Response:
    return _item_page(request, node, staff, label, notice=_notice(done))


@router.post("/stock/items/{label}/photos", response_class=HTMLResponse)
async def add_photo(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    label: str,
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    # One byte over the limit is enough for the service to refuse it, naming the limit.
    raw = await photo.read(MAX_UPLOAD_BYTES + 1) if photo is not None else b""
    try:
        await run_in_threadpool(online.add_photo, node, staff, label, raw)
    except DomainError as exc:
        return await run_in_threadpool(_item_page, request, node, staff, label, error=exc)
    return _done(label, "photo")


@router.post("/stock/items/{label}/photos/{position}/remove", response_class=HTMLResponse)
def remove_photo(
    request: Request, node: NodeDep, staff: PageStaff, label: str, position: int
) -> Response:
    try:
        online.remove_photo(node, staff, label, position)
    except DomainError as exc:
        return _item_page(request, node, staff, label, error=exc)
    return _done(label, "photo_removed")


@router.post("/stock/items/{label}/online", response_class=HTMLResponse)
def publish(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    label: str,
    description: Text = "",
    action: Annotated[str, Form(max_length=20)] = "save",
) -> Response:
    """Save the description; with it, publish (ready for online) or take offline."""
    try:
        if action == "save":
            current = online.listing_of(node, label).published
            online.publish(node, staff, label, published=current, description=description)
        else:
            online.publish(
                node, staff, label, published=action == "publish", description=description
            )
    except DomainError as exc:
        form = {"description": description}
        return _item_page(request, node, staff, label, error=exc, form=form)
    done = {"save": "described", "publish": "published"}.get(action, "offline")
    return _done(label, done)


@router.post("/stock/items/{label}/status", response_class=HTMLResponse)
def change_status(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    label: str,
    status: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    try:
        new = _status(status)
        if new is None:
            raise DomainError(f"{status!r} is not an item status", field="status")
        stock.change_status(node, staff, label, new, reason=reason)
    except DomainError as exc:
        form = {"status": status, "reason": reason}
        return _item_page(request, node, staff, label, error=exc, form=form)
    return _done(label, "status")


@router.post("/stock/items/{label}/markdown", response_class=HTMLResponse)
def apply_markdown(request: Request, node: NodeDep, staff: PageStaff, label: str) -> Response:
    try:
        markdowns.apply(node, staff, [label])
    except DomainError as exc:
        return _item_page(request, node, staff, label, error=exc)
    return _done(label, "markdown")


# --- markdowns due ----------------------------------------------------------------------------


def _markdowns_page(
    request: Request,
    node: StoreNode,
    staff: StaffMember,
    *,
    error: DomainError | None = None,
    notice: LazyProxy | None = None,
) -> Response:
    due = markdowns.due(node)
    with node.reading() as conn:
        names = dict(
            conn.execute(
                select(t.items.c.label_code, t.articles.c.name)
                .join(t.articles, t.articles.c.id == t.items.c.article_id)
                .where(t.items.c.id.in_([m.item_id for m in due]))
            ).all()
        )
    manager = staff.may(Permission.MANAGE_STOCK)
    context = {"due": due, "names": names, "notice": notice, "manager": manager}
    if error is not None:
        return refused(request, node, staff, "stock/markdowns.html", error, context)
    return page(request, node, staff, "stock/markdowns.html", context)


@router.get("/stock/markdowns", response_class=HTMLResponse)
def markdowns_page(
    request: Request, node: NodeDep, staff: PageStaff, done: str | None = None
) -> Response:
    return _markdowns_page(request, node, staff, notice=_notice(done))


@router.post("/stock/markdowns", response_class=HTMLResponse)
def apply_markdowns(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    labels: Annotated[list[str] | None, Form(max_length=500)] = None,
) -> Response:
    try:
        markdowns.apply(node, staff, labels or [])
    except DomainError as exc:
        return _markdowns_page(request, node, staff, error=exc)
    return RedirectResponse("/stock/markdowns?done=markdown", status_code=303)
