"""Head office's view of the stores' sync (docs/sync-protocol.md, "Visibility"): how far behind
each store is, and the events central parked in quarantine."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import Connection, func, select

from recommerce.central.api.deps import CentralDep, UserDep
from recommerce.central.db import sync_tables as s
from recommerce.central.db import tables as t
from recommerce.central.services.stores import store_row

router = APIRouter(tags=["sync"])


class SyncStatusOut(BaseModel):
    store_number: int
    name: str
    enrolled_at: datetime | None
    last_seen_at: datetime | None = Field(description="The store's last push, duplicates included")
    last_batch_at: datetime | None = Field(description="The last push that brought new events")
    last_applied_seq: int = Field(description="Central holds every event up to this seq")
    store_head_seq: int = Field(description="The store's newest event, as it last said")
    lag_events: int
    lag_seconds: float = Field(description="Time since the store was last seen, when behind")
    quarantined: int


class QuarantinedEventOut(BaseModel):
    id: int
    seq: int
    event_id: str | None
    type: str | None
    reason: str
    event: Any
    quarantined_at: datetime


class QuarantinePage(BaseModel):
    total: int
    offset: int
    limit: int
    events: list[QuarantinedEventOut]


def sync_statuses(
    conn: Connection, now: datetime, number: int | None = None
) -> list[SyncStatusOut]:
    """Each store's link as central sees it (one store with `number`): the API's overview and
    the back office's sync health screen read the same figures."""
    cursor, stores = s.sync_cursors, t.stores
    parked = (
        select(s.quarantine.c.store_number, func.count().label("n"))
        .group_by(s.quarantine.c.store_number)
        .subquery()
    )
    query = (
        select(
            stores.c.number,
            stores.c.name,
            stores.c.enrolled_at,
            cursor.c.last_seen_at,
            cursor.c.last_batch_at,
            func.coalesce(cursor.c.last_applied_seq, 0).label("applied"),
            func.coalesce(cursor.c.store_head_seq, 0).label("head"),
            func.coalesce(parked.c.n, 0).label("parked"),
        )
        .select_from(
            stores.outerjoin(cursor, cursor.c.store_number == stores.c.number).outerjoin(
                parked, parked.c.store_number == stores.c.number
            )
        )
        .order_by(stores.c.number)
    )
    if number is not None:
        query = query.where(stores.c.number == number)
    out = []
    for row in conn.execute(query):
        lag = max(0, int(row.head) - int(row.applied))
        behind_for = (
            max(0.0, (now - row.last_seen_at).total_seconds())
            if lag and row.last_seen_at is not None
            else 0.0
        )
        out.append(
            SyncStatusOut(
                store_number=row.number,
                name=row.name,
                enrolled_at=row.enrolled_at,
                last_seen_at=row.last_seen_at,
                last_batch_at=row.last_batch_at,
                last_applied_seq=int(row.applied),
                store_head_seq=int(row.head),
                lag_events=lag,
                lag_seconds=behind_for,
                quarantined=int(row.parked),
            )
        )
    return out


@router.get(
    "/api/v1/stores/{number}/sync",
    response_model=SyncStatusOut,
    summary="A store's sync: last seen, cursor, the store's head, lag, quarantine count",
)
def store_sync_status(number: int, central: CentralDep, _user: UserDep) -> SyncStatusOut:
    with central.reading() as conn:
        store_row(conn, number)
        return sync_statuses(conn, central.clock.now(), number)[0]


@router.get(
    "/api/v1/sync/overview",
    response_model=list[SyncStatusOut],
    summary="Every store's sync at once",
)
def sync_overview(central: CentralDep, _user: UserDep) -> list[SyncStatusOut]:
    with central.reading() as conn:
        return sync_statuses(conn, central.clock.now())


@router.get(
    "/api/v1/stores/{number}/quarantine",
    response_model=QuarantinePage,
    summary="The store's events central could not apply, with the reason (newest first)",
)
def store_quarantine(
    number: int,
    central: CentralDep,
    _user: UserDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> QuarantinePage:
    q = s.quarantine
    with central.reading() as conn:
        store_row(conn, number)
        total = conn.execute(
            select(func.count()).select_from(q).where(q.c.store_number == number)
        ).scalar_one()
        rows = conn.execute(
            select(q)
            .where(q.c.store_number == number)
            .order_by(q.c.seq.desc(), q.c.id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
    return QuarantinePage(
        total=total,
        offset=offset,
        limit=limit,
        events=[QuarantinedEventOut.model_validate(row, from_attributes=True) for row in rows],
    )
