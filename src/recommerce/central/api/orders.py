"""Online orders: checkout and the customer's order page; for head office, the orders, the
carrier's delivery, and the conflicts the ownership rule did not prevent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, EmailStr, Field, StringConstraints

from recommerce.central.api.deps import AdminDep, CentralDep, UserDep
from recommerce.central.api.schemas import Strict
from recommerce.central.bootstrap import CentralNode
from recommerce.central.db import marketplace_tables as m
from recommerce.central.services import checkout as checkout_service
from recommerce.central.services import orders as service
from recommerce.marketplace.orders import Fulfilment, OrderStatus, withdrawal_ends_on
from recommerce.marketplace.payments import CardDetails

router = APIRouter(tags=["orders"])

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
OrderNumber = Annotated[str, StringConstraints(max_length=20)]


class CustomerIn(Strict):
    name: Name
    email: EmailStr
    phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=6, max_length=40)]


class AddressIn(Strict):
    name: Name
    line1: Name
    line2: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    postcode: Annotated[str, StringConstraints(pattern=r"^\d{5}$")]
    city: Short


class CardIn(Strict):
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=12, max_length=23)]
    expiry_month: int = Field(ge=1, le=12)
    expiry_year: int = Field(ge=2000, le=2100)
    cvc: Annotated[str, StringConstraints(pattern=r"^\d{3,4}$")]


class CheckoutIn(Strict):
    items: list[Annotated[str, StringConstraints(max_length=36)]] = Field(
        min_length=1, max_length=20
    )
    customer: CustomerIn
    fulfilment: Fulfilment
    shipping_address: AddressIn | None = None
    card: CardIn = Field(description="sent to the payment provider; never stored")


class OrderLineOut(BaseModel):
    item_id: str
    title: str
    grade: str
    price_cents: int


class OrderOut(BaseModel):
    number: str
    status: OrderStatus
    fulfilment: Fulfilment
    store_number: int
    store_name: str
    store_city: str
    lines: list[OrderLineOut]
    items_cents: int
    delivery_cents: int
    total_cents: int
    payment_state: str = Field(description="authorized, captured, voided or refunded")
    refunded_cents: int
    ordered_at: datetime
    reservation_deadline: datetime
    tracking_number: str | None
    end_reason: str | None
    withdrawal_ends_on: date | None = Field(description="the last day to withdraw (L221-18)")


class CheckoutOut(BaseModel):
    orders: list[OrderOut] = Field(description="one order per store holding items of the cart")


class WithdrawalIn(Strict):
    email: EmailStr


class ConflictOut(BaseModel):
    id: str
    item_id: str
    store_number: int
    order_number: str
    store_fact: dict[str, Any]
    online_fact: dict[str, Any]
    recorded_at: datetime
    resolution: str


def order_out(central: CentralNode, number: str, *, email: str | None = None) -> OrderOut:
    with central.reading() as conn:
        row = service.order_by_number(conn, number, email=email)
        lines = service.order_lines(conn, row.id)
    delivered = (
        row.delivered_at.astimezone(service.MARKET_ZONE).date() if row.delivered_at else None
    )
    return OrderOut(
        number=row.number,
        status=OrderStatus(row.status),
        fulfilment=Fulfilment(row.fulfilment),
        store_number=row.store_number,
        store_name=row.store_name,
        store_city=row.store_city,
        lines=[
            OrderLineOut(
                item_id=line.item_id,
                title=line.title,
                grade=line.grade,
                price_cents=line.price_cents,
            )
            for line in lines
        ],
        items_cents=row.items_cents,
        delivery_cents=row.delivery_cents,
        total_cents=row.total_cents,
        payment_state=row.payment_state,
        refunded_cents=row.refunded_cents,
        ordered_at=row.ordered_at,
        reservation_deadline=row.reservation_deadline,
        tracking_number=row.tracking_number,
        end_reason=row.end_reason,
        withdrawal_ends_on=withdrawal_ends_on(delivered) if delivered else None,
    )


def _place(request: Request, central: CentralNode, body: CheckoutIn) -> CheckoutOut:
    placed = checkout_service.checkout(
        central,
        central.payments,
        checkout_service.Checkout(
            item_ids=tuple(body.items),
            customer=checkout_service.Customer(
                name=body.customer.name, email=str(body.customer.email), phone=body.customer.phone
            ),
            fulfilment=body.fulfilment,
            card=CardDetails(
                number=body.card.number,
                expiry_month=body.card.expiry_month,
                expiry_year=body.card.expiry_year,
                cvc=body.card.cvc,
            ),
            shipping_address=body.shipping_address.model_dump() if body.shipping_address else None,
        ),
    )
    request.app.state.indexer.touched(body.items)  # held now: off the search
    request.app.state.order_processor.wake()  # the first message
    return CheckoutOut(orders=[order_out(central, row.number) for row in placed])


@router.post(
    "/api/v1/marketplace/checkout",
    response_model=CheckoutOut,
    status_code=201,
    summary="Order the items of a cart: one order per store, each confirmed by its store",
    responses={
        402: {"description": "`payment_declined`: the card was refused; nothing was ordered"},
        409: {"description": "`listing_unavailable`: an item was sold or ordered meanwhile"},
    },
)
async def place_orders(request: Request, body: CheckoutIn, central: CentralDep) -> CheckoutOut:
    return await run_in_threadpool(_place, request, central, body)


@router.get(
    "/api/v1/marketplace/orders/{number}",
    response_model=OrderOut,
    summary="The customer's order, with the e-mail address it was placed with",
)
async def customer_order(
    number: OrderNumber, email: Annotated[str, Query(max_length=254)], central: CentralDep
) -> OrderOut:
    return await run_in_threadpool(lambda: order_out(central, number, email=email))


@router.post(
    "/api/v1/marketplace/orders/{number}/withdrawal",
    response_model=OrderOut,
    summary="Withdraw from a shipped order within 14 days of delivery: a full refund (L221-18)",
)
async def withdraw(
    request: Request, number: OrderNumber, body: WithdrawalIn, central: CentralDep
) -> OrderOut:
    await run_in_threadpool(service.withdraw, central, number, str(body.email))
    request.app.state.order_processor.wake()
    return await run_in_threadpool(order_out, central, number)


@router.get("/api/v1/orders", response_model=list[OrderOut], summary="Online orders (head office)")
async def list_orders(
    central: CentralDep,
    _user: UserDep,
    status: OrderStatus | None = None,
    store: Annotated[int | None, Query(ge=0, le=999)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[OrderOut]:
    def read() -> list[OrderOut]:
        query = m.orders.select().order_by(m.orders.c.ordered_at.desc()).limit(limit)
        if status is not None:
            query = query.where(m.orders.c.status == status.value)
        if store is not None:
            query = query.where(m.orders.c.store_number == store)
        with central.reading() as conn:
            numbers = [row.number for row in conn.execute(query)]
        return [order_out(central, number) for number in numbers]

    return await run_in_threadpool(read)


@router.post(
    "/api/v1/orders/{number}/delivered",
    response_model=OrderOut,
    summary="The carrier delivered the parcel (head office): the withdrawal period starts",
)
async def delivered(number: OrderNumber, central: CentralDep, _admin: AdminDep) -> OrderOut:
    await run_in_threadpool(service.record_delivery, central, number)
    return await run_in_threadpool(order_out, central, number)


@router.get(
    "/api/v1/conflicts",
    response_model=list[ConflictOut],
    summary="Items sold at a till while reserved for an online order (head office)",
)
async def conflicts(
    central: CentralDep, _user: UserDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[ConflictOut]:
    def read() -> list[ConflictOut]:
        with central.reading() as conn:
            rows = conn.execute(
                m.conflicts.select()
                .add_columns(m.orders.c.number.label("order_number"))
                .join(m.orders, m.orders.c.id == m.conflicts.c.order_id)
                .order_by(m.conflicts.c.recorded_at.desc())
                .limit(limit)
            ).all()
        return [ConflictOut.model_validate(row._mapping) for row in rows]

    return await run_in_threadpool(read)
