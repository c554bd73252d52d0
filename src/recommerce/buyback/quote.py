"""The argus port: what the buying counter asks for a price, and the rule used until the argus.

The argus issue replaces `ReferencePriceRule` with a guide learned from sales; both answer
the same `ArgusPort.quote` question.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Protocol

from recommerce.catalog.model import Article, Grade
from recommerce.money import Money


@dataclass(frozen=True, slots=True)
class Quote:
    """A suggested resale price with its range, and the buy offer derived from it."""

    resale_price: Money
    resale_low: Money
    resale_high: Money
    buy_offer: Money
    method: str  # which pricing produced it, for the audit trail


class ArgusPort(Protocol):
    def quote(self, article: Article, grade: Grade, *, on: date) -> Quote: ...


GRADE_FACTORS: dict[Grade, Fraction] = {
    Grade.A: Fraction(70, 100),
    Grade.B: Fraction(55, 100),
    Grade.C: Fraction(40, 100),
    Grade.D: Fraction(15, 100),
}


@dataclass(frozen=True, slots=True)
class ReferencePriceRule:
    """Resale = reference new price x grade factor x age factor; buy = resale x (1 - margin)."""

    yearly_depreciation: Fraction = Fraction(15, 100)
    floor_age_factor: Fraction = Fraction(20, 100)
    target_margin: Fraction = Fraction(45, 100)
    range_width: Fraction = Fraction(20, 100)
    resale_step_cents: int = 100  # resale prices end in whole euros
    buy_step_cents: int = 50  # offers in 50-cent steps

    def age_factor(self, article: Article, on: date) -> Fraction:
        if article.released_on is None:
            return Fraction(1)
        years = max(0, (on - article.released_on).days) // 365
        return max(self.floor_age_factor, (1 - self.yearly_depreciation) ** years)

    def quote(self, article: Article, grade: Grade, *, on: date) -> Quote:
        factor = GRADE_FACTORS[grade] * self.age_factor(article, on)
        resale = article.reference_new_price.times(factor).round_to(self.resale_step_cents)
        return Quote(
            resale_price=resale,
            resale_low=resale.times(1 - self.range_width).round_to(self.resale_step_cents),
            resale_high=resale.times(1 + self.range_width).round_to(self.resale_step_cents),
            buy_offer=resale.times(1 - self.target_margin).round_to(self.buy_step_cents),
            method="reference-price-rule-v1",
        )
