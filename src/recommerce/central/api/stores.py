"""The store registry: register a store, give it an enrolment code, list the stores."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from recommerce.central.api.deps import AdminDep, CentralDep, UserDep
from recommerce.central.api.schemas import EnrolmentCodeOut, StoreIn, StoreOut
from recommerce.central.db import tables as t
from recommerce.central.services import stores as service

router = APIRouter(prefix="/api/v1/stores", tags=["stores"])


def _out(row: object) -> StoreOut:
    return StoreOut.model_validate(row, from_attributes=True)


@router.get("", response_model=list[StoreOut], summary="Every store of the chain")
def list_stores(central: CentralDep, _user: UserDep) -> list[StoreOut]:
    with central.reading() as conn:
        rows = conn.execute(select(t.stores).order_by(t.stores.c.number)).all()
    return [_out(row) for row in rows]


@router.post(
    "", response_model=StoreOut, status_code=status.HTTP_201_CREATED, summary="Register a store"
)
def create_store(body: StoreIn, central: CentralDep, _admin: AdminDep) -> StoreOut:
    with central.writing() as conn:
        service.register_store(
            conn,
            number=body.number,
            name=body.name,
            city=body.city,
            timezone=body.timezone,
            at=central.clock.now(),
            location=(
                (body.latitude, body.longitude)
                if body.latitude is not None and body.longitude is not None
                else None
            ),
        )
        return _out(service.store_row(conn, body.number))


@router.post(
    "/{number}/enrolment-codes",
    response_model=EnrolmentCodeOut,
    status_code=status.HTTP_201_CREATED,
    summary="A one-time code with which the store enrols (`recommerce store enroll`)",
)
def create_enrolment_code(number: int, central: CentralDep, _admin: AdminDep) -> EnrolmentCodeOut:
    now = central.clock.now()
    ttl = central.settings.enrolment_code_ttl
    with central.writing() as conn:
        code = service.new_enrolment_code(conn, number, at=now, ttl=ttl)
    return EnrolmentCodeOut(store_number=number, code=code, expires_at=now + ttl)
