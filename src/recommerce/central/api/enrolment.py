"""A store exchanges its one-time enrolment code for its own sync credential."""

from __future__ import annotations

from fastapi import APIRouter, status

from recommerce.central.api.deps import CentralDep, ProtocolDep
from recommerce.central.api.schemas import EnrolIn, EnrolOut
from recommerce.central.services.stores import enrol

router = APIRouter(prefix="/api/v1/sync", tags=["sync"])


@router.post(
    "/enrol",
    response_model=EnrolOut,
    status_code=status.HTTP_201_CREATED,
    summary="Enrol a store: its one-time code for its own credential",
)
def enrol_store(body: EnrolIn, central: CentralDep, _protocol: ProtocolDep) -> EnrolOut:
    with central.writing() as conn:
        credential = enrol(conn, body.store_number, body.code, at=central.clock.now())
    return EnrolOut(store_number=body.store_number, credential=credential)
