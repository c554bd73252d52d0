"""Police register entries, lots and corrections (business-rules A.2-A.5, A.8)."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import timedelta

import pytest
from buying_fakes import NOW, make_seller

from recommerce.errors import DomainError, ErrorCode
from recommerce.money import Money
from recommerce.registers.police import (
    LOT_MAX_UNIT_PRICE,
    EntryKind,
    RegisterBook,
    RegisteredObject,
    RegisterEntry,
    correction_of,
    group_into_entries,
)


def an_object(price: str | int, label: str = "2042000000017", *serials: str) -> RegisteredObject:
    return RegisteredObject(
        label_code=label,
        nature="Livres",
        characteristics="Gallimard Folio, grade B",
        description="",
        provenance="achat à un particulier",
        price=Money.euros(price),
        serials=serials,
    )


def an_entry(*objects: RegisteredObject, number: int = 7) -> RegisterEntry:
    return RegisterEntry(
        book=RegisterBook.GENERAL,
        number=number,
        recorded_at=NOW,
        kind=EntryKind.ACQUISITION,
        seller=make_seller(),
        objects=objects or (an_object(250),),
        payment_method="cash",
        payment_summary="espèces",
        recorded_by="staff-1",
        purchase_id="purchase-1",
    )


def labels(groups: list[list[RegisteredObject]]) -> list[list[str]]:
    return [[o.label_code for o in g] for g in groups]


def test_the_lot_threshold_is_60_eur() -> None:
    assert Money.euros(60) == LOT_MAX_UNIT_PRICE


def test_objects_of_60_eur_or_less_may_share_one_lot_entry() -> None:
    # business-rules A.4 (R321-5)
    small = [an_object(20, "a"), an_object(60, "b"), an_object("0.50", "c")]
    groups = group_into_entries(small, book=RegisterBook.GENERAL, allow_lots=True)
    assert labels(groups) == [["a", "b", "c"]]


def test_an_object_over_60_eur_gets_its_own_entry() -> None:
    objects = [an_object(20, "a"), an_object("60.01", "b"), an_object(200, "c"), an_object(5, "d")]
    groups = group_into_entries(objects, book=RegisterBook.GENERAL, allow_lots=True)
    assert labels(groups) == [["a", "d"], ["b"], ["c"]]  # the lot comes first


def test_without_lots_every_object_gets_its_own_entry() -> None:
    objects = [an_object(20, "a"), an_object(20, "b")]
    groups = group_into_entries(objects, book=RegisterBook.GENERAL, allow_lots=False)
    assert labels(groups) == [["a"], ["b"]]


def test_precious_metals_are_never_grouped_in_a_lot() -> None:
    # business-rules A.8: each piece with its own weight and fineness.
    objects = [an_object(20, "a"), an_object(20, "b")]
    groups = group_into_entries(objects, book=RegisterBook.PRECIOUS_METALS, allow_lots=True)
    assert labels(groups) == [["a"], ["b"]]


def test_no_objects_make_no_entry() -> None:
    assert group_into_entries([], book=RegisterBook.GENERAL, allow_lots=True) == []


def test_a_lot_entry_totals_its_objects_and_lists_their_serials() -> None:
    entry = an_entry(an_object(20, "a", "SN1"), an_object("35.50", "b", "SN2", "SN3"))
    assert entry.is_lot
    assert entry.total_price == Money.euros("55.50")
    assert entry.serials == ("SN1", "SN2", "SN3")
    assert not an_entry(an_object(20)).is_lot


def test_an_entry_cannot_be_edited() -> None:
    # business-rules A.5: append-only, nothing is edited.
    entry = an_entry()
    with pytest.raises(FrozenInstanceError):
        entry.number = 8  # type: ignore[misc]


def test_a_correction_is_a_new_entry_linked_to_the_original() -> None:
    # business-rules A.5: a correction is a new entry that points at the one it corrects.
    original = an_entry(number=7)
    corrected_seller = make_seller(address="14 rue de la République, 69002 Lyon")
    later = NOW + timedelta(hours=2)
    correction = correction_of(
        original,
        number=12,
        recorded_at=later,
        recorded_by="manager-1",
        reason="  wrong street number  ",
        seller=corrected_seller,
    )
    assert correction.kind is EntryKind.CORRECTION
    assert correction.number == 12
    assert correction.corrects == 7
    assert correction.recorded_at == later
    assert correction.recorded_by == "manager-1"
    assert correction.reason == "wrong street number"
    assert correction.seller == corrected_seller
    assert correction.objects == original.objects
    assert correction.purchase_id == original.purchase_id
    # The original stays as it was.
    assert original == an_entry(number=7)
    assert original.kind is EntryKind.ACQUISITION
    assert original.corrects is None


def test_a_correction_may_restate_the_objects() -> None:
    original = an_entry(an_object(250, "a", "SN-WRONG"), number=3)
    fixed = (an_object(250, "a", "SN-RIGHT"),)
    correction = correction_of(
        original, number=4, recorded_at=NOW, recorded_by="m", reason="typo", objects=fixed
    )
    assert correction.objects == fixed
    assert correction.seller == original.seller
    assert original.serials == ("SN-WRONG",)


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_correction_needs_its_reason(reason: str) -> None:
    with pytest.raises(DomainError) as refused:
        correction_of(
            an_entry(),
            number=8,
            recorded_at=NOW,
            recorded_by="m",
            reason=reason,
            seller=make_seller(),
        )
    assert refused.value.code is ErrorCode.INVALID_INPUT
    assert refused.value.field == "reason"


def test_a_correction_must_change_something() -> None:
    with pytest.raises(DomainError) as refused:
        correction_of(an_entry(), number=8, recorded_at=NOW, recorded_by="m", reason="why")
    assert refused.value.code is ErrorCode.INVALID_INPUT
