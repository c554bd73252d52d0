"""Items: one physical object each, with a status lifecycle enforced in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from recommerce.catalog.model import Grade
from recommerce.errors import DomainError, ErrorCode
from recommerce.money import Money


class ItemStatus(StrEnum):
    IN_STOCK = "in_stock"  # on the shelf, can be sold at the till or reserved online
    RESERVED = "reserved"  # locked by the owning store for an online order
    SOLD = "sold"  # sold at the till or online
    IN_TRANSIT = "in_transit"  # moving between two stores; owned by neither till
    TO_REPAIR = "to_repair"  # off the shelf until repaired (e.g. returned faulty)
    SCRAPPED = "scrapped"  # destroyed or recycled; final
    WITHDRAWN = "withdrawn"  # given back to the seller (withdrawal period, deposit); final


class VatRegime(StrEnum):
    # Bought from an individual: VAT on the margin only (CGI art. 297 A).
    MARGIN = "margin"
    # Bought on an invoice with deductible VAT: normal VAT on the full price.
    NORMAL = "normal"


class OffShelf(StrEnum):
    """Why an item may not leave the shelf (sold at the till, sent to another store)."""

    RESERVED = "reserved"  # an online order holds it
    SOLD = "sold"
    NOT_IN_STOCK = "not_in_stock"  # in transit, to repair, scrapped, given back
    WITHDRAWAL_PERIOD = "withdrawal_period"  # its seller may still take it back (rule A.8)


# The allowed moves of an item, as data: the only place that says what may follow what.
ALLOWED_TRANSITIONS: dict[ItemStatus, frozenset[ItemStatus]] = {
    ItemStatus.IN_STOCK: frozenset(
        {
            ItemStatus.RESERVED,
            ItemStatus.SOLD,
            ItemStatus.IN_TRANSIT,
            ItemStatus.TO_REPAIR,
            ItemStatus.SCRAPPED,
            ItemStatus.WITHDRAWN,
        }
    ),
    ItemStatus.RESERVED: frozenset({ItemStatus.IN_STOCK, ItemStatus.SOLD}),
    ItemStatus.SOLD: frozenset({ItemStatus.IN_STOCK, ItemStatus.TO_REPAIR}),  # a return
    ItemStatus.IN_TRANSIT: frozenset({ItemStatus.IN_STOCK}),
    ItemStatus.TO_REPAIR: frozenset({ItemStatus.IN_STOCK, ItemStatus.SCRAPPED}),
    ItemStatus.SCRAPPED: frozenset(),
    ItemStatus.WITHDRAWN: frozenset(),
}


@dataclass(slots=True)
class Item:
    """One physical object in the chain's custody; the unit of stock."""

    id: str
    label_code: str
    store_number: int
    article_id: str
    grade: Grade
    purchase_id: str
    purchase_price: Money
    asking_price: Money
    vat_regime: VatRegime
    register_number: int  # order number of its police-register entry (rule A.3)
    register_book: str  # which register holds that entry: general or precious_metals
    created_at: datetime
    created_by: str
    status: ItemStatus = ItemStatus.IN_STOCK
    serials: tuple[str, ...] = ()
    accessories: tuple[str, ...] = ()
    description: str = ""
    # Precious metals may not be resold or melted before the withdrawal period ends (rule A.8).
    resale_blocked_until: datetime | None = None
    weight_grams: str | None = None
    fineness: int | None = None
    reserved_for: str | None = None  # the online order holding it while RESERVED
    sold_on: str | None = None  # the ticket that sold it while SOLD
    history: list[tuple[ItemStatus, ItemStatus]] = field(default_factory=list)

    def off_shelf(self, now: datetime) -> tuple[OffShelf, dict[str, str | None]] | None:
        """Why the item may not leave the shelf at `now`, with what says which (the order that
        holds it, the ticket that sold it, the end of the withdrawal period); None when it
        may."""
        if self.status is ItemStatus.RESERVED:
            return OffShelf.RESERVED, {"order": self.reserved_for}
        if self.status is ItemStatus.SOLD:
            return OffShelf.SOLD, {"ticket": self.sold_on}
        if self.status is not ItemStatus.IN_STOCK:
            return OffShelf.NOT_IN_STOCK, {}
        if self.resale_blocked_until is not None and self.resale_blocked_until > now:
            # Code pénal R321-6-1 / business-rules A.8: the seller may still withdraw it.
            return OffShelf.WITHDRAWAL_PERIOD, {"until": self.resale_blocked_until.isoformat()}
        return None

    def set_status(self, new: ItemStatus) -> None:
        """Move the item to `new`, or refuse if the lifecycle does not allow it."""
        if new not in ALLOWED_TRANSITIONS[self.status]:
            raise DomainError(
                f"item {self.label_code} cannot go from {self.status.value} to {new.value}",
                code=ErrorCode.ITEM_STATUS_TRANSITION_FORBIDDEN,
                field="status",
                current=self.status.value,
                requested=new.value,
            )
        self.history.append((self.status, new))
        self.status = new
