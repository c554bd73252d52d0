"""Transfers between stores: send items to another store, receive what another store sent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from recommerce.staff.model import Permission
from recommerce.store.api.deps import NodeDep, StaffDep
from recommerce.store.api.schemas import Strict
from recommerce.store.services import transfers
from recommerce.store.services.transfers import MAX_ITEMS, NOTE_MAX, Transfer

router = APIRouter(prefix="/api/v1", tags=["stock"])

Label = Annotated[str, Field(min_length=1, max_length=13)]
TransferRef = Annotated[
    str, Path(max_length=36, description="The transfer's id, or its number (TR-042-000001)")
]


class Direction(StrEnum):
    OUTGOING = transfers.OUTGOING
    INCOMING = transfers.INCOMING


class TransferStatus(StrEnum):
    SENT = transfers.SENT
    EXPECTED = transfers.EXPECTED
    RECEIVED = transfers.RECEIVED
    PARTIALLY_RECEIVED = transfers.PARTIALLY_RECEIVED


class TransferIn(Strict):
    to_store: Annotated[int, Field(ge=0, le=999, description="The receiving store's number")]
    labels: Annotated[list[Label], Field(min_length=1, max_length=MAX_ITEMS)]
    note: Annotated[str, Field(max_length=NOTE_MAX)] = ""


class ReceptionIn(Strict):
    labels: Annotated[
        list[Label],
        Field(
            max_length=MAX_ITEMS,
            description="The items that arrived (scanned). On the first count, the others are "
            "missing: they stay in transit until they are received.",
        ),
    ]


class TransferLineOut(BaseModel):
    item_id: str
    label_code: str
    status: str  # in_transit | received | missing


class TransferOut(BaseModel):
    id: str
    number: str
    direction: Direction
    from_store: int
    to_store: int
    status: TransferStatus
    note: str
    sent_at: datetime
    received_at: datetime | None
    items: list[TransferLineOut]
    missing: list[str]  # labels of the items that did not arrive

    @classmethod
    def of(cls, x: Transfer) -> TransferOut:
        return cls(
            id=x.id,
            number=x.number,
            direction=Direction(x.direction),
            from_store=x.from_store,
            to_store=x.to_store,
            status=TransferStatus(x.status),
            note=x.note,
            sent_at=x.sent_at,
            received_at=x.received_at,
            items=[
                TransferLineOut(item_id=i.item_id, label_code=i.label_code, status=i.status)
                for i in x.items
            ],
            missing=x.missing,
        )


@router.post(
    "/transfers",
    response_model=TransferOut,
    status_code=status.HTTP_201_CREATED,
    summary="Send items in stock to another store (manager)",
    description=(
        "In one transaction: the items go in transit (the till refuses them, naming the store "
        "they travel to), their online listing ends, and `ItemsTransferred` goes to central, "
        "which announces the transfer to the receiving store. Items reserved for an online "
        "order, sold, off the shelf or not in this store are refused."
    ),
)
def send(body: TransferIn, node: NodeDep, staff: StaffDep) -> TransferOut:
    sent = transfers.send(node, staff, to_store=body.to_store, labels=body.labels, note=body.note)
    return TransferOut.of(sent)


@router.get(
    "/transfers",
    response_model=list[TransferOut],
    summary="This store's transfers, outgoing and incoming, newest first",
)
def list_transfers(
    node: NodeDep,
    staff: StaffDep,
    direction: Direction | None = None,
    status: TransferStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[TransferOut]:
    staff.require(Permission.VIEW_STOCK)
    found = transfers.list_transfers(
        node,
        direction=direction.value if direction else None,
        status=status.value if status else None,
        limit=limit,
        offset=offset,
    )
    return [TransferOut.of(x) for x in found]


@router.get("/transfers/{transfer}", response_model=TransferOut, summary="A transfer")
def get_transfer(transfer: TransferRef, node: NodeDep, staff: StaffDep) -> TransferOut:
    staff.require(Permission.VIEW_STOCK)
    return TransferOut.of(transfers.get_transfer(node, transfer))


@router.post(
    "/transfers/{transfer}/receive",
    response_model=TransferOut,
    summary="Receive an incoming transfer: the items that arrived are in stock here (manager)",
    description=(
        "The items scanned are this store's from now on, in stock under their own label; "
        "`TransferReceived` tells central, which moves their ownership. On the first count "
        "the items not scanned are listed as missing and stay in transit; one that turns up "
        "later is received with another call."
    ),
)
def receive(
    transfer: TransferRef, body: ReceptionIn, node: NodeDep, staff: StaffDep
) -> TransferOut:
    return TransferOut.of(transfers.receive(node, staff, transfer, body.labels))
