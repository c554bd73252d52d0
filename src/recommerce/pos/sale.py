"""Selling at the till: one sale is one transaction — the ticket, its items marked sold, its
fiscal-journal record and its outbox event (business-rules B.11, C.12-C.14, D.16-D.18)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from fractions import Fraction
from typing import Any

from recommerce.clock import Clock
from recommerce.errors import DomainError, ErrorCode
from recommerce.fiscal.journal import TICKET, FiscalKey, JournalRecord, append_sealed
from recommerce.fiscal.vat import STANDARD_RATE, tax_line
from recommerce.ids import new_id
from recommerce.inventory.model import Item, ItemStatus, OffShelf
from recommerce.money import Money, total
from recommerce.pos.ports import TillUnitOfWork
from recommerce.pos.tenders import Settlement, Tender, TenderKind, TenderRequest, settle
from recommerce.pos.terminal import PaymentTerminal
from recommerce.pos.ticket import Ticket, TicketKind, TicketLine
from recommerce.staff.model import Permission, StaffMember
from recommerce.sync.events import TICKET_VALIDATED, Event

NO_DISCOUNT = Money(0)


@dataclass(frozen=True, slots=True)
class TillPolicy:
    store_number: int
    # A line discount above this share of the label price needs a manager's approval.
    max_discount_without_approval: Fraction = Fraction(10, 100)
    vat_rate: Fraction = STANDARD_RATE
    zone: tzinfo = UTC
    requires_open_till: bool = True  # a till takes tickets only between opening and closing


@dataclass(frozen=True, slots=True)
class SaleLineRequest:
    label_code: str
    discount: Money = NO_DISCOUNT


@dataclass(frozen=True, slots=True)
class RecordSale:
    till: str
    staff: StaffMember
    lines: tuple[SaleLineRequest, ...]
    tenders: tuple[TenderRequest, ...]
    approved_by: StaffMember | None = None  # the manager who approved a large discount
    non_resident_proof: str | None = None
    # The online order this sale hands over (collected, or shipped): its items, reserved for
    # it, may be sold, and only by this sale; it is paid by an `online` tender.
    fulfils_order: str | None = None


def check_sellable(
    item: Item, now: datetime, zone: tzinfo, *, field: str, order: str | None = None
) -> None:
    """Refuse an item the till must not sell, saying why (business-rules A.8, architecture 3).
    An item reserved for online order `order` is sold by the sale that fulfils that order."""
    refusal = item.off_shelf(now)
    if refusal is None:
        return
    why, details = refusal
    if why is OffShelf.RESERVED and order is not None and item.reserved_for == order:
        return
    label = item.label_code
    said = {
        OffShelf.RESERVED: f"item {label} is reserved for online order {item.reserved_for}",
        OffShelf.SOLD: f"item {label} was already sold on ticket {item.sold_on}",
        OffShelf.NOT_IN_STOCK: f"item {label} is {item.status.value.replace('_', ' ')}, not on sale",
        OffShelf.WITHDRAWAL_PERIOD: (
            f"item {label} is under the sellers' withdrawal period until {withdrawal_end(item, zone)}"
        ),
    }
    raise DomainError(said[why], code=ErrorCode.ITEM_NOT_SELLABLE, field=field, **details)


def withdrawal_end(item: Item, zone: tzinfo) -> str:
    """The end of the item's withdrawal period, at the store's clock."""
    blocked = item.resale_blocked_until
    return blocked.astimezone(zone).strftime("%d/%m/%Y %H:%M") if blocked else ""


def check_till_can_take_tickets(
    uow: TillUnitOfWork, till: str, now: datetime, policy: TillPolicy
) -> str | None:
    """A till takes tickets once opened with its float, and never on a day already closed
    (rule D.19). Returns the till's open session."""
    day = now.astimezone(policy.zone).date()
    session_id, day_closed = uow.tickets.till_state(till, day)
    if policy.requires_open_till and session_id is None:
        raise DomainError(
            f"till {till} is not open: open it with its float first",
            code=ErrorCode.TILL_SESSION,
            field="till",
        )
    if day_closed:
        raise DomainError(
            f"the day {day.isoformat()} is closed: no more tickets until tomorrow",
            code=ErrorCode.DAY_CLOSED,
        )
    return session_id


