"""Head office's back office: dashboards, sync health, catalogue, argus, orders, conflicts."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from recommerce.central.web.backoffice import (
    argus,
    catalogue,
    conflicts,
    dashboards,
    orders,
    pages,
    sync_health,
)
from recommerce.web.screens import reader_locale

# Every screen runs in its reader's language, exports included.
router = APIRouter(include_in_schema=False, dependencies=[Depends(reader_locale)])
for module in (pages, dashboards, sync_health, catalogue, argus, orders, conflicts):
    router.include_router(module.router)
