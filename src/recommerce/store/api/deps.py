"""Typed dependencies: the store node and the staff member making the request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from recommerce.errors import DomainError, ErrorCode
from recommerce.staff.model import StaffMember
from recommerce.store.bootstrap import StoreNode
from recommerce.store.services.staff import staff_for_token

SESSION_COOKIE = "recommerce_session"


async def get_node(request: Request) -> StoreNode:  # async: no thread hop for an attribute
    node: StoreNode = request.app.state.node
    return node


NodeDep = Annotated[StoreNode, Depends(get_node)]


# Declares the bearer scheme in OpenAPI (the "Authorize" button of /docs); the check is ours.
bearer_scheme = HTTPBearer(auto_error=False, description="Token from POST /api/v1/auth/token")


def request_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


def _lookup(node: StoreNode, token: str) -> StaffMember | None:
    now = node.clock.now()
    with node.reading() as conn:
        found = staff_for_token(conn, token, at=now)
    if found is None:
        return None
    member, expires = found
    node.tokens.put(token, member, now=now, expires=expires)
    return member


async def current_staff(
    request: Request,
    node: NodeDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None,
) -> StaffMember:
    token = request_token(request)
    member = None
    if token:
        member = node.tokens.get(token, node.clock.now())
        if member is None:
            member = await run_in_threadpool(_lookup, node, token)
    if member is None:
        raise DomainError(
            "log in first: send 'Authorization: Bearer <token>' from POST /api/v1/auth/token",
            code=ErrorCode.NOT_AUTHENTICATED,
        )
    return member


StaffDep = Annotated[StaffMember, Depends(current_staff)]
