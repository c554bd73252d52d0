"""Who we may buy from (business-rules A.2, A.7; Code pénal R321-3, R321-5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from buying_fakes import make_seller

from recommerce.buyback.seller import SellerIdentity, SellerKind, age_on, check_seller_may_sell
from recommerce.errors import DomainError, ErrorCode

TODAY = date(2025, 6, 2)


def refusal(seller: SellerIdentity, today: date = TODAY) -> DomainError:
    with pytest.raises(DomainError) as refused:
        check_seller_may_sell(seller, today)
    return refused.value


def test_adult_with_a_valid_document_may_sell() -> None:
    check_seller_may_sell(make_seller(), TODAY)


def test_seller_under_18_is_refused() -> None:
    # business-rules A.7: we cannot buy from a minor.
    error = refusal(make_seller(birth_date=date(2010, 1, 1)))
    assert error.code is ErrorCode.SELLER_UNDER_18
    assert error.field == "seller.birth_date"


def test_seller_turning_18_tomorrow_is_refused() -> None:
    error = refusal(make_seller(birth_date=date(2007, 6, 3)))
    assert error.code is ErrorCode.SELLER_UNDER_18


def test_seller_turning_18_today_may_sell() -> None:
    check_seller_may_sell(make_seller(birth_date=date(2007, 6, 2)), TODAY)


def test_seller_born_on_29_february_is_18_only_once_the_day_has_passed() -> None:
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18
    assert age_on(date(2008, 2, 29), date(2028, 2, 29)) == 20


def test_expired_identity_document_is_refused() -> None:
    error = refusal(make_seller(document={"expires_on": date(2025, 6, 1)}))
    assert error.code is ErrorCode.IDENTITY_DOCUMENT_EXPIRED
    assert error.field == "seller.document.expires_on"


def test_identity_document_expiring_today_is_still_valid() -> None:
    check_seller_may_sell(make_seller(document={"expires_on": TODAY}), TODAY)


def test_identity_document_without_expiry_date_is_accepted() -> None:
    check_seller_may_sell(make_seller(document={"expires_on": None}), TODAY)


def test_identity_document_issued_in_the_future_is_refused() -> None:
    error = refusal(make_seller(document={"issued_on": date(2025, 6, 3)}))
    assert error.code is ErrorCode.INVALID_INPUT
    assert error.field == "seller.document.issued_on"


@pytest.mark.parametrize("blank", ["", "   "])
@pytest.mark.parametrize(
    "field",
    [
        "seller.surname",
        "seller.first_names",
        "seller.address",
        "seller.document.number",
        "seller.document.issuing_authority",
    ],
)
def test_identity_missing_a_field_the_register_needs_is_refused(field: str, blank: str) -> None:
    # business-rules A.2: the register entry holds all of these.
    name = field.split(".")[-1]
    seller = (
        make_seller(document={name: blank})
        if field.startswith("seller.document.")
        else make_seller(**{name: blank})
    )
    error = refusal(seller)
    assert error.code is ErrorCode.IDENTITY_FIELD_MISSING
    assert error.field == field


def a_company_representative(**changes: object) -> SellerIdentity:
    seller = make_seller(
        kind=SellerKind.COMPANY,
        quality="gérante",
        company_name="Brocante du Rhône SARL",
        company_registered_office="3 quai Saint-Vincent, 69001 Lyon",
        company_siren="123456789",
    )
    return replace(seller, **changes)  # type: ignore[arg-type]


def test_company_represented_by_an_adult_may_sell() -> None:
    check_seller_may_sell(a_company_representative(), TODAY)


@pytest.mark.parametrize("field", ["company_name", "company_registered_office"])
def test_company_without_name_or_registered_office_is_refused(field: str) -> None:
    error = refusal(a_company_representative(**{field: None}))
    assert error.code is ErrorCode.IDENTITY_FIELD_MISSING
    assert error.field == f"seller.{field}"


def test_display_name_shows_surname_in_capitals_and_the_company_it_represents() -> None:
    assert make_seller().display_name == "DUPONT Marie Claire"
    company = a_company_representative()
    assert company.display_name == "Brocante du Rhône SARL (rep. DUPONT Marie Claire)"
