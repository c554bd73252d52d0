"""The written contract of a precious-metals purchase, with its withdrawal form (rule A.8)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from test_register_export import PARIS_WINTER, a_seller, page_count, pdf_text

from recommerce.buyback import contract
from recommerce.buyback.contract import ContractObject, precious_metal_contract_pdf
from recommerce.buyback.seller import SellerKind
from recommerce.money import Money

BOUGHT_AT = datetime(2025, 3, 14, 9, 32, tzinfo=UTC)
# The store's setting, 48 hours by default (business-rules A.8).
WITHDRAWAL_DEADLINE = BOUGHT_AT + timedelta(hours=48)


def a_gold_ring() -> ContractObject:
    return ContractObject(
        label_code="LYO-MP-0007",
        description="Bague or jaune 18 carats, poinçon tête d'aigle",
        weight_grams="4.2",
        fineness=750,
        price=Money.euros("310"),
    )


def a_silver_chain() -> ContractObject:
    return ContractObject(
        label_code="LYO-MP-0008",
        description="Gourmette argent massif",
        weight_grams="25",
        fineness=925,
        price=Money.euros("1000.50"),
    )


def a_contract(**changes: object) -> bytes:
    arguments: dict[str, object] = {
        "store_label": "Lyon Part-Dieu",
        "store_address": "17 rue du Docteur Bouchut, 69003 Lyon",
        "purchase_id": "PUR-0193",
        "occurred_at": BOUGHT_AT,
        "seller": a_seller(),
        "objects": (a_gold_ring(), a_silver_chain()),
        "payment_summary": "virement LEFÈVRE Héloïse IBAN …1234",
        "withdrawal_deadline": WITHDRAWAL_DEADLINE,
        "register_numbers": (7, 8),
        "local_tz": PARIS_WINTER,
        "compress": False,
    }
    return precious_metal_contract_pdf(**{**arguments, **changes})  # type: ignore[arg-type]


def text_of(pdf: bytes) -> str:
    """The shown text as one line of words, as a reader follows it across wrapped lines and
    table cells; the no-break spaces of amounts and of the deadline read as spaces."""
    return " ".join(pdf_text(pdf).split())


def contract_and_form(pdf: bytes) -> tuple[str, str]:
    """The text of the contract and of the withdrawal form, split where the form begins."""
    text = text_of(pdf)
    contract_part, _, form_part = text.partition("Partie à détacher et à renvoyer")
    return contract_part, form_part


def test_the_contract_is_a_pdf_listing_every_object_with_weight_fineness_and_the_total() -> None:
    pdf = a_contract()
    text = text_of(pdf)

    assert pdf.startswith(b"%PDF")
    assert "Contrat d'achat de métaux précieux" in text
    assert "Étiquette Désignation Poids Titre Prix" in text
    assert (
        "LYO-MP-0007 Bague or jaune 18 carats, poinçon tête d'aigle 4,2 g 750/1000 310,00 €" in text
    )
    assert "LYO-MP-0008 Gourmette argent massif 25 g 925/1000 1 000,50 €" in text
    assert "Total 1 310,50 €" in text
    assert "Prix total : 1 310,50 €, payé par virement LEFÈVRE Héloïse IBAN …1234." in text


def test_the_contract_names_both_parties_and_the_register_numbers() -> None:
    text = text_of(a_contract())

    assert "L'acheteur : Lyon Part-Dieu, 17 rue du Docteur Bouchut, 69003 Lyon." in text
    assert "LEFÈVRE Héloïse Marie, né(e) le 14/03/1985" in text
    assert "carte nationale d'identité n° X4RTBPFW4" in text
    assert "registre des métaux précieux du magasin sous le(s) n° 7, 8" in text
    assert "L'acheteur (signature et cachet du magasin)" in text
    assert "Le vendeur (signature précédée de la mention" in text


def test_the_contract_of_a_company_names_its_representative() -> None:
    seller = a_seller(
        kind=SellerKind.COMPANY,
        quality="gérant",
        company_name="Débarras Rhône SARL",
        company_registered_office="3 quai Perrache, 69002 Lyon",
    )

    text = text_of(a_contract(seller=seller))

    assert "Débarras Rhône SARL, dont le siège est 3 quai Perrache, 69002 Lyon" in text
    assert "représentée par LEFÈVRE Héloïse Marie" in text
    assert "agissant en qualité de gérant" in text


def test_the_contract_states_the_withdrawal_deadline_in_store_time() -> None:
    contract_part, _ = contract_and_form(a_contract())

    assert "Conclu le 14/03/2025 à 10:32 (UTC+01:00)" in contract_part
    assert "Le vendeur peut se rétracter jusqu'au 16/03/2025 à 10:32 (UTC+01:00)." in contract_part
    assert "ils ne seront ni revendus ni fondus" in contract_part
    assert "Il rembourse alors le prix reçu, 1 310,50 €, et récupère les objets." in contract_part


def test_the_contract_prints_the_deadline_it_is_given() -> None:
    """The 48 hours are a setting (A.8, ?): the contract prints the caller's deadline."""
    text = text_of(a_contract(withdrawal_deadline=BOUGHT_AT + timedelta(hours=72)))

    assert "jusqu'au 17/03/2025 à 10:32 (UTC+01:00)" in text


