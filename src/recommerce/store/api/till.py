"""The till: sales and tickets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Response, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy import select

from recommerce.errors import DomainError, ErrorCode, NotFound
from recommerce.money import Money
from recommerce.pos.receipts import StoreHeader, escpos_bytes, receipt_html, receipt_pdf
from recommerce.pos.returns import RecordReturn, ReturnLineRequest, record_return
from recommerce.pos.sale import RecordSale, SaleLineRequest, record_sale
from recommerce.pos.ticket import Ticket
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.api.deps import NodeDep, StaffDep
from recommerce.store.api.till_schemas import (
    ApprovalIn,
    ReturnIn,
    SaleIn,
    StoreCreditOut,
    TicketOut,
)
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.db.till import SqlStoreCredits, SqlTickets
from recommerce.store.services.staff import authenticate
from recommerce.web.responses import model_response

router = APIRouter(prefix="/api/v1", tags=["till"])


def _approver(node: StoreNode, approval: ApprovalIn | None) -> StaffMember | None:
    if approval is None:
        return None
    try:
        with node.reading() as conn:
            return authenticate(conn, approval.username, approval.password)
    except DomainError as exc:
        raise DomainError(
            "the approving manager's credentials are wrong",
            code=ErrorCode.DISCOUNT_NEEDS_APPROVAL,
            field="approval",
        ) from exc


@router.post(
    "/sales",
    response_model=TicketOut,
    status_code=status.HTTP_201_CREATED,
    summary="Sell items at the till",
    description=(
        "In one transaction: the ticket, its items marked sold, its signed fiscal-journal "
        "record and the outbox event. Card tenders go through the payment terminal last."
    ),
)
def create_sale(body: SaleIn, node: NodeDep, staff: StaffDep) -> Response:
    cmd = RecordSale(
        till=body.till,
        staff=staff,
        lines=tuple(
            SaleLineRequest(label_code=line.label_code, discount=Money(line.discount_cents))
            for line in body.lines
        ),
        tenders=tuple(t.to_domain() for t in body.tenders),
        approved_by=_approver(node, body.approval),
        non_resident_proof=body.non_resident_proof,
    )
    ticket = record_sale(
        cmd,
        node.uow,
        terminal=node.terminal,
        clock=node.clock,
        key=node.fiscal_key,
        policy=node.till_policy,
    )
    return model_response(TicketOut.of(ticket), status.HTTP_201_CREATED)


@router.get("/tickets/{number}", response_model=TicketOut, summary="A ticket by its number")
def get_ticket(number: str, node: NodeDep, staff: StaffDep) -> TicketOut:
    with node.reading() as conn:
        ticket = SqlTickets(conn).get(number)
    if ticket is None:
        raise NotFound(f"no ticket {number!r}", field="number")
    return TicketOut.of(ticket)


@router.post(
    "/returns",
    response_model=TicketOut,
    status_code=status.HTTP_201_CREATED,
    summary="Take items back: a counter-ticket referencing the sale (rule D.16)",
)
def create_return(body: ReturnIn, node: NodeDep, staff: StaffDep) -> Response:
    ticket = record_return(
        RecordReturn(
            till=body.till,
            staff=staff,
            sale_number=body.sale_number,
            lines=tuple(
                ReturnLineRequest(label_code=x.label_code, to_repair=x.to_repair)
                for x in body.lines
            ),
            refund=body.refund,
        ),
        node.uow,
        terminal=node.terminal,
        clock=node.clock,
        key=node.fiscal_key,
        policy=node.till_policy,
        window=timedelta(days=node.settings.return_window_days),
    )
    return model_response(TicketOut.of(ticket), status.HTTP_201_CREATED)


@router.get(
    "/store-credits/{code}", response_model=StoreCreditOut, summary="What a credit note holds"
)
def store_credit(code: str, node: NodeDep, staff: StaffDep) -> StoreCreditOut:
    with node.reading() as conn:
        balance = SqlStoreCredits(conn).balance(code)
    if balance is None:
        raise NotFound(f"no credit note {code!r}", field="code")
    return StoreCreditOut(code=code, balance_cents=balance.cents)


def _receipt_args(node: StoreNode, number: str) -> tuple[Ticket, dict[str, Any]]:
    with node.reading() as conn:
        ticket = SqlTickets(conn).get(number)
        if ticket is None:
            raise NotFound(f"no ticket {number!r}", field="number")
        record_hash = conn.execute(
            select(t.fiscal_journal.c.hash).where(
                t.fiscal_journal.c.kind == "ticket", t.fiscal_journal.c.label == f"ticket {number}"
            )
        ).scalar_one()
        cashier = conn.execute(
            select(t.staff.c.full_name).where(t.staff.c.id == ticket.staff_id)
        ).scalar_one()
    settings = node.settings
    header = StoreHeader(
        name=settings.store_name,
        address=settings.store_address,
        city=settings.store_city,
        store_number=settings.store_number,
        siret=settings.store_siret,
    )
    return ticket, {
        "store": header,
        "cashier": cashier,
        "record_hash": record_hash,
        "local_tz": settings.zone,
    }


@router.get(
    "/tickets/{number}/receipt.html",
    response_class=HTMLResponse,
    summary="The receipt as a printable HTML page (a copy)",
)
def receipt_as_html(number: str, node: NodeDep, staff: StaffDep) -> HTMLResponse:
    ticket, args = _receipt_args(node, number)
    return HTMLResponse(receipt_html(ticket, **args))


@router.get(
    "/tickets/{number}/receipt.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="The receipt as PDF (a copy)",
)
def receipt_as_pdf(number: str, node: NodeDep, staff: StaffDep) -> Response:
    ticket, args = _receipt_args(node, number)
    return Response(receipt_pdf(ticket, **args), media_type="application/pdf")


class PrintOut(BaseModel):
    printed_to: str
    bytes: int


@router.post(
    "/tickets/{number}/print",
    response_model=PrintOut,
    summary="Print (or reprint) the receipt on the till's ESC/POS printer",
)
def print_receipt(number: str, node: NodeDep, staff: StaffDep) -> PrintOut:
    staff.require(Permission.SELL)
    ticket, args = _receipt_args(node, number)
    data = escpos_bytes(ticket, **args)
    try:
        where = node.receipt_printer.print_bytes(data, name=number)
    except OSError as exc:
        raise DomainError(
            f"the receipt printer does not answer: {exc}", code=ErrorCode.PRINTER_UNAVAILABLE
        ) from exc
    return PrintOut(printed_to=where, bytes=len(data))
