"""Store screens: till sessions (opening with a float, cash in and out, closing with the
counted amounts) and the daily closing (rule D.19).

Both call the services the JSON API calls (`store.services.sessions`, `store.services.closings`);
a refusal is shown on the page, in the reader's language, and changes nothing. Each form
answers with a redirect (303), so that reloading the page never posts it twice.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Connection, or_, select

from recommerce.errors import Conflict, DomainError
from recommerce.fiscal.closings import Period
from recommerce.pos.sessions import COUNTED_TENDERS
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.api.deps import NodeDep
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.db.till import SqlTickets
from recommerce.store.services import closings as closings_service
from recommerce.store.services import sessions as sessions_service
from recommerce.store.sync.totals import day_bounds, day_totals
from recommerce.store.ui.pages import PageStaff, cents_or_none, forbidden, page
from recommerce.store.ui.till_forms import TILL_COOKIE, till_name

router = APIRouter(include_in_schema=False)

Amount = Annotated[str, Form(max_length=20)]
TENDERS = tuple(kind.value for kind in COUNTED_TENDERS)  # cash, card, store_credit


def _today(node: StoreNode) -> date:
    return node.clock.now().astimezone(node.settings.zone).date()


def _day_sessions(conn: Connection, node: StoreNode) -> list[dict[str, Any]]:
    """The sessions opened today, and any still open from an earlier day."""
    start, end = day_bounds(_today(node), node.settings.zone)
    s = t.till_sessions
    rows = conn.execute(
        select(s, t.staff.c.full_name.label("opened_by_name"))
        .join(t.staff, t.staff.c.id == s.c.opened_by)
        .where(or_(s.c.closed_at.is_(None), (s.c.opened_at >= start) & (s.c.opened_at < end)))
        .order_by(s.c.opened_at)
    ).all()
    return [dict(r._mapping) for r in rows]


def _sessions_page(
    request: Request,
    node: StoreNode,
    staff: StaffMember,
    till: str,
    *,
    shown: str | None = None,
    done: str | None = None,
    error: DomainError | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    with node.reading() as conn:
        open_id, day_closed = SqlTickets(conn).till_state(till, _today(node))
        sessions = _day_sessions(conn, node)
        known = {row["id"] for row in sessions}
        if shown and shown not in known:  # a session of an earlier day, or no session at all
            found = conn.execute(select(t.till_sessions.c.id).where(t.till_sessions.c.id == shown))
            shown = shown if found.first() else None
    current = sessions_service.session(node, open_id) if open_id else None
    result = sessions_service.session(node, shown) if shown and shown != open_id else None
    response = page(
        request,
        node,
        staff,
        "sessions/sessions.html",
        {
            "till": till,
            "current": current,
            "result": result,
            "day_closed": day_closed,
            "sessions": sessions,
            "tenders": TENDERS,
            "typed": typed or {},
            "error": error,
            "done": done,
        },
        status_code=status_code,
    )
    response.set_cookie(TILL_COOKIE, till, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/sessions", response_class=HTMLResponse)
def sessions_page(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    till: Annotated[str | None, Query(max_length=8)] = None,
    session: Annotated[str | None, Query(max_length=36)] = None,
    done: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    if denied := forbidden(request, node, staff, Permission.SELL):
        return denied
    try:
        name = till_name(request, till)
    except DomainError as exc:
        return _sessions_page(request, node, staff, till_name(request), error=exc, status_code=422)
    return _sessions_page(request, node, staff, name, shown=session, done=done)


def _back(till: str, done: str, session: str | None = None) -> Response:
    query = {"till": till, "done": done} | ({"session": session} if session else {})
    return RedirectResponse(f"/sessions?{urlencode(query)}", status_code=303)


def _refused(
    request: Request,
    node: StoreNode,
    staff: StaffMember,
    till: str,
    exc: DomainError,
    typed: dict[str, str],
) -> Response:
    try:
        name = till_name(request, till)
    except DomainError:
        name = till_name(request)
    return _sessions_page(request, node, staff, name, error=exc, typed=typed, status_code=422)


@router.post("/sessions/open", response_class=HTMLResponse)
def open_till(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    till: Annotated[str, Form(max_length=8)],
    float_amount: Amount = "",
) -> Response:
    """Open the till with the cash float put in its drawer."""
    if denied := forbidden(request, node, staff, Permission.SELL):
        return denied
    try:
        name = till_name(request, till)
        cents = cents_or_none(float_amount, "float_cents") or 0
        sessions_service.open_till(node, staff, name, cents)
    except DomainError as exc:
        return _refused(request, node, staff, till, exc, {"float_amount": float_amount})
    return _back(name, "opened")


@router.post("/sessions/cash", response_class=HTMLResponse)
def move_cash(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    till: Annotated[str, Form(max_length=8)],
    direction: Annotated[str, Form(max_length=3)] = "out",
    amount: Amount = "",
    reason: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Cash put in the drawer or taken out of it (a bank deposit), with its reason."""
    if denied := forbidden(request, node, staff, Permission.SELL):
        return denied
    typed = {"direction": direction, "amount": amount, "reason": reason}
    try:
        name = till_name(request, till)
        cents = cents_or_none(amount, "amount_cents") or 0
        if cents < 0:
            raise DomainError("type the amount without a sign", field="amount_cents")
        signed = -cents if direction == "out" else cents
        sessions_service.move_cash(node, staff, name, signed, reason)
    except DomainError as exc:
        return _refused(request, node, staff, till, exc, typed)
    return _back(name, "moved")


