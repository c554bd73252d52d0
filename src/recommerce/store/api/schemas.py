"""Request and response bodies. Amounts are integer cents; dates are ISO 8601."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from recommerce.buyback.payment import Payment, PaymentMethod
from recommerce.buyback.purchase import PurchaseLine, RecordPurchase
from recommerce.buyback.seller import DocumentType, IdentityDocument, SellerIdentity, SellerKind
from recommerce.catalog.model import Category, Grade
from recommerce.errors import DomainError
from recommerce.inventory.model import Item, ItemStatus, VatRegime
from recommerce.money import Money
from recommerce.registers.police import RegisteredObject, RegisterEntry
from recommerce.staff.model import Role, StaffMember

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Cents = Annotated[int, Field(ge=0, le=100_000_000)]  # up to 1,000,000 EUR


def _no_nul(value: Any, where: str = "") -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(f"{where or 'a value'} contains a NUL character")
    if isinstance(value, dict):
        for key, item in value.items():
            _no_nul(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _no_nul(item, f"{where}[{i}]")


class Strict(BaseModel):
    """Request bodies: unknown fields refused, and no NUL character anywhere (no database
    stores one, and no person types one)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul_characters(cls, data: Any) -> Any:
        _no_nul(data)
        return data


# --- staff -----------------------------------------------------------------------------------


class TokenRequest(Strict):
    username: Name
    password: Annotated[str, StringConstraints(max_length=200)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class StaffIn(Strict):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=64)]
    full_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    role: Role
    password: Annotated[str, StringConstraints(min_length=10, max_length=200)]


class StaffOut(BaseModel):
    id: str
    username: str
    full_name: str
    role: Role
    active: bool

    @classmethod
    def of(cls, m: StaffMember) -> StaffOut:
        return cls(
            id=m.id, username=m.username, full_name=m.full_name, role=m.role, active=m.active
        )


# --- catalogue -------------------------------------------------------------------------------


class GradeDefinitionOut(BaseModel):
    grade: Grade
    label: str
    definition: str


class CategoryOut(BaseModel):
    code: str
    name: str
    precious_metal: bool
    grades: list[GradeDefinitionOut]

    @classmethod
    def of(cls, c: Category) -> CategoryOut:
        return cls(
            code=c.code,
            name=c.name,
            precious_metal=c.precious_metal,
            grades=[
                GradeDefinitionOut(grade=g, label=g.label, definition=c.grade_definition(g))
                for g in Grade
            ],
        )


class QuoteIn(Strict):
    article_id: Annotated[str, StringConstraints(max_length=36)]
    grade: Grade


class QuoteOut(BaseModel):
    article_id: str
    grade: Grade
    grade_definition: str
    resale_price_cents: int
    resale_low_cents: int
    resale_high_cents: int
    buy_offer_cents: int
    method: str


# --- purchases -------------------------------------------------------------------------------


class DocumentIn(Strict):
    type: DocumentType
    number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
    issued_on: date
    issuing_authority: Name
    expires_on: date | None = None


class SellerIn(Strict):
    kind: SellerKind = SellerKind.INDIVIDUAL
    surname: Name
    first_names: Name
    birth_date: date
    address: Text
    quality: Name = "particulier"
    document: DocumentIn
    company_name: Name | None = None
    company_registered_office: Text | None = None
    company_siren: Annotated[str, StringConstraints(max_length=20)] | None = None

    def to_domain(self) -> SellerIdentity:
        d = self.document
        return SellerIdentity(
            kind=self.kind,
            surname=self.surname,
            first_names=self.first_names,
            birth_date=self.birth_date,
            address=self.address,
            quality=self.quality,
            company_name=self.company_name,
            company_registered_office=self.company_registered_office,
            company_siren=self.company_siren,
            document=IdentityDocument(
                type=d.type,
                number=d.number,
                issued_on=d.issued_on,
                issuing_authority=d.issuing_authority,
                expires_on=d.expires_on,
            ),
        )


