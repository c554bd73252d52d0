"""The marketplace's listing search, through its port, on the embedded tantivy index."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import tantivy

from recommerce.marketplace.search import ListingDoc, ListingIndex, ListingQuery, Sort
from recommerce.marketplace.tantivy_index import TantivyListingIndex

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _listing(
    title: str,
    *,
    description: str = "",
    category: str = "tv",
    brand: str = "",
    grade: str = "B",
    price_cents: int = 10_000,
    store: int = 1,
    city: str = "Lyon",
    days_online: int = 0,
) -> ListingDoc:
    return ListingDoc(
        item_id=str(uuid.uuid5(uuid.NAMESPACE_URL, title)),
        title=title,
        description=description,
        category_code=category,
        brand=brand,
        grade=grade,
        price_cents=price_cents,
        store_number=store,
        city=city,
        listed_at=MONDAY - timedelta(days=days_online),
    )


TV = _listing(
    "Téléviseur Samsung QE55 4K",
    description="Très bon état, télécommande d'origine.",
    brand="Samsung",
    grade="A",
    price_cents=45_000,
    store=1,
    city="Lyon",
    days_online=3,
)
PHONE = _listing(
    "Smartphone Samsung Galaxy S21",
    description="Écran sans rayure, batterie à 88 %.",
    category="phones",
    brand="Samsung",
    grade="B",
    price_cents=29_900,
    store=2,
    city="Saint-Étienne",
    days_online=1,
)
LAMP = _listing(
    "Lampe de bureau",
    description="Ampoule fournie.",
    category="home",
    grade="C",
    price_cents=1_500,
    store=1,
    city="Lyon",
    days_online=5,
)
SAW = _listing(
    "Lame de scie circulaire Bosch",
    description="Lame neuve pour bois.",
    category="tools",
    brand="Bosch",
    grade="A",
    price_cents=2_500,
    store=3,
    city="Marseille",
    days_online=2,
)
CONSOLE = _listing(
    "Console PlayStation 5",
    description="Avec manette et câbles, testée.",
    category="consoles",
    brand="Sony",
    grade="D",
    price_cents=45_000,
    store=2,
    city="Saint-Étienne",
    days_online=0,
)
SHOP = [TV, PHONE, LAMP, SAW, CONSOLE]


@pytest.fixture
def index() -> Iterator[ListingIndex]:
    listings = TantivyListingIndex(None)
    listings.upsert(SHOP)
    yield listings
    listings.close()


def _found(index: ListingIndex, **query: object) -> list[str]:
    return index.search(ListingQuery(**query)).item_ids  # type: ignore[arg-type]


def _ids(*docs: ListingDoc) -> list[str]:
    return [doc.item_id for doc in docs]


# -- words ------------------------------------------------------------------------------------


def test_a_search_without_accents_finds_an_accented_title(index: ListingIndex) -> None:
    assert _found(index, text="televiseur") == _ids(TV)


def test_a_search_in_capitals_finds_the_title(index: ListingIndex) -> None:
    assert _found(index, text="TÉLÉVISEUR") == _ids(TV)
    assert _found(index, text="TELEVISEUR") == _ids(TV)


def test_a_word_with_one_typo_still_finds_the_listing(index: ListingIndex) -> None:
    assert sorted(_found(index, text="samsumg galaxy")) == _ids(PHONE)
    assert _found(index, text="televisuer samsung") == _ids(TV)


def test_a_short_word_must_be_spelled_right(index: ListingIndex) -> None:
    assert _found(index, text="ps5 lampe") == []
    assert _found(index, text="boi lame") == []  # not the last word: "boi" is no prefix of "bois"


def test_an_exact_word_ranks_above_a_word_with_a_typo(index: ListingIndex) -> None:
    assert _found(index, text="lampe") == _ids(LAMP, SAW)  # "lame" is one letter away
    assert _found(index, text="lame") == _ids(SAW, LAMP)


def test_the_word_being_typed_matches_as_the_start_of_a_word(index: ListingIndex) -> None:
    assert _found(index, text="télév") == _ids(TV)
    assert _found(index, text="samsung galax") == _ids(PHONE)


def test_only_the_last_word_matches_as_a_prefix(index: ListingIndex) -> None:
    assert _found(index, text="samsung gala") == _ids(PHONE)
    assert _found(index, text="gala samsung") == []


def test_every_word_must_match(index: ListingIndex) -> None:
    assert sorted(_found(index, text="samsung")) == sorted(_ids(TV, PHONE))
    assert _found(index, text="samsung galaxy") == _ids(PHONE)
    assert _found(index, text="samsung lampe") == []


def test_words_are_found_in_the_brand_and_the_description(index: ListingIndex) -> None:
    assert _found(index, text="sony") == _ids(CONSOLE)
    assert _found(index, text="ampoule") == _ids(LAMP)


def test_a_word_in_the_title_ranks_above_the_same_word_in_a_description() -> None:
    index = TantivyListingIndex(None)
    in_title = _listing("Manette Xbox", category="consoles")
    in_description = _listing("Xbox One S", description="Livrée avec sa manette.")
    index.upsert([in_description, in_title])
    assert _found(index, text="manette") == _ids(in_title, in_description)
    index.close()


def test_an_empty_search_lists_everything_newest_first(index: ListingIndex) -> None:
    results = index.search(ListingQuery())
    assert results.total == 5
    assert results.item_ids == _ids(CONSOLE, PHONE, SAW, TV, LAMP)


def test_punctuation_alone_is_an_empty_search(index: ListingIndex) -> None:
    assert index.search(ListingQuery(text=" - ! ")).total == 5


# -- filters ----------------------------------------------------------------------------------


def test_the_category_filter_keeps_only_that_category(index: ListingIndex) -> None:
    assert _found(index, category="phones") == _ids(PHONE)
    assert _found(index, category="PHONES") == _ids(PHONE)


def test_the_brand_filter_ignores_case(index: ListingIndex) -> None:
    assert sorted(_found(index, brand="samsung")) == sorted(_ids(TV, PHONE))
    assert _found(index, brand="BOSCH") == _ids(SAW)


def test_the_city_filter_ignores_case_and_accents(index: ListingIndex) -> None:
    assert sorted(_found(index, city="saint-etienne")) == sorted(_ids(PHONE, CONSOLE))
    assert _found(index, city="Paris") == []


def test_the_grade_filter_keeps_any_of_the_grades(index: ListingIndex) -> None:
    assert sorted(_found(index, grades=("A",))) == sorted(_ids(TV, SAW))
    assert sorted(_found(index, grades=("c", "D"))) == sorted(_ids(LAMP, CONSOLE))


def test_the_store_filter_keeps_that_store_only(index: ListingIndex) -> None:
    assert sorted(_found(index, store_number=2)) == sorted(_ids(PHONE, CONSOLE))


def test_price_bounds_are_inclusive(index: ListingIndex) -> None:
    assert sorted(_found(index, min_price_cents=2_500, max_price_cents=29_900)) == sorted(
        _ids(SAW, PHONE)
    )
    assert sorted(_found(index, min_price_cents=45_000)) == sorted(_ids(TV, CONSOLE))
    assert _found(index, max_price_cents=1_500) == _ids(LAMP)
    assert _found(index, min_price_cents=1_501, max_price_cents=2_499) == []


def test_words_and_filters_combine(index: ListingIndex) -> None:
    assert _found(index, text="samsung", category="tv", city="Lyon", grades=("A",)) == _ids(TV)
    assert _found(index, text="samsung", store_number=3) == []


# -- facets -----------------------------------------------------------------------------------


def test_facets_count_every_matching_listing_not_only_the_page(index: ListingIndex) -> None:
    results = index.search(ListingQuery(limit=1))
    assert results.total == 5
    assert len(results.item_ids) == 1
    assert results.facets.category == {"tv": 1, "phones": 1, "home": 1, "tools": 1, "consoles": 1}
    assert results.facets.brand == {"Samsung": 2, "Bosch": 1, "Sony": 1}
    assert results.facets.grade == {"A": 2, "B": 1, "C": 1, "D": 1}
    assert results.facets.city == {"Lyon": 2, "Saint-Étienne": 2, "Marseille": 1}


def test_facets_follow_the_words_and_filters(index: ListingIndex) -> None:
    results = index.search(ListingQuery(text="samsung", city="lyon"))
    assert results.total == 1
    assert results.facets.category == {"tv": 1}
    assert results.facets.city == {"Lyon": 1}


def test_a_search_finding_nothing_has_empty_facets(index: ListingIndex) -> None:
    results = index.search(ListingQuery(text="frigo"))
    assert results.total == 0
    assert results.item_ids == []
    assert results.facets.brand == {}


# -- order and pages --------------------------------------------------------------------------


def test_sorted_by_price_ascending(index: ListingIndex) -> None:
    prices = [doc.price_cents for doc in SHOP]
    found = _found(index, sort=Sort.PRICE_ASC)
    by_id = {doc.item_id: doc.price_cents for doc in SHOP}
    assert [by_id[item_id] for item_id in found] == sorted(prices)


def test_sorted_by_price_descending(index: ListingIndex) -> None:
    found = _found(index, text="samsung", sort=Sort.PRICE_DESC)
    assert found == _ids(TV, PHONE)


def test_sorted_newest_first(index: ListingIndex) -> None:
    assert _found(index, sort=Sort.NEWEST) == _ids(CONSOLE, PHONE, SAW, TV, LAMP)
    assert _found(index, text="samsung", sort=Sort.NEWEST) == _ids(PHONE, TV)


def test_pages_follow_one_another_with_offset_and_limit(index: ListingIndex) -> None:
    first = index.search(ListingQuery(sort=Sort.PRICE_ASC, limit=2))
    second = index.search(ListingQuery(sort=Sort.PRICE_ASC, limit=2, offset=2))
    last = index.search(ListingQuery(sort=Sort.PRICE_ASC, limit=2, offset=4))
    assert first.item_ids == _ids(LAMP, SAW)
    assert second.item_ids == _ids(PHONE, TV) or second.item_ids == _ids(PHONE, CONSOLE)
    assert len(last.item_ids) == 1
    assert set(first.item_ids + second.item_ids + last.item_ids) == set(_ids(*SHOP))
    assert first.total == second.total == last.total == 5


# -- writes -----------------------------------------------------------------------------------


def test_upsert_replaces_a_listing_without_duplicating_it(index: ListingIndex) -> None:
    index.upsert([replace(CONSOLE, price_cents=900)])
    assert index.count() == 5
    assert _found(index, sort=Sort.PRICE_ASC)[0] == CONSOLE.item_id
    assert _found(index, text="playstation") == _ids(CONSOLE)


def test_upsert_twice_in_one_batch_keeps_the_last_version(index: ListingIndex) -> None:
    index.upsert([replace(LAMP, price_cents=100), replace(LAMP, price_cents=200)])
    results = index.search(ListingQuery(max_price_cents=1_000))
    assert results.item_ids == _ids(LAMP)
    assert results.total == 1


def test_a_removed_listing_is_absent_from_the_very_next_search(index: ListingIndex) -> None:
    index.remove([PHONE.item_id])
    assert _found(index, text="galaxy") == []
    assert index.count() == 4
    assert index.search(ListingQuery()).facets.category.get("phones") is None


def test_removing_an_unknown_listing_changes_nothing(index: ListingIndex) -> None:
    index.remove([str(uuid.uuid4())])
    assert index.count() == 5


def test_a_failed_write_leaves_the_index_as_it_was(index: ListingIndex) -> None:
    naive = replace(LAMP, item_id=str(uuid.uuid4()), listed_at=datetime(2026, 11, 23, 9, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        index.upsert([replace(TV, price_cents=1), naive])
    assert index.count() == 5
    assert index.search(ListingQuery(max_price_cents=1)).total == 0


def test_rebuild_replaces_every_listing(index: ListingIndex) -> None:
    fridge = _listing("Réfrigérateur Liebherr", category="appliances", brand="Liebherr")
    index.rebuild(iter([fridge, LAMP]))
    assert index.count() == 2
    assert sorted(_found(index)) == sorted(_ids(fridge, LAMP))
    assert _found(index, text="samsung") == []
    assert _found(index, text="refrigerateur") == _ids(fridge)


def test_a_failed_rebuild_keeps_the_listings_there_were(index: ListingIndex) -> None:
    def broken_feed() -> Iterator[ListingDoc]:
        yield LAMP
        raise ConnectionError("database went away")

    with pytest.raises(ConnectionError):
        index.rebuild(broken_feed())
    assert index.count() == 5
    assert _found(index, text="samsung galaxy") == _ids(PHONE)


def test_count_says_how_many_listings_are_indexed() -> None:
    index = TantivyListingIndex(None)
    assert index.count() == 0
    index.upsert(SHOP[:3])
    assert index.count() == 3
    index.close()


def test_an_index_on_disk_reopens_with_its_listings(tmp_path: Path) -> None:
    first = TantivyListingIndex(tmp_path / "listings")
    first.upsert(SHOP)
    first.remove([LAMP.item_id])
    first.close()
    reopened = TantivyListingIndex(tmp_path / "listings")
    assert reopened.count() == 4
    assert _found(reopened, text="televiseur") == _ids(TV)
    reopened.close()


def test_an_index_of_another_layout_on_disk_starts_empty(tmp_path: Path) -> None:
    folder = tmp_path / "listings"
    folder.mkdir()
    (folder / "notes.txt").write_text("kept")
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("name", stored=True)
    old = tantivy.Index(builder.build(), path=str(folder))
    old.writer(15_000_000, 1).commit()
    del old
    index = TantivyListingIndex(folder)
    assert index.count() == 0
    index.upsert([LAMP])
    assert _found(index, text="lampe") == _ids(LAMP)
    assert (folder / "notes.txt").read_text() == "kept"
    index.close()


def test_a_closed_index_refuses_writes(index: ListingIndex) -> None:
    index.close()
    with pytest.raises(RuntimeError):
        index.upsert([LAMP])


def test_the_engine_names_itself() -> None:
    index = TantivyListingIndex(None)
    assert index.engine.startswith("tantivy ")
    assert index.engine.endswith("(embedded)")
    index.close()
