"""The learned model (argus v2) inside the guide a store quotes with: fitted at central on the
same sales as the statistics, its p10/p50/p90 for each article it has support for (enough
sales of its own) kept in the guide in the statistics' units, so that a store quotes with it
offline, without the model itself; the statistics answer everywhere else."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from recommerce.argus.guide import (
    GRADES,
    PastSale,
    Spread,
    StatisticalGuide,
    at_release,
    years_since,
)

MIN_SALES = 500  # fewer sales in all: the model is not fitted, the statistics answer alone
MIN_ARTICLE_SALES = 5  # the model's support for an article: at least this many of its sales


def _table(sales: Sequence[PastSale], *, with_price: bool) -> dict[str, list[object]]:
    columns: dict[str, list[object]] = {
        "sold_on": [s.sold_on.isoformat() for s in sales],
        "article_id": [s.article_id for s in sales],
        "category_code": [s.category_code for s in sales],
        "brand": [s.brand for s in sales],
        "grade": [s.grade.value for s in sales],
        "released_on": [s.released_on.isoformat() if s.released_on else None for s in sales],
        "reference_new_price_cents": [s.reference_new_price_cents for s in sales],
    }
    if with_price:
        columns["price_cents"] = [s.price_cents for s in sales]
    return columns


def add_learned(
    guide: StatisticalGuide, sales: Sequence[PastSale], *, today: date, seed: int = 0
) -> int:
    """Fit the learned model on the sales and put its figures at `today` into the guide for
    the articles it has support for; how many article-grades it covers."""
    if len(sales) < MIN_SALES:
        return 0
    import pandas as pd

    from recommerce.argus.model import PriceModel

    model = PriceModel().fit(
        pd.DataFrame(_table(sales, with_price=True)), "price_cents", seed=seed, sell_model=False
    )
    counts = Counter(sale.article_id for sale in sales)
    facts: dict[str, PastSale] = {}
    for sale in sales:
        facts[sale.article_id] = sale
    asked = [
        PastSale(
            article_id=article,
            category_code=facts[article].category_code,
            brand=facts[article].brand,
            grade=grade,
            sold_on=today,
            price_cents=0,
            reference_new_price_cents=facts[article].reference_new_price_cents,
            released_on=facts[article].released_on,
        )
        for article, n in sorted(counts.items())
        if n >= MIN_ARTICLE_SALES
        for grade in GRADES
    ]
    if not asked:
        return 0
    logs = model.predict_log(pd.DataFrame(_table(asked, with_price=False)))
    for row, (p10, p50, p90) in zip(
        asked, logs[["p10", "p50", "p90"]].itertuples(index=False), strict=True
    ):
        depreciation = guide.depreciation.get(row.category_code, 0.0)
        years = years_since(row.released_on, today)
        mid = at_release(float(p50), row.reference_new_price_cents, years, depreciation)
        guide.learned[(row.article_id, row.grade)] = Spread(
            median=mid,
            low=min(0.0, float(p10) - float(p50)),
            high=max(0.0, float(p90) - float(p50)),
            weight=float(counts[row.article_id]),
        )
    return len(asked)
