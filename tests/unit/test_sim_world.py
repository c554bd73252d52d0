"""The simulated chain's world: the same seed gives the same catalogue, stores and people."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict

import pytest
from email_validator import validate_email

from recommerce.buyback.seller import check_seller_may_sell
from recommerce.sim.world import PEOPLE_VALID_FROM, PEOPLE_VALID_UNTIL, World
from recommerce.store.api.schemas import DocumentIn, SellerIn

CATEGORIES = {
    "phones",
    "consoles",
    "video_games",
    "laptops",
    "tablets",
    "tvs",
    "audio",
    "tools",
    "appliances",
    "instruments",
    "jewellery",
}


@pytest.fixture(scope="module")
def world() -> World:
    return World.generate(11)


def test_the_same_seed_gives_the_same_world_and_the_same_people() -> None:
    first, again = (
        World.generate(4, stores=12, articles=400),
        World.generate(4, stores=12, articles=400),
    )
    assert first == again
    assert [first.seller(i) for i in range(40)] == [again.seller(i) for i in range(40)]
    assert [first.customer(i) for i in range(40)] == [again.customer(i) for i in range(40)]


def test_a_person_is_the_same_whatever_was_asked_before(world: World) -> None:
    seventh = world.seller(7)
    world.customer(3)
    world.seller(250)
    assert world.seller(7) == seventh
    assert World.generate(11, stores=1, articles=0).seller(7) == seventh


def test_another_seed_gives_other_people() -> None:
    one, other = World.generate(4, stores=1, articles=0), World.generate(5, stores=1, articles=0)
    assert all(one.seller(i) != other.seller(i) for i in range(40))
    assert all(one.customer(i) != other.customer(i) for i in range(40))
    assert len({one.seller(i).surname for i in range(40)}) > 20  # not one family


def test_every_seller_may_sell_at_the_counter(world: World) -> None:
    sellers = [world.seller(i) for i in range(1000)]
    for seller in sellers:
        check_seller_may_sell(seller, PEOPLE_VALID_FROM)
        check_seller_may_sell(seller, PEOPLE_VALID_UNTIL)
        fields = asdict(seller)
        document = fields.pop("document")
        sent = SellerIn(**fields, document=DocumentIn(**document))  # the counter's API limits
        assert sent.to_domain() == seller
    assert len({s.document.number for s in sellers}) == len(sellers)  # one person, one document
    kinds = Counter(s.document.type for s in sellers)
    assert len(kinds) == 4 and kinds.most_common(1)[0][0].value == "national_id"


def test_customers_have_their_own_email_a_phone_and_a_french_address(world: World) -> None:
    customers = [world.customer(i) for i in range(500)]
    assert len({c.email for c in customers}) == len(customers)
    for customer in customers:
        validate_email(customer.email, check_deliverability=False)
        assert customer.email.split("@")[1] in {"example.com", "example.net", "example.org"}
        assert 6 <= len(customer.phone) <= 40
        assert customer.address.postcode.isdigit() and len(customer.address.postcode) == 5
        assert customer.address.line1 and customer.address.city
        assert customer.name == f"{customer.first_name} {customer.surname}"


def test_the_catalogue_has_5000_articles_over_the_eleven_categories(world: World) -> None:
    assert len(world.articles) >= 5000
    assert {c.code for c in world.categories} == CATEGORIES
    per_category = Counter(a.category_code for a in world.articles)
    assert set(per_category) == CATEGORIES
    assert min(per_category.values()) >= 150
    assert len({a.id for a in world.articles}) == len(world.articles)
    gtins = [a.gtin for a in world.articles if a.gtin]
    assert len(set(gtins)) == len(gtins)


def test_the_stores_are_in_sixty_french_cities_with_their_coordinates(world: World) -> None:
    stores = world.stores
    assert [s.number for s in stores] == list(range(1, 61))
    assert len({s.city for s in stores}) == 60
    assert len({s.name for s in stores}) == 60
    for store in stores:
        # metropolitan France and Corsica
        assert 41.3 < store.latitude < 51.1 and -5.2 < store.longitude < 9.6, store
    paris, ajaccio = world.store(1), next(s for s in stores if s.city == "Ajaccio")
    assert (round(paris.latitude, 1), round(paris.longitude, 1)) == (48.9, 2.4)
    assert ajaccio.region == "Corse" and ajaccio.latitude < 42.5
    lille = next(s for s in stores if s.city == "Lille")
    assert lille.latitude > paris.latitude  # north of Paris, as on the map


def test_past_sixty_stores_a_city_gets_a_second_store_nearby() -> None:
    stores = World.generate(1, stores=61, articles=0).stores
    first, second = stores[0], stores[60]
    assert (second.city, second.name) == ("Paris", "Magasin de Paris 2")
    assert (second.latitude, second.longitude) != (first.latitude, first.longitude)
    assert abs(second.latitude - first.latitude) < 0.05
