"""Events written to the outbox in the business transaction; they double as the sync vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from recommerce.ids import new_id

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Event:
    """One fact that happened in a store. `seq` is assigned when it enters the outbox."""

    type: str
    occurred_at: datetime
    payload: dict[str, Any]
    event_id: str = field(default_factory=new_id)
    schema_version: int = SCHEMA_VERSION


PURCHASE_RECORDED = "PurchaseRecorded"
REGISTER_ENTRY_CORRECTED = "RegisterEntryCorrected"
ITEM_STATUS_CHANGED = "ItemStatusChanged"
PERIOD_CLOSED = "PeriodClosed"  # a daily, monthly or yearly closing of the fiscal journal
TILL_SESSION_CLOSED = "TillSessionClosed"
TICKET_VALIDATED = "TicketValidated"  # a sale or a return: items sold or back in stock
# An item published for online sale (description, price, photos) or taken off the marketplace.
ITEM_LISTING_CHANGED = "ItemListingChanged"
# An item's asking price changed after it was bought (a markdown of aging stock).
ITEM_PRICE_CHANGED = "ItemPriceChanged"
# Items sent by their owner to another store: in transit until the other store receives them
# (architecture.md section 3: ownership moves with the item).
ITEMS_TRANSFERRED = "ItemsTransferred"
# The receiving store's count of a transfer: the items it now holds, and those missing.
TRANSFER_RECEIVED = "TransferReceived"
