"""Articles, categories and grades."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from recommerce.money import Money


class Grade(StrEnum):
    """One condition scale for the whole chain; each category words it its own way."""

    A = "A"  # like new
    B = "B"  # good
    C = "C"  # fair
    D = "D"  # for parts

    @property
    def label(self) -> str:
        return GRADE_LABELS[self]


GRADE_LABELS: dict[Grade, str] = {
    Grade.A: "like new",
    Grade.B: "good",
    Grade.C: "fair",
    Grade.D: "for parts",
}


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name: str
    # Jewellery in gold or silver: separate register, no cash, 48 h hold (business-rules A.8, B.10).
    precious_metal: bool = False
    # The written definition of each grade for this category, shown to buyers and customers.
    grade_definitions: dict[Grade, str] = field(default_factory=dict)

    def grade_definition(self, grade: Grade) -> str:
        return self.grade_definitions.get(grade, f"{grade.value}: {grade.label}")


@dataclass(frozen=True, slots=True)
class Article:
    """A catalogue entry for a kind of good, e.g. "Apple iPhone 12, 64 GB"."""

    id: str
    category_code: str
    brand: str
    model: str
    name: str
    reference_new_price: Money
    gtin: str | None = None
    released_on: date | None = None
    attributes: dict[str, str] = field(default_factory=dict)