class PaymentIn(Strict):
    method: PaymentMethod
    account_holder: Name | None = None
    iban: Annotated[str, StringConstraints(max_length=42)] | None = None
    crossed: bool = True


class PurchaseLineIn(Strict):
    article_id: Annotated[str, StringConstraints(max_length=36)]
    grade: Grade
    agreed_price_cents: Annotated[int, Field(gt=0, le=100_000_000)]
    asking_price_cents: Annotated[int, Field(gt=0, le=100_000_000)] | None = None
    serial_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None
    ) = None
    imei: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None
    accessories: Annotated[list[Name], Field(max_length=20)] = []
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""
    vat_regime: VatRegime = VatRegime.MARGIN
    weight_grams: Annotated[str, StringConstraints(pattern=r"^\d{1,5}(\.\d{1,3})?$")] | None = None
    fineness: Annotated[int, Field(ge=1, le=1000)] | None = None
    # Why the agreed price is above the argus' buy offer; needed only then.
    override_reason: Name | None = None

    def to_domain(self) -> PurchaseLine:
        return PurchaseLine(
            article_id=self.article_id,
            grade=self.grade,
            agreed_price=Money(self.agreed_price_cents),
            asking_price=Money(self.asking_price_cents) if self.asking_price_cents else None,
            serial_number=self.serial_number or None,
            imei=self.imei or None,
            accessories=tuple(self.accessories),
            description=self.description,
            vat_regime=self.vat_regime,
            weight_grams=self.weight_grams,
            fineness=self.fineness,
            override_reason=self.override_reason or None,
        )


class PurchaseIn(Strict):
    seller: SellerIn
    payment: PaymentIn
    lines: Annotated[list[PurchaseLineIn], Field(min_length=1, max_length=200)]
    group_lots: bool = True

    def to_command(self, staff: StaffMember) -> RecordPurchase:
        p = self.payment
        return RecordPurchase(
            seller=self.seller.to_domain(),
            payment=Payment(
                method=p.method, account_holder=p.account_holder, iban=p.iban, crossed=p.crossed
            ),
            lines=tuple(line.to_domain() for line in self.lines),
            staff_id=staff.id,
            staff_role=staff.role,
            group_lots=self.group_lots,
        )


class ItemOut(BaseModel):
    id: str
    label_code: str
    store_number: int
    article_id: str
    grade: Grade
    status: ItemStatus
    purchase_id: str
    purchase_price_cents: int
    asking_price_cents: int
    vat_regime: VatRegime
    register_book: str
    register_number: int
    serials: list[str]
    accessories: list[str]
    description: str
    resale_blocked_until: datetime | None
    label_svg_url: str
    label_png_url: str

    @classmethod
    def of(cls, i: Item) -> ItemOut:
        return cls(
            id=i.id,
            label_code=i.label_code,
            store_number=i.store_number,
            article_id=i.article_id,
            grade=i.grade,
            status=i.status,
            purchase_id=i.purchase_id,
            purchase_price_cents=i.purchase_price.cents,
            asking_price_cents=i.asking_price.cents,
            vat_regime=i.vat_regime,
            register_book=i.register_book,
            register_number=i.register_number,
            serials=list(i.serials),
            accessories=list(i.accessories),
            description=i.description,
            resale_blocked_until=i.resale_blocked_until,
            label_svg_url=f"/api/v1/items/{i.label_code}/label.svg",
            label_png_url=f"/api/v1/items/{i.label_code}/label.png",
        )


class StatusChangeIn(Strict):
    status: ItemStatus
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class RegisterRef(BaseModel):
    book: str
    number: int


class PurchaseOut(BaseModel):
    id: str
    store_number: int
    occurred_at: datetime
    seller_name: str
    payment_method: PaymentMethod
    total_cents: int
    staff_id: str
    register_entries: list[RegisterRef]
    items: list[ItemOut]


