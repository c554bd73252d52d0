"""What every back-office screen shares: its templates, the head-office user at the keyboard,
the menu, and logging in and out.

The back office logs in with the same accounts and tokens as central's JSON API
(`recommerce.central.services.users`); the token travels in a cookie that scripts cannot read
(httponly), sent only by the back office's own pages (samesite strict, path /backoffice),
which is also what protects its forms from other sites. Both roles, admin and backoffice,
read every screen. Screens read central's tables through `central.reading()` connections
and the services; they change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from babel import Locale
from babel.dates import format_timedelta
from babel.numbers import format_decimal, format_percent
from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from recommerce.central.api.deps import CentralDep
from recommerce.central.bootstrap import CentralNode
from recommerce.central.services.orders import MARKET_ZONE
from recommerce.central.services.users import UserRole, log_in, revoke_token, user_for_token
from recommerce.errors import DomainError, NotFound
from recommerce.web.i18n import current_locale, render, staff_templates
from recommerce.web.screens import LoginRequired, is_partial, safe_next

PREFIX = "/backoffice"
SESSION_COOKIE = "recommerce_backoffice"
HOME = f"{PREFIX}/dashboard"
ZONE = MARKET_ZONE  # head office's day: the chain's, in France

templates = staff_templates(Path(__file__).resolve().parents[2] / "templates" / "backoffice")

# The menu: (path, label id, access key). Labels are translated in the template; `N_` marks
# them for extraction.
N_ = str
MENU: tuple[tuple[str, str, str], ...] = (
    (f"{PREFIX}/dashboard", N_("Dashboard"), "d"),
    (f"{PREFIX}/sync", N_("Sync health"), "y"),
    (f"{PREFIX}/catalogue", N_("Catalogue"), "c"),
    (f"{PREFIX}/argus", N_("Argus"), "a"),
    (f"{PREFIX}/orders", N_("Online orders"), "o"),
    (f"{PREFIX}/conflicts", N_("Conflicts"), "k"),
)

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class BackofficeUser:
    id: str
    username: str
    role: UserRole


@dataclass(frozen=True, slots=True)
class Pages:
    """Where a paged list stands: this page, how many pages, how many rows in all."""

    page: int
    pages: int
    total: int

    @classmethod
    def of(cls, page: int, total: int, per_page: int) -> Pages:
        return cls(page, max(1, -(-total // per_page)), total)


def percent(value: float | None) -> str:
    """A share as the reader's language writes it, to a tenth (`12,5 %` / `12.5%`); a dash
    when there is none (a margin rate without revenue)."""
    if value is None:
        return "—"
    locale = Locale.parse(current_locale())
    pattern = locale.percent_formats[None].pattern.replace("0", "0.0", 1)  # one decimal
    return str(format_percent(value, format=pattern, locale=locale))


def number(value: int | None) -> str:
    """A count as the reader's language writes it (`1 234` / `1,234`)."""
    return "—" if value is None else str(format_decimal(value, locale=current_locale()))


def duration(value: timedelta) -> str:
    """A delay, roughly, in the reader's language: `3 min`, `2 h`, `5 j`."""
    return str(format_timedelta(value, format="short", locale=current_locale()))


templates.env.filters.update(percent=percent, number=number, duration=duration)


def _user(central: CentralNode, token: str) -> BackofficeUser | None:
    with central.reading() as conn:
        found = user_for_token(conn, token, at=central.clock.now())
    if found is None or found["role"] not in set(UserRole):
        return None
    return BackofficeUser(id=found["id"], username=found["username"], role=UserRole(found["role"]))


async def page_user(request: Request, central: CentralDep) -> BackofficeUser:
    """The head-office user at the keyboard; without a session, the login page."""
    token = request.cookies.get(SESSION_COOKIE)
    user = await run_in_threadpool(_user, central, token) if token else None
    if user is None:
        raise LoginRequired(request, f"{PREFIX}/login")
    return user


PageUser = Annotated[BackofficeUser, Depends(page_user)]


def today(central: CentralNode) -> date:
    return central.clock.now().astimezone(ZONE).date()


def page(
    request: Request,
    user: BackofficeUser | None,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """A back-office screen: the template with the user and the menu."""
    return render(
        request,
        templates,
        name,
        {
            "user": user,
            "menu": MENU if user is not None else (),
            "here": request.url.path,
            "partial": is_partial(request),
            **(context or {}),
        },
        status_code=status_code,
        zone=ZONE,
    )


def not_found(request: Request, user: BackofficeUser, error: NotFound) -> Response:
    return page(request, user, "not_found.html", {"error": error}, status_code=404)


def with_query(request: Request, **changes: object) -> str:
    """This page's address with some of its query parameters changed (None: removed)."""
    params = {k: v for k, v in request.query_params.items() if k not in changes}
    params.update({k: str(v) for k, v in changes.items() if v is not None})
    return f"{request.url.path}?{urlencode(params)}" if params else request.url.path


templates.env.globals["with_query"] = with_query


# --- logging in and out -----------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    return safe_next(target, within=f"{PREFIX}/", default=HOME)


@router.get(PREFIX, response_class=HTMLResponse)
@router.get(f"{PREFIX}/", response_class=HTMLResponse)
def home(_user: PageUser) -> Response:
    return RedirectResponse(HOME, status_code=303)


@router.get(f"{PREFIX}/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return page(request, None, "login.html", {"next": _safe_next(next)})


@router.post(f"{PREFIX}/login", response_class=HTMLResponse)
def login(
    request: Request,
    central: CentralDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    try:
        with central.writing() as conn:
            token = log_in(
                conn, username, password, at=central.clock.now(), ttl=central.settings.token_ttl
            )
    except DomainError as exc:
        return page(
            request,
            None,
            "login.html",
            {"error": exc, "next": _safe_next(next), "username": username},
            status_code=401,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=central.settings.environment == "production",
        max_age=int(central.settings.token_ttl.total_seconds()),
    )
    return response


@router.post(f"{PREFIX}/logout")
def logout(request: Request, central: CentralDep) -> Response:
    """The session ends: its token is revoked (a copy of the cookie no longer opens anything)
    and the cookie dropped."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with central.writing() as conn:
            revoke_token(conn, token)
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX, httponly=True, samesite="strict")
    return response
