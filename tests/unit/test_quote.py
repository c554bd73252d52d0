"""The reference-price rule the buying counter uses until the argus replaces it."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from recommerce.buyback.quote import GRADE_FACTORS, Quote, ReferencePriceRule
from recommerce.catalog.model import Article, Grade
from recommerce.money import Money

RULE = ReferencePriceRule()
GRADES_BEST_FIRST = [Grade.A, Grade.B, Grade.C, Grade.D]

reference_prices = st.integers(1, 5_000_000).map(Money)  # up to 50,000 EUR
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))


def article(price: Money, released_on: date | None = None) -> Article:
    return Article(
        id="art-1",
        category_code="phones",
        brand="Apple",
        model="iPhone 12",
        name="Apple iPhone 12, 64 GB",
        reference_new_price=price,
        released_on=released_on,
    )


def test_a_new_like_new_article_is_quoted_from_its_reference_price() -> None:
    quote = RULE.quote(article(Money.euros(1000)), Grade.A, on=date(2025, 6, 2))
    assert quote == Quote(
        resale_price=Money.euros(700),
        resale_low=Money.euros(560),
        resale_high=Money.euros(840),
        buy_offer=Money.euros(385),
        method="reference-price-rule-v1",
    )


def test_an_article_loses_15_percent_a_year_down_to_a_floor() -> None:
    released = date(2020, 1, 1)
    a = article(Money.euros(1000), released)
    assert RULE.age_factor(a, date(2020, 12, 30)) == 1
    assert RULE.age_factor(a, date(2021, 1, 1)) == Fraction(85, 100)
    assert RULE.age_factor(a, date(2022, 1, 1)) == Fraction(85, 100) ** 2
    assert RULE.age_factor(a, date(2060, 1, 1)) == RULE.floor_age_factor


def test_an_article_without_release_date_is_not_depreciated() -> None:
    assert RULE.age_factor(article(Money.euros(100)), date(2040, 1, 1)) == 1


def test_a_date_before_release_counts_as_new() -> None:
    a = article(Money.euros(100), date(2025, 6, 1))
    assert RULE.age_factor(a, date(2024, 1, 1)) == 1


def test_grade_factors_go_down_with_the_grade() -> None:
    factors = [GRADE_FACTORS[g] for g in GRADES_BEST_FIRST]
    assert factors == sorted(factors, reverse=True)


@settings(max_examples=200)
@given(reference_prices, st.none() | days, days)
def test_better_grade_never_gets_a_lower_price(
    price: Money, released: date | None, on: date
) -> None:
    quotes = [RULE.quote(article(price, released), g, on=on) for g in GRADES_BEST_FIRST]
    for better, worse in itertools.pairwise(quotes):
        assert better.resale_price >= worse.resale_price
        assert better.buy_offer >= worse.buy_offer


@settings(max_examples=200)
@given(reference_prices, st.none() | days, days, st.sampled_from(GRADES_BEST_FIRST))
def test_resale_price_lies_within_its_range_and_the_offer_leaves_a_margin(
    price: Money, released: date | None, on: date, grade: Grade
) -> None:
    quote = RULE.quote(article(price, released), grade, on=on)
    assert Money.zero() <= quote.resale_low <= quote.resale_price <= quote.resale_high
    assert Money.zero() <= quote.buy_offer <= quote.resale_price
    if quote.resale_price > Money.zero():
        assert quote.buy_offer < quote.resale_price
    # Resale prices end in whole euros, offers in 50-cent steps.
    assert quote.resale_price.cents % 100 == 0
    assert quote.resale_low.cents % 100 == 0
    assert quote.resale_high.cents % 100 == 0
    assert quote.buy_offer.cents % 50 == 0


@settings(max_examples=200)
@given(
    reference_prices,
    days,
    st.integers(0, 365 * 30),
    days,
    st.sampled_from(GRADES_BEST_FIRST),
)
def test_older_article_is_never_priced_higher(
    price: Money, released: date, older_by: int, on: date, grade: Grade
) -> None:
    newer = RULE.quote(article(price, released), grade, on=on)
    older = RULE.quote(article(price, released - timedelta(days=older_by)), grade, on=on)
    assert older.resale_price <= newer.resale_price
    assert older.buy_offer <= newer.buy_offer


@settings(max_examples=100)
@given(reference_prices, days, st.integers(0, 365 * 30), st.sampled_from(GRADES_BEST_FIRST))
def test_the_same_article_is_never_quoted_higher_later(
    price: Money, released: date, later_by: int, grade: Grade
) -> None:
    a = article(price, released)
    today = RULE.quote(a, grade, on=released)
    later = RULE.quote(a, grade, on=released + timedelta(days=later_by))
    assert later.resale_price <= today.resale_price


@settings(max_examples=100)
@given(reference_prices, reference_prices, st.sampled_from(GRADES_BEST_FIRST))
def test_a_dearer_article_is_never_quoted_lower(a: Money, b: Money, grade: Grade) -> None:
    cheap, dear = sorted([a, b])
    on = date(2025, 6, 2)
    assert (
        RULE.quote(article(cheap), grade, on=on).resale_price
        <= RULE.quote(article(dear), grade, on=on).resale_price
    )
