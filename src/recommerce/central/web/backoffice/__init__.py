"""Head office's back office: dashboards, sync health, catalogue, argus, orders, conflicts."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
