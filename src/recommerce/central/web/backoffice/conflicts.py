"""Conflicts: items a store sold at its till while an online order it had confirmed held them
(architecture.md section 3). Both facts are kept, and what was done about it: the till sale
stands, the online order is cancelled and refunded, the customer offered alternatives."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Select, func, select

from recommerce.central.api.deps import CentralDep
from recommerce.central.db import marketplace_tables as m
from recommerce.central.db import sync_tables as s
from recommerce.central.web.backoffice import exports
from recommerce.central.web.backoffice.exports import Column, Kind, Sheet
from recommerce.central.web.backoffice.pages import PREFIX, Pages, PageUser, page
from recommerce.web.i18n import gettext as _

router = APIRouter(include_in_schema=False)

PER_PAGE = 50


def listed(store: int | None) -> Select[Any]:
    """The conflicts, newest first, with the order's number and the item's label."""
    c = m.conflicts
    query = (
        select(c, m.orders.c.number.label("order_number"), s.items.c.label_code)
        .join(m.orders, m.orders.c.id == c.c.order_id)
        .outerjoin(s.items, s.items.c.item_id == c.c.item_id)
        .order_by(c.c.recorded_at.desc(), c.c.id)
    )
    if store is not None:
        query = query.where(c.c.store_number == store)
    return query


def conflicts_sheet(rows: Sequence[Any]) -> Sheet:
    return Sheet(
        name="conflicts",
        title=_("Conflicts"),
        columns=[
            Column(_("Recorded on"), Kind.MOMENT),
            Column(_("Store")),
            Column(_("Item label")),
            Column(_("Store's ticket")),
            Column(_("Till")),
            Column(_("Order")),
            Column(_("Order status then")),
            Column(_("What was done")),
            Column(_("Item id")),
        ],
        rows=[
            [
                r.recorded_at,
                f"{r.store_number:03d}",
                r.label_code or "",
                r.store_fact.get("ticket", ""),
                r.store_fact.get("till", ""),
                r.order_number,
                r.online_fact.get("status", ""),
                r.resolution,
                r.item_id,
            ]
            for r in rows
        ],
    )


@router.get(f"{PREFIX}/conflicts", response_class=HTMLResponse)
def conflicts(
    request: Request,
    central: CentralDep,
    user: PageUser,
    store: Annotated[str, Query(max_length=3)] = "",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    store_number = int(store) if store.isascii() and store.isdigit() else None
    query = listed(store_number)
    fmt = exports.wanted_format(request)
    with central.reading() as conn:
        if fmt is not None:
            rows = conn.execute(query.limit(exports.MAX_EXPORT_ROWS)).all()
            name = exports.file_name("conflicts", store_number)
            return exports.download(fmt, [conflicts_sheet(rows)], name)
        total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = conn.execute(query.offset((page_number - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return page(
        request,
        user,
        "conflicts.html",
        {"rows": rows, "store": store_number, "pages": Pages.of(page_number, total, PER_PAGE)},
    )
