"""Store screen: transfers between stores. Send items to another store by scanning their
labels, follow what left and what is expected, and count an incoming parcel on arrival.

Sending and receiving go through `services.transfers`, as the JSON API's do: the items sent
are in transit at once (the till refuses them); the items scanned on arrival are in stock here,
those not scanned are listed as missing until they turn up (architecture.md section 3).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from babel.support import LazyProxy
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from recommerce.errors import DomainError
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.api.deps import NodeDep
from recommerce.store.bootstrap import StoreNode
from recommerce.store.services import transfers
from recommerce.store.services.transfers import MAX_ITEMS, NOTE_MAX
from recommerce.store.ui.pages import PageStaff, forbidden, page, refused
from recommerce.web.i18n import lazy_gettext

router = APIRouter(include_in_schema=False)

TRANSFER_STATUS_NAMES = {
    transfers.SENT: lazy_gettext("Sent"),
    transfers.EXPECTED: lazy_gettext("Expected"),
    transfers.RECEIVED: lazy_gettext("Received"),
    transfers.PARTIALLY_RECEIVED: lazy_gettext("Partly received"),
}
LINE_STATUS_NAMES = {
    transfers.IN_TRANSIT: lazy_gettext("In transit"),
    transfers.ARRIVED: lazy_gettext("Received"),
    transfers.MISSING: lazy_gettext("Missing"),
}
DONE = {
    "sent": lazy_gettext("The transfer has left: its items are in transit."),
    "received": lazy_gettext("The items scanned are in stock here."),
}
# A scanner types the label and Enter: one label a line (spaces and commas also separate).
LabelsText = Annotated[str, Form(max_length=MAX_ITEMS * 16)]


def scanned_labels(text: str) -> list[str]:
    return [label for label in re.split(r"[\s,;]+", text) if label]


def _names() -> dict[str, Any]:
    return {"status_names": TRANSFER_STATUS_NAMES, "line_names": LINE_STATUS_NAMES}


def _transfers_page(
    request: Request,
    node: StoreNode,
    staff: StaffMember,
    *,
    error: DomainError | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    if denied := forbidden(request, node, staff, Permission.VIEW_STOCK):
        return denied
    context = {
        "incoming": transfers.list_transfers(node, direction=transfers.INCOMING),
        "outgoing": transfers.list_transfers(node, direction=transfers.OUTGOING),
        "form": form or {},
        "manager": staff.may(Permission.MANAGE_STOCK),
        "note_max": NOTE_MAX,
        **_names(),
    }
    if error is not None:
        return refused(request, node, staff, "transfers/list.html", error, context)
    return page(request, node, staff, "transfers/list.html", context)


@router.get("/transfers", response_class=HTMLResponse)
def transfers_page(request: Request, node: NodeDep, staff: PageStaff) -> Response:
    return _transfers_page(request, node, staff)


@router.post("/transfers", response_class=HTMLResponse)
def send(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    to_store: Annotated[str, Form(max_length=10)] = "",
    labels: LabelsText = "",
    note: Annotated[str, Form(max_length=NOTE_MAX + 100)] = "",
) -> Response:
    try:
        if not to_store.strip().isdigit():
            raise DomainError(f"{to_store.strip()!r} is not a store number", field="to_store")
        sent = transfers.send(
            node, staff, to_store=int(to_store), labels=scanned_labels(labels), note=note
        )
    except DomainError as exc:
        form = {"to_store": to_store, "labels": labels, "note": note}
        return _transfers_page(request, node, staff, error=exc, form=form)
    return RedirectResponse(f"/transfers/{sent.number}?done=sent", status_code=303)


def _transfer_page(
    request: Request,
    node: StoreNode,
    staff: StaffMember,
    ref: str,
    *,
    error: DomainError | None = None,
    notice: LazyProxy | None = None,
    labels: str = "",
) -> Response:
    try:
        staff.require(Permission.VIEW_STOCK)
        transfer = transfers.get_transfer(node, ref)
    except DomainError as exc:
        return page(request, node, staff, "transfers/list.html", {"error": exc}, status_code=404)
    context = {
        "transfer": transfer,
        "notice": notice,
        "labels": labels,
        "manager": staff.may(Permission.MANAGE_STOCK),
        "to_receive": transfer.direction == transfers.INCOMING
        and transfer.status != transfers.RECEIVED,
        **_names(),
    }
    if error is not None:
        return refused(request, node, staff, "transfers/transfer.html", error, context)
    return page(request, node, staff, "transfers/transfer.html", context)


@router.get("/transfers/{ref}", response_class=HTMLResponse)
def transfer_page(
    request: Request,
    node: NodeDep,
    staff: PageStaff,
    ref: str,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    notice = DONE.get(done or "")
    return _transfer_page(request, node, staff, ref, notice=notice)


@router.post("/transfers/{ref}/receive", response_class=HTMLResponse)
def receive(
    request: Request, node: NodeDep, staff: PageStaff, ref: str, labels: LabelsText = ""
) -> Response:
    """Count what arrived: the labels scanned are this store's stock from now on."""
    try:
        received = transfers.receive(node, staff, ref, scanned_labels(labels))
    except DomainError as exc:
        return _transfer_page(request, node, staff, ref, error=exc, labels=labels)
    return RedirectResponse(f"/transfers/{received.number}?done=received", status_code=303)