def test_the_contract_contains_the_withdrawal_form_on_a_page_of_its_own() -> None:
    pdf = a_contract()
    contract_part, form = contract_and_form(pdf)

    assert page_count(pdf) == 2
    assert "page 1 / 2" in contract_part, "the form starts on a new page"
    assert "Formulaire de rétractation" in form
    assert "au plus tard le 16/03/2025 à 10:32 (UTC+01:00)" in form
    assert "référence PUR-0193, conclu le 14/03/2025 à 10:32" in form
    assert "Objets : LYO-MP-0007, LYO-MP-0008." in form
    assert "déclare me rétracter de cette vente" in form
    assert "Je rembourse au magasin le prix reçu, 1 310,50 €, et récupère les objets." in form
    for blank in ("Nom et prénoms :", "Date :", "Signature du vendeur"):
        assert blank in form
    assert "page 2 / 2" in form


def test_accents_and_the_euro_sign_survive() -> None:
    seller = a_seller(surname="Œhlenschläger", address="5 impasse des Cœurs, 13001 Marseille")
    ring = replace(a_gold_ring(), description="Alliance « Élise & Noël » gravée")

    text = text_of(a_contract(seller=seller, objects=(ring,)))

    assert "ŒHLENSCHLÄGER Héloïse Marie" in text
    assert "5 impasse des Cœurs, 13001 Marseille" in text
    assert "Alliance « Élise & Noël » gravée" in text
    assert "310,00 €" in text
    assert "Préfecture du Rhône" in text
    assert "Formulaire de rétractation" in text


def test_the_contract_still_prints_in_latin1_without_a_unicode_font(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(contract, "find_unicode_font", lambda: None)

    pdf = a_contract()
    text = text_of(pdf)

    assert pdf.startswith(b"%PDF")
    assert "Contrat d'achat de métaux précieux - référence PUR-0193" in text
    assert "LEFÈVRE Héloïse Marie" in text
    assert "Total 1 310,50 EUR" in text
    assert "IBAN ...1234" in text


def test_a_contract_needs_objects_register_numbers_and_a_deadline_after_the_purchase() -> None:
    with pytest.raises(ValueError, match="at least one object"):
        a_contract(objects=())
    with pytest.raises(ValueError, match="register"):
        a_contract(register_numbers=())
    with pytest.raises(ValueError, match="deadline"):
        a_contract(withdrawal_deadline=BOUGHT_AT)


@pytest.mark.parametrize(
    ("weight_grams", "fineness"),
    [("4,2", 750), ("0", 750), ("-1", 750), ("NaN", 750), ("4.2", 0), ("4.2", 1001)],
)
def test_a_contract_object_refuses_a_weight_or_fineness_no_metal_has(
    weight_grams: str, fineness: int
) -> None:
    with pytest.raises(ValueError):
        replace(a_gold_ring(), weight_grams=weight_grams, fineness=fineness)
