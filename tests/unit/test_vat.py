"""VAT at the till: on the margin for second-hand goods, normal otherwise (rules C.12-C.15, D.18)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recommerce.errors import DomainError, ErrorCode
from recommerce.fiscal import legal
from recommerce.fiscal.vat import (
    STANDARD_RATE,
    TaxedLine,
    VatRow,
    margin_scheme_vat,
    normal_vat,
    receipt_mentions,
    reverse,
    tax_line,
    vat_breakdown,
)
from recommerce.inventory.model import VatRegime
from recommerce.money import Money, total

MARGIN = VatRegime.MARGIN
NORMAL = VatRegime.NORMAL

cents = st.integers(min_value=0, max_value=10_000_000).map(Money)
rates = st.sampled_from([Fraction(20), Fraction(10), Fraction(55, 10), Fraction(21, 10)])


# --- rule C.12: the worked examples ---------------------------------------------------------


def test_margin_vat_bought_100_sold_160_is_10_euros() -> None:
    assert margin_scheme_vat(Money.euros(160), Money.euros(100)) == Money.euros("10.00")


def test_margin_vat_bought_100_sold_90_is_zero() -> None:
    assert margin_scheme_vat(Money.euros(90), Money.euros(100)) == Money.zero()


def test_margin_vat_sold_at_the_purchase_price_is_zero() -> None:
    assert margin_scheme_vat(Money.euros(100), Money.euros(100)) == Money.zero()


def test_margin_vat_is_rounded_once_half_away_from_zero() -> None:
    # margin 50.01 -> 50.01 / 6 = 8.335 exactly -> 8.34
    assert margin_scheme_vat(Money.euros("150.01"), Money.euros(100)) == Money.euros("8.34")


def test_margin_vat_at_a_reduced_rate() -> None:
    # margin 110 at 10 % -> 110 x 10 / 110 = 10.00
    assert margin_scheme_vat(Money.euros(210), Money.euros(100), Fraction(10)) == Money.euros(10)


def test_a_negative_margin_does_not_offset_other_items_in_the_basket() -> None:
    at_a_loss = tax_line(MARGIN, Money.euros(90), Money.euros(100))  # margin -10 -> 0
    with_a_gain = tax_line(MARGIN, Money.euros(110), Money.euros(50))  # margin 60 -> 10.00
    refurbished = tax_line(NORMAL, Money.euros(120), Money.euros(70))  # 120 / 6 -> 20.00

    assert at_a_loss.vat == Money.zero()
    assert with_a_gain.vat == Money.euros(10)
    assert refurbished.vat == Money.euros(20)
    # Offsetting would have taxed the combined margin 50.00 -> 8.33; the rule taxes 10.00.
    assert vat_breakdown([refurbished, at_a_loss, with_a_gain]) == [
        VatRow(regime=MARGIN, rate=Fraction(20), total=Money.euros(200), vat=Money.euros(10)),
        VatRow(regime=NORMAL, rate=Fraction(20), total=Money.euros(120), vat=Money.euros(20)),
    ]
    rows = vat_breakdown([refurbished, at_a_loss, with_a_gain])
    assert [row.net for row in rows] == [Money.euros(190), Money.euros(100)]
    assert total(row.total for row in rows) == Money.euros(320)
    assert total(row.vat for row in rows) == Money.euros(30)


# --- rule C.13: normal VAT ------------------------------------------------------------------


def test_normal_vat_on_the_full_price_for_items_bought_with_deductible_vat() -> None:
    assert normal_vat(Money.euros("120.00")) == Money.euros("20.00")
    line = tax_line(NORMAL, Money.euros("120.00"), purchase_price=Money.euros("80.00"))
    assert line == TaxedLine(NORMAL, Fraction(20), Money.euros(120), Money.euros(20))
    assert line.net == Money.euros(100)


def test_the_standard_rate_is_20_percent() -> None:
    assert Fraction(20) == STANDARD_RATE


def test_a_negative_rate_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        normal_vat(Money.euros(10), Fraction(-5))
    assert refused.value.field == "rate"


@pytest.mark.parametrize(
    ("sale", "purchase", "field"),
    [(Money(-1), Money(0), "sale_price"), (Money(100), Money(-1), "purchase_price")],
)
def test_a_negative_price_is_refused_under_the_margin_scheme(
    sale: Money, purchase: Money, field: str
) -> None:
    with pytest.raises(DomainError) as refused:
        margin_scheme_vat(sale, purchase)
    assert refused.value.code == ErrorCode.INVALID_AMOUNT
    assert refused.value.field == field


# --- rule C.14: the receipt -----------------------------------------------------------------


def test_receipt_of_a_margin_item_says_regime_particulier_and_hides_its_vat() -> None:
    line = tax_line(MARGIN, Money.euros(160), Money.euros(100))
    assert line.vat == Money.euros(10)  # recorded for the journal...
    assert not line.vat_shown_to_customer  # ...never printed for the customer
    assert receipt_mentions([line]) == ["Régime particulier – Biens d'occasion"]
    assert "\u2013" in legal.MARGIN_SCHEME_RECEIPT_MENTION  # an en dash


def test_receipt_of_normal_items_only_shows_their_vat_and_has_no_margin_mention() -> None:
    line = tax_line(NORMAL, Money.euros(120), Money.euros(80))
    assert line.vat_shown_to_customer
    assert receipt_mentions([line]) == []


def test_a_mixed_basket_carries_the_margin_mention_once() -> None:
    lines = [
        tax_line(MARGIN, Money.euros(160), Money.euros(100)),
        tax_line(MARGIN, Money.euros(50), Money.euros(20)),
        tax_line(NORMAL, Money.euros(120), Money.euros(80)),
    ]
    assert receipt_mentions(iter(lines)) == [legal.MARGIN_SCHEME_RECEIPT_MENTION]


def test_legal_references_name_the_new_code_for_the_margin_scheme() -> None:
    assert "297 A" in legal.MARGIN_SCHEME
    assert "CIBS" in legal.MARGIN_SCHEME


# --- returns (rule D.16) --------------------------------------------------------------------


def test_a_return_cancels_exactly_the_vat_of_the_original_line() -> None:
    sold = tax_line(MARGIN, Money.euros("150.01"), Money.euros(100))  # VAT 8.34, rounded
    returned = reverse(sold)
    assert returned == TaxedLine(MARGIN, Fraction(20), Money.euros("-150.01"), Money.euros("-8.34"))
    assert vat_breakdown([sold, returned]) == [
        VatRow(regime=MARGIN, rate=Fraction(20), total=Money.zero(), vat=Money.zero())
    ]
    assert reverse(returned) == sold


def test_an_empty_ticket_has_no_vat_rows_and_no_mention() -> None:
    assert vat_breakdown([]) == []
    assert receipt_mentions([]) == []


def test_breakdown_is_sorted_by_regime_then_rate() -> None:
    lines = [
        tax_line(NORMAL, Money.euros(110), Money.zero(), Fraction(10)),
        tax_line(NORMAL, Money.euros(120), Money.zero()),
        tax_line(MARGIN, Money.euros(120), Money.euros(60)),
        tax_line(MARGIN, Money.euros(100), Money.euros(60), Fraction(55, 10)),
    ]
    assert [(row.regime, row.rate) for row in vat_breakdown(lines)] == [
        (MARGIN, Fraction(55, 10)),
        (MARGIN, Fraction(20)),
        (NORMAL, Fraction(10)),
        (NORMAL, Fraction(20)),
    ]


# --- properties -----------------------------------------------------------------------------


@given(sale=cents, purchase=cents, rate=rates)
def test_margin_vat_is_never_negative(sale: Money, purchase: Money, rate: Fraction) -> None:
    assert margin_scheme_vat(sale, purchase, rate).cents >= 0


@given(sale=cents, purchase=cents, rate=rates)
def test_margin_vat_is_never_more_than_normal_vat_on_the_same_price(
    sale: Money, purchase: Money, rate: Fraction
) -> None:
    assert margin_scheme_vat(sale, purchase, rate) <= normal_vat(sale, rate)


@given(sale=cents, extra=cents, purchase=cents, rate=rates)
def test_margin_vat_grows_with_the_sale_price(
    sale: Money, extra: Money, purchase: Money, rate: Fraction
) -> None:
    assert margin_scheme_vat(sale, purchase, rate) <= margin_scheme_vat(
        sale + extra, purchase, rate
    )


@given(
    st.lists(
        st.tuples(st.sampled_from(list(VatRegime)), cents, cents, rates),
        max_size=12,
    )
)
def test_breakdown_totals_equal_the_sum_of_the_lines(
    items: list[tuple[VatRegime, Money, Money, Fraction]],
) -> None:
    lines = [tax_line(regime, price, bought, rate) for regime, price, bought, rate in items]
    rows = vat_breakdown(lines)
    assert total(row.total for row in rows) == total(line.price for line in lines)
    assert total(row.vat for row in rows) == total(line.vat for line in lines)
    assert total(row.net for row in rows) == total(line.net for line in lines)
    assert len({(row.regime, row.rate) for row in rows}) == len(rows)


@given(sale=cents, purchase=cents, rate=rates)
def test_vat_is_whole_cents_within_half_a_cent_of_the_exact_amount(
    sale: Money, purchase: Money, rate: Fraction
) -> None:
    share = rate / (100 + rate)
    margin_vat = margin_scheme_vat(sale, purchase, rate)
    exact_margin_vat = max(Fraction(sale.cents - purchase.cents), Fraction(0)) * share
    assert isinstance(margin_vat.cents, int)
    assert abs(margin_vat.cents - exact_margin_vat) <= Fraction(1, 2)

    vat = normal_vat(sale, rate)
    assert isinstance(vat.cents, int)
    assert abs(vat.cents - sale.cents * share) <= Fraction(1, 2)


@given(price=cents, purchase=cents, regime=st.sampled_from(list(VatRegime)), rate=rates)
def test_a_return_always_cancels_its_line(
    price: Money, purchase: Money, regime: VatRegime, rate: Fraction
) -> None:
    sold = tax_line(regime, price, purchase, rate)
    returned = reverse(sold)
    assert sold.price + returned.price == Money.zero()
    assert sold.vat + returned.vat == Money.zero()
    assert returned.net == -sold.net
