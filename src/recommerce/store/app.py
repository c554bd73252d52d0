"""The store node's FastAPI application."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from recommerce.store.api import (
    auth,
    catalog,
    closings,
    items,
    markdowns,
    offer_overrides,
    online,
    purchases,
    register,
    sessions,
    sync,
    till,
    transfers,
    watchlist,
)
from recommerce.store.bootstrap import StoreNode, bootstrap
from recommerce.store.sync.metrics import install_sync_metrics
from recommerce.store.sync.worker import HttpFactory, start_worker
from recommerce.store.ui import SCREENS
from recommerce.web import problems
from recommerce.web.i18n import STATIC_DIR
from recommerce.web.metrics import install_metrics
from recommerce.web.middleware import RefuseNulInUrl


def create_app(
    node: StoreNode | None = None, *, central_http: HttpFactory | None = None
) -> FastAPI:
    node = node or bootstrap()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The sync worker runs beside the API while the store is enrolled (docs/sync-protocol.md).
        worker = start_worker(node, central_http, push_errors=app.state.sync_push_errors)
        # Everything loaded at start (modules, the app, its routes) lives as long as the
        # process: out of the garbage collector's passes, which would otherwise walk it again
        # and again while the tills sell; and fewer passes (a sale allocates thousands of
        # short-lived objects, freed by reference counting, not by the collector).
        gc.freeze()
        gc.set_threshold(20_000, 50, 100)
        yield
        if worker is not None:
            worker.stop()

    app = FastAPI(
        lifespan=lifespan,
        title=f"recommerce store node {node.settings.store_number:03d}",
        version="1",
        description=(
            "The server of one store: buying from the public, item labels, stock and the "
            "police register. Errors are RFC 9457 problem+json with a stable `code` and the "
            "`field` at fault. Amounts are integer cents."
        ),
    )
    app.state.node = node
    problems.install(app)
    app.add_middleware(RefuseNulInUrl)
    # The till first: routes are matched in order, and a sale is the most frequent request.
    routers = (
        till,
        auth,
        catalog,
        purchases,
        offer_overrides,
        items,
        online,
        markdowns,
        transfers,
        sessions,
        closings,
        register,
        watchlist,
    )
    for module in routers:
        app.include_router(module.router)
    app.include_router(sync.router)
    for screen in SCREENS:
        app.include_router(screen.router)
    app.mount("/assets", StaticFiles(directory=STATIC_DIR), name="assets")
    app.state.sync_push_errors = install_sync_metrics(install_metrics(app), node)

    @app.get("/healthz", tags=["operations"], summary="Liveness and database check")
    def healthz() -> dict[str, str | int]:
        with node.reading() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "store_number": node.settings.store_number}

    return app
