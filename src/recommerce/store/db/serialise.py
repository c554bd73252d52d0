"""Domain objects to JSON columns and back; identity document numbers stay encrypted."""

from __future__ import annotations

from datetime import date
from typing import Any

from recommerce.buyback.seller import DocumentType, IdentityDocument, SellerIdentity, SellerKind
from recommerce.money import Money
from recommerce.registers.police import RegisteredObject
from recommerce.store.db.identity import IdentityVault


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _date(s: str | None) -> date | None:
    return date.fromisoformat(s) if s else None


def seller_to_json(seller: SellerIdentity, vault: IdentityVault) -> dict[str, Any]:
    doc = seller.document
    return {
        "kind": seller.kind.value,
        "surname": seller.surname,
        "first_names": seller.first_names,
        "birth_date": seller.birth_date.isoformat(),
        "address": seller.address,
        "quality": seller.quality,
        "company_name": seller.company_name,
        "company_registered_office": seller.company_registered_office,
        "company_siren": seller.company_siren,
        "document": {
            "type": doc.type.value,
            "number_encrypted": vault.encrypt(doc.number),
            "issued_on": doc.issued_on.isoformat(),
            "issuing_authority": doc.issuing_authority,
            "expires_on": _iso(doc.expires_on),
        },
    }


def seller_from_json(data: dict[str, Any], vault: IdentityVault) -> SellerIdentity:
    doc = data["document"]
    return SellerIdentity(
        kind=SellerKind(data["kind"]),
        surname=data["surname"],
        first_names=data["first_names"],
        birth_date=date.fromisoformat(data["birth_date"]),
        address=data["address"],
        quality=data["quality"],
        company_name=data.get("company_name"),
        company_registered_office=data.get("company_registered_office"),
        company_siren=data.get("company_siren"),
        document=IdentityDocument(
            type=DocumentType(doc["type"]),
            number=vault.decrypt(doc["number_encrypted"]),
            issued_on=date.fromisoformat(doc["issued_on"]),
            issuing_authority=doc["issuing_authority"],
            expires_on=_date(doc.get("expires_on")),
        ),
    )


def object_to_json(obj: RegisteredObject) -> dict[str, Any]:
    return {
        "label_code": obj.label_code,
        "nature": obj.nature,
        "characteristics": obj.characteristics,
        "description": obj.description,
        "provenance": obj.provenance,
        "price_cents": obj.price.cents,
        "serials": list(obj.serials),
        "weight_grams": obj.weight_grams,
        "fineness": obj.fineness,
    }


def object_from_json(data: dict[str, Any]) -> RegisteredObject:
    return RegisteredObject(
        label_code=data["label_code"],
        nature=data["nature"],
        characteristics=data["characteristics"],
        description=data["description"],
        provenance=data["provenance"],
        price=Money(data["price_cents"]),
        serials=tuple(data["serials"]),
        weight_grams=data.get("weight_grams"),
        fineness=data.get("fineness"),
    )
