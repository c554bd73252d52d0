"""What a ticket and an item bought add to reporting's rollups, before anything is written: a
sale counts once for its store and once in each category of its items, a return takes its
items back out, a purchase counts its items by category."""

from __future__ import annotations

from datetime import date

from recommerce.central.services.rollups import Rollups

DAY = date(2026, 11, 20)
STORE = 42


def test_a_sale_of_two_categories_is_one_ticket_for_the_store_and_one_in_each_category() -> None:
    rollups = Rollups()
    rollups.ticket(
        DAY,
        STORE,
        "sale",
        [("phones", 12000, 5000), ("phones", 11000, 4000), ("consoles", 9000, 3000)],
    )
    # (tickets, items_sold, revenue_cents, cost_cents)
    assert rollups.store_sales.sums == {(DAY, STORE): [1, 3, 32000, 12000]}
    assert rollups.sales.sums == {
        (DAY, STORE, "phones"): [1, 2, 23000, 9000],
        (DAY, STORE, "consoles"): [1, 1, 9000, 3000],
    }


def test_a_return_takes_its_items_revenue_and_cost_back_out_and_is_no_ticket_sold() -> None:
    rollups = Rollups()
    rollups.ticket(DAY, STORE, "sale", [("phones", 12000, 5000), ("consoles", 9000, 3000)])
    rollups.ticket(DAY, STORE, "return", [("consoles", -9000, 3000)])
    assert rollups.store_sales.sums == {(DAY, STORE): [1, 1, 12000, 5000]}
    assert rollups.sales.sums[(DAY, STORE, "consoles")] == [1, 0, 0, 0]


def test_items_bought_are_summed_by_day_store_and_category() -> None:
    rollups = Rollups()
    rollups.bought(DAY, STORE, "phones", 5000)
    rollups.bought(DAY, STORE, "phones", 4000)
    rollups.bought(DAY, 7, "phones", 2500, items=2)
    assert rollups.purchases.sums == {
        (DAY, STORE, "phones"): [2, 9000],
        (DAY, 7, "phones"): [2, 2500],
    }
    assert len(rollups) == 2
