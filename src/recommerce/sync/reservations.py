"""The conversation between central and a store about an online order (architecture.md
section 3), in both directions of the sync protocol.

Down the store's feed: `ReservationRequested` (reserve these items for this order, or say why
not), `OrderConfirmed` (the customer has paid: prepare it, hand it over) and
`ReservationCancelled` (the order ended: put back on the shelf what you reserved). A store
hands over only an order central confirmed paid.
Up the store's outbox: `ReservationAnswered` (RESERVED or REJECTED, with the reasons),
`ReservationReleased` (the items are back in stock) and `OnlineOrderUpdated` (prepared for
collection, shipped with its tracking number, collected; the sale ticket of a fulfilled order
travels as its own `TicketValidated`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from recommerce.sync.feed_events import PayloadError

# downstream (feed)
RESERVATION_REQUESTED = "ReservationRequested"
RESERVATION_CANCELLED = "ReservationCancelled"
ORDER_CONFIRMED = "OrderConfirmed"
# upstream (outbox)
RESERVATION_ANSWERED = "ReservationAnswered"
RESERVATION_RELEASED = "ReservationReleased"
ONLINE_ORDER_UPDATED = "OnlineOrderUpdated"
UPSTREAM_TYPES = frozenset({RESERVATION_ANSWERED, RESERVATION_RELEASED, ONLINE_ORDER_UPDATED})


class Answer(StrEnum):
    RESERVED = "reserved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class RequestedItem:
    item_id: str
    label_code: str
    title: str
    price_cents: int


@dataclass(frozen=True, slots=True)
class ReservationRequest:
    order_id: str
    order_number: str
    fulfilment: str  # collect | ship
    customer_name: str
    items: tuple[RequestedItem, ...]
    total_cents: int


def reservation_requested(request: ReservationRequest) -> dict[str, Any]:
    return {
        "order_id": request.order_id,
        "order_number": request.order_number,
        "fulfilment": request.fulfilment,
        "customer_name": request.customer_name,
        "total_cents": request.total_cents,
        "items": [
            {
                "item_id": i.item_id,
                "label_code": i.label_code,
                "title": i.title,
                "price_cents": i.price_cents,
            }
            for i in request.items
        ],
    }


def reservation_request_from_payload(payload: Mapping[str, Any]) -> ReservationRequest:
    items = _get(payload, "items", list)
    if not items:
        raise PayloadError("items: empty")
    parsed = []
    for raw in items:
        if not isinstance(raw, Mapping):
            raise PayloadError("items: expected objects")
        parsed.append(
            RequestedItem(
                item_id=_get(raw, "item_id", str),
                label_code=_get(raw, "label_code", str),
                title=_get(raw, "title", str),
                price_cents=_get(raw, "price_cents", int),
            )
        )
    return ReservationRequest(
        order_id=_get(payload, "order_id", str),
        order_number=_get(payload, "order_number", str),
        fulfilment=_get(payload, "fulfilment", str),
        customer_name=_get(payload, "customer_name", str),
        items=tuple(parsed),
        total_cents=_get(payload, "total_cents", int),
    )


def reservation_cancelled(order_id: str, order_number: str, reason: str) -> dict[str, Any]:
    return {"order_id": order_id, "order_number": order_number, "reason": reason}


def order_confirmed(order_id: str, order_number: str) -> dict[str, Any]:
    return {"order_id": order_id, "order_number": order_number}


def confirmation_from_payload(payload: Mapping[str, Any]) -> tuple[str, str]:
    """(order id, order number) of an `OrderConfirmed`."""
    return _get(payload, "order_id", str), _get(payload, "order_number", str)


def cancellation_from_payload(payload: Mapping[str, Any]) -> tuple[str, str, str]:
    """(order id, order number, reason) of a `ReservationCancelled`."""
    return (
        _get(payload, "order_id", str),
        _get(payload, "order_number", str),
        _get(payload, "reason", str),
    )


def _get(payload: Mapping[str, Any], name: str, kind: type[Any]) -> Any:
    if name not in payload:
        raise PayloadError(f"{name}: missing")
    value = payload[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise PayloadError(f"{name}: expected {kind.__name__}, got {type(value).__name__}")
    return value
