"""The till: sales and tickets."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, status

from recommerce.errors import DomainError, ErrorCode, NotFound
from recommerce.money import Money
from recommerce.pos.returns import RecordReturn, ReturnLineRequest, record_return
from recommerce.pos.sale import RecordSale, SaleLineRequest, record_sale
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
from recommerce.store.services.staff import authenticate

router = APIRouter(prefix="/api/v1", tags=["till"])


def _approver(node: StoreNode, approval: ApprovalIn | None) -> StaffMember | None:
    if approval is None:
        return None
    try:
        with node.uow() as uow:
            return authenticate(uow.conn, approval.username, approval.password)
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
def create_sale(body: SaleIn, node: NodeDep, staff: StaffDep) -> TicketOut:
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
    return TicketOut.of(ticket)


@router.get("/tickets/{number}", response_model=TicketOut, summary="A ticket by its number")
def get_ticket(number: str, node: NodeDep, staff: StaffDep) -> TicketOut:
    with node.uow() as uow:
        ticket = uow.tickets.get(number)
    if ticket is None:
        raise NotFound(f"no ticket {number!r}", field="number")
    return TicketOut.of(ticket)


@router.post(
    "/returns",
    response_model=TicketOut,
    status_code=status.HTTP_201_CREATED,
    summary="Take items back: a counter-ticket referencing the sale (rule D.16)",
)
def create_return(body: ReturnIn, node: NodeDep, staff: StaffDep) -> TicketOut:
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
    return TicketOut.of(ticket)


@router.get(
    "/store-credits/{code}", response_model=StoreCreditOut, summary="What a credit note holds"
)
def store_credit(code: str, node: NodeDep, staff: StaffDep) -> StoreCreditOut:
    with node.uow() as uow:
        balance = uow.store_credits.balance(code)
    if balance is None:
        raise NotFound(f"no credit note {code!r}", field="code")
    return StoreCreditOut(code=code, balance_cents=balance.cents)
