"""The police register: consultation (logged, with a reason), corrections and exports."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from recommerce.registers.export import to_csv, to_pdf
from recommerce.registers.police import RegisterBook
from recommerce.staff.model import Permission
from recommerce.store.api.deps import NodeDep, StaffDep
from recommerce.store.api.schemas import CorrectionIn, RegisterEntryOut
from recommerce.store.services import register as register_service
from recommerce.store.services.register import RegisterQuery

router = APIRouter(prefix="/api/v1/police-register", tags=["police register"])

Reason = Annotated[
    str,
    Query(
        min_length=1,
        max_length=300,
        description="Why the register is consulted (logged with who and when; rule A.5)",
    ),
]
Short = Annotated[str | None, Query(max_length=100)]


def register_query(
    reason: Reason,
    book: RegisterBook | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    serial: Short = None,
    seller: Short = None,
) -> RegisterQuery:
    """The selection every consultation and export shares: dates are the store's local days."""
    return RegisterQuery(
        reason=reason, book=book, date_from=date_from, date_to=date_to, serial=serial, seller=seller
    )


QueryDep = Annotated[RegisterQuery, Depends(register_query)]


@router.get("", response_model=list[RegisterEntryOut], summary="Search the register")
def search(
    node: NodeDep,
    staff: StaffDep,
    query: QueryDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[RegisterEntryOut]:
    entries = register_service.consult(node, staff, replace(query, limit=limit, offset=offset))
    return [RegisterEntryOut.of(e) for e in entries]


@router.get(
    "/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="Export for the police, as CSV",
)
def export_csv(node: NodeDep, staff: StaffDep, query: QueryDep) -> Response:
    entries = register_service.consult(node, staff, query, action="export_csv")
    return Response(
        to_csv(entries, local_tz=node.settings.zone),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="registre-de-police.csv"'},
    )


@router.get(
    "/export.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="Export for the police, as a printable PDF",
)
def export_pdf(node: NodeDep, staff: StaffDep, query: QueryDep) -> Response:
    entries = register_service.consult(node, staff, query, action="export_pdf")
    selection = ", ".join(f"{k}={v}" for k, v in query.as_json().items() if v) or "tout"
    settings = node.settings
    pdf = to_pdf(
        entries,
        store_label=f"{settings.store_name} ({settings.store_number:03d}, {settings.store_city})",
        period=selection,
        generated_at=node.clock.now(),
        generated_by=staff.full_name,
        local_tz=settings.zone,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="registre-de-police.pdf"'},
    )


@router.get("/{book}/{number}", response_model=RegisterEntryOut, summary="One entry")
def get_entry(
    book: RegisterBook,
    number: Annotated[int, Path(ge=1, le=2**62)],
    node: NodeDep,
    staff: StaffDep,
    reason: Reason,
) -> RegisterEntryOut:
    return RegisterEntryOut.of(register_service.view_entry(node, staff, book, number, reason))


@router.post(
    "/{book}/{number}/corrections",
    response_model=RegisterEntryOut,
    status_code=status.HTTP_201_CREATED,
    summary="Correct an entry: a new entry linked to the original, which stays unchanged",
)
def correct(
    book: RegisterBook,
    number: Annotated[int, Path(ge=1, le=2**62)],
    body: CorrectionIn,
    node: NodeDep,
    staff: StaffDep,
) -> RegisterEntryOut:
    staff.require(Permission.CORRECT_REGISTER)  # before reading anything of the entry
    with node.uow() as uow:
        original = uow.register.get(book, number)
    objects = body.corrected_objects(original.objects) if original else None
    entry = register_service.correct_entry(
        node,
        staff,
        book,
        number,
        reason=body.reason,
        seller=body.seller.to_domain() if body.seller else None,
        objects=objects,
    )
    return RegisterEntryOut.of(entry)
