"""The legal guarantee of conformity of a used item sold to a consumer (business-rules E.21):
2 years from delivery; a defect appearing within 12 months is presumed to have existed at
delivery (Code de la consommation L217-3, L217-7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

GUARANTEE_YEARS = 2  # L217-3
PRESUMPTION_MONTHS = 12  # L217-7, for used goods


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate_day in (day.day, 30, 29, 28):  # 29 February -> 28 February
        try:
            return date(year, month, candidate_day)
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {day}")


@dataclass(frozen=True, slots=True)
class Guarantee:
    label_code: str
    ticket: str
    delivered_on: date
    ends_on: date  # last day covered
    presumption_ends_on: date  # last day a defect is presumed to have existed at delivery

    def status_on(self, today: date) -> str:
        if today <= self.presumption_ends_on:
            return "covered, defect presumed existing at delivery"
        if today <= self.ends_on:
            return "covered, the customer proves the defect existed at delivery"
        return "expired"


def guarantee_of(label_code: str, ticket: str, delivered_on: date) -> Guarantee:
    return Guarantee(
        label_code=label_code,
        ticket=ticket,
        delivered_on=delivered_on,
        ends_on=_add_months(delivered_on, 12 * GUARANTEE_YEARS),
        presumption_ends_on=_add_months(delivered_on, PRESUMPTION_MONTHS),
    )
