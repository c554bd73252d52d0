"""The seller's identity, as the police register needs it (business-rules A.2, A.7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from recommerce.errors import DomainError, ErrorCode

ADULT_AGE = 18


class SellerKind(StrEnum):
    INDIVIDUAL = "individual"
    COMPANY = "company"


class DocumentType(StrEnum):
    NATIONAL_ID = "national_id"
    PASSPORT = "passport"
    RESIDENCE_PERMIT = "residence_permit"
    DRIVING_LICENCE = "driving_licence"


@dataclass(frozen=True, slots=True)
class IdentityDocument:
    type: DocumentType
    number: str
    issued_on: date
    issuing_authority: str
    expires_on: date | None = None


@dataclass(frozen=True, slots=True)
class SellerIdentity:
    """A natural person, or the representative of a company with the company's details.

    R321-3 / R321-5: surname, first names, quality, address, and the identity document's
    type, number, date of issue and issuing authority; for a company its name and
    registered office and the representative's identity.
    """

    surname: str
    first_names: str
    birth_date: date
    address: str
    document: IdentityDocument
    quality: str = "particulier"
    kind: SellerKind = SellerKind.INDIVIDUAL
    company_name: str | None = None
    company_registered_office: str | None = None
    company_siren: str | None = None

    @property
    def display_name(self) -> str:
        person = f"{self.surname.upper()} {self.first_names}"
        return f"{self.company_name} (rep. {person})" if self.company_name else person


def age_on(birth_date: date, day: date) -> int:
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def check_seller_may_sell(seller: SellerIdentity, today: date) -> None:
    """Refuse a seller the law does not let us buy from (business-rules A.7).

    Code pénal R321-3 requires the identity above; a minor cannot sell to us, and an
    expired or incomplete identity document proves nothing.
    """
    required = {
        "seller.surname": seller.surname,
        "seller.first_names": seller.first_names,
        "seller.address": seller.address,
        "seller.document.number": seller.document.number,
        "seller.document.issuing_authority": seller.document.issuing_authority,
    }
    if seller.kind is SellerKind.COMPANY:
        required["seller.company_name"] = seller.company_name or ""
        required["seller.company_registered_office"] = seller.company_registered_office or ""
    for field, value in required.items():
        if not value or not value.strip():
            raise DomainError(
                f"the register needs {field.split('.')[-1].replace('_', ' ')}",
                code=ErrorCode.IDENTITY_FIELD_MISSING,
                field=field,
            )
    if seller.document.issued_on > today:
        raise DomainError(
            "the identity document's date of issue is in the future",
            code=ErrorCode.INVALID_INPUT,
            field="seller.document.issued_on",
        )
    if seller.document.expires_on is not None and seller.document.expires_on < today:
        raise DomainError(
            f"the identity document expired on {seller.document.expires_on.isoformat()}",
            code=ErrorCode.IDENTITY_DOCUMENT_EXPIRED,
            field="seller.document.expires_on",
        )
    if age_on(seller.birth_date, today) < ADULT_AGE:
        raise DomainError(
            "the seller is under 18: we cannot buy from a minor",
            code=ErrorCode.SELLER_UNDER_18,
            field="seller.birth_date",
        )
