"""Opening a till with a float, cash in and out with a reason, closing with counted amounts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from recommerce.errors import DomainError, ErrorCode
from recommerce.ids import new_id
from recommerce.pos.sessions import COUNTED_TENDERS, differences, expected_amounts
from recommerce.pos.tenders import TenderKind
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.sync.events import TILL_SESSION_CLOSED, Event


def _open_session_id(conn: Any, till: str) -> str:
    session_id = conn.execute(
        select(t.open_tills.c.session_id).where(t.open_tills.c.till == till)
    ).scalar_one_or_none()
    if session_id is None:
        raise DomainError(
            f"till {till} is not open: open it with its float first",
            code=ErrorCode.TILL_SESSION,
            field="till",
        )
    return str(session_id)


def open_till(node: StoreNode, staff: StaffMember, till: str, float_cents: int) -> dict[str, Any]:
    staff.require(Permission.SELL)
    if float_cents < 0:
        raise DomainError("the float cannot be negative", field="float_cents")
    session_id = new_id()
    now = node.clock.now()
    try:
        with node.uow() as uow:
            uow.conn.execute(
                insert(t.till_sessions).values(
                    id=session_id,
                    till=till,
                    opened_at=now,
                    opened_by=staff.id,
                    float_cents=float_cents,
                )
            )
            uow.conn.execute(insert(t.open_tills).values(till=till, session_id=session_id))
            uow.commit()
    except IntegrityError as exc:
        raise DomainError(
            f"till {till} is already open", code=ErrorCode.TILL_SESSION, field="till"
        ) from exc
    return session(node, session_id)


def move_cash(
    node: StoreNode, staff: StaffMember, till: str, amount_cents: int, reason: str
) -> dict[str, Any]:
    """Cash put in (positive) or taken out (negative) of the drawer, e.g. a bank deposit."""
    staff.require(Permission.SELL)
    if amount_cents == 0:
        raise DomainError("a cash movement is not zero", field="amount_cents")
    if not reason.strip():
        raise DomainError("say why cash moves", field="reason")
    with node.uow() as uow:
        session_id = _open_session_id(uow.conn, till)
        uow.conn.execute(
            insert(t.cash_movements).values(
                id=new_id(),
                session_id=session_id,
                at=node.clock.now(),
                by=staff.id,
                amount_cents=amount_cents,
                reason=reason.strip(),
            )
        )
        uow.commit()
    return session(node, session_id)


def close_till(
    node: StoreNode, staff: StaffMember, till: str, counted: dict[str, int]
) -> dict[str, Any]:
    """Record what was counted per tender against what the tickets say should be there."""
    staff.require(Permission.SELL)
    unknown = set(counted) - {k.value for k in COUNTED_TENDERS}
    if unknown:
        raise DomainError(f"unknown tender {sorted(unknown)[0]!r}", field="counted")
    now = node.clock.now()
    with node.uow() as uow:
        conn = uow.conn
        session_id = _open_session_id(conn, till)
        expected = _expected(conn, session_id)
        difference = differences(expected, counted)
        conn.execute(
            update(t.till_sessions)
            .where(t.till_sessions.c.id == session_id)
            .values(
                closed_at=now,
                closed_by=staff.id,
                expected=expected,
                counted=counted,
                difference=difference,
            )
        )
        conn.execute(delete(t.open_tills).where(t.open_tills.c.till == till))
        uow.outbox.add(
            Event(
                type=TILL_SESSION_CLOSED,
                occurred_at=now,
                payload={
                    "session_id": session_id,
                    "till": till,
                    "staff_id": staff.id,
                    "expected": expected,
                    "counted": counted,
                    "difference": difference,
                },
            )
        )
        uow.commit()
    return session(node, session_id)


def _expected(conn: Any, session_id: str) -> dict[str, int]:
    opening = conn.execute(
        select(t.till_sessions.c.float_cents).where(t.till_sessions.c.id == session_id)
    ).scalar_one()
    movements = conn.execute(
        select(func.coalesce(func.sum(t.cash_movements.c.amount_cents), 0)).where(
            t.cash_movements.c.session_id == session_id
        )
    ).scalar_one()
    tickets = select(t.tickets.c.id).where(t.tickets.c.session_id == session_id)
    tenders = {
        TenderKind(kind): int(cents)
        for kind, cents in conn.execute(
            select(t.ticket_tenders.c.kind, func.sum(t.ticket_tenders.c.amount_cents))
            .where(t.ticket_tenders.c.ticket_id.in_(tickets))
            .group_by(t.ticket_tenders.c.kind)
        )
    }
    return expected_amounts(
        float_cents=int(opening), movements_cents=int(movements), tenders_cents=tenders
    )


def session(node: StoreNode, session_id: str) -> dict[str, Any]:
    with node.reading() as conn:
        row = conn.execute(select(t.till_sessions).where(t.till_sessions.c.id == session_id)).one()
        out = dict(row._mapping)
        out["movements"] = [
            dict(r._mapping)
            for r in conn.execute(
                select(t.cash_movements)
                .where(t.cash_movements.c.session_id == session_id)
                .order_by(t.cash_movements.c.at)
            )
        ]
        if out["closed_at"] is None:
            out["expected"] = _expected(conn, session_id)
    return out