@router.post("/sessions/close", response_class=HTMLResponse)
def close_till(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    till: Annotated[str, Form(max_length=8)],
    counted_cash: Amount = "",
    counted_card: Amount = "",
    counted_store_credit: Amount = "",
) -> Response:
    """Close the till with what was counted per tender; the difference is then shown."""
    if denied := forbidden(request, node, staff, Permission.SELL):
        return denied
    typed = {"cash": counted_cash, "card": counted_card, "store_credit": counted_store_credit}
    try:
        name = till_name(request, till)
        counted = {
            kind: cents
            for kind, text in typed.items()
            if (cents := cents_or_none(text, f"counted.{kind}")) is not None
        }
        closed = sessions_service.close_till(node, staff, name, counted)
    except DomainError as exc:
        return _refused(
            request, node, staff, till, exc, {f"counted_{k}": v for k, v in typed.items()}
        )
    return _back(name, "closed", closed["id"])


# --- the daily closing -------------------------------------------------------------------------
def _closing_of(conn: Connection, day: str) -> dict[str, Any] | None:
    """The day's closing record, as the journal holds it (fields, seq, hash), if it is closed."""
    row = conn.execute(
        select(t.closings.c.seq, t.closings.c.closed_at, t.staff.c.full_name)
        .join(t.staff, t.staff.c.id == t.closings.c.closed_by)
        .where(t.closings.c.period == Period.DAY.value, t.closings.c.label == day)
    ).first()
    if row is None:
        return None
    record = conn.execute(
        select(t.fiscal_journal.c.fields, t.fiscal_journal.c.hash).where(
            t.fiscal_journal.c.seq == row.seq
        )
    ).one()
    return {
        "seq": row.seq,
        "closed_at": row.closed_at,
        "closed_by": row.full_name,
        "hash": record.hash,
        "fields": dict(record.fields),
    }


def _closing_page(
    request: Request,
    node: StoreNode,
    staff: StaffMember,
    day: date,
    *,
    error: DomainError | None = None,
    done: bool = False,
    status_code: int = 200,
) -> Response:
    with node.reading() as conn:
        totals = day_totals(conn, day, node.settings.zone)
        closing = _closing_of(conn, day.isoformat())
        open_tills = conn.execute(
            select(t.open_tills.c.till, t.till_sessions.c.opened_at)
            .join(t.till_sessions, t.till_sessions.c.id == t.open_tills.c.session_id)
            .order_by(t.open_tills.c.till)
        ).all()
    recent = [
        row
        for row in closings_service.list_closings(node, Period.DAY)
        if row["label"] != day.isoformat()
    ][-7:]
    return page(
        request,
        node,
        staff,
        "sessions/closing.html",
        {
            "day": day,
            "today": _today(node),
            "totals": totals,
            "closing": closing,
            "open_tills": open_tills,
            "recent": list(reversed(recent)),
            "error": error,
            # "someone changed this first" would mislead: the day, or a later one, is closed
            "closed_already": isinstance(error, Conflict),
            "done": done,
        },
        status_code=status_code,
    )


@router.get("/closing", response_class=HTMLResponse)
def closing_page(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    day: Annotated[str | None, Query(max_length=10)] = None,
    done: Annotated[str | None, Query(max_length=1)] = None,
) -> Response:
    """The day's figures, and its closing once made."""
    if denied := forbidden(request, node, staff, Permission.CLOSE_PERIOD):
        return denied
    try:
        chosen = date.fromisoformat(day) if day else _today(node)
    except ValueError:
        wrong = DomainError(f"{day!r} is not a day (2026-11-20)", field="day")
        return _closing_page(request, node, staff, _today(node), error=wrong, status_code=422)
    return _closing_page(request, node, staff, chosen, done=bool(done))


@router.post("/closing", response_class=HTMLResponse)
def close_day(
    request: Request, node: NodeDep, staff: PageStaff, day: Annotated[str, Form(max_length=10)]
) -> Response:
    """Close the day through the closings service: its signed record and the grand total."""
    if denied := forbidden(request, node, staff, Permission.CLOSE_PERIOD):
        return denied
    try:
        record = closings_service.close_period(node, staff, Period.DAY, day.strip())
    except DomainError as exc:
        try:
            shown = date.fromisoformat(day.strip())
        except ValueError:
            shown = _today(node)
        return _closing_page(request, node, staff, shown, error=exc, status_code=422)
    return RedirectResponse(
        f"/closing?{urlencode({'day': record.fields['label'], 'done': '1'})}", status_code=303
    )
