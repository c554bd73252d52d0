"""Money is integer cents, and every computed amount is rounded in one place (invariant 7)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommerce.money import Money, round_cents, total


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("12.50", 1250),
        ("12.5", 1250),
        ("0.01", 1),
        ("0", 0),
        ("1000", 100_000),
        ("-3.20", -320),
        (12, 1200),
        (Decimal("12.5"), 1250),
        (Decimal("7.00"), 700),
        ("1.230", 123),  # trailing zeros are not extra decimals
    ],
)
def test_euros_are_parsed_to_integer_cents(amount: str | int | Decimal, cents: int) -> None:
    assert Money.euros(amount) == Money(cents)


@pytest.mark.parametrize("amount", ["12.505", "0.001", Decimal("1.999"), "-0.125"])
def test_an_amount_with_more_than_two_decimals_is_refused(amount: str | Decimal) -> None:
    with pytest.raises(ValueError, match="at most 2 decimals"):
        Money.euros(amount)


@pytest.mark.parametrize("amount", ["abc", "", "12,50", "12.50 EUR"])
def test_text_that_is_not_an_amount_is_refused(amount: str) -> None:
    with pytest.raises(ValueError):
        Money.euros(amount)


@pytest.mark.parametrize("amount", ["Infinity", "-Infinity", "sNaN"])
def test_an_infinite_or_signalling_amount_is_refused_as_not_an_amount(amount: str) -> None:
    with pytest.raises(ValueError):
        Money.euros(amount)


@pytest.mark.parametrize("cents", [1.5, 10.0, True, "100", Decimal(1)])
def test_money_holds_only_integer_cents_never_a_float(cents: object) -> None:
    with pytest.raises(TypeError):
        Money(cents)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (Fraction(5, 2), 3),
        (Fraction(-5, 2), -3),
        (Fraction(3, 2), 2),
        (Fraction(-3, 2), -2),
        (Fraction(7, 3), 2),
        (Fraction(-7, 3), -2),
        (Fraction(8, 3), 3),
        (Fraction(-8, 3), -3),
        (Fraction(1, 2), 1),
        (Fraction(-1, 2), -1),
        (Fraction(49, 100), 0),
        (Fraction(-49, 100), 0),
        (Decimal("2.5"), 3),
        (Decimal("-2.5"), -3),
        (Decimal("2.4999"), 2),
        (Decimal("-2.4999"), -2),
        (7, 7),
        (-7, -7),
    ],
)
def test_round_cents_rounds_half_away_from_zero_including_negatives(
    value: Fraction | Decimal | int, rounded: int
) -> None:
    assert round_cents(value) == rounded


@settings(max_examples=200)
@given(st.fractions(max_denominator=1000).filter(lambda f: abs(f) < 10**9))
def test_round_cents_is_the_nearest_cent_and_symmetric_around_zero(value: Fraction) -> None:
    rounded = round_cents(value)
    assert abs(rounded - value) <= Fraction(1, 2)
    assert round_cents(-value) == -rounded
    # A Decimal and a Fraction of the same amount round the same way.
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    if Fraction(exact) == value:
        assert round_cents(exact) == rounded


@pytest.mark.parametrize(
    ("cents", "step", "rounded"),
    [
        (12_349, 100, 12_300),
        (12_350, 100, 12_400),  # half up to the next whole euro
        (12_351, 100, 12_400),
        (124, 50, 100),
        (125, 50, 150),
        (150, 50, 150),
        (-125, 50, -150),
        (-12_350, 100, -12_400),
        (0, 100, 0),
    ],
)
def test_round_to_a_store_friendly_step_rounds_half_up(cents: int, step: int, rounded: int) -> None:
    assert Money(cents).round_to(step) == Money(rounded)


@settings(max_examples=200)
@given(st.integers(-(10**9), 10**9), st.sampled_from([1, 5, 10, 50, 100, 500]))
def test_round_to_gives_a_multiple_of_the_step_within_half_a_step(cents: int, step: int) -> None:
    rounded = Money(cents).round_to(step).cents
    assert rounded % step == 0
    assert 2 * abs(rounded - cents) <= step


def test_times_rounds_once_half_up() -> None:
    assert Money(1001).times(Fraction(1, 2)) == Money(501)
    assert Money(-1001).times(Fraction(1, 2)) == Money(-501)
    assert Money(999).times(Decimal("0.15")) == Money(150)  # 149.85
    assert Money(250).times(3) == Money(750)


def test_money_arithmetic_and_order() -> None:
    a, b = Money.euros("10.50"), Money.euros("0.75")
    assert a + b == Money(1125)
    assert a - b == Money(975)
    assert -a == Money(-1050)
    assert b < a
    assert Money.zero() == Money(0)
    assert total([a, b, b]) == Money(1200)
    assert total([]) == Money.zero()
    assert a.decimal == Decimal("10.5")


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (1250, "12.50 EUR"),
        (5, "0.05 EUR"),
        (-5, "-0.05 EUR"),
        (-123_456, "-1234.56 EUR"),
        (0, "0.00 EUR"),
    ],
)
def test_money_prints_as_euros_and_cents(cents: int, shown: str) -> None:
    assert str(Money(cents)) == shown


@settings(max_examples=200)
@given(st.integers(-(10**12), 10**12))
def test_printed_euros_parse_back_to_the_same_amount(cents: int) -> None:
    assert Money.euros(str(Money(cents)).removesuffix(" EUR")) == Money(cents)
