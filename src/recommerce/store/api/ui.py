"""Staff session login for the browser screens (the screens themselves grow on this)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from recommerce.errors import DomainError
from recommerce.store.api.deps import SESSION_COOKIE, NodeDep, current_staff, request_token
from recommerce.store.services import staff as staff_service

templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, node: NodeDep) -> Response:
    try:
        staff = await current_staff(request, node)
    except DomainError:
        return RedirectResponse("/login", status_code=303)
    return templates.TemplateResponse(
        request, "home.html", {"staff": staff, "settings": node.settings}
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, node: NodeDep) -> Response:
    return templates.TemplateResponse(
        request, "login.html", {"error": None, "settings": node.settings}
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    node: NodeDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
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
        return templates.TemplateResponse(
            request,
            "login.html",
            {"error": exc.message, "settings": node.settings},
            status_code=401,
        )
    response = RedirectResponse("/", status_code=303)
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
