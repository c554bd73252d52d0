"""How the store pays a seller (business-rules B.9, B.10; CMF L112-6, D112-3)."""

from __future__ import annotations

import pytest
from buying_fakes import CASH, SELLER_IBAN, make_seller, transfer_to

from recommerce.buyback.payment import (
    CASH_LIMIT,
    Payment,
    PaymentMethod,
    check_payment,
    holder_is_seller,
    normalise_iban,
)
from recommerce.buyback.seller import SellerIdentity, SellerKind
from recommerce.errors import DomainError, ErrorCode
from recommerce.money import Money


def pay(
    payment: Payment,
    amount: str | int,
    *,
    precious_metal: bool = False,
    already_cash: str | int = 0,
    seller: SellerIdentity | None = None,
) -> None:
    check_payment(
        payment,
        amount=Money.euros(amount),
        seller=seller or make_seller(),
        precious_metal=precious_metal,
        cash_already_paid_to_seller=Money.euros(already_cash),
    )


def refusal(payment: Payment, amount: str | int, **kwargs: object) -> DomainError:
    with pytest.raises(DomainError) as refused:
        pay(payment, amount, **kwargs)  # type: ignore[arg-type]
    return refused.value


def test_the_cash_limit_is_1000_eur() -> None:
    assert Money.euros(1000) == CASH_LIMIT


def test_purchase_of_1000_eur_may_be_paid_cash() -> None:
    pay(CASH, 1000)


def test_purchase_over_1000_eur_cannot_be_paid_cash() -> None:
    # business-rules B.9
    error = refusal(CASH, "1000.01")
    assert error.code is ErrorCode.CASH_LIMIT_EXCEEDED
    assert error.field == "payment.method"
    assert error.extra["limit_cents"] == 100_000


def test_purchase_over_1000_eur_may_be_paid_by_transfer_or_cheque() -> None:
    pay(transfer_to(), 5000)
    pay(Payment(PaymentMethod.CHEQUE, account_holder="Marie Dupont"), 5000)


def test_cash_purchases_split_to_dodge_the_cap_are_refused() -> None:
    # business-rules B.9: one purchase must not be split to stay under the cap.
    error = refusal(CASH, 500, already_cash=600)
    assert error.code is ErrorCode.CASH_SPLIT_SUSPECTED
    assert error.extra["already_paid_cents"] == 60_000


def test_cash_already_paid_up_to_the_cap_in_total_is_fine() -> None:
    pay(CASH, 400, already_cash=600)


def test_precious_metals_are_never_paid_cash() -> None:
    # business-rules B.10: whatever the amount.
    error = refusal(CASH, 10, precious_metal=True)
    assert error.code is ErrorCode.PRECIOUS_METAL_CASH_FORBIDDEN
    assert error.field == "payment.method"


def test_precious_metals_paid_only_to_an_account_in_the_sellers_name() -> None:
    # business-rules B.10: to an account opened in the seller's name.
    pay(transfer_to("Mme Marie Dupont"), 300, precious_metal=True)
    error = refusal(transfer_to("Jean Martin"), 300, precious_metal=True)
    assert error.code is ErrorCode.ACCOUNT_NOT_IN_SELLER_NAME
    assert error.field == "payment.account_holder"


def test_precious_metals_may_be_paid_by_crossed_cheque_to_the_seller() -> None:
    pay(Payment(PaymentMethod.CHEQUE, account_holder="Marie Dupont"), 300, precious_metal=True)


def test_precious_metals_are_not_paid_by_an_uncrossed_cheque() -> None:
    cheque = Payment(PaymentMethod.CHEQUE, account_holder="Marie Dupont", crossed=False)
    error = refusal(cheque, 300, precious_metal=True)
    assert error.code is ErrorCode.PRECIOUS_METAL_CASH_FORBIDDEN
    assert error.field == "payment.crossed"


