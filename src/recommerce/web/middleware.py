"""Plain ASGI middleware (cheaper than Starlette's BaseHTTPMiddleware on every request)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recommerce.errors import ErrorCode
from recommerce.web.problems import problem


class RefuseNulInUrl:
    """A NUL character in a path or query parameter is never a real value (and databases
    refuse to store one): answer with a problem before any handler runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path") or b""
            query = scope.get("query_string") or b""
            if b"%00" in raw or b"%00" in query or "\x00" in scope.get("path", ""):
                response = problem(
                    422,
                    ErrorCode.INVALID_INPUT.value,
                    "the address contains a NUL character",
                    field="url",
                    instance=scope.get("path", ""),
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class Metrics:
    """Counts requests and their latency per route template, for Prometheus."""

    def __init__(self, app: ASGIApp, *, requests: Counter, latency: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope.get("method", "")
            self.requests.labels(method, route, str(status["code"])).inc()
            self.latency.labels(method, route).observe(time.perf_counter() - started)
