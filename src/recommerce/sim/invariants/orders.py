"""Invariant 6: every online order ends fulfilled, or cancelled with its payment refunded
(architecture.md section 3, docs/marketplace.md).

Once the chain is idle, each of central's orders is fulfilled (collected, shipped or
delivered: its payment captured and kept, its store's sale ticket at central) or ended
(cancelled or withdrawn: its authorisation voided, or its payment refunded in full). An order
still open has not ended. When central's data directory is given, the payment provider's own
ledger (the simulated provider's `simulated-payments.db`) must say the same as central.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from recommerce.central.db import marketplace_tables as m
from recommerce.central.db import sync_tables as c
from recommerce.marketplace.orders import OrderStatus
from recommerce.sim.invariants.databases import Databases
from recommerce.sim.invariants.results import Findings, InvariantResult

FULFILLED = frozenset({OrderStatus.COLLECTED, OrderStatus.SHIPPED, OrderStatus.DELIVERED})
ENDED_UNSOLD = frozenset({OrderStatus.CANCELLED, OrderStatus.WITHDRAWN})
LEDGER = "simulated-payments.db"  # CentralSettings.payments_ledger, in central's data dir

Ledger = dict[str, tuple[str, int, int]]  # authorisation -> (state, amount, refunded)


def read_ledger(path: Path) -> Ledger:
    """The provider's authorisations, read without writing (SQLite read-only mode)."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT id, state, amount_cents, refunded_cents FROM authorizations")
        return {
            str(i): (str(state), int(amount), int(refunded)) for i, state, amount, refunded in rows
        }
    finally:
        db.close()


def _money_problem(order: Any) -> str | None:
    """What is wrong with where the order's money is, at central; None when it is right."""
    status = OrderStatus(order.status)
    if status in FULFILLED:
        if order.payment_state != "captured" or order.refunded_cents:
            return f"fulfilled, but its payment is {order.payment_state}"
        return None
    if status in ENDED_UNSOLD:
        if order.payment_state == "voided":
            return None if status is OrderStatus.CANCELLED else "withdrawn, but never paid"
        if order.payment_state == "refunded" and order.refunded_cents == order.total_cents:
            return None
        if order.payment_state == "refunded":
            return f"refunded {order.refunded_cents} cents of {order.total_cents}"
        return f"{status.value}, but its payment is still {order.payment_state}"
    return f"still {status.value}: the order has not ended"


def _ledger_problem(order: Any, ledger: Ledger) -> str | None:
    """What the provider's ledger says against central; None when they agree."""
    entry = ledger.get(order.authorization_id or "")
    if entry is None:
        return "the payment provider has no record of its authorisation"
    state, amount, refunded = entry
    expected = {
        "authorized": ("held", 0),
        "captured": ("captured", 0),
        "voided": ("voided", 0),
        "refunded": ("captured", order.refunded_cents),
    }.get(order.payment_state)
    if amount != order.total_cents or (state, refunded) != expected:
        return (
            f"central says {order.payment_state} ({order.refunded_cents} refunded), the "
            f"provider {state} of {amount} cents ({refunded} refunded)"
        )
    return None


def check_online_orders(dbs: Databases) -> InvariantResult:
    findings = Findings()
    with dbs.central_reading() as conn:
        orders = conn.execute(select(m.orders)).all()
        wanted = [o.ticket_number for o in orders if o.ticket_number]
        tickets = {
            (row.store_number, row.number)
            for row in conn.execute(
                select(c.tickets.c.store_number, c.tickets.c.number).where(
                    c.tickets.c.number.in_(wanted)
                )
            )
        }
    ledger: Ledger | None = None
    ledger_note = "not compared: central's data directory was not given"
    if dbs.central_data_dir is not None:
        path = dbs.central_data_dir / LEDGER
        if path.exists():
            ledger, ledger_note = read_ledger(path), f"compared: {path}"
        elif orders:
            findings.add(problem="the payment provider's ledger is missing", path=path)
        else:
            ledger_note = "no order: nothing to compare"

    for order in orders:
        what = {
            "order": order.number,
            "order_id": order.id,
            "store": order.store_number,
            "status": order.status,
            "payment_state": order.payment_state,
        }
        problem = _money_problem(order)
        if problem is not None:
            findings.add(problem=problem, **what)
        if OrderStatus(order.status) in FULFILLED and (
            (order.store_number, order.ticket_number) not in tickets
        ):
            findings.add(
                problem="fulfilled, but central holds no sale ticket of its store for it",
                ticket=order.ticket_number,
                **what,
            )
        if ledger is not None and (problem := _ledger_problem(order, ledger)) is not None:
            findings.add(problem=problem, **what)
    by_status = Counter(order.status for order in orders)
    return findings.result(6, orders=len(orders), by_status=dict(by_status), ledger=ledger_note)
