"""Returns: a counter-ticket that references the sale (rule D.16), refunds to the original
tenders or as store credit, and puts the items back in stock or off to repair."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from recommerce.clock import Clock
from recommerce.errors import DomainError, ErrorCode, NotFound
from recommerce.fiscal.journal import FiscalKey
from recommerce.fiscal.vat import reverse
from recommerce.ids import new_id
from recommerce.inventory.model import ItemStatus
from recommerce.money import Money, total
from recommerce.pos.ports import TillUnitOfWork
from recommerce.pos.sale import TillPolicy, check_till_can_take_tickets, write_ticket
from recommerce.pos.tenders import Tender, TenderKind, new_credit_code
from recommerce.pos.terminal import PaymentTerminal
from recommerce.pos.ticket import Ticket, TicketKind, TicketLine
from recommerce.staff.model import Permission, StaffMember


class Refund(StrEnum):
    ORIGINAL_TENDERS = "original_tenders"  # card back to the card, cash in cash...
    STORE_CREDIT = "store_credit"  # a credit note to spend in the store


@dataclass(frozen=True, slots=True)
class ReturnLineRequest:
    label_code: str
    to_repair: bool = False  # faulty: off the shelf until repaired


@dataclass(frozen=True, slots=True)
class RecordReturn:
    till: str
    staff: StaffMember
    sale_number: str
    lines: tuple[ReturnLineRequest, ...]
    refund: Refund = Refund.ORIGINAL_TENDERS


# The order in which a refund goes back to the sale's tenders: an online payment and the card
# first (the marketplace and the bank handle them), then credit notes, cash last.
REFUND_ORDER = (TenderKind.ONLINE, TenderKind.CARD, TenderKind.STORE_CREDIT, TenderKind.CASH)


def refund_tenders(sale: Ticket, amount: Money, already: dict[TenderKind, Money]) -> list[Tender]:
    """Split a refund over the sale's own tenders, never giving back more on a tender than it
    paid (earlier returns of the same sale included)."""
    left = amount
    tenders = []
    for kind in REFUND_ORDER:
        paid = total(t.amount for t in sale.tenders if t.kind is kind) - already.get(kind, Money(0))
        part = min(paid, left)
        if part > Money(0):
            tenders.append(Tender(kind=kind, amount=-part))
            left = left - part
    if left > Money(0):  # cannot happen: a return is never more than its sale
        raise DomainError("the refund is more than the sale", code=ErrorCode.RETURN_NOT_ALLOWED)
    return tenders


def record_return(
    cmd: RecordReturn,
    uow_factory: Callable[[], TillUnitOfWork],
    *,
    terminal: PaymentTerminal,
    clock: Clock,
    key: FiscalKey,
    policy: TillPolicy,
    window: timedelta,
) -> Ticket:
    cmd.staff.require(Permission.SELL)
    if not cmd.lines:
        raise DomainError("nothing to return", field="lines")
    now = clock.now()
    with uow_factory() as uow:
        session_id = check_till_can_take_tickets(uow, cmd.till, now, policy)
        sale = uow.tickets.get(cmd.sale_number)
        if sale is None or sale.kind is not TicketKind.SALE:
            raise NotFound(f"no sale {cmd.sale_number!r}", field="sale_number")
        if now - sale.occurred_at > window:
            raise DomainError(
                f"sale {sale.display_number} is more than {window.days} days old: no return",
                code=ErrorCode.RETURN_NOT_ALLOWED,
                field="sale_number",
            )
        sold = {line.label_code: line for line in sale.lines}
        returned = uow.tickets.returned_items(sale.id)
        locked = {
            label: item
            for label, (item, _) in uow.items.lock([r.label_code for r in cmd.lines]).items()
        }
        lines: list[TicketLine] = []
        for i, request in enumerate(cmd.lines):
            field = f"lines[{i}].label_code"
            line = sold.get(request.label_code)
            item = locked.get(request.label_code)
            if line is None or item is None:
                raise DomainError(
                    f"item {request.label_code} is not on ticket {sale.display_number}",
                    code=ErrorCode.RETURN_NOT_ALLOWED,
                    field=field,
                )
            if item.id in returned or any(x.item_id == item.id for x in lines):
                raise DomainError(
                    f"item {request.label_code} was already returned",
                    code=ErrorCode.RETURN_NOT_ALLOWED,
                    field=field,
                )
            lines.append(
                TicketLine(
                    item_id=line.item_id,
                    label_code=line.label_code,
                    article_name=line.article_name,
                    unit_price=-line.unit_price,
                    discount=-line.discount,
                    taxed=reverse(line.taxed),  # cancels exactly the VAT of the sale
                )
            )
        amount = -total(line.price for line in lines)
        ticket_id = new_id()
        if cmd.refund is Refund.STORE_CREDIT:
            tenders = [Tender(TenderKind.STORE_CREDIT, -amount)]
        else:
            tenders = refund_tenders(sale, amount, uow.tickets.refunded(sale.id))
        # Money that goes back as store credit becomes a new credit note with its own code.
        tenders = [
            Tender(x.kind, x.amount, reference=new_credit_code())
            if x.kind is TenderKind.STORE_CREDIT
            else x
            for x in tenders
        ]
        ticket = Ticket(
            id=ticket_id,
            store_number=policy.store_number,
            till=cmd.till,
            number=uow.tickets.next_number(cmd.till),
            kind=TicketKind.RETURN,
            occurred_at=now,
            staff_id=cmd.staff.id,
            lines=tuple(lines),
            tenders=tuple(tenders),
            change=Money(0),
            refers_to=sale.display_number,
            session_id=session_id,
        )
        for request in cmd.lines:
            item = locked[request.label_code]
            item.set_status(ItemStatus.TO_REPAIR if request.to_repair else ItemStatus.IN_STOCK)
            item.sold_on = None
            uow.items.save_status(item, previous=ItemStatus.SOLD, at=now, by=cmd.staff.id)
        write_ticket(uow, ticket, key, statuses={item.id: item.status for item in locked.values()})
        for tender in ticket.tenders:
            if tender.kind is TenderKind.STORE_CREDIT and tender.reference:
                uow.store_credits.issue(
                    tender.reference, -tender.amount, ticket_id=ticket.id, at=now, by=cmd.staff.id
                )
        _refund_cards(ticket, terminal)
        uow.commit()
    return ticket


def _refund_cards(ticket: Ticket, terminal: PaymentTerminal) -> None:
    for tender in ticket.tenders:
        if tender.kind is TenderKind.CARD:
            result = terminal.refund(-tender.amount, reference=ticket.id)
            if not result.approved:
                raise DomainError(
                    f"card refund refused: {result.message}", code=ErrorCode.CARD_DECLINED
                )
