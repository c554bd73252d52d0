"""A purchase from the public: the command the counter sends, and what it becomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from recommerce.buyback.payment import Payment
from recommerce.buyback.seller import SellerIdentity
from recommerce.catalog.model import Grade
from recommerce.inventory.model import VatRegime
from recommerce.money import Money
from recommerce.staff.model import Role


@dataclass(frozen=True, slots=True)
class PurchaseLine:
    """One object the seller brings, with the facts the buyer recorded and the agreed price."""

    article_id: str
    grade: Grade
    agreed_price: Money
    asking_price: Money | None = None  # resale price; the quote's when not given
    serial_number: str | None = None
    imei: str | None = None
    accessories: tuple[str, ...] = ()
    description: str = ""
    vat_regime: VatRegime = VatRegime.MARGIN
    weight_grams: str | None = None  # precious metals only
    fineness: int | None = None  # precious metals only, in thousandths (750 = 18 carats)
    override_reason: str | None = None  # why the agreed price is above the argus' offer


@dataclass(frozen=True, slots=True)
class RecordPurchase:
    seller: SellerIdentity
    payment: Payment
    lines: tuple[PurchaseLine, ...]
    staff_id: str
    # The staff member's role sets how far above the argus' offer they may pay (buyback.offer).
    staff_role: Role = Role.BUYER
    group_lots: bool = True  # put objects of 60 EUR or less in one register lot


@dataclass(frozen=True, slots=True)
class Purchase:
    id: str
    store_number: int
    occurred_at: datetime
    seller: SellerIdentity
    seller_key: str  # stable pseudonymous key of the seller's identity document
    payment: Payment
    total: Money
    staff_id: str
    item_ids: tuple[str, ...] = field(default=())
    register_numbers: tuple[tuple[str, int], ...] = field(default=())
