"""The argus v2: a price range learned from any table of past sales, scored against baselines."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recommerce.argus.evaluate import METHODS, METRICS, evaluate
from recommerce.argus.model import (
    MAX_LEVELS,
    ArgusDataError,
    PriceModel,
    TableEncoder,
    conformal_margin,
    detect_columns,
)

GRADE_FACTOR = {"A": 1.0, "B": 0.85, "C": 0.7, "D": 0.4}
CATEGORIES = {  # base price, and how many years for most of the value lost with age
    "phone": (420.0, 0.8),
    "console": (260.0, 2.5),
    "tv": (520.0, 1.5),
    "laptop": (750.0, 1.2),
    "camera": (330.0, 3.0),
}


def sales(n: int, seed: int, articles: int = 40) -> pd.DataFrame:
    """Past sales: price = the article's base x grade factor x depreciation with age x noise.

    Articles came out in 2021-2023 and sell in their first three years, when the value falls
    fast, then slower (at a pace of its category's). The catalogue is the same whatever the
    seed; the seed draws the sales.
    """
    catalogue = np.random.default_rng(2024)
    names = list(CATEGORIES)
    category = catalogue.integers(0, len(names), articles)
    base = np.array([CATEGORIES[names[c]][0] for c in category])
    base = base * np.exp(catalogue.normal(0, 0.4, articles))
    released = pd.Timestamp("2021-01-01") + pd.to_timedelta(
        catalogue.integers(0, 3 * 365, articles), unit="D"
    )
    rng = np.random.default_rng(seed)
    article = rng.integers(0, articles, n)
    grade = rng.choice(list(GRADE_FACTOR), n, p=[0.25, 0.4, 0.25, 0.1])
    age_days = rng.integers(0, 3 * 365, n)
    sold = released[article] + pd.to_timedelta(age_days, unit="D")
    keep = np.array([CATEGORIES[names[c]][1] for c in category])[article]
    depreciation = 0.3 + 0.7 * np.exp(-age_days / 365.25 / keep)
    price = (
        base[article]
        * np.array([GRADE_FACTOR[g] for g in grade])
        * depreciation
        * np.exp(rng.normal(0, 0.12, n))
    )
    return pd.DataFrame(
        {
            "article_id": [f"ART-{a:03d}" for a in article],
            "category": [names[category[a]] for a in article],
            "grade": grade,
            "store": rng.choice([f"store-{i}" for i in range(8)], n),
            "released_on": released[article].strftime("%Y-%m-%d"),
            "sold_on": sold.strftime("%Y-%m-%d"),
            "price": price.round(2),
            "days_in_stock": rng.exponential(30 * price / base[article], n).round(),
        }
    )


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return sales(3000, seed=1)


@pytest.fixture(scope="module")
def new_sales() -> pd.DataFrame:
    return sales(3000, seed=2)


@pytest.fixture(scope="module")
def model(history: pd.DataFrame) -> PriceModel:
    return PriceModel().fit(history, "price", seed=0)


def test_columns_are_read_as_numbers_categories_grades_and_dates() -> None:
    table = pd.DataFrame(
        {
            "price": [10.0, 12.0, 9.0, 11.0],
            "screen": ["6,1", "6,7", None, "5,4"],  # French decimal commas, as text
            "storage_gb": [64, 128, 64, 256],
            "brand": ["Apple", "Samsung", "Apple", None],
            "grade": ["A", "b", "C", "D"],
            "sold_on": ["2025-01-03", "2025-02-11", "2025-03-30", None],
            "store_id": [3, 4, 3, 5],
            "notes": [None, None, None, None],
            "days_in_stock": [3, 40, 12, 7],
        }
    )
    kinds = detect_columns(table, "price")
    assert kinds.numeric == ("screen", "storage_gb")
    assert kinds.numbers_as_text == ("screen",)
    assert kinds.categorical == ("brand", "store_id")
    assert kinds.ordinal == {"grade": ("D", "C", "B", "A")}
    assert kinds.date == ("sold_on",)
    assert set(kinds.dropped) == {"notes", "days_in_stock"}


def test_dates_become_numbers_and_the_age_at_the_latest_date() -> None:
    table = pd.DataFrame(
        {
            "price": [100.0] * 3,
            "released_on": ["2020-01-01", "2021-06-30", "2019-03-01"],
            "sold_on": ["2021-01-01", "2022-06-30", "2019-03-11"],
        }
    )
    encoder, x = TableEncoder.learn(table, detect_columns(table, "price"))
    columns = dict(zip(encoder.numeric_names, x.T, strict=True))
    assert list(columns["sold_on:year"]) == [2021, 2022, 2019]
    assert list(columns["released_on:age_days"]) == [366, 365, 10]


def test_an_article_id_with_many_levels_keeps_the_frequent_ones_and_their_mean_price() -> None:
    rng = np.random.default_rng(0)
    ids = np.concatenate(
        [np.repeat([f"A{i}" for i in range(400)], 6), [f"R{i}" for i in range(50)]]
    )
    table = pd.DataFrame({"article_id": ids, "price": rng.uniform(10, 100, len(ids))})
    kinds = detect_columns(table, "price")
    encoder, x = TableEncoder.learn(table, kinds, np.log(table["price"].to_numpy()))
    assert len(encoder.levels["article_id"]) == MAX_LEVELS - 1  # and one "other" level
    assert np.nanmax(x[:, encoder.categorical_mask]) == MAX_LEVELS - 1
    assert "article_id:level_mean" in encoder.numeric_names


def test_prices_must_be_positive_unless_the_target_is_a_log_price(history: pd.DataFrame) -> None:
    table = history.head(200).copy()
    table.loc[table.index[:2], "price"] = [0.0, -5.0]
    with pytest.raises(ArgusDataError, match="2 values that are zero or negative"):
        PriceModel().fit(table, "price")
    table["price"] = np.log(history.head(200)["price"])
    table.loc[table.index[:2], "price"] = [-0.5, 0.0]  # a log price may be negative
    PriceModel().fit(table, "price", target_is_log=True, sell_model=False)


def test_the_learned_model_prices_held_out_sales_better_than_both_baselines() -> None:
    report = evaluate(sales(2500, seed=3), "price", folds=3, seed=0)
    json.dumps(report, allow_nan=False)
    log_rmse = {method: report["methods"][method]["log_rmse"]["mean"] for method in METHODS}
    assert log_rmse["v2"] < log_rmse["linear"]
    assert log_rmse["v2"] < log_rmse["median_by_group"]
    assert len(report["blend_weight"]["per_fold"]) == 3
    for method in METHODS:
        assert set(report["methods"][method]) == set(METRICS)


def test_the_p10_p90_range_holds_80_percent_of_sales_not_seen_in_training(
    model: PriceModel, new_sales: pd.DataFrame
) -> None:
    prices = model.predict(new_sales)
    sold_for = new_sales["price"]
    inside = ((prices["p10"] <= sold_for) & (sold_for <= prices["p90"])).mean()
    assert abs(inside - 0.8) <= 0.05


def test_a_better_grade_never_gets_a_lower_price_for_the_same_article_and_age(
    model: PriceModel, new_sales: pd.DataFrame
) -> None:
    rows = new_sales.drop_duplicates(["article_id", "released_on", "sold_on"]).head(1500)
    by_grade = {grade: model.predict(rows.assign(grade=grade)) for grade in "DCBA"}
    for column in ("p10", "p50", "p90"):
        prices = np.column_stack([by_grade[grade][column] for grade in "DCBA"])
        assert (np.diff(prices, axis=1) >= 0).all(), column


def test_p10_p50_p90_are_in_order_for_every_sale(
    model: PriceModel, new_sales: pd.DataFrame
) -> None:
    prices = model.predict(new_sales)
    assert list(prices.columns) == ["p10", "p50", "p90"]
    assert (prices["p10"] <= prices["p50"]).all()
    assert (prices["p50"] <= prices["p90"]).all()
    assert (prices["p10"] > 0).all()


def test_missing_values_in_the_features_do_not_break_it(history: pd.DataFrame) -> None:
    rng = np.random.default_rng(5)
    holes = history.head(1200).copy()
    for column in ("article_id", "grade", "store", "released_on", "sold_on"):
        holes.loc[rng.random(len(holes)) < 0.1, column] = None
    model = PriceModel().fit(holes, "price", sell_model=False)
    blank = pd.DataFrame({column: [None, None] for column in holes.columns})
    prices = model.predict(pd.concat([holes.head(50), blank], ignore_index=True))
    assert np.isfinite(prices.to_numpy()).all()
    assert (prices["p10"] <= prices["p90"]).all()


def test_the_same_sales_and_seed_give_the_same_prices(history: pd.DataFrame) -> None:
    first = PriceModel().fit(history.head(800), "price", seed=7, sell_model=False)
    again = PriceModel().fit(history.head(800), "price", seed=7, sell_model=False)
    pd.testing.assert_frame_equal(
        first.predict(history.tail(100)), again.predict(history.tail(100))
    )
    assert first.blend_weight == again.blend_weight


def test_a_log_price_target_is_answered_in_log_price(history: pd.DataFrame) -> None:
    logged = history.head(800).assign(price=np.log(history.head(800)["price"]))
    model = PriceModel().fit(logged, "price", target_is_log=True, sell_model=False)
    prices = model.predict(history.tail(200))
    assert prices["p50"].between(1, 9).all()  # e^1 to e^9: log euros, not euros


def test_the_chance_of_selling_within_30_days_falls_as_the_asked_price_rises(
    model: PriceModel, new_sales: pd.DataFrame
) -> None:
    rows = new_sales.head(200)
    at_guide = model.sell_within_30_days(rows)
    dearer = model.sell_within_30_days(rows, price=model.predict(rows)["p50"] * 1.5)
    assert at_guide is not None and dearer is not None
    assert ((at_guide >= 0) & (at_guide <= 1)).all()
    assert (dearer <= at_guide + 1e-12).all()
    assert dearer.mean() < at_guide.mean()
    without = PriceModel().fit(new_sales.head(300).drop(columns="days_in_stock"), "price")
    assert without.sell_within_30_days(rows) is None


def test_the_conformal_margin_is_the_corrected_quantile_of_how_far_sales_fall_outside() -> None:
    low, high = np.zeros(9), np.ones(9)
    y = np.array([-0.4, -0.3, -0.2, -0.1, 0.5, 0.5, 1.1, 1.2, 1.3])
    # scores: 0.4 0.3 0.2 0.1 -0.5 -0.5 0.1 0.2 0.3; ceil(10 * 0.8) = 8th smallest = 0.3
    assert conformal_margin(low, high, y, 0.8) == pytest.approx(0.3)


def test_a_table_of_numbers_only_is_evaluated_with_the_overall_median_as_baseline() -> None:
    rng = np.random.default_rng(4)
    age = rng.uniform(0, 5, 400)
    table = pd.DataFrame(
        {"age_years": age, "price": 300 * np.exp(-0.3 * age + rng.normal(0, 0.1, 400))}
    )
    report = evaluate(table, "price", folds=2, seed=0)
    assert report["median_by_group"]["grouped_by_per_fold"] == [[], []]
    assert report["columns"]["numeric"] == ["age_years"]
    assert report["methods"]["v2"]["log_rmse"]["mean"] < 0.2
