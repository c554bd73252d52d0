"""Typed dependencies: central, the head-office user and the store making a sync request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from recommerce.central.bootstrap import CentralNode
from recommerce.central.services.stores import store_for_credential
from recommerce.central.services.users import UserRole, user_for_token
from recommerce.errors import DomainError, ErrorCode, Forbidden
from recommerce.sync.protocol import PROTOCOL_HEADER, SUPPORTED_PROTOCOLS


async def get_central(request: Request) -> CentralNode:
    central: CentralNode = request.app.state.central
    return central


CentralDep = Annotated[CentralNode, Depends(get_central)]

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A user's token (POST /api/v1/auth/token) or a store's sync credential",
)


def _bearer(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise DomainError("send 'Authorization: Bearer <token>'", code=ErrorCode.NOT_AUTHENTICATED)
    return value.strip()


def _user(central: CentralNode, token: str) -> dict[str, str] | None:
    with central.reading() as conn:
        return user_for_token(conn, token, at=central.clock.now())


async def current_user(
    request: Request,
    central: CentralDep,
    _bearer_doc: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None,
) -> dict[str, str]:
    user = await run_in_threadpool(_user, central, _bearer(request))
    if user is None:
        raise DomainError(
            "log in first: the token is unknown or expired", code=ErrorCode.NOT_AUTHENTICATED
        )
    return user


UserDep = Annotated[dict[str, str], Depends(current_user)]


async def current_admin(user: UserDep) -> dict[str, str]:
    if user["role"] != UserRole.ADMIN:
        raise Forbidden("only a head-office admin may do this")
    return user


AdminDep = Annotated[dict[str, str], Depends(current_admin)]


def _store(central: CentralNode, credential: str) -> int | None:
    with central.reading() as conn:
        return store_for_credential(conn, credential)


async def calling_store(
    request: Request,
    central: CentralDep,
    store_number: Annotated[int, Path(ge=0, le=999)],
    _bearer_doc: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None,
) -> int:
    """The store named in the path, once its credential proves it is that store: a store can
    only push its own events and read its own feed."""
    number = await run_in_threadpool(_store, central, _bearer(request))
    if number is None:
        raise DomainError(
            "unknown store credential: enrol the store", code=ErrorCode.NOT_AUTHENTICATED
        )
    if number != store_number:
        raise Forbidden(f"this credential belongs to store {number}, not {store_number}")
    return number


StoreDep = Annotated[int, Depends(calling_store)]


async def protocol_version(request: Request) -> int:  # async: no thread hop to read a header
    """The sync protocol the store speaks (`Recommerce-Protocol`): central serves N and N-1,
    answers an older one 426 (the store keeps selling and retries slowly until upgraded) and
    a missing or unknown one 400."""
    supported = sorted(SUPPORTED_PROTOCOLS)
    raw = request.headers.get(PROTOCOL_HEADER, "").strip()
    version = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else None
    if version is not None and version in SUPPORTED_PROTOCOLS:
        return version
    if version is not None and version < supported[0]:
        raise DomainError(
            f"sync protocol {version} is too old: central serves {supported}; upgrade the store",
            code=ErrorCode.PROTOCOL_TOO_OLD,
            supported=supported,
        )
    raise DomainError(
        f"send the header '{PROTOCOL_HEADER}' with a protocol central serves: {supported}",
        code=ErrorCode.PROTOCOL_UNKNOWN,
        supported=supported,
    )


ProtocolDep = Annotated[int, Depends(protocol_version)]
