"""Paying above the argus' buy offer at the counter: within the role's bound, with a reason,
logged with the purchase (buyback.offer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from buying_fakes import (
    CASH,
    IPHONE,
    NOVEL,
    NOW,
    STAFF_ID,
    STORE_NUMBER,
    TODAY,
    Counter,
    FakeStore,
    FixedOfferArgus,
    line,
    purchase_of,
    transfer_to,
)

from recommerce.buyback.handlers import BuyingPolicy
from recommerce.buyback.offer import OverrideBounds
from recommerce.buyback.payment import Payment
from recommerce.buyback.purchase import PurchaseLine
from recommerce.buyback.quote import Quote, ReferencePriceRule
from recommerce.catalog.model import Article, Grade
from recommerce.clock import FixedClock
from recommerce.errors import DomainError, ErrorCode
from recommerce.money import Money
from recommerce.staff.model import Role
from recommerce.store.settings import StoreSettings
from recommerce.sync.events import PURCHASE_RECORDED

OFFER = Money.euros(100)  # the argus' offer for every object here: a buyer may pay 110 EUR


@pytest.fixture
def argus_offering_100() -> FixedOfferArgus:
    return FixedOfferArgus(OFFER)


@pytest.fixture
def counter_offering_100(
    store: FakeStore, buying_clock: FixedClock, argus_offering_100: FixedOfferArgus
) -> Counter:
    return Counter(store=store, clock=buying_clock, argus=argus_offering_100)


def refusal(
    counter: Counter, *lines: PurchaseLine, role: Role = Role.BUYER, payment: Payment = CASH
) -> DomainError:
    with pytest.raises(DomainError) as refused:
        counter.buy(purchase_of(*lines, role=role, payment=payment))
    return refused.value


# --- negotiation: at or below the offer ---------------------------------------------------------


def test_a_price_at_or_below_the_offer_is_negotiation_and_needs_no_reason(
    counter_offering_100: Counter, store: FakeStore
) -> None:
    counter_offering_100.buy(purchase_of(line(IPHONE, 100), line(IPHONE, 80)))
    assert len(store.items) == 2
    assert store.offer_overrides == []
    [event] = store.events
    assert event.payload["offer_overrides"] == []


# --- a buyer ---------------------------------------------------------------------------------


def test_a_buyer_paying_within_the_bound_with_a_reason_is_accepted_and_logged(
    counter_offering_100: Counter, store: FakeStore
) -> None:
    purchase = counter_offering_100.buy(
        purchase_of(
            line(NOVEL, 20),
            line(IPHONE, 110, grade=Grade.A, override_reason="  boîte et facture d'origine "),
        )
    )
    [override] = store.offer_overrides
    [_, phone] = store.items
    assert override.purchase_id == purchase.id
    assert override.label_code == phone.label_code
    assert (override.article_id, override.grade) == (IPHONE.id, Grade.A)
    assert (override.offer, override.agreed_price) == (OFFER, Money.euros(110))
    assert override.above_offer == Money.euros(10)
    assert override.method == "fixed-offer"
    assert (override.staff_id, override.role) == (STAFF_ID, Role.BUYER)
    assert override.reason == "boîte et facture d'origine"
    assert override.at == NOW
    [event] = store.events
    assert event.type == PURCHASE_RECORDED
    assert event.payload["offer_overrides"] == [
        {
            "label_code": phone.label_code,
            "offer_cents": 10_000,
            "agreed_price_cents": 11_000,
            "method": "fixed-offer",
            "staff_id": STAFF_ID,
            "role": "buyer",
            "reason": "boîte et facture d'origine",
        }
    ]


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_buyer_paying_above_the_offer_without_a_reason_is_refused(
    counter_offering_100: Counter, store: FakeStore, reason: str | None
) -> None:
    refused = refusal(counter_offering_100, line(IPHONE, "100.50", override_reason=reason))
    assert refused.code is ErrorCode.OFFER_OVERRIDE_REASON_MISSING
    assert refused.field == "lines[0].override_reason"
    assert refused.extra["offer_cents"] == 10_000
    assert store.holds_no_purchase()
    assert store.commits == 0


def test_a_buyer_paying_beyond_the_bound_is_refused_and_nothing_is_written(
    counter_offering_100: Counter, store: FakeStore
) -> None:
    refused = refusal(
        counter_offering_100,
        line(NOVEL, 20),
        line(IPHONE, "110.01", override_reason="le client insiste"),
    )
    assert refused.code is ErrorCode.OFFER_OVERRIDE_ABOVE_BOUND
    assert refused.field == "lines[1].agreed_price"
    for named in ("line 2", "Apple iPhone 12", "100.00 EUR", "10 %", "110.00 EUR", "buyer"):
        assert named in refused.message
    assert refused.extra == {
        "offer_cents": 10_000,
        "ceiling_cents": 11_000,
        "percent_above_offer": 10,
        "role": "buyer",
    }
    assert store.holds_no_purchase()
    assert store.commits == 0


def test_beyond_the_bound_the_refusal_names_the_bound_even_without_a_reason(
    counter_offering_100: Counter,
) -> None:
    refused = refusal(counter_offering_100, line(IPHONE, 150))
    assert refused.code is ErrorCode.OFFER_OVERRIDE_ABOVE_BOUND


def test_a_reason_longer_than_the_log_keeps_is_refused(
    counter_offering_100: Counter, store: FakeStore
) -> None:
    refused = refusal(counter_offering_100, line(IPHONE, 105, override_reason="x" * 201))
    assert refused.code is ErrorCode.INVALID_INPUT
    assert refused.field == "lines[0].override_reason"
    assert store.holds_no_purchase()


# --- managers and admins ----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_a_manager_or_admin_may_go_up_to_30_percent_above_the_offer(
    counter_offering_100: Counter, store: FakeStore, role: Role
) -> None:
    counter_offering_100.buy(
        purchase_of(line(IPHONE, 130, override_reason="série limitée"), role=role)
    )
    [override] = store.offer_overrides
    assert override.role is role
    assert override.agreed_price == Money.euros(130)
    refused = refusal(
        counter_offering_100, line(IPHONE, "130.01", override_reason="série limitée"), role=role
    )
    assert refused.code is ErrorCode.OFFER_OVERRIDE_ABOVE_BOUND
    assert refused.extra["role"] == role.value
    assert refused.extra["percent_above_offer"] == 30


def test_what_a_buyer_may_not_pay_a_manager_may(
    counter_offering_100: Counter, store: FakeStore
) -> None:
    over_buyer_bound = line(IPHONE, 120, override_reason="état neuf, sous garantie")
    refused = refusal(counter_offering_100, over_buyer_bound)
    assert refused.code is ErrorCode.OFFER_OVERRIDE_ABOVE_BOUND
    counter_offering_100.buy(purchase_of(over_buyer_bound, role=Role.MANAGER))
    assert [o.role for o in store.offer_overrides] == [Role.MANAGER]


# --- the store's bounds -----------------------------------------------------------------------


def test_the_store_sets_each_roles_bound(
    store: FakeStore, buying_clock: FixedClock, argus_offering_100: FixedOfferArgus
) -> None:
    policy = BuyingPolicy(
        store_number=STORE_NUMBER, override_bounds=OverrideBounds({Role.BUYER: 20})
    )
    counter = Counter(store=store, clock=buying_clock, policy=policy, argus=argus_offering_100)
    counter.buy(purchase_of(line(IPHONE, 120, override_reason="accessoires complets")))
    assert len(store.offer_overrides) == 1
    # A role the store does not name may not pay above the offer at all.
    refused = refusal(
        counter, line(IPHONE, "100.01", override_reason="accessoires"), role=Role.MANAGER
    )
    assert refused.code is ErrorCode.OFFER_OVERRIDE_ABOVE_BOUND
    assert refused.extra["ceiling_cents"] == 10_000
    counter.buy(purchase_of(line(IPHONE, 100), role=Role.MANAGER))


def test_the_store_settings_give_the_bounds_per_role_as_percent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = StoreSettings().offer_override_bounds
    assert [defaults.percent(r) for r in Role] == [10, 0, 30, 30]
    monkeypatch.setenv("RECOMMERCE_BUY_OFFER_OVERRIDE_PERCENT", '{"buyer": 15, "admin": 50}')
    bounds = StoreSettings().offer_override_bounds
    assert [bounds.percent(r) for r in Role] == [15, 0, 0, 50]
    monkeypatch.setenv("RECOMMERCE_BUY_OFFER_OVERRIDE_PERCENT", '{"buyer": -5}')
    with pytest.raises(ValueError, match="between 0 and 1000"):
        StoreSettings()


def test_the_bound_is_a_share_of_the_offer_to_the_cent_not_to_the_offers_50_cent_step(
    store: FakeStore, buying_clock: FixedClock
) -> None:
    counter = Counter(store=store, clock=buying_clock, argus=ReferencePriceRule())
    offer = ReferencePriceRule().quote(IPHONE, Grade.B, on=TODAY).buy_offer
    assert offer == Money.euros(142)  # the reference-price rule's offer for this phone
    refused = refusal(counter, line(IPHONE, "156.21", override_reason="chargeur d'origine"))
    assert refused.extra["ceiling_cents"] == 15_620
    counter.buy(purchase_of(line(IPHONE, "156.20", override_reason="chargeur d'origine")))
    [override] = store.offer_overrides
    assert override.method == "reference-price-rule-v1"


# --- with the rest of the purchase ------------------------------------------------------------


def test_an_override_of_a_purchase_refused_for_another_reason_is_not_logged(
    store: FakeStore, buying_clock: FixedClock
) -> None:
    counter = Counter(store=store, clock=buying_clock, argus=FixedOfferArgus(Money.euros(600)))
    refused = refusal(
        counter,
        line(IPHONE, 600),
        line(IPHONE, 650, override_reason="coloris rare"),
        payment=CASH,
    )
    assert refused.code is ErrorCode.CASH_LIMIT_EXCEEDED
    assert store.offer_overrides == []
    assert store.holds_no_purchase()


@dataclass
class CountingArgus:
    quoted: list[str] = field(default_factory=list)

    def quote(self, article: Article, grade: Grade, *, on: date) -> Quote:
        self.quoted.append(article.id)
        return FixedOfferArgus(OFFER).quote(article, grade, on=on)


def test_the_counter_asks_the_argus_once_per_object(
    store: FakeStore, buying_clock: FixedClock
) -> None:
    argus = CountingArgus()
    counter = Counter(store=store, clock=buying_clock, argus=argus)
    counter.buy(
        purchase_of(
            line(IPHONE, 105, override_reason="facture"),
            line(IPHONE, 90, asking_price=Money.euros(329)),
            line(NOVEL, 5),
            payment=transfer_to(),
        )
    )
    assert argus.quoted == [IPHONE.id, IPHONE.id, NOVEL.id]
    quoted_resale = FixedOfferArgus(OFFER).quote(IPHONE, Grade.B, on=TODAY).resale_price
    assert [i.asking_price for i in store.items][:2] == [quoted_resale, Money.euros(329)]
