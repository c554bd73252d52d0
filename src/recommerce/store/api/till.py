"""The till: sales and tickets."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from recommerce.errors import NotFound
from recommerce.money import Money
from recommerce.pos.receipts import receipt_html, receipt_pdf
from recommerce.pos.returns import RecordReturn, ReturnLineRequest, record_return
from recommerce.pos.sale import RecordSale, SaleLineRequest, record_sale
from recommerce.pos.tenders import TenderKind
from recommerce.staff.model import StaffMember
from recommerce.store.api.deps import NodeDep, StaffDep
from recommerce.store.api.till_schemas import (
    ApprovalIn,
    ReturnIn,
    SaleIn,
    StoreCreditOut,
    TicketOut,
)
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db.till import SqlStoreCredits, SqlTickets
from recommerce.store.services.receipts import approver, receipt_of
from recommerce.store.services.receipts import print_receipt as print_receipt_on_the_till
from recommerce.web.responses import model_response

router = APIRouter(prefix="/api/v1", tags=["till"])


def _approver(node: StoreNode, approval: ApprovalIn | None) -> StaffMember | None:
    return None if approval is None else approver(node, approval.username, approval.password)


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
async def create_sale(body: SaleIn, node: NodeDep, staff: StaffDep) -> Response:
    # A sale paid without a card touches only the store's own database, for about a
    # millisecond: it runs on the event loop, without a thread hop per sale (the till's most
    # frequent request). A card tender waits on the payment terminal: in a worker thread.
    if any(tender.kind is TenderKind.CARD for tender in body.tenders) or body.approval:
        return await run_in_threadpool(_sell, body, node, staff)
    return _sell(body, node, staff)


def _sell(body: SaleIn, node: StoreNode, staff: StaffMember) -> Response:
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


@router.get(
    "/tickets/{number}/receipt.html",
    response_class=HTMLResponse,
    summary="The receipt as a printable HTML page (a copy)",
)
def receipt_as_html(number: str, node: NodeDep, staff: StaffDep) -> HTMLResponse:
    ticket, args = receipt_of(node, number)
    return HTMLResponse(receipt_html(ticket, **args))


@router.get(
    "/tickets/{number}/receipt.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="The receipt as PDF (a copy)",
)
def receipt_as_pdf(number: str, node: NodeDep, staff: StaffDep) -> Response:
    ticket, args = receipt_of(node, number)
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
    where, size = print_receipt_on_the_till(node, staff, number)
    return PrintOut(printed_to=where, bytes=size)
