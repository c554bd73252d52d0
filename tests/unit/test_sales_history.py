"""The synthetic sales history the argus is trained and evaluated on."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from statistics import mean

from stdnum import ean

from recommerce.argus.history import (
    CATEGORY_PROFILES,
    SALES_CSV_HEADER,
    SaleRecord,
    label_price_cents,
    read_csv,
    synthetic_catalogue,
    synthetic_sales,
    synthetic_stores,
    typical_price_cents,
    write_csv,
)
from recommerce.catalog.gtin import normalise_gtin
from recommerce.catalog.model import Article, Grade
from recommerce.catalog.seed_data import demo_articles, demo_categories

GRADES_BEST_FIRST = [Grade.A, Grade.B, Grade.C, Grade.D]


def demo_article(model: str) -> Article:
    return next(a for a in demo_articles() if a.model == model)


def sales_of(
    catalogue: list[Article], *, sales: int, start: date, end: date, seed: int = 1
) -> list[SaleRecord]:
    return list(synthetic_sales(catalogue, seed=seed, sales=sales, start=start, end=end))


def mean_price_by_grade(records: Iterable[SaleRecord]) -> dict[Grade, float]:
    prices: dict[Grade, list[int]] = defaultdict(list)
    for r in records:
        prices[r.grade].append(r.price_cents)
    return {grade: mean(p) for grade, p in prices.items()}


def test_the_same_seed_gives_the_same_catalogue_and_the_same_file_byte_for_byte(
    tmp_path: Path,
) -> None:
    assert synthetic_catalogue(3, 400) == synthetic_catalogue(3, 400)
    assert synthetic_catalogue(3, 400) != synthetic_catalogue(4, 400)
    files = []
    for name, seed in (("first.csv", 3), ("again.csv", 3), ("other.csv", 4)):
        history = synthetic_sales(
            synthetic_catalogue(3, 400),
            seed=seed,
            sales=3000,
            start=date(2022, 1, 1),
            end=date(2023, 12, 31),
        )
        assert write_csv(history, tmp_path / name) == 3000
        files.append((tmp_path / name).read_bytes())
    first, again, other = files
    assert first == again
    assert first != other


def test_the_catalogue_keeps_the_demo_articles_and_spreads_over_the_demo_categories() -> None:
    catalogue = synthetic_catalogue(5, 3000)
    assert len(catalogue) == 3000
    assert catalogue[: len(demo_articles())] == demo_articles()
    assert len({a.id for a in catalogue}) == 3000
    assert len({a.name for a in catalogue}) == 3000
    assert {a.category_code for a in catalogue} == {c.code for c in demo_categories()}
    brands = {a.brand for a in catalogue}
    assert {"Apple", "Samsung", "Nintendo", "Makita", "DeWalt", "Fender", "Seb", "Dyson"} <= brands
    made_up = catalogue[len(demo_articles()) :]
    for article in made_up:
        profile = CATEGORY_PROFILES[article.category_code]
        assert article.released_on is not None
        assert date(2010, 1, 1) <= article.released_on <= date(2024, 12, 31)
        euros = article.reference_new_price.cents / 100
        assert profile.low_price - 1 <= euros <= profile.high_price + 1
    years = Counter(a.released_on.year for a in made_up if a.released_on is not None)
    assert set(years) == set(range(2010, 2025))


def test_most_articles_carry_a_valid_gtin_and_some_carry_none() -> None:
    catalogue = synthetic_catalogue(5, 3000)
    gtins = [a.gtin for a in catalogue if a.gtin is not None]
    assert 0.8 * len(catalogue) < len(gtins) < len(catalogue)
    assert len(set(gtins)) == len(gtins)
    for gtin in gtins:
        assert ean.is_valid(gtin)
        assert gtin[-1] == ean.calc_check_digit(gtin[:-1])
        assert normalise_gtin(gtin) == gtin  # 13 digits, never an in-store code


def test_a_like_new_item_sells_for_more_than_a_good_one_a_fair_one_and_one_for_parts() -> None:
    iphone = demo_article("iPhone 12 64 Go")
    records = sales_of([iphone], sales=4000, start=date(2023, 1, 1), end=date(2023, 12, 31))
    by_grade = mean_price_by_grade(records)
    assert set(by_grade) == set(Grade)
    assert by_grade[Grade.A] > by_grade[Grade.B] > by_grade[Grade.C] > by_grade[Grade.D]
    assert 0.55 < by_grade[Grade.B] / by_grade[Grade.A] < 0.95


def test_an_older_release_sells_for_less_than_a_recent_one_in_the_same_condition() -> None:
    phone = next(a for a in synthetic_catalogue(8, 200) if a.category_code == "phones")
    old = dataclasses.replace(phone, released_on=date(2016, 9, 1))
    recent = dataclasses.replace(phone, released_on=date(2022, 9, 1))
    old_sales, recent_sales = (
        sales_of([version], sales=3000, start=date(2023, 1, 1), end=date(2023, 12, 31))
        for version in (old, recent)
    )
    old_prices, recent_prices = mean_price_by_grade(old_sales), mean_price_by_grade(recent_sales)
    for grade in GRADES_BEST_FIRST:
        assert old_prices[grade] < recent_prices[grade]


def test_jewellery_keeps_its_value_while_a_phone_loses_most_of_it() -> None:
    def kept_over_four_years(article: Article) -> float:
        young = typical_price_cents(article, Grade.B, sold_on=date(2021, 6, 1), region="Bretagne")
        aged = typical_price_cents(article, Grade.B, sold_on=date(2025, 6, 1), region="Bretagne")
        return aged / young

    assert 0.95 < kept_over_four_years(demo_article("Bague or 18 carats")) < 1
    assert kept_over_four_years(demo_article("iPhone 12 64 Go")) < 0.5


def test_the_best_selling_tenth_of_the_catalogue_makes_more_than_half_the_sales() -> None:
    catalogue = synthetic_catalogue(11, 2000)
    records = sales_of(catalogue, sales=20000, start=date(2021, 1, 1), end=date(2024, 12, 31))
    per_article = Counter(r.article_id for r in records)
    counts = sorted((per_article[a.id] for a in catalogue), reverse=True)
    assert sum(counts[:200]) > len(records) / 2
    rarely_sold = sum(1 for c in counts if c <= 2)
    assert rarely_sold > len(catalogue) / 4  # the guide must fall back on brand and category


def test_no_article_sells_before_its_release_date_nor_outside_the_history() -> None:
    catalogue = synthetic_catalogue(12, 1500)
    start, end = date(2016, 1, 1), date(2019, 6, 30)
    records = sales_of(catalogue, sales=15000, start=start, end=end)
    assert len(records) == 15000
    released_after = {a.id for a in catalogue if a.released_on and a.released_on > end}
    assert released_after
    for r in records:
        assert r.released_on is not None
        assert start <= r.sold_on <= end
        assert r.sold_on >= r.released_on
        assert 0 <= r.days_in_stock <= (r.sold_on - r.released_on).days
        assert r.article_id not in released_after
    assert [r.sold_on for r in records] == sorted(r.sold_on for r in records)
    assert not any((r.sold_on.month, r.sold_on.day) == (12, 25) for r in records)


def test_every_sale_is_in_one_of_the_chains_stores_and_its_region() -> None:
    stores = {s.number: s for s in synthetic_stores()}
    assert len(stores) == 60
    assert len({s.city for s in stores.values()}) == 60
    records = sales_of(
        synthetic_catalogue(2, 500), sales=5000, start=date(2023, 1, 1), end=date(2023, 12, 31)
    )
    for r in records:
        assert r.region == stores[r.store_number].region
    assert len({r.store_number for r in records}) == 60


def test_prices_are_whole_euros_ending_in_9_or_0_from_20_euros_and_offers_leave_the_margin() -> (
    None
):
    records = sales_of(
        synthetic_catalogue(6, 1000), sales=10000, start=date(2022, 1, 1), end=date(2023, 12, 31)
    )
    for r in records:
        assert r.price_cents >= 100
        assert r.price_cents % 100 == 0
        if r.price_cents >= 2000:
            assert r.price_cents // 100 % 10 in (0, 9)
        assert r.purchase_price_cents % 50 == 0
        assert 0.5 * r.price_cents - 25 <= r.purchase_price_cents <= 0.65 * r.price_cents + 25
    examples = {1234: 1200, 2049: 2000, 2449: 2000, 2451: 2900, 2951: 3000, 15420: 15000}
    assert {c: label_price_cents(c) for c in examples} == examples


def test_an_item_priced_above_its_typical_price_stays_longer_on_the_shelf() -> None:
    console = demo_article("Switch OLED")
    records = sales_of([console], sales=4000, start=date(2023, 1, 1), end=date(2023, 12, 31))
    dear, cheap = [], []
    for r in records:
        typical = typical_price_cents(console, r.grade, sold_on=r.sold_on, region=r.region)
        if r.price_cents > 1.15 * typical:
            dear.append(r.days_in_stock)
        elif r.price_cents < 0.85 * typical:
            cheap.append(r.days_in_stock)
    assert len(dear) > 100 and len(cheap) > 100
    assert mean(dear) > 1.5 * mean(cheap)


def test_the_same_item_sells_dearer_in_ile_de_france_than_in_hauts_de_france() -> None:
    laptop = demo_article("XPS 13 9310")
    records = sales_of([laptop], sales=6000, start=date(2023, 1, 1), end=date(2023, 12, 31))
    paris = [r.price_cents for r in records if r.region == "Île-de-France" and r.grade == Grade.B]
    north = [r.price_cents for r in records if r.region == "Hauts-de-France" and r.grade == Grade.B]
    assert mean(paris) > 1.05 * mean(north)


def test_consoles_sell_dearer_in_december_but_laptops_do_not() -> None:
    for model, december_premium in (("PlayStation 5 Standard", True), ("XPS 13 9310", False)):
        records = sales_of(
            [demo_article(model)], sales=6000, start=date(2023, 10, 1), end=date(2023, 12, 31)
        )
        october = mean(r.price_cents for r in records if r.sold_on.month == 10)
        december = mean(r.price_cents for r in records if r.sold_on.month == 12)
        assert (december > 1.05 * october) is december_premium


def test_the_csv_reads_back_into_the_same_sales(tmp_path: Path) -> None:
    records = sales_of(
        synthetic_catalogue(9, 300), sales=2000, start=date(2023, 1, 1), end=date(2024, 12, 31)
    )
    path = tmp_path / "sales.csv"
    assert write_csv(records, path) == 2000
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(SALES_CSV_HEADER)
    assert lines[1].split(",")[0] == records[0].sold_on.isoformat()
    assert list(read_csv(path)) == records