class OfferOverrideOut(BaseModel):
    """A price agreed above the argus' buy offer: who, in which role, why."""

    id: str
    at: datetime
    purchase_id: str
    label_code: str
    article_id: str
    article_name: str
    grade: Grade
    offer_cents: int
    agreed_price_cents: int
    above_offer_cents: int
    method: str
    staff_id: str
    staff_username: str
    role: Role
    reason: str


# --- police register -------------------------------------------------------------------------


class ObjectOut(BaseModel):
    label_code: str
    nature: str
    characteristics: str
    description: str
    provenance: str
    price_cents: int
    serials: list[str]
    weight_grams: str | None
    fineness: int | None


class SellerOut(BaseModel):
    kind: SellerKind
    surname: str
    first_names: str
    birth_date: date
    address: str
    quality: str
    company_name: str | None
    company_registered_office: str | None
    document_type: DocumentType
    document_number: str
    document_issued_on: date
    document_issuing_authority: str
    document_expires_on: date | None


class RegisterEntryOut(BaseModel):
    book: str
    number: int
    recorded_at: datetime
    kind: str
    corrects: int | None
    reason: str | None
    purchase_id: str | None
    seller: SellerOut
    objects: list[ObjectOut]
    total_cents: int
    payment_method: str
    payment_summary: str
    recorded_by: str

    @classmethod
    def of(cls, e: RegisterEntry) -> RegisterEntryOut:
        s, d = e.seller, e.seller.document
        return cls(
            book=e.book.value,
            number=e.number,
            recorded_at=e.recorded_at,
            kind=e.kind.value,
            corrects=e.corrects,
            reason=e.reason,
            purchase_id=e.purchase_id,
            seller=SellerOut(
                kind=s.kind,
                surname=s.surname,
                first_names=s.first_names,
                birth_date=s.birth_date,
                address=s.address,
                quality=s.quality,
                company_name=s.company_name,
                company_registered_office=s.company_registered_office,
                document_type=d.type,
                document_number=d.number,
                document_issued_on=d.issued_on,
                document_issuing_authority=d.issuing_authority,
                document_expires_on=d.expires_on,
            ),
            objects=[
                ObjectOut(
                    label_code=o.label_code,
                    nature=o.nature,
                    characteristics=o.characteristics,
                    description=o.description,
                    provenance=o.provenance,
                    price_cents=o.price.cents,
                    serials=list(o.serials),
                    weight_grams=o.weight_grams,
                    fineness=o.fineness,
                )
                for o in e.objects
            ],
            total_cents=e.total_price.cents,
            payment_method=e.payment_method,
            payment_summary=e.payment_summary,
            recorded_by=e.recorded_by,
        )


class ObjectCorrectionIn(Strict):
    label_code: Annotated[str, StringConstraints(max_length=13)]
    characteristics: Text | None = None
    description: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None
    ) = None


class CorrectionIn(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    seller: SellerIn | None = None
    objects: Annotated[list[ObjectCorrectionIn], Field(max_length=200)] | None = None

    def corrected_objects(
        self, original: tuple[RegisteredObject, ...]
    ) -> tuple[RegisteredObject, ...] | None:
        if self.objects is None:
            return None
        by_label = {o.label_code: o for o in original}
        changed = dict(by_label)
        for i, c in enumerate(self.objects):
            if c.label_code not in by_label:
                raise DomainError(
                    f"entry has no object with label {c.label_code}",
                    field=f"objects[{i}].label_code",
                )
            o = changed[c.label_code]
            changed[c.label_code] = replace(
                o,
                characteristics=c.characteristics
                if c.characteristics is not None
                else o.characteristics,
                description=c.description if c.description is not None else o.description,
            )
        return tuple(changed[o.label_code] for o in original)


class AlertOut(BaseModel):
    id: str
    at: datetime
    staff_id: str
    seller_name: str
    serials: list[str]
    details: list[dict[str, str | None]]
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class ImportResult(BaseModel):
    imported: int
