"""The store node's FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import text

from recommerce.store.api import (
    auth,
    catalog,
    closings,
    items,
    purchases,
    register,
    sessions,
    till,
    ui,
    watchlist,
)
from recommerce.store.bootstrap import StoreNode, bootstrap
from recommerce.web import problems
from recommerce.web.metrics import install_metrics
from recommerce.web.middleware import RefuseNulInUrl


def create_app(node: StoreNode | None = None) -> FastAPI:
    node = node or bootstrap()
    app = FastAPI(
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
    routers = (auth, catalog, purchases, items, till, sessions, closings, register, watchlist, ui)
    for module in routers:
        app.include_router(module.router)
    install_metrics(app)

    @app.get("/healthz", tags=["operations"], summary="Liveness and database check")
    def healthz() -> dict[str, str | int]:
        with node.reading() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "store_number": node.settings.store_number}

    return app
