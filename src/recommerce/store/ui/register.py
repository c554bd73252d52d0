"""Store screen: consulting the police register and exporting it for the police (Code pénal
art. 321-7, R321-3 to R321-6-1; arrêté of 15 May 2020; business-rules A.5 and A.6).

Only the staff who may consult it (managers, admins) see it. Every search and every export
says why it is made and is logged with who and when, by `services.register.consult`, the one
the JSON API calls; the exports are the API's own CSV and PDF. The screen also shows the
latest consultations, so that whoever consults sees that consulting is recorded.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from recommerce.errors import DomainError
from recommerce.registers.police import RegisterBook
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.api import register as register_api
from recommerce.store.api.deps import NodeDep
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.services import register as register_service
from recommerce.store.services.register import RegisterQuery
from recommerce.store.ui.pages import PageStaff, forbidden, page, refused
from recommerce.web.i18n import lazy_gettext

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
RECENT_CONSULTATIONS = 20
ACTION_NAMES = {
    "search": lazy_gettext("search"),
    "view": lazy_gettext("one entry"),
    "export_csv": lazy_gettext("CSV export"),
    "export_pdf": lazy_gettext("PDF export"),
}
Short = Annotated[str, Query(max_length=100)]


def _day(value: str, name: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise DomainError(f"{value!r} is not a date (YYYY-MM-DD)", field=name) from None


def _book(value: str) -> RegisterBook | None:
    try:
        return RegisterBook(value) if value else None
    except ValueError:
        raise DomainError(f"{value!r} is not a register", field="book") from None


def _form(
    reason: str, book: str, date_from: str, date_to: str, serial: str, seller: str
) -> dict[str, str]:
    return {
        "reason": reason,
        "book": book,
        "date_from": date_from,
        "date_to": date_to,
        "serial": serial,
        "seller": seller,
    }


def _query(form: dict[str, str]) -> RegisterQuery:
    """The selection as the service reads it; a date or a register mistyped is refused."""
    return RegisterQuery(
        reason=form["reason"],
        book=_book(form["book"]),
        date_from=_day(form["date_from"], "date_from"),
        date_to=_day(form["date_to"], "date_to"),
        serial=form["serial"].strip() or None,
        seller=form["seller"].strip() or None,
    )


def _consultations(node: StoreNode) -> list[Any]:
    with node.reading() as conn:
        return list(
            conn.execute(
                select(t.register_consultations, t.staff.c.username)
                .join(t.staff, t.staff.c.id == t.register_consultations.c.staff_id)
                .order_by(t.register_consultations.c.at.desc())
                .limit(RECENT_CONSULTATIONS)
            ).all()
        )


def _page(
    request: Request,
    node: StoreNode,
    staff: StaffMember,
    form: dict[str, str],
    *,
    entries: list[Any] | None = None,
    offset: int = 0,
    error: DomainError | None = None,
) -> Response:
    context = {
        "form": form,
        "entries": entries,
        "offset": offset,
        "page_size": PAGE_SIZE,
        "books": list(RegisterBook),
        "consultations": _consultations(node),
        "action_names": ACTION_NAMES,
    }
    if error is not None:
        return refused(request, node, staff, "register/index.html", error, context)
    return page(request, node, staff, "register/index.html", context)


@router.get("/register", response_class=HTMLResponse)
def register_page(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    reason: Annotated[str | None, Query(max_length=300)] = None,
    book: Short = "",
    date_from: Short = "",
    date_to: Short = "",
    serial: Short = "",
    seller: Short = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Response:
    if denied := forbidden(request, node, staff, Permission.CONSULT_REGISTER):
        return denied
    form = _form(reason or "", book, date_from, date_to, serial, seller)
    if reason is None:  # the form alone: nothing consulted yet
        return _page(request, node, staff, form)
    try:
        query = replace(_query(form), limit=PAGE_SIZE, offset=offset)
        entries = register_service.consult(node, staff, query)
    except DomainError as exc:
        return _page(request, node, staff, form, error=exc)
    return _page(request, node, staff, form, entries=entries, offset=offset)


def _export(
    request: Request, node: StoreNode, staff: StaffMember, form: dict[str, str], kind: str
) -> Response:
    if denied := forbidden(request, node, staff, Permission.CONSULT_REGISTER):
        return denied
    try:
        query = _query(form)
        if kind == "csv":
            return register_api.export_csv(node, staff, query)
        return register_api.export_pdf(node, staff, query)
    except DomainError as exc:
        return _page(request, node, staff, form, error=exc)


@router.get("/register/export.{kind}")
def export(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    kind: Literal["csv", "pdf"],
    reason: Annotated[str, Query(max_length=300)] = "",
    book: Short = "",
    date_from: Short = "",
    date_to: Short = "",
    serial: Short = "",
    seller: Short = "",
) -> Response:
    """The selection as CSV or as the printable PDF, logged as a consultation."""
    form = _form(reason, book, date_from, date_to, serial, seller)
    return _export(request, node, staff, form, kind)
