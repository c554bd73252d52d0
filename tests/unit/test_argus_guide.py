"""The statistical price guide (argus v1), learned from a synthetic history whose true prices
are known: grade order, honest ranges, shrinkage for rare articles, the fallback."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pytest

from recommerce.argus.guide import GRADES, GuidedArgus, PastSale, StatisticalGuide
from recommerce.buyback.quote import ReferencePriceRule
from recommerce.catalog.model import Article, Grade
from recommerce.money import Money

TODAY = date(2026, 11, 1)
GRADE_SHARE = {Grade.A: 0.70, Grade.B: 0.55, Grade.C: 0.40, Grade.D: 0.15}
YEARLY_LOSS = {"phones": 0.25, "tools": 0.05}
NOISE = 0.2  # sigma of the log price around its expectation


def article(n: int, category: str = "phones", brand: str = "Apple", new: int = 80000) -> Article:
    return Article(
        id=f"art-{category}-{n}",
        category_code=category,
        brand=brand,
        model=f"Model {n}",
        name=f"{brand} Model {n}",
        reference_new_price=Money(new),
        released_on=date(2022, 1, 1),
    )


CATALOGUE = [article(n, "phones", "Apple" if n % 2 else "Samsung") for n in range(30)] + [
    article(n, "tools", "Makita", new=20000) for n in range(30)
]


def true_log_price(item: Article, grade: Grade, on: date) -> float:
    years = (on - (item.released_on or on)).days / 365.25
    share = GRADE_SHARE[grade] * (1 - YEARLY_LOSS[item.category_code]) ** years
    return math.log(item.reference_new_price.cents * share)


def history(sales: int, seed: int, catalogue: list[Article] = CATALOGUE) -> list[PastSale]:
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(catalogue))]  # popular articles sell more
    out = []
    for _ in range(sales):
        item = rng.choices(catalogue, weights)[0]
        grade = rng.choice(GRADES)
        sold_on = TODAY - timedelta(days=rng.randrange(0, 3 * 365))
        price = math.exp(true_log_price(item, grade, sold_on) + rng.gauss(0, NOISE))
        out.append(
            PastSale(
                article_id=item.id,
                category_code=item.category_code,
                brand=item.brand,
                grade=grade,
                sold_on=sold_on,
                price_cents=round(price),
                reference_new_price_cents=item.reference_new_price.cents,
                released_on=item.released_on,
            )
        )
    return out


@pytest.fixture(scope="module")
def guide() -> StatisticalGuide:
    return StatisticalGuide.learn(history(20000, seed=1), today=TODAY, half_life_days=10_000)


def test_a_better_grade_never_gets_a_lower_price(guide: StatisticalGuide) -> None:
    for item in [*CATALOGUE, article(999, brand="Unknown")]:
        prices = [guide.price(item, grade, on=TODAY) for grade in GRADES]
        p50s = [p.p50.cents for p in prices if p is not None]
        assert p50s == sorted(p50s, reverse=True), item.id


def test_the_range_contains_the_median(guide: StatisticalGuide) -> None:
    for item in CATALOGUE:
        for grade in GRADES:
            found = guide.price(item, grade, on=TODAY)
            assert found is not None
            assert found.p10 <= found.p50 <= found.p90


def test_the_guide_finds_the_true_price_of_a_popular_article(guide: StatisticalGuide) -> None:
    popular = CATALOGUE[0]
    found = guide.price(popular, Grade.B, on=TODAY)
    assert found is not None
    truth = math.exp(true_log_price(popular, Grade.B, TODAY))
    assert abs(math.log(found.p50.cents / truth)) < 0.05  # within 5 %


def test_older_articles_are_quoted_lower_by_the_categorys_depreciation(
    guide: StatisticalGuide,
) -> None:
    item = CATALOGUE[0]
    now = guide.price(item, Grade.B, on=TODAY)
    later = guide.price(item, Grade.B, on=TODAY + timedelta(days=365))
    assert now is not None and later is not None
    assert later.p50 < now.p50
    assert guide.depreciation["phones"] < guide.depreciation["tools"] <= 0


def test_the_p10_p90_range_covers_about_eight_sales_in_ten_of_new_history(
    guide: StatisticalGuide,
) -> None:
    held_out = history(4000, seed=99)
    inside = 0
    for sale in held_out:
        item = next(a for a in CATALOGUE if a.id == sale.article_id)
        found = guide.price(item, sale.grade, on=sale.sold_on)
        assert found is not None
        # the guide rounds to whole euros: compare at that precision
        inside += found.p10.cents - 100 <= sale.price_cents <= found.p90.cents + 100
    assert abs(inside / len(held_out) - 0.80) <= 0.05


def test_an_article_never_sold_is_priced_from_its_brand_and_category(
    guide: StatisticalGuide,
) -> None:
    unseen = article(500, brand="Apple")
    found = guide.price(unseen, Grade.B, on=TODAY)
    assert found is not None and found.support == 0
    truth = math.exp(true_log_price(unseen, Grade.B, TODAY))
    assert abs(math.log(found.p50.cents / truth)) < 0.15


def test_a_rare_article_is_pulled_toward_its_category() -> None:
    odd = article(777, brand="Apple")
    # One sale of a freak price: the guide does not believe it whole.
    freak = PastSale(odd.id, "phones", "Apple", Grade.B, TODAY, 300000, 80000, odd.released_on)
    sales = [*history(5000, seed=3), freak]
    found = StatisticalGuide.learn(sales, today=TODAY).price(odd, Grade.B, on=TODAY)
    assert found is not None
    assert found.p50.cents < 150000  # far below the freak 3,000 EUR


def test_the_buy_offer_keeps_the_categorys_margin_and_is_rounded_down(
    guide: StatisticalGuide,
) -> None:
    item = CATALOGUE[0]
    quote = guide.quote(item, Grade.C, on=TODAY)
    assert quote is not None
    assert quote.buy_offer.cents % 50 == 0
    expected = quote.resale_price.cents * 0.60 - 500  # default margin 40 %, grade C refurbishing
    assert expected - 50 < quote.buy_offer.cents <= expected
    assert quote.resale_low <= quote.resale_price <= quote.resale_high


def test_with_no_history_the_counter_still_gets_the_reference_rule_quote() -> None:
    empty = StatisticalGuide.learn([], today=TODAY)
    item = CATALOGUE[0]
    assert empty.quote(item, Grade.A, on=TODAY) is None
    quote = GuidedArgus(empty).quote(item, Grade.A, on=TODAY)
    assert quote == ReferencePriceRule().quote(item, Grade.A, on=TODAY)


def test_a_worse_grade_that_happened_to_sell_dearer_does_not_lift_above_a_better_one() -> None:
    odd = article(888, category="tools", brand="Makita", new=20000)
    sales = [
        PastSale(odd.id, "tools", "Makita", grade, TODAY - timedelta(days=d), price, 20000)
        for d in range(20)
        for grade, price in ((Grade.B, 6000), (Grade.C, 9000))  # C sold dearer than B here
    ]
    learned = StatisticalGuide.learn(sales, today=TODAY)
    b = learned.price(odd, Grade.B, on=TODAY)
    c = learned.price(odd, Grade.C, on=TODAY)
    assert b is not None and c is not None
    assert b.p50 >= c.p50


def test_a_guide_shipped_as_data_quotes_the_same(guide: StatisticalGuide) -> None:
    import json

    from recommerce.argus.guide import guide_from_payload, guide_payload

    shipped = guide_from_payload(json.loads(json.dumps(guide_payload(guide))))
    for item in CATALOGUE[:5]:
        for grade in GRADES:
            assert shipped.quote(item, grade, on=TODAY) == guide.quote(item, grade, on=TODAY)
