"""The demo catalogue that central and a store not yet enrolled both start from."""

from __future__ import annotations

from recommerce.catalog.gtin import normalise_gtin
from recommerce.catalog.model import Grade
from recommerce.catalog.seed_data import demo_article_id, demo_articles, demo_categories


def test_the_demo_articles_have_the_same_ids_at_central_and_in_every_store() -> None:
    first, again = demo_articles(), demo_articles()
    assert len(first) == 38
    assert [a.id for a in first] == [a.id for a in again]
    assert len({a.id for a in first}) == 38
    iphone = next(a for a in first if a.model == "iPhone 12 64 Go")
    assert iphone.id == demo_article_id("Apple", "iPhone 12 64 Go")
    assert iphone.id == "478dcd5a-84ae-5b9c-915c-4302f115b85c"  # fixed forever


def test_every_demo_gtin_is_valid_and_unique_and_every_category_grades_a_to_d() -> None:
    gtins = [a.gtin for a in demo_articles() if a.gtin is not None]
    assert [normalise_gtin(g) for g in gtins] == gtins
    assert len(set(gtins)) == len(gtins)
    categories = demo_categories()
    assert all(set(c.grade_definitions) == set(Grade) for c in categories)
    codes = {c.code for c in categories}
    assert {a.category_code for a in demo_articles()} <= codes
    assert [c.code for c in categories if c.precious_metal] == ["jewellery"]
