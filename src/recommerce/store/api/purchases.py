"""The buying counter: record a purchase from the public."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import func, select

from recommerce.buyback.contract import ContractObject, precious_metal_contract_pdf
from recommerce.buyback.handlers import record_purchase
from recommerce.errors import NotFound
from recommerce.inventory.model import Item
from recommerce.registers.police import EntryKind, RegisterBook
from recommerce.staff.model import Permission
from recommerce.store.api.deps import NodeDep, StaffDep
from recommerce.store.api.schemas import ItemOut, PurchaseIn, PurchaseOut, RegisterRef
from recommerce.store.db import tables as t
from recommerce.store.db.repositories import SqlPoliceRegister, item_from_row

router = APIRouter(prefix="/api/v1", tags=["buying"])


@router.post(
    "/purchases",
    response_model=PurchaseOut,
    status_code=status.HTTP_201_CREATED,
    summary="Buy objects from a member of the public",
    description=(
        "In one transaction: the purchase, its police-register entries, the items in stock "
        "with their labels, the offer overrides and the outbox event. A refused purchase "
        "writes nothing. A line agreed above the argus' buy offer needs an `override_reason` "
        "and stays within the staff member's role's bound (`offer_override_reason_missing`, "
        "`offer_override_above_bound`)."
    ),
)
def create_purchase(body: PurchaseIn, node: NodeDep, staff: StaffDep) -> PurchaseOut:
    staff.require(Permission.BUY)
    purchase = record_purchase(
        body.to_command(staff),
        node.uow,
        argus=node.argus,
        clock=node.clock,
        keys=node.vault,
        policy=node.policy,
    )
    return get_purchase(purchase.id, node, staff)


@router.get(
    "/purchases/{purchase_id}/contract.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="The written contract and withdrawal form of a precious-metals purchase",
)
def precious_metal_contract(purchase_id: str, node: NodeDep, staff: StaffDep) -> Response:
    staff.require(Permission.BUY)
    with node.reading() as conn:
        numbers = (
            conn.execute(
                select(t.police_register.c.number)
                .where(
                    t.police_register.c.purchase_id == purchase_id,
                    t.police_register.c.book == RegisterBook.PRECIOUS_METALS.value,
                    t.police_register.c.kind == EntryKind.ACQUISITION.value,
                )
                .order_by(t.police_register.c.number)
            )
            .scalars()
            .all()
        )
        entries = [
            SqlPoliceRegister(conn, node.vault).get(RegisterBook.PRECIOUS_METALS, n)
            for n in numbers
        ]
        deadline = conn.execute(
            select(func.max(t.items.c.resale_blocked_until)).where(
                t.items.c.purchase_id == purchase_id
            )
        ).scalar_one()
    found = [e for e in entries if e is not None]
    if not found or deadline is None:
        raise NotFound(
            f"purchase {purchase_id!r} has no precious metals, so no contract",
            field="purchase_id",
        )
    settings = node.settings
    pdf = precious_metal_contract_pdf(
        store_label=f"{settings.store_name} (magasin {settings.store_number:03d})",
        store_address=settings.store_address,
        purchase_id=purchase_id,
        occurred_at=found[0].recorded_at,
        seller=found[0].seller,
        objects=[
            ContractObject(
                label_code=o.label_code,
                description=f"{o.characteristics}. {o.description}".strip(". "),
                weight_grams=o.weight_grams or "",
                fineness=o.fineness or 0,
                price=o.price,
            )
            for e in found
            for o in e.objects
        ],
        payment_summary=found[0].payment_summary,
        withdrawal_deadline=deadline,
        register_numbers=[e.number for e in found],
        local_tz=settings.zone,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="contrat-{purchase_id}.pdf"'},
    )


@router.get("/purchases/{purchase_id}", response_model=PurchaseOut)
def get_purchase(purchase_id: str, node: NodeDep, staff: StaffDep) -> PurchaseOut:
    staff.require(Permission.BUY)
    with node.reading() as conn:
        row = conn.execute(select(t.purchases).where(t.purchases.c.id == purchase_id)).first()
        if row is None:
            raise NotFound(f"no purchase {purchase_id!r}", field="purchase_id")
        items: list[Item] = [
            item_from_row(r._mapping)
            for r in conn.execute(
                select(t.items)
                .where(t.items.c.purchase_id == purchase_id)
                .order_by(t.items.c.label_code)
            )
        ]
        entries = conn.execute(
            select(t.police_register.c.book, t.police_register.c.number)
            .where(t.police_register.c.purchase_id == purchase_id)
            .order_by(t.police_register.c.book, t.police_register.c.number)
        ).all()
    return PurchaseOut(
        id=row.id,
        store_number=row.store_number,
        occurred_at=row.occurred_at,
        seller_name=row.seller_name,
        payment_method=row.payment_method,
        total_cents=row.total_cents,
        staff_id=row.created_by,
        register_entries=[RegisterRef(book=e.book, number=e.number) for e in entries],
        items=[ItemOut.of(i) for i in items],
    )
