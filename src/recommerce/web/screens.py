"""What the staff screens of both apps share besides their language: the log-in redirect,
htmx's partial requests, and the reader's language set for the whole request."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import HTTPException, Request

from recommerce.web.i18n import locale_of, set_locale


def is_partial(request: Request) -> bool:
    """An htmx request that wants a fragment, not the whole page."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


class LoginRequired(HTTPException):
    """A page asked for without a session: to the log-in page at `login`, then back. An htmx
    request (a form sent once the session has lapsed) is told to load the log-in page whole,
    rather than have it swapped into the page."""

    def __init__(self, request: Request, login: str) -> None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = login if target == "/" else f"{login}?next={quote(target)}"
        if request.headers.get("HX-Request") == "true":
            super().__init__(status_code=401, headers={"HX-Redirect": location})
        else:
            super().__init__(status_code=303, headers={"Location": location})


def safe_next(target: str | None, *, within: str, default: str) -> str:
    """Back to the page that asked for a log-in: a path of these screens (under `within`)
    only, never another site."""
    if target and target.startswith(within) and not target.startswith("//"):
        return target
    return default


async def reader_locale(request: Request) -> None:
    """A dependency: the request runs in its reader's language from the start, so that what is
    written outside a template (an export's headings) is in it too. Async, so that the
    language set here is the one the endpoint's worker thread inherits."""
    set_locale(locale_of(request))
