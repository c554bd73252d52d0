"""Markdowns of aging stock: steps that wait as long as the category takes to sell, never
below the purchase price, never compounding, never raising a price."""

from __future__ import annotations

from datetime import date, timedelta

from recommerce.argus.markdown import (
    DEFAULT_STEPS,
    MarkdownStep,
    StockedItem,
    steps_from_configuration,
    suggest,
)
from recommerce.money import Money

TODAY = date(2026, 11, 29)


def item(
    days: int,
    *,
    category: str = "phones",
    first: int = 20000,
    current: int | None = None,
    bought: int = 8000,
) -> StockedItem:
    return StockedItem(
        item_id=f"i-{days}-{category}",
        label_code=f"20{days:011d}",
        category_code=category,
        stocked_on=TODAY - timedelta(days=days),
        first_price=Money(first),
        current_price=Money(first if current is None else current),
        purchase_price=Money(bought),
    )


def test_an_item_30_days_on_the_shelf_is_marked_down_10_percent() -> None:
    [markdown] = suggest([item(30), item(29)], today=TODAY, sell_through={})
    assert markdown.days_in_stock == 30
    assert markdown.new_price == Money(18000)
    assert markdown.reason == "markdown -10 % after 30 days in stock"


def test_steps_do_not_compound_they_count_from_the_first_price() -> None:
    [markdown] = suggest([item(61, current=18000)], today=TODAY, sell_through={})
    assert markdown.new_price == Money(16000)  # -20 % of 200 EUR, not of 180 EUR


def test_an_item_already_marked_down_to_its_step_is_left_alone() -> None:
    assert suggest([item(45, current=18000)], today=TODAY, sell_through={}) == []


def test_a_slow_selling_category_waits_longer_for_its_markdown() -> None:
    guitars = {"instruments": 90.0}  # guitars take three months to sell in this store
    assert suggest([item(45, category="instruments")], today=TODAY, sell_through=guitars) == []
    [markdown] = suggest([item(90, category="instruments")], today=TODAY, sell_through=guitars)
    assert markdown.step.percent == 10


def test_a_markdown_never_goes_below_what_the_store_paid() -> None:
    [markdown] = suggest([item(120, first=10000, bought=9000)], today=TODAY, sell_through={})
    assert markdown.new_price == Money(9000)


def test_central_may_configure_the_steps_and_bad_settings_fall_back_to_the_default() -> None:
    configured = [{"after_days": 15, "percent": 5}, {"after_days": 45, "percent": 25}]
    assert steps_from_configuration(configured) == (MarkdownStep(15, 5), MarkdownStep(45, 25))
    assert steps_from_configuration([{"after_days": 15, "percent": 150}]) == DEFAULT_STEPS
    assert steps_from_configuration(None) == DEFAULT_STEPS
