"""Head-office users log in for a bearer token."""

from __future__ import annotations

from fastapi import APIRouter

from recommerce.central.api.deps import CentralDep
from recommerce.central.api.schemas import TokenOut, TokenRequest
from recommerce.central.services.users import log_in

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut, summary="Log in: a bearer token")
def token(body: TokenRequest, central: CentralDep) -> TokenOut:
    with central.writing() as conn:
        access = log_in(
            conn,
            body.username,
            body.password,
            at=central.clock.now(),
            ttl=central.settings.token_ttl,
        )
    return TokenOut(access_token=access)
