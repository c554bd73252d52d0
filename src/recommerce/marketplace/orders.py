"""Online orders: the life of an order, from checkout to fulfilment or refund.

The store that holds an item is its only owner (architecture.md section 3): an online order is a
request to that store. A cart is split into one order per store at checkout; each order asks
its store to reserve its items, and the payment is captured only once the store has answered
RESERVED. No answer before the deadline cancels the order cleanly (the authorisation is
voided, nothing is charged). Every order ends fulfilled (collected, or shipped and kept), or
cancelled with its payment voided or refunded (architecture.md section 5, invariant 6).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from recommerce.errors import DomainError, ErrorCode


class Fulfilment(StrEnum):
    COLLECT = "collect"  # click and collect at the store that holds the items
    SHIP = "ship"  # the store ships the parcel with a tracking number


class OrderStatus(StrEnum):
    AWAITING_STORE = "awaiting_store"  # reservation asked; the payment is only authorised
    RESERVED = "reserved"  # the store reserved the items; the payment is being captured
    REJECTED = "rejected"  # the store could not reserve them; the payment is being voided
    CONFIRMED = "confirmed"  # paid; the store prepares it
    READY_FOR_COLLECTION = "ready_for_collection"
    SHIPPED = "shipped"
    COLLECTED = "collected"  # fulfilled: the customer took the items at the store
    DELIVERED = "delivered"  # fulfilled, shipped: the carrier delivered the parcel
    CANCELLED = "cancelled"  # ended unpaid or refunded, the reason says why
    WITHDRAWN = "withdrawn"  # the customer withdrew from a distance sale: refunded (rule E.22)


# The allowed moves of an order, as data: the only place that says what may follow what.
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.AWAITING_STORE: frozenset(
        {OrderStatus.RESERVED, OrderStatus.REJECTED, OrderStatus.CANCELLED}
    ),
    OrderStatus.RESERVED: frozenset({OrderStatus.CONFIRMED, OrderStatus.CANCELLED}),
    OrderStatus.REJECTED: frozenset({OrderStatus.CANCELLED}),
    OrderStatus.CONFIRMED: frozenset(
        {
            OrderStatus.READY_FOR_COLLECTION,
            OrderStatus.SHIPPED,
            OrderStatus.COLLECTED,
            OrderStatus.CANCELLED,
        }
    ),
    OrderStatus.READY_FOR_COLLECTION: frozenset({OrderStatus.COLLECTED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED, OrderStatus.WITHDRAWN}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.WITHDRAWN}),
    OrderStatus.COLLECTED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.WITHDRAWN: frozenset(),
}

# Orders still holding their items at central: no other order may take them meanwhile.
OPEN_STATUSES = frozenset(
    {
        OrderStatus.AWAITING_STORE,
        OrderStatus.RESERVED,
        OrderStatus.CONFIRMED,
        OrderStatus.READY_FOR_COLLECTION,
    }
)
FINAL_STATUSES = frozenset(s for s, nexts in ORDER_TRANSITIONS.items() if not nexts)

# Code de la consommation L221-18: 14 days to withdraw from a distance sale, from delivery.
WITHDRAWAL_DAYS = 14
# L221-24: the refund includes the standard delivery cost, within 14 days of the withdrawal.
STANDARD_DELIVERY_CENTS = 690


def check_move(current: OrderStatus, new: OrderStatus, *, order_number: str) -> None:
    """Refuse a move the order's life does not allow, saying where the order is."""
    if new not in ORDER_TRANSITIONS[current]:
        raise DomainError(
            f"order {order_number} is {current.value}: it cannot become {new.value}",
            code=ErrorCode.ORDER_STATUS_TRANSITION_FORBIDDEN,
            current=current.value,
            requested=new.value,
        )


def delivery_cents(fulfilment: Fulfilment) -> int:
    return STANDARD_DELIVERY_CENTS if fulfilment is Fulfilment.SHIP else 0


def withdrawal_ends_on(delivered_on: date) -> date:
    """The last day the customer may withdraw (L221-18: 14 days from delivery)."""
    return delivered_on + timedelta(days=WITHDRAWAL_DAYS)


def check_withdrawal(
    *, fulfilment: Fulfilment, status: OrderStatus, delivered_on: date | None, today: date
) -> None:
    """A distance sale may be withdrawn within 14 days of delivery (rule E.22); click and
    collect paid online is collected in the shop and is not a distance sale here."""
    if fulfilment is not Fulfilment.SHIP:
        raise DomainError(
            "an order collected at the store is a shop sale: ask the store for a return",
            code=ErrorCode.WITHDRAWAL_NOT_ALLOWED,
        )
    if status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        raise DomainError(
            f"the order is {status.value}: only a shipped order can be withdrawn",
            code=ErrorCode.WITHDRAWAL_NOT_ALLOWED,
        )
    if delivered_on is not None and today > withdrawal_ends_on(delivered_on):
        raise DomainError(
            f"the 14-day withdrawal period ended on {withdrawal_ends_on(delivered_on):%d/%m/%Y}",
            code=ErrorCode.WITHDRAWAL_NOT_ALLOWED,
            ended_on=withdrawal_ends_on(delivered_on).isoformat(),
        )


def withdrawal_refund_cents(items_cents: int, delivery: int) -> int:
    """Everything the customer paid, standard delivery included (L221-24)."""
    return items_cents + delivery


def reservation_deadline(ordered_at: datetime, timeout: timedelta) -> datetime:
    """When an order whose store has not answered is cancelled."""
    return ordered_at + timeout
