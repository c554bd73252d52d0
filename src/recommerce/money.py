"""Money as integer cents, with the one rounding helper of the whole system."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

CENTS_PER_EURO = 100


def round_cents(value: Fraction | Decimal | int) -> int:
    """Round an exact amount of cents to an integer, half away from zero.

    Every computed amount (a factor applied to a price, a VAT share) goes through here,
    so rounding happens in exactly one place (architecture.md invariant 7).
    """
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    quotient, remainder = divmod(abs(value.numerator), value.denominator)
    if 2 * remainder >= value.denominator:
        quotient += 1
    return quotient if value >= 0 else -quotient


@dataclass(frozen=True, order=True, slots=True)
class Money:
    """An amount in euros held as integer cents; never a float."""

    cents: int

    def __post_init__(self) -> None:
        if not isinstance(self.cents, int) or isinstance(self.cents, bool):
            raise TypeError("Money holds integer cents")

    @classmethod
    def euros(cls, amount: str | int | Decimal) -> Money:
        """Parse "12.50", 12 or Decimal("12.5") as euros; more than 2 decimals is refused."""
        try:
            value = Decimal(str(amount))
        except (InvalidOperation, ValueError) as exc:
            raise ValueError(f"not an amount: {amount!r}") from exc
        if not value.is_finite():
            raise ValueError(f"not an amount: {amount!r}")
        cents = value * CENTS_PER_EURO
        if cents != cents.to_integral_value():
            raise ValueError(f"an amount has at most 2 decimals: {amount!r}")
        return cls(int(cents))

    @classmethod
    def zero(cls) -> Money:
        return cls(0)

    def __add__(self, other: Money) -> Money:
        return Money(self.cents + other.cents)

    def __sub__(self, other: Money) -> Money:
        return Money(self.cents - other.cents)

    def __neg__(self) -> Money:
        return Money(-self.cents)

    def times(self, factor: Fraction | Decimal | int) -> Money:
        """Multiply by an exact factor, rounding once."""
        if isinstance(factor, int):
            return Money(self.cents * factor)
        return Money(round_cents(Fraction(self.cents) * Fraction(factor)))

    def round_to(self, step_cents: int) -> Money:
        """Round to a store-friendly step (e.g. 50 cents, 1 euro), half up."""
        return Money(round_cents(Fraction(self.cents, step_cents)) * step_cents)

    @property
    def decimal(self) -> Decimal:
        return Decimal(self.cents) / CENTS_PER_EURO

    def __str__(self) -> str:
        sign = "-" if self.cents < 0 else ""
        euros, cents = divmod(abs(self.cents), CENTS_PER_EURO)
        return f"{sign}{euros}.{cents:02d} EUR"


def total(amounts: Iterable[Money]) -> Money:
    return Money(sum(a.cents for a in amounts))
