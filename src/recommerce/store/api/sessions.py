"""Opening and closing a till: the float, cash in and out, the counted amounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field, StringConstraints

from recommerce.store.api.deps import NodeDep, StaffDep
from recommerce.store.api.schemas import Strict
from recommerce.store.services import sessions as sessions_service

router = APIRouter(prefix="/api/v1/tills", tags=["till"])

TillPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9]{1,8}$")]
Cents = Annotated[int, Field(ge=-100_000_000, le=100_000_000)]


class OpenIn(Strict):
    float_cents: Annotated[int, Field(ge=0, le=10_000_000)]


class MovementIn(Strict):
    amount_cents: Cents  # in: positive; out (e.g. to the bank): negative
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class CloseIn(Strict):
    counted: dict[
        Annotated[str, StringConstraints(max_length=20)],
        Annotated[int, Field(ge=0, le=100_000_000)],
    ]


class MovementOut(BaseModel):
    at: datetime
    amount_cents: int
    reason: str


class SessionOut(BaseModel):
    id: str
    till: str
    opened_at: datetime
    float_cents: int
    closed_at: datetime | None
    expected: dict[str, int] | None
    counted: dict[str, int] | None
    difference: dict[str, int] | None
    movements: list[MovementOut]

    @classmethod
    def of(cls, data: dict[str, Any]) -> SessionOut:
        return cls.model_validate(
            {**data, "movements": [MovementOut(**m) for m in data["movements"]]}
        )


@router.post(
    "/{till}/open",
    response_model=SessionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Open the till with its cash float",
)
def open_till(till: TillPath, body: OpenIn, node: NodeDep, staff: StaffDep) -> SessionOut:
    return SessionOut.of(sessions_service.open_till(node, staff, till, body.float_cents))


@router.post(
    "/{till}/cash-movements", response_model=SessionOut, summary="Cash in or out, with a reason"
)
def move_cash(till: TillPath, body: MovementIn, node: NodeDep, staff: StaffDep) -> SessionOut:
    return SessionOut.of(
        sessions_service.move_cash(node, staff, till, body.amount_cents, body.reason)
    )


@router.post(
    "/{till}/close",
    response_model=SessionOut,
    summary="Close the till: counted per tender against expected, the difference recorded",
)
def close_till(till: TillPath, body: CloseIn, node: NodeDep, staff: StaffDep) -> SessionOut:
    return SessionOut.of(sessions_service.close_till(node, staff, till, body.counted))
