"""Bodies of the till's API. Amounts are integer cents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from recommerce.fiscal.vat import receipt_mentions
from recommerce.inventory.model import VatRegime
from recommerce.money import Money
from recommerce.pos.returns import Refund
from recommerce.pos.tenders import TenderKind, TenderRequest
from recommerce.pos.ticket import Ticket, TicketKind
from recommerce.store.api.schemas import Strict

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Till = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,8}$")]
PositiveCents = Annotated[int, Field(gt=0, le=100_000_000)]


class SaleLineIn(Strict):
    label_code: Label
    discount_cents: Annotated[int, Field(ge=0, le=100_000_000)] = 0


class TenderIn(Strict):
    kind: TenderKind
    amount_cents: PositiveCents  # for cash: what the customer hands over
    reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None

    def to_domain(self) -> TenderRequest:
        return TenderRequest(
            kind=self.kind, amount=Money(self.amount_cents), reference=self.reference
        )


class ApprovalIn(Strict):
    """A manager approves a large discount by typing their own credentials at the till."""

    username: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
    password: Annotated[str, StringConstraints(max_length=200)]


class SaleIn(Strict):
    till: Till
    lines: Annotated[list[SaleLineIn], Field(min_length=1, max_length=200)]
    tenders: Annotated[list[TenderIn], Field(min_length=1, max_length=10)]
    approval: ApprovalIn | None = None
    non_resident_proof: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None
    ) = None


class ReturnLineIn(Strict):
    label_code: Label
    to_repair: bool = False


class ReturnIn(Strict):
    till: Till
    sale_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=200)]
    refund: Refund = Refund.ORIGINAL_TENDERS


class StoreCreditOut(BaseModel):
    code: str
    balance_cents: int


class TicketLineOut(BaseModel):
    item_id: str
    label_code: str
    article_name: str
    unit_price_cents: int
    discount_cents: int
    price_cents: int
    vat_regime: VatRegime
    vat_rate: str
    vat_cents: int | None  # hidden for margin-scheme items (rule C.14)


class TenderOut(BaseModel):
    kind: TenderKind
    amount_cents: int
    reference: str | None


class VatRowOut(BaseModel):
    regime: VatRegime
    rate: str
    total_cents: int
    vat_cents: int | None  # hidden for the margin scheme (rule C.14)


class TicketOut(BaseModel):
    id: str
    number: str
    till: str
    kind: TicketKind
    occurred_at: datetime
    staff_id: str
    lines: list[TicketLineOut]
    tenders: list[TenderOut]
    total_cents: int
    change_cents: int
    vat: list[VatRowOut]
    mentions: list[str]
    refers_to: str | None
    receipt_url: str

    @classmethod
    def of(cls, ticket: Ticket) -> TicketOut:
        return cls(
            id=ticket.id,
            number=ticket.display_number,
            till=ticket.till,
            kind=ticket.kind,
            occurred_at=ticket.occurred_at,
            staff_id=ticket.staff_id,
            lines=[
                TicketLineOut(
                    item_id=line.item_id,
                    label_code=line.label_code,
                    article_name=line.article_name,
                    unit_price_cents=line.unit_price.cents,
                    discount_cents=line.discount.cents,
                    price_cents=line.price.cents,
                    vat_regime=line.taxed.regime,
                    vat_rate=str(line.taxed.rate),
                    vat_cents=line.taxed.vat.cents if line.taxed.vat_shown_to_customer else None,
                )
                for line in ticket.lines
            ],
            tenders=[
                TenderOut(kind=x.kind, amount_cents=x.amount.cents, reference=x.reference)
                for x in ticket.tenders
            ],
            total_cents=ticket.total.cents,
            change_cents=ticket.change.cents,
            vat=[
                VatRowOut(
                    regime=row.regime,
                    rate=str(row.rate),
                    total_cents=row.total.cents,
                    vat_cents=row.vat.cents if row.regime is VatRegime.NORMAL else None,
                )
                for row in ticket.vat
            ],
            mentions=receipt_mentions(line.taxed for line in ticket.lines),
            refers_to=ticket.refers_to,
            receipt_url=f"/api/v1/tickets/{ticket.display_number}/receipt.html",
        )
