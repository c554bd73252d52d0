"""Store screen: the till — scanning into a basket, the tenders and the change, the receipt on
screen and on the printer, reprints of past tickets, and returns.

Every step calls what the sales API calls (`record_sale`, `record_return`, and the receipt and
printer path of `store.api.till`), so a sale made here is the sale the API makes: one
transaction with its signed journal record (rules B.11, C.14, D.16-D.18, E.21). The basket
lives in the page (see `till_forms`); the scan answers htmx with the sale form alone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from recommerce.errors import DomainError, ErrorCode, NotFound
from recommerce.money import Money
from recommerce.pos.receipts import GUARANTEE_TEXT, receipt_html
from recommerce.pos.returns import RecordReturn, Refund, ReturnLineRequest, record_return
from recommerce.pos.sale import RecordSale, SaleLineRequest, check_sellable, record_sale
from recommerce.pos.ticket import TicketKind
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.api.deps import NodeDep
from recommerce.store.api.till_schemas import TicketOut
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db.repositories import SqlItems
from recommerce.store.db.till import SqlTickets
from recommerce.store.services.receipts import approver, print_receipt, receipt_of
from recommerce.store.ui.pages import PageStaff, forbidden, page
from recommerce.store.ui.till_forms import (
    TILL_COOKIE,
    ReturnForm,
    SaleForm,
    credit_balance,
    look_up,
    tenders,
    till_name,
    till_state,
    unsellable_reason,
)
from recommerce.web.screens import is_partial

router = APIRouter(include_in_schema=False)


async def posted_sale(request: Request) -> SaleForm:
    return SaleForm.of(await request.form())


async def posted_return(request: Request) -> ReturnForm:
    return ReturnForm.of(await request.form())


SaleFormDep = Annotated[SaleForm, Depends(posted_sale)]
ReturnFormDep = Annotated[ReturnForm, Depends(posted_return)]


def _remember_till(response: Response, till: str) -> Response:
    response.set_cookie(TILL_COOKIE, till, max_age=365 * 86400, samesite="lax")
    return response


def _screen(
    request: Request,
    node: StoreNode,
    staff: StaffMember,
    form: SaleForm,
    *,
    error: DomainError | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """The till: the sale form (alone, for htmx), beside the last ticket and the ticket finder."""
    basket = look_up(node, list(form.labels), list(form.discounts))
    try:
        till = till_name(request, form.till)
    except DomainError:
        till = till_name(request)
    balance = credit_balance(node, form.credit_code) if form.credit_code else None
    response = page(
        request,
        node,
        staff,
        "till/_sale.html" if is_partial(request) else "till/till.html",
        {
            "form": form,
            "basket": basket,
            "state": till_state(node, till),
            "credit_balance": balance,
            "max_discount": node.settings.till_max_discount_percent,
            "needs_approval": error is not None and error.code is ErrorCode.DISCOUNT_NEEDS_APPROVAL,
            "sale_error": error,
            "unsellable_reason": unsellable_reason,  # worded as the page renders, in its language
            **context,
        },
        status_code=status_code,
    )
    return _remember_till(response, till)


@router.get("/till", response_class=HTMLResponse)
def till_page(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    till: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    if denied := forbidden(request, node, staff, Permission.SELL):
        return denied
    return _screen(request, node, staff, SaleForm(till=till or ""))


def _scanned(node: StoreNode, scan: str, basket: list[str]) -> str:
    """The label of the scanned item, or the refusal that says at once why it cannot be sold."""
    with node.reading() as conn:
        item = SqlItems(conn).get(scan)
    if item is None:
        raise NotFound(
            f"no item with label {scan} in this store", code=ErrorCode.ITEM_NOT_FOUND, field="scan"
        )
    check_sellable(item, node.clock.now(), node.settings.zone, field="scan")
    if item.label_code in basket:
        raise DomainError(
            f"item {item.label_code} is already in the basket", field="scan", in_basket=True
        )
    return item.label_code


@router.post("/till/scan", response_class=HTMLResponse)
def scan(request: Request, node: NodeDep, staff: PageStaff, form: SaleFormDep) -> Response:
    """Add the scanned label, remove a line, or just show the basket again (a discount typed)."""
    if denied := forbidden(request, node, staff, Permission.SELL):
        return denied
    labels, discounts = list(form.labels), list(form.discounts)
    if form.remove in labels:
        at = labels.index(form.remove)
        del labels[at], discounts[at]
    try:
        till_name(request, form.till)
        if form.scan:
            labels.append(_scanned(node, form.scan, labels))
            discounts.append("")
        form.discount_cents()
    except DomainError as exc:
        return _screen(
            request, node, staff, _kept(form, labels, discounts), error=exc, status_code=422
        )
    return _screen(request, node, staff, _kept(form, labels, discounts))


def _kept(form: SaleForm, labels: list[str], discounts: list[str]) -> SaleForm:
    """The form as the page gets it back: the basket as it now stands, the scanner's field
    empty, and the manager's password never sent back to the browser."""
    return replace(
        form,
        labels=tuple(labels),
        discounts=tuple(discounts),
        scan="",
        remove="",
        approval_password="",
    )


