"""The police register (Code pénal art. 321-7, R321-3 to R321-6-1; arrêté of 15 May 2020).

Append-only: entries are only ever added. A correction is a new entry that points at the
one it corrects (business-rules A.5). Numbering is per store and per book, consecutive.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from recommerce.buyback.seller import SellerIdentity
from recommerce.errors import DomainError, ErrorCode
from recommerce.money import Money

# Objects worth at most this each may share one entry as a lot (R321-5, business-rules A.4).
LOT_MAX_UNIT_PRICE = Money.euros(60)


class RegisterBook(StrEnum):
    GENERAL = "general"
    # Gold and silver: a separate register with weight and fineness (business-rules A.8).
    PRECIOUS_METALS = "precious_metals"


class EntryKind(StrEnum):
    ACQUISITION = "acquisition"
    CORRECTION = "correction"


@dataclass(frozen=True, slots=True)
class RegisteredObject:
    """One object (or one object of a lot) as the register describes it."""

    label_code: str
    nature: str  # e.g. "Téléphones"
    characteristics: str  # brand, model, grade, weight and fineness for metals
    description: str  # marks, signatures, serial numbers, IMEI
    provenance: str
    price: Money
    serials: tuple[str, ...] = ()
    weight_grams: str | None = None
    fineness: int | None = None


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    book: RegisterBook
    number: int
    recorded_at: datetime
    kind: EntryKind
    seller: SellerIdentity
    objects: tuple[RegisteredObject, ...]
    payment_method: str
    payment_summary: str
    recorded_by: str
    purchase_id: str | None
    corrects: int | None = None
    reason: str | None = None

    @property
    def total_price(self) -> Money:
        return Money(sum(o.price.cents for o in self.objects))

    @property
    def is_lot(self) -> bool:
        return len(self.objects) > 1

    @property
    def serials(self) -> tuple[str, ...]:
        return tuple(s for o in self.objects for s in o.serials)


def group_into_entries(
    objects: list[RegisteredObject], *, book: RegisterBook, allow_lots: bool
) -> list[list[RegisteredObject]]:
    """Which objects share an entry: each object alone, except that objects worth 60 EUR or
    less each may share one lot entry (R321-5). Precious metals are never grouped."""
    if not allow_lots or book is RegisterBook.PRECIOUS_METALS:
        return [[o] for o in objects]
    small = [o for o in objects if o.price <= LOT_MAX_UNIT_PRICE]
    groups = [[o] for o in objects if o.price > LOT_MAX_UNIT_PRICE]
    if small:
        groups.insert(0, small)
    return groups


def correction_of(
    original: RegisterEntry,
    *,
    number: int,
    recorded_at: datetime,
    recorded_by: str,
    reason: str,
    seller: SellerIdentity | None = None,
    objects: tuple[RegisteredObject, ...] | None = None,
) -> RegisterEntry:
    """A new entry that restates `original` with corrected facts; the original stays as it was."""
    if not reason.strip():
        raise DomainError(
            "a correction needs its reason", code=ErrorCode.INVALID_INPUT, field="reason"
        )
    if seller is None and objects is None:
        raise DomainError(
            "a correction must change the seller or the objects",
            code=ErrorCode.INVALID_INPUT,
            field="seller",
        )
    return replace(
        original,
        number=number,
        recorded_at=recorded_at,
        kind=EntryKind.CORRECTION,
        seller=seller or original.seller,
        objects=objects or original.objects,
        recorded_by=recorded_by,
        corrects=original.number,
        reason=reason.strip(),
    )
