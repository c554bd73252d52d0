"""What every store screen shares: its templates, the staff member at the keyboard, the menu.

A screen calls the same services as the JSON API (`recommerce.store.services`, `pos`,
`buyback`...), inside the node's unit of work; a refused operation (`DomainError`) is shown on
the page it came from, in the reader's language, and changes nothing. Pages answer htmx's
partial requests (header `HX-Request`) with the fragment only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response

from recommerce.errors import DomainError, ErrorCode
from recommerce.staff.model import Permission, StaffMember
from recommerce.store.api.deps import NodeDep, current_staff
from recommerce.store.bootstrap import StoreNode
from recommerce.web.i18n import parse_euros, render, staff_templates
from recommerce.web.screens import LoginRequired, is_partial

templates = staff_templates(Path(__file__).resolve().parent.parent / "templates")

# The menu: (path, label id, the permission it needs, its access key). Labels are translated
# in the template; `N_` marks them for extraction.
N_ = str
MENU: tuple[tuple[str, str, Permission | None, str], ...] = (
    ("/counter", N_("Buying counter"), Permission.BUY, "b"),
    ("/till", N_("Till"), Permission.SELL, "t"),
    ("/stock", N_("Stock"), Permission.VIEW_STOCK, "s"),
    ("/orders", N_("Online orders"), Permission.VIEW_STOCK, "o"),
    ("/transfers", N_("Transfers"), Permission.VIEW_STOCK, "x"),
    ("/sessions", N_("Till session"), Permission.SELL, "e"),
    ("/closing", N_("Daily closing"), Permission.CLOSE_PERIOD, "c"),
    ("/register", N_("Police register"), Permission.CONSULT_REGISTER, "r"),
)


async def page_staff(request: Request, node: NodeDep) -> StaffMember:
    """The staff member at the keyboard; without a session, the login page."""
    try:
        return await current_staff(request, node)
    except DomainError:
        raise LoginRequired(request, "/login") from None


PageStaff = Annotated[StaffMember, Depends(page_staff)]


def page(
    request: Request,
    node: StoreNode,
    staff: StaffMember | None,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """A store screen: the template with the store, the staff member and the menu they may use."""
    menu = [
        (path, label, key)
        for path, label, needs, key in MENU
        if staff is not None and (needs is None or staff.may(needs))
    ]
    return render(
        request,
        templates,
        name,
        {
            "settings": node.settings,
            "staff": staff,
            "menu": menu,
            "here": request.url.path,
            "partial": is_partial(request),
            **(context or {}),
        },
        status_code=status_code,
        zone=node.settings.zone,
    )


def typed_cents(text: str, field: str) -> int:
    """An amount staff typed in euros (`12,50`), or a refusal naming the field."""
    try:
        return parse_euros(text)
    except ValueError:
        raise DomainError(
            f"{text.strip()!r} is not an amount in euros",
            code=ErrorCode.INVALID_AMOUNT,
            field=field,
        ) from None


def cents_or_none(text: str, field: str) -> int | None:
    """An amount typed in euros, or None for a field left empty."""
    return typed_cents(text, field) if text.strip() else None


def forbidden(
    request: Request, node: StoreNode, staff: StaffMember, permission: Permission
) -> Response | None:
    """The page that tells a staff member their role may not use this screen (403), or None
    when it may."""
    try:
        staff.require(permission)
    except DomainError as exc:
        return page(request, node, staff, "forbidden.html", {"error": exc}, status_code=403)
    return None


def refused(
    request: Request,
    node: StoreNode,
    staff: StaffMember | None,
    name: str,
    error: DomainError,
    context: dict[str, Any] | None = None,
) -> Response:
    """The page again, with the refusal said in the reader's language (422: nothing changed)."""
    return page(request, node, staff, name, {"error": error, **(context or {})}, status_code=422)
