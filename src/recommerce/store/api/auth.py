"""Staff login (bearer tokens for the API) and staff accounts."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, status

from recommerce.staff.model import Permission
from recommerce.store.api.deps import NodeDep, StaffDep, request_token
from recommerce.store.api.schemas import StaffIn, StaffOut, TokenOut, TokenRequest
from recommerce.store.services import staff as staff_service

router = APIRouter(prefix="/api/v1", tags=["staff"])


@router.post("/auth/token", response_model=TokenOut, summary="Log in and get a bearer token")
def login(body: TokenRequest, node: NodeDep) -> TokenOut:
    with node.uow() as uow:
        _, token, expires = staff_service.log_in(
            uow.conn,
            body.username,
            body.password,
            kind="bearer",
            at=node.clock.now(),
            ttl=timedelta(hours=node.settings.token_ttl_hours),
        )
        uow.commit()
    return TokenOut(access_token=token, expires_at=expires)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke this token")
def logout(request: Request, node: NodeDep, staff: StaffDep) -> None:
    token = request_token(request)
    if token:
        with node.uow() as uow:
            staff_service.revoke_token(uow.conn, token)
            node.tokens.forget(token)
            uow.commit()


@router.get("/auth/me", response_model=StaffOut)
def me(staff: StaffDep) -> StaffOut:
    return StaffOut.of(staff)


@router.get("/staff", response_model=list[StaffOut])
def list_staff(node: NodeDep, staff: StaffDep) -> list[StaffOut]:
    staff.require(Permission.MANAGE_STAFF)
    with node.uow() as uow:
        return [StaffOut.of(m) for m in staff_service.list_staff(uow.conn)]


@router.post("/staff", response_model=StaffOut, status_code=status.HTTP_201_CREATED)
def create_staff(body: StaffIn, node: NodeDep, staff: StaffDep) -> StaffOut:
    staff.require(Permission.MANAGE_STAFF)
    with node.uow() as uow:
        member = staff_service.create_staff(
            uow.conn,
            username=body.username,
            full_name=body.full_name,
            role=body.role,
            password=body.password,
            at=node.clock.now(),
            created_by=staff.id,
        )
        uow.commit()
    return StaffOut.of(member)
