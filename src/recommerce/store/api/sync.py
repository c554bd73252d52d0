"""Where the store stands with central (docs/sync-protocol.md, "Visibility")."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from recommerce.errors import Forbidden
from recommerce.staff.model import Role
from recommerce.store.api.deps import NodeDep, StaffDep
from recommerce.store.sync.status import sync_status

router = APIRouter(prefix="/api/v1/sync", tags=["sync"])


class SyncStatusOut(BaseModel):
    store_number: int
    enrolled: bool
    central_url: str | None
    head_seq: int
    acked_seq: int
    queue_events: int
    oldest_unacked_at: datetime | None
    lag_seconds: float
    last_push_at: datetime | None
    last_ack_at: datetime | None
    feed_seq: int | None
    last_error: str | None
    last_error_at: datetime | None
    blocked_reason: str | None


@router.get(
    "/status",
    response_model=SyncStatusOut,
    summary="The sync queue, the last acknowledgement, the lag, the feed cursor, the last error",
)
def status(node: NodeDep, staff: StaffDep) -> SyncStatusOut:
    if staff.role not in (Role.MANAGER, Role.ADMIN):
        raise Forbidden("only a manager or an admin sees the sync status")
    return SyncStatusOut.model_validate(sync_status(node), from_attributes=True)
