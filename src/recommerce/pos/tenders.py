"""How a customer pays: tenders, change, and the cash limit (business-rules B.11)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum

from recommerce.errors import DomainError, ErrorCode
from recommerce.money import Money, total

# Code monétaire et financier L112-6, D112-3: a customer pays at most 1,000 EUR in cash,
# 15,000 EUR when a non-resident proves it (the proof is recorded on the ticket).
CUSTOMER_CASH_LIMIT = Money.euros(1000)
NON_RESIDENT_CASH_LIMIT = Money.euros(15000)


CREDIT_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I to misread


def new_credit_code() -> str:
    """The code printed on a credit note, typed or scanned when it is spent."""
    return "AV" + "".join(secrets.choice(CREDIT_CODE_ALPHABET) for _ in range(10))


class TenderKind(StrEnum):
    CASH = "cash"
    CARD = "card"
    STORE_CREDIT = "store_credit"  # a voucher or a credit note of the store
    ONLINE = "online"  # paid on the marketplace; the reference is the online order's number


@dataclass(frozen=True, slots=True)
class TenderRequest:
    """What the cashier keys in: for cash, the amount handed over; otherwise the amount to take."""

    kind: TenderKind
    amount: Money
    reference: str | None = None  # the voucher's code for store credit


@dataclass(frozen=True, slots=True)
class Tender:
    """A tender as it settles the ticket: `amount` is what it pays of the total."""

    kind: TenderKind
    amount: Money
    reference: str | None = None  # card authorisation or voucher code


@dataclass(frozen=True, slots=True)
class Settlement:
    tenders: tuple[Tender, ...]
    change: Money  # cash given back


def settle(
    to_pay: Money,
    requests: tuple[TenderRequest, ...],
    *,
    non_resident_proof: str | None = None,
) -> Settlement:
    """Check that the tenders pay the ticket exactly, give change in cash only, and keep the
    cash within the legal limit."""
    if not requests:
        raise DomainError("a ticket needs at least one tender", field="tenders")
    for i, r in enumerate(requests):
        if r.amount <= Money.zero():
            raise DomainError(
                "a tender amount is positive",
                code=ErrorCode.INVALID_AMOUNT,
                field=f"tenders[{i}].amount",
            )
    non_cash = total(r.amount for r in requests if r.kind is not TenderKind.CASH)
    cash_given = total(r.amount for r in requests if r.kind is TenderKind.CASH)
    if non_cash > to_pay:
        raise DomainError(
            f"card and store credit pay {non_cash}, more than the {to_pay} due: no change is "
            "given on them",
            code=ErrorCode.INVALID_AMOUNT,
            field="tenders",
        )
    cash_due = to_pay - non_cash
    if cash_given < cash_due:
        raise DomainError(
            f"{to_pay} is due and the tenders cover {non_cash + cash_given}",
            code=ErrorCode.INVALID_AMOUNT,
            field="tenders",
            missing_cents=(cash_due - cash_given).cents,
        )
    limit = NON_RESIDENT_CASH_LIMIT if non_resident_proof else CUSTOMER_CASH_LIMIT
    if cash_due > limit:
        raise DomainError(
            f"{cash_due} in cash is over the legal limit of {limit}: pay the rest by card",
            code=ErrorCode.CASH_LIMIT_EXCEEDED,
            field="tenders",
            limit_cents=limit.cents,
        )
    tenders = [
        Tender(kind=r.kind, amount=r.amount, reference=r.reference)
        for r in requests
        if r.kind is not TenderKind.CASH
    ]
    if cash_due > Money.zero():
        tenders.insert(0, Tender(kind=TenderKind.CASH, amount=cash_due))
    return Settlement(tenders=tuple(tenders), change=cash_given - cash_due)
