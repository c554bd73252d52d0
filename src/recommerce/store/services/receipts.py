"""A ticket's receipt: what prints it (the store's header, the cashier, the record's hash), the
till's ESC/POS printer, and a manager's approval given at the till."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from recommerce.errors import DomainError, ErrorCode, NotFound
from recommerce.pos.receipts import StoreHeader, escpos_bytes
from recommerce.pos.ticket import Ticket
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.db.till import SqlTickets
from recommerce.store.services.staff import authenticate


def receipt_of(node: StoreNode, number: str) -> tuple[Ticket, dict[str, Any]]:
    """A ticket by its number and the keyword arguments of `pos.receipts` to print it."""
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


def print_receipt(node: StoreNode, staff: StaffMember, number: str) -> tuple[str, int]:
    """Print (or reprint) a ticket on the till's printer: where it went and how many bytes. A
    printer that does not answer changes nothing: the ticket is recorded whatever the paper."""
    staff.require(Permission.SELL)
    ticket, args = receipt_of(node, number)
    data = escpos_bytes(ticket, **args)
    try:
        where = node.receipt_printer.print_bytes(data, name=number)
    except OSError as exc:
        raise DomainError(
            f"the receipt printer does not answer: {exc}", code=ErrorCode.PRINTER_UNAVAILABLE
        ) from exc
    return where, len(data)


def approver(node: StoreNode, username: str, password: str) -> StaffMember:
    """The manager approving a discount at the till, by their own credentials."""
    try:
        with node.reading() as conn:
            return authenticate(conn, username, password)
    except DomainError as exc:
        raise DomainError(
            "the approving manager's credentials are wrong",
            code=ErrorCode.DISCOUNT_NEEDS_APPROVAL,
            field="approval",
        ) from exc
