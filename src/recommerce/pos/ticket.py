"""Tickets: the validated record of a sale or a return (a counter-ticket). Never modified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from recommerce.fiscal.vat import TaxedLine, VatRow, vat_breakdown
from recommerce.money import Money, total
from recommerce.pos.tenders import Tender


class TicketKind(StrEnum):
    SALE = "sale"
    RETURN = "return"  # a counter-ticket referencing the sale it corrects (rule D.16)


@dataclass(frozen=True, slots=True)
class TicketLine:
    item_id: str
    label_code: str
    article_name: str
    unit_price: Money  # the asking price on the label (negative on a return)
    discount: Money
    taxed: TaxedLine  # the price paid, VAT included, and its VAT

    @property
    def price(self) -> Money:
        return self.taxed.price


@dataclass(frozen=True, slots=True)
class Ticket:
    id: str
    store_number: int
    till: str
    number: int  # per store and till, without gap
    kind: TicketKind
    occurred_at: datetime
    staff_id: str
    lines: tuple[TicketLine, ...]
    tenders: tuple[Tender, ...]
    change: Money
    refers_to: str | None = None  # display number of the sale a return corrects
    non_resident_proof: str | None = None
    session_id: str | None = None  # the till session it was taken in

    @property
    def display_number(self) -> str:
        return ticket_display_number(self.store_number, self.till, self.number)

    @property
    def total(self) -> Money:
        return total(line.price for line in self.lines)

    @property
    def vat(self) -> list[VatRow]:
        return vat_breakdown(line.taxed for line in self.lines)

    def journal_fields(self) -> dict[str, Any]:
        """What the fiscal journal records of the ticket (rule D.18), amounts in cents."""
        return {
            "ticket_id": self.id,
            "number": self.display_number,
            "till": self.till,
            "kind": self.kind.value,
            "staff_id": self.staff_id,
            "lines": [
                {
                    "label_code": line.label_code,
                    "article": line.article_name,
                    "quantity": 1,
                    "unit_price_cents": line.unit_price.cents,
                    "discount_cents": line.discount.cents,
                    "price_cents": line.price.cents,
                    "vat_regime": line.taxed.regime.value,
                    "vat_rate": str(line.taxed.rate),
                    "vat_cents": line.taxed.vat.cents,
                }
                for line in self.lines
            ],
            "tenders": [
                {"kind": t.kind.value, "amount_cents": t.amount.cents} for t in self.tenders
            ],
            "change_cents": self.change.cents,
            "total_cents": self.total.cents,
            "vat": [
                {
                    "regime": row.regime.value,
                    "rate": str(row.rate),
                    "total_cents": row.total.cents,
                    "vat_cents": row.vat.cents,
                }
                for row in self.vat
            ],
            "refers_to": self.refers_to,
            "non_resident_proof": self.non_resident_proof,
        }


def ticket_display_number(store_number: int, till: str, number: int) -> str:
    return f"{store_number:03d}-{till}-{number:06d}"