def _discount_allowed(
    line: SaleLineRequest, item: Item, cmd: RecordSale, policy: TillPolicy, field: str
) -> None:
    if line.discount < Money.zero() or line.discount >= item.asking_price:
        raise DomainError(
            "a discount is positive and less than the price",
            code=ErrorCode.INVALID_AMOUNT,
            field=f"{field}.discount",
        )
    share = Fraction(line.discount.cents, item.asking_price.cents)
    if share <= policy.max_discount_without_approval or cmd.fulfils_order is not None:
        return  # an online order's price was agreed when the customer paid it
    for who in (cmd.staff, cmd.approved_by):
        if who is not None and who.may(Permission.APPROVE_DISCOUNT):
            return
    raise DomainError(
        f"a discount of {float(share):.0%} needs a manager's approval",
        code=ErrorCode.DISCOUNT_NEEDS_APPROVAL,
        field=f"{field}.discount",
    )


def record_sale(
    cmd: RecordSale,
    uow_factory: Callable[[], TillUnitOfWork],
    *,
    terminal: PaymentTerminal,
    clock: Clock,
    key: FiscalKey,
    policy: TillPolicy,
    also: Callable[[TillUnitOfWork, Ticket], None] | None = None,
) -> Ticket:
    """Sell the basket in one transaction; `also` writes what else the sale settles (an online
    order handed over) in that same transaction."""
    cmd.staff.require(Permission.SELL)
    if not cmd.lines:
        raise DomainError("the basket is empty", field="lines")
    labels = [line.label_code for line in cmd.lines]
    if len(set(labels)) != len(labels):
        raise DomainError("an item is twice in the basket", field="lines")
    if cmd.fulfils_order is None and any(t.kind is TenderKind.ONLINE for t in cmd.tenders):
        raise DomainError(
            "an online payment only settles the hand-over of an online order",
            field="tenders",
        )
    now = clock.now()
    with uow_factory() as uow:
        session_id = check_till_can_take_tickets(uow, cmd.till, now, policy)
        locked = uow.items.lock(labels)
        lines: list[TicketLine] = []
        items: list[Item] = []
        for i, request in enumerate(cmd.lines):
            field = f"lines[{i}]"
            if request.label_code not in locked:
                raise DomainError(
                    f"no item with label {request.label_code} in this store",
                    code=ErrorCode.ITEM_NOT_FOUND,
                    field=f"{field}.label_code",
                )
            item, article_name = locked[request.label_code]
            check_sellable(
                item, now, policy.zone, field=f"{field}.label_code", order=cmd.fulfils_order
            )
            _discount_allowed(request, item, cmd, policy, field)
            price = item.asking_price - request.discount
            lines.append(
                TicketLine(
                    item_id=item.id,
                    label_code=item.label_code,
                    article_name=article_name,
                    unit_price=item.asking_price,
                    discount=request.discount,
                    taxed=tax_line(item.vat_regime, price, item.purchase_price, policy.vat_rate),
                )
            )
            items.append(item)
        settlement = settle(
            total(line.price for line in lines),
            cmd.tenders,
            non_resident_proof=cmd.non_resident_proof,
        )
        ticket_id = new_id()
        for tender in settlement.tenders:
            if tender.kind is TenderKind.STORE_CREDIT:
                uow.store_credits.debit(tender.reference or "", tender.amount)
        settlement = _take_card_payment(settlement, terminal, ticket_id)
        try:
            ticket = Ticket(
                id=ticket_id,
                store_number=policy.store_number,
                till=cmd.till,
                number=uow.tickets.next_number(cmd.till),
                kind=TicketKind.SALE,
                occurred_at=now,
                staff_id=cmd.staff.id,
                lines=tuple(lines),
                tenders=settlement.tenders,
                change=settlement.change,
                non_resident_proof=cmd.non_resident_proof,
                session_id=session_id,
            )
            for item in items:
                item.set_status(ItemStatus.SOLD)
            uow.items.mark_sold(
                items,
                ticket=ticket.display_number,
                at=now,
                by=cmd.staff.id,
                order=cmd.fulfils_order,
            )
            write_ticket(uow, ticket, key, online_order=cmd.fulfils_order)
            if also is not None:
                also(uow, ticket)
            uow.commit()
        except BaseException:
            _cancel_card_payment(settlement, terminal, ticket_id)
            raise
    return ticket


