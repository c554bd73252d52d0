"""The stolen-goods watchlist: CSV import and the alerts raised at the counter."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, status

from recommerce.store.api.deps import NodeDep, StaffDep
from recommerce.store.api.schemas import AlertOut, ImportResult
from recommerce.store.services import watchlist as watchlist_service

router = APIRouter(prefix="/api/v1/watchlist", tags=["watchlist"])

MAX_CSV_BYTES = 20_000_000


@router.post(
    "/import",
    response_model=ImportResult,
    summary="Import serials/IMEIs reported stolen (CSV with a 'serial' or 'imei' column)",
)
def import_csv(
    node: NodeDep,
    staff: StaffDep,
    csv_text: Annotated[
        str, Body(media_type="text/csv", max_length=MAX_CSV_BYTES, description="the CSV file")
    ],
    source: Annotated[str, Query(min_length=1, max_length=200)] = "import",
) -> ImportResult:
    return ImportResult(
        imported=watchlist_service.import_watchlist(node, staff, csv_text, source=source)
    )


@router.get("/alerts", response_model=list[AlertOut], summary="Watchlist matches at the counter")
def alerts(node: NodeDep, staff: StaffDep, open_only: bool = True) -> list[AlertOut]:
    return [AlertOut(**a) for a in watchlist_service.list_alerts(node, staff, open_only=open_only)]


@router.post(
    "/alerts/{alert_id}/acknowledge",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="The manager has dealt with the alert",
)
def acknowledge(alert_id: str, node: NodeDep, staff: StaffDep) -> None:
    watchlist_service.acknowledge_alert(node, staff, alert_id)
