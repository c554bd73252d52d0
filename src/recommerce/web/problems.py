"""RFC 9457 problem details: every error the API returns has this one shape."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from recommerce.errors import DomainError, ErrorCode

log = logging.getLogger("recommerce.api")

PROBLEM_JSON = "application/problem+json"

STATUS_OF: dict[ErrorCode, int] = {
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.ITEM_NOT_FOUND: 404,
    ErrorCode.REGISTER_ENTRY_NOT_FOUND: 404,
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.USERNAME_TAKEN: 409,
    ErrorCode.CONFLICT: 409,
    ErrorCode.ITEM_STATUS_TRANSITION_FORBIDDEN: 409,
    ErrorCode.ITEM_NOT_SELLABLE: 409,
    ErrorCode.DAY_CLOSED: 409,
    ErrorCode.TILL_SESSION: 409,
    ErrorCode.PRINTER_UNAVAILABLE: 503,
    ErrorCode.CARD_DECLINED: 402,
    ErrorCode.STORE_NOT_FOUND: 404,
    ErrorCode.ENROLMENT_CODE_INVALID: 403,
    ErrorCode.SEQ_GAP: 409,
    ErrorCode.PROTOCOL_TOO_OLD: 426,
    ErrorCode.PROTOCOL_UNKNOWN: 400,
    ErrorCode.BATCH_INVALID: 422,
    ErrorCode.FEED_CURSOR_TOO_OLD: 410,
    ErrorCode.LISTING_NOT_FOUND: 404,
    ErrorCode.LISTING_UNAVAILABLE: 409,
    ErrorCode.ORDER_NOT_FOUND: 404,
    ErrorCode.ORDER_STATUS_TRANSITION_FORBIDDEN: 409,
    ErrorCode.PAYMENT_DECLINED: 402,
    ErrorCode.WITHDRAWAL_NOT_ALLOWED: 409,
}

TITLES: dict[int, str] = {
    400: "Bad request",
    401: "Not authenticated",
    402: "Payment refused",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    426: "Upgrade required",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:recommerce:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if field is not None:
        body["field"] = field
    if instance is not None:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the validation let through; the transaction was
        # rolled back, so nothing changed.
        log.warning(
            "database refused a value on %s %s: %s", request.method, request.url.path, exc.orig
        )
        return problem(
            422,
            ErrorCode.INVALID_INPUT.value,
            "a value of the request cannot be stored",
            instance=request.url.path,
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        status = STATUS_OF.get(exc.code, 422)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return problem(
            status,
            exc.code.value,
            exc.message,
            field=exc.field,
            instance=request.url.path,
            headers=headers,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_of(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "body", "message": "invalid request"}
        return problem(
            422,
            ErrorCode.INVALID_INPUT.value,
            f"{first['field']}: {first['message']}",
            field=first["field"],
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "not_authenticated", 403: "forbidden", 404: "not_found"}.get(
            exc.status_code, "http_error"
        )
        return problem(
            exc.status_code,
            code,
            str(exc.detail),
            instance=request.url.path,
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "internal_error",
            "an unexpected error occurred; nothing was changed",
            instance=request.url.path,
        )
