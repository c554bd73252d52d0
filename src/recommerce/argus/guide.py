"""The statistical price guide (argus v1): what an article sells for, by grade, learned from
the chain's own past sales, with an honest range.

Prices are compared as a share of the article's reference new price, in logarithms, and
brought back to the price they would have had at release with the category's depreciation by
age (learned from the sales too), so that sales of an article over the years count together.
For each article and grade:

- the recency-weighted median and p10-p90 of those sales (a sale's weight halves every
  `half_life_days`);
- shrunk toward the brand's, then the category's, figures for the same grade when the article
  has few sales (as many pseudo-sales of the prior as `prior_strength`): an article never sold
  is priced by its brand and category;
- brought to the quote's date with the category's depreciation;
- a better grade never quoted below a worse one.

The buy offer is the expected resale price less the category's target margin and the grade's
refurbishment cost, rounded down to store-friendly amounts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from recommerce.buyback.quote import ArgusPort, Quote, ReferencePriceRule
from recommerce.catalog.model import Article, Grade
from recommerce.money import Money

GRADES = (Grade.A, Grade.B, Grade.C, Grade.D)  # best first
DAYS_PER_YEAR = 365.25
METHOD = "argus-statistical-v1"
LEARNED_METHOD = "argus-learned-v2"


@dataclass(frozen=True, slots=True)
class PastSale:
    """One sale of the chain's history, as the guide learns from it."""

    article_id: str
    category_code: str
    brand: str
    grade: Grade
    sold_on: date
    price_cents: int
    reference_new_price_cents: int
    released_on: date | None = None


@dataclass(frozen=True, slots=True)
class BuyingRules:
    """What a category keeps of the resale price, and what each grade costs to make sellable."""

    target_margin: Mapping[str, Fraction] = field(default_factory=dict)  # by category
    default_margin: Fraction = Fraction(40, 100)
    refurbishment_cents: Mapping[Grade, int] = field(
        default_factory=lambda: {Grade.A: 0, Grade.B: 200, Grade.C: 500, Grade.D: 0}
    )
    resale_step_cents: int = 100  # resale prices in whole euros
    buy_step_cents: int = 50  # offers in 50-cent steps

    def margin(self, category_code: str) -> Fraction:
        return self.target_margin.get(category_code, self.default_margin)


@dataclass(frozen=True, slots=True)
class Spread:
    """A price level in log share of the new price at release, with its p10 and p90 offsets."""

    median: float
    low: float  # p10 - median (negative)
    high: float  # p90 - median (positive)
    weight: float  # effective number of sales behind it


@dataclass(frozen=True, slots=True)
class PriceRange:
    p10: Money
    p50: Money
    p90: Money
    support: float  # effective number of the article's own sales behind the figure
    method: str = METHOD


def _weighted_quantile(pairs: list[tuple[float, float]], q: float) -> float:
    """The q-quantile of (value, weight) pairs: the value where the weight below reaches q."""
    pairs.sort()
    total = sum(w for _, w in pairs)
    target, running = q * total, 0.0
    for value, weight in pairs:
        running += weight
        if running >= target:
            return value
    return pairs[-1][0]


def _spread(pairs: list[tuple[float, float]]) -> Spread:
    median = _weighted_quantile(pairs, 0.5)
    return Spread(
        median=median,
        low=min(0.0, _weighted_quantile(pairs, 0.1) - median),
        high=max(0.0, _weighted_quantile(pairs, 0.9) - median),
        weight=sum(w for _, w in pairs),
    )


def _shrink(own: Spread | None, prior: Spread, strength: float) -> Spread:
    """The article's figures pulled toward the prior, as if the prior had `strength` sales."""
    if own is None:
        return Spread(prior.median, prior.low, prior.high, 0.0)
    n = own.weight
    mix = n / (n + strength)
    return Spread(
        median=mix * own.median + (1 - mix) * prior.median,
        low=mix * own.low + (1 - mix) * prior.low,
        high=mix * own.high + (1 - mix) * prior.high,
        weight=n,
    )


def _years(released_on: date | None, on: date) -> float:
    if released_on is None:
        return 0.0
    return max(0.0, (on - released_on).days / DAYS_PER_YEAR)