def _take_card_payment(
    settlement: Settlement, terminal: PaymentTerminal, reference: str
) -> Settlement:
    """Charge the card tenders last, once everything else is known to be fine."""
    tenders: list[Tender] = []
    for tender in settlement.tenders:
        if tender.kind is TenderKind.CARD:
            result = terminal.charge(tender.amount, reference=reference)
            if not result.approved:
                _cancel_card_payment(Settlement(tuple(tenders), Money(0)), terminal, reference)
                raise DomainError(
                    f"card payment of {tender.amount} refused: {result.message}",
                    code=ErrorCode.CARD_DECLINED,
                    field="tenders",
                )
            tender = type(tender)(
                kind=tender.kind, amount=tender.amount, reference=result.authorization
            )
        tenders.append(tender)
    return Settlement(tuple(tenders), settlement.change)


def _cancel_card_payment(settlement: Settlement, terminal: PaymentTerminal, reference: str) -> None:
    for tender in settlement.tenders:
        if tender.kind is TenderKind.CARD and tender.reference:
            terminal.cancel(tender.reference, reference=reference)


def write_ticket(
    uow: TillUnitOfWork,
    ticket: Ticket,
    key: FiscalKey,
    *,
    statuses: Mapping[str, ItemStatus] | None = None,
    online_order: str | None = None,
) -> None:
    """Record a validated ticket: its rows, its record chained and signed into the store's
    fiscal journal (rule D.17) and its outbox event, all in the ticket's own transaction.
    Taking the next seq locks the journal until commit."""
    uow.tickets.add(ticket)
    fields = ticket.journal_fields()
    record = append_sealed(
        uow.journal,
        uow.journal.next_seq(),
        kind=TICKET,
        label=f"ticket {ticket.display_number}",
        occurred_at=ticket.occurred_at,
        fields=fields,
        key=key,
    )
    uow.outbox.add(
        ticket_event(ticket, fields, record, statuses=statuses, online_order=online_order)
    )


def ticket_event(
    ticket: Ticket,
    fields: dict[str, Any],
    record: JournalRecord,
    *,
    statuses: Mapping[str, ItemStatus] | None = None,
    online_order: str | None = None,
) -> Event:
    """The ticket as central learns it: the journal's fields, the store, the items with their
    status after the ticket (`statuses` by item id; sold by default), the record's place in
    the store's chain (central keeps the chain's copy) and, for the hand-over of an online
    order, that order's id."""
    extra = {} if online_order is None else {"online_order": online_order}
    return Event(
        type=TICKET_VALIDATED,
        occurred_at=ticket.occurred_at,
        payload={
            **fields,
            **extra,
            "store_number": ticket.store_number,
            "journal": {"seq": record.seq, "hash": record.hash},
            "items": [
                {
                    "item_id": line.item_id,
                    "label_code": line.label_code,
                    "status": (statuses or {}).get(line.item_id, ItemStatus.SOLD).value,
                }
                for line in ticket.lines
            ],
        },
    )
