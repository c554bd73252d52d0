"""Online orders for head office: the list (by status, store, number or customer), and one
order's page with its lines, store, customer, where its money is, and its history (the
moments of its life and the messages sent to the customer).

Reads the same rows as the JSON API (`recommerce.central.services.orders`); the back office
changes nothing of an order (the carrier's delivery is recorded through the API).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from babel.support import LazyProxy
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Select, func, or_, select

from recommerce.central.api.deps import CentralDep
from recommerce.central.db import marketplace_tables as m
from recommerce.central.db import tables as t
from recommerce.central.services import orders as service
from recommerce.central.web.backoffice import exports
from recommerce.central.web.backoffice.exports import Column, Kind, Sheet
from recommerce.central.web.backoffice.pages import PREFIX, Pages, PageUser, not_found, page
from recommerce.errors import NotFound
from recommerce.marketplace.orders import Fulfilment, OrderStatus
from recommerce.web.i18n import gettext as _
from recommerce.web.i18n import lazy_gettext

router = APIRouter(include_in_schema=False)

PER_PAGE = 50

STATUS_LABELS: Mapping[str, LazyProxy] = {
    OrderStatus.AWAITING_STORE: lazy_gettext("Awaiting the store"),
    OrderStatus.RESERVED: lazy_gettext("Reserved"),
    OrderStatus.REJECTED: lazy_gettext("Rejected by the store"),
    OrderStatus.CONFIRMED: lazy_gettext("Confirmed"),
    OrderStatus.READY_FOR_COLLECTION: lazy_gettext("Ready for collection"),
    OrderStatus.SHIPPED: lazy_gettext("Shipped"),
    OrderStatus.COLLECTED: lazy_gettext("Collected"),
    OrderStatus.DELIVERED: lazy_gettext("Delivered"),
    OrderStatus.CANCELLED: lazy_gettext("Cancelled"),
    OrderStatus.WITHDRAWN: lazy_gettext("Withdrawn by the customer"),
}
PAYMENT_LABELS: Mapping[str, LazyProxy] = {
    "authorizing": lazy_gettext("Being authorised"),
    "authorized": lazy_gettext("Authorised"),
    "captured": lazy_gettext("Paid"),
    "voided": lazy_gettext("Released, not charged"),
    "refunded": lazy_gettext("Refunded"),
}
FULFILMENT_LABELS: Mapping[str, LazyProxy] = {
    Fulfilment.COLLECT: lazy_gettext("Click and collect"),
    Fulfilment.SHIP: lazy_gettext("Shipped to the customer"),
}


def label(labels: Mapping[str, LazyProxy], value: str) -> str:
    known = labels.get(value)
    return str(known) if known is not None else value


def listed(status: str, store: int | None, q: str) -> Select[Any]:
    """The orders the filters select, newest first, with their customer and store."""
    o, cu = m.orders, m.customers
    query = (
        select(o, cu.c.name.label("customer_name"), cu.c.email, t.stores.c.name.label("store_name"))
        .join(cu, cu.c.id == o.c.customer_id)
        .join(t.stores, t.stores.c.number == o.c.store_number)
        .order_by(o.c.ordered_at.desc(), o.c.number.desc())
    )
    if status:
        query = query.where(o.c.status == status)
    if store is not None:
        query = query.where(o.c.store_number == store)
    words = q.strip()
    if words:
        like = f"%{words.lower()}%"
        query = query.where(
            or_(
                o.c.number == words.upper(),
                func.lower(cu.c.email).like(like),
                func.lower(cu.c.name).like(like),
            )
        )
    return query


def orders_sheet(rows: Sequence[Any]) -> Sheet:
    return Sheet(
        name="orders",
        title=_("Online orders"),
        columns=[
            Column(_("Order")),
            Column(_("Ordered"), Kind.MOMENT),
            Column(_("Store")),
            Column(_("Customer")),
            Column(_("E-mail")),
            Column(_("Fulfilment")),
            Column(_("Status")),
            Column(_("Payment")),
            Column(_("Items total"), Kind.MONEY),
            Column(_("Delivery"), Kind.MONEY),
            Column(_("Total"), Kind.MONEY),
            Column(_("Refunded"), Kind.MONEY),
        ],
        rows=[
            [
                r.number,
                r.ordered_at,
                f"{r.store_number:03d} {r.store_name}",
                r.customer_name,
                r.email,
                label(FULFILMENT_LABELS, r.fulfilment),
                label(STATUS_LABELS, r.status),
                label(PAYMENT_LABELS, r.payment_state),
                r.items_cents,
                r.delivery_cents,
                r.total_cents,
                r.refunded_cents,
            ]
            for r in rows
        ],
    )


@router.get(f"{PREFIX}/orders", response_class=HTMLResponse)
def orders_list(
    request: Request,
    central: CentralDep,
    user: PageUser,
    status: Annotated[str, Query(max_length=30)] = "",
    store: Annotated[str, Query(max_length=3)] = "",
    q: Annotated[str, Query(max_length=254)] = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    status = status if status in set(OrderStatus) else ""
    store_number = int(store) if store.isascii() and store.isdigit() else None
    query = listed(status, store_number, q)
    fmt = exports.wanted_format(request)
    with central.reading() as conn:
        if fmt is not None:
            rows = conn.execute(query.limit(exports.MAX_EXPORT_ROWS)).all()
            name = exports.file_name("orders", status, store_number)
            return exports.download(fmt, [orders_sheet(rows)], name)
        total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = conn.execute(query.offset((page_number - 1) * PER_PAGE).limit(PER_PAGE)).all()
        stores = conn.execute(
            select(t.stores.c.number, t.stores.c.name).order_by(t.stores.c.number)
        ).all()
    return page(
        request,
        user,
        "orders.html",
        {
            "rows": rows,
            "status": status,
            "store": store_number,
            "q": q,
            "stores": stores,
            "statuses": list(OrderStatus),
            "status_labels": STATUS_LABELS,
            "payment_labels": PAYMENT_LABELS,
            "fulfilment_labels": FULFILMENT_LABELS,
            "pages": Pages.of(page_number, total, PER_PAGE),
        },
    )


@dataclass(frozen=True, slots=True)
class Moment:
    at: datetime
    what: str
    detail: str | None = None


def history(order: Any, messages: list[Any]) -> list[Moment]:
    """An order's life, oldest first: its moments, and each message to the customer."""
    moments = [Moment(order.ordered_at, _("Ordered and paid by card (authorised)"))]
    if order.answered_at:
        moments.append(Moment(order.answered_at, _("The store answered")))
    if order.delivered_at:
        moments.append(Moment(order.delivered_at, _("Delivered by the carrier")))
    if order.ended_at:
        moments.append(Moment(order.ended_at, _("Ended"), order.end_reason))
    for message in messages:
        sent = _("sent") if message.sent_at else _("not sent yet")
        moments.append(
            Moment(message.created_at, _("Message to the customer"), f"{message.subject} ({sent})")
        )
    return sorted(moments, key=lambda moment: moment.at)


@router.get(f"{PREFIX}/orders/{{number}}", response_class=HTMLResponse)
def order_page(request: Request, number: str, central: CentralDep, user: PageUser) -> Response:
    with central.reading() as conn:
        try:
            order = service.order_by_number(conn, number[:20])
        except NotFound as exc:
            return not_found(request, user, exc)
        lines = service.order_lines(conn, order.id)
        messages = conn.execute(
            select(m.notifications)
            .where(m.notifications.c.order_id == order.id)
            .order_by(m.notifications.c.created_at)
        ).all()
        conflicts = conn.execute(
            select(m.conflicts).where(m.conflicts.c.order_id == order.id)
        ).all()
    return page(
        request,
        user,
        "order.html",
        {
            "order": order,
            "lines": lines,
            "history": history(order, list(messages)),
            "conflicts": conflicts,
            "status_labels": STATUS_LABELS,
            "payment_labels": PAYMENT_LABELS,
            "fulfilment_labels": FULFILMENT_LABELS,
        },
    )
