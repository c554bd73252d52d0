"""Markdowns of aging stock: what is due, and a manager's approval of them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from recommerce.staff.model import Permission
from recommerce.store.api.deps import NodeDep, StaffDep
from recommerce.store.api.schemas import Strict
from recommerce.store.services import markdowns

router = APIRouter(prefix="/api/v1", tags=["stock"])


class MarkdownIn(Strict):
    labels: Annotated[
        list[Annotated[str, Field(max_length=13)]], Field(min_length=1, max_length=500)
    ]


@router.get("/markdowns", summary="Markdowns due on aging stock, from the category's sell-through")
def due(node: NodeDep, staff: StaffDep) -> list[dict[str, Any]]:
    staff.require(Permission.VIEW_STOCK)
    return [markdowns.as_dict(m) for m in markdowns.due(node)]


@router.post("/markdowns", summary="Apply the due markdowns of these items (manager)")
def apply(body: MarkdownIn, node: NodeDep, staff: StaffDep) -> list[dict[str, Any]]:
    return [markdowns.as_dict(m) for m in markdowns.apply(node, staff, body.labels)]
