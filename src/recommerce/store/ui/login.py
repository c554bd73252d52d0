"""Logging in and out of the store's screens, and the home page with the menu."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from recommerce.errors import DomainError
from recommerce.store.api.deps import SESSION_COOKIE, NodeDep, request_token
from recommerce.store.services import staff as staff_service
from recommerce.store.ui.pages import PageStaff, page
from recommerce.web.screens import safe_next

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    return safe_next(target, within="/", default="/")


@router.get("/", response_class=HTMLResponse)
def home(request: Request, node: NodeDep, staff: PageStaff) -> Response:
    return page(request, node, staff, "home.html")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, node: NodeDep, next: str | None = None) -> Response:
    return page(request, node, None, "login.html", {"next": _safe_next(next)})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    node: NodeDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    try:
        with node.uow() as uow:
            _, token, _ = staff_service.log_in(
                uow.conn,
                username,
                password,
                kind="session",
                at=node.clock.now(),
                ttl=timedelta(hours=node.settings.token_ttl_hours),
            )
            uow.commit()
    except DomainError as exc:
        return page(
            request,
            node,
            None,
            "login.html",
            {"error": exc, "next": _safe_next(next)},
            status_code=401,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=node.settings.environment == "production",
        max_age=node.settings.token_ttl_hours * 3600,
    )
    return response


@router.post("/logout")
def logout(request: Request, node: NodeDep) -> Response:
    token = request_token(request)
    if token:
        with node.uow() as uow:
            staff_service.revoke_token(uow.conn, token)
            node.tokens.forget(token)
            uow.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