@dataclass
class StatisticalGuide:
    """Price figures learned from past sales; `price` and `quote` answer for any article."""

    depreciation: dict[str, float]  # by category: log price lost per year of age (<= 0)
    articles: dict[tuple[str, Grade], Spread]
    brands: dict[tuple[str, str, Grade], Spread]  # (category, brand, grade)
    categories: dict[tuple[str, Grade], Spread]
    overall: dict[Grade, Spread]
    prior_strength: float
    rules: BuyingRules = field(default_factory=BuyingRules)
    # The learned model's figures (argus v2, recommerce.argus.model) for the articles it has
    # support for, in the same units (log share of the new price at release); v1 elsewhere.
    learned: dict[tuple[str, Grade], Spread] = field(default_factory=dict)

    @classmethod
    def learn(
        cls,
        sales: Iterable[PastSale],
        *,
        today: date,
        half_life_days: float = 365.0,
        prior_strength: float = 5.0,
        rules: BuyingRules | None = None,
    ) -> StatisticalGuide:
        rows = []
        for sale in sales:
            if sale.price_cents <= 0 or sale.reference_new_price_cents <= 0:
                continue
            weight = 0.5 ** (max(0, (today - sale.sold_on).days) / half_life_days)
            share = math.log(sale.price_cents / sale.reference_new_price_cents)
            rows.append((sale, share, _years(sale.released_on, sale.sold_on), weight))
        depreciation = _depreciation(rows)
        by_article: dict[tuple[str, Grade], list[tuple[float, float]]] = defaultdict(list)
        by_brand: dict[tuple[str, str, Grade], list[tuple[float, float]]] = defaultdict(list)
        by_category: dict[tuple[str, Grade], list[tuple[float, float]]] = defaultdict(list)
        by_grade: dict[Grade, list[tuple[float, float]]] = defaultdict(list)
        for sale, share, years, weight in rows:
            at_release = share - depreciation.get(sale.category_code, 0.0) * years
            pair = (at_release, weight)
            by_article[(sale.article_id, sale.grade)].append(pair)
            by_brand[(sale.category_code, sale.brand, sale.grade)].append(pair)
            by_category[(sale.category_code, sale.grade)].append(pair)
            by_grade[sale.grade].append(pair)
        return cls(
            depreciation=depreciation,
            articles={key: _spread(pairs) for key, pairs in by_article.items()},
            brands={key: _spread(pairs) for key, pairs in by_brand.items()},
            categories={key: _spread(pairs) for key, pairs in by_category.items()},
            overall={grade: _spread(pairs) for grade, pairs in by_grade.items()},
            prior_strength=prior_strength,
            rules=rules or BuyingRules(),
        )

    def _level(self, article: Article, grade: Grade) -> Spread | None:
        """The article's figures for one grade: the learned model's where it has support, else
        the statistics shrunk toward its brand and category."""
        learned = self.learned.get((article.id, grade))
        if learned is not None:
            return learned
        base = self.overall.get(grade)
        category = self.categories.get((article.category_code, grade))
        if category is not None:
            base = _shrink(category, base, self.prior_strength) if base else category
        if base is None:
            return None
        brand = self.brands.get((article.category_code, article.brand, grade))
        prior = _shrink(brand, base, self.prior_strength) if brand else base
        return _shrink(self.articles.get((article.id, grade)), prior, self.prior_strength)

    def price(self, article: Article, grade: Grade, *, on: date) -> PriceRange | None:
        """The expected resale price and its p10-p90 range; None when the guide has learned
        nothing that applies (no sale of any article of that grade)."""
        levels = {g: self._level(article, g) for g in GRADES}
        if levels[grade] is None:
            return None
        # A better grade is never worth less: walk from the worst grade up, raising each
        # level to at least the one below it.
        floor = -math.inf
        adjusted: dict[Grade, float] = {}
        for g in reversed(GRADES):
            level = levels[g]
            if level is not None:
                floor = max(floor, level.median)
                adjusted[g] = floor
        own = levels[grade]
        assert own is not None
        age = _years(article.released_on, on) * self.depreciation.get(article.category_code, 0.0)
        centre = adjusted[grade] + age
        new = article.reference_new_price.cents
        step = self.rules.resale_step_cents

        def money(log_share: float) -> Money:
            return Money(max(step, round(new * math.exp(log_share) / step) * step))

        return PriceRange(
            p10=money(centre + own.low),
            p50=money(centre),
            p90=money(centre + own.high),
            support=own.weight,
            method=LEARNED_METHOD if (article.id, grade) in self.learned else METHOD,
        )

    def quote(self, article: Article, grade: Grade, *, on: date) -> Quote | None:
        """The argus' answer at the buying counter: resale range and buy offer."""
        found = self.price(article, grade, on=on)
        if found is None:
            return None
        margin = self.rules.margin(article.category_code)
        refurbish = self.rules.refurbishment_cents.get(grade, 0)
        offer = found.p50.times(1 - margin).cents - refurbish
        step = self.rules.buy_step_cents
        return Quote(
            resale_price=found.p50,
            resale_low=found.p10,
            resale_high=found.p90,
            buy_offer=Money(max(0, offer // step * step)),  # rounded down: never overpay
            method=found.method,
        )


def at_release(log_price: float, new_price_cents: int, years: float, depreciation: float) -> float:
    """A log price as the guide keeps it: a share of the new price, brought back to release."""
    return log_price - math.log(new_price_cents) - depreciation * years


def years_since(released_on: date | None, on: date) -> float:
    return _years(released_on, on)


def _depreciation(rows: list[tuple[PastSale, float, float, float]]) -> dict[str, float]:
    """Per category, the log price lost per year of age: the weighted least-squares slope of
    the log share on age within each (article, grade) (so that grade and article mix do not
    pass for age), never a gain."""
    groups: dict[str, dict[tuple[str, Grade], list[tuple[float, float, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for sale, share, years, weight in rows:
        groups[sale.category_code][(sale.article_id, sale.grade)].append((years, share, weight))
    slopes = {}
    for category, cells in groups.items():
        sxy = sxx = 0.0
        for points in cells.values():
            total = sum(w for _, _, w in points)
            if len(points) < 2 or total <= 0:
                continue
            mean_x = sum(x * w for x, _, w in points) / total
            mean_y = sum(y * w for _, y, w in points) / total
            for x, y, w in points:
                sxy += w * (x - mean_x) * (y - mean_y)
                sxx += w * (x - mean_x) ** 2
        slopes[category] = min(0.0, sxy / sxx) if sxx > 1e-9 else 0.0
    return slopes


@dataclass(frozen=True, slots=True)
class GuidedArgus:
    """The argus port served by the guide, and by the reference-price rule where the guide has
    learned nothing that applies (a chain with no sales yet of that grade)."""

    guide: StatisticalGuide
    fallback: ArgusPort = field(default_factory=ReferencePriceRule)

    def quote(self, article: Article, grade: Grade, *, on: date) -> Quote:
        return self.guide.quote(article, grade, on=on) or self.fallback.quote(article, grade, on=on)


# --- the guide as data: trained at central, shipped down the stores' feeds -------------------

GUIDE_FORMAT = 1


def _spread_row(spread: Spread) -> list[float]:
    return [
        round(spread.median, 5),
        round(spread.low, 5),
        round(spread.high, 5),
        round(spread.weight, 3),
    ]


def _spread_of(row: list[float]) -> Spread:
    return Spread(float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def guide_payload(guide: StatisticalGuide) -> dict[str, Any]:
    """The guide as JSON-ready data: what central ships and a store loads."""
    return {
        "format": GUIDE_FORMAT,
        "method": METHOD,
        "prior_strength": guide.prior_strength,
        "depreciation": guide.depreciation,
        "articles": [[a, g.value, *_spread_row(s)] for (a, g), s in guide.articles.items()],
        "brands": [[c, b, g.value, *_spread_row(s)] for (c, b, g), s in guide.brands.items()],
        "categories": [[c, g.value, *_spread_row(s)] for (c, g), s in guide.categories.items()],
        "overall": [[g.value, *_spread_row(s)] for g, s in guide.overall.items()],
        "learned": [[a, g.value, *_spread_row(s)] for (a, g), s in guide.learned.items()],
    }


def guide_from_payload(
    payload: Mapping[str, Any], rules: BuyingRules | None = None
) -> StatisticalGuide:
    """A guide back from `guide_payload`; ValueError when the data is not one."""
    if payload.get("format") != GUIDE_FORMAT:
        raise ValueError(f"unknown guide format {payload.get('format')!r}")
    try:
        return StatisticalGuide(
            depreciation={str(k): float(v) for k, v in payload["depreciation"].items()},
            articles={(r[0], Grade(r[1])): _spread_of(r[2:]) for r in payload["articles"]},
            brands={(r[0], r[1], Grade(r[2])): _spread_of(r[3:]) for r in payload["brands"]},
            categories={(r[0], Grade(r[1])): _spread_of(r[2:]) for r in payload["categories"]},
            overall={Grade(r[0]): _spread_of(r[1:]) for r in payload["overall"]},
            learned={(r[0], Grade(r[1])): _spread_of(r[2:]) for r in payload.get("learned", [])},
            prior_strength=float(payload["prior_strength"]),
            rules=rules or BuyingRules(),
        )
    except (KeyError, IndexError, TypeError) as exc:
        raise ValueError(f"not a price guide: {exc}") from exc
