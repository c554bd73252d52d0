"""The buying counter's handler, on an in-memory unit of work (business-rules A.1-A.8, B.9-B.10).

Either everything is written (purchase, register entries, items with labels, outbox event)
or nothing is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest
from buying_fakes import (
    CASH,
    GOLD,
    IPHONE,
    NOVEL,
    NOW,
    STAFF_ID,
    STORE_NUMBER,
    VALID_IMEI,
    Counter,
    FakeStore,
    FakeUnitOfWork,
    gold_line,
    line,
    make_seller,
    purchase_of,
    transfer_to,
)

from recommerce.buyback.payment import Payment, PaymentMethod
from recommerce.buyback.purchase import RecordPurchase
from recommerce.buyback.watchlist import WatchlistEntry
from recommerce.catalog.model import Grade
from recommerce.clock import FixedClock
from recommerce.errors import DomainError, ErrorCode
from recommerce.inventory.labels import label_code, parse_label_code
from recommerce.inventory.model import Item, ItemStatus, VatRegime
from recommerce.money import Money
from recommerce.registers.police import EntryKind, RegisterBook, RegisterEntry
from recommerce.sync.events import PURCHASE_RECORDED

STOLEN = WatchlistEntry("C02XK1QZ", date(2025, 5, 1), "Commissariat Lyon 3", "PV 2025/77")
STOLEN_PHONE = WatchlistEntry(VALID_IMEI, date(2025, 5, 2), "Commissariat Lyon 6", "PV 2025/78")


def entry_holding(store: FakeStore, item: Item) -> RegisterEntry:
    [entry] = [
        e
        for e in store.register
        if e.book.value == item.register_book and e.number == item.register_number
    ]
    assert item.label_code in [o.label_code for o in entry.objects]
    return entry


def numbers(store: FakeStore, book: RegisterBook) -> list[int]:
    return [e.number for e in store.register if e.book is book]


# --- the fake itself --------------------------------------------------------------------


def test_fake_unit_of_work_keeps_only_what_was_committed(store: FakeStore) -> None:
    with FakeUnitOfWork(store) as uow:
        uow.watchlist.record_alert(at=NOW, staff_id="s", seller_name="x", matches=[])
    assert store.alerts == []
    with FakeUnitOfWork(store) as uow:
        uow.watchlist.record_alert(at=NOW, staff_id="s", seller_name="x", matches=[])
        uow.commit()
        uow.watchlist.record_alert(at=NOW, staff_id="s", seller_name="y", matches=[])
    assert [a["seller_name"] for a in store.alerts] == ["x"]


def test_fake_unit_of_work_cannot_be_used_outside_its_block(store: FakeStore) -> None:
    uow = FakeUnitOfWork(store)
    with pytest.raises(RuntimeError):
        uow.items.next_label_sequence()
    with pytest.raises(RuntimeError):
        uow.commit()


# --- a purchase that goes through -------------------------------------------------------


def test_successful_purchase_writes_purchase_entries_items_and_one_event(
    counter: Counter, store: FakeStore
) -> None:
    cmd = purchase_of(
        line(IPHONE, 250, imei="49-015420-323751-8", accessories=("chargeur",)),
        line(NOVEL, 3),
        line(IPHONE, 180, grade=Grade.C, serial_number="sn 77-ab"),
    )
    purchase = counter.buy(cmd)

    assert store.purchases == [purchase]
    assert store.commits == 1
    assert purchase.total == Money.euros(433)
    assert purchase.occurred_at == NOW
    assert purchase.store_number == STORE_NUMBER
    assert purchase.staff_id == STAFF_ID
    assert purchase.seller == cmd.seller
    assert purchase.seller_key == counter.keys.seller_key(cmd.seller.document)

    # business-rules A.3: entries numbered per store, consecutive, from 1.
    assert numbers(store, RegisterBook.GENERAL) == [1, 2, 3]
    assert purchase.register_numbers == (("general", 1), ("general", 2), ("general", 3))
    for entry in store.register:
        assert entry.kind is EntryKind.ACQUISITION
        assert entry.recorded_at == NOW
        assert entry.seller == cmd.seller
        assert entry.purchase_id == purchase.id
        assert entry.payment_method == "cash"
        assert entry.payment_summary == "espèces"
        assert entry.recorded_by == STAFF_ID

    # One item per object, each labelled and pointing at the entry that holds it.
    assert [i.id for i in store.items] == list(purchase.item_ids)
    assert [i.label_code for i in store.items] == [label_code(STORE_NUMBER, n) for n in (1, 2, 3)]
    for item in store.items:
        assert parse_label_code(item.label_code)[0] == STORE_NUMBER
        assert entry_holding(store, item)
        assert item.status is ItemStatus.IN_STOCK
        assert item.purchase_id == purchase.id
        assert item.created_at == NOW
        assert item.created_by == STAFF_ID
        assert item.vat_regime is VatRegime.MARGIN
        assert item.resale_blocked_until is None

    [event] = store.events
    assert event.type == PURCHASE_RECORDED
    assert event.occurred_at == NOW
    assert event.payload["purchase_id"] == purchase.id
    assert event.payload["total_cents"] == 43_300
    assert event.payload["payment_method"] == "cash"
    assert [i["label_code"] for i in event.payload["items"]] == [i.label_code for i in store.items]
    assert [(e["book"], e["number"]) for e in event.payload["register_entries"]] == list(
        purchase.register_numbers
    )


def test_serials_and_imei_are_normalised_and_written_in_the_register(
    counter: Counter, store: FakeStore
) -> None:
    # business-rules A.2: the description includes serial numbers and IMEI.
    counter.buy(
        purchase_of(
            line(
                IPHONE,
                250,
                imei="49-015420-323751-8",
                serial_number="f2l-xq 19",
                description="rayure dos",
            ),
            line(IPHONE, 200, accessories=("chargeur", "boîte")),
        )
    )
    phone, other = store.items
    assert phone.serials == (VALID_IMEI, "F2LXQ19")
    description = entry_holding(store, phone).objects[0].description
    assert description == f"rayure dos ; IMEI {VALID_IMEI} ; S/N F2LXQ19"
    assert entry_holding(store, phone).serials == (VALID_IMEI, "F2LXQ19")
    assert entry_holding(store, other).objects[0].description == "accessoires : chargeur, boîte"
    assert other.accessories == ("chargeur", "boîte")


def test_register_object_states_nature_characteristics_provenance_and_price(
    counter: Counter, store: FakeStore
) -> None:
    counter.buy(purchase_of(line(IPHONE, "249.90", grade=Grade.A)))
    [entry] = store.register
    [obj] = entry.objects
    assert obj.nature == "Téléphones"
    assert obj.characteristics == "Apple iPhone 12, grade A"
    assert obj.provenance == "achat à un particulier"
    assert obj.price == Money.euros("249.90")
    assert entry.total_price == Money.euros("249.90")


def test_asking_price_comes_from_the_quote_unless_the_buyer_sets_it(
    counter: Counter, store: FakeStore
) -> None:
    counter.buy(
        purchase_of(
            line(IPHONE, 200, grade=Grade.B), line(IPHONE, 200, asking_price=Money.euros(329))
        )
    )
    quoted, chosen = store.items
    assert quoted.asking_price == counter.argus.quote(IPHONE, Grade.B, on=NOW.date()).resale_price
    assert chosen.asking_price == Money.euros(329)
    assert quoted.purchase_price == chosen.purchase_price == Money.euros(200)


def test_register_numbering_continues_across_purchases_without_gap(
    counter: Counter, store: FakeStore
) -> None:
    counter.buy(purchase_of(line(IPHONE, 250), line(IPHONE, 150)))
    second = counter.buy(purchase_of(line(IPHONE, 300)))
    assert numbers(store, RegisterBook.GENERAL) == [1, 2, 3]
    assert second.register_numbers == (("general", 3),)
    assert [parse_label_code(i.label_code)[1] for i in store.items] == [1, 2, 3]
    assert len(store.events) == 2


def test_lots_group_small_objects_in_one_entry_first(counter: Counter, store: FakeStore) -> None:
    # business-rules A.4: objects of 60 EUR or less may share one lot entry.
    purchase = counter.buy(purchase_of(line(NOVEL, 20), line(IPHONE, 200), line(NOVEL, 20)))
    lot, single = store.register
    assert (lot.number, single.number) == (1, 2)
    assert lot.is_lot
    assert [o.price for o in lot.objects] == [Money.euros(20), Money.euros(20)]
    assert [o.price for o in single.objects] == [Money.euros(200)]
    books_first, phone, books_second = store.items
    assert books_first.register_number == books_second.register_number == 1
    assert phone.register_number == 2
    assert purchase.register_numbers == (("general", 1), ("general", 2))


def test_without_lots_each_object_gets_its_own_entry(counter: Counter, store: FakeStore) -> None:
    counter.buy(purchase_of(line(NOVEL, 20), line(IPHONE, 200), line(NOVEL, 20), group_lots=False))
    assert numbers(store, RegisterBook.GENERAL) == [1, 2, 3]
    assert not any(e.is_lot for e in store.register)
    assert [i.register_number for i in store.items] == [1, 2, 3]


def test_purchase_of_exactly_1000_eur_may_be_paid_cash(counter: Counter, store: FakeStore) -> None:
    counter.buy(purchase_of(line(IPHONE, 600), line(IPHONE, 400), payment=CASH))
    assert len(store.purchases) == 1


def test_purchase_over_1000_eur_may_be_paid_by_transfer(counter: Counter, store: FakeStore) -> None:
    purchase = counter.buy(purchase_of(line(IPHONE, 700), line(IPHONE, 700), payment=transfer_to()))
    assert purchase.total == Money.euros(1400)
    assert store.register[0].payment_method == "bank_transfer"
    assert store.register[0].payment_summary == "virement Marie Dupont IBAN …2606"


# --- precious metals -------------------------------------------------------------------


def test_precious_metals_go_to_their_own_register_with_their_own_numbering(
    counter: Counter, store: FakeStore
) -> None:
    # business-rules A.8: a separate register with weight and fineness.
    purchase = counter.buy(
        purchase_of(
            gold_line(300, weight_grams="4.20", fineness=750),
            line(IPHONE, 250),
            gold_line(20, weight_grams="0.80", fineness=375),
            gold_line(20, weight_grams="0.90", fineness=375),
            payment=transfer_to(),
        )
    )
    assert numbers(store, RegisterBook.GENERAL) == [1]
    assert numbers(store, RegisterBook.PRECIOUS_METALS) == [1, 2, 3]  # never grouped in a lot
    assert sorted(purchase.register_numbers) == [
        ("general", 1),
        ("precious_metals", 1),
        ("precious_metals", 2),
        ("precious_metals", 3),
    ]
    ring = store.items[0]
    entry = entry_holding(store, ring)
    assert entry.book is RegisterBook.PRECIOUS_METALS
    assert ring.register_book == "precious_metals"
    [obj] = entry.objects
    assert obj.nature == GOLD.name
    assert (obj.weight_grams, obj.fineness) == ("4.20", 750)
    assert obj.characteristics == "- Bague, grade B, 4.20 g, titre 750/1000"
    assert (ring.weight_grams, ring.fineness) == ("4.20", 750)
    phone = store.items[1]
    assert entry_holding(store, phone).book is RegisterBook.GENERAL


def test_precious_metals_cannot_be_resold_for_48_hours(counter: Counter, store: FakeStore) -> None:
    # business-rules A.8: the seller may withdraw within 48 hours.
    counter.buy(purchase_of(gold_line(300), line(IPHONE, 250), payment=transfer_to()))
    ring, phone = store.items
    assert ring.resale_blocked_until == NOW + timedelta(hours=48)
    assert phone.resale_blocked_until is None
    [event] = store.events
    assert (
        event.payload["items"][0]["resale_blocked_until"] == (NOW + timedelta(hours=48)).isoformat()
    )
    assert event.payload["items"][1]["resale_blocked_until"] is None


def test_precious_metals_numbering_is_independent_of_the_general_register(
    counter: Counter, store: FakeStore
) -> None:
    counter.buy(purchase_of(line(IPHONE, 250), line(IPHONE, 150)))
    counter.buy(purchase_of(gold_line(300), payment=transfer_to()))
    counter.buy(purchase_of(line(IPHONE, 100), gold_line(200), payment=transfer_to()))
    assert numbers(store, RegisterBook.GENERAL) == [1, 2, 3]
    assert numbers(store, RegisterBook.PRECIOUS_METALS) == [1, 2]


def test_precious_metals_paid_by_crossed_cheque_to_the_seller(
    counter: Counter, store: FakeStore
) -> None:
    cheque = Payment(PaymentMethod.CHEQUE, account_holder="DUPONT Marie")
    counter.buy(purchase_of(gold_line(1500), payment=cheque))
    assert store.register[0].payment_summary == "chèque barré à l'ordre de DUPONT Marie"


# --- refusals: nothing is written -------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    cmd: Callable[[], RecordPurchase]
    code: ErrorCode
    field: str | None = None


REFUSALS: dict[str, Refusal] = {
    "seller under 18": Refusal(
        lambda: purchase_of(line(), seller=make_seller(birth_date=date(2008, 1, 1))),
        ErrorCode.SELLER_UNDER_18,
        "seller.birth_date",
    ),
    "expired identity document": Refusal(
        lambda: purchase_of(line(), seller=make_seller(document={"expires_on": date(2025, 6, 1)})),
        ErrorCode.IDENTITY_DOCUMENT_EXPIRED,
        "seller.document.expires_on",
    ),
    "identity without address": Refusal(
        lambda: purchase_of(line(), seller=make_seller(address=" ")),
        ErrorCode.IDENTITY_FIELD_MISSING,
        "seller.address",
    ),
    "identity without issuing authority": Refusal(
        lambda: purchase_of(line(), seller=make_seller(document={"issuing_authority": ""})),
        ErrorCode.IDENTITY_FIELD_MISSING,
        "seller.document.issuing_authority",
    ),
    "imei with a wrong check digit": Refusal(
        lambda: purchase_of(line(NOVEL, 5), line(IPHONE, 250, imei="490154203237517")),
        ErrorCode.INVALID_IMEI,
        "lines[1].imei",
    ),
    "empty serial number": Refusal(
        lambda: purchase_of(line(IPHONE, 250, serial_number=" - ")),
        ErrorCode.INVALID_INPUT,
        "lines[0].serial_number",
    ),
    "cash over 1000 eur": Refusal(
        lambda: purchase_of(line(IPHONE, 700), line(IPHONE, "300.01"), payment=CASH),
        ErrorCode.CASH_LIMIT_EXCEEDED,
        "payment.method",
    ),
    "precious metals paid cash": Refusal(
        lambda: purchase_of(line(IPHONE, 200), gold_line(50), payment=CASH),
        ErrorCode.PRECIOUS_METAL_CASH_FORBIDDEN,
        "payment.method",
    ),
    "precious metals paid to someone else's account": Refusal(
        lambda: purchase_of(gold_line(300), payment=transfer_to("Jean Martin")),
        ErrorCode.ACCOUNT_NOT_IN_SELLER_NAME,
        "payment.account_holder",
    ),
    "precious metals without weight": Refusal(
        lambda: purchase_of(gold_line(300, weight_grams=None), payment=transfer_to()),
        ErrorCode.PRECIOUS_METAL_FACTS_MISSING,
        "lines[0].weight_grams",
    ),
    "precious metals without fineness": Refusal(
        lambda: purchase_of(line(), gold_line(300, fineness=None), payment=transfer_to()),
        ErrorCode.PRECIOUS_METAL_FACTS_MISSING,
        "lines[1].fineness",
    ),
    "transfer without iban": Refusal(
        lambda: purchase_of(line(), payment=Payment(PaymentMethod.BANK_TRANSFER, "Marie Dupont")),
        ErrorCode.PAYMENT_DETAILS_MISSING,
        "payment.iban",
    ),
    "unknown article": Refusal(
        lambda: purchase_of(line(), line(replace(IPHONE, id="art-unknown"))),
        ErrorCode.ARTICLE_NOT_FOUND,
        "lines[1].article_id",
    ),
    "price of zero": Refusal(
        lambda: purchase_of(line(IPHONE, 0)), ErrorCode.INVALID_AMOUNT, "lines[0].agreed_price"
    ),
    "no object": Refusal(lambda: purchase_of(), ErrorCode.INVALID_INPUT, "lines"),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_refused_purchase_writes_nothing(counter: Counter, store: FakeStore, case: str) -> None:
    refusal = REFUSALS[case]
    with pytest.raises(DomainError) as refused:
        counter.buy(refusal.cmd())
    assert refused.value.code is refusal.code
    assert refused.value.field == refusal.field
    assert store.holds_no_purchase()
    assert store.alerts == []
    assert store.commits == 0


def test_cash_purchases_split_to_dodge_the_cap_are_refused(
    counter: Counter, store: FakeStore, buying_clock: FixedClock
) -> None:
    # business-rules B.9: one purchase must not be split to stay under the cap.
    counter.buy(purchase_of(line(IPHONE, 600), payment=CASH))
    buying_clock.advance(timedelta(hours=3))
    before = store.snapshot()
    with pytest.raises(DomainError) as refused:
        counter.buy(purchase_of(line(IPHONE, 500), payment=CASH))
    assert refused.value.code is ErrorCode.CASH_SPLIT_SUSPECTED
    assert store.snapshot() == before


def test_same_seller_with_another_document_instance_is_still_recognised(
    counter: Counter, store: FakeStore
) -> None:
    counter.buy(purchase_of(line(IPHONE, 600), payment=CASH))
    same_person = make_seller(address="autre adresse, 75001 Paris")
    with pytest.raises(DomainError) as refused:
        counter.buy(purchase_of(line(IPHONE, 500), seller=same_person, payment=CASH))
    assert refused.value.code is ErrorCode.CASH_SPLIT_SUSPECTED


def test_cash_paid_more_than_24_hours_ago_does_not_count_toward_the_cap(
    counter: Counter, store: FakeStore, buying_clock: FixedClock
) -> None:
    counter.buy(purchase_of(line(IPHONE, 600), payment=CASH))
    buying_clock.advance(timedelta(hours=24, minutes=1))
    counter.buy(purchase_of(line(IPHONE, 500), payment=CASH))
    assert len(store.purchases) == 2


def test_a_previous_purchase_paid_by_transfer_does_not_count_toward_the_cash_cap(
    counter: Counter, store: FakeStore
) -> None:
    counter.buy(purchase_of(line(IPHONE, 900), payment=transfer_to()))
    counter.buy(purchase_of(line(IPHONE, 900), payment=CASH))
    assert len(store.purchases) == 2


def test_cash_paid_to_another_seller_does_not_count(counter: Counter, store: FakeStore) -> None:
    counter.buy(purchase_of(line(IPHONE, 900), payment=CASH))
    other = make_seller(surname="Martin", document={"number": "18AB12345"})
    counter.buy(purchase_of(line(IPHONE, 900), seller=other, payment=CASH))
    assert len(store.purchases) == 2


def test_failed_register_write_fails_the_purchase(counter: Counter, store: FakeStore) -> None:
    # business-rules A.1: a failed register write fails the purchase.
    store.fail_register_append = True
    with pytest.raises(OSError):
        counter.buy(purchase_of(line(IPHONE, 250), line(NOVEL, 5)))
    assert store.holds_no_purchase()
    assert store.commits == 0


# --- the watchlist of stolen goods ------------------------------------------------------


@pytest.fixture
def watched_store(store: FakeStore) -> FakeStore:
    store.watchlist.extend([STOLEN, STOLEN_PHONE])
    return store


def test_serial_on_the_watchlist_refuses_the_purchase_and_alerts_the_manager(
    counter: Counter, watched_store: FakeStore
) -> None:
    # business-rules A.7
    seller = make_seller()
    with pytest.raises(DomainError) as refused:
        counter.buy(
            purchase_of(
                line(NOVEL, 5), line(IPHONE, 250, serial_number="c02-xk1 qz"), seller=seller
            )
        )
    assert refused.value.code is ErrorCode.SERIAL_ON_WATCHLIST
    assert refused.value.field == "lines"
    assert refused.value.extra["serials"] == ["C02XK1QZ"]
    assert watched_store.holds_no_purchase()
    assert watched_store.alerts == [
        {
            "at": NOW,
            "staff_id": STAFF_ID,
            "seller_name": seller.display_name,
            "matches": [STOLEN],
        }
    ]
    assert watched_store.commits == 1  # the alert, and nothing else


def test_imei_on_the_watchlist_refuses_the_purchase_whatever_its_typing(
    counter: Counter, watched_store: FakeStore
) -> None:
    with pytest.raises(DomainError) as refused:
        counter.buy(purchase_of(line(IPHONE, 250, imei="49 015420 323751 8")))
    assert refused.value.code is ErrorCode.SERIAL_ON_WATCHLIST
    assert watched_store.holds_no_purchase()
    assert len(watched_store.alerts) == 1
    assert watched_store.alerts[0]["matches"] == [STOLEN_PHONE]


def test_imei_typed_without_its_check_digit_cannot_slip_past_the_watchlist(
    counter: Counter, watched_store: FakeStore
) -> None:
    with pytest.raises(DomainError):
        counter.buy(purchase_of(line(IPHONE, 250, imei=VALID_IMEI[:14])))
    assert watched_store.holds_no_purchase()


def test_a_serial_not_on_the_watchlist_is_bought(
    counter: Counter, watched_store: FakeStore
) -> None:
    counter.buy(purchase_of(line(IPHONE, 250, serial_number="C02XK1QY")))
    assert len(watched_store.purchases) == 1
    assert watched_store.alerts == []


# --- what leaves the store -------------------------------------------------------------


def test_purchase_event_does_not_carry_the_sellers_identity(
    counter: Counter, store: FakeStore
) -> None:
    # business-rules F.24: the identity document stays in the store's register.
    seller = make_seller()
    counter.buy(purchase_of(line(IPHONE, 250), line(NOVEL, 5), seller=seller))
    [event] = store.events
    text = repr(event.payload)
    for private in (seller.document.number, seller.surname, seller.address, seller.first_names):
        assert private not in text
    assert event.payload["seller_key"] == store.purchases[0].seller_key
