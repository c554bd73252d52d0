"""Invariant 7: money never drifts. Amounts are integer cents, and VAT is rounded in one place
(`recommerce.fiscal.vat`, through `recommerce.money.round_cents`).

Per store: every stored amount is an integer; each ticket line's price is its label price less
its discount, and its VAT is what `fiscal.vat` computes again from the line's price, regime and
rate and the item's purchase price (a return's line is the exact opposite of a sale's, rule
D.16); a ticket's total is the sum of its lines, and its tenders pay exactly that total (change
is cash given back on top); a purchase's total is the sum of its items' purchase prices. At
central: an online order's total is its lines plus delivery.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, func, select

from recommerce.central.db import marketplace_tables as m
from recommerce.errors import DomainError
from recommerce.fiscal.vat import tax_line
from recommerce.inventory.model import VatRegime
from recommerce.money import Money
from recommerce.pos.ticket import TicketKind
from recommerce.sim.invariants.databases import Databases, OpenStore
from recommerce.sim.invariants.results import Findings, InvariantResult
from recommerce.store.db import tables as t

RETURN = TicketKind.RETURN.value


def is_cents(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _not_cents(
    findings: Findings, store: int, table: str, key: Any, row: Any, *columns: str
) -> bool:
    """Add each amount of the row that is not integer cents; whether all of them are."""
    wrong = [name for name in columns if not is_cents(getattr(row, name))]
    for name in wrong:
        findings.add(
            store=store,
            table=table,
            id=key,
            column=name,
            value=repr(getattr(row, name)),
            problem="an amount that is not integer cents",
        )
    return not wrong


def recomputed_vat(kind: str, regime: str, rate: str, price: int, purchase_price: int) -> int:
    """The line's VAT as `fiscal.vat` computes it; a return cancels the sale's VAT exactly."""
    sign = -1 if kind == RETURN else 1
    taxed = tax_line(VatRegime(regime), Money(sign * price), Money(purchase_price), Fraction(rate))
    return sign * taxed.vat.cents


def _check_lines(store: OpenStore, conn: Connection, findings: Findings) -> dict[str, int]:
    """Each line's price and VAT; the sum of the lines of each ticket."""
    lines = t.ticket_lines
    rows = conn.execute(
        select(
            lines,
            t.tickets.c.kind,
            t.tickets.c.display_number,
            t.items.c.purchase_price_cents,
        )
        .join(t.tickets, t.tickets.c.id == lines.c.ticket_id)
        .join(t.items, t.items.c.id == lines.c.item_id)
    )
    sums: dict[str, int] = defaultdict(int)
    for row in rows:
        key = f"{row.display_number} line {row.line_no}"
        amounts = ("unit_price_cents", "discount_cents", "price_cents", "vat_cents")
        if not _not_cents(findings, store.number, "ticket_lines", key, row, *amounts):
            continue
        sums[row.ticket_id] += row.price_cents
        what = {"store": store.number, "ticket": row.display_number, "line": row.line_no}
        if row.price_cents != row.unit_price_cents - row.discount_cents:
            findings.add(
                problem="the line's price is not its label price less its discount",
                price_cents=row.price_cents,
                unit_price_cents=row.unit_price_cents,
                discount_cents=row.discount_cents,
                **what,
            )
        try:
            vat = recomputed_vat(
                row.kind, row.vat_regime, row.vat_rate, row.price_cents, row.purchase_price_cents
            )
        except (DomainError, ValueError, ZeroDivisionError) as exc:
            findings.add(problem="the line's VAT cannot be computed", reason=exc, **what)
            continue
        if vat != row.vat_cents:
            findings.add(
                problem="the line's VAT is not what fiscal.vat computes",
                label_code=row.label_code,
                vat_cents=row.vat_cents,
                recomputed_vat_cents=vat,
                **what,
            )
    return sums


def _check_store(store: OpenStore, findings: Findings) -> tuple[int, int]:
    """Check one store; its tickets and purchases."""
    with store.reading() as conn:
        line_sums = _check_lines(store, conn, findings)
        tenders: dict[str, int] = defaultdict(int)
        tender_rows = conn.execute(select(t.ticket_tenders))
        for row in tender_rows:
            key = f"{row.ticket_id} tender {row.line_no}"
            if _not_cents(findings, store.number, "ticket_tenders", key, row, "amount_cents"):
                tenders[row.ticket_id] += row.amount_cents
        tickets = conn.execute(
            select(
                t.tickets.c.id,
                t.tickets.c.display_number,
                t.tickets.c.total_cents,
                t.tickets.c.change_cents,
            )
        ).all()
        purchases = conn.execute(select(t.purchases.c.id, t.purchases.c.total_cents)).all()
        bought = dict(
            conn.execute(
                select(t.items.c.purchase_id, func.sum(t.items.c.purchase_price_cents)).group_by(
                    t.items.c.purchase_id
                )
            ).all()
        )
    for ticket in tickets:
        number = ticket.display_number
        if not _not_cents(findings, store.number, "tickets", number, ticket, "total_cents"):
            continue
        what = {"store": store.number, "ticket": number, "total_cents": ticket.total_cents}
        if ticket.total_cents != line_sums.get(ticket.id, 0):
            findings.add(
                problem="the ticket's total is not the sum of its lines",
                lines_cents=line_sums.get(ticket.id, 0),
                **what,
            )
        if ticket.total_cents != tenders.get(ticket.id, 0):
            findings.add(
                problem="the ticket's tenders do not pay exactly its total",
                tenders_cents=tenders.get(ticket.id, 0),
                **what,
            )
        if _not_cents(findings, store.number, "tickets", number, ticket, "change_cents") and (
            ticket.change_cents < 0
        ):
            findings.add(problem="negative change", change_cents=ticket.change_cents, **what)
    for purchase in purchases:
        if not _not_cents(
            findings, store.number, "purchases", purchase.id, purchase, "total_cents"
        ):
            continue
        items_cents = int(bought.get(purchase.id) or 0)
        if purchase.total_cents != items_cents:
            findings.add(
                store=store.number,
                purchase_id=purchase.id,
                problem="the purchase's total is not the sum of its items' purchase prices",
                total_cents=purchase.total_cents,
                items_cents=items_cents,
            )
    return len(tickets), len(purchases)


def _check_orders(dbs: Databases, findings: Findings) -> int:
    with dbs.central_reading() as conn:
        orders = conn.execute(select(m.orders)).all()
        lines = dict(
            conn.execute(
                select(m.order_lines.c.order_id, func.sum(m.order_lines.c.price_cents)).group_by(
                    m.order_lines.c.order_id
                )
            ).all()
        )
    amounts = ("items_cents", "delivery_cents", "total_cents", "refunded_cents")
    for order in orders:
        if not _not_cents(findings, order.store_number, "orders", order.number, order, *amounts):
            continue
        items = int(lines.get(order.id) or 0)
        if (order.items_cents, order.total_cents) != (items, items + order.delivery_cents):
            findings.add(
                order=order.number,
                problem="the order's total is not its lines plus delivery",
                items_cents=order.items_cents,
                lines_cents=items,
                delivery_cents=order.delivery_cents,
                total_cents=order.total_cents,
            )
    return len(orders)


def check_money(dbs: Databases) -> InvariantResult:
    findings = Findings()
    tickets = purchases = 0
    for store in dbs.stores:
        store_tickets, store_purchases = _check_store(store, findings)
        tickets += store_tickets
        purchases += store_purchases
    orders = _check_orders(dbs, findings)
    return findings.result(7, tickets=tickets, purchases=purchases, online_orders=orders)
