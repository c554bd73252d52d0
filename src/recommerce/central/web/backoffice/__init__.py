"""Head office's back office: dashboards, sync health, catalogue, argus, orders, conflicts."""

from __future__ import annotations

from fastapi import APIRouter

from recommerce.central.web.backoffice import (
    argus,
    catalogue,
    conflicts,
    dashboards,
    orders,
    pages,
    sync_health,
)

router = APIRouter(include_in_schema=False)
for module in (pages, dashboards, sync_health, catalogue, argus, orders, conflicts):
    router.include_router(module.router)
