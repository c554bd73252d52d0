"""Central's FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from recommerce.central.api import (
    auth,
    catalog,
    configuration,
    enrolment,
    feed,
    marketplace,
    merchant_feed,
    orders,
    photos,
    store_sync,
    stores,
    sync_upstream,
)
from recommerce.central.bootstrap import CentralNode, bootstrap
from recommerce.central.services.order_processor import OrderProcessor
from recommerce.central.services.search_index import ListingIndexer
from recommerce.central.web import backoffice, storefront
from recommerce.central.web import orders as storefront_orders
from recommerce.web import problems
from recommerce.web.i18n import STATIC_DIR
from recommerce.web.metrics import install_metrics
from recommerce.web.middleware import RefuseNulInUrl


def create_app(central: CentralNode | None = None) -> FastAPI:
    central = central or bootstrap()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        indexer = ListingIndexer(central, central.listing_index)
        processor = OrderProcessor(
            central, central.payments, central.notifier, on_released=indexer.touched
        )
        app.state.indexer, app.state.order_processor = indexer, processor
        indexer.start()
        processor.start()
        try:
            yield
        finally:
            processor.stop()
            indexer.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="recommerce central",
        version="1",
        description=(
            "Head office: the store registry, the sync endpoint of the stores, the catalogue "
            "master and the read models of every store. Errors are RFC 9457 problem+json with "
            "a stable `code`. Amounts are integer cents."
        ),
    )
    app.state.central = central
    problems.install(app)
    app.add_middleware(RefuseNulInUrl)
    for module in (
        auth,
        stores,
        enrolment,
        sync_upstream,
        store_sync,
        catalog,
        configuration,
        feed,
        marketplace,
        merchant_feed,
        orders,
        photos,
    ):
        app.include_router(module.router)
    app.include_router(storefront.router)
    app.include_router(storefront_orders.router)
    app.include_router(backoffice.router)
    app.mount("/assets", StaticFiles(directory=STATIC_DIR), name="assets")
    app.state.metrics = install_metrics(app)
    app.state.sync_metrics = sync_upstream.SyncMetrics(app.state.metrics)

    @app.get("/healthz", tags=["operations"], summary="Liveness and database check")
    def healthz() -> dict[str, str]:
        with central.reading() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "service": "central"}

    return app