def test_an_uncrossed_cheque_is_fine_for_other_goods() -> None:
    pay(Payment(PaymentMethod.CHEQUE, account_holder="Marie Dupont", crossed=False), 300)


def test_precious_metals_bought_from_a_company_are_paid_to_the_company() -> None:
    company = make_seller(
        kind=SellerKind.COMPANY,
        company_name="Brocante du Rhône SARL",
        company_registered_office="Lyon",
    )
    pay(transfer_to("BROCANTE DU RHONE SARL"), 2000, precious_metal=True, seller=company)


@pytest.mark.parametrize(
    "holder",
    ["Marie DUPONT", "DUPONT MARIE CLAIRE", "M. ou Mme Dupont", "  dupont  "],
)
def test_account_holder_matches_the_seller_whatever_case_and_spacing(holder: str) -> None:
    assert holder_is_seller(holder, make_seller())


def test_account_holder_matches_the_seller_whatever_accents_and_hyphens() -> None:
    seller = make_seller(surname="Lefèvre-Hervé")
    assert holder_is_seller("Eloise LEFEVRE HERVE", seller)
    assert not holder_is_seller("Eloise Lefevre", seller)


@pytest.mark.parametrize(
    ("surname", "holder"), [("Martin", "Jose MARTINEZ"), ("Li", "Olivier Rousseau")]
)
def test_account_of_someone_whose_name_merely_contains_the_sellers_surname_is_refused(
    surname: str, holder: str
) -> None:
    assert not holder_is_seller(holder, make_seller(surname=surname))


@pytest.mark.parametrize("holder", [None, "", "   "])
def test_transfer_or_cheque_needs_the_account_holder(holder: str | None) -> None:
    for payment in (
        Payment(PaymentMethod.BANK_TRANSFER, account_holder=holder, iban=SELLER_IBAN),
        Payment(PaymentMethod.CHEQUE, account_holder=holder),
    ):
        error = refusal(payment, 100)
        assert error.code is ErrorCode.PAYMENT_DETAILS_MISSING
        assert error.field == "payment.account_holder"


def test_bank_transfer_needs_the_sellers_iban() -> None:
    error = refusal(Payment(PaymentMethod.BANK_TRANSFER, account_holder="Marie Dupont"), 100)
    assert error.code is ErrorCode.PAYMENT_DETAILS_MISSING
    assert error.field == "payment.iban"


def test_transfer_to_an_iban_with_a_wrong_check_digit_is_refused() -> None:
    error = refusal(transfer_to(iban="FR1420041010050500013M02607"), 100)
    assert error.code is ErrorCode.INVALID_IBAN
    assert error.field == "payment.iban"


def test_iban_is_checked_and_compacted() -> None:
    assert normalise_iban("FR14 2004 1010 0505 0001 3M02 606") == SELLER_IBAN


def test_iban_with_a_wrong_check_digit_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        normalise_iban("FR14 2004 1010 0505 0001 3M02 607")
    assert refused.value.code is ErrorCode.INVALID_IBAN
    assert refused.value.field == "payment.iban"


def test_register_summary_shows_the_last_four_characters_of_a_spaced_iban() -> None:
    assert transfer_to(iban="FR14 2004 1010 0505 0001 3M02 606").summary().endswith("…2606")


@pytest.mark.parametrize(
    ("payment", "summary"),
    [
        (CASH, "espèces"),
        (transfer_to(), "virement Marie Dupont IBAN …2606"),
        (
            Payment(PaymentMethod.CHEQUE, account_holder="Marie Dupont"),
            "chèque barré à l'ordre de Marie Dupont",
        ),
        (
            Payment(PaymentMethod.CHEQUE, account_holder="Marie Dupont", crossed=False),
            "chèque à l'ordre de Marie Dupont",
        ),
    ],
)
def test_payment_summary_as_written_in_the_register(payment: Payment, summary: str) -> None:
    # business-rules A.2: the entry holds the payment method.
    assert payment.summary() == summary
