"""Aging stock: markdowns suggested from how fast a category sells, applied by a manager.

A chain's rule of thumb is a step down the price after so many days on the shelf (-10 % after
30 days, -20 % after 60, -30 % after 90). Categories do not sell at one speed: a phone left 30
days is stale, a guitar is not. So each step waits as long as the store's own sell-through of
the category says: the step's days times the category's median days to sell over 30, never
less than the step's own days. A markdown never goes below what the store paid for the item,
never raises a price, and takes the price from the item's first asking price, so that steps
do not compound.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from recommerce.money import Money

REFERENCE_DAYS = 30  # the rule of thumb's steps assume a category sells in about a month


@dataclass(frozen=True, slots=True)
class MarkdownStep:
    after_days: int
    percent: int


DEFAULT_STEPS = (MarkdownStep(30, 10), MarkdownStep(60, 20), MarkdownStep(90, 30))


@dataclass(frozen=True, slots=True)
class StockedItem:
    item_id: str
    label_code: str
    category_code: str
    stocked_on: date
    first_price: Money  # its asking price when it was bought
    current_price: Money
    purchase_price: Money


@dataclass(frozen=True, slots=True)
class Markdown:
    item_id: str
    label_code: str
    days_in_stock: int
    step: MarkdownStep
    current_price: Money
    new_price: Money

    @property
    def reason(self) -> str:
        return f"markdown -{self.step.percent} % after {self.days_in_stock} days in stock"


def steps_from_configuration(value: object) -> tuple[MarkdownStep, ...]:
    """The steps central configured (`markdown_steps`: [{"after_days", "percent"}]), or the
    default when the value is missing or malformed."""
    if not isinstance(value, list):
        return DEFAULT_STEPS
    steps = []
    for entry in value:
        if not isinstance(entry, dict):
            return DEFAULT_STEPS
        days, percent = entry.get("after_days"), entry.get("percent")
        if not (isinstance(days, int) and isinstance(percent, int) and 0 < percent < 100):
            return DEFAULT_STEPS
        steps.append(MarkdownStep(days, percent))
    return tuple(sorted(steps, key=lambda s: s.after_days)) or DEFAULT_STEPS


def waiting_days(step: MarkdownStep, median_days_to_sell: float | None) -> int:
    """How long an item of a category waits for this step, given how fast the category sells."""
    if median_days_to_sell is None:
        return step.after_days
    return max(step.after_days, round(step.after_days * median_days_to_sell / REFERENCE_DAYS))


def suggest(
    items: Iterable[StockedItem],
    *,
    today: date,
    sell_through: Mapping[str, float],
    steps: Sequence[MarkdownStep] = DEFAULT_STEPS,
    step_cents: int = 100,
) -> list[Markdown]:
    """The markdowns due today, oldest items first."""
    due = []
    for item in items:
        days = (today - item.stocked_on).days
        reached = [
            s for s in steps if days >= waiting_days(s, sell_through.get(item.category_code))
        ]
        if not reached:
            continue
        step = reached[-1]
        lowered = item.first_price.cents * (100 - step.percent) // 100
        new = max(lowered // step_cents * step_cents, item.purchase_price.cents)
        if new < item.current_price.cents:
            due.append(
                Markdown(item.item_id, item.label_code, days, step, item.current_price, Money(new))
            )
    return sorted(due, key=lambda m: (-m.days_in_stock, m.label_code))
