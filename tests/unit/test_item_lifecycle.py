"""An item's status moves only as ALLOWED_TRANSITIONS says, enforced in one `set_status`."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from recommerce.catalog.model import Grade
from recommerce.errors import DomainError, ErrorCode
from recommerce.inventory.model import ALLOWED_TRANSITIONS, Item, ItemStatus, VatRegime
from recommerce.money import Money

ALL_MOVES = list(itertools.product(ItemStatus, ItemStatus))
ALLOWED = [(a, b) for a, b in ALL_MOVES if b in ALLOWED_TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a, b in ALL_MOVES if b not in ALLOWED_TRANSITIONS[a]]


def an_item(status: ItemStatus = ItemStatus.IN_STOCK) -> Item:
    return Item(
        id="item-1",
        label_code="2042000000017",
        store_number=42,
        article_id="art-iphone-12",
        grade=Grade.B,
        purchase_id="purchase-1",
        purchase_price=Money.euros(200),
        asking_price=Money.euros(349),
        vat_regime=VatRegime.MARGIN,
        register_number=1,
        register_book="general",
        created_at=datetime(2025, 6, 2, 10, 30, tzinfo=UTC),
        created_by="staff-1",
        status=status,
    )


def test_every_status_has_its_allowed_moves_written_down() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(ItemStatus)
    assert ALLOWED and FORBIDDEN


def test_a_new_item_is_in_stock() -> None:
    item = an_item()
    assert item.status is ItemStatus.IN_STOCK
    assert item.history == []


@pytest.mark.parametrize(("current", "new"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_allowed_move_changes_the_status_and_is_kept_in_history(
    current: ItemStatus, new: ItemStatus
) -> None:
    item = an_item(current)
    item.set_status(new)
    assert item.status is new
    assert item.history == [(current, new)]


@pytest.mark.parametrize(("current", "new"), FORBIDDEN, ids=[f"{a}->{b}" for a, b in FORBIDDEN])
def test_forbidden_move_is_refused_and_leaves_the_item_as_it_was(
    current: ItemStatus, new: ItemStatus
) -> None:
    item = an_item(current)
    with pytest.raises(DomainError) as refused:
        item.set_status(new)
    assert refused.value.code is ErrorCode.ITEM_STATUS_TRANSITION_FORBIDDEN
    assert refused.value.field == "status"
    assert refused.value.extra == {"current": current.value, "requested": new.value}
    assert item.status is current
    assert item.history == []


def test_sold_item_cannot_be_reserved() -> None:
    item = an_item(ItemStatus.SOLD)
    with pytest.raises(DomainError) as refused:
        item.set_status(ItemStatus.RESERVED)
    assert refused.value.code is ErrorCode.ITEM_STATUS_TRANSITION_FORBIDDEN
    assert item.status is ItemStatus.SOLD


def test_sold_item_cannot_be_sold_twice() -> None:
    item = an_item(ItemStatus.SOLD)
    with pytest.raises(DomainError):
        item.set_status(ItemStatus.SOLD)


def test_item_in_transit_cannot_be_sold_by_either_till() -> None:
    with pytest.raises(DomainError):
        an_item(ItemStatus.IN_TRANSIT).set_status(ItemStatus.SOLD)


@pytest.mark.parametrize("final", [ItemStatus.SCRAPPED, ItemStatus.WITHDRAWN])
def test_scrapped_and_withdrawn_items_are_final(final: ItemStatus) -> None:
    assert ALLOWED_TRANSITIONS[final] == frozenset()
    for new in ItemStatus:
        with pytest.raises(DomainError):
            an_item(final).set_status(new)


def test_a_returned_sale_goes_back_in_stock_or_to_repair() -> None:
    item = an_item()
    item.set_status(ItemStatus.RESERVED)
    item.set_status(ItemStatus.SOLD)
    item.set_status(ItemStatus.TO_REPAIR)
    item.set_status(ItemStatus.IN_STOCK)
    assert item.history == [
        (ItemStatus.IN_STOCK, ItemStatus.RESERVED),
        (ItemStatus.RESERVED, ItemStatus.SOLD),
        (ItemStatus.SOLD, ItemStatus.TO_REPAIR),
        (ItemStatus.TO_REPAIR, ItemStatus.IN_STOCK),
    ]


def test_a_reservation_can_be_released_back_to_stock() -> None:
    item = an_item(ItemStatus.RESERVED)
    item.set_status(ItemStatus.IN_STOCK)
    assert item.status is ItemStatus.IN_STOCK