@router.post("/till/pay", response_class=HTMLResponse)
def pay(request: Request, node: NodeDep, staff: PageStaff, form: SaleFormDep) -> Response:
    """Record the sale through the sales service; then the ticket, its change and receipt."""
    if denied := forbidden(request, node, staff, Permission.SELL):
        return denied
    try:
        till = till_name(request, form.till)
        discounts = form.discount_cents()
        basket = look_up(node, list(form.labels), list(form.discounts))
        approved_by = None
        if form.approval_username:
            approved_by = approver(node, form.approval_username, form.approval_password)
        ticket = record_sale(
            RecordSale(
                till=till,
                staff=staff,
                lines=tuple(
                    SaleLineRequest(label, Money(discount))
                    for label, discount in zip(form.labels, discounts, strict=True)
                ),
                tenders=tenders(node, form, basket.total),
                approved_by=approved_by,
                non_resident_proof=form.non_resident_proof or None,
            ),
            node.uow,
            terminal=node.terminal,
            clock=node.clock,
            key=node.fiscal_key,
            policy=node.till_policy,
        )
    except DomainError as exc:
        kept = _kept(form, list(form.labels), list(form.discounts))
        return _screen(request, node, staff, kept, error=exc, status_code=422)
    return _to_ticket(request, ticket.display_number)


def _to_ticket(request: Request, number: str) -> Response:
    """To the ticket's page: htmx is told to go there, a plain form is redirected (303)."""
    target = f"/till/ticket?number={number}"
    if is_partial(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _ticket_view(node: StoreNode, number: str) -> dict[str, Any]:
    """What the ticket panel shows: the ticket as the API gives it and its receipt's HTML copy."""
    ticket, args = receipt_of(node, number)
    return {
        "ticket": TicketOut.of(ticket),
        "receipt": receipt_html(ticket, **args),
        "cashier": args["cashier"],
        "guarantee": GUARANTEE_TEXT,
    }


def _ticket_page(
    request: Request,
    node: StoreNode,
    staff: StaffMember,
    number: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    try:
        view = _ticket_view(node, number.strip())
    except DomainError as exc:
        return _screen(request, node, staff, SaleForm(), lookup_error=exc, status_code=404)
    till = view["ticket"].till
    return _screen(
        request, node, staff, SaleForm(till=till), status_code=status_code, **view, **context
    )


@router.get("/till/ticket", response_class=HTMLResponse)
def ticket_page(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    number: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """A ticket found by its number (or the one just validated): reprint it, take items back."""
    if denied := forbidden(request, node, staff, Permission.SELL):
        return denied
    if not number.strip():
        return _screen(request, node, staff, SaleForm())
    return _ticket_page(request, node, staff, number)


@router.post("/till/ticket/print", response_class=HTMLResponse)
def print_ticket(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    number: Annotated[str, Form(max_length=40)],
) -> Response:
    """The receipt to the till's ESC/POS printer (the API's own path); a printer that does not
    answer is said plainly, and the ticket stays recorded whatever happens to the paper."""
    if denied := forbidden(request, node, staff, Permission.SELL):
        return denied
    try:
        printed_to, _ = print_receipt(node, staff, number.strip())
    except DomainError as exc:
        failed = exc.code is ErrorCode.PRINTER_UNAVAILABLE
        return _ticket_page(
            request, node, staff, number, side_error=exc, print_failed=failed, status_code=422
        )
    return _ticket_page(request, node, staff, number, printed_to=printed_to)


# --- returns ---------------------------------------------------------------------------------
def _return_page(
    request: Request,
    node: StoreNode,
    staff: StaffMember,
    number: str,
    *,
    error: DomainError | None = None,
    chosen: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    with node.reading() as conn:
        tickets = SqlTickets(conn)
        sale = tickets.get(number.strip())
        returned = tickets.returned_items(sale.id) if sale is not None else set()
    if sale is None:
        missing = NotFound(f"no ticket {number.strip()!r}", field="number")
        return _screen(request, node, staff, SaleForm(), lookup_error=missing, status_code=404)
    return page(
        request,
        node,
        staff,
        "till/return.html",
        {
            "sale": TicketOut.of(sale),
            "is_sale": sale.kind is TicketKind.SALE,
            "returned": {line.label_code for line in sale.lines if line.item_id in returned},
            "chosen": chosen or {"return": set(), "repair": set(), "refund": "original_tenders"},
            "till": (chosen or {}).get("till") or till_name(request),
            "window_days": node.settings.return_window_days,
            "return_error": error,
        },
        status_code=status_code,
    )


@router.get("/till/return", response_class=HTMLResponse)
def return_form(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    number: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The lines of a sale to choose from, the refund and where each item goes."""
    if denied := forbidden(request, node, staff, Permission.SELL):
        return denied
    return _return_page(request, node, staff, number)


@router.post("/till/return", response_class=HTMLResponse)
def take_back(request: Request, node: NodeDep, staff: PageStaff, form: ReturnFormDep) -> Response:
    """Record the return through the returns service; then the counter-ticket."""
    if denied := forbidden(request, node, staff, Permission.SELL):
        return denied
    chosen = {
        "return": set(form.labels),
        "repair": set(form.repair),
        "refund": form.refund,
        "till": form.till,
    }
    try:
        till = till_name(request, form.till)
        try:
            refund = Refund(form.refund)
        except ValueError:
            raise DomainError(f"no refund {form.refund!r}", field="refund") from None
        ticket = record_return(
            RecordReturn(
                till=till,
                staff=staff,
                sale_number=form.number,
                lines=tuple(
                    ReturnLineRequest(label_code=label, to_repair=label in form.repair)
                    for label in form.labels
                ),
                refund=refund,
            ),
            node.uow,
            terminal=node.terminal,
            clock=node.clock,
            key=node.fiscal_key,
            policy=node.till_policy,
            window=timedelta(days=node.settings.return_window_days),
        )
    except DomainError as exc:
        return _return_page(
            request, node, staff, form.number, error=exc, chosen=chosen, status_code=422
        )
    return RedirectResponse(f"/till/ticket?number={ticket.display_number}", status_code=303)
