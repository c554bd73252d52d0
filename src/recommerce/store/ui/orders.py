"""Store screen: the online orders of this store's items, to prepare for collection in store or
to ship (docs/marketplace.md, "Orders").

Collection: once paid (`to_prepare`), the items are set aside and the order marked prepared;
central then tells the customer, who comes with the order number of that message. At a till,
staff find the order by that number, check the name and hand it over: a sale paid by the
`online` tender. Shipping: the parcel leaves with its tracking number, sold on the `WEB` till.
Each step goes through `services.online_orders`, as the JSON API's do.
"""

from __future__ import annotations

from typing import Annotated, Any

from babel.support import LazyProxy
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from recommerce.errors import DomainError
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.api.deps import NodeDep
from recommerce.store.bootstrap import StoreNode
from recommerce.store.db import tables as t
from recommerce.store.services import online_orders as orders
from recommerce.store.sync.orders import AWAITING_PAYMENT, CANCELLED, REJECTED, TO_PREPARE
from recommerce.store.ui.pages import PageStaff, forbidden, page, refused
from recommerce.web.i18n import lazy_gettext
from recommerce.web.screens import is_partial

router = APIRouter(include_in_schema=False)

ORDER_STATUS_NAMES = {
    AWAITING_PAYMENT: lazy_gettext("Waiting for the payment"),
    TO_PREPARE: lazy_gettext("To prepare"),
    orders.READY: lazy_gettext("Ready for collection"),
    orders.COLLECTED: lazy_gettext("Collected"),
    orders.SHIPPED: lazy_gettext("Shipped"),
    REJECTED: lazy_gettext("Refused by the store"),
    CANCELLED: lazy_gettext("Cancelled"),
}
# The lists staff choose between: what is still to do first.
VIEWS: dict[str, frozenset[str] | None] = {
    "open": frozenset({AWAITING_PAYMENT, TO_PREPARE, orders.READY}),
    "done": frozenset({orders.COLLECTED, orders.SHIPPED}),
    "cancelled": frozenset({REJECTED, CANCELLED}),
    "all": None,
}
VIEW_NAMES = {
    "open": lazy_gettext("To do"),
    "done": lazy_gettext("Handed over"),
    "cancelled": lazy_gettext("Cancelled or refused"),
    "all": lazy_gettext("All"),
}
DONE = {
    "ready": lazy_gettext("The order is prepared: the customer is told to come and collect it."),
    "collected": lazy_gettext("The order is handed over to the customer."),
    "shipped": lazy_gettext("The order is shipped."),
}


def _open_tills(node: StoreNode) -> list[str]:
    with node.reading() as conn:
        return list(
            conn.execute(select(t.open_tills.c.till).order_by(t.open_tills.c.till)).scalars()
        )


@router.get("/orders", response_class=HTMLResponse)
def orders_page(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    view: Annotated[str, Query(max_length=20)] = "open",
    number: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    if denied := forbidden(request, node, staff, Permission.VIEW_STOCK):
        return denied
    view = view if view in VIEWS else "open"
    wanted = number.strip().upper()
    found = orders.list_orders(node)
    if wanted:  # the number the customer shows: in whichever list it is
        found = [o for o in found if wanted in o["number"].upper()]
        if len(found) == 1 and found[0]["number"] == wanted and not is_partial(request):
            return RedirectResponse(f"/orders/{found[0]['number']}", status_code=303)
    elif (statuses := VIEWS[view]) is not None:
        found = [o for o in found if o["status"] in statuses]
    context = {
        "orders": found,
        "view": view,
        "views": VIEW_NAMES,
        "number": number,
        "status_names": ORDER_STATUS_NAMES,
    }
    return page(request, node, staff, "orders/list.html", context)


def _order_page(
    request: Request,
    node: StoreNode,
    staff: StaffMember,
    number: str,
    *,
    error: DomainError | None = None,
    notice: LazyProxy | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    try:
        order = orders.get_order(node, number)
    except DomainError as exc:
        return page(request, node, staff, "orders/list.html", {"error": exc}, status_code=404)
    tills = _open_tills(node)
    context: dict[str, Any] = {
        "order": order,
        "status_names": ORDER_STATUS_NAMES,
        "tills": tills,
        "till": (form or {}).get("till", tills[0] if len(tills) == 1 else ""),
        "tracking": (form or {}).get("tracking_number", ""),
        "notice": notice,
        "may_sell": staff.may(Permission.SELL),
    }
    if error is not None:
        return refused(request, node, staff, "orders/order.html", error, context)
    return page(request, node, staff, "orders/order.html", context)


@router.get("/orders/{number}", response_class=HTMLResponse)
def order_page(
    request: Request, node: NodeDep, staff: PageStaff, number: str, done: str | None = None
) -> Response:
    notice = DONE.get(done or "")
    return _order_page(request, node, staff, number, notice=notice)


@router.post("/orders/{number}/ready", response_class=HTMLResponse)
def mark_ready(request: Request, node: NodeDep, staff: PageStaff, number: str) -> Response:
    try:
        orders.mark_ready(node, staff, number)
    except DomainError as exc:
        return _order_page(request, node, staff, number, error=exc)
    return RedirectResponse(f"/orders/{number}?done=ready", status_code=303)


@router.post("/orders/{number}/hand-over", response_class=HTMLResponse)
def hand_over(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    number: str,
    till: Annotated[str, Form(max_length=20)] = "",
    tracking_number: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Collected at a till, or shipped with its tracking number: the sale of its items."""
    till, tracking_number = till.strip(), tracking_number.strip()
    try:
        order = orders.hand_over(
            node, staff, number, till=till or None, tracking_number=tracking_number or None
        )
    except DomainError as exc:
        form = {"till": till, "tracking_number": tracking_number}
        return _order_page(request, node, staff, number, error=exc, form=form)
    done = "shipped" if order["status"] == orders.SHIPPED else "collected"
    return RedirectResponse(f"/orders/{number}?done={done}", status_code=303)
