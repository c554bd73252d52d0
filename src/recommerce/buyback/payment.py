"""How the store pays a seller, and the cash rules that constrain it (business-rules B.9, B.10)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from stdnum import iban
from stdnum.exceptions import ValidationError

from recommerce.buyback.seller import SellerIdentity
from recommerce.errors import DomainError, ErrorCode
from recommerce.money import Money

# Code monétaire et financier L112-6 and D112-3: at most 1,000 EUR in cash.
CASH_LIMIT = Money.euros(1000)


class PaymentMethod(StrEnum):
    CASH = "cash"
    BANK_TRANSFER = "bank_transfer"
    CHEQUE = "cheque"


@dataclass(frozen=True, slots=True)
class Payment:
    method: PaymentMethod
    account_holder: str | None = None  # transfer or cheque payee
    iban: str | None = None  # transfer
    crossed: bool = True  # cheque "barré": can only be paid into an account

    def summary(self) -> str:
        if self.method is PaymentMethod.BANK_TRANSFER and self.iban:
            return f"virement {self.account_holder} IBAN …{iban.compact(self.iban)[-4:]}"
        if self.method is PaymentMethod.CHEQUE:
            return f"chèque {'barré ' if self.crossed else ''}à l'ordre de {self.account_holder}"
        return "espèces"


def normalise_iban(value: str) -> str:
    try:
        return iban.compact(iban.validate(value))
    except ValidationError as exc:
        raise DomainError(
            f"not a valid IBAN: {exc}", code=ErrorCode.INVALID_IBAN, field="payment.iban"
        ) from exc


def _folded(text: str) -> str:
    stripped = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(stripped.upper().replace("-", " ").split())


def holder_is_seller(holder: str, seller: SellerIdentity) -> bool:
    """The account or cheque is in the seller's own name (surname present, or the company's)."""
    names = {_folded(seller.surname)}
    if seller.company_name:
        names.add(_folded(seller.company_name))
    folded = f" {_folded(holder)} "
    return any(name and f" {name} " in folded for name in names)


def check_payment(
    payment: Payment,
    *,
    amount: Money,
    seller: SellerIdentity,
    precious_metal: bool,
    cash_already_paid_to_seller: Money,
) -> None:
    """Refuse a way of paying the law forbids for this purchase."""
    if payment.method is PaymentMethod.CASH:
        if precious_metal:
            # CMF L112-6 II: precious metals are never bought in cash, whatever the amount.
            raise DomainError(
                "precious metals cannot be paid in cash: pay by transfer or crossed cheque",
                code=ErrorCode.PRECIOUS_METAL_CASH_FORBIDDEN,
                field="payment.method",
            )
        if amount > CASH_LIMIT:
            # CMF L112-6 I and D112-3: 1,000 EUR cash cap for a payment to an individual.
            raise DomainError(
                f"{amount} cannot be paid in cash (limit {CASH_LIMIT}): "
                "pay by bank transfer or cheque",
                code=ErrorCode.CASH_LIMIT_EXCEEDED,
                field="payment.method",
                limit_cents=CASH_LIMIT.cents,
            )
        if cash_already_paid_to_seller + amount > CASH_LIMIT:
            # One purchase must not be split into several to stay under the cap.
            raise DomainError(
                f"this seller was already paid {cash_already_paid_to_seller} in cash recently; "
                f"with {amount} more the cash limit of {CASH_LIMIT} is exceeded",
                code=ErrorCode.CASH_SPLIT_SUSPECTED,
                field="payment.method",
                already_paid_cents=cash_already_paid_to_seller.cents,
            )
        return
    if not payment.account_holder or not payment.account_holder.strip():
        raise DomainError(
            "a transfer or cheque needs the account holder's name",
            code=ErrorCode.PAYMENT_DETAILS_MISSING,
            field="payment.account_holder",
        )
    if payment.method is PaymentMethod.BANK_TRANSFER:
        if not payment.iban:
            raise DomainError(
                "a bank transfer needs the seller's IBAN",
                code=ErrorCode.PAYMENT_DETAILS_MISSING,
                field="payment.iban",
            )
        normalise_iban(payment.iban)
    if precious_metal:
        if payment.method is PaymentMethod.CHEQUE and not payment.crossed:
            raise DomainError(
                "precious metals are paid by crossed cheque only",
                code=ErrorCode.PRECIOUS_METAL_CASH_FORBIDDEN,
                field="payment.crossed",
            )
        # CMF L112-6 II: to an account opened in the seller's name.
        if not holder_is_seller(payment.account_holder, seller):
            raise DomainError(
                "precious metals are paid only to an account in the seller's own name",
                code=ErrorCode.ACCOUNT_NOT_IN_SELLER_NAME,
                field="payment.account_holder",
            )
