"""Closing the day, the month and the year (rule D.19)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import BaseModel, StringConstraints

from recommerce.fiscal.closings import Period
from recommerce.staff.model import Permission
from recommerce.store.api.deps import NodeDep, StaffDep
from recommerce.store.api.schemas import Strict
from recommerce.store.services import closings as closings_service

router = APIRouter(prefix="/api/v1/closings", tags=["till"])


class ClosingIn(Strict):
    period: Period
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=10)]


class ClosingOut(BaseModel):
    period: Period
    label: str
    seq: int
    hash: str | None = None
    grand_total_cents: int
    closed_at: datetime
    fields: dict[str, Any] | None = None


@router.post(
    "",
    response_model=ClosingOut,
    status_code=status.HTTP_201_CREATED,
    summary="Close a day, a month or a year: a signed record with totals and the grand total",
)
def close(body: ClosingIn, node: NodeDep, staff: StaffDep) -> ClosingOut:
    record = closings_service.close_period(node, staff, body.period, body.label)
    return ClosingOut(
        period=body.period,
        label=record.fields["label"],
        seq=record.seq,
        hash=record.hash,
        grand_total_cents=record.fields["grand_total_cents"],
        closed_at=record.occurred_at,
        fields=dict(record.fields),
    )


@router.get("", response_model=list[ClosingOut], summary="The closings made so far")
def list_closings(node: NodeDep, staff: StaffDep, period: Period | None = None) -> list[ClosingOut]:
    staff.require(Permission.CLOSE_PERIOD)
    return [ClosingOut(**row) for row in closings_service.list_closings(node, period)]
