"""Prices agreed at the counter above the argus' buy offer, for the manager to review."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from recommerce.staff.model import Permission
from recommerce.store.api.deps import NodeDep, StaffDep
from recommerce.store.api.schemas import OfferOverrideOut
from recommerce.store.db import tables as t
from recommerce.store.services.register import check_day_range
from recommerce.store.sync.totals import day_bounds

router = APIRouter(prefix="/api/v1", tags=["buying"])


@router.get(
    "/offer-overrides",
    response_model=list[OfferOverrideOut],
    summary="Prices agreed above the argus' buy offer, with who, in which role, and why (manager)",
    description=(
        "Oldest first. `date_from` and `date_to` are the store's local days, both included."
    ),
)
def list_offer_overrides(
    node: NodeDep,
    staff: StaffDep,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[OfferOverrideOut]:
    # The manager who approves the till's large discounts reviews the counter's overrides.
    staff.require(Permission.APPROVE_DISCOUNT)
    check_day_range(date_from, date_to)
    o = t.offer_overrides
    query = (
        select(o, t.articles.c.name.label("article_name"), t.staff.c.username)
        .join(t.articles, t.articles.c.id == o.c.article_id)
        .join(t.staff, t.staff.c.id == o.c.staff_id)
        .order_by(o.c.at, o.c.label_code)
    )
    if date_from:
        query = query.where(o.c.at >= day_bounds(date_from, node.settings.zone)[0])
    if date_to:
        query = query.where(o.c.at < day_bounds(date_to, node.settings.zone)[1])
    with node.reading() as conn:
        rows = conn.execute(query.limit(limit).offset(offset)).all()
    return [
        OfferOverrideOut(
            id=r.id,
            at=r.at,
            purchase_id=r.purchase_id,
            label_code=r.label_code,
            article_id=r.article_id,
            article_name=r.article_name,
            grade=r.grade,
            offer_cents=r.offer_cents,
            agreed_price_cents=r.agreed_price_cents,
            above_offer_cents=r.agreed_price_cents - r.offer_cents,
            method=r.method,
            staff_id=r.staff_id,
            staff_username=r.username,
            role=r.role,
            reason=r.reason,
        )
        for r in rows
    ]
